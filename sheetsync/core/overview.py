"""What the status page shows, as a pure function of a snapshot, the queue's and the worker's stats, and `now`.

No I/O here: the web view reads the store, the queue and the state database, then calls `build_overview`.
The funnel counts and amounts are computed the way the Summary tab computes them, so both always agree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ..ports import Snapshot
from . import values as v
from .model import LOST, OPEN, WON, Opportunity, Stage
from .remind import owner_label
from .schema import LayoutError, normalize
from .workbook import read_workbook

PAGE_TABS = ("opportunities", "followups", "team", "rules", "stages")
"""Tabs the status page reads."""
MAX_OVERDUE = 50
"""Overdue follow-ups listed on the page, most overdue first."""


@dataclass(frozen=True)
class StageRow:
    """One stage of the funnel: how many deals and how much money sit in it."""

    name: str
    count: int
    amount: Decimal
    outcome: str


@dataclass(frozen=True)
class OwnerRow:
    """One person's open deals, overdue follow-ups and wins this month against their monthly target."""

    name: str
    open: int
    open_amount: Decimal
    overdue: int
    won_month: Decimal
    won_month_count: int
    target: Decimal | None

    @property
    def target_share(self) -> float | None:
        """Won this month as a share of the target (None without a target)."""
        return float(self.won_month / self.target) if self.target else None


@dataclass(frozen=True)
class OverdueItem:
    """An open deal whose planned follow-up is in the past."""

    id: str
    customer: str
    owner: str
    stage: str
    due: date
    days: int


@dataclass(frozen=True)
class AttentionItem:
    """A form submission the queue set aside, with the reason in plain words."""

    key: str
    what: str
    reason: str
    since: str


@dataclass(frozen=True)
class Activity:
    """The last run of a job: when, what it did, and the last error (and whether a later run succeeded)."""

    at: datetime | None
    result: str | None
    error: str | None
    error_at: datetime | None

    @property
    def error_is_current(self) -> bool:
        """The last error happened after the last success (or there was no success yet)."""
        if not self.error:
            return False
        return self.at is None or self.error_at is None or self.error_at >= self.at


@dataclass(frozen=True)
class QueueView:
    """The intake queue: depth, age of the oldest waiting submission, and those needing attention."""

    depth: int
    oldest_seconds: float | None
    retrying: int
    attention: tuple[AttentionItem, ...]
    attention_total: int


@dataclass(frozen=True)
class Overview:
    """Everything the status page shows, already counted and sorted."""

    language: str
    now: datetime
    funnel: tuple[StageRow, ...] = ()
    owners: tuple[OwnerRow, ...] = ()
    overdue: tuple[OverdueItem, ...] = ()
    overdue_total: int = 0
    has_targets: bool = False
    queue: QueueView = QueueView(0, None, 0, (), 0)
    sync: Activity = Activity(None, None, None, None)
    flush: Activity = Activity(None, None, None, None)
    worker: Mapping[str, Any] = field(default_factory=dict)
    problem: str | None = None
    """Why the sheet could not be read, in plain words (the rest of the page still shows)."""

    @property
    def open_stages(self) -> tuple[StageRow, ...]:
        return tuple(s for s in self.funnel if s.outcome == OPEN)

    @property
    def closed_stages(self) -> tuple[StageRow, ...]:
        return tuple(s for s in self.funnel if s.outcome != OPEN)

    @property
    def open_total(self) -> tuple[int, Decimal]:
        rows = self.open_stages
        return sum(s.count for s in rows), sum((s.amount for s in rows), Decimal(0))


def _when(value: object) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def _amount(opp: Opportunity) -> Decimal:
    return opp.amount or Decimal(0)


def _funnel(opps: Sequence[Opportunity], stages: Sequence[Stage], found: Mapping[int, Stage | None],
            unknown_label: str) -> list[StageRow]:
    rows = []
    for stage in stages:
        members = [o for o in opps if found[o.row] is stage]
        rows.append(StageRow(stage.name, len(members), sum((_amount(o) for o in members), Decimal(0)), stage.outcome))
    unknown = [o for o in opps if found[o.row] is None]
    if unknown:
        rows.append(StageRow(unknown_label, len(unknown), sum((_amount(o) for o in unknown), Decimal(0)), OPEN))
    return rows


def _won_on(opp: Opportunity) -> date | None:
    return opp.date("stage_since") or opp.date("updated")


def _targets(snapshot: Snapshot, team_map: Any) -> dict[str, Decimal]:
    if "target" not in team_map.index:
        return {}
    found: dict[str, Decimal] = {}
    for row in snapshot.tabs["team"].rows[1:]:
        name = v.text(team_map.get(row, "name"))
        try:
            target = v.parse_amount(team_map.get(row, "target"))
        except v.ValueProblem:
            target = None
        if name and target:
            found[normalize(name)] = target
    return found


