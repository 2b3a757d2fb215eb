"""Every notification as plain data, built from rows and an explicit day (pure; texts from messages.py)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from ..core.model import LOST, WON, Opportunity, Pipeline
from ..core.remind import APPROVAL, FIX, FOLLOW_UP, STALE, UNASSIGNED, Reminder
from ..messages import say
from .leads import AssignedLead

ASSIGNMENT, DAILY, WEEKLY, TEST = "assignment", "daily", "weekly", "test"
MANAGER = "manager"
"""Recipient name of the team's manager channel."""


@dataclass(frozen=True)
class Message:
    """One notification: who it is for, a key that identifies it forever, and its text."""

    key: str
    kind: str
    recipient: str
    title: str
    body: str


def build_payload(message: Message) -> dict[str, str]:
    """The fields every channel is given: a title and a plain-text body."""
    return {"title": message.title, "body": message.body}


def assignment_message(lead: AssignedLead, language: str, today: date) -> Message:
    """ "New lead for you": customer, need, phone and why this owner got it."""
    lines = [say("notify.assigned_customer", language, customer=lead.customer)]
    if lead.contact:
        lines.append(say("notify.assigned_contact", language, contact=lead.contact))
    if lead.need:
        lines.append(say("notify.assigned_need", language, need=lead.need))
    if lead.phone:
        lines.append(say("notify.assigned_phone", language, phone=lead.phone))
    lines.append(say("notify.assigned_id", language, id=lead.id))
    if lead.rule:
        lines.append(say("notify.assigned_why", language, rule=lead.rule))
    if lead.previous_owner and lead.previous_owner not in lead.rule:
        lines.append(say("notify.assigned_from", language, previous=lead.previous_owner))
    return Message(f"assign:{lead.id}:{lead.owner}:{today.isoformat()}", ASSIGNMENT, lead.owner,
                   say("notify.assigned_title", language, customer=lead.customer or lead.id), "\n".join(lines))


def combined_assignment_message(owner: str, leads: Sequence[AssignedLead], language: str, today: date) -> Message:
    """One "N new leads for you" message listing every lead a single write gave `owner`."""
    lines = []
    for lead in leads:
        details = ", ".join(part for part in (lead.customer, lead.phone, lead.need) if part)
        lines.append(say("notify.assigned_many_line", language, id=lead.id, details=details, rule=lead.rule or "-"))
    key = f"assign:{leads[0].id}+{len(leads) - 1}:{owner}:{today.isoformat()}"
    return Message(key, ASSIGNMENT, owner, say("notify.assigned_many_title", language, count=len(leads)),
                   "\n".join(lines))


def assignment_messages(leads: Sequence[AssignedLead], language: str, today: date,
                        group_above: int = 3) -> list[Message]:
    """A message per new lead, or one combined message for an owner given more than `group_above` at once."""
    by_owner: dict[str, list[AssignedLead]] = defaultdict(list)
    for lead in leads:
        by_owner[lead.owner].append(lead)
    out = []
    for owner, mine in by_owner.items():
        if len(mine) > group_above:
            out.append(combined_assignment_message(owner, mine, language, today))
        else:
            out += [assignment_message(lead, language, today) for lead in mine]
    return out


def _items(reminders: Iterable[Reminder], language: str) -> list[str]:
    return [say("notify.item", language, id=r.id, customer=r.customer, reason=r.reason) for r in reminders]


def daily_digests(reminders: Sequence[Reminder], language: str, today: date) -> list[Message]:
    """One digest per owner with something to do: overdue, due today, awaiting approval, problems to fix."""
    unassigned = set(UNASSIGNED.values())
    by_owner: dict[str, list[Reminder]] = defaultdict(list)
    for r in reminders:
        if r.owner and r.owner not in unassigned:
            by_owner[r.owner].append(r)
    out = []
    for owner in sorted(by_owner):
        mine = by_owner[owner]
        sections = (
            ("notify.daily_overdue", [r for r in mine if r.kind == FOLLOW_UP and r.days_overdue > 0]),
            ("notify.daily_due_today", [r for r in mine if r.kind == FOLLOW_UP and r.days_overdue == 0]),
            ("notify.daily_approval", [r for r in mine if r.kind == APPROVAL]),
            ("notify.daily_fix", [r for r in mine if r.kind == FIX]),
        )
        count = sum(len(items) for _, items in sections)
        if not count:
            continue
        lines: list[str] = []
        for key, items in sections:
            if items:
                lines += [""] if lines else []
                lines += [say(key, language, count=len(items)), *_items(items, language)]
        body = "\n".join(lines)
        out.append(Message(f"daily:{owner}:{today.isoformat()}", DAILY, owner,
                           say("notify.daily_title", language, day=today.isoformat(), count=count), body))
    return out


