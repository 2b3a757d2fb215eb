"""Plan how queued form submissions reach the sheet: each once, in one write, owners assigned."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from ..messages import say
from ..ports import CREATE, FOLLOWUP, UPDATE, Cell, CellWrite, Guard, Snapshot, Submission, WriteBatch
from . import values as v
from .assign import assign
from .duplicates import DuplicateIndex, Match, duplicate_note, routable_owner
from .history import CREATED
from .ids import new_id
from .model import Opportunity, phone_key
from .policy import MERGE, Policy
from .schema import OPPORTUNITIES, PEOPLE
from .validate import status_text, validate
from .workbook import INTAKE_TABS, Workbook, read_workbook

FORM_COLUMNS = frozenset(c.key for c in OPPORTUNITIES.columns if c.owner == PEOPLE)
"""Opportunities columns a form may set; system columns are never taken from a sender."""
__all__ = ["CREATE", "FOLLOWUP", "UPDATE", "FORM_COLUMNS", "IntakePlan", "Submission", "plan_intake"]
MERGED_DETAILS = ("contact", "phone", "email", "need")
"""What a merged re-submission's follow-up note repeats from the form."""


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
                now: datetime, cursors: Mapping[str, Any], policy: Policy | None = None) -> IntakePlan:
    """Plan one write landing every submission not already in the sheet; `now` is aware.

    Leads and updates are planned first and follow-ups after them, so a follow-up for a lead of the same
    batch finds it.
    """
    policy = policy or Policy()
    wb = read_workbook(snapshot, language, INTAKE_TABS)
    plan = IntakePlan(WriteBatch(), dict(cursors))
    in_sheet = {o.id: o for o in wb.opportunities if o.id}
    refs = {v.text(wb.maps["followups"].get(row, "ref")) for row in snapshot.tabs["followups"].rows[1:]}
    local_now = _local(now, tz)
    index = DuplicateIndex(wb.opportunities, wb.pipeline, local_now.date(), region=policy.phone_region,
                           protect_days=policy.duplicate_protection_days)
    batch = _Batch(wb, plan, refs, in_sheet, index, tz, local_now)
    for sub in submissions:
        if sub.kind == CREATE:
            batch.create(sub, policy)
        elif sub.kind == UPDATE:
            _update(wb, plan, sub, in_sheet, batch.new_rows)
        elif sub.kind != FOLLOWUP:
            plan.rejected[sub.key] = f"Unknown submission kind '{sub.kind}'."
    for sub in submissions:
        if sub.kind == FOLLOWUP:
            batch.followup(sub)
    _land_new(wb, plan, list(batch.new_rows.values()), local_now, cursors, batch.sources, batch.duplicates)
    return plan


