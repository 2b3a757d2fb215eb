"""Review figures from History: each deal's path through the stages, cohort conversion, time spent,
where lost deals were lost, results per period, forecast and the Trends row.

Pure functions of the opportunities, the History tab as read, the pipeline and an explicit day.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from .history import Entry
from .model import LOST, OPEN, WON, Opportunity, Pipeline, Stage

PERIODS = ("day", "week", "month")
"""How often a Trends row is taken."""


@dataclass(frozen=True)
class Stint:
    """A stay of one deal in one stage: from the day it entered to the day it left (None: still there)."""

    stage: Stage
    start: date | None
    end: date | None


@dataclass
class Path:
    """One deal's stints in order, as History tells them."""

    opp: Opportunity
    stints: list[Stint]

    @property
    def current(self) -> Stint | None:
        return self.stints[-1] if self.stints else None

    @property
    def closed_on(self) -> date | None:
        """The day the deal entered its current stage, when that stage is won or lost."""
        last = self.current
        if last is None or last.stage.is_open:
            return None
        return last.start

    def furthest(self, pipeline: Pipeline) -> int:
        """The order of the furthest stage reached other than a lost one (a lost deal reached at least the first)."""
        orders = [s.stage.order for s in self.stints if s.stage.outcome != LOST]
        return max(orders, default=pipeline.first.order)

    def lost_at(self) -> Stage | None:
        """The last open stage before the deal was lost, None when History does not tell."""
        for stint in reversed(self.stints[:-1]):
            if stint.stage.is_open:
                return stint.stage
        return None


def _day(entry: Entry) -> date | None:
    return entry.time.date() if entry.time is not None else None


def stage_moves(history: Iterable[Entry]) -> dict[str, list[Entry]]:
    """History's Stage changes per opportunity ID, oldest first (rows of one time keep their tab order)."""
    moves: dict[str, list[Entry]] = {}
    for entry in history:
        if entry.id and entry.key == "stage" and entry.time is not None:
            moves.setdefault(entry.id, []).append(entry)
    for entries in moves.values():
        entries.sort(key=lambda e: e.time)  # type: ignore[arg-type, return-value]
    return moves


def path_of(opp: Opportunity, moves: Sequence[Entry], pipeline: Pipeline) -> Path:
    """Rebuild a deal's stints from its Created day, its Stage changes and the stage it is in now."""
    current = pipeline.find(opp.cells.get("stage"))
    stage = pipeline.find(moves[0].old) if moves else current
    since = opp.date("created") or (_day(moves[0]) if moves else opp.date("stage_since"))
    stints: list[Stint] = []
    for move in moves:
        day = _day(move)
        if stage is not None:
            stints.append(Stint(stage, since, day))
        stage, since = pipeline.find(move.new), day
    if stage is not current and current is not None:
        # The sheet disagrees with History's last move (edited before tracking began): trust the sheet.
        if stage is not None:
            stints.append(Stint(stage, since, opp.date("stage_since")))
        stage, since = current, opp.date("stage_since")
    if stage is not None:
        stints.append(Stint(stage, since, None))
    return Path(opp, stints)


def paths(opps: Iterable[Opportunity], history: Iterable[Entry], pipeline: Pipeline) -> list[Path]:
    """The path of every opportunity in a known stage."""
    moves = stage_moves(history)
    out = []
    for opp in opps:
        path = path_of(opp, moves.get(opp.id, []) if opp.id else [], pipeline)
        if path.current is not None:
            out.append(path)
    return out


@dataclass(frozen=True)
class StageReview:
    """Cohort figures of one stage: deals that ever reached it, the share that went on, days spent there."""

    stage: Stage
    reached: int
    went_on: float | None
    average_days: float | None


def _next(pipeline: Pipeline, stage: Stage) -> Stage | None:
    later = [s for s in pipeline.stages if s.order > stage.order and s.outcome != LOST]
    return min(later, key=lambda s: s.order) if later else None


def stage_review(all_paths: Sequence[Path], pipeline: Pipeline) -> list[StageReview]:
    """Per stage: how many deals ever reached it (or a later stage), the share that reached the next one,
    and the average days a deal spent in it (completed stays only, summed per deal)."""
    furthest = [p.furthest(pipeline) for p in all_paths]
    out = []
    for stage in pipeline.stages:
        if stage.outcome == LOST:
            reached = sum(1 for p in all_paths if any(s.stage is stage for s in p.stints))
            out.append(StageReview(stage, reached, None, None))
            continue
        reached = sum(1 for f in furthest if f >= stage.order)
        following = _next(pipeline, stage) if stage.is_open else None
        went_on = None
        if following is not None and reached:
            went_on = sum(1 for f in furthest if f >= following.order) / reached
        out.append(StageReview(stage, reached, went_on, _average_days(all_paths, stage) if stage.is_open else None))
    return out


