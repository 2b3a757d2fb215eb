"""A workbook sheetsync wrote in place opens in LibreOffice, and one LibreOffice saved is written in place."""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import openpyxl
import pytest
from conftest import NOW

from sheetsync.state import State
from sheetsync.stores.excel import ExcelStore
from sheetsync.sync import Syncer

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
pytestmark = pytest.mark.skipif(SOFFICE is None, reason="LibreOffice is not installed (apt-get install "
                                "libreoffice-calc-nogui); the round trip through it is not checked")


def libreoffice_save(src: Path, out: Path, profile: Path) -> Path:
    """Open `src` in headless LibreOffice and save it again as .xlsx into `out`."""
    out.mkdir(exist_ok=True)
    subprocess.run([SOFFICE, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
                    "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(out), str(src)],
                   check=True, timeout=180, capture_output=True)
    saved = out / src.name
    assert saved.exists(), "LibreOffice could not open the workbook"
    return saved


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {name: z.read(name) for name in z.namelist()}


def same(a: list[list[object]], b: list[list[object]]) -> bool:
    if len(a) != len(b):
        return False
    for ra, rb in zip(a, b, strict=True):
        if len(ra) != len(rb):
            return False
        for x, y in zip(ra, rb, strict=True):
            if isinstance(x, float) or isinstance(y, float):
                if y != pytest.approx(x, rel=1e-12):
                    return False
            elif x != y:
                return False
    return True


def test_libreoffice_opens_what_sheetsync_wrote_and_sheetsync_writes_what_libreoffice_saved(excel, config,
                                                                                            tmp_path):
    state = State(config.state_path)
    try:
        syncer = Syncer(excel.store, config, state, clock=lambda: NOW)
        syncer.run_cycle()
        excel.edit("Opportunities", "D20", "Typed in LibreOffice =1+1")
        syncer.run_cycle()  # in place: new ID, owner, status, history on the typed row
    finally:
        state.close()
    ours = ExcelStore(excel.store.path).read()
    saved = libreoffice_save(excel.store.path, tmp_path / "lo", tmp_path / "profile")
    theirs = ExcelStore(saved).read()
    for key, tab in ours.tabs.items():
        assert same(tab.rows, theirs.tabs[key].rows), key
    opp = openpyxl.load_workbook(saved)["Opportunities"]
    assert opp.data_validations.dataValidation, "the Stage dropdown survived"
    assert list(opp.conditional_formatting), "the overdue highlight survived"

    again = replace(config, workbook=str(saved), state_dir=str(tmp_path / "lo-state"))
    state = State(again.state_path)
    strings = parts(saved)["xl/sharedStrings.xml"]
    try:
        lo_store = ExcelStore(saved)
        Syncer(lo_store, again, state, clock=lambda: NOW + timedelta(days=1)).run_cycle()
        Syncer(lo_store, again, state, clock=lambda: NOW + timedelta(days=2)).run_cycle()
    finally:
        state.close()
    assert ExcelStore(saved).read().tabs == lo_store.read().tabs
    assert parts(saved)["xl/sharedStrings.xml"] == strings  # written in place: LibreOffice's parts untouched
    reopened = libreoffice_save(saved, tmp_path / "lo2", tmp_path / "profile")
    assert same(ExcelStore(reopened).read().tabs["opportunities"].rows,
                ExcelStore(saved).read().tabs["opportunities"].rows)
