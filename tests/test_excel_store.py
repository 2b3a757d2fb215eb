"""The local workbook: atomic saves, someone else's save, and formatting that survives every cycle."""

from __future__ import annotations

import os

import openpyxl
import pytest
from conftest import NOW
from openpyxl.worksheet.cell_range import MultiCellRange

from sheetsync.state import State
from sheetsync.stores.base import CellWrite, ChartSpec, StoreError, WriteBatch
from sheetsync.stores.excel import ExcelStore
from sheetsync.sync import Syncer

IN_PLACE = WriteBatch(cells=[CellWrite("opportunities", 2, 0, "OPP-X")])
WHOLE = WriteBatch(charts=[ChartSpec("summary", "Funnel", 2, 4, 0, 1, 1, 4)])  # a new chart needs openpyxl


@pytest.mark.parametrize("batch", [IN_PLACE, WHOLE], ids=["in-place", "whole"])
def test_a_crash_while_saving_leaves_the_previous_workbook_intact(excel, monkeypatch, tmp_path, batch):
    path = excel.store.path
    before = path.read_bytes()
    snap = excel.store.read()

    def crash(fd):
        raise KeyboardInterrupt  # the process is being killed before the new file is on disk

    monkeypatch.setattr(os, "fsync", crash)
    with pytest.raises(KeyboardInterrupt):
        excel.store.write(snap, batch)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".tmp"] == []


def test_someone_saving_elsewhere_in_excel_after_the_read_keeps_their_edit_and_the_write(excel):
    snap = excel.store.read()
    excel.edit("Opportunities", "K2", "Typed and saved in Excel")
    excel.store.write(snap, WriteBatch(cells=[CellWrite("opportunities", 3, 21, "OK")]))
    rows = excel.values("Opportunities")
    assert rows[1][10] == "Typed and saved in Excel" and rows[2][21] == "OK"


def test_dropdown_highlighting_and_chart_survive_repeated_syncs(excel, config):
    state = State(config.state_path)
    syncer = Syncer(excel.store, config, state, clock=lambda: NOW)
    for _ in range(3):
        syncer.run_cycle()
    state.close()
    wb = openpyxl.load_workbook(excel.store.path)
    opp = wb["Opportunities"]
    assert [str(dv.sqref) for dv in opp.data_validations.dataValidation] == ["N2:N1048576"]  # every row
    assert opp.data_validations.dataValidation[0].formula1 == "='Stages'!$A$2:$A$100"
    assert [str(cf.sqref) for cf in opp.conditional_formatting] == ["R2:R1048576"]
    assert opp.freeze_panes == "A2"
    assert opp["A1"].font.b
    assert len(wb["Summary"]._charts) == 2  # amount and count funnels, not piling up
    assert opp["P2"].number_format == "yyyy-mm-dd"


def test_the_workbook_keeps_its_file_permissions(excel, config):
    os.chmod(excel.store.path, 0o644)
    state = State(config.state_path)
    Syncer(excel.store, config, state, clock=lambda: NOW).run_cycle()
    state.close()
    assert excel.store.path.stat().st_mode & 0o777 == 0o644


def test_a_missing_workbook_says_how_to_create_it(tmp_path):
    with pytest.raises(StoreError, match="run `sheetsync init`"):
        ExcelStore(tmp_path / "nope.xlsx").read()


def test_a_file_that_is_not_a_workbook_says_so(tmp_path):
    bad = tmp_path / "pipeline.xlsx"
    bad.write_text("name,phone\n")
    with pytest.raises(StoreError, match=r"not a readable \.xlsx workbook"):
        ExcelStore(bad).read()


def test_formula_text_is_a_string_cell_that_excel_will_not_run(excel):
    snap = excel.store.read()
    excel.store.write(snap, WriteBatch(appends={"opportunities": [[None, None, "Web", "=cmd|'/c calc'!A1"]]}))
    ws = openpyxl.load_workbook(excel.store.path)["Opportunities"]
    cell = ws.cell(row=ws.max_row, column=4)
    assert cell.value == "=cmd|'/c calc'!A1"
    assert cell.data_type == "s"


def test_a_workbook_locked_by_excel_gives_a_clear_error_and_stays_intact(excel, monkeypatch):
    before = excel.store.path.read_bytes()
    snap = excel.store.read()

    def locked(src, dst):
        raise PermissionError(13, "The process cannot access the file because it is being used")

    monkeypatch.setattr(os, "replace", locked)
    with pytest.raises(StoreError, match="locked by another program"):
        excel.store.write(snap, WriteBatch(cells=[CellWrite("opportunities", 2, 0, "OPP-X")]))
    assert excel.store.path.read_bytes() == before


def test_init_extends_a_dropdown_and_highlight_that_stopped_at_row_5000(excel, layout):
    wb = openpyxl.load_workbook(excel.store.path)
    opp = wb["Opportunities"]
    opp.data_validations.dataValidation[0].sqref = MultiCellRange("N2:N5000")
    (cf,) = list(opp.conditional_formatting)
    rules = opp.conditional_formatting._cf_rules.pop(cf)
    opp.conditional_formatting.add("R2:R5000", rules[0])
    wb.save(excel.store.path)
    assert excel.store.setup(layout) == ["Extended the Stage dropdown in 'Opportunities' to every row",
                                         "Extended the overdue highlight in 'Opportunities' to every row"]
    opp = openpyxl.load_workbook(excel.store.path)["Opportunities"]
    assert [str(dv.sqref) for dv in opp.data_validations.dataValidation] == ["N2:N1048576"]
    assert [str(cf.sqref) for cf in opp.conditional_formatting] == ["R2:R1048576"]
    assert excel.store.setup(layout) == []
