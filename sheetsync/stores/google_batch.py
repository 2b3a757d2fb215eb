"""Turn a WriteBatch into spreadsheets:batchUpdate requests, compact enough for Google's size limit.

Cells are written per run of consecutive rows in one column (typed userEnteredValue: text is never
parsed); a column's number format goes in one repeatCell per run instead of once per cell. New rows use
appendCells, which adds them after the last row holding data (blank rows in the middle included) and
never overwrites. Requests are serialized compactly and only split when a body would pass the cap
(Google refuses bodies over 10,485,760 bytes).
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from ..core.formats import BOLD, PATTERNS, PERCENT
from ..core.schema import TABS_BY_KEY
from ..ports import Cell, ChartSpec, WriteBatch
from .google_cells import FIELDS_VALUE, FIELDS_VALUE_AND_FORMAT, CellEncoder
from .google_meta import SheetMeta
from .google_write import Target

MAX_ROWS_PER_REQUEST = 5_000
"""Rows per updateCells/appendCells sub-request, so no single one outgrows a body."""
MAX_BODY_BYTES = 8_000_000
"""Largest batchUpdate body sent; Google refuses more than 10,485,760 bytes."""
FIELDS_FORMAT = "userEnteredFormat.numberFormat"
FIELDS_BOLD = "userEnteredFormat.textFormat.bold"
FIELDS_RESET = f"{FIELDS_FORMAT},{FIELDS_BOLD}"
"""What a rewritten row of a rebuilt tab starts from: no number format, not bold."""
SHORT_RUN = 3
"""Runs up to this long carry their number format per cell; longer ones get one repeatCell."""


def _format_range(sheet_id: int, first: int, last: int | None, col: int, fmt: dict[str, str] | None) -> dict[str, Any]:
    grid = {"sheetId": sheet_id, "startRowIndex": first, "startColumnIndex": col, "endColumnIndex": col + 1}
    if last is not None:
        grid["endRowIndex"] = last
    cell = {"userEnteredFormat": {"numberFormat": fmt}} if fmt else {}
    return {"repeatCell": {"range": grid, "cell": cell, "fields": FIELDS_FORMAT}}


def _runs(rows: list[int]) -> Iterator[list[int]]:
    start = 0
    for i in range(1, len(rows) + 1):
        if i == len(rows) or rows[i] != rows[i - 1] + 1 or i - start == MAX_ROWS_PER_REQUEST:
            yield rows[start:i]
            start = i


def cell_requests(batch: WriteBatch, targets: dict[str, Target], encoder: CellEncoder) -> list[dict[str, Any]]:
    """updateCells per run of consecutive rows in one column, plus its number format when it has one."""
    by_column: dict[tuple[str, int], dict[int, Cell]] = defaultdict(dict)
    for cell in batch.cells:
        by_column[(cell.tab, cell.col)][cell.row] = cell.value
    requests: list[dict[str, Any]] = []
    for (key, col), values in sorted(by_column.items()):
        target = targets[key]
        kind = target.kind(col)
        fmt = encoder.column_format(kind)
        for run in _runs(sorted(values)):
            run_values = [values[r] for r in run]
            short = fmt is not None and len(run) <= SHORT_RUN
            per_cell = short or (fmt is None and encoder.needs_format(kind, run_values))
            requests.append({"updateCells": {
                "start": {"sheetId": target.sheet.sheet_id, "rowIndex": run[0] - 1, "columnIndex": col},
                "rows": [{"values": [encoder.cell(v, kind, per_cell)]} for v in run_values],
                "fields": FIELDS_VALUE_AND_FORMAT if per_cell else FIELDS_VALUE}})
            if fmt and not short:
                requests.append(_format_range(target.sheet.sheet_id, run[0] - 1, run[-1], col, fmt))
    return requests


def _values(row: Sequence[Cell], kinds: Sequence[str | None], encoder: CellEncoder, with_format: bool) -> dict:
    return {"values": [encoder.cell(v, kinds[i] if i < len(kinds) else None, with_format) for i, v in enumerate(row)]}


def _bands(indexes: Sequence[int]) -> Iterator[tuple[int, int]]:
    """Half-open [start, end) spans of consecutive indexes, at most MAX_ROWS_PER_REQUEST long."""
    for run in _runs(list(indexes)):
        yield run[0], run[-1] + 1


def replace_requests(key: str, rows: Sequence[Sequence[Cell]], target: Target, encoder: CellEncoder,
                     formats: dict[tuple[str, int, int], str] | None = None) -> list[dict[str, Any]]:
    """Rewrite a system tab's body: rows that differ from the snapshot, then clear everything below.

    `formats` gives "percent" or "amount" number formats for cells keyed (tab, 1-based row, 0-based col).
    Rewritten rows get their number formats reset first, so a cell never keeps a format from older content.
    """
    first = 0 if TABS_BY_KEY[key].headerless else 1
    sheet, sid = target.sheet, target.sheet.sheet_id
    width = max((len(r) for r in rows), default=0)
    needed = first + len(rows)
    requests: list[dict[str, Any]] = []
    if needed > sheet.rows:
        requests.append({"appendDimension": {"sheetId": sid, "dimension": "ROWS", "length": needed - sheet.rows}})
    if width > sheet.cols:
        requests.append({"appendDimension": {"sheetId": sid, "dimension": "COLUMNS", "length": width - sheet.cols}})
    end_row, end_col = max(needed, sheet.rows), max(width, sheet.cols)
    old = target.data.rows[first:] if target.data is not None else None

    def typed(row: Sequence[Cell]) -> list[dict[str, Any]]:
        out = [encoder.value(v, target.kind(i)) for i, v in enumerate(row)]
        while out and not out[-1]:
            out.pop()
        return out

    middle = None if old is None or sheet.charts or len(old) == len(rows) else _middle(old, rows, typed)
    room = old is not None and (len(rows) > len(old) or sheet.rows + len(rows) - len(old) > first + 1)
    if middle is not None and old is not None and room:
        # Entries added or removed inside a list (a reminder done): move the rows below instead of rewriting them.
        at, old_end, new_end = (first + i for i in middle)
        if old_end > new_end:
            requests.insert(0, {"deleteDimension": {"range": {"sheetId": sid, "dimension": "ROWS",
                                                              "startIndex": new_end, "endIndex": old_end}}})
        else:
            requests.insert(0, {"insertDimension": {"range": {"sheetId": sid, "dimension": "ROWS",
                                                              "startIndex": old_end, "endIndex": new_end},
                                                    "inheritFromBefore": False}})
        grid_rows = sheet.rows + len(rows) - len(old)
        requests = [r for r in requests if r.get("appendDimension", {}).get("dimension") != "ROWS"]
        if needed > grid_rows:
            requests.insert(1, {"appendDimension": {"sheetId": sid, "dimension": "ROWS", "length": needed - grid_rows}})
        end_row = needed
        lo, old_hi, new_hi = middle
        before: Sequence[Sequence[Cell]] = old
        changed = [i for i in range(lo, new_hi) if i >= old_hi or typed(rows[i]) != typed(before[i])]
    else:
        changed = [i for i, row in enumerate(rows) if old is None or i >= len(old) or typed(row) != typed(old[i])]
    extra = _extra_formats(key, rows, first, target, encoder, formats)
    for a, b in _bands(changed):
        grid = {"sheetId": sid, "startRowIndex": first + a, "endRowIndex": first + b,
                "startColumnIndex": 0, "endColumnIndex": end_col}
        requests.append({"repeatCell": {"range": grid, "cell": {}, "fields": FIELDS_RESET}})
        requests.append({"updateCells": {"range": grid, "fields": FIELDS_VALUE,
                                         "rows": [_values(r, target.kinds, encoder, False) for r in rows[a:b]]}})
        for col in range(width):
            fmt = encoder.column_format(target.kind(col))
            if fmt:
                requests.append(_format_range(sid, first + a, first + b, col, fmt))
        for (row, col), fmt in sorted(extra.items()):
            if first + a < row <= first + b:
                requests.append(_bold(sid, row - 1, col) if fmt is None else _format_range(sid, row - 1, row, col, fmt))
    if old is not None:  # clear only rows that held something when read: an idle cycle writes nothing
        end_row = min(end_row, first + len(old))
    if end_row > needed and end_col > 0:
        grid = {"sheetId": sid, "startRowIndex": needed, "endRowIndex": end_row,
                "startColumnIndex": 0, "endColumnIndex": end_col}
        requests.append({"repeatCell": {"range": grid, "cell": {}, "fields": FIELDS_RESET}})
        requests.append({"updateCells": {"range": grid, "fields": FIELDS_VALUE}})
    return requests


def _middle(old: Sequence[Sequence[Cell]], new: Sequence[Sequence[Cell]],
            typed: Callable[[Sequence[Cell]], list[dict[str, Any]]]) -> tuple[int, int, int]:
    """Where two lists differ once their common head and tail are set aside: (start, old end, new end)."""
    head = 0
    shortest = min(len(old), len(new))
    while head < shortest and typed(old[head]) == typed(new[head]):
        head += 1
    tail = 0
    while tail < shortest - head and typed(old[-1 - tail]) == typed(new[-1 - tail]):
        tail += 1
    return head, len(old) - tail, len(new) - tail


def _bold(sheet_id: int, row: int, col: int) -> dict[str, Any]:
    grid = {"sheetId": sheet_id, "startRowIndex": row, "endRowIndex": row + 1, "startColumnIndex": col,
            "endColumnIndex": col + 1}
    return {"repeatCell": {"range": grid, "cell": {"userEnteredFormat": {"textFormat": {"bold": True}}},
                           "fields": FIELDS_BOLD}}


def summary_format(kind: str) -> dict[str, str] | None:
    """The numberFormat of a core.formats kind; None for bold (a font, not a number format)."""
    if kind == BOLD:
        return None
    pattern = PATTERNS.get(kind, PATTERNS[PERCENT])
    return {"type": "PERCENT" if kind == PERCENT else "NUMBER", "pattern": pattern}


def _extra_formats(key: str, rows: Sequence[Sequence[Cell]], first: int, target: Target, encoder: CellEncoder,
                   formats: dict[tuple[str, int, int], str] | None) -> dict[tuple[int, int], dict[str, str] | None]:
    """Per-cell formats: dates in columns of no known kind, and the batch's cells (None means bold)."""
    extra: dict[tuple[int, int], dict[str, str] | None] = {}
    for i, row in enumerate(rows):
        for col, value in enumerate(row):
            fmt = None if encoder.column_format(target.kind(col)) else encoder.value_format(value)
            if fmt:
                extra[(first + i + 1, col)] = fmt
    for (tab, at_row, at_col), kind in (formats or {}).items():
        if tab == key:
            extra[(at_row, at_col)] = summary_format(kind)
    return extra


