"""One sync cycle as a pure function: a snapshot and last cycle's state in, one write batch out."""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ..messages import say
from ..ports import Cell, CellWrite, Guard, Snapshot, WriteBatch
from . import values as v
from .approvals import awaiting_notes, skipped_gates, skipped_problem, to_managers
from .assign import Assignment, assign
from .attention import SetAside, attention_reminders
from .customers import plan_customers
from .duplicates import DuplicateIndex, duplicate_note, routable_owner
from .habits import AUTO, calendar_for
from .handover import HANDOVER, Move, carry_moves, check_handover, move_reminders, plan_moves
from .history import changes, handover_origin, reclaim_origin, seen_values, tracked_keys
from .model import Opportunity, phone_key
from .policy import Policy
from .remind import Reminder, propose_follow_ups, reminders
from .review import paths
from .safety import check_reassignment
from .summary import build_summary, new_entries
from .trends import trends_row
from .validate import status_text, validate
from .workbook import Workbook, read_workbook

NewId = Callable[[Collection[str]], str]
"""Makes an opportunity ID not in the given collection."""


@dataclass
class Report:
    """What a cycle did, in numbers, for the CLI and /api/status."""

    rows: int = 0
    ids: int = 0
    owners: int = 0
    last_contacts: int = 0
    proposals: int = 0
    problems: int = 0
    reminders: int = 0
    history: int = 0
    cells: int = 0
    handed_over: int = 0
    reclaimed: int = 0
    unchanged: bool = False
    """The cycle read the same contents as the last one that wrote nothing, so it planned nothing."""

    def line(self, language: str = "en") -> str:
        """Say what the cycle did in one line, in the workbook's language."""
        text = say("plan.report", language, rows=self.rows, ids=self.ids, owners=self.owners,
                   last_contacts=self.last_contacts, proposals=self.proposals, problems=self.problems,
                   reminders=self.reminders, history=self.history)
        if self.handed_over or self.reclaimed:
            text += say("plan.report_join", language) + say("discipline.report_moves", language,
                                                             handed=self.handed_over, reclaimed=self.reclaimed)
        if self.unchanged:
            text += say("plan.report_unchanged", language)
        return text


@dataclass
class Plan:
    """The batch to write and the state to keep once the write succeeded."""

    batch: WriteBatch
    cursors: dict[str, Any]
    seen: dict[str, dict[str, Any]]
    report: Report
    workbook: Workbook | None = None
    """The workbook as planned (cells updated with what the batch writes), for digests and previews."""
    reminders: list[Reminder] = field(default_factory=list)
    """Everything due today or earlier, as written to Reminders."""
    moves: list[Move] = field(default_factory=list)
    """Deals this cycle hands over or reclaims (what `sheetsync handover --dry-run` prints)."""
    fingerprint: str | None = None
    """The fingerprint of the snapshot this plan was made from (see Snapshot.fingerprint)."""
    recalled: bool = False
    """True when no planning ran: the contents equal those of a cycle that planned nothing (see sync.Syncer)."""


@dataclass
class _Writer:
    """Collects cell writes on Opportunities with the guards that keep them on the right row."""

    wb: Workbook
    batch: WriteBatch = field(default_factory=WriteBatch)
    written: dict[int, dict[str, str]] = field(default_factory=dict)
    """Columns written per sheet row, each with the origin History gives the change ("" = the sync)."""
    _guarded: set[tuple[int, int]] = field(default_factory=set)

    def guard(self, opp: Opportunity, key: str) -> None:
        col = self.wb.col("opportunities", key)
        if (opp.row, col) not in self._guarded:
            self._guarded.add((opp.row, col))
            self.batch.guards.append(Guard("opportunities", opp.row, col, opp.cells.get(key)))

    def set(self, opp: Opportunity, key: str, value: Cell, *, fill: bool = False, origin: str = "") -> None:
        """Write one cell; a fill also guards the blank it fills so a person's typing wins.

        `origin` is what History names as the source of the change (see history.handover_origin);
        blank means the sync. Columns the workbook lacks (optional system columns) are skipped.
        """
        if opp.text(key) == v.text(value) or not self.wb.has("opportunities", key):
            return
        self.guard(opp, "id")
        if not opp.id:
            for anchor in ("customer", "contact"):
                self.guard(opp, anchor)
        if fill:
            self.guard(opp, key)
        self.batch.cells.append(CellWrite("opportunities", opp.row, self.wb.col("opportunities", key), value))
        opp.cells[key] = value
        self.written.setdefault(opp.row, {})[key] = origin


def _is_open(wb: Workbook, opp: Opportunity) -> bool:
    stage = wb.pipeline.find(opp.cells.get("stage"))
    return stage is None or stage.is_open


