"""Whole sync cycles against every store: what a sales manager sees in the sheet afterwards."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from conftest import NOW, TODAY

from sheetsync.core.schema import OPPORTUNITIES, LayoutError, column_letter
from sheetsync.state import State
from sheetsync.stores.base import StoreError
from sheetsync.sync import Syncer

COL = {c.key: i for i, c in enumerate(OPPORTUNITIES.columns)}


def a1(key: str, row: int) -> str:
    return f"{column_letter(COL[key])}{row}"


def opp_rows(kit) -> list[list[object]]:
    return [r for r in kit.values("Opportunities")[1:] if any(c not in (None, "") for c in r)]


def cell(row: list[object], key: str) -> object:
    return row[COL[key]] if COL[key] < len(row) else None


def by_customer(kit) -> dict[str, list[object]]:
    return {cell(r, "customer"): r for r in opp_rows(kit)}


def edit_after_first_read(monkeypatch, kit, *edits):
    """Play a person who edits and saves right after the worker's first read."""
    real_read = kit.store.read
    calls = []

    def read(tabs=None):
        snap = real_read(tabs)
        if not calls:
            for where, value in edits:
                kit.edit("Opportunities", where, value)
        calls.append(1)
        return snap

    monkeypatch.setattr(kit.store, "read", read)
    return calls


def test_first_sync_gives_every_row_an_id_a_created_time_and_an_owner(syncer, kit):
    report = syncer.run_cycle()
    rows = opp_rows(kit)
    ids = [cell(r, "id") for r in rows]
    assert all(re.fullmatch(r"OPP-[0-9A-HJKMNP-TV-Z]{6}", i) for i in ids)
    assert len(set(ids)) == len(ids) == report.ids == 10
    assert all(cell(r, "created") == datetime(2026, 11, 28, 9, 30) for r in rows)
    got = {cell(r, "customer"): (cell(r, "owner"), cell(r, "assigned_by")) for r in rows}
    assert got["Acme Machinery"] == ("Alice Chen", "Key accounts go to senior reps")
    assert got["Northwind Foods"][1] == "Everyone else: whoever has the fewest open deals"
    assert got["Harbor Logistics"] == ("Bob Wang", None)  # typed by a person: kept, no rule credited


def test_status_says_what_is_missing_in_plain_words(syncer, kit):
    syncer.run_cycle()
    rows = by_customer(kit)
    assert cell(rows["Acme Machinery"], "status") == ("Missing Amount (required from Quote); "
                                                      "Awaiting approval (Grace Li)")
    assert cell(rows["Harbor Logistics"], "status") == "Missing Loss reason (required when Lost)"
    assert cell(rows["Northwind Foods"], "status") == "OK"


def test_people_values_are_never_changed(syncer, kit):
    before = {cell(r, "customer"): r for r in opp_rows(kit)}
    syncer.run_cycle()
    people = [c.key for c in OPPORTUNITIES.columns if c.owner == "people"]
    for customer, row in by_customer(kit).items():
        for key in people:
            assert cell(row, key) == cell(before[customer], key), (customer, key)


def test_a_typed_owner_between_read_and_write_wins(monkeypatch, syncer, kit):
    calls = edit_after_first_read(monkeypatch, kit, (a1("owner", 4), "Zoe Typed"))
    syncer.run_cycle()
    assert len(calls) >= 2  # the worker noticed and re-planned
    assert cell(by_customer(kit)["Pearl Software"], "owner") == "Zoe Typed"
    assert all(cell(r, "id") for r in opp_rows(kit))


def test_a_row_added_while_syncing_is_kept_and_synced_next(monkeypatch, syncer, kit):
    edit_after_first_read(monkeypatch, kit, ("D9", "Late Lead Ltd"), ("E9", "Kim"), ("F9", "13700000000"))
    syncer.run_cycle()
    syncer.run_cycle()
    late = by_customer(kit)["Late Lead Ltd"]
    assert cell(late, "id") and cell(late, "owner")


