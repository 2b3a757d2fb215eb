"""离职交接 and 公海: move open deals away from reps who left, and from deals nobody follows up.

A handover moves every open deal of a rep whose Team row says Active = No (or named by `sheetsync
handover FROM`) to a chosen receiver, else by the Rules tab without the leaver. A reclaim moves an open
deal that had no follow-up for its stage's "Reclaim after (days)" to the configured pool owner, else by
the Rules tab without its current owner. Closed deals keep their owner. Each move is remembered in the
row's state so the receiver gets one reminder (with the last follow-up and the next step) until they log
a follow-up or a week passes, and the reclaim clock restarts from the move.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from ..messages import say
from .assign import assign
from .model import FollowUp, Opportunity, Pipeline, Rep, Rule, phone_key
from .remind import Reminder, owner_label
from .schema import normalize

HANDOVER, RECLAIM = "handover", "reclaim"
"""Why a deal moved."""
REMINDER_DAYS = 7
"""How long the receiver (and, for a reclaim, the previous owner) is reminded of a move at most."""
HANDOVER_KIND = "handover"
"""Reminder kind for a deal that changed hands; not written to the sheet."""


class HandoverError(ValueError):
    """A handover names a rep who is not on the Team tab; the message says which and how to fix it."""


@dataclass(frozen=True)
class Move:
    """One open deal that changes owner, and why."""

    row: int
    id: str
    customer: str
    previous: str
    owner: str
    why: str
    rule: str
    """What Assigned by says (the rule that chose the receiver, or the handover/pool wording)."""


@dataclass(frozen=True)
class Moves:
    """What this cycle moves, the rows no one could take, and the rotation positions after it."""

    moves: list[Move]
    stuck: dict[int, str]
    cursors: dict[str, Any]


def _is_open(opp: Opportunity, pipeline: Pipeline) -> bool:
    stage = pipeline.find(opp.cells.get("stage"))
    return stage is None or stage.is_open  # a misspelt stage is still someone's live deal


def check_handover(team: Sequence[Rep], from_: str, to: str) -> None:
    """Refuse a handover whose receiver is not an active rep on the Team tab."""
    if not to:
        return
    rep = next((r for r in team if normalize(r.name) == normalize(to)), None)
    if rep is None:
        names = ", ".join(r.name for r in team)
        raise HandoverError(f"'{to}' is not on the Team tab (it has {names}): check the spelling or add a row.")
    if not rep.active:
        raise HandoverError(f"'{to}' has Active = No on the Team tab: hand {from_}'s deals to someone active.")


def last_touch(opp: Opportunity, seen: Mapping[str, Any] | None) -> date | None:
    """The day anyone last moved this deal: Last contact, entering its stage, creation or the last move."""
    days = [opp.date("last_contact"), opp.date("stage_since"), opp.date("created")]
    moved = (seen or {}).get("_moved")
    if isinstance(moved, Mapping):
        days.append(_day(moved.get("on")))
    return max((d for d in days if d is not None), default=None)


def _day(raw: object) -> date | None:
    try:
        return date.fromisoformat(str(raw))
    except ValueError:
        return None


def plan_moves(opps: Sequence[Opportunity], team: Sequence[Rep], rules: Sequence[Rule], pipeline: Pipeline,
               cursors: Mapping[str, Any], today: date, seen: Mapping[str, Mapping[str, Any]], *,
               handover_from: str = "", handover_to: str = "", reclaim_to: str = "",
               language: str = "en") -> Moves:
    """Plan the handovers and reclaims of one cycle (pure: rows, team, rules and `today` in, moves out)."""
    leaving = {normalize(r.name) for r in team if not r.active}
    if handover_from:
        leaving.add(normalize(handover_from))
    moves: list[Move] = []
    stuck: dict[int, str] = {}
    current = dict(cursors)

    handed: dict[str, list[Opportunity]] = {}
    reclaimed: dict[str, list[Opportunity]] = {}
    for opp in opps:
        if opp.blank("owner") or not _is_open(opp, pipeline):
            continue
        owner = normalize(opp.owner)
        if owner in leaving:
            handed.setdefault(opp.owner, []).append(opp)
            continue
        stage = pipeline.find(opp.cells.get("stage"))
        touched = last_touch(opp, seen.get(opp.id))
        if stage is not None and stage.reclaim_days is not None and touched is not None \
                and (today - touched).days > stage.reclaim_days and normalize(reclaim_to) != owner:
            reclaimed.setdefault(opp.owner, []).append(opp)

    for previous, group in handed.items():
        to = handover_to if handover_to and normalize(previous) == normalize(handover_from) else ""
        label = say("discipline.handover_rule", language, name=previous)
        current = _place(group, previous, to, label, HANDOVER, leaving, team, rules, pipeline, current, today,
                         language, moves, stuck, opps)
    for previous, group in reclaimed.items():
        label = say("discipline.reclaim_rule", language)
        current = _place(group, previous, reclaim_to, label, RECLAIM, leaving | {normalize(previous)}, team, rules,
                         pipeline, current, today, language, moves, stuck, opps)
    return Moves(moves, stuck, current)


def _place(group: list[Opportunity], previous: str, to: str, label: str, why: str, without: set[str],
           team: Sequence[Rep], rules: Sequence[Rule], pipeline: Pipeline, cursors: dict[str, Any], today: date,
           language: str, moves: list[Move], stuck: dict[int, str], opps: Sequence[Opportunity]) -> dict[str, Any]:
    if to:
        moves.extend(Move(o.row, o.id, o.text("customer"), previous, to, why, label) for o in group)
        return cursors
    staying = [r for r in team if normalize(r.name) not in without]
    assignments, unassigned, cursors = assign(group, opps, staying, rules, pipeline, cursors, today, language)
    by_row = {o.row: o for o in group}
    for a in assignments:
        o = by_row[a.row]
        moves.append(Move(o.row, o.id, o.text("customer"), previous, a.owner, why, f"{label}: {a.rule}"))
    for u in unassigned:
        if why == HANDOVER:
            stuck[u.row] = say("discipline.handover_stuck", language, name=previous, reason=u.reason)
    return cursors


def moved_state(move: Move, today: date) -> dict[str, str]:
    """What the row's state keeps about a move, for the reminders and the reclaim clock."""
    return {"from": move.previous, "to": move.owner, "on": today.isoformat(), "why": move.why}


