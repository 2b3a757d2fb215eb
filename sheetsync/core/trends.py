"""The Trends tab (趋势): one row per period with the pipeline's totals and each open stage's count and
amount, appended by the first sync of the period and never rewritten, so a manager sees the pipeline move.

A stage's two columns ("Quote (count)", "Quote (amount)") are added at the right end of the header the
first time the stage is recorded; columns people added or moved are left where they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from ..ports import Cell, CellWrite, TabData
from . import values as v
from .model import LOST, OPEN, WON, Opportunity, Pipeline, body_rows
from .review import Path, amount, period_start
from .schema import HeaderMap, normalize

_STAGE_HEADERS = {"en": ("{stage} (count)", "{stage} (amount)"), "zh": ("{stage}（数量）", "{stage}（金额）")}


@dataclass
class TrendsWrite:
    """What a sync adds to Trends: header cells for new stage columns and at most one row."""

    header: list[CellWrite] = field(default_factory=list)
    rows: list[list[Cell]] = field(default_factory=list)


def stage_headers(stage: str, language: str) -> tuple[str, str]:
    """The count and amount column headers of one stage."""
    count, total = _STAGE_HEADERS.get(language, _STAGE_HEADERS["en"])
    return count.format(stage=stage), total.format(stage=stage)


def trends_row(tab: TabData | None, hm: HeaderMap | None, opps: Sequence[Opportunity], pipeline: Pipeline,
               all_paths: Sequence[Path], now: datetime, period: str, language: str) -> TrendsWrite:
    """The Trends row for the period holding `now`, unless the tab already has one (or there is no tab)."""
    out = TrendsWrite()
    if tab is None or hm is None or "period" not in hm.index:
        return out
    start = period_start(now.date(), period)
    for _, row in body_rows(tab.rows):
        try:
            recorded = v.parse_date(hm.get(row, "period"))
        except v.ValueProblem:
            continue
        if recorded == start:
            return out
    values: dict[int, Cell] = {}
    known: dict[str, Cell] = {"period": start, "taken": now}
    open_amount = weighted = won_amount = Decimal(0)
    open_count = won = lost = 0
    per_stage: dict[str, tuple[int, Decimal]] = {s.name: (0, Decimal(0)) for s in pipeline.open_stages}
    for opp in opps:
        stage = pipeline.find(opp.cells.get("stage"))
        if stage is None or stage.outcome != OPEN:
            continue
        open_count += 1
        open_amount += amount(opp)
        weighted += amount(opp) * Decimal(str(stage.probability))
        n, total = per_stage[stage.name]
        per_stage[stage.name] = (n + 1, total + amount(opp))
    for path in all_paths:
        closed = path.closed_on
        if closed is None or not start <= closed <= now.date() or path.current is None:
            continue
        if path.current.stage.outcome == WON:
            won += 1
            won_amount += amount(path.opp)
        elif path.current.stage.outcome == LOST:
            lost += 1
    known.update(open_count=open_count, open_amount=float(open_amount), weighted=float(weighted), won_count=won,
                 won_amount=float(won_amount), lost_count=lost)
    for key, value in known.items():
        if key in hm.index:
            values[hm.index[key]] = value
    where = {normalize(h): i for i, h in enumerate(hm.headers) if h}
    width = len(hm.headers)
    for name, (n, total) in per_stage.items():
        for header, value in zip(stage_headers(name, language), (n, float(total)), strict=True):
            col = where.get(normalize(header))
            if col is None:
                col = width
                width += 1
                where[normalize(header)] = col
                out.header.append(CellWrite("trends", 1, col, header))
            values[col] = value
    out.rows.append([values.get(i) for i in range(width)])
    return out
