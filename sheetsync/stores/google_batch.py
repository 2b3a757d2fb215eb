"""Turn a WriteBatch into spreadsheets:batchUpdate requests, compact enough for Google's size limit.

Cells are written per run of consecutive rows in one column (typed userEnteredValue: text is never
parsed); a column's number format goes in one repeatCell per run instead of once per cell. New rows use
appendCells, which adds them after the last row holding data (blank rows in the middle included) and
never overwrites. Rebuilt tabs are written as a diff against what was read (replace_requests). Requests are
serialized compactly into bodies filled to the cap, a long request cut between rows where a body is full
(Google refuses bodies over 10,485,760 bytes); formats go before values, so a write stopped between bodies
never leaves a value without its format (which the next cycle could not see), only values still to write.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..core.formats import BOLD, PATTERNS, PERCENT
from ..core.schema import TABS_BY_KEY
from ..ports import Cell, ChartSpec, WriteBatch
from .google_cells import FIELDS_VALUE, FIELDS_VALUE_AND_FORMAT, CellEncoder
from .google_meta import SheetMeta
from .google_write import Target
from .row_align import Hunk, hunks

MAX_ROWS_PER_REQUEST = 5_000
"""Rows per updateCells/appendCells sub-request, so no single one outgrows a body."""
MAX_BODY_BYTES = 10_000_000
"""Largest batchUpdate body sent. Google refuses a payload over 10,485,760 bytes ("Request payload size exceeds
the limit: 10485760 bytes."). Bodies are measured exactly as sent (compact UTF-8 JSON, bytes counted, not
characters), so the margin, 485,760 bytes (4.6 %), only has to cover how Google counts: it also stays under
"10 MB" read as decimal megabytes, and a body at the limit costs one request more per 200 MB written."""
FIELDS_FORMAT = "userEnteredFormat.numberFormat"
FIELDS_BOLD = "userEnteredFormat.textFormat.bold"
FIELDS_RESET = f"{FIELDS_FORMAT},{FIELDS_BOLD}"
"""What a rewritten row of a rebuilt tab starts from: no number format, not bold."""
FIELDS_CELL = f"{FIELDS_VALUE},{FIELDS_RESET}"
"""A rebuilt tab's cell written with its whole format: what the mask names but the cell lacks is cleared."""
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
            if fmt and not short:  # the format first: a write cut short never leaves a value without it
                requests.append(_format_range(target.sheet.sheet_id, run[0] - 1, run[-1], col, fmt))
            requests.append({"updateCells": {
                "start": {"sheetId": target.sheet.sheet_id, "rowIndex": run[0] - 1, "columnIndex": col},
                "rows": [{"values": [encoder.cell(v, kind, per_cell)]} for v in run_values],
                "fields": FIELDS_VALUE_AND_FORMAT if per_cell else FIELDS_VALUE}})
    return requests


def _values(row: Sequence[Cell], kinds: Sequence[str | None], encoder: CellEncoder, with_format: bool) -> dict:
    return {"values": [encoder.cell(v, kinds[i] if i < len(kinds) else None, with_format) for i, v in enumerate(row)]}


def _bands(indexes: Sequence[int]) -> Iterator[tuple[int, int]]:
    """Half-open [start, end) spans of consecutive indexes, at most MAX_ROWS_PER_REQUEST long."""
    for run in _runs(list(indexes)):
        yield run[0], run[-1] + 1


@dataclass
class Rebuild:
    """The requests that turn a rebuilt tab's rows as read into its new rows, and the rows they rely on."""

    requests: list[dict[str, Any]]
    rows: set[int] = field(default_factory=set)
    """1-based rows (numbered as read) the requests overwrite, delete, clear or insert above: the guard re-reads
    them, and the write is refused if any no longer holds what was read."""


