from datetime import date

import pytest

from sheetsync.core.model import Opportunity, Pipeline, Stage
from sheetsync.core.remind import (
    APPROVAL,
    FIX,
    FOLLOW_UP,
    STALE,
    UNPLANNED,
    Reminder,
    propose_follow_ups,
    reminders,
)

TODAY = date(2026, 11, 28)
LATER = "2026-12-20"


def _stage(name, order, probability, follow_up, stale, outcome="open", approval=False):
    return Stage(name, order, probability, follow_up, stale, (), approval, outcome)


PIPELINE = Pipeline.of([
    _stage("Lead", 1, 0.1, 2, 7),
    _stage("Qualified", 2, 0.3, 5, 14),
    _stage("Quote", 3, 0.5, 3, 14, approval=True),
    _stage("Negotiation", 4, 0.7, 3, 21),
    _stage("Won", 5, 1.0, None, None, "won"),
    _stage("Lost", 6, 0.0, None, None, "lost"),
])


def opp(row, **cells):
    cells.setdefault("id", f"OPP-{row}")
    cells.setdefault("customer", f"Customer {row}")
    cells.setdefault("owner", "Alice")
    return Opportunity(row, cells)


def run(opps, proposals=None, problems=None, stage_since=None, language="en"):
    return reminders(opps, PIPELINE, TODAY, proposals=proposals or {}, problems=problems or {},
                     stage_since=stage_since or {}, language=language)


@pytest.mark.parametrize(("cells", "expected"), [
    ({"stage": "Lead", "last_contact": "2026-11-27"}, date(2026, 11, 29)),
    ({"stage": "Qualified", "created": "2026-11-25 10:30"}, date(2026, 11, 30)),
    ({"stage": "Qualified", "created": "2026-11-01", "last_contact": "2026-11-26"}, date(2026, 12, 1)),
    ({"stage": "Quote"}, date(2026, 12, 1)),
    ({"stage": ""}, date(2026, 11, 30)),
    ({"stage": "Lead", "last_contact": "2026-11-01"}, TODAY),
    ({"stage": "Negotiation", "created": "2026-11-25"}, TODAY),
])
def test_proposal_adds_the_stage_cadence_but_never_lands_in_the_past(cells, expected):
    assert propose_follow_ups([opp(2, **cells)], PIPELINE, TODAY) == {2: expected}


@pytest.mark.parametrize("cells", [
    {"stage": "Won"},
    {"stage": "Lost"},
    {"stage": "Paused"},
    {"stage": "Lead", "next_follow_up": "2026-12-01"},
    {"stage": "Lead", "next_follow_up": "not a date"},
])
def test_no_proposal_for_closed_unknown_or_already_planned_rows(cells):
    assert propose_follow_ups([opp(2, **cells)], PIPELINE, TODAY) == {}


def test_no_proposal_for_a_stage_without_cadence():
    pipeline = Pipeline.of([_stage("Lead", 1, 0.1, None, None)])
    assert propose_follow_ups([opp(2, stage="Lead")], pipeline, TODAY) == {}


@pytest.mark.parametrize(("follow_up", "reason", "late"), [
    ("2026-11-28", "Follow-up due today", 0),
    ("2026-11-27", "Follow-up overdue by 1 day", 1),
    ("2026-11-25", "Follow-up overdue by 3 days", 3),
])
def test_follow_up_due_or_overdue(follow_up, reason, late):
    [r] = run([opp(2, stage="Qualified", next_follow_up=follow_up)])
    assert (r.reason, r.days_overdue, r.kind, r.due) == (reason, late, FOLLOW_UP, date.fromisoformat(follow_up))
    assert r.is_follow_up


def test_future_follow_ups_and_closed_deals_do_not_remind():
    assert run([opp(2, stage="Lead", next_follow_up="2026-11-29"),
                opp(3, stage="Won", next_follow_up="2026-11-01"),
                opp(4, stage="Lost", next_follow_up="2026-11-01")]) == []


def test_proposal_in_the_future_reminds_that_nothing_was_planned():
    [r] = run([opp(2, stage="Qualified")], proposals={2: date(2026, 11, 30)})
    assert (r.due, r.reason, r.kind, r.days_overdue) == (TODAY, "No follow-up planned: proposed 2026-11-30",
                                                         UNPLANNED, 0)
    assert not r.is_follow_up


def test_proposal_due_today_reminds_to_follow_up_today():
    found = run([opp(2, stage="Lead")], proposals={2: TODAY})
    assert [(r.kind, r.reason, r.due) for r in found] == [
        (FOLLOW_UP, "Follow-up due today", TODAY),
        (UNPLANNED, "No follow-up planned: proposed 2026-11-28", TODAY),
    ]


@pytest.mark.parametrize(("since", "expected"), [
    (date(2026, 11, 21), None),
    (date(2026, 11, 20), (date(2026, 11, 27), 1, "Stale: in Lead for 8 days (limit 7)")),
    (date(2026, 11, 10), (date(2026, 11, 17), 11, "Stale: in Lead for 18 days (limit 7)")),
])
def test_stale_once_in_the_stage_longer_than_its_limit(since, expected):
    found = run([opp(2, stage="Lead", next_follow_up=LATER)], stage_since={2: since})
    assert [(r.due, r.days_overdue, r.reason) for r in found] == ([] if expected is None else [expected])
    assert all(r.kind == STALE for r in found)


def test_stale_needs_a_known_stage_since_and_an_open_stage():
    found = run([opp(2, stage="Lead", next_follow_up=LATER), opp(3, stage="Won"), opp(4, stage="Lost")],
                stage_since={2: None, 3: date(2025, 1, 1), 4: date(2025, 1, 1)})
    assert found == []