def append_requests(key: str, rows: Sequence[Sequence[Cell]], target: Target,
                    encoder: CellEncoder) -> list[dict[str, Any]]:
    """appendCells for new rows; a system tab gets its column formats once, a people's tab per new cell."""
    system = TABS_BY_KEY[key].system
    requests: list[dict[str, Any]] = []
    for band in range(0, len(rows), MAX_ROWS_PER_REQUEST):
        requests.append({"appendCells": {
            "sheetId": target.sheet.sheet_id,
            "rows": [_values(r, target.kinds, encoder, not system) for r in rows[band:band + MAX_ROWS_PER_REQUEST]],
            "fields": FIELDS_VALUE if system else FIELDS_VALUE_AND_FORMAT}})
    if system and rows:
        for col in range(max(len(r) for r in rows)):
            fmt = encoder.column_format(target.kind(col))
            if fmt:
                requests.append(_format_range(target.sheet.sheet_id, 1, None, col, fmt))
    return requests


def chart_spec(chart: ChartSpec, sheet_id: int) -> dict[str, Any]:
    """A native BASIC bar chart of one category column against one value column."""
    def source(col: int) -> dict[str, Any]:
        return {"sourceRange": {"sources": [{
            "sheetId": sheet_id, "startRowIndex": chart.first_row - 1, "endRowIndex": chart.last_row,
            "startColumnIndex": col, "endColumnIndex": col + 1}]}}
    value_axis: dict[str, Any] = {"position": "BOTTOM_AXIS", "title": chart.series_title}
    if chart.integer_ticks:
        # The API has no tick step: fix the window from 0 to a multiple of 4 so Google's five gridlines
        # fall on whole numbers, and label each bar with its exact count.
        top = max(4, 4 * math.ceil((chart.value_max or 0) / 4))
        value_axis["viewWindowOptions"] = {"viewWindowMode": "EXPLICIT", "viewWindowMin": 0, "viewWindowMax": top}
    return {"title": chart.title, "basicChart": {
        "chartType": "BAR", "legendPosition": "NO_LEGEND", "headerCount": 0,
        "axis": [value_axis, {"position": "LEFT_AXIS", "title": ""}],
        "domains": [{"domain": source(chart.category_col)}],
        "series": [{"series": source(chart.value_col), "targetAxis": "BOTTOM_AXIS",
                    "dataLabel": {"type": "DATA", "placement": "OUTSIDE_END"}}]}}