def _newest_contacts(wb: Workbook) -> tuple[dict[str, date], dict[str, date]]:
    by_id: dict[str, date] = {}
    by_phone: dict[str, date] = {}
    for f in wb.followups:
        if f.when is None:
            continue
        if f.opportunity_id:
            by_id[f.opportunity_id] = max(f.when, by_id.get(f.opportunity_id, f.when))
        elif phone_key(f.phone):
            key = phone_key(f.phone)
            by_phone[key] = max(f.when, by_phone.get(key, f.when))
    return by_id, by_phone


def fill_ids(w: _Writer, new_id: NewId, now: datetime) -> int:
    """Give every row without an ID a fresh one and a Created time."""
    taken = {o.id for o in w.wb.opportunities if o.id}
    count = 0
    for opp in w.wb.opportunities:
        if opp.id:
            continue
        ident = new_id(taken)
        taken.add(ident)
        w.set(opp, "id", ident, fill=True)
        if opp.blank("created"):
            w.set(opp, "created", now, fill=True)
        count += 1
    return count


def fill_last_contacts(w: _Writer) -> int:
    """Carry the newest Follow-ups date into Last contact when it is later than the cell."""
    by_id, by_phone = _newest_contacts(w.wb)
    count = 0
    for opp in w.wb.opportunities:
        newest = by_id.get(opp.id) or by_phone.get(phone_key(opp.text("phone")) or "\0")
        current = opp.date("last_contact")
        if newest and (current is None or newest > current):
            w.set(opp, "last_contact", newest, fill=current is None)
            count += 1
    return count


def mark_stage_since(w: _Writer, seen: Mapping[str, Mapping[str, Any]], today: date) -> dict[int, date | None]:
    """Date each row entered its stage: today when the stage changed since last cycle, else as written."""
    stage_since: dict[int, date | None] = {}
    for opp in w.wb.opportunities:
        before = seen.get(opp.id)
        moved = before is not None and before.get("stage") != opp.text("stage")
        since = opp.date("stage_since")
        if moved or since is None:
            since = today if (moved or not opp.date("created")) else opp.date("created")
            w.set(opp, "stage_since", since)
        stage_since[opp.row] = since
        stage = w.wb.pipeline.find(opp.cells.get("stage"))
        live = stage is not None and stage.is_open and since is not None
        w.set(opp, "days_in_stage", max((today - since).days, 0) if live and since else None)
    return stage_since


def check_rows(w: _Writer, labels: Mapping[str, str], unassigned: Mapping[int, str],
               today: date, notes: Mapping[int, Sequence[str]] | None = None) -> dict[int, list[str]]:
    """Validate every row, write its Status (problems, then notes), and return the problems by sheet row.

    Notes (a possible duplicate, an approval awaited) show in Status but raise no "Fix:" reminder.
    """
    first_row: dict[str, int] = {}
    problems: dict[int, list[str]] = {}
    for opp in w.wb.opportunities:
        duplicate = first_row.get(opp.id) if opp.id else None
        first_row.setdefault(opp.id, opp.row)
        found = validate(opp, w.wb.pipeline, labels, w.wb.language, duplicate_row=duplicate, today=today)
        if opp.row in unassigned:
            found.append(unassigned[opp.row])
        problems[opp.row] = found
        w.set(opp, "status", status_text([*found, *(notes or {}).get(opp.row, ())], w.wb.language))
    return problems


def find_duplicates(wb: Workbook, policy: Policy, today: date) -> dict[int, Any]:
    """撞单: each open row that repeats an earlier protected opportunity's customer, by sheet row."""
    index = DuplicateIndex(wb.opportunities, wb.pipeline, today, region=policy.phone_region,
                           protect_days=policy.duplicate_protection_days)
    found = {}
    for opp in wb.opportunities:
        if _is_open(wb, opp):
            match = index.find(opp)
            if match is not None:
                found[opp.row] = match
    return found


def plan_sync(snapshot: Snapshot, *, language: str, now: datetime, cursors: Mapping[str, Any],
              seen: Mapping[str, Mapping[str, Any]], new_id: NewId, history_exclude: Sequence[str] = (),
              attention: Sequence[SetAside] = (), policy: Policy | None = None,
              reassign_share: float | None = None, workdays: str = AUTO, trend_period: str = "week") -> Plan:
    """Plan one cycle; `now` is naive wall time in the team's timezone.

    `history_exclude` names Opportunities columns History does not log (header names or keys).
    `attention` lists intake items set aside as needing attention; they become Reminders rows for the manager.
    `policy` holds the discipline settings (duplicates, handover, reclaim).
    `reassign_share` stops the cycle (ReassignRefused) before it assigns owners again to more than that share
    of the deals that had an owner at the last sync.
    `workdays` is the calendar proposed follow-ups land on (habits.CALENDARS, or "auto" by language);
    `trend_period` is how often Trends gets a row (review.PERIODS).
    """
    with _collector_paused():
        return _plan(snapshot, language, now, cursors, seen, new_id, history_exclude, attention,
                     policy or Policy(), reassign_share, workdays, trend_period)