def replace_requests(key: str, rows: Sequence[Sequence[Cell]], target: Target, encoder: CellEncoder,
                     formats: dict[tuple[str, int, int], str] | None = None) -> Rebuild:
    """Rewrite a system tab's body as a diff against what the read returned.

    Old and new rows are aligned (row_align): rows added or removed in the middle are inserted or deleted
    (insertDimension/deleteDimension, so the rows below move instead of being rewritten), paired rows that
    differ get only their differing cells written, rows past the old end are written below it and old rows
    past the new end are cleared. A tab with a chart is compared row by row (moving rows would move the
    chart's data range). `formats` gives "percent", "amount" or "bold" for cells keyed (tab, 1-based row,
    0-based col); every cell written gets its whole number format and boldness, so none keeps an old one.
    """
    first = 0 if TABS_BY_KEY[key].headerless else 1
    sheet, sid = target.sheet, target.sheet.sheet_id
    width = max((len(r) for r in rows), default=0)
    requests: list[dict[str, Any]] = []
    if width > sheet.cols:
        requests.append({"appendDimension": {"sheetId": sid, "dimension": "COLUMNS", "length": width - sheet.cols}})
    end_col = max(width, sheet.cols)
    extra = _Extra(key, target, encoder, formats)
    needed = first + len(rows)
    if target.data is None:  # never read: write every row and clear the rest of the grid
        if needed > sheet.rows:
            requests.append({"appendDimension": {"sheetId": sid, "dimension": "ROWS", "length": needed - sheet.rows}})
        requests += _band_requests(sid, first, range(len(rows)), rows, target, encoder, end_col, extra)
        requests += _clear(sid, needed, max(needed, sheet.rows), end_col)
        return Rebuild(requests)
    kinds = target.kinds
    old = target.data.rows[first:]
    old_keys = encoder.row_keys(old, kinds)
    new_keys = encoder.row_keys(rows, kinds)
    stretches = [Hunk(0, len(old), 0, len(rows))] if sheet.charts else hunks(old_keys, new_keys)
    depends: set[int] = set()
    grid = sheet.rows
    cells: dict[tuple[int, int], Cell] = {}
    fresh: list[int] = []
    cleared = 0
    for h in stretches:
        old_n, new_n = h.old_end - h.old_start, h.new_end - h.new_start
        paired = min(old_n, new_n)
        for t in range(paired):
            i, o = h.new_start + t, h.old_start + t
            if new_keys[i] != old_keys[o]:
                depends.add(first + o + 1)
                cells.update(_changed_cells(first + i, rows[i], old[o], kinds, encoder))
        at = first + h.new_start + paired  # where the rest starts in the sheet as it is when this stretch's turn comes
        extra_old = range(first + h.old_start + paired + 1, first + h.old_end + 1)
        if h.old_end == len(old):  # the end of the list: write below the old rows, clear what is left of them
            fresh += range(h.new_start + paired, h.new_end)
            cleared = max(cleared, old_n - new_n)
            depends.update(extra_old)
        elif old_n > new_n:
            requests.append({"deleteDimension": {"range": {"sheetId": sid, "dimension": "ROWS", "startIndex": at,
                                                           "endIndex": at + old_n - new_n}}})
            grid -= old_n - new_n
            depends.update(extra_old)
        elif new_n > old_n:
            requests.append({"insertDimension": {"range": {"sheetId": sid, "dimension": "ROWS", "startIndex": at,
                                                           "endIndex": at + new_n - old_n},
                                                 "inheritFromBefore": False}})
            grid += new_n - old_n
            fresh += range(h.new_start + paired, h.new_end)
            depends.add(first + h.old_end + 1)  # the row the new ones go above
    if needed > grid:
        requests.append({"appendDimension": {"sheetId": sid, "dimension": "ROWS", "length": needed - grid}})
    requests += _cell_writes(sid, cells, first, rows, target, encoder, extra)
    requests += _band_requests(sid, first, fresh, rows, target, encoder, end_col, extra)
    requests += _clear(sid, needed, needed + cleared, end_col)
    return Rebuild(requests, depends)


