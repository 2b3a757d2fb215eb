"""Lay out the Summary tab a manager reviews: the funnel with cohort conversion and days per stage,
where lost deals were lost and why, results per owner and source this month and quarter against
targets, and the forecast by expected-close month; plus two funnel charts of the open stages.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ..ports import Cell, ChartSpec
from .formats import BOLD, DECIMAL, PERCENT, amount_kind
from .habits import name_key
from .history import Entry
from .model import LOST, OPEN, WON, Opportunity, Pipeline, Rep, Stage, sells
from .remind import Reminder, owner_label
from .review import (
    Path,
    amount,
    forecast,
    losses_by_stage,
    month_start,
    paths,
    quarter_start,
    reasons_text,
    results,
    stage_review,
)
from .schema import SUMMARY, normalize

FUNNEL_FIRST_ROW = 6
"""Sheet row of the first stage in the funnel table (title, updated, spacer, section title, header above)."""
TABLE_WIDTH = 11
"""Columns the widest table uses; the charts sit one blank column to their right."""
CHART_ROWS = 18
"""Rows one chart covers; the count chart sits this far below the amount chart."""

_TEXT: dict[str, dict[str, Any]] = {
    "en": {
        "title": "Pipeline summary", "updated": "Last updated {now}",
        "funnel": "Funnel by stage",
        "funnel_head": ["Stage", "Count", "Amount", "Weighted amount", "Ever reached", "Went on to next",
                        "Avg days in stage"],
        "unknown": "(unknown stage)",
        "win_rate": "Win rate (won / (won + lost))",
        "open": "Open pipeline", "open_weighted": "Open pipeline (weighted)",
        "lost_where": "Where lost deals were lost",
        "lost_head": ["Last open stage", "Lost deals", "Lost amount", "Reasons"],
        "not_recorded": "(not recorded)", "no_reason": "(no reason)",
        "owners": "Results by owner",
        "owners_head": ["Owner", "Open deals", "Open amount", "Overdue follow-ups", "Won this month",
                        "Won amount this month", "Target (month)", "Won vs target", "Win rate this month",
                        "Won amount this quarter", "Win rate this quarter"],
        "team": "Team",
        "sources": "Results by source",
        "sources_head": ["Source", "Deals", "Won this month", "Won amount this month", "Win rate this month",
                         "Won amount this quarter", "Win rate this quarter"],
        "no_source": "(no source)",
        "forecast": "Forecast by expected close",
        "forecast_head": ["Month", "Open deals", "Amount", "Weighted amount"],
        "overdue": "Already past", "undated": "(no date)",
        "chart_amount": "Open pipeline by stage (amount)", "chart_count": "Open deals by stage (count)",
        "series_amount": "Amount", "series_count": "Deals",
    },
    "zh": {
        "title": "商机汇总", "updated": "更新时间 {now}",
        "funnel": "阶段漏斗",
        "funnel_head": ["阶段", "数量", "金额", "加权金额", "累计到达", "进入下一阶段比例", "平均停留天数"],
        "unknown": "（未知阶段）",
        "win_rate": "赢单率（赢单 /（赢单 + 输单））",
        "open": "在手商机金额", "open_weighted": "在手商机加权金额",
        "lost_where": "流失发生在哪个阶段",
        "lost_head": ["流失前阶段", "流失数量", "流失金额", "原因"],
        "not_recorded": "（无记录）", "no_reason": "（未填原因）",
        "owners": "按负责人",
        "owners_head": ["负责人", "在手数量", "在手金额", "逾期跟进", "本月成交数", "本月成交金额", "月度目标",
                        "目标完成率", "本月赢单率", "本季成交金额", "本季赢单率"],
        "team": "团队合计",
        "sources": "按来源",
        "sources_head": ["来源", "商机数", "本月成交数", "本月成交金额", "本月赢单率", "本季成交金额", "本季赢单率"],
        "no_source": "（未填来源）",
        "forecast": "按预计成交月份预测",
        "forecast_head": ["月份", "在手数量", "金额", "加权金额"],
        "overdue": "已过预计日期", "undated": "（未填日期）",
        "chart_amount": "在手商机阶段漏斗（金额）", "chart_count": "在手商机阶段漏斗（数量）",
        "series_amount": "金额", "series_count": "数量",
    },
}


def words_for(language: str) -> Mapping[str, Any]:
    """The Summary's labels in a workbook language."""
    return _TEXT.get(language, _TEXT["en"])