def carry_moves(opps: Sequence[Opportunity], seen: Mapping[str, Mapping[str, Any]], moves: Sequence[Move],
                followups: Sequence[FollowUp], today: date) -> dict[str, dict[str, str]]:
    """The move each deal still carries after this cycle (by ID): recent, same owner, no follow-up since."""
    out: dict[str, dict[str, str]] = {}
    for opp in opps:
        moved = seen.get(opp.id, {}).get("_moved") if opp.id else None
        if isinstance(moved, Mapping) and normalize(moved.get("to")) == normalize(opp.owner):
            out[opp.id] = {k: str(val) for k, val in moved.items()}
    for move in moves:
        if move.id:
            out[move.id] = moved_state(move, today)
    return out


class _LatestFollowUps:
    """The newest follow-up per opportunity ID, and per phone for follow-ups logged without an ID (built once)."""

    def __init__(self, followups: Sequence[FollowUp]) -> None:
        self.by_id: dict[str, FollowUp] = {}
        self.by_phone: dict[str, FollowUp] = {}
        for f in followups:
            if f.when is None:
                continue
            if f.opportunity_id:
                self._keep(self.by_id, f.opportunity_id, f)
            elif phone := phone_key(f.phone):
                self._keep(self.by_phone, phone, f)

    @staticmethod
    def _keep(table: dict[str, FollowUp], key: str, f: FollowUp) -> None:
        best = table.get(key)
        if best is None or (f.when, f.row) > (best.when, best.row):
            table[key] = f

    def of(self, opp: Opportunity) -> FollowUp | None:
        phone = phone_key(opp.cells.get("phone"))
        found = [f for f in (self.by_id.get(opp.id) if opp.id else None,
                             self.by_phone.get(phone) if phone else None) if f is not None]
        return max(found, key=lambda f: (f.when, f.row), default=None)


def move_reminders(opps: Sequence[Opportunity], moved: Mapping[str, Mapping[str, str]],
                   followups: Sequence[FollowUp], pipeline: Pipeline, today: date,
                   language: str = "en") -> list[Reminder]:
    """One reminder per inherited deal for its new owner (and, for a reclaim, one for the previous owner).

    A reminder lasts until the new owner logs a follow-up dated on or after the move, or REMINDER_DAYS.
    """
    out: list[Reminder] = []
    latest: _LatestFollowUps | None = None
    for opp in opps:
        info = moved.get(opp.id) if opp.id else None
        on = _day(info.get("on")) if info else None
        if info is None or on is None or today - on > timedelta(days=REMINDER_DAYS) or not _is_open(opp, pipeline):
            continue
        latest = latest or _LatestFollowUps(followups)
        last = latest.of(opp)
        if last is not None and last.when is not None and (
                last.when > on or (last.when == on and normalize(last.by) == normalize(opp.owner))):
            continue  # the new owner has picked it up
        stage = pipeline.find(opp.cells.get("stage"))
        stage_name = stage.name if stage is not None else opp.text("stage")
        if last is not None and last.when is not None:
            history = say("discipline.last_followup", language, day=last.when.isoformat(), summary=last.summary)
        else:
            history = say("discipline.no_followup", language)
        step = opp.text("next_step") or say("discipline.no_next_step", language)
        key = "discipline.inherited_reclaim" if info.get("why") == RECLAIM else "discipline.inherited"
        reason = say(key, language, name=info.get("from", ""), last=history, step=step)
        days = (today - on).days
        out.append(Reminder(on, owner_label(opp.owner, language), opp.id, opp.text("customer"), stage_name, reason,
                            days, HANDOVER_KIND))
        if info.get("why") == RECLAIM and info.get("from"):
            told = say("discipline.reclaimed_from_you", language, name=opp.owner)
            out.append(Reminder(on, info["from"], opp.id, opp.text("customer"), stage_name, told, days, HANDOVER_KIND))
    return out
