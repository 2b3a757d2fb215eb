"""The status page's data: a pure function of a snapshot, the queue's stats and the worker's heartbeat."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from sheetsync.core.overview import age_text, build_overview, won_lost
from sheetsync.ports import Snapshot, TabData
from sheetsync.template import load_layout

NOW = datetime(2026, 11, 28, 9, 30, tzinfo=timezone.utc)
TODAY = date(2026, 11, 28)
OPP_HEAD = ["ID", "Customer", "Contact", "Phone", "Owner", "Stage", "Amount", "Next follow-up", "Stage since",
            "Assigned by", "Status", "Created", "Updated", "Last contact", "Loss reason", "Approval"]


def snapshot(rows, team=None):
    layout = load_layout("en", TODAY)
    tabs = {t.tab.key: TabData(t.title, [list(t.headers), *[list(r) for r in t.rows]]) for t in layout.tabs}
    tabs["opportunities"] = TabData("Opportunities", [OPP_HEAD, *rows])
    if team is not None:
        tabs["team"] = TabData("Team", team)
    return Snapshot(tabs)


def opp(ident, owner, stage, amount=None, follow_up=None, since=None):
    return [ident, f"Customer {ident}", "Someone", "13800000000", owner, stage, amount, follow_up, since]


STATS = {"depth": 2, "oldest_pending_age_seconds": 125.0, "retrying": 1, "last_flush_at": NOW.isoformat(),
         "last_flush_result": "2 claimed, 2 landed", "last_error": None, "last_error_at": None}


def build(rows, team=None, **kw):
    args = {"now": NOW, "today": TODAY, "language": "en", "queue_stats": STATS, **kw}
    return build_overview(snapshot(rows, team), **args)


def test_funnel_counts_and_sums_each_stage_and_keeps_won_and_lost_apart():
    o = build([opp("A", "Alice", "Lead", 100), opp("B", "Bob", "Lead", "1,200"), opp("C", "Bob", "Won", 500),
               opp("D", "Alice", "Lost", 70), opp("E", "", "", None)])
    by_stage = {s.name: (s.count, s.amount) for s in o.funnel}
    assert by_stage["Lead"] == (3, Decimal(1300))  # a blank stage is the first stage
    assert by_stage["Won"] == (1, Decimal(500)) and by_stage["Lost"] == (1, Decimal(70))
    assert [s.name for s in o.open_stages] == ["Lead", "Qualified", "Quote", "Negotiation"]
    assert o.open_total == (3, Decimal(1300))
    won, lost = won_lost(o)
    assert (won.count, lost.count) == (1, 1)


def test_an_unknown_stage_is_counted_under_its_own_label():
    o = build([opp("A", "Alice", "Paused", 10)], unknown_label="(unknown stage)")
    assert o.funnel[-1].name == "(unknown stage)" and o.funnel[-1].count == 1


def test_overdue_lists_open_deals_with_a_past_follow_up_most_late_first():
    o = build([opp("A", "Alice", "Lead", follow_up=date(2026, 11, 25)), opp("B", "Bob", "Quote",
               follow_up=date(2026, 11, 20)), opp("C", "Bob", "Won", follow_up=date(2026, 11, 1)),
               opp("D", "Bob", "Lead", follow_up=TODAY)])
    assert [(i.id, i.days) for i in o.overdue] == [("B", 8), ("A", 3)]
    owners = {r.name: r for r in o.owners}
    assert (owners["Alice"].overdue, owners["Bob"].overdue) == (1, 1)


def test_won_this_month_counts_deals_won_since_the_first_against_the_target():
    team = [["Name", "Target"], ["Alice", 1000], ["Bob", ""]]
    o = build([opp("A", "Alice", "Won", 600, since=date(2026, 11, 3)),
               opp("B", "Alice", "Won", 900, since=date(2026, 10, 30)),
               opp("C", "Bob", "Won", 50, since=date(2026, 11, 27)), opp("D", "Bob", "Lead", 5)], team)
    owners = {r.name: r for r in o.owners}
    assert owners["Alice"].won_month == Decimal(600) and owners["Alice"].target_share == pytest.approx(0.6)
    assert owners["Bob"].won_month == Decimal(50) and owners["Bob"].target is None and owners["Bob"].open == 1
    assert o.has_targets


def test_team_members_without_deals_and_unassigned_deals_are_listed():
    o = build([opp("A", "", "Lead")])
    names = [r.name for r in o.owners]
    assert "Alice Chen" in names and "(unassigned)" in names


def test_queue_and_needs_attention_items_are_shown_with_their_reason():
    attention = [{"key": "IN-1", "fields": {"customer": "Acme", "phone": "138"}, "last_error": "Column 'Owner' is "
                  "missing: add it.", "attention_at": "2026-11-28T09:00:00+00:00"}]
    o = build([], attention=attention)
    assert (o.queue.depth, o.queue.oldest_seconds, o.queue.retrying, o.queue.attention_total) == (2, 125.0, 1, 1)
    assert o.queue.attention[0].what == "Acme · 138" and "missing" in o.queue.attention[0].reason


def test_last_errors_say_whether_a_later_run_succeeded():
    worker = {"running": True, "last_sync": {"at": "2026-11-28T09:00:00+00:00", "result": "7 opportunities",
                                             "error": "locked", "error_at": "2026-11-28T08:00:00+00:00"}}
    stats = {**STATS, "last_error": "quota", "last_error_at": "2026-11-28T09:29:00+00:00",
             "last_flush_at": "2026-11-28T09:29:00+00:00"}
    o = build([], worker=worker, queue_stats=stats)
    assert o.sync.error == "locked" and not o.sync.error_is_current
    assert o.flush.error_is_current


def test_an_unreadable_sheet_still_gives_the_queue_and_the_reason():
    o = build_overview(None, now=NOW, today=TODAY, language="en", queue_stats=STATS, problem="The workbook is gone.")
    assert o.problem == "The workbook is gone." and o.funnel == () and o.queue.depth == 2


def test_a_broken_header_becomes_the_problem_not_an_error():
    broken = snapshot([])
    broken.tabs["opportunities"] = TabData("Opportunities", [["ID", "Rep name"]])
    o = build_overview(broken, now=NOW, today=TODAY, language="en", queue_stats=STATS)
    assert "is missing from 'Opportunities'" in o.problem


@pytest.mark.parametrize("seconds, expected", [(None, (0, "none")), (30, (30, "s")), (600, (10, "min")),
                                               (7200, (2, "h")), (3 * 86400, (3, "d"))])
def test_ages_read_in_the_largest_sensible_unit(seconds, expected):
    assert age_text(seconds) == expected
