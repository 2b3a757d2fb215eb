"""Lay out the Summary tab: funnel by stage, win rate, open pipeline, owners, sources and loss reasons."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from ..ports import Cell, ChartSpec
from .model import LOST, OPEN, WON, Opportunity, Pipeline, Rep, Stage
from .remind import Reminder, owner_label
from .schema import SUMMARY, normalize

FUNNEL_FIRST_ROW = 6
"""Sheet row of the first stage in the funnel table (title, updated, spacer, section title, header above)."""
TABLE_WIDTH = 5
"""Columns the widest table uses; the chart sits one blank column to their right."""
PERCENT, AMOUNT = "percent", "amount"

_TEXT = {
    "en": {
        "title": "Pipeline summary", "updated": "Last updated {now}",
        "funnel": "Funnel by stage",
        "funnel_head": ["Stage", "Count", "Amount", "Weighted amount", "Reaching next stage"],
        "unknown": "(unknown stage)",
        "win_rate": "Win rate (won / (won + lost))",
        "open": "Open pipeline", "open_weighted": "Open pipeline (weighted)",
        "owners": "By owner",
        "owners_head": ["Owner", "Open deals", "Open amount", "Won amount", "Overdue follow-ups"],
        "sources": "By source", "sources_head": ["Source", "Count", "Won", "Amount"],
        "no_source": "(no source)",
        "losses": "Loss reasons", "losses_head": ["Reason", "Count"], "no_reason": "(no reason)",
        "series": "Count",
    },
    "zh": {
        "title": "商机汇总", "updated": "更新时间 {now}",
        "funnel": "阶段漏斗",
        "funnel_head": ["阶段", "数量", "金额", "加权金额", "进入下一阶段比例"],
        "unknown": "（未知阶段）",
        "win_rate": "赢单率（赢单 /（赢单 + 输单））",
        "open": "在手商机金额", "open_weighted": "在手商机加权金额",
        "owners": "按负责人",
        "owners_head": ["负责人", "在手数量", "在手金额", "成交金额", "逾期跟进"],
        "sources": "按来源", "sources_head": ["来源", "数量", "成交数", "金额"],
        "no_source": "（未填来源）",
        "losses": "流失原因", "losses_head": ["原因", "数量"], "no_reason": "（未填原因）",
        "series": "数量",
    },
}


@dataclass(frozen=True)
class SummaryGrid:
    """The whole Summary tab from row 1, plus its funnel chart and which cells hold percents or money."""

    rows: list[list[Cell]]
    chart: ChartSpec
    formats: dict[tuple[int, int], str] = field(default_factory=dict)
    """Number format per cell, keyed by (1-based row, 0-based column): PERCENT or AMOUNT."""


class _Grid:
    """Collect rows and remember which cells need a number format."""

    def __init__(self) -> None:
        self.rows: list[list[Cell]] = []
        self.formats: dict[tuple[int, int], str] = {}

    def add(self, cells: Sequence[Cell] = (), *, amounts: Sequence[int] = (), percents: Sequence[int] = ()) -> int:
        """Append a row and return its 1-based sheet row number."""
        self.rows.append(list(cells))
        row = len(self.rows)
        for col in amounts:
            self.formats[(row, col)] = AMOUNT
        for col in percents:
            self.formats[(row, col)] = PERCENT
        return row


def build_summary(opps: Sequence[Opportunity], pipeline: Pipeline, team: Sequence[Rep],
                  reminders: Sequence[Reminder], now: datetime, language: str = "en", *,
                  furthest: Mapping[str, int] | None = None) -> SummaryGrid:
    """Build the Summary tab's rows and funnel chart from the opportunities, team and reminders."""
    words = _TEXT.get(language, _TEXT["en"])
    staged = [(opp, pipeline.find(opp.cells.get("stage"))) for opp in opps]
    grid = _Grid()
    grid.add([str(words["title"])])
    grid.add([str(words["updated"]).format(now=now.strftime("%Y-%m-%d %H:%M"))])
    grid.add()
    grid.add([str(words["funnel"])])
    grid.add(words["funnel_head"])
    first = _funnel(grid, staged, pipeline, furthest or {}, words)
    last = first + len(pipeline.stages) - 1
    grid.add()
    _totals(grid, staged, words)
    grid.add()
    _owners(grid, staged, team, reminders, language, words)
    grid.add()
    _sources(grid, staged, words)
    grid.add()
    _losses(grid, staged, words)
    chart = ChartSpec(tab=SUMMARY.key, title=str(words["funnel"]), first_row=first, last_row=last, category_col=0,
                      value_col=1, anchor_row=first - 2, anchor_col=TABLE_WIDTH + 1,
                      series_title=str(words["series"]))
    return SummaryGrid(grid.rows, chart, grid.formats)