@pytest.mark.parametrize(("approval", "reason"), [
    (None, "Awaiting approval for Quote"),
    ("  ", "Awaiting approval for Quote"),
    ("Pending", "Awaiting approval for Quote"),
    ("Rejected", "Approval rejected: revise the deal or move it back a stage"),
    ("驳回", "Approval rejected: revise the deal or move it back a stage"),
    ("Approved", None),
    ("通过", None),
])
def test_approval_reminders_on_stages_that_need_it(approval, reason):
    found = run([opp(2, stage="Quote", next_follow_up=LATER, approval=approval)])
    assert [(r.reason, r.kind, r.due) for r in found] == ([] if reason is None else [(reason, APPROVAL, TODAY)])


def test_stages_without_approval_never_ask_for_it():
    assert run([opp(2, stage="Negotiation", next_follow_up=LATER)]) == []


def test_validation_problems_become_one_fix_reminder():
    found = run([opp(2, stage="Lead", next_follow_up=LATER)],
                problems={2: ["Amount is missing", "Phone '123' is not a valid number"]})
    assert [(r.reason, r.kind, r.due, r.days_overdue) for r in found] == [
        ("Fix: Amount is missing; Phone '123' is not a valid number", FIX, TODAY, 0)]


def test_unknown_stage_only_gets_its_problems_and_keeps_the_typed_stage():
    found = run([opp(2, stage="Paused", next_follow_up="2026-11-01")], problems={2: ["Stage 'Paused' is unknown"]},
                stage_since={2: date(2025, 1, 1)})
    assert [(r.stage, r.reason) for r in found] == [("Paused", "Fix: Stage 'Paused' is unknown")]


def test_empty_problem_list_raises_nothing():
    assert run([opp(2, stage="Lead", next_follow_up=LATER)], problems={2: []}) == []


def test_blank_owner_shows_as_unassigned_in_both_languages():
    row = [opp(2, stage="Lead", owner="", next_follow_up="2026-11-20")]
    assert run(row)[0].owner == "(unassigned)"
    assert run(row, language="zh")[0].owner == "（未分配）"


def test_blank_stage_is_the_first_stage():
    [r] = run([opp(2, stage=None, next_follow_up="2026-11-27")])
    assert r.stage == "Lead"


def test_chinese_reasons():
    found = run([
        opp(2, stage="Lead", next_follow_up="2026-11-25"),
        opp(3, stage="Lead", next_follow_up="2026-11-28"),
        opp(4, stage="Qualified"),
        opp(5, stage="Lead", next_follow_up=LATER),
        opp(6, stage="Quote", next_follow_up=LATER),
        opp(7, stage="Quote", next_follow_up=LATER, approval="拒绝"),
        opp(8, stage="Lead", next_follow_up=LATER),
    ], proposals={4: date(2026, 11, 30)}, problems={8: ["缺少金额", "电话无效"]},
        stage_since={5: date(2026, 11, 18)}, language="zh")
    assert {(r.id, r.reason) for r in found} == {
        ("OPP-2", "跟进已逾期 3 天"),
        ("OPP-3", "今天需跟进"),
        ("OPP-4", "未安排下次跟进：建议 2026-11-30"),
        ("OPP-5", "停滞：已在「Lead」阶段 10 天（上限 7 天）"),
        ("OPP-6", "「Quote」阶段待审批"),
        ("OPP-7", "审批被驳回：请修改后重新提交或退回上一阶段"),
        ("OPP-8", "需修正：缺少金额；电话无效"),
    }


def test_sorted_by_owner_then_due_then_id_then_reason():
    found = run([
        opp(2, id="B-2", owner="Bob", stage="Lead", next_follow_up="2026-11-20"),
        opp(3, id="A-9", owner="Alice", stage="Quote", next_follow_up="2026-11-26"),
        opp(4, id="A-1", owner="Alice", stage="Lead", next_follow_up="2026-11-27"),
        opp(5, id="A-0", owner="Alice", stage="Lead", next_follow_up=LATER),
    ], problems={3: ["Amount is missing"], 5: ["Email is invalid"]})
    assert [(r.owner, r.due.isoformat(), r.id, r.reason) for r in found] == [
        ("Alice", "2026-11-26", "A-9", "Follow-up overdue by 2 days"),
        ("Alice", "2026-11-27", "A-1", "Follow-up overdue by 1 day"),
        ("Alice", "2026-11-28", "A-0", "Fix: Email is invalid"),
        ("Alice", "2026-11-28", "A-9", "Awaiting approval for Quote"),
        ("Alice", "2026-11-28", "A-9", "Fix: Amount is missing"),
        ("Bob", "2026-11-20", "B-2", "Follow-up overdue by 8 days"),
    ]


def test_row_follows_the_reminders_tab_columns():
    reminder = Reminder(date(2026, 11, 25), "Alice", "OPP-2", "Acme", "Lead", "Follow-up overdue by 3 days", 3,
                        FOLLOW_UP)
    assert reminder.row() == [date(2026, 11, 25), "Alice", "OPP-2", "Acme", "Lead",
                              "Follow-up overdue by 3 days", 3]


def test_reminder_carries_customer_and_id():
    [r] = run([opp(2, id="OPP-7", customer="Acme Machinery", stage="Lead", next_follow_up="2026-11-28")])
    assert (r.id, r.customer, r.stage, r.owner) == ("OPP-7", "Acme Machinery", "Lead", "Alice")
