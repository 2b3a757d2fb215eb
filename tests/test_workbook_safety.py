"""The local workbook refuses clearly: read-only files and folders, leftovers of a killed save."""

from __future__ import annotations

import os
import stat
import time

import pytest
from click.testing import CliRunner

from sheetsync.cli import main
from sheetsync.ports import CellWrite, StoreError, WriteBatch
from sheetsync.stores.excel import ExcelStore


@pytest.fixture
def restore_modes():
    changed: list[tuple[str, int]] = []

    def chmod(path, mode: int) -> None:
        changed.append((str(path), stat.S_IMODE(os.stat(path).st_mode)))
        os.chmod(path, mode)

    yield chmod
    for path, mode in reversed(changed):
        os.chmod(path, mode)


def test_a_read_only_workbook_is_refused_with_one_message_and_left_as_it_was(excel, restore_modes):
    path = excel.store.path
    before = path.read_bytes()
    snap = excel.store.read()
    restore_modes(path, 0o444)
    with pytest.raises(StoreError) as caught:
        excel.store.write(snap, WriteBatch(cells=[CellWrite("opportunities", 2, 21, "OK")]))
    assert str(caught.value).startswith(f"The workbook {path} is read-only, so sheetsync wrote nothing")
    assert path.read_bytes() == before and stat.S_IMODE(path.stat().st_mode) == 0o444
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_a_read_only_folder_is_refused_with_one_message(excel, restore_modes):
    path = excel.store.path
    before = path.read_bytes()
    snap = excel.store.read()
    restore_modes(path.parent, 0o555)
    with pytest.raises(StoreError) as caught:
        excel.store.write(snap, WriteBatch(cells=[CellWrite("opportunities", 2, 21, "OK")]))
    assert str(caught.value).startswith(f"The folder {path.parent} is read-only")
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["pipeline.xlsx"]


def test_sync_on_a_read_only_workbook_says_so_without_a_traceback(tmp_path, monkeypatch, restore_modes):
    monkeypatch.chdir(tmp_path)
    for var in ("SHEETSYNC_CONFIG", "SHEETSYNC_WORKBOOK", "SHEETSYNC_STORE", "SHEETSYNC_STATE_DIR"):
        monkeypatch.delenv(var, raising=False)
    runner = CliRunner()
    assert runner.invoke(main, ["init"]).exit_code == 0
    before = (tmp_path / "pipeline.xlsx").read_bytes()
    restore_modes(tmp_path / "pipeline.xlsx", 0o444)
    result = runner.invoke(main, ["sync"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "is read-only, so sheetsync wrote nothing" in result.output
    assert (tmp_path / "pipeline.xlsx").read_bytes() == before


def test_init_in_a_read_only_folder_says_so(tmp_path, restore_modes):
    folder = tmp_path / "locked"
    folder.mkdir()
    restore_modes(folder, 0o555)
    from sheetsync.template import load_layout

    with pytest.raises(StoreError, match="is read-only"):
        ExcelStore(folder / "pipeline.xlsx").setup(load_layout("en", time.localtime()[:3] and __import__("datetime")
                                                                .date(2026, 11, 28)))
    assert list(folder.iterdir()) == []


def test_temp_files_of_a_killed_save_are_removed_at_the_next_start(excel):
    folder = excel.store.path.parent
    stale = folder / ".pipeline-k1ll3d.xlsx.tmp"
    stale.write_bytes(b"half a zip")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    fresh = folder / ".pipeline-sav1ng.xlsx.tmp"  # another save in progress right now: left alone
    fresh.write_bytes(b"being written")
    other = folder / ".notes-k1ll3d.xlsx.tmp"  # not this workbook's
    other.write_bytes(b"x")
    os.utime(other, (old, old))
    ExcelStore(excel.store.path).read()
    assert not stale.exists() and fresh.exists() and other.exists()