def money(amount: Decimal | float | int | None) -> str:
    """An amount as a whole number with thousands separators."""
    return f"{Decimal(amount or 0):,.0f}"


def stage_totals(opportunities: Sequence[Opportunity], pipeline: Pipeline) -> list[tuple[str, int, Decimal]]:
    """Count and amount per stage, in pipeline order (rows in an unknown stage are left out)."""
    counts = {stage.name: 0 for stage in pipeline.stages}
    amounts = {stage.name: Decimal(0) for stage in pipeline.stages}
    for opp in opportunities:
        stage = pipeline.find(opp.cells.get("stage"))
        if stage is not None:
            counts[stage.name] += 1
            amounts[stage.name] += opp.amount or 0
    return [(name, counts[name], amounts[name]) for name in counts]


def weekly_digest(opportunities: Sequence[Opportunity], pipeline: Pipeline, reminders: Sequence[Reminder],
                  language: str, today: date) -> Message:
    """The manager's week: open funnel, won and lost this week, who is behind, stale deals."""
    monday = today - timedelta(days=today.weekday())
    lines = [say("notify.weekly_funnel", language)]
    won: list[Opportunity] = []
    lost: list[Opportunity] = []
    open_by_stage: dict[str, list[Opportunity]] = defaultdict(list)
    for opp in opportunities:
        stage = pipeline.find(opp.cells.get("stage"))
        if stage is None:
            continue
        if stage.is_open:
            open_by_stage[stage.name].append(opp)
            continue
        since = opp.date("stage_since")
        if since is not None and monday <= since <= today:
            if stage.outcome == WON:
                won.append(opp)
            elif stage.outcome == LOST:
                lost.append(opp)
    for stage in pipeline.open_stages:
        deals = open_by_stage.get(stage.name, [])
        lines.append(say("notify.weekly_stage", language, stage=stage.name, count=len(deals),
                         amount=money(sum((o.amount or 0 for o in deals), Decimal(0)))))
    lines += ["", say("notify.weekly_won", language, count=len(won),
                      amount=money(sum((o.amount or 0 for o in won), Decimal(0))))]
    lines += [say("notify.weekly_deal", language, id=o.id, customer=o.text("customer"), owner=o.owner,
                  detail=money(o.amount) if o.amount else "").rstrip() for o in won]
    lines += [say("notify.weekly_lost", language, count=len(lost))]
    lines += [say("notify.weekly_deal", language, id=o.id, customer=o.text("customer"), owner=o.owner,
                  detail=o.text("loss_reason")).rstrip() for o in lost]
    overdue: dict[str, list[int]] = defaultdict(list)
    for r in reminders:
        if r.kind == FOLLOW_UP and r.days_overdue > 0:
            overdue[r.owner].append(r.days_overdue)
    lines += ["", say("notify.weekly_behind", language)]
    behind = sorted(overdue.items(), key=lambda item: (-len(item[1]), item[0]))
    lines += [say("notify.weekly_behind_line", language, owner=owner, count=len(days), days=max(days))
              for owner, days in behind] or [say("notify.none", language)]
    stale = [r for r in reminders if r.kind == STALE]
    lines += ["", say("notify.weekly_stale", language, count=len(stale))]
    lines += [say("notify.weekly_deal", language, id=r.id, customer=r.customer, owner=r.owner, detail=r.reason)
              for r in stale]
    iso = today.isocalendar()
    return Message(f"weekly:{iso[0]}-W{iso[1]:02d}", WEEKLY, MANAGER,
                   say("notify.weekly_title", language, monday=monday.isoformat()), "\n".join(lines))


def channel_test_message(recipient: str, language: str, stamp: str) -> Message:
    """A message that only proves the channel works (doctor --send-test)."""
    return Message(f"test:{recipient}:{stamp}", TEST, recipient, say("notify.test_title", language),
                   say("notify.test_body", language, recipient=recipient))