def test_last_contact_comes_from_the_newest_follow_up_by_id_or_phone(syncer, kit):
    syncer.run_cycle()
    rows = by_customer(kit)
    assert cell(rows["Acme Machinery"], "last_contact") == datetime(2026, 11, 22)  # matched by phone
    opp_id = cell(rows["Acme Machinery"], "id")
    kit.edit("Follow-ups", "A5", datetime(2026, 11, 27))
    kit.edit("Follow-ups", "B5", opp_id)
    kit.edit("Follow-ups", "F5", "Sent the quote")
    syncer.run_cycle()
    assert cell(by_customer(kit)["Acme Machinery"], "last_contact") == datetime(2026, 11, 27)


def test_blank_next_follow_up_gets_a_proposal_from_the_stage_cadence(syncer, kit):
    syncer.run_cycle()
    # Pearl Software is a Lead (every 2 days) with no follow-up logged: created today + 2.
    assert cell(by_customer(kit)["Pearl Software"], "next_follow_up") == datetime(2026, 11, 30)


def test_reminders_tab_lists_due_and_overdue_work_sorted_by_owner(syncer, kit):
    syncer.run_cycle()
    reminders = [r for r in kit.values("Reminders")[1:] if r and r[0]]
    owners = [r[1] for r in reminders]
    assert owners == sorted(owners, key=str)
    overdue = [r for r in reminders if r[2] == cell(by_customer(kit)["Acme Machinery"], "id")
               and "overdue" in r[5]]
    assert overdue and overdue[0][6] == 2


def test_summary_tab_shows_the_funnel_and_when_it_was_updated(syncer, kit):
    syncer.run_cycle()
    summary = kit.values("Summary")
    flat = [c for row in summary for c in row if c is not None]
    assert "Pipeline summary" in flat
    assert any(isinstance(c, str) and c.startswith("Last updated 2026-11-28") for c in flat)
    funnel = {r[0]: r[1:3] for r in summary[5:12] if r and r[0]}  # open stages, a blank row, then Won and Lost
    # the example rows make a funnel: fewer deals and less money at each open stage
    assert funnel == {"Lead": [3, 260000], "Qualified": [2, 198000], "Quote": [2, 160000],
                      "Negotiation": [1, 120000], "Won": [1, 88000], "Lost": [1, 30000]}


def test_a_stage_change_is_logged_in_history_with_the_day_it_happened(syncer, kit, config):
    syncer.run_cycle()
    row = next(i for i, r in enumerate(kit.values("Opportunities"), start=1) if cell(r, "customer") == "Pearl Software")
    kit.edit("Opportunities", a1("stage", row), "Qualified")
    later = Syncer(kit.store, config, syncer.state, clock=lambda: NOW + timedelta(days=3))
    later.run_cycle()
    history = [r for r in kit.values("History")[1:] if r and r[2] == "Stage"]
    assert [(h[3], h[4], h[5]) for h in history] == [("Lead", "Qualified", "sheet edit")]
    assert cell(by_customer(kit)["Pearl Software"], "stage_since") == datetime(2026, 12, 1)


def test_round_robin_position_survives_a_restart(kit, layout, config):
    kit.store.setup(layout)
    owners = []
    for n in range(4):
        kit.edit("Opportunities", f"D{20 + n}", f"East Co {n}")
        kit.edit("Opportunities", f"E{20 + n}", "Contact")
        kit.edit("Opportunities", f"F{20 + n}", f"1380000000{n}")  # four customers, not one
        kit.edit("Opportunities", f"H{20 + n}", "East")
        state = State(config.state_path)  # a fresh process every time
        Syncer(kit.store, config, state, clock=lambda: NOW).run_cycle()
        state.close()
        owners.append(cell(by_customer(kit)[f"East Co {n}"], "owner"))
    assert owners[0] != owners[1] and owners[1] != owners[2]
    assert set(owners) == {"Alice Chen", "Bob Wang"}