def _owners(opps: Sequence[Opportunity], found: Mapping[int, Stage | None], team_names: Sequence[str],
            targets: Mapping[str, Decimal], overdue: Sequence[OverdueItem], today: date,
            language: str) -> list[OwnerRow]:
    labels: dict[str, str] = {}
    for name in team_names:
        labels.setdefault(normalize(name), name)
    for name in sorted({owner_label(o.owner, language) for o in opps}, key=normalize):
        labels.setdefault(normalize(name), name)
    rows = []
    for key, name in labels.items():
        mine = [o for o in opps if normalize(owner_label(o.owner, language)) == key]
        open_ = [o for o in mine if (s := found[o.row]) is not None and s.outcome == OPEN]
        won = [o for o in mine if (s := found[o.row]) is not None and s.outcome == WON
               and (d := _won_on(o)) is not None and (d.year, d.month) == (today.year, today.month)]
        rows.append(OwnerRow(name, len(open_), sum((_amount(o) for o in open_), Decimal(0)),
                             sum(1 for item in overdue if normalize(item.owner) == key),
                             sum((_amount(o) for o in won), Decimal(0)), len(won), targets.get(key)))
    return rows


def _overdue(opps: Sequence[Opportunity], found: Mapping[int, Stage | None], today: date,
             language: str) -> list[OverdueItem]:
    items = []
    for opp in opps:
        stage = found[opp.row]
        due = opp.date("next_follow_up")
        if stage is None or not stage.is_open or due is None or due >= today:
            continue
        items.append(OverdueItem(opp.id, opp.text("customer"), owner_label(opp.owner, language), stage.name, due,
                                 (today - due).days))
    items.sort(key=lambda i: (-i.days, i.owner, i.id))
    return items


def _queue(stats: Mapping[str, Any], attention: Sequence[Mapping[str, Any]]) -> QueueView:
    items = []
    for item in attention[:20]:
        fields = item.get("fields") or {}
        what = " · ".join(str(fields[k]) for k in ("customer", "contact", "phone") if fields.get(k)) \
            or str(item.get("opportunity_id") or item.get("source") or "")
        items.append(AttentionItem(str(item.get("key", "")), what, str(item.get("last_error") or ""),
                                   str(item.get("attention_at") or item.get("received") or "")))
    return QueueView(int(stats.get("depth") or 0), stats.get("oldest_pending_age_seconds"),
                     int(stats.get("retrying") or 0), tuple(items), len(attention))


def build_overview(snapshot: Snapshot | None, *, now: datetime, today: date, language: str,
                   queue_stats: Mapping[str, Any], attention: Sequence[Mapping[str, Any]] = (),
                   worker: Mapping[str, Any] | None = None, unknown_label: str = "?",
                   problem: str | None = None) -> Overview:
    """Count the funnel, owners, overdue follow-ups and queue for the status page; `today` is the team's date.

    `snapshot` is None when the sheet could not be read; `problem` then says why, and the page shows the
    queue and the worker alone. A LayoutError while reading the tabs becomes the problem the same way.
    """
    worker = dict(worker or {})
    last_sync = worker.get("last_sync") or {}
    sync = Activity(_when(last_sync.get("at")), last_sync.get("result"), last_sync.get("error"),
                    _when(last_sync.get("error_at")))
    flush = Activity(_when(queue_stats.get("last_flush_at")), queue_stats.get("last_flush_result"),
                     queue_stats.get("last_error"), _when(queue_stats.get("last_error_at")))
    base = Overview(language, now, queue=_queue(queue_stats, attention), sync=sync, flush=flush, worker=worker,
                    problem=problem)
    if snapshot is None:
        return base
    try:
        wb = read_workbook(snapshot, language, PAGE_TABS)
    except LayoutError as exc:
        return replace(base, problem=str(exc))
    opps = wb.opportunities
    found = {o.row: wb.pipeline.find(o.cells.get("stage")) for o in opps}
    overdue = _overdue(opps, found, today, language)
    targets = _targets(snapshot, wb.maps["team"])
    owners = _owners(opps, found, [r.name for r in wb.team], targets, overdue, today, language)
    return replace(base, funnel=tuple(_funnel(opps, wb.pipeline.stages, found, unknown_label)),
                   owners=tuple(owners), overdue=tuple(overdue[:MAX_OVERDUE]), overdue_total=len(overdue),
                   has_targets="target" in wb.maps["team"].index)


def won_lost(overview: Overview) -> tuple[StageRow | None, StageRow | None]:
    """The won and the lost stage rows (the first of each), shown apart from the open funnel."""
    won = next((s for s in overview.funnel if s.outcome == WON), None)
    lost = next((s for s in overview.funnel if s.outcome == LOST), None)
    return won, lost


def age_text(seconds: float | None) -> tuple[int, str]:
    """Split an age into a number and a unit key (s, min, h, d) for the catalogue."""
    if seconds is None:
        return 0, "none"
    if seconds < 90:
        return int(seconds), "s"
    if seconds < 90 * 60:
        return int(seconds // 60), "min"
    if seconds < 36 * 3600:
        return int(seconds // 3600), "h"
    return int(seconds // 86400), "d"


def since(moment: datetime | None, now: datetime) -> float | None:
    """Seconds from `moment` to `now` (both aware), None without a moment."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        return None
    return max(0.0, (now - moment).total_seconds())

