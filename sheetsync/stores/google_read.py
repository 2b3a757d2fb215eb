"""Read many tabs in one values:batchGet and return them as the same Python values every store returns."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from ..core.schema import TABS_BY_KEY, Tab
from ..ports import Cell, TabData
from .google_cells import Converter, column_kinds, convert_rows, quote_title, reader_for

log = logging.getLogger(__name__)

READ_PARAMS = {"valueRenderOption": "UNFORMATTED_VALUE", "dateTimeRenderOption": "SERIAL_NUMBER",
               "majorDimension": "ROWS"}
"""Typed values and serial dates: nothing depends on the sheet's locale or display formats."""


def schema_tab(key: str) -> Tab | None:
    """The schema tab for a key, None for headerless tabs (no columns to map)."""
    tab = TABS_BY_KEY.get(key)
    return None if tab is None or tab.headerless else tab


def readers(key: str, header: Sequence[Cell], sheet_tz: ZoneInfo | None,
            team_tz: ZoneInfo | None) -> list[Converter | None]:
    """One converter per column of a tab, chosen by the schema kind its header names."""
    return [reader_for(kind, sheet_tz, team_tz) for kind in column_kinds(schema_tab(key), header)]


def tab_data(key: str, title: str, raw_rows: Sequence[Sequence[Any]], sheet_tz: ZoneInfo | None,
             team_tz: ZoneInfo | None) -> TabData:
    """One tab's batchGet rows as TabData, the header row first and trailing blanks trimmed."""
    if not raw_rows or schema_tab(key) is None:
        return TabData(title, convert_rows(raw_rows, []))
    header = [None if c == "" else c for c in raw_rows[0]]
    return TabData(title, convert_rows(raw_rows, readers(key, header, sheet_tz, team_tz)))


def whole_tab_range(title: str) -> str:
    """The A1 range for every cell of a tab."""
    return quote_title(title)


def value_ranges(answer: dict[str, Any], expected: int) -> list[list[list[Any]]]:
    """The `values` of each range of a batchGet answer, in request order ([] for empty ranges)."""
    ranges = answer.get("valueRanges", [])
    if len(ranges) != expected:
        raise ValueError(f"batchGet answered {len(ranges)} ranges for {expected} asked")
    return [r.get("values", []) for r in ranges]