def chart_position(chart: ChartSpec, sheet_id: int) -> dict[str, Any]:
    """Where the chart floats: its top-left corner on the anchor cell."""
    return {"overlayPosition": {"anchorCell": {"sheetId": sheet_id, "rowIndex": chart.anchor_row - 1,
                                               "columnIndex": chart.anchor_col},
                                "widthPixels": 520, "heightPixels": 320}}


def chart_slot(chart: ChartSpec, sheet_id: int) -> tuple[int, int, int]:
    """Where a chart is anchored (sheet ID, 0-based row, column): sheetsync keeps one chart per place."""
    return (sheet_id, chart.anchor_row - 1, chart.anchor_col)


def find_chart(sheet: SheetMeta, title: str, remembered: int | None,
               slot: tuple[int, int, int] | None = None) -> dict[str, Any] | None:
    """The chart sheetsync keeps: the one it made before, else the one with this title, else the one
    anchored at `slot` (a chart `init` placed, or one whose title changed language)."""
    for chart in sheet.charts:
        if remembered is not None and chart.get("chartId") == remembered:
            return chart
    found = next((c for c in sheet.charts if c.get("spec", {}).get("title") == title), None)
    if found is None and slot is not None:
        for chart in sheet.charts:
            anchor = chart.get("position", {}).get("overlayPosition", {}).get("anchorCell", {})
            if (anchor.get("sheetId", 0), anchor.get("rowIndex", 0), anchor.get("columnIndex", 0)) == slot:
                return chart
    return found