def _changed_cells(row0: int, new: Sequence[Cell], old: Sequence[Cell], kinds: Sequence[str | None],
                   encoder: CellEncoder) -> dict[tuple[int, int], Cell]:
    """The cells of one paired row whose stored value differs, keyed (0-based row, col)."""
    out: dict[tuple[int, int], Cell] = {}
    for col in range(max(len(new), len(old))):
        kind = kinds[col] if col < len(kinds) else None
        value = new[col] if col < len(new) else None
        if encoder.key(value, kind) != encoder.key(old[col] if col < len(old) else None, kind):
            out[(row0, col)] = value
    return out


def _clear(sid: int, start: int, end: int, end_col: int) -> list[dict[str, Any]]:
    """Clear values, number formats and boldness of rows [start, end)."""
    if end <= start or end_col <= 0:
        return []
    grid = {"sheetId": sid, "startRowIndex": start, "endRowIndex": end, "startColumnIndex": 0,
            "endColumnIndex": end_col}
    return [{"repeatCell": {"range": grid, "cell": {}, "fields": FIELDS_RESET}},
            {"updateCells": {"range": grid, "fields": FIELDS_VALUE}}]


def _cell_format(kind: str | None, value: Cell, wanted: Any, encoder: CellEncoder) -> dict[str, Any]:
    """The userEnteredFormat of a written cell of a rebuilt tab: `wanted` is its _extra_formats entry
    (a number format, None for bold, _PLAIN for none)."""
    number = encoder.column_format(kind)
    out: dict[str, Any] = {}
    if wanted is None:
        out["textFormat"] = {"bold": True}
        number = number or encoder.value_format(value)
    elif wanted is not _PLAIN:
        number = wanted
    if number:
        out["numberFormat"] = number
    return out


_PLAIN = object()


BRIDGE = 2
"""Unchanged cells up to this many between two changed ones in a row of a rebuilt tab are written too (with
the value they already hold), so the row goes in one request instead of two."""


def _rectangles(cells: Iterable[tuple[int, int]], bridge: int) -> list[tuple[int, int, int, int]]:
    """Half-open rectangles (first row, end row, first col, end col) covering `cells`: runs of columns in a row
    (gaps up to `bridge` cells included), stacked where consecutive rows have the same run."""
    by_row: dict[int, list[int]] = defaultdict(list)
    for row, col in cells:
        by_row[row].append(col)
    spans: list[tuple[int, int, int]] = []
    for row, cols in by_row.items():
        cols.sort()
        start = prev = cols[0]
        for col in cols[1:]:
            if col - prev - 1 > bridge:
                spans.append((row, start, prev + 1))
                start = col
            prev = col
        spans.append((row, start, prev + 1))
    spans.sort(key=lambda s: (s[1], s[2], s[0]))
    out: list[tuple[int, int, int, int]] = []
    for row, c0, c1 in spans:
        if out and out[-1][1] == row and out[-1][2:] == (c0, c1):
            out[-1] = (out[-1][0], row + 1, c0, c1)
        else:
            out.append((row, row + 1, c0, c1))
    return out


