"""Plan how queued form submissions reach the sheet: each once, in one write, owners assigned."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..ports import CREATE, FOLLOWUP, UPDATE, CellWrite, Guard, Snapshot, Submission, WriteBatch
from . import values as v
from .assign import assign
from .history import CREATED
from .model import Opportunity, phone_key
from .schema import OPPORTUNITIES, PEOPLE
from .validate import status_text, validate
from .workbook import INTAKE_TABS, Workbook, read_workbook

FORM_COLUMNS = frozenset(c.key for c in OPPORTUNITIES.columns if c.owner == PEOPLE)
"""Opportunities columns a form may set; system columns are never taken from a sender."""
__all__ = ["CREATE", "FOLLOWUP", "UPDATE", "FORM_COLUMNS", "IntakePlan", "Submission", "plan_intake"]


@dataclass
class IntakePlan:
    """The batch that lands the submissions, and what became of each one."""

    batch: WriteBatch
    cursors: dict[str, Any]
    landed: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    rejected: dict[str, str] = field(default_factory=dict)


def _local(moment: datetime, tz) -> datetime:
    """Wall time in the team's timezone, to the second, as spreadsheets hold it."""
    moment = moment.astimezone(tz).replace(tzinfo=None) if moment.tzinfo else moment
    return moment.replace(microsecond=0)


def plan_intake(snapshot: Snapshot, submissions: Sequence[Submission], *, language: str, tz,
                now: datetime, cursors: Mapping[str, Any]) -> IntakePlan:
    """Plan one write landing every submission not already in the sheet; `now` is aware."""
    wb = read_workbook(snapshot, language, INTAKE_TABS)
    plan = IntakePlan(WriteBatch(), dict(cursors))
    in_sheet = {o.id: o for o in wb.opportunities if o.id}
    refs = {v.text(wb.maps["followups"].get(row, "ref")) for row in snapshot.tabs["followups"].rows[1:]}
    local_now = _local(now, tz)
    new_rows: dict[str, Opportunity] = {}
    sources: dict[str, str] = {}
    for sub in submissions:
        if sub.kind == CREATE:
            if sub.opportunity_id in in_sheet or sub.opportunity_id in new_rows:
                plan.already.append(sub.key)
                continue
            cells: dict[str, object] = {k: val for k, val in sub.fields.items() if k in FORM_COLUMNS}
            cells.update(id=sub.opportunity_id, created=_local(sub.received, tz), updated=local_now)
            if v.is_blank(cells.get("stage")):
                cells["stage"] = wb.pipeline.first.name
            new_rows[sub.opportunity_id] = Opportunity(-len(new_rows) - 1, cells)
            sources[sub.opportunity_id] = f"form ({sub.source})" if sub.source else "form"
            plan.landed.append(sub.key)
        elif sub.kind == UPDATE:
            _update(wb, plan, sub, in_sheet, new_rows)
        elif sub.kind == FOLLOWUP:
            _followup(wb, plan, sub, refs, in_sheet, tz)
        else:
            plan.rejected[sub.key] = f"Unknown submission kind '{sub.kind}'."
    _land_new(wb, plan, list(new_rows.values()), local_now, cursors, sources)
    return plan


def _update(wb: Workbook, plan: IntakePlan, sub: Submission, in_sheet: dict[str, Opportunity],
            new_rows: dict[str, Opportunity]) -> None:
    fields = {k: val for k, val in sub.fields.items() if k in FORM_COLUMNS and k != "owner"}
    pending = new_rows.get(sub.opportunity_id)
    if pending is not None:
        pending.cells.update(fields)
        plan.landed.append(sub.key)
        return
    opp = in_sheet.get(sub.opportunity_id)
    if opp is None:
        plan.rejected[sub.key] = (f"Opportunity {sub.opportunity_id} is not in the sheet yet; "
                                  "the update waits until it is.")
        return
    id_col = wb.col("opportunities", "id")
    plan.batch.guards.append(Guard("opportunities", opp.row, id_col, opp.id))
    for key, value in fields.items():
        if key in wb.maps["opportunities"].index and v.text(opp.cells.get(key)) != v.text(value):
            plan.batch.cells.append(CellWrite("opportunities", opp.row, wb.col("opportunities", key), value))
    plan.landed.append(sub.key)


def _followup(wb: Workbook, plan: IntakePlan, sub: Submission, refs: set[str],
              in_sheet: dict[str, Opportunity], tz) -> None:
    if sub.key in refs:
        plan.already.append(sub.key)
        return
    fields = dict(sub.fields)
    target = in_sheet.get(sub.opportunity_id or fields.get("opportunity_id", ""))
    if target is None and phone_key(fields.get("phone")):
        target = next((o for o in wb.opportunities if phone_key(o.cells.get("phone")) == phone_key(fields["phone"])),
                      None)
    when = v.parse_date(fields.get("date")) if fields.get("date") else _local(sub.received, tz).date()
    row = {**fields, "date": when, "ref": sub.key}
    if target is not None:
        row["opportunity_id"] = target.id
        row.setdefault("customer", target.text("customer"))
        _touch_opportunity(wb, plan, target, when, fields.get("next_follow_up"))
    plan.batch.appends.setdefault("followups", []).append(wb.row_of("followups", row))
    refs.add(sub.key)
    plan.landed.append(sub.key)


def _touch_opportunity(wb: Workbook, plan: IntakePlan, opp: Opportunity, when, next_follow_up) -> None:
    """Move Last contact forward and take the Next follow-up the rep just planned."""
    id_col = wb.col("opportunities", "id")
    plan.batch.guards.append(Guard("opportunities", opp.row, id_col, opp.id))
    current = opp.date("last_contact")
    if when and (current is None or when > current):
        plan.batch.cells.append(CellWrite("opportunities", opp.row, wb.col("opportunities", "last_contact"), when))
    planned = v.parse_date(next_follow_up) if next_follow_up else None
    if planned:
        plan.batch.cells.append(CellWrite("opportunities", opp.row, wb.col("opportunities", "next_follow_up"),
                                          planned))


def _land_new(wb: Workbook, plan: IntakePlan, rows: list[Opportunity], now: datetime,
              cursors: Mapping[str, Any], sources: Mapping[str, str]) -> None:
    if not rows:
        return
    pending = [o for o in rows if o.blank("owner")]
    everyone = wb.opportunities + rows
    assignments, unassigned, plan.cursors = assign(pending, everyone, wb.team, wb.rules, wb.pipeline,
                                                   cursors, now.date(), wb.language)
    by_row = {o.row: o for o in rows}
    for a in assignments:
        by_row[a.row].cells.update(owner=a.owner, assigned_by=a.rule)
    reasons = {u.row: u.reason for u in unassigned}
    labels = wb.labels()
    out = []
    for opp in rows:
        problems = validate(opp, wb.pipeline, labels, wb.language, today=now.date())
        if opp.row in reasons:
            problems.append(reasons[opp.row])
        opp.cells["status"] = status_text(problems, wb.language)
        out.append(wb.row_of("opportunities", opp.cells))
    plan.batch.appends["opportunities"] = out
    created = [[now, o.id, CREATED[wb.language], "", o.text("customer"), sources[o.id]] for o in rows]
    plan.batch.appends["history"] = wb.rows_of("history", created)
