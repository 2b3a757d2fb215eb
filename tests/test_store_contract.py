"""The store contract: every adapter (local workbook, Google Sheets) must pass these unchanged."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from sheetsync.core.schema import OPPORTUNITIES, TABS, column_letter
from sheetsync.stores.base import CellWrite, ChartSpec, Guard, StoreConflict, WriteBatch

OPP_HEADERS = [c.en for c in OPPORTUNITIES.columns]
COL = {c.key: i for i, c in enumerate(OPPORTUNITIES.columns)}


def a1(key: str, row: int) -> str:
    return f"{column_letter(COL[key])}{row}"


def test_setup_creates_every_tab_with_its_headers(kit, layout):
    changes = kit.store.setup(layout)
    assert any("Opportunities" in line for line in changes)
    snap = kit.store.read()
    assert set(snap.tabs) == {t.key for t in TABS}
    assert snap.tabs["opportunities"].rows[0] == OPP_HEADERS
    assert snap.tabs["stages"].rows[1][0] == "Lead"


def test_setup_twice_adds_nothing_and_keeps_what_people_typed(kit, layout):
    kit.store.setup(layout)
    kit.edit("Opportunities", a1("customer", 2), "Typed by Ann")
    assert kit.store.setup(layout) == []
    assert kit.values("Opportunities")[1][COL["customer"]] == "Typed by Ann"


def test_setup_adds_a_missing_column_at_the_right_end_without_reordering(kit, layout):
    kit.store.setup(layout)
    last = OPPORTUNITIES.columns[-1]
    kit.edit("Opportunities", a1(last.key, 1), None)  # someone deleted the last header
    changes = kit.store.setup(layout)
    assert changes == [f"Added column '{last.en}' to 'Opportunities'"]
    assert kit.values("Opportunities")[0][: len(OPP_HEADERS)] == OPP_HEADERS


def test_read_gives_dates_as_datetimes_and_phone_digits_as_text(kit, layout):
    kit.store.setup(layout)
    row = kit.store.read().tabs["opportunities"].rows[1]
    assert row[COL["customer"]] == "Acme Machinery"
    assert isinstance(row[COL["expected_close"]], datetime)
    assert row[COL["phone"]] == "13800138000"  # one answer on every store: text, never 13800138000.0


def test_write_applies_cells_appends_and_replacements(kit, layout):
    kit.store.setup(layout)
    snap = kit.store.read()
    batch = WriteBatch(
        cells=[CellWrite("opportunities", 2, COL["status"], "OK"),
               CellWrite("opportunities", 3, COL["next_follow_up"], date(2026, 12, 1))],
        appends={"history": [[datetime(2026, 11, 28, 9, 0), "OPP-1", "Stage", "Lead", "Quote", "sheet edit"]]},
        replace={"reminders": [[date(2026, 11, 28), "Ann", "OPP-1", "Acme", "Quote", "Follow-up due today", 0]]},
    )
    kit.store.write(snap, batch)
    after = kit.store.read()
    opp = after.tabs["opportunities"].rows
    assert opp[1][COL["status"]] == "OK"
    assert opp[2][COL["next_follow_up"]] == datetime(2026, 12, 1)
    assert after.tabs["history"].rows[1][1:] == ["OPP-1", "Stage", "Lead", "Quote", "sheet edit"]
    assert after.tabs["reminders"].rows[1][1] == "Ann"


def test_replace_clears_rows_left_over_from_a_longer_list(kit, layout):
    kit.store.setup(layout)
    snap = kit.store.read()
    long = [[date(2026, 11, 28), f"Rep {i}", f"OPP-{i}", "C", "Lead", "r", 0] for i in range(5)]
    kit.store.write(snap, WriteBatch(replace={"reminders": long}))
    snap = kit.store.read()
    kit.store.write(snap, WriteBatch(replace={"reminders": long[:2]}))
    assert len(kit.store.read().tabs["reminders"].rows) == 3


def test_formula_looking_text_is_stored_as_text(kit, layout):
    kit.store.setup(layout)
    snap = kit.store.read()
    evil = '=HYPERLINK("http://evil.example","click")'
    kit.store.write(snap, WriteBatch(appends={"opportunities": [[None, None, "Web", evil, "-1+2", "@SUM(A1)"]]}))
    rows = kit.store.read().tabs["opportunities"].rows
    assert rows[-1][3:6] == [evil, "-1+2", "@SUM(A1)"]


def test_appends_land_below_the_last_row_even_after_blank_rows(kit, layout):
    kit.store.setup(layout)
    kit.edit("Opportunities", "D12", "Far below a gap")
    snap = kit.store.read()
    kit.store.write(snap, WriteBatch(appends={"opportunities": [[None, None, None, "New lead"]]}))
    rows = kit.values("Opportunities")
    assert rows[11][3] == "Far below a gap"
    assert rows[12][3] == "New lead"


def test_a_guard_that_no_longer_holds_stops_the_whole_write(kit, layout):
    kit.store.setup(layout)
    snap = kit.store.read()
    kit.edit("Opportunities", a1("owner", 2), "Typed by a person")
    batch = WriteBatch(cells=[CellWrite("opportunities", 2, COL["owner"], "Robot"),
                              CellWrite("opportunities", 3, COL["status"], "OK")],
                       guards=[Guard("opportunities", 2, COL["owner"], None)])
    with pytest.raises(StoreConflict):
        kit.store.write(snap, batch)
    rows = kit.values("Opportunities")
    assert rows[1][COL["owner"]] == "Typed by a person"
    assert rows[2][COL["status"]] in (None, "")


def test_summary_chart_is_written_and_rewritten_without_piling_up(kit, layout):
    kit.store.setup(layout)
    chart = ChartSpec("summary", "Funnel", 2, 4, 0, 1, 1, 4)
    grid = [["Stage", "Count"], ["Lead", 3], ["Quote", 2], ["Won", 1]]
    for _ in range(2):
        snap = kit.store.read()
        kit.store.write(snap, WriteBatch(replace={"summary": grid}, charts=[chart]))
    assert kit.store.read().tabs["summary"].rows[:4] == grid