_pause = threading.Lock()
_pausing = 0
_resume = False


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Hold Python's cycle collector while planning: a cycle builds many short-lived objects, none of them
    in reference cycles, and each full collection would walk every cell of the snapshot again.
    Nested and concurrent plans share one pause; the collector resumes only if it ran before the first."""
    global _pausing, _resume
    with _pause:
        if _pausing == 0:
            _resume = gc.isenabled()
            gc.disable()
        _pausing += 1
    try:
        yield
    finally:
        with _pause:
            _pausing -= 1
            if _pausing == 0 and _resume:
                gc.enable()


def _plan(snapshot: Snapshot, language: str, now: datetime, cursors: Mapping[str, Any],
          seen: Mapping[str, Mapping[str, Any]], new_id: NewId, history_exclude: Sequence[str],
          attention: Sequence[SetAside], policy: Policy, reassign_share: float | None, workdays: str,
          trend_period: str) -> Plan:
    wb = read_workbook(snapshot, language)
    if policy.handover_from:
        check_handover(wb.team, policy.handover_from, policy.handover_to)
    today = now.date()
    w = _Writer(wb)
    report = Report(rows=len(wb.opportunities))
    report.ids = fill_ids(w, new_id, now)
    report.last_contacts = fill_last_contacts(w)
    notes: dict[int, list[str]] = {}

    duplicates = find_duplicates(wb, policy, today)
    for row, match in duplicates.items():
        notes.setdefault(row, []).append(duplicate_note(match, language))
    pending = [o for o in wb.opportunities if o.blank("owner") and _is_open(wb, o)]
    routed = []
    for opp in pending:
        owner = routable_owner(duplicates[opp.row], wb.team) if opp.row in duplicates else ""
        if owner:
            routed.append(Assignment(opp.row, owner, say("discipline.routed", language,
                                                         id=duplicates[opp.row].original.id)))
    routed_rows = {a.row for a in routed}
    pending = [o for o in pending if o.row not in routed_rows]
    assignments, unassigned, new_cursors = assign(pending, wb.opportunities, wb.team, wb.rules, wb.pipeline,
                                                  cursors, today, language)
    assignments = routed + assignments
    by_row = {o.row: o for o in wb.opportunities}
    check_reassignment([by_row[a.row].id for a in assignments], seen, reassign_share, language)
    for a in assignments:
        w.set(by_row[a.row], "owner", a.owner, fill=True)
        w.set(by_row[a.row], "assigned_by", a.rule)
    report.owners = len(assignments)

    moved = plan_moves(wb.opportunities, wb.team, wb.rules, wb.pipeline, new_cursors, today, seen,
                       handover_from=policy.handover_from, handover_to=policy.handover_to,
                       reclaim_to=policy.reclaim_to, language=language)
    new_cursors = moved.cursors
    for m in moved.moves:
        opp = by_row[m.row]
        w.guard(opp, "owner")  # a person who retypes the Owner meanwhile wins: the cycle re-plans
        origin = handover_origin(m.previous, language) if m.why == HANDOVER else reclaim_origin(language)
        w.set(opp, "owner", m.owner, origin=origin)
        w.set(opp, "assigned_by", m.rule)
    report.handed_over = sum(1 for m in moved.moves if m.why == HANDOVER)
    report.reclaimed = len(moved.moves) - report.handed_over
    stuck = {u.row: u.reason for u in unassigned} | moved.stuck

    stage_since = mark_stage_since(w, seen, today)
    proposals = propose_follow_ups(wb.opportunities, wb.pipeline, today, calendar_for(workdays, language))
    for row, day in proposals.items():
        w.set(by_row[row], "next_follow_up", day, fill=True)
    report.proposals = len(proposals)

    customers = plan_customers(wb, stage_since, today)
    for row, note in customers.notes.items():
        notes.setdefault(row, []).append(note)
    for row, note in awaiting_notes(wb.opportunities, wb.pipeline, wb.team, language).items():
        notes.setdefault(row, []).append(note)
    skipped = skipped_gates(wb.opportunities, wb.pipeline, seen)
    for opp in wb.opportunities:
        if opp.id in skipped:
            problem = skipped_problem(skipped[opp.id], opp, wb.team, language)
            stuck[opp.row] = f"{stuck[opp.row]}; {problem}" if opp.row in stuck else problem
    w.batch.cells.extend(customers.cells)
    w.batch.guards.extend(customers.guards)
    if customers.appends:
        w.batch.appends["customers"] = customers.appends

    labels = wb.labels()
    problems = check_rows(w, labels, stuck, today, notes)
    report.problems = sum(1 for p in problems.values() if p)

    due = reminders(wb.opportunities, wb.pipeline, today, proposals=proposals, problems=problems,
                    stage_since=stage_since, language=language)
    due += attention_reminders(attention, wb.team, today, language)
    carried = carry_moves(wb.opportunities, seen, moved.moves, wb.followups, today)
    due += move_reminders(wb.opportunities, carried, wb.followups, wb.pipeline, today, language)
    due = to_managers(due, wb.opportunities, wb.team, language)
    report.reminders = len(due)
    w.batch.replace["reminders"] = wb.rows_of("reminders", [r.row() for r in due])

    keys = tracked_keys(wb.opportunities, history_exclude)
    states = {opp.row: seen_values(opp, keys) for opp in wb.opportunities if opp.id}
    history = changes(seen, wb.opportunities, now, w.written, labels, language, keys=keys, logged=wb.history,
                      current=states)
    new_seen = _next_seen(wb, states)
    for opp_id, info in carried.items():
        if opp_id in new_seen:
            new_seen[opp_id]["_moved"] = info
    for opp_id, gate in skipped.items():
        if opp_id in new_seen:
            new_seen[opp_id]["_skipped"] = gate
    reviewed = [*wb.history, *new_entries(history)]
    reviewed_paths = paths(wb.opportunities, reviewed, wb.pipeline)
    grid = build_summary(wb.opportunities, wb.pipeline, wb.team, due, now, language, all_paths=reviewed_paths)
    shown = snapshot.tabs.get("summary")
    if shown is not None:
        keep_unchanged_stamp(shown.rows, grid.rows)
    trend = trends_row(wb.trends, wb.maps.get("trends"), wb.opportunities, wb.pipeline,
                       reviewed_paths, now, trend_period, language)
    w.batch.cells.extend(trend.header)
    if trend.rows:
        w.batch.appends["trends"] = trend.rows
    w.batch.replace["summary"] = grid.rows
    w.batch.charts.extend(grid.charts)
    w.batch.formats.update({("summary", row, col): kind for (row, col), kind in grid.formats.items()})

    for opp in wb.opportunities:
        if opp.id and (opp.id not in seen or seen[opp.id].get("_fp") != new_seen[opp.id]["_fp"]):
            w.set(opp, "updated", now)
    if history:
        w.batch.appends["history"] = wb.rows_of("history", history)
    report.history = len(history)
    report.cells = len(w.batch.cells)
    return Plan(w.batch, new_cursors, new_seen, report, wb, due, moved.moves, snapshot.fingerprint)


STAMP_ROW = 1
"""Index of the Summary's "Last updated" line in its rows."""