@pytest.mark.parametrize(("where", "value", "message"), [
    (a1("owner", 1), None, "Column L of 'Opportunities' has no header but sits inside the table"),
    (a1("owner", 1), "Rep name", "Column 'Owner' (负责人) is missing from 'Opportunities'"),
    (a1("stage", 1), "Customer", "'Opportunities' has the header 'Customer' twice"),
    ("C1", None, "Column C of 'Opportunities' has no header"),
])
def test_a_broken_header_stops_the_cycle_before_any_write(syncer, kit, where, value, message):
    kit.edit("Opportunities", where, value)
    before = kit.values("Opportunities")
    with pytest.raises(LayoutError, match=re.escape(message)):
        syncer.run_cycle()
    assert kit.values("Opportunities") == before


def test_renamed_headers_in_chinese_or_aliases_still_map(syncer, kit):
    kit.edit("Opportunities", a1("customer", 1), "公司名称")
    kit.edit("Opportunities", a1("phone", 1), "Mobile")
    kit.edit("Opportunities", a1("owner", 1), "Sales person")
    syncer.run_cycle()
    assert cell(opp_rows(kit)[0], "status") == "Missing Amount (required from Quote); Awaiting approval (Grace Li)"


def test_a_sheet_that_keeps_changing_gives_up_without_overwriting(monkeypatch, syncer, kit):
    real_read = kit.store.read
    counter = iter(range(100))

    def read(tabs=None):
        snap = real_read(tabs)
        kit.edit("Opportunities", "K2", f"edit {next(counter)}")
        return snap

    monkeypatch.setattr(kit.store, "read", read)
    with pytest.raises(StoreError, match="kept changing"):
        syncer.run_cycle()
    assert all(cell(r, "id") in (None, "") for r in opp_rows(kit))


def test_chinese_workbook_gets_chinese_messages(tmp_path, config):
    from sheetsync.stores.excel import ExcelStore
    from sheetsync.template import load_layout

    store = ExcelStore(tmp_path / "zh.xlsx")
    store.setup(load_layout("zh", TODAY))
    state = State(config.state_path)
    Syncer(store, config, state, clock=lambda: datetime(2026, 11, 28, 2, tzinfo=timezone.utc)).run_cycle()
    state.close()
    rows = store.read().tabs["opportunities"].rows
    statuses = {r[3]: r[COL["status"]] for r in rows[1:]}
    assert statuses["上海精工机械有限公司"] == "缺少预计金额（报价阶段起必填）；待审批（李经理）"
    owners = {r[3]: r[COL["owner"]] for r in rows[1:]}
    assert owners["上海精工机械有限公司"] == "陈晓"


def test_updated_moves_only_for_rows_people_changed(syncer, kit, config):
    syncer.run_cycle()
    row = next(i for i, r in enumerate(kit.values("Opportunities"), start=1) if cell(r, "customer") == "Pearl Software")
    kit.edit("Opportunities", a1("need", row), "CRM integration and SSO")
    later = Syncer(kit.store, config, syncer.state, clock=lambda: NOW + timedelta(hours=2))
    for _ in range(2):
        later.run_cycle()
    updated = {c: cell(r, "updated") for c, r in by_customer(kit).items()}
    assert updated["Pearl Software"] == datetime(2026, 11, 28, 11, 30)
    assert {u for c, u in updated.items() if c != "Pearl Software"} == {datetime(2026, 11, 28, 9, 30)}


def test_reminders_shrink_when_work_is_done(syncer, kit):
    syncer.run_cycle()
    syncer.run_cycle()  # the one-off "no follow-up planned" reminder is gone now
    before = len([r for r in kit.values("Reminders")[1:] if r and r[0]])
    for i, r in enumerate(kit.values("Opportunities"), start=1):
        if cell(r, "customer") == "Harbor Logistics":
            kit.edit("Opportunities", a1("loss_reason", i), "Price")
    syncer.run_cycle()
    after = kit.values("Reminders")[1:]
    assert len(after) == before - 1
    assert all(r and r[0] for r in after)