@dataclass(frozen=True)
class SummaryGrid:
    """The whole Summary tab from row 1, its charts and the format of each cell that needs one."""

    rows: list[list[Cell]]
    charts: list[ChartSpec]
    formats: dict[tuple[int, int], str] = field(default_factory=dict)
    """Format kind (core.formats) per cell, keyed by (1-based row, 0-based column)."""

    @property
    def chart(self) -> ChartSpec:
        """The main chart: open stages by amount."""
        return self.charts[0]


class _Grid:
    """Collect rows and remember which cells need a format."""

    def __init__(self, money: str) -> None:
        self.rows: list[list[Cell]] = []
        self.formats: dict[tuple[int, int], str] = {}
        self.money = money

    def add(self, cells: Sequence[Cell] = (), *, amounts: Iterable[int] = (), percents: Iterable[int] = (),
            decimals: Iterable[int] = (), bold: bool = False) -> int:
        """Append a row and return its 1-based sheet row number."""
        self.rows.append(list(cells))
        row = len(self.rows)
        for kind, cols in ((self.money, amounts), (PERCENT, percents), (DECIMAL, decimals)):
            for col in cols:
                self.formats[(row, col)] = kind
        if bold:
            for col, value in enumerate(cells):
                if value not in (None, ""):
                    self.formats[(row, col)] = BOLD
        return row

    def section(self, title: Any, head: Any) -> None:
        self.add([title], bold=True)
        self.add(list(head) if isinstance(head, (list, tuple)) else [head], bold=True)


def build_summary(opps: Sequence[Opportunity], pipeline: Pipeline, team: Sequence[Rep],
                  reminders: Sequence[Reminder], now: datetime, language: str = "en", *,
                  history: Iterable[Entry] = (), all_paths: Sequence[Path] | None = None) -> SummaryGrid:
    """Build the Summary tab's rows, formats and charts from the opportunities, History, team and reminders.

    `all_paths` is review.paths(opps, history, pipeline) when the caller has it already.
    """
    words = words_for(language)
    today = now.date()
    staged = [(opp, pipeline.find(opp.cells.get("stage"))) for opp in opps]
    if all_paths is None:
        all_paths = paths(opps, history, pipeline)
    grid = _Grid(amount_kind(language))
    grid.add([words["title"]], bold=True)
    grid.add([str(words["updated"]).format(now=now.strftime("%Y-%m-%d %H:%M"))])
    grid.add()
    grid.section(words["funnel"], words["funnel_head"])
    first, last = _funnel(grid, staged, pipeline, all_paths, words)
    grid.add()
    _totals(grid, staged, words)
    grid.add()
    _lost_where(grid, all_paths, pipeline, words)
    grid.add()
    _owners(grid, staged, all_paths, team, reminders, today, language, words)
    grid.add()
    _sources(grid, staged, all_paths, today, language, words)
    grid.add()
    _forecast(grid, opps, pipeline, today, words)
    anchor_col = TABLE_WIDTH + 1
    charts = [
        ChartSpec(tab=SUMMARY.key, title=str(words["chart_amount"]), first_row=first, last_row=last, category_col=0,
                  value_col=2, anchor_row=FUNNEL_FIRST_ROW - 2, anchor_col=anchor_col,
                  series_title=str(words["series_amount"]), key="amount"),
        ChartSpec(tab=SUMMARY.key, title=str(words["chart_count"]), first_row=first, last_row=last, category_col=0,
                  value_col=1, anchor_row=FUNNEL_FIRST_ROW - 2 + CHART_ROWS, anchor_col=anchor_col,
                  series_title=str(words["series_count"]), integer_ticks=True, key="count",
                  value_max=max((r[1] for r in grid.rows[first - 1:last] if r and isinstance(r[1], int)), default=0)),
    ]
    return SummaryGrid(grid.rows, charts, grid.formats)