@dataclass
class _Batch:
    """The submissions of one flush as they are planned: new rows, their sources and duplicates."""

    wb: Workbook
    plan: IntakePlan
    refs: set[str]
    in_sheet: dict[str, Opportunity]
    index: DuplicateIndex
    tz: Any
    now: datetime
    new_rows: dict[str, Opportunity] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    duplicates: dict[str, Match] = field(default_factory=dict)

    def _own_row(self, opp: Opportunity, sub: Submission) -> bool:
        """Whether a sheet row holding the submission's ID is the one an earlier flush of it wrote."""
        customer = str(sub.fields.get("customer") or "").strip()
        return opp.cells.get("created") == _local(sub.received, self.tz) or bool(customer) and \
            opp.text("customer") == customer

    def _free_id(self, sub: Submission) -> str | None:
        """The ID this lead lands under, or None when it is already in the sheet (or this batch).

        The queue draws IDs at random without seeing the sheet, so now and then one is already used by
        another row (a 1 in 100,000 chance per lead at 10,000 rows). Such a lead is not taken for landed:
        it gets the next of a list of IDs drawn from its queue key, the same list on every try, so a retried
        flush finds the row it wrote.
        """
        if sub.opportunity_id in self.new_rows or sub.key in self.refs:
            return None
        ident, draws = sub.opportunity_id, None
        while ident in self.in_sheet or ident in self.new_rows:
            if ident in self.in_sheet and self._own_row(self.in_sheet[ident], sub):
                return None
            draws = draws or random.Random(sub.key)
            ident = new_id(draws)
        return ident

    def create(self, sub: Submission, policy: Policy) -> None:
        """Plan a new row, or (merge mode) a follow-up note on the opportunity it repeats."""
        ident = self._free_id(sub)
        if ident is None:
            self.plan.already.append(sub.key)
            return
        cells: dict[str, Cell] = {k: val for k, val in sub.fields.items() if k in FORM_COLUMNS}
        cells.update(id=ident, created=_local(sub.received, self.tz), updated=self.now)
        if v.is_blank(cells.get("stage")):
            cells["stage"] = self.wb.pipeline.first.name
        opp = Opportunity(-len(self.new_rows) - 1, cells)
        match = self.index.find(opp)
        if match is not None and match.strong and policy.duplicates == MERGE:
            self._merge(sub, opp, match.original)
            return
        self.index.add(opp)
        if match is not None:
            self.duplicates[ident] = match
        self.new_rows[ident] = opp
        self.sources[ident] = f"form ({sub.source})" if sub.source else "form"
        self.plan.landed.append(sub.key)

    def _merge(self, sub: Submission, opp: Opportunity, original: Opportunity) -> None:
        labels = self.wb.labels()
        language = self.wb.language
        details = "; ".join(f"{labels.get(k) or OPPORTUNITIES.column(k).name(language)}: {opp.text(k)}"
                            for k in MERGED_DETAILS if not opp.blank(k))
        note: dict[str, Cell] = {"date": _local(sub.received, self.tz).date(), "opportunity_id": original.id,
                "customer": original.text("customer"), "phone": opp.text("phone"),
                "channel": say("discipline.merged_channel", language),
                "summary": say("discipline.merged", language, source=sub.source or "form", details=details),
                "ref": sub.key}
        self.plan.batch.appends.setdefault("followups", []).append(self.wb.row_of("followups", note))
        self.refs.add(sub.key)
        self.plan.landed.append(sub.key)

    def find_target(self, sub: Submission) -> Opportunity | None:
        """The opportunity a follow-up is about: by ID, else by phone, among sheet rows and this batch's leads."""
        wanted = sub.opportunity_id or sub.fields.get("opportunity_id", "")
        target = self.in_sheet.get(wanted) or self.new_rows.get(wanted)
        phone = phone_key(sub.fields.get("phone"))
        if target is None and phone:
            everyone = [*self.wb.opportunities, *self.new_rows.values()]
            target = next((o for o in everyone if phone_key(o.cells.get("phone")) == phone), None)
        return target

    def followup(self, sub: Submission) -> None:
        """Append one follow-up and carry its dates into the opportunity it names."""
        if sub.key in self.refs:
            self.plan.already.append(sub.key)
            return
        fields = dict(sub.fields)
        target = self.find_target(sub)
        when = v.parse_date(fields.get("date")) if fields.get("date") else _local(sub.received, self.tz).date()
        planned = _lenient_date(fields.get("next_follow_up"))
        row: dict[str, Cell] = {**fields, "date": when, "ref": sub.key}
        if planned is not None:
            row["next_follow_up"] = planned
        if target is not None:
            row["opportunity_id"] = target.id
            row.setdefault("customer", target.text("customer"))
            if target.row < 0:  # a lead of this very batch: its row is still being planned
                current = target.date("last_contact")
                if when and (current is None or when > current):
                    target.cells["last_contact"] = when
                if planned is not None:
                    target.cells["next_follow_up"] = planned
            else:
                _touch_opportunity(self.wb, self.plan, target, when, planned)
        self.plan.batch.appends.setdefault("followups", []).append(self.wb.row_of("followups", row))
        self.refs.add(sub.key)
        self.plan.landed.append(sub.key)


def _lenient_date(raw: object) -> date | None:
    try:
        return v.parse_date(raw)
    except v.ValueProblem:
        return None


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


def _touch_opportunity(wb: Workbook, plan: IntakePlan, opp: Opportunity, when: date | None,
                       next_follow_up: date | None) -> None:
    """Move Last contact forward and take the Next follow-up the rep just planned."""
    id_col = wb.col("opportunities", "id")
    plan.batch.guards.append(Guard("opportunities", opp.row, id_col, opp.id))
    current = opp.date("last_contact")
    if when and (current is None or when > current):
        plan.batch.cells.append(CellWrite("opportunities", opp.row, wb.col("opportunities", "last_contact"), when))
    planned = next_follow_up
    if planned:
        plan.batch.cells.append(CellWrite("opportunities", opp.row, wb.col("opportunities", "next_follow_up"),
                                          planned))


def _land_new(wb: Workbook, plan: IntakePlan, rows: list[Opportunity], now: datetime,
              cursors: Mapping[str, Any], sources: Mapping[str, str], duplicates: Mapping[str, Match]) -> None:
    if not rows:
        return
    by_row = {o.row: o for o in rows}
    notes: dict[int, str] = {}
    for opp in rows:
        match = duplicates.get(opp.id)
        if match is None:
            continue
        notes[opp.row] = duplicate_note(match, wb.language)
        owner = routable_owner(match, wb.team) if opp.blank("owner") else ""
        if owner:
            opp.cells.update(owner=owner, assigned_by=say("discipline.routed", wb.language, id=match.original.id))
    pending = [o for o in rows if o.blank("owner")]
    everyone = wb.opportunities + rows
    assignments, unassigned, plan.cursors = assign(pending, everyone, wb.team, wb.rules, wb.pipeline,
                                                   cursors, now.date(), wb.language)
    for a in assignments:
        by_row[a.row].cells.update(owner=a.owner, assigned_by=a.rule)
    reasons = {u.row: u.reason for u in unassigned}
    labels = wb.labels()
    out = []
    for opp in rows:
        problems = validate(opp, wb.pipeline, labels, wb.language, today=now.date())
        if opp.row in reasons:
            problems.append(reasons[opp.row])
        opp.cells["status"] = status_text([*problems, *([notes[opp.row]] if opp.row in notes else [])],
                                          wb.language)
        out.append(wb.row_of("opportunities", opp.cells))
    plan.batch.appends["opportunities"] = out
    created: list[list[Cell]] = [[now, o.id, CREATED[wb.language], "", o.text("customer"), sources[o.id]]
                                 for o in rows]
    plan.batch.appends["history"] = wb.rows_of("history", created)
