"""Approvals with an approver: gated stages wait for the owner's Manager, and skipped gates stay flagged.

A deal in a stage marked "Needs approval" shows `Awaiting approval (Manager)` until its Approval cell
says Approved (同意) — "Approved by Grace Li" or "同意（李经理）" also count, and History keeps the
text as typed, since neither store can tell who typed it. The reminder goes to the owner's Manager
(Team tab). A deal that moves past a gated stage without approval is flagged in its Status, and stays
flagged (remembered in the row's state) until someone approves it or it goes back before the gate; the
stage a person chose is never changed back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from ..messages import say
from . import values as v
from .habits import name_key
from .model import LOST, MANAGER_ROLES, Opportunity, Pipeline, Rep, Stage
from .remind import APPROVAL, Reminder
from .schema import normalize
from .validate import APPROVED, PENDING, approval_decision


def decision_of(opp: Opportunity) -> str | None:
    """The Approval cell as approved, rejected or pending; None when blank or unreadable."""
    try:
        return approval_decision(opp.cells.get("approval"))
    except v.ValueProblem:
        return None


class Managers:
    """Who approves for each owner, looked up by folded name (built once per cycle, not once per deal)."""

    def __init__(self, team: Sequence[Rep]) -> None:
        self.reps: dict[str, Rep] = {}
        for rep in team:
            self.reps.setdefault(normalize(rep.name), rep)
        managers = [r.name for r in team if normalize(r.role) in MANAGER_ROLES]
        self.only = managers[0] if len(managers) == 1 else ""

    def of(self, owner: str) -> str:
        """The owner's Manager from Team, else the one person whose Role is manager; '' when unknown."""
        rep = self.reps.get(normalize(owner))
        return rep.manager if rep is not None and rep.manager else self.only


def manager_for(owner: str, team: Sequence[Rep]) -> str:
    """The owner's Manager from Team, else the one person whose Role is manager; '' when unknown."""
    return Managers(team).of(owner)


def awaiting_notes(opps: Sequence[Opportunity], pipeline: Pipeline, team: Sequence[Rep],
                   language: str = "en") -> dict[int, str]:
    """Status notes (by sheet row) for deals waiting in a gated stage: 'Awaiting approval (Manager)'."""
    notes: dict[int, str] = {}
    managers = Managers(team)
    for opp in opps:
        stage = pipeline.find(opp.cells.get("stage"))
        if stage is None or not stage.is_open or not stage.needs_approval:
            continue
        try:
            decision = approval_decision(opp.cells.get("approval"))
        except v.ValueProblem:
            continue  # unreadable: validation already says how to fix it
        if decision in (None, PENDING):
            manager = managers.of(opp.owner) or say("discipline.the_manager", language)
            notes[opp.row] = say("discipline.awaiting", language, manager=manager)
    return notes


def to_managers(due: Sequence[Reminder], opps: Sequence[Opportunity], team: Sequence[Rep],
                language: str = "en") -> list[Reminder]:
    """Send 'awaiting approval' reminders to the owner's Manager instead of the owner; keep the owner order."""
    by_id = {o.id: o for o in opps if o.id}
    managers = Managers(team)
    out = []
    for r in due:
        opp = by_id.get(r.id)
        if r.kind == APPROVAL and opp is not None and decision_of(opp) in (None, PENDING):
            manager = managers.of(opp.owner)
            if manager:
                r = replace(r, owner=manager, reason=say("discipline.approve", language, stage=r.stage,
                                                         owner=opp.owner or "-"))
        out.append(r)
    keys: dict[str, tuple[str, str]] = {}
    for r in out:
        if r.owner not in keys:
            keys[r.owner] = name_key(r.owner, language)
    out.sort(key=lambda r: (keys[r.owner], r.due, r.id, r.reason))  # as reminders() orders them
    return out


def _gate(pipeline: Pipeline, name: object) -> Stage | None:
    stage = pipeline.find(name) if not v.is_blank(name) else None
    return stage if stage is not None and stage.needs_approval else None


def skipped_gates(opps: Sequence[Opportunity], pipeline: Pipeline,
                  seen: Mapping[str, Mapping[str, object]]) -> dict[str, str]:
    """The gated stage each deal moved past without approval (by ID), carried until approved or moved back."""
    out: dict[str, str] = {}
    for opp in opps:
        if not opp.id or decision_of(opp) == APPROVED:
            continue
        current = pipeline.find(opp.cells.get("stage"))
        if current is None or current.outcome == LOST:
            continue
        before = seen.get(opp.id) or {}
        carried = _gate(pipeline, before.get("_skipped"))
        if carried is not None and current.order > carried.order:
            out[opp.id] = carried.name
            continue
        if "stage" not in before:
            continue
        previous = pipeline.find(before.get("stage"))
        if previous is None or previous.outcome == LOST:
            continue
        gates = [s for s in pipeline.stages
                 if s.needs_approval and s.outcome != LOST and previous.order <= s.order < current.order]
        if gates:
            out[opp.id] = gates[0].name
    return out


def skipped_problem(gate: str, opp: Opportunity, team: Sequence[Rep], language: str = "en") -> str:
    """The Status problem of a deal that moved past `gate` without approval."""
    manager = manager_for(opp.owner, team) or say("discipline.the_manager", language)
    return say("discipline.skipped_gate", language, stage=gate, manager=manager)