def _funnel(grid: _Grid, staged: Sequence[tuple[Opportunity, Stage | None]], pipeline: Pipeline,
            all_paths: Sequence[Path], words: Mapping[str, Any]) -> tuple[int, int]:
    """Open stages first (the chart reads them), then a blank row, then won and lost stages apart."""
    reviews = {r.stage.name: r for r in stage_review(all_paths, pipeline)}
    first = len(grid.rows) + 1
    open_stages = [s for s in pipeline.stages if s.outcome == OPEN]
    closed = [s for s in pipeline.stages if s.outcome != OPEN]
    members: dict[int, list[Opportunity]] = {id(s): [] for s in pipeline.stages}
    unknown: list[Opportunity] = []
    for opp, s in staged:
        (unknown if s is None else members[id(s)]).append(opp)
    for stage in open_stages:
        _stage_row(grid, stage, members[id(stage)], reviews[stage.name])
    last = len(grid.rows)
    if closed:
        grid.add()
    for stage in closed:
        _stage_row(grid, stage, members[id(stage)], reviews[stage.name])
    if unknown:
        grid.add([words["unknown"], len(unknown), float(sum((amount(o) for o in unknown), Decimal(0)))],
                 amounts=(2,))
    return first, max(last, first)


def _stage_row(grid: _Grid, stage: Stage, members: Sequence[Opportunity], review) -> None:
    total = sum((amount(o) for o in members), Decimal(0))
    weighted = total * Decimal(str(stage.probability))
    grid.add([stage.name, len(members), float(total), float(weighted), review.reached, _rate(review.went_on),
              _days(review.average_days)], amounts=(2, 3), percents=(5,), decimals=(6,))


def _totals(grid: _Grid, staged: Sequence[tuple[Opportunity, Stage | None]], words: Mapping[str, Any]) -> None:
    won = sum(1 for _, s in staged if s is not None and s.outcome == WON)
    lost = sum(1 for _, s in staged if s is not None and s.outcome == LOST)
    open_amount = open_weighted = Decimal(0)
    weights: dict[str, Decimal] = {}
    for opp, stage in staged:
        if stage is not None and stage.outcome == OPEN:
            weight = weights.get(stage.name)
            if weight is None:
                weight = weights[stage.name] = Decimal(str(stage.probability))
            deal = amount(opp)
            open_amount += deal
            open_weighted += deal * weight
    grid.add([words["win_rate"], _share(won, won + lost)], percents=(1,))
    grid.add([words["open"], float(open_amount)], amounts=(1,))
    grid.add([words["open_weighted"], float(open_weighted)], amounts=(1,))


PERCENT_PLACES = 4
"""Shares are rounded to 0.01 % and days to 0.1 day: a spreadsheet keeps 15 significant digits, so
rounded figures read back exactly the same from every store."""


def _share(part: float, whole: float) -> float | None:
    return _rate(part / whole) if whole else None


def _rate(value: float | None) -> float | None:
    return None if value is None else round(value, PERCENT_PLACES)