def _cell_writes(sid: int, cells: dict[tuple[int, int], Cell], first: int, rows: Sequence[Sequence[Cell]],
                 target: Target, encoder: CellEncoder, extra: _Extra) -> list[dict[str, Any]]:
    """updateCells per rectangle of changed cells, each cell with its whole format (number format and bold).

    A rectangle taller than SHORT_RUN whose every column keeps one format sets it in one repeatCell per column,
    sent before the values (a write cut short then leaves values to write, which the next cycle sees, never a
    value without its format, which it would not); smaller ones carry the format in each cell.
    """
    requests: list[dict[str, Any]] = []
    for r0, r1, c0, c1 in sorted(_rectangles(cells, BRIDGE)):
        grid_rows = []
        for r in range(r0, r1):
            new = rows[r - first]
            values = [new[c] if c < len(new) else None for c in range(c0, c1)]
            fmts = [_cell_format(target.kind(c0 + j), v, extra.at(r + 1, c0 + j, v), encoder)
                    for j, v in enumerate(values)]
            grid_rows.append((values, fmts))
        columns = [[fmts[j] for _, fmts in grid_rows] for j in range(c1 - c0)]
        shared = r1 - r0 > SHORT_RUN and all(all(f == col[0] for f in col) for col in columns)
        start = {"sheetId": sid, "rowIndex": r0, "columnIndex": c0}
        if shared:
            for j, col in enumerate(columns):
                grid = {"sheetId": sid, "startRowIndex": r0, "endRowIndex": r1, "startColumnIndex": c0 + j,
                        "endColumnIndex": c0 + j + 1}
                requests.append({"repeatCell": {"range": grid, "cell": {"userEnteredFormat": col[0]} if col[0] else {},
                                                "fields": FIELDS_RESET}})
            requests.append({"updateCells": {"start": start, "fields": FIELDS_VALUE, "rows": [
                {"values": [encoder.cell(v, target.kind(c0 + j), False) for j, v in enumerate(values)]}
                for values, _ in grid_rows]}})
            continue
        out = []
        for values, fmts in grid_rows:
            row_out = []
            for j, (v, f) in enumerate(zip(values, fmts, strict=True)):
                data = encoder.cell(v, target.kind(c0 + j), False)
                if f:
                    data["userEnteredFormat"] = f
                row_out.append(data)
            out.append({"values": row_out})
        requests.append({"updateCells": {"start": start, "rows": out, "fields": FIELDS_CELL}})
    return requests


def _band_requests(sid: int, first: int, indexes: Sequence[int], rows: Sequence[Sequence[Cell]], target: Target,
                   encoder: CellEncoder, end_col: int,
                   extra: _Extra) -> list[dict[str, Any]]:
    """Whole rows (new or inserted): per band of consecutive rows, reset formats, values, then formats."""
    requests: list[dict[str, Any]] = []
    width = max((len(rows[i]) for i in indexes), default=0)
    for a, b in _bands(indexes):
        grid = {"sheetId": sid, "startRowIndex": first + a, "endRowIndex": first + b,
                "startColumnIndex": 0, "endColumnIndex": end_col}
        requests.append({"repeatCell": {"range": grid, "cell": {}, "fields": FIELDS_RESET}})
        for col in range(width):
            fmt = encoder.column_format(target.kind(col))
            if fmt:
                requests.append(_format_range(sid, first + a, first + b, col, fmt))
        for i in range(a, b):
            for col, value in enumerate(rows[i]):
                fmt = extra.at(first + i + 1, col, value)
                if fmt is not _PLAIN:
                    row = first + i
                    requests.append(_bold(sid, row, col) if fmt is None else _format_range(sid, row, row + 1, col, fmt))
        # values last: a write cut short between bodies leaves rows the next cycle sees differ and rewrites
        requests.append({"updateCells": {"range": grid, "fields": FIELDS_VALUE,
                                         "rows": [_values(r, target.kinds, encoder, False) for r in rows[a:b]]}})
    return requests


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


class _Extra:
    """Per-cell formats of a rebuilt tab beyond its columns' own: the batch's (None means bold) and dates in
    columns of no known kind. `at` answers _PLAIN for a cell with none."""

    def __init__(self, key: str, target: Target, encoder: CellEncoder,
                 formats: dict[tuple[str, int, int], str] | None) -> None:
        self.batch = {(row, col): summary_format(kind) for (tab, row, col), kind in (formats or {}).items()
                      if tab == key}
        self.target, self.encoder = target, encoder

    def at(self, row: int, col: int, value: Cell) -> Any:
        """The format of the cell at 1-based `row`, 0-based `col` holding `value`."""
        if (row, col) in self.batch:
            return self.batch[(row, col)]
        if self.encoder.column_format(self.target.kind(col)) is None:
            return self.encoder.value_format(value) or _PLAIN
        return _PLAIN


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


