"""Plan `sheetsync init` on a Google Sheet: every missing piece in one batchUpdate, nothing twice.

Missing tabs are added with their example rows; missing columns go to the right end of existing tabs
(nothing is deleted, reordered or renamed). Header rows are bold and frozen, date/amount/ID columns get
number formats, Stage gets a dropdown from the Stages tab, overdue follow-ups turn red, system columns
and tabs get warning-only protection, and Summary gets a native funnel chart. What is already there
(read from rows 1-2 and the tab metadata) is left alone, so a second run plans nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..core.model import Pipeline, Stage
from ..core.safety import held_back, not_added
from ..core.schema import OPPORTUNITIES, STAGES, SUMMARY, SYSTEM, Column, column_for, column_letter
from ..core.summary import build_summary
from ..ports import Cell, ChartSpec
from ..template import Layout, TabLayout
from .google_batch import chart_position, chart_spec
from .google_cells import FIELDS_VALUE_AND_FORMAT, CellEncoder, quote_title
from .google_meta import SheetMeta, SpreadsheetMeta

NEW_TAB_ROWS = 1000
NEW_TAB_COLS = 26
PROTECT_PREFIX = "sheetsync: "
"""Every protected range sheetsync adds is described with this prefix, so reruns recognise it."""
_OVERDUE_FILL = {"red": 0.98, "green": 0.8, "blue": 0.8}


@dataclass
class Top:
    """The first two rows of an existing tab: header values, whether they are bold, row 2's cell data."""

    header: list[Cell]
    bold: bool
    row2: list[dict[str, Any]]


def _entered(cell: dict[str, Any]) -> Cell:
    value = cell.get("userEnteredValue") or {}
    for kind in ("stringValue", "numberValue", "boolValue", "formulaValue"):
        if kind in value:
            return value[kind]
    return None


def parse_top(sheet: dict[str, Any]) -> Top:
    """Rows 1-2 of a spreadsheets.get answer with grid data."""
    data = (sheet.get("data") or [{}])[0]
    rows = [r.get("values", []) for r in data.get("rowData", [])]
    first = rows[0] if rows else []
    header = [_entered(c) for c in first]
    while header and header[-1] in (None, ""):
        header.pop()
    bold = bool(header) and all(
        c.get("userEnteredFormat", {}).get("textFormat", {}).get("bold") for c in first[:len(header)])
    return Top(header, bold, rows[1] if len(rows) > 1 else [])


@dataclass
class Placed:
    """Where a layout tab lives after the plan: its sheet ID, title, size and column positions."""

    sheet_id: int
    title: str
    rows: int
    new: bool
    positions: dict[str, int] = field(default_factory=dict)
    new_columns: set[str] = field(default_factory=set)
    top: Top | None = None