def _same_cell(a: Cell, b: Cell) -> bool:
    numbers = (int, float, Decimal)
    if isinstance(a, numbers) and isinstance(b, numbers) and not isinstance(a, bool) and not isinstance(b, bool):
        return abs(float(a) - float(b)) <= 1e-9 * max(1.0, abs(float(a)))
    return v.text(a) == v.text(b)


def _same_row(a: Sequence[Cell], b: Sequence[Cell]) -> bool:
    width = max(len(a), len(b))
    return all(_same_cell(a[i] if i < len(a) else None, b[i] if i < len(b) else None) for i in range(width))


def keep_unchanged_stamp(shown: Sequence[Sequence[Cell]], rebuilt: list[list[Cell]]) -> bool:
    """Keep the Summary's "Last updated" line when nothing else on it changed, so an idle cycle writes nothing."""
    if len(rebuilt) <= STAMP_ROW or len(shown) <= STAMP_ROW:
        return False
    blank: list[Cell] = [None]
    longest = max(len(shown), len(rebuilt))
    for i in range(longest):
        if i != STAMP_ROW and not _same_row(shown[i] if i < len(shown) else blank,
                                            rebuilt[i] if i < len(rebuilt) else blank):
            return False
    rebuilt[STAMP_ROW] = list(shown[STAMP_ROW])
    return True


def _next_seen(wb: Workbook, states: Mapping[int, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """What the next cycle compares against, per ID (the first row of an ID that repeats)."""
    out: dict[str, dict[str, Any]] = {}
    for opp in wb.opportunities:
        if not opp.id or opp.id in out:
            continue
        out[opp.id] = states[opp.row]
    return out