_OPEN = b'{"requests":['
_TAIL = b'],"includeSpreadsheetInResponse":true,"responseIncludeGridData":false}'
_CLOSE = b"]}"


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def encode(requests: Sequence[dict[str, Any]]) -> bytes:
    """Requests as they sit in a body, comma included: what prepend adds to one."""
    return b"".join(_dumps(r) + b"," for r in requests)


def prepend(requests: Sequence[dict[str, Any]], body: bytes) -> bytes:
    """A body with `requests` put first."""
    return _OPEN + encode(requests) + body[len(_OPEN):]


def _piece(request: dict[str, Any], start: int, end: int, rows: bool = True) -> dict[str, Any]:
    """Rows [start, end) of an updateCells/appendCells request as a request of their own (rows False: the
    request without its rows, whose JSON the rows' JSON is spliced into)."""
    kind, body = next(iter(request.items()))
    last = end == len(body["rows"])
    piece = dict(body)
    piece["rows"] = body["rows"][start:end] if rows else []
    if "start" in body:
        piece["start"] = {**body["start"], "rowIndex": body["start"].get("rowIndex", 0) + start}
    elif "range" in body:
        grid = dict(body["range"])
        first = grid.get("startRowIndex", 0)
        grid["startRowIndex"] = first + start
        if not last:
            grid["endRowIndex"] = first + end
        piece["range"] = grid
    return {kind: piece}


def _splittable(request: dict[str, Any]) -> list[Any] | None:
    """The rows of a request that may be sent in parts (updateCells, appendCells), else None."""
    kind, body = next(iter(request.items()))
    if kind not in ("updateCells", "appendCells") or len(body.get("rows", ())) < 2:
        return None
    rows: list[Any] = body["rows"]
    return rows


def bodies(requests: Sequence[dict[str, Any]], limit: int = MAX_BODY_BYTES) -> list[tuple[list[dict[str, Any]], bytes]]:
    """Compact batchUpdate bodies, as few as the size limit allows: (the requests in it, JSON bytes) each.

    Bodies are filled to the limit in order: a request of many rows that does not fit the room left is cut at
    the row that fills it and goes on in the next body. Only the last body asks for the updated spreadsheet
    back, which refreshes the cached metadata.
    """
    room = limit - len(_OPEN) - max(len(_TAIL), len(_CLOSE))
    groups: list[list[tuple[dict[str, Any], bytes]]] = [[]]
    size = 0

    def add(request: dict[str, Any], part: bytes) -> None:
        nonlocal size
        size += len(part) + (1 if groups[-1] else 0)
        groups[-1].append((request, part))

    def flush() -> None:
        nonlocal size
        if groups[-1]:
            groups.append([])
            size = 0

    for request in requests:
        rows = _splittable(request)
        if rows is None:
            part = _dumps(request)
            if groups[-1] and size + 1 + len(part) > room:
                flush()
            add(request, part)
            continue
        parts = [_dumps(r) for r in rows]
        at = 0
        while at < len(rows):
            free = room - size - (1 if groups[-1] else 0)
            shell = _dumps(_piece(request, at, len(rows), rows=False))  # a piece's own is no longer
            total, count = len(shell), 0
            while at + count < len(rows):
                more = len(parts[at + count]) + (1 if count else 0)
                if total + more > free:
                    break
                total += more
                count += 1
            if count == 0:
                if groups[-1]:
                    flush()
                    continue
                count = 1  # one row bigger than a whole body: sent alone, Google refuses it and says why
            end = at + count
            joined = b'"rows":[' + b",".join(parts[at:end]) + b"]"
            add(_piece(request, at, end), _dumps(_piece(request, at, end, rows=False)).replace(b'"rows":[]', joined, 1))
            at = end
            if at < len(rows):
                flush()
    full = [g for g in groups if g]
    return [([r for r, _ in g], _OPEN + b",".join(p for _, p in g) + (_TAIL if i == len(full) - 1 else _CLOSE))
            for i, g in enumerate(full)]
