"""Message building is pure: assignment notices and digests from rows and a day, exact text."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from sheetsync.core.model import Opportunity, Pipeline, Stage
from sheetsync.core.remind import APPROVAL, FIX, FOLLOW_UP, STALE, Reminder
from sheetsync.notify.build import (
    MANAGER,
    assignment_message,
    build_payload,
    daily_digests,
    weekly_digest,
)
from sheetsync.notify.leads import AssignedLead

TODAY = date(2026, 11, 26)  # a Thursday
PIPELINE = Pipeline.of([
    Stage("Lead", 1, 0.1, 3, 14, (), False, "open"),
    Stage("Quote", 2, 0.5, 3, 10, (), True, "open"),
    Stage("Won", 3, 1.0, None, None, (), False, "won"),
    Stage("Lost", 4, 0.0, None, None, (), False, "lost"),
])


def reminder(owner, ident, customer, reason, kind, overdue=0, stage="Lead"):
    return Reminder(TODAY, owner, ident, customer, stage, reason, overdue, kind)


REMINDERS = [
    reminder("Alice Chen", "OPP-1", "Acme Machinery", "Follow-up overdue by 2 days", FOLLOW_UP, 2),
    reminder("Alice Chen", "OPP-2", "Blue Sky Retail", "Follow-up due today", FOLLOW_UP),
    reminder("Alice Chen", "OPP-3", "Pearl Software", "Awaiting approval for Quote", APPROVAL, stage="Quote"),
    reminder("Alice Chen", "OPP-4", "Jade Foods", "Fix: Missing Amount (required from Quote)", FIX),
    reminder("Alice Chen", "OPP-5", "Old Mill", "Stale: in Lead for 20 days (limit 14)", STALE),
    reminder("Bob Wang", "OPP-6", "Delta Ltd", "Follow-up overdue by 5 days", FOLLOW_UP, 5),
    reminder("(unassigned)", "OPP-7", "Nobody Co", "Follow-up due today", FOLLOW_UP),
]


def test_assignment_notice_says_customer_need_phone_and_why():
    lead = AssignedLead("OPP-7K3F9Q", "Alice Chen", "Acme Machinery", "Automated line quote", "13800138000",
                        "Li Lei", "Key accounts (Level A)")
    message = assignment_message(lead, "en", TODAY)
    assert build_payload(message) == {
        "title": "New lead for you: Acme Machinery",
        "body": "Customer: Acme Machinery\nContact: Li Lei\nNeed: Automated line quote\nPhone: 13800138000\n"
                "ID: OPP-7K3F9Q\nWhy you: Key accounts (Level A)",
    }
    assert message.recipient == "Alice Chen"
    assert message.key == "assign:OPP-7K3F9Q:Alice Chen:2026-11-26"


def test_a_handover_notice_names_the_previous_owner_in_chinese():
    lead = AssignedLead("OPP-1", "张伟", "明珠软件", "", "13900000000", "", "移交", previous_owner="李娜")
    message = assignment_message(lead, "zh", TODAY)
    assert message.title == "新商机分配给你：明珠软件"
    assert message.body == "客户：明珠软件\n电话：13900000000\n编号：OPP-1\n分配依据：移交\n由 李娜 移交。"


def test_daily_digest_per_owner_lists_overdue_due_today_approval_and_fixes():
    alice, bob = daily_digests(REMINDERS, "en", TODAY)
    assert (alice.recipient, alice.key) == ("Alice Chen", "daily:Alice Chen:2026-11-26")
    assert alice.title == "Your pipeline for 2026-11-26: 4 to do"
    assert alice.body == (
        "Overdue follow-ups (1)\n- OPP-1 Acme Machinery: Follow-up overdue by 2 days\n\n"
        "Due today (1)\n- OPP-2 Blue Sky Retail: Follow-up due today\n\n"
        "Awaiting approval (1)\n- OPP-3 Pearl Software: Awaiting approval for Quote\n\n"
        "Problems to fix (1)\n- OPP-4 Jade Foods: Fix: Missing Amount (required from Quote)")
    assert bob.body == "Overdue follow-ups (1)\n- OPP-6 Delta Ltd: Follow-up overdue by 5 days"


def test_nobody_gets_an_empty_digest_and_unassigned_rows_go_to_nobody():
    only_stale = [r for r in REMINDERS if r.kind == STALE]
    assert daily_digests(only_stale, "en", TODAY) == []
    assert all(m.recipient != "(unassigned)" for m in daily_digests(REMINDERS, "en", TODAY))


def test_daily_digest_in_chinese():
    (bob,) = [m for m in daily_digests(REMINDERS, "zh", TODAY) if m.recipient == "Bob Wang"]
    assert bob.title == "2026-11-26 今日待办：共 1 项"
    assert bob.body == "逾期跟进（1）\n- OPP-6 Delta Ltd：Follow-up overdue by 5 days"


def opp(row, ident, customer, stage, owner, amount=None, since=None, loss=""):
    return Opportunity(row, {"id": ident, "customer": customer, "stage": stage, "owner": owner, "amount": amount,
                             "stage_since": since, "loss_reason": loss})


def test_weekly_manager_digest_has_funnel_wins_losses_who_is_behind_and_stale_deals():
    opps = [
        opp(2, "OPP-1", "Acme Machinery", "Lead", "Alice Chen", 1000),
        opp(3, "OPP-2", "Blue Sky Retail", "Quote", "Alice Chen", 48000),
        opp(4, "OPP-3", "Pearl Software", "Quote", "Bob Wang", 2000),
        opp(5, "OPP-8", "Won This Week", "Won", "Bob Wang", 120000, date(2026, 11, 24)),
        opp(6, "OPP-9", "Won Last Week", "Won", "Bob Wang", 5000, date(2026, 11, 20)),
        opp(7, "OPP-10", "Lost Co", "Lost", "Alice Chen", None, date(2026, 11, 23), "Price"),
    ]
    message = weekly_digest(opps, PIPELINE, REMINDERS, "en", TODAY)
    assert (message.recipient, message.key) == (MANAGER, "weekly:2026-W48")
    assert message.title == "Weekly pipeline review, week of 2026-11-23"
    assert message.body == (
        "Open funnel\n- Lead: 1 deals, 1,000\n- Quote: 2 deals, 50,000\n\n"
        "Won this week: 1 deals, 120,000\n- OPP-8 Won This Week (Bob Wang) 120,000\n"
        "Lost this week: 1 deals\n- OPP-10 Lost Co (Alice Chen) Price\n\n"
        "Who is behind (overdue follow-ups)\n- Alice Chen: 1 overdue, oldest 2 days\n"
        "- Bob Wang: 1 overdue, oldest 5 days\n\n"
        "Stale deals (1)\n- OPP-5 Old Mill (Alice Chen) Stale: in Lead for 20 days (limit 14)")


def _snapshot(owner_before: str):
    from sheetsync.ports import Snapshot, TabData

    headers = ["ID", "Customer", "Contact", "Phone", "Need", "Owner", "Assigned by", "Stage"]
    rows = [headers, ["OPP-1", "Acme", "Li Lei", "13800138000", "Quote", owner_before, "Rule 1", "Lead"],
            ["OPP-2", "Blue Sky", "Han", "139", "POS", "Bob Wang", "Rule 2", "Lead"]]
    team = [["Name", "Email", "IM id"], ["Alice Chen", "alice@example.com", "wecombot://alice-key"],
            ["Bob Wang", "", "dingtalk://SEC1@tok"]]
    return Snapshot({"opportunities": TabData("Opportunities", rows), "team": TabData("Team", team)})


def test_a_handover_in_a_written_batch_reaches_the_new_owner_with_the_old_one_named():
    from sheetsync.notify.leads import assigned_leads, team_contacts
    from sheetsync.ports import CellWrite, WriteBatch

    snapshot = _snapshot("Bob Wang")
    batch = WriteBatch(cells=[CellWrite("opportunities", 2, 5, "Alice Chen"),
                              CellWrite("opportunities", 2, 6, "Handover from Bob Wang"),
                              CellWrite("opportunities", 3, 7, "Quote")])
    (lead,) = assigned_leads(snapshot, batch)
    assert lead == AssignedLead("OPP-1", "Alice Chen", "Acme", "Quote", "13800138000", "Li Lei",
                                "Handover from Bob Wang", "Bob Wang")
    body = assignment_message(lead, "en", TODAY).body
    assert "Why you: Handover from Bob Wang" in body and "Handed over" not in body  # named once
    assert "Handed over from Bob Wang." in assignment_message(replace(lead, rule="East pool"), "en", TODAY).body
    assert team_contacts(snapshot)["alicechen"].im == "wecombot://alice-key"


def test_rewriting_the_same_owner_or_clearing_it_notifies_nobody():
    from sheetsync.notify.leads import assigned_leads
    from sheetsync.ports import CellWrite, WriteBatch

    snapshot = _snapshot("Alice Chen")
    same = WriteBatch(cells=[CellWrite("opportunities", 2, 5, "alice chen"), CellWrite("opportunities", 3, 5, "")])
    assert assigned_leads(snapshot, same) == []


def test_rows_appended_with_an_owner_are_new_leads():
    from sheetsync.notify.leads import assigned_leads
    from sheetsync.ports import WriteBatch

    batch = WriteBatch(appends={"opportunities": [["OPP-9", "Harbor", "Wu", "137", "Forklifts", "Bob Wang",
                                                   "East pool", "Lead"], ["OPP-10", "No owner yet"]]})
    (lead,) = assigned_leads(_snapshot(""), batch)
    assert (lead.id, lead.owner, lead.rule, lead.previous_owner) == ("OPP-9", "Bob Wang", "East pool", "")


def test_many_leads_for_one_owner_in_one_write_become_one_message():
    from sheetsync.notify.build import assignment_messages

    leads = [AssignedLead(f"OPP-{i}", "Alice Chen", f"Customer {i}", "Need", f"1380000000{i}", "", "Import")
             for i in range(5)] + [AssignedLead("OPP-9", "Bob Wang", "Solo", "", "", "", "East pool")]
    combined, solo = assignment_messages(leads, "en", TODAY, group_above=3)
    assert (combined.recipient, combined.title) == ("Alice Chen", "5 new leads for you")
    assert combined.body.splitlines()[0] == "- OPP-0 Customer 0, 13800000000, Need (why you: Import)"
    assert len(combined.body.splitlines()) == 5
    assert solo.title == "New lead for you: Solo"
    assert [m.title for m in assignment_messages(leads[:3], "zh", TODAY)] == ["新商机分配给你：Customer 0",
                                                                            "新商机分配给你：Customer 1",
                                                                            "新商机分配给你：Customer 2"]