def _ranges(spec: dict[str, Any]) -> tuple[object, ...]:
    """What of a chart's spec sheetsync sets and Google echoes back: title, chart type, data ranges and the
    top of a count chart's whole-number axis."""
    basic = spec.get("basicChart", {})

    def sources(items: list[dict[str, Any]], key: str) -> list[object]:
        return [item.get(key, {}).get("sourceRange", {}).get("sources") for item in items]

    windows = [axis.get("viewWindowOptions", {}).get("viewWindowMax") for axis in basic.get("axis", [])]
    return (spec.get("title"), basic.get("chartType"), sources(basic.get("domains", []), "domain"),
            sources(basic.get("series", []), "series"), windows)


def chart_requests(chart: ChartSpec, sheet: SheetMeta, remembered: int | None) -> list[dict[str, Any]]:
    """Add the chart, or update the existing one when its ranges or title differ (and move it if its anchor did)."""
    spec = chart_spec(chart, sheet.sheet_id)
    position = chart_position(chart, sheet.sheet_id)
    existing = find_chart(sheet, chart.title, remembered, chart_slot(chart, sheet.sheet_id))
    if existing is None:
        return [{"addChart": {"chart": {"spec": spec, "position": position}}}]
    chart_id = existing["chartId"]
    requests: list[dict[str, Any]] = []
    if _ranges(existing.get("spec", {})) != _ranges(spec):
        requests.append({"updateChartSpec": {"chartId": chart_id, "spec": spec}})
    anchor = existing.get("position", {}).get("overlayPosition", {}).get("anchorCell", {})
    wanted = position["overlayPosition"]["anchorCell"]
    if any(anchor.get(k, 0) != v for k, v in wanted.items()):
        requests.append({"updateEmbeddedObjectPosition": {"objectId": chart_id, "newPosition": position,
                                                          "fields": "overlayPosition.anchorCell"}})
    return requests


def bodies(requests: Sequence[dict[str, Any]], limit: int = MAX_BODY_BYTES) -> list[tuple[int, bytes]]:
    """Compact batchUpdate bodies, as few as the size limit allows: (requests in it, JSON bytes) each.

    Only the last body asks for the updated spreadsheet back, which refreshes the cached metadata.
    """
    parts = [json.dumps(r, separators=(",", ":"), ensure_ascii=False).encode("utf-8") for r in requests]
    groups: list[list[bytes]] = [[]]
    size = 0
    for part in parts:
        if groups[-1] and size + len(part) + 1 > limit - 200:
            groups.append([])
            size = 0
        groups[-1].append(part)
        size += len(part) + 1
    out = []
    for i, group in enumerate(groups):
        tail = b',"includeSpreadsheetInResponse":true,"responseIncludeGridData":false' if i == len(groups) - 1 else b""
        out.append((len(group), b'{"requests":[' + b",".join(group) + b"]" + tail + b"}"))
    return out