def _days(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _lost_where(grid: _Grid, all_paths: Sequence[Path], pipeline: Pipeline, words: Mapping[str, Any]) -> None:
    grid.section(words["lost_where"], words["lost_head"])
    join = "；" if words is _TEXT["zh"] else "; "
    for group in losses_by_stage(all_paths, pipeline, str(words["no_reason"])):
        name = group.stage.name if group.stage is not None else words["not_recorded"]
        grid.add([name, group.count, float(group.amount), reasons_text(group.reasons, join)], amounts=(2,))


def _periods(today: date) -> tuple[tuple[date, date], tuple[date, date]]:
    return (month_start(today), today), (quarter_start(today), today)


def _owners(grid: _Grid, staged: Sequence[tuple[Opportunity, Stage | None]], all_paths: Sequence[Path],
            team: Sequence[Rep], reminders: Sequence[Reminder], today: date, language: str,
            words: Mapping[str, Any]) -> None:
    def key_of(opp: Opportunity) -> str:
        return normalize(owner_label(opp.owner, language))

    names: dict[str, str] = {}
    for rep in team:
        if sells(rep):  # service staff and managers appear only when they own deals
            names.setdefault(normalize(rep.name), rep.name)
    for opp, _ in staged:
        label = owner_label(opp.owner, language)
        names.setdefault(normalize(label), label)
    targets: dict[str, Decimal | None] = {normalize(r.name): r.target for r in team}
    open_count: Counter[str] = Counter()
    open_amount: dict[str, Decimal] = {}
    for opp, stage in staged:
        if stage is not None and stage.outcome == OPEN:
            open_count[key_of(opp)] += 1
            open_amount[key_of(opp)] = open_amount.get(key_of(opp), Decimal(0)) + amount(opp)
    overdue = Counter(normalize(r.owner) for r in reminders if r.is_follow_up and r.days_overdue > 0)
    (m0, m1), (q0, q1) = _periods(today)
    month, quarter = results(all_paths, key_of, m0, m1), results(all_paths, key_of, q0, q1)
    grid.section(words["owners"], words["owners_head"])
    order = list(names) if language != "zh" else sorted(names, key=lambda k: name_key(names[k], language))
    for key in order:
        m, q = month.get(key), quarter.get(key)
        target = targets.get(key)
        won_month = m.won_amount if m else Decimal(0)
        grid.add([names[key], open_count[key], float(open_amount.get(key, Decimal(0))), overdue[key],
                  m.won if m else 0, float(won_month), None if target is None else float(target),
                  _share(float(won_month), float(target)) if target else None, _rate(m.win_rate) if m else None,
                  float(q.won_amount) if q else 0.0, _rate(q.win_rate) if q else None],
                 amounts=(2, 5, 6, 9), percents=(7, 8, 10))
    team_target = sum((t for t in targets.values() if t is not None), Decimal(0))
    team_won = sum((r.won_amount for r in month.values()), Decimal(0))
    if team_target:
        grid.add([words["team"], None, None, None, sum(r.won for r in month.values()), float(team_won),
                  float(team_target), _share(float(team_won), float(team_target))],
                 amounts=(5, 6), percents=(7,))


def _sources(grid: _Grid, staged: Sequence[tuple[Opportunity, Stage | None]], all_paths: Sequence[Path],
             today: date, language: str, words: Mapping[str, Any]) -> None:
    no_source = str(words["no_source"])

    def key_of(opp: Opportunity) -> str:
        return normalize(opp.text("source") or no_source)

    names: dict[str, str] = {}
    count: Counter[str] = Counter()
    for opp, _ in staged:
        name = opp.text("source") or no_source
        names.setdefault(key_of(opp), name)
        count[key_of(opp)] += 1
    (m0, m1), (q0, q1) = _periods(today)
    month, quarter = results(all_paths, key_of, m0, m1), results(all_paths, key_of, q0, q1)
    grid.section(words["sources"], words["sources_head"])
    for key in sorted(names, key=lambda k: (-count[k], name_key(names[k], language))):
        m, q = month.get(key), quarter.get(key)
        grid.add([names[key], count[key], m.won if m else 0, float(m.won_amount) if m else 0.0,
                  _rate(m.win_rate) if m else None, float(q.won_amount) if q else 0.0,
                  _rate(q.win_rate) if q else None],
                 amounts=(3, 5), percents=(4, 6))


def _forecast(grid: _Grid, opps: Sequence[Opportunity], pipeline: Pipeline, today: date,
              words: Mapping[str, Any]) -> None:
    grid.section(words["forecast"], words["forecast_head"])
    for bucket in forecast(opps, pipeline, today, str(words["overdue"]), str(words["undated"])):
        grid.add([bucket.label, bucket.count, float(bucket.amount), float(bucket.weighted)], amounts=(2, 3))


def new_entries(rows: Iterable[Sequence[object]]) -> list[Entry]:
    """This cycle's History rows (time, ID, field, old, new, by) as entries, for a review that includes them."""
    out = []
    for time, ident, field_, old, new, by in rows:
        out.append(Entry(time if isinstance(time, datetime) else None, str(ident), str(field_), str(old or ""),
                         str(new or ""), str(by)))
    return out

