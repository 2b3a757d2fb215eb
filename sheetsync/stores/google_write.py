"""Plan one write: the guard re-read that proves nothing moved, then one batchUpdate for every change.

Rows are found by the snapshot's row numbers, which stay right only while nobody sorted, inserted or
deleted rows, retitled a column, or typed into a blank the cycle means to fill. One values:batchGet
re-reads the header rows, the ID column and every guarded cell just before the write; any difference
raises StoreConflict and nothing is written. New rows go through appendCells, which adds them after the
last row holding data (blank rows in the middle included) and never overwrites anything.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from ..core.schema import FILL, TABS_BY_KEY, column_for, column_letter
from .base import Cell, ChartSpec, StoreConflict, TabData, WriteBatch
from .google_cells import (
    FIELDS_VALUE,
    FIELDS_VALUE_AND_FORMAT,
    PERCENT_FORMAT,
    CellEncoder,
    Converter,
    column_kinds,
    column_span,
    convert_rows,
    quote_title,
)
from .google_meta import SheetMeta
from .google_read import readers, schema_tab


@dataclass
class Target:
    """A tab the batch touches: where it lives now and what the snapshot saw in it."""

    key: str
    sheet: SheetMeta
    data: TabData | None
    kinds: list[str | None] = field(default_factory=list)
    readers: list[Converter | None] = field(default_factory=list)

    @property
    def header(self) -> list[Cell]:
        return list(self.data.rows[0]) if self.data and self.data.rows else []

    def kind(self, col: int) -> str | None:
        return self.kinds[col] if col < len(self.kinds) else None


def make_target(key: str, sheet: SheetMeta, data: TabData | None, sheet_tz: ZoneInfo | None,
                team_tz: ZoneInfo | None) -> Target:
    """A Target with the column kinds and readers its snapshot header implies."""
    header = list(data.rows[0]) if data and data.rows else []
    return Target(key, sheet, data, column_kinds(schema_tab(key), header),
                  readers(key, header, sheet_tz, team_tz))


def id_column(target: Target) -> int | None:
    """The column that identifies rows of a tab (ID, or a filled id-kind column such as Ref), if any."""
    tab = schema_tab(target.key)
    if tab is None or not target.header:
        return None
    wanted = "id" if "id" in tab.by_key else next(
        (c.key for c in tab.columns if c.kind == "id" and c.owner == FILL), None)
    if wanted is None:
        return None
    for i, name in enumerate(target.header):
        column = column_for(tab, name) if name is not None else None
        if column is not None and column.key == wanted:
            return i
    return None


@dataclass
class Check:
    """One range of the guard re-read and what it must still hold."""

    target: Target
    what: str
    """"rows" (rows 1..last of a tab the batch updates), "header" (row 1) or "guard" (cells of one column)."""
    col: int
    first_row: int
    last_row: int
    expected: dict[int, Cell] = field(default_factory=dict)
    """Guard checks: the expected value per 1-based sheet row."""
    rows: set[int] = field(default_factory=set)
    """Rows checks: the sheet rows the batch writes into, which must still hold exactly what was read."""
    cells: dict[tuple[int, int], Cell] = field(default_factory=dict)
    """Rows checks: guarded cells inside the block, keyed (1-based row, 0-based column)."""

    @property
    def a1(self) -> str:
        title = quote_title(self.target.sheet.title)
        if self.what == "rows":
            return f"{title}!1:{self.last_row}"
        if self.what == "header":
            return f"{title}!1:1"
        return column_span(self.target.sheet.title, self.col, self.first_row, self.last_row)


def plan_checks(batch: WriteBatch, targets: dict[str, Target]) -> list[Check]:
    """The ranges to re-read before writing, one batchGet in all.

    A tab whose cells the batch updates is re-read from row 1 to the last row it knows: its header, its
    ID column and every row the batch writes into must be as read. Other tabs the batch appends to or
    replaces have their header re-read; guards outside those blocks are re-read column by column.
    """
    checks: list[Check] = []
    blocks: dict[str, Check] = {}
    written: dict[str, set[int]] = defaultdict(set)
    for cell in batch.cells:
        written[cell.tab].add(cell.row)
    for key, target in targets.items():
        if target.data is None or TABS_BY_KEY[key].headerless:
            continue
        if key in written:
            last = max(len(target.data.rows), max(written[key]), 1)
            blocks[key] = Check(target, "rows", 0, 1, last, rows=written[key])
            checks.append(blocks[key])
        elif key in batch.appends or key in batch.replace or any(g.tab == key for g in batch.guards):
            checks.append(Check(target, "header", 0, 1, 1))
    by_column: dict[tuple[str, int], dict[int, Cell]] = defaultdict(dict)
    for guard in batch.guards:
        block = blocks.get(guard.tab)
        if block is not None and guard.row <= block.last_row:
            block.cells[(guard.row, guard.col)] = guard.expected
        else:
            by_column[(guard.tab, guard.col)][guard.row] = guard.expected
    for (key, col), expected in sorted(by_column.items()):
        checks.append(Check(targets[key], "guard", col, min(expected), max(expected), expected))
    return checks


def _describe(value: Cell) -> str:
    return "empty" if value is None else repr(value)


def _trimmed(row: Sequence[Cell]) -> list[Cell]:
    out = list(row)
    while out and out[-1] is None:
        out.pop()
    return out


def _verify_header(check: Check, current: Sequence[Cell]) -> None:
    before = _trimmed(check.target.header)
    if list(current) != before:
        raise StoreConflict(f"The header row of '{check.target.sheet.title}' changed since it was read "
                            f"(was {before}, now {list(current)}); reading the sheet again.")


def _verify_rows(check: Check, rows: list[list[Cell]]) -> None:
    target, title = check.target, check.target.sheet.title
    data = target.data
    assert data is not None
    _verify_header(check, rows[0] if rows else [])
    now = [rows[i - 1] if i - 1 < len(rows) else [] for i in range(1, check.last_row + 1)]
    id_col = id_column(target)
    if id_col is not None:
        for row_no in range(2, len(data.rows) + 1):
            before, current = data.cell(row_no, id_col), _cell(now[row_no - 1], id_col)
            if before != current:
                raise StoreConflict(f"'{title}' row {row_no} held ID {_describe(before)} when read and now holds "
                                    f"{_describe(current)}: rows were sorted, inserted or deleted; reading the "
                                    "sheet again.")
    for (row_no, col), expected in sorted(check.cells.items()):
        current = _cell(now[row_no - 1], col)
        if current != expected:
            raise StoreConflict(f"'{title}' row {row_no}, column {column_letter(col)} changed since it was read "
                                f"(was {_describe(expected)}, now {_describe(current)}): someone edited it; "
                                "reading the sheet again.")
    for row_no in sorted(check.rows):
        before = _trimmed(data.rows[row_no - 1]) if row_no - 1 < len(data.rows) else []
        if now[row_no - 1] != before:
            raise StoreConflict(f"'{title}' row {row_no} was edited since it was read; reading the sheet again.")


def _cell(row: Sequence[Cell], col: int) -> Cell:
    return row[col] if col < len(row) else None


def verify(checks: Sequence[Check], answers: Sequence[list[list[Any]]]) -> None:
    """Raise StoreConflict naming the first cell that no longer holds what the snapshot showed."""
    for check, raw in zip(checks, answers, strict=True):
        if check.what == "rows":
            rows = convert_rows(raw, check.target.readers)
            rows += [[] for _ in range(check.last_row - len(rows))]
            _verify_rows(check, rows)
            continue
        if check.what == "header":
            converted = convert_rows(raw[:1], check.target.readers)
            _verify_header(check, converted[0] if converted else [])
            continue
        reader = check.target.readers[check.col] if check.col < len(check.target.readers) else None
        rows = convert_rows(raw, [reader])
        for row_no, expected in check.expected.items():
            i = row_no - check.first_row
            current = rows[i][0] if i < len(rows) and rows[i] else None
            if current != expected:
                where = f"'{check.target.sheet.title}' row {row_no}, column {column_letter(check.col)}"
                raise StoreConflict(f"{where} changed since it was read (was {_describe(expected)}, now "
                                    f"{_describe(current)}): someone edited it; reading the sheet again.")


def cell_requests(batch: WriteBatch, targets: dict[str, Target], encoder: CellEncoder) -> list[dict[str, Any]]:
    """One updateCells per run of consecutive rows in one column."""
    by_column: dict[tuple[str, int], dict[int, Cell]] = defaultdict(dict)
    for cell in batch.cells:
        by_column[(cell.tab, cell.col)][cell.row] = cell.value
    requests: list[dict[str, Any]] = []
    for (key, col), values in sorted(by_column.items()):
        target = targets[key]
        kind = target.kind(col)
        rows = sorted(values)
        run_start = 0
        for i in range(1, len(rows) + 1):
            if i < len(rows) and rows[i] == rows[i - 1] + 1:
                continue
            run = rows[run_start:i]
            run_values = [values[r] for r in run]
            with_format = encoder.needs_format(kind, run_values)
            requests.append({"updateCells": {
                "start": {"sheetId": target.sheet.sheet_id, "rowIndex": run[0] - 1, "columnIndex": col},
                "rows": [{"values": [encoder.cell(v, kind, with_format)]} for v in run_values],
                "fields": FIELDS_VALUE_AND_FORMAT if with_format else FIELDS_VALUE}})
            run_start = i
    return requests


def _row_data(row: Sequence[Cell], kinds: Sequence[str | None], encoder: CellEncoder,
              formats: dict[int, str] | None = None) -> dict[str, Any]:
    values = []
    for i, v in enumerate(row):
        cell = encoder.cell(v, kinds[i] if i < len(kinds) else None, True)
        if formats and i in formats:
            cell["userEnteredFormat"] = {"numberFormat": encoder.column_format(formats[i]) or PERCENT_FORMAT}
        values.append(cell)
    return {"values": values}


def replace_requests(key: str, rows: Sequence[Sequence[Cell]], target: Target, encoder: CellEncoder,
                     formats: dict[tuple[str, int, int], str] | None = None) -> list[dict[str, Any]]:
    """Rewrite a system tab's body and clear every older cell below and beside it.

    `formats` gives "percent" or "amount" number formats for cells keyed (tab, 1-based row, 0-based col).
    """
    first = 0 if TABS_BY_KEY[key].headerless else 1
    sheet = target.sheet
    width = max((len(r) for r in rows), default=0)
    needed_rows = first + len(rows)
    by_row: dict[int, dict[int, str]] = defaultdict(dict)
    for (tab, row, col), kind in (formats or {}).items():
        if tab == key:
            by_row[row][col] = kind
    requests: list[dict[str, Any]] = []
    if needed_rows > sheet.rows:
        requests.append({"appendDimension": {"sheetId": sheet.sheet_id, "dimension": "ROWS",
                                             "length": needed_rows - sheet.rows}})
    if width > sheet.cols:
        requests.append({"appendDimension": {"sheetId": sheet.sheet_id, "dimension": "COLUMNS",
                                             "length": width - sheet.cols}})
    end_row, end_col = max(needed_rows, sheet.rows), max(width, sheet.cols)
    if end_row > first and end_col > 0:
        requests.append({"updateCells": {
            "range": {"sheetId": sheet.sheet_id, "startRowIndex": first, "endRowIndex": end_row,
                      "startColumnIndex": 0, "endColumnIndex": end_col},
            "rows": [_row_data(r, target.kinds, encoder, by_row.get(first + 1 + i)) for i, r in enumerate(rows)],
            "fields": FIELDS_VALUE_AND_FORMAT}})
    return requests


def append_request(rows: Sequence[Sequence[Cell]], target: Target, encoder: CellEncoder) -> dict[str, Any]:
    """appendCells: the rows go after the last row with data and never overwrite a cell."""
    return {"appendCells": {"sheetId": target.sheet.sheet_id,
                            "rows": [_row_data(r, target.kinds, encoder) for r in rows],
                            "fields": FIELDS_VALUE_AND_FORMAT}}


def chart_spec(chart: ChartSpec, sheet_id: int) -> dict[str, Any]:
    """A native BASIC bar chart of one category column against one value column."""
    def source(col: int) -> dict[str, Any]:
        return {"sourceRange": {"sources": [{
            "sheetId": sheet_id, "startRowIndex": chart.first_row - 1, "endRowIndex": chart.last_row,
            "startColumnIndex": col, "endColumnIndex": col + 1}]}}
    return {"title": chart.title, "basicChart": {
        "chartType": "BAR", "legendPosition": "NO_LEGEND", "headerCount": 0,
        "axis": [{"position": "BOTTOM_AXIS", "title": chart.series_title}, {"position": "LEFT_AXIS", "title": ""}],
        "domains": [{"domain": source(chart.category_col)}],
        "series": [{"series": source(chart.value_col), "targetAxis": "BOTTOM_AXIS"}]}}


def chart_position(chart: ChartSpec, sheet_id: int) -> dict[str, Any]:
    """Where the chart floats: its top-left corner on the anchor cell."""
    return {"overlayPosition": {"anchorCell": {"sheetId": sheet_id, "rowIndex": chart.anchor_row - 1,
                                               "columnIndex": chart.anchor_col},
                                "widthPixels": 520, "heightPixels": 320}}


def find_chart(sheet: SheetMeta, title: str, remembered: int | None) -> dict[str, Any] | None:
    """The chart sheetsync keeps on a tab: the one it made before, else the one with this title."""
    for chart in sheet.charts:
        if remembered is not None and chart.get("chartId") == remembered:
            return chart
    return next((c for c in sheet.charts if c.get("spec", {}).get("title") == title), None)


def chart_requests(chart: ChartSpec, sheet: SheetMeta, remembered: int | None) -> list[dict[str, Any]]:
    """Add the chart, or update the existing one in place (and move it if its anchor changed)."""
    spec = chart_spec(chart, sheet.sheet_id)
    position = chart_position(chart, sheet.sheet_id)
    existing = find_chart(sheet, chart.title, remembered)
    if existing is None:
        return [{"addChart": {"chart": {"spec": spec, "position": position}}}]
    chart_id = existing["chartId"]
    requests: list[dict[str, Any]] = [{"updateChartSpec": {"chartId": chart_id, "spec": spec}}]
    anchor = existing.get("position", {}).get("overlayPosition", {}).get("anchorCell", {})
    wanted = position["overlayPosition"]["anchorCell"]
    if any(anchor.get(k, 0) != v for k, v in wanted.items()):
        requests.append({"updateEmbeddedObjectPosition": {"objectId": chart_id, "newPosition": position,
                                                          "fields": "overlayPosition.anchorCell"}})
    return requests