class SetupPlan:
    """Collect the requests and the human lines of one `init` run."""

    def __init__(self, layout: Layout, meta: SpreadsheetMeta, tops: dict[str, Top], encoder: CellEncoder) -> None:
        self.layout = layout
        self.meta = meta
        self.tops = tops
        self.encoder = encoder
        self.requests: list[dict[str, Any]] = []
        self.lines: list[str] = []
        self.placed: dict[str, Placed] = {}
        self._next_id = meta.next_sheet_id()

    def build(self) -> SetupPlan:
        """Plan every tab, then the cross-tab pieces (dropdown, overdue rule, protection, chart)."""
        for tab_layout in self.layout.tabs:
            sheet = self.meta.find(tab_layout.tab.key)
            if sheet is None:
                self._add_tab(tab_layout)
            else:
                self._complete_tab(tab_layout, sheet)
        self._stage_dropdown()
        self._overdue_rule()
        self._protections()
        self._chart()
        return self

    def _add_tab(self, tl: TabLayout) -> None:
        sheet_id = self._next_id
        self._next_id += 1
        headerless = tl.tab.headerless
        rows = max(NEW_TAB_ROWS, len(tl.rows) + 1)
        self.requests.append({"addSheet": {"properties": {
            "sheetId": sheet_id, "title": tl.title,
            "gridProperties": {"rowCount": rows, "columnCount": max(NEW_TAB_COLS, len(tl.columns)),
                               "frozenRowCount": 0 if headerless else 1}}}})
        placed = Placed(sheet_id, tl.title, rows, True, {c.key: i for i, c in enumerate(tl.columns)},
                        {c.key for c in tl.columns})
        self.placed[tl.tab.key] = placed
        if not headerless and tl.columns:
            kinds = [c.kind for c in tl.columns]
            body = [[{"userEnteredValue": {"stringValue": h}} for h in tl.headers]]
            body += [[self.encoder.cell(v, kinds[i], True) for i, v in enumerate(row)] for row in tl.rows]
            self.requests.append({"updateCells": {
                "start": {"sheetId": sheet_id, "rowIndex": 0, "columnIndex": 0},
                "rows": [{"values": cells} for cells in body], "fields": FIELDS_VALUE_AND_FORMAT}})
            self._bold_header(sheet_id, len(tl.columns))
            for column in tl.columns:
                self._format_column(placed, column)
        examples = f" with {len(tl.rows)} example row{'s' if len(tl.rows) != 1 else ''}" if tl.rows else ""
        self.lines.append(f"Added tab '{tl.title}'{examples}")

    def _complete_tab(self, tl: TabLayout, sheet: SheetMeta) -> None:
        top = self.tops.get(sheet.title, Top([], False, []))
        placed = Placed(sheet.sheet_id, sheet.title, sheet.rows, False, top=top)
        self.placed[tl.tab.key] = placed
        if tl.tab.headerless:
            return
        for i, name in enumerate(top.header):
            column = column_for(tl.tab, name) if name not in (None, "") else None
            if column is not None:
                placed.positions.setdefault(column.key, i)
        missing = [(c, h) for c, h in zip(tl.columns, tl.headers, strict=True) if c.key not in placed.positions]
        keep_out = frozenset() if tl.adopted else held_back(tl.tab, any(_entered(cell) not in (None, "")
                                                                        for cell in top.row2))
        self.lines += [not_added(tl.tab, sheet.title, c, top.header) for c, _ in missing if c.key in keep_out]
        missing = [(c, h) for c, h in missing if c.key not in keep_out]
        next_col = len(top.header)
        if next_col + len(missing) > sheet.cols:
            self.requests.append({"appendDimension": {"sheetId": sheet.sheet_id, "dimension": "COLUMNS",
                                                      "length": next_col + len(missing) - sheet.cols}})
        for offset, (column, header) in enumerate(missing):
            col = next_col + offset
            placed.positions[column.key] = col
            placed.new_columns.add(column.key)
            self.requests.append({"updateCells": {
                "start": {"sheetId": sheet.sheet_id, "rowIndex": 0, "columnIndex": col},
                "rows": [{"values": [{"userEnteredValue": {"stringValue": header}}]}],
                "fields": "userEnteredValue"}})
        self.lines += [f"Added column '{header}' to '{sheet.title}'" for _, header in missing]
        width = next_col + len(missing)
        header_fixes = []
        if not top.bold or missing:
            self._bold_header(sheet.sheet_id, width)
            if not top.bold:
                header_fixes.append("bold")
        if sheet.frozen_rows < 1:
            self.requests.append({"updateSheetProperties": {
                "properties": {"sheetId": sheet.sheet_id, "gridProperties": {"frozenRowCount": 1}},
                "fields": "gridProperties.frozenRowCount"}})
            header_fixes.append("frozen")
        if header_fixes:
            self.lines.append(f"Made the header row of '{sheet.title}' {' and '.join(header_fixes)}")
        formatted = [c.en for c in tl.columns if c.key in placed.positions and self._format_column(placed, c)
                     and c.key not in placed.new_columns]
        if formatted:
            self.lines.append(f"Set number formats on '{sheet.title}' columns {', '.join(formatted)}")

    def _bold_header(self, sheet_id: int, width: int) -> None:
        self.requests.append({"repeatCell": {
            "range": {"sheetId": sheet_id, "startRowIndex": 0, "endRowIndex": 1, "startColumnIndex": 0,
                      "endColumnIndex": width},
            "cell": {"userEnteredFormat": {"textFormat": {"bold": True}}},
            "fields": "userEnteredFormat.textFormat.bold"}})

    def _format_column(self, placed: Placed, column: Column) -> bool:
        """Give a column its number format and width when new, or its format when row 2 has none."""
        col = placed.positions[column.key]
        fresh = placed.new or column.key in placed.new_columns
        if fresh:
            self.requests.append({"updateDimensionProperties": {
                "range": {"sheetId": placed.sheet_id, "dimension": "COLUMNS", "startIndex": col, "endIndex": col + 1},
                "properties": {"pixelSize": column.width * 7 + 12}, "fields": "pixelSize"}})
        fmt = self.encoder.column_format(column.kind)
        if fmt is None:
            return False
        row2 = placed.top.row2 if placed.top else []
        if not fresh and col < len(row2) and row2[col].get("userEnteredFormat", {}).get("numberFormat"):
            return False
        self.requests.append({"repeatCell": {
            "range": _column_range(placed.sheet_id, col),
            "cell": {"userEnteredFormat": {"numberFormat": fmt}}, "fields": "userEnteredFormat.numberFormat"}})
        return True

    def _cell2(self, key: str, column: str) -> tuple[Placed, int, dict[str, Any]] | None:
        placed = self.placed.get(key)
        if placed is None or column not in placed.positions:
            return None
        col = placed.positions[column]
        row2 = placed.top.row2 if placed.top and not placed.new and column not in placed.new_columns else []
        return placed, col, row2[col] if col < len(row2) else {}

    def _stage_dropdown(self) -> None:
        found, stages = self._cell2(OPPORTUNITIES.key, "stage"), self.placed.get(STAGES.key)
        if found is None or stages is None or "stage" not in stages.positions:
            return
        placed, col, cell = found
        if cell.get("dataValidation"):
            return
        letter = column_letter(stages.positions["stage"])
        source = f"={quote_title(stages.title)}!${letter}$2:${letter}"
        self.requests.append({"setDataValidation": {
            "range": _column_range(placed.sheet_id, col),
            "rule": {"condition": {"type": "ONE_OF_RANGE", "values": [{"userEnteredValue": source}]},
                     "showCustomUi": True, "strict": False,
                     "inputMessage": "Pick a stage from the Stages tab."}}})
        self.lines.append(f"Added the Stage dropdown to '{placed.title}' (choices from {source[1:]})")

    def _overdue_rule(self) -> None:
        found = self._cell2(OPPORTUNITIES.key, "next_follow_up")
        if found is None:
            return
        placed, col, _ = found
        sheet = self.meta.by_title(placed.title) if not placed.new else None
        if sheet is not None and any("TODAY()" in str(rule).upper() for rule in sheet.conditional):
            return
        letter = column_letter(col)
        self.requests.append({"addConditionalFormatRule": {"index": 0, "rule": {
            "ranges": [{"sheetId": placed.sheet_id, "startRowIndex": 1, "startColumnIndex": col,
                        "endColumnIndex": col + 1}],
            "booleanRule": {
                "condition": {"type": "CUSTOM_FORMULA",
                              "values": [{"userEnteredValue": f"=AND(ISNUMBER(${letter}2),${letter}2<TODAY())"}]},
                "format": {"backgroundColor": _OVERDUE_FILL, "textFormat": {"bold": True}}}}}})
        name = OPPORTUNITIES.column("next_follow_up").name(self.layout.language)
        self.lines.append(f"Highlighted overdue '{name}' dates in '{placed.title}'")

    def _protected(self, placed: Placed) -> set[str]:
        sheet = None if placed.new else self.meta.by_title(placed.title)
        return {p.get("description", "") for p in sheet.protected} if sheet else set()

    def _protections(self) -> None:
        for tl in self.layout.tabs:
            placed = self.placed[tl.tab.key]
            have = self._protected(placed)
            if tl.tab.system:
                description = PROTECT_PREFIX + "system tab"
                if description not in have:
                    self._protect({"sheetId": placed.sheet_id}, description)
                    self.lines.append(f"Protected system tab '{placed.title}' (warning only)")
                continue
            added = []
            for column in (c for c in tl.columns if c.owner == SYSTEM):
                description = f"{PROTECT_PREFIX}system column {column.en}"
                if description in have:
                    continue
                col = placed.positions[column.key]
                self._protect({"sheetId": placed.sheet_id, "startColumnIndex": col, "endColumnIndex": col + 1},
                              description)
                added.append(column.name(self.layout.language))
            if added:
                self.lines.append(f"Protected system column{'s' if len(added) > 1 else ''} {', '.join(added)} on "
                                  f"'{placed.title}' (warning only)")

    def _protect(self, grid_range: dict[str, Any], description: str) -> None:
        self.requests.append({"addProtectedRange": {"protectedRange": {
            "range": grid_range, "description": description, "warningOnly": True}}})

    def _chart(self) -> None:
        placed = self.placed.get(SUMMARY.key)
        if placed is None:
            return
        sheet = None if placed.new else self.meta.by_title(placed.title)
        if sheet is not None and sheet.charts:
            return
        stages = self.layout.tab(STAGES.key)
        open_stages = sum(1 for row in stages.rows
                          if str(dict(zip([c.key for c in stages.columns], row, strict=True)).get("outcome") or "open")
                          .strip().lower() in ("open", "进行中", "跟进中")) or 4
        for spec in default_charts(self.layout.language, open_stages):
            self.requests.append({"addChart": {"chart": {"spec": chart_spec(spec, placed.sheet_id),
                                                         "position": chart_position(spec, placed.sheet_id)}}})
        self.lines.append(f"Added the funnel charts to '{placed.title}'")


def _column_range(sheet_id: int, col: int) -> dict[str, int]:
    """One column from row 2 down, however many rows the tab grows to."""
    return {"sheetId": sheet_id, "startRowIndex": 1, "startColumnIndex": col, "endColumnIndex": col + 1}


def default_charts(language: str, open_stages: int) -> list[ChartSpec]:
    """The funnel charts Summary gets before the first sync fills the table they read (amount, then count)."""
    return build_summary([], _placeholder_pipeline(open_stages), [], [], datetime(2000, 1, 1), language).charts


def _placeholder_pipeline(open_stages: int) -> Pipeline:
    stages = [Stage(f"{i}", i, 0.0, None, None, (), False, "open") for i in range(1, open_stages + 1)]
    return Pipeline.of([*stages, Stage("won", open_stages + 1, 1.0, None, None, (), False, "won")])


def top_ranges(titles: Sequence[str]) -> list[str]:
    """Rows 1-2 of every tab, for the one grid-data read setup needs."""
    return [f"{quote_title(t)}!1:2" for t in titles]