def _average_days(all_paths: Sequence[Path], stage: Stage) -> float | None:
    totals = []
    for path in all_paths:
        days = [(s.end - s.start).days for s in path.stints
                if s.stage is stage and s.start is not None and s.end is not None]
        if days:
            totals.append(sum(days))
    return sum(totals) / len(totals) if totals else None


@dataclass
class Losses:
    """Lost deals grouped by the last open stage they were in, with their amounts and reasons."""

    stage: Stage | None
    count: int = 0
    amount: Decimal = Decimal(0)
    reasons: Counter[str] = field(default_factory=Counter)


def losses_by_stage(all_paths: Sequence[Path], pipeline: Pipeline, no_reason: str) -> list[Losses]:
    """Where lost deals were lost: one group per open stage in pipeline order, then deals History can't place."""
    groups: dict[str | None, Losses] = {s.name: Losses(s) for s in pipeline.open_stages}
    unplaced = Losses(None)
    for path in all_paths:
        current = path.current
        if current is None or current.stage.outcome != LOST:
            continue
        at = path.lost_at()
        group = groups[at.name] if at is not None and at.name in groups else unplaced
        group.count += 1
        group.amount += amount(path.opp)
        group.reasons[path.opp.text("loss_reason") or no_reason] += 1
    return [*groups.values(), *([unplaced] if unplaced.count else [])]


def reasons_text(reasons: Counter[str], join: str) -> str:
    """'Price 2; Timing 1': most frequent first, then by name."""
    return join.join(f"{name} {n}" for name, n in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])))


def amount(opp: Opportunity) -> Decimal:
    """The deal's Amount, 0 when blank or unreadable."""
    return opp.amount or Decimal(0)


def month_start(day: date) -> date:
    return day.replace(day=1)


def quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def period_start(day: date, period: str) -> date:
    """The first day of the Trends period holding `day` (weeks start on Monday)."""
    if period == "day":
        return day
    if period == "month":
        return month_start(day)
    return day - timedelta(days=day.weekday())


@dataclass
class Results:
    """Closed deals of one owner or source in one period."""

    won: int = 0
    lost: int = 0
    won_amount: Decimal = Decimal(0)

    @property
    def win_rate(self) -> float | None:
        return self.won / (self.won + self.lost) if self.won + self.lost else None


def results(all_paths: Sequence[Path], group: Callable[[Opportunity], str], since: date,
            until: date) -> dict[str, Results]:
    """Won/lost counts and won amount per group, for deals closed in [since, until]."""
    out: dict[str, Results] = {}
    for path in all_paths:
        closed = path.closed_on
        if closed is None or not since <= closed <= until:
            continue
        r = out.setdefault(group(path.opp), Results())
        outcome = path.current.stage.outcome if path.current else OPEN
        if outcome == WON:
            r.won += 1
            r.won_amount += amount(path.opp)
        elif outcome == LOST:
            r.lost += 1
    return out


@dataclass
class Bucket:
    """Open deals expected to close in one month (or overdue, or undated)."""

    label: str
    count: int = 0
    amount: Decimal = Decimal(0)
    weighted: Decimal = Decimal(0)


def forecast(opps: Iterable[Opportunity], pipeline: Pipeline, today: date, overdue: str,
             undated: str) -> list[Bucket]:
    """Weighted open amount by expected-close month: closes already past first, then months, undated last."""
    buckets: dict[str, Bucket] = {}
    this_month = month_start(today)
    labels: dict[date, str] = {}
    weights: dict[str, Decimal] = {}
    for opp in opps:
        stage = pipeline.find(opp.cells.get("stage"))
        if stage is None or not stage.is_open:
            continue
        close = opp.date("expected_close")
        if close is None:
            label = undated
        elif close < this_month:
            label = overdue
        else:
            label = labels.get(close) or labels.setdefault(close, close.strftime("%Y-%m"))
        bucket = buckets.get(label)
        if bucket is None:
            bucket = buckets[label] = Bucket(label)
        weight = weights.get(stage.name)
        if weight is None:
            weight = weights[stage.name] = Decimal(str(stage.probability))
        deal = amount(opp)
        bucket.count += 1
        bucket.amount += deal
        bucket.weighted += deal * weight
    months = sorted(k for k in buckets if k not in (overdue, undated))
    order = ([overdue] if overdue in buckets else []) + months + ([undated] if undated in buckets else [])
    return [buckets[k] for k in order]


def stage_totals(opps: Iterable[Opportunity], pipeline: Pipeline) -> Mapping[str, tuple[int, Decimal]]:
    """Count and amount of today's deals per stage name."""
    out: dict[str, tuple[int, Decimal]] = {s.name: (0, Decimal(0)) for s in pipeline.stages}
    for opp in opps:
        stage = pipeline.find(opp.cells.get("stage"))
        if stage is not None:
            n, total = out[stage.name]
            out[stage.name] = (n + 1, total + amount(opp))
    return out