def _amount(opp: Opportunity) -> Decimal:
    return opp.amount or Decimal(0)


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _funnel(grid: _Grid, staged: Sequence[tuple[Opportunity, Stage | None]], pipeline: Pipeline,
            furthest: Mapping[str, int], words: Mapping) -> int:
    reached_orders = [_furthest_order(opp, stage, pipeline, furthest) for opp, stage in staged if stage]
    first_row = len(grid.rows) + 1
    for i, stage in enumerate(pipeline.stages):
        members = [opp for opp, s in staged if s is stage]
        amount = sum((_amount(o) for o in members), Decimal(0))
        weighted = amount * Decimal(str(stage.probability))
        share = None
        following = _next_stage(pipeline, i)
        if stage.is_open and following is not None:
            reached = sum(1 for order in reached_orders if order >= stage.order)
            share = _share(sum(1 for order in reached_orders if order >= following.order), reached)
        grid.add([stage.name, len(members), float(amount), float(weighted), share],
                 amounts=(2, 3), percents=(4,))
    unknown = [opp for opp, s in staged if s is None]
    if unknown:
        grid.add([words["unknown"], len(unknown), float(sum((_amount(o) for o in unknown), Decimal(0)))],
                 amounts=(2,))
    return first_row


def _next_stage(pipeline: Pipeline, index: int) -> Stage | None:
    for stage in pipeline.stages[index + 1:]:
        if stage.outcome != LOST:
            return stage
    return None


def _furthest_order(opp: Opportunity, stage: Stage, pipeline: Pipeline, furthest: Mapping[str, int]) -> int:
    known = furthest.get(opp.id) if opp.id else None
    if stage.outcome != LOST:
        return stage.order if known is None else max(known, stage.order)
    if known is None:
        return pipeline.first.order
    # A lost deal never reached a won (or lost) stage, whatever the history says.
    ceiling = max((s.order for s in pipeline.open_stages), default=pipeline.first.order)
    return min(known, ceiling)


def _totals(grid: _Grid, staged: Sequence[tuple[Opportunity, Stage | None]], words: Mapping) -> None:
    won = sum(1 for _, s in staged if s is not None and s.outcome == WON)
    lost = sum(1 for _, s in staged if s is not None and s.outcome == LOST)
    open_amount = open_weighted = Decimal(0)
    for opp, stage in staged:
        if stage is not None and stage.outcome == OPEN:
            open_amount += _amount(opp)
            open_weighted += _amount(opp) * Decimal(str(stage.probability))
    grid.add([words["win_rate"], _share(won, won + lost)], percents=(1,))
    grid.add([words["open"], float(open_amount)], amounts=(1,))
    grid.add([words["open_weighted"], float(open_weighted)], amounts=(1,))


def _owners(grid: _Grid, staged: Sequence[tuple[Opportunity, Stage | None]], team: Sequence[Rep],
            reminders: Sequence[Reminder], language: str, words: Mapping) -> None:
    labels: dict[str, str] = {}
    for rep in team:
        labels.setdefault(normalize(rep.name), rep.name)
    for name in sorted({owner_label(opp.owner, language) for opp, _ in staged}, key=normalize):
        labels.setdefault(normalize(name), name)
    open_count: Counter[str] = Counter()
    open_amount: dict[str, Decimal] = {key: Decimal(0) for key in labels}
    won_amount: dict[str, Decimal] = {key: Decimal(0) for key in labels}
    for opp, stage in staged:
        if stage is None:
            continue
        key = normalize(owner_label(opp.owner, language))
        if stage.outcome == OPEN:
            open_count[key] += 1
            open_amount[key] += _amount(opp)
        elif stage.outcome == WON:
            won_amount[key] += _amount(opp)
    overdue = Counter(normalize(r.owner) for r in reminders if r.is_follow_up and r.days_overdue > 0)
    grid.add([words["owners"]])
    grid.add(words["owners_head"])
    for key, name in labels.items():
        grid.add([name, open_count[key], float(open_amount[key]), float(won_amount[key]), overdue[key]],
                 amounts=(2, 3))


def _sources(grid: _Grid, staged: Sequence[tuple[Opportunity, Stage | None]], words: Mapping) -> None:
    names: dict[str, str] = {}
    count: Counter[str] = Counter()
    won: Counter[str] = Counter()
    amount: dict[str, Decimal] = {}
    for opp, stage in staged:
        name = opp.text("source") or words["no_source"]
        key = normalize(name)
        names.setdefault(key, name)
        count[key] += 1
        won[key] += 1 if stage is not None and stage.outcome == WON else 0
        amount[key] = amount.get(key, Decimal(0)) + _amount(opp)
    grid.add([words["sources"]])
    grid.add(words["sources_head"])
    for key in sorted(names, key=lambda k: (-count[k], names[k])):
        grid.add([names[key], count[key], won[key], float(amount[key])], amounts=(3,))


def _losses(grid: _Grid, staged: Sequence[tuple[Opportunity, Stage | None]], words: Mapping) -> None:
    names: dict[str, str] = {}
    count: Counter[str] = Counter()
    for opp, stage in staged:
        if stage is None or stage.outcome != LOST:
            continue
        name = opp.text("loss_reason") or words["no_reason"]
        names.setdefault(normalize(name), name)
        count[normalize(name)] += 1
    grid.add([words["losses"]])
    grid.add(words["losses_head"])
    for key in sorted(names, key=lambda k: (-count[k], names[k])):
        grid.add([names[key], count[key]])
