"""What sheetsync remembers about a spreadsheet between requests: tabs, their IDs and sizes, charts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..core.schema import TABS_BY_KEY, find_tab

METADATA_FIELDS = ("spreadsheetId,properties(title,timeZone,locale),"
                   "sheets(properties(sheetId,title,index,sheetType,gridProperties),"
                   "charts(chartId,spec,position),"
                   "protectedRanges(protectedRangeId,description,range,warningOnly),"
                   "conditionalFormats)")
"""The metadata fields sheetsync asks for: no cell data."""


@dataclass
class SheetMeta:
    """One tab: its ID, title, grid size, frozen rows, charts, protections and conditional formats."""

    sheet_id: int
    title: str
    index: int
    rows: int
    cols: int
    frozen_rows: int = 0
    charts: list[dict[str, Any]] = field(default_factory=list)
    protected: list[dict[str, Any]] = field(default_factory=list)
    conditional: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class SpreadsheetMeta:
    """The spreadsheet as its metadata describes it."""

    spreadsheet_id: str
    title: str
    timezone: str | None
    sheets: list[SheetMeta]
    named: dict[str, str] = field(default_factory=dict)
    """Tab titles the config names for schema tabs (e.g. opportunities -> 商机列表)."""

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SpreadsheetMeta:
        """Parse a spreadsheets.get (or batchUpdate updatedSpreadsheet) answer."""
        props = data.get("properties", {})
        sheets = []
        for sheet in data.get("sheets", []):
            p = sheet.get("properties", {})
            grid = p.get("gridProperties", {})
            sheets.append(SheetMeta(
                sheet_id=int(p.get("sheetId", 0)), title=p.get("title", ""), index=int(p.get("index", 0)),
                rows=int(grid.get("rowCount", 0)), cols=int(grid.get("columnCount", 0)),
                frozen_rows=int(grid.get("frozenRowCount", 0)), charts=list(sheet.get("charts", [])),
                protected=list(sheet.get("protectedRanges", [])),
                conditional=list(sheet.get("conditionalFormats", []))))
        return cls(str(data.get("spreadsheetId", "")), props.get("title", ""), props.get("timeZone"), sheets)

    @property
    def titles(self) -> tuple[str, ...]:
        return tuple(s.title for s in sorted(self.sheets, key=lambda s: s.index))

    @property
    def zone(self) -> ZoneInfo | None:
        """The spreadsheet's timezone, None when missing or unknown to this machine."""
        if not self.timezone:
            return None
        try:
            return ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            return None

    def by_title(self, title: str) -> SheetMeta | None:
        return next((s for s in self.sheets if s.title == title), None)

    def find(self, key: str) -> SheetMeta | None:
        """The tab that holds a schema tab (by any of its names), or None."""
        title = find_tab(TABS_BY_KEY[key], self.titles, self.named)
        return None if title is None else self.by_title(title)

    def next_sheet_id(self) -> int:
        return max((s.sheet_id for s in self.sheets), default=0) + 1
