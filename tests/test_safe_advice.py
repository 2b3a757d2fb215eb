"""Advice that is safe to follow: no blank people column, no mass re-assignment, the renamed header named."""

from __future__ import annotations

import openpyxl
import pytest
from click.testing import CliRunner

from sheetsync.cli import main
from sheetsync.core.safety import ReassignRefused, check_reassignment
from sheetsync.core.schema import OPPORTUNITIES

COL = {c.key: i for i, c in enumerate(OPPORTUNITIES.columns)}


@pytest.fixture
def runner(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for var in ("SHEETSYNC_CONFIG", "SHEETSYNC_WORKBOOK", "SHEETSYNC_STORE", "SHEETSYNC_STATE_DIR",
                "SHEETSYNC_TEMPLATE", "SHEETSYNC_OWNER_REASSIGN_SHARE"):
        monkeypatch.delenv(var, raising=False)
    r = CliRunner()
    assert r.invoke(main, ["init"]).exit_code == 0
    assert r.invoke(main, ["sync"]).exit_code == 0
    return r


def sheet(tmp_path):
    return openpyxl.load_workbook(tmp_path / "pipeline.xlsx")["Opportunities"]


def owners(tmp_path) -> dict[str, str]:
    ws = sheet(tmp_path)
    header = [c.value for c in ws[1]]
    id_col = header.index("ID")
    owner_col = next((i for i, h in enumerate(header) if h in ("Owner", "Rep name")), None)
    return {r[id_col]: r[owner_col] for r in ws.iter_rows(min_row=2, values_only=True) if r[id_col]}


def edit(tmp_path, changes: dict[tuple[int, int], object]) -> None:
    wb = openpyxl.load_workbook(tmp_path / "pipeline.xlsx")
    ws = wb["Opportunities"]
    for (row, col), value in changes.items():
        ws.cell(row=row, column=col + 1).value = value
    wb.save(tmp_path / "pipeline.xlsx")


def test_a_renamed_owner_header_is_named_and_init_is_not_advised(runner, tmp_path):
    edit(tmp_path, {(1, COL["owner"]): "Rep name"})
    before = (tmp_path / "pipeline.xlsx").read_bytes()
    result = runner.invoke(main, ["sync"])
    assert result.exit_code == 1
    assert "'Rep name'" in result.output and "rename 'Rep name' back to 'Owner'" in result.output
    assert "sheetsync init" not in result.output
    assert (tmp_path / "pipeline.xlsx").read_bytes() == before


def test_following_the_advice_never_reassigns_owners(runner, tmp_path):
    assigned = owners(tmp_path)
    edit(tmp_path, {(1, COL["owner"]): "Rep name"})
    init = runner.invoke(main, ["init"])
    assert init.exit_code == 0
    assert "Did not add 'Owner' to 'Opportunities'" in init.output and "'Rep name'" in init.output
    header = [c.value for c in sheet(tmp_path)[1]]
    assert "Owner" not in header  # no blank Owner column for the next sync to fill
    assert runner.invoke(main, ["sync"]).exit_code == 1  # still refused, naming the renamed header
    edit(tmp_path, {(1, COL["owner"]): "Owner"})  # the advice: rename it back
    assert runner.invoke(main, ["sync"]).exit_code == 0
    assert owners(tmp_path) == assigned


def test_a_missing_system_column_is_added_by_init_as_advised(runner, tmp_path):
    wb = openpyxl.load_workbook(tmp_path / "pipeline.xlsx")
    wb["Opportunities"].delete_cols(COL["status"] + 1)
    wb.save(tmp_path / "pipeline.xlsx")
    result = runner.invoke(main, ["sync"])
    assert result.exit_code == 1 and "run `sheetsync init` to add it" in result.output
    init = runner.invoke(main, ["init"])
    assert "Added column 'Status' to 'Opportunities'" in init.output
    assert runner.invoke(main, ["sync"]).exit_code == 0


def test_init_on_a_tab_with_rows_adds_no_column_whose_blanks_the_sync_would_act_on(runner, tmp_path):
    wb = openpyxl.load_workbook(tmp_path / "pipeline.xlsx")
    ws = wb["Opportunities"]
    for key in sorted(("next_follow_up", "last_contact", "stage", "owner"), key=lambda k: -COL[k]):
        ws.delete_cols(COL[key] + 1)
    wb.save(tmp_path / "pipeline.xlsx")
    init = runner.invoke(main, ["init"])
    header = [c.value for c in sheet(tmp_path)[1]]
    for name in ("Owner", "Stage", "Last contact", "Next follow-up"):
        assert name not in header and f"Did not add '{name}' to 'Opportunities'" in init.output


def test_a_sync_that_would_reassign_many_owners_stops_and_explains(runner, tmp_path):
    assigned = owners(tmp_path)
    ws = sheet(tmp_path)
    rows_with_owner = [r for r in range(2, ws.max_row + 1) if ws.cell(row=r, column=COL["owner"] + 1).value]
    assert len(rows_with_owner) >= 5
    edit(tmp_path, {(r, COL["owner"]): None for r in rows_with_owner[:3]})  # pasted over by mistake
    before = (tmp_path / "pipeline.xlsx").read_bytes()
    result = runner.invoke(main, ["sync"])
    assert result.exit_code == 1
    assert "would assign owners again to 3 of the" in result.output and "owner_reassign_share = 1" in result.output
    assert (tmp_path / "pipeline.xlsx").read_bytes() == before
    allowed = runner.invoke(main, ["sync"], env={"SHEETSYNC_OWNER_REASSIGN_SHARE": "1"})
    assert allowed.exit_code == 0, allowed.output
    assert all(owners(tmp_path).values()) and owners(tmp_path).keys() == assigned.keys()


def test_clearing_one_owner_to_have_it_reassigned_is_fine(runner, tmp_path):
    ws = sheet(tmp_path)
    row = next(r for r in range(2, ws.max_row + 1) if ws.cell(row=r, column=COL["owner"] + 1).value)
    edit(tmp_path, {(row, COL["owner"]): None})
    assert runner.invoke(main, ["sync"]).exit_code == 0
    assert sheet(tmp_path).cell(row=row, column=COL["owner"] + 1).value


@pytest.mark.parametrize(("assigned", "share", "refused"), [
    (["A", "B"], 0.2, True), (["A"], 0.2, False), (["A", "B"], 0.5, False), (["A", "B", "C"], 0.5, True),
    (["A", "B", "C", "D"], 1, False), (["NEW1", "NEW2", "NEW3"], 0.2, False), (["A", "B"], None, False),
])
def test_reassignment_share(assigned, share, refused):
    seen = {k: {"owner": "Ann"} for k in "ABCDE"} | {"NEW1": {"owner": ""}}
    if refused:
        with pytest.raises(ReassignRefused):
            check_reassignment(assigned, seen, share)
    else:
        check_reassignment(assigned, seen, share)
