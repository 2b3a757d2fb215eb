"""The spreadsheets:batchUpdate requests the fake understands; anything else is a 400 like Google's."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

import orjson
from fake_sheets_grid import NO_META, ApiError, Shared, Sheet, from_entered

Book = Any  # the FakeSheets instance; typed loosely to keep this module free of a circular import


def _paths(fields: str) -> list[str]:
    if not fields:
        raise ApiError(400, "At least one field must be specified in 'fields'.")
    if "(" in fields:
        raise ApiError(400, f"The fake only understands comma-separated dotted field masks, not {fields!r}")
    return [p.strip() for p in fields.split(",") if p.strip()]


def _dig(data: dict[str, Any], path: list[str]) -> tuple[bool, Any]:
    node: Any = data
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return False, None
        node = node[part]
    return True, node


def _assign(target: dict[str, Any], path: list[str], present: bool, value: Any) -> None:
    node = target
    for part in path[:-1]:
        if present:
            node = node.setdefault(part, {})
        else:
            node = node.get(part)
            if not isinstance(node, dict):
                return
    if present:
        node[path[-1]] = value
    else:
        node.pop(path[-1], None)


class CellWriter:
    """How one request writes CellData through its field mask: masked fields missing from a cell are cleared.

    Compiled once per request. Formats and validation are computed once per distinct (old formats, new
    CellData formats) pair and stored as one Shared object for every cell that ends up alike.
    """

    def __init__(self, fields: list[str]) -> None:
        for path in fields:
            if path not in ("*", "userEnteredValue", "dataValidation", "note", "effectiveFormat") \
                    and not path.startswith("userEnteredFormat"):
                raise ApiError(400, f"Unknown field {path!r} in fields.")
        self.fields = fields
        self.values = any(p in ("*", "userEnteredValue") for p in fields)
        self.metas = any(p in ("*", "dataValidation") or p.startswith("userEnteredFormat") for p in fields)
        self._memo: dict[tuple[int, bytes], tuple[Mapping[str, Any], Mapping[str, Any]]] = {}

    def row(self, sheet: Sheet, r: int, c0: int, cells: list[dict[str, Any]]) -> None:
        """Write one row of CellData from column c0 on."""
        if self.values:
            sheet.put_row(r, c0, [from_entered(d["userEnteredValue"]) if "userEnteredValue" in d else None
                                  for d in cells])
        if self.metas:
            for j, data in enumerate(cells):
                self.meta(sheet, r, c0 + j, data, self.key(data))

    def key(self, data: dict[str, Any]) -> bytes:
        """What of a CellData the formats depend on, as comparable bytes."""
        part = {k: data[k] for k in ("userEnteredFormat", "dataValidation") if k in data}
        return orjson.dumps(part, option=orjson.OPT_SORT_KEYS) if part else b""

    def meta(self, sheet: Sheet, r: int, c: int, data: dict[str, Any], key: bytes) -> None:
        old = sheet.peek_meta(r, c)
        found = self._memo.get((id(old), key))
        if found is None:
            found = self._memo[(id(old), key)] = (old, self._changed(old, data))  # keeps `old` alive: ids stay unique
        if found[1] is not old:
            sheet.set_meta(r, c, found[1])

    def _changed(self, old: Mapping[str, Any], data: dict[str, Any]) -> Mapping[str, Any]:
        meta: dict[str, Any] = copy.deepcopy(dict(old))
        for path in self.fields:
            if path == "*" or path.startswith("userEnteredFormat"):
                parts = ["userEnteredFormat"] if path == "*" else path.split(".")
                present, value = _dig(data, parts)
                if present or meta:
                    fmt = meta.setdefault("format", {})
                    if len(parts) == 1:
                        meta["format"] = copy.deepcopy(dict(value)) if present else {}
                    else:
                        _assign(fmt, parts[1:], present, copy.deepcopy(value))
            if path in ("*", "dataValidation"):
                present, value = _dig(data, ["dataValidation"])
                if present:
                    meta["validation"] = copy.deepcopy(value)
                else:
                    meta.pop("validation", None)
        if meta == old:
            return old
        return Shared(meta) if meta else NO_META


def _clip(sheet: Sheet, grid: dict[str, Any]) -> tuple[int, int, int, int]:
    r0, r1 = grid.get("startRowIndex", 0), grid.get("endRowIndex", sheet.rows)
    c0, c1 = grid.get("startColumnIndex", 0), grid.get("endColumnIndex", sheet.cols)
    sheet.check_bounds(r1, c1)
    return r0, r1, c0, c1


def update_cells(book: Book, req: dict[str, Any]) -> dict[str, Any]:
    writer = CellWriter(_paths(req.get("fields", "")))
    rows = [row.get("values", []) for row in req.get("rows", [])]
    if "range" in req:
        sheet = book.sheet_by_id(req["range"].get("sheetId", 0))
        r0, r1, c0, c1 = _clip(sheet, req["range"])
        for r in range(r0, r1):
            values = rows[r - r0] if r - r0 < len(rows) else []
            if r - r0 >= len(rows) and r >= len(sheet.values) and r >= len(sheet.meta):
                break
            cells = values[:c1 - c0]
            writer.row(sheet, r, c0, cells + [{}] * (c1 - c0 - len(cells)))
        return {}
    start = req.get("start", {})
    sheet = book.sheet_by_id(start.get("sheetId", 0))
    r0, c0 = start.get("rowIndex", 0), start.get("columnIndex", 0)
    sheet.check_bounds(r0 + len(rows), c0 + max((len(v) for v in rows), default=0))
    for i, values in enumerate(rows):
        writer.row(sheet, r0 + i, c0, values)
    return {}


def append_cells(book: Book, req: dict[str, Any]) -> dict[str, Any]:
    sheet = book.sheet_by_id(req.get("sheetId", 0))
    writer = CellWriter(_paths(req.get("fields", "")))
    rows = [row.get("values", []) for row in req.get("rows", [])]
    start = sheet.last_data_row()
    sheet.grow(start + len(rows), max((len(v) for v in rows), default=0))
    for i, values in enumerate(rows):
        writer.row(sheet, start + i, 0, values)
    return {}


def _fill(sheet: Sheet, r0: int, r1: int, c0: int, c1: int, data: dict[str, Any], writer: CellWriter) -> None:
    """Write the same CellData into every cell of a block."""
    key = writer.key(data)
    value = from_entered(data["userEnteredValue"]) if "userEnteredValue" in data else None
    for r in range(r0, r1):
        if writer.values:
            sheet.put_row(r, c0, [value] * (c1 - c0))
        if writer.metas:
            for c in range(c0, c1):
                writer.meta(sheet, r, c, data, key)


def repeat_cell(book: Book, req: dict[str, Any]) -> dict[str, Any]:
    sheet = book.sheet_by_id(req["range"].get("sheetId", 0))
    writer = CellWriter(_paths(req.get("fields", "")))
    r0, r1, c0, c1 = _clip(sheet, req["range"])
    _fill(sheet, r0, r1, c0, c1, req.get("cell", {}), writer)
    return {}


def set_data_validation(book: Book, req: dict[str, Any]) -> dict[str, Any]:
    sheet = book.sheet_by_id(req["range"].get("sheetId", 0))
    r0, r1, c0, c1 = _clip(sheet, req["range"])
    data = {"dataValidation": req["rule"]} if req.get("rule") else {}
    _fill(sheet, r0, r1, c0, c1, data, CellWriter(["dataValidation"]))
    return {}


def add_sheet(book: Book, req: dict[str, Any]) -> dict[str, Any]:
    props = req.get("properties", {})
    grid = props.get("gridProperties", {})
    sheet = book.add_sheet(props.get("title") or f"Sheet{len(book.sheets) + 1}", sheet_id=props.get("sheetId"),
                           index=props.get("index"), row_count=grid.get("rowCount", 1000),
                           cols=grid.get("columnCount", 26), frozen_rows=grid.get("frozenRowCount", 0))
    return {"addSheet": {"properties": book.sheet_properties(sheet)}}


def update_sheet_properties(book: Book, req: dict[str, Any]) -> dict[str, Any]:
    props = req["properties"]
    sheet = book.sheet_by_id(props.get("sheetId", 0))
    for path in _paths(req.get("fields", "")):
        present, value = _dig(props, path.split("."))
        if path == "title":
            if any(s.title.lower() == str(value).lower() and s is not sheet for s in book.sheets):
                raise ApiError(400, f'A sheet with the name "{value}" already exists. Please enter another name.')
            sheet.title = value
        elif path == "gridProperties.frozenRowCount":
            sheet.frozen_rows = value if present else 0
        elif path == "gridProperties.rowCount":
            sheet.rows = value
        elif path == "gridProperties.columnCount":
            sheet.cols = value
        elif path == "index":
            book.move_sheet(sheet, value)
        else:
            raise ApiError(400, f"The fake does not update sheet property {path!r}.")
    return {}


def _dimension(book: Book, req: dict[str, Any]) -> tuple[Sheet, str, int, int]:
    rng = req["range"]
    return book.sheet_by_id(rng.get("sheetId", 0)), rng["dimension"], rng.get("startIndex", 0), rng.get("endIndex", 0)


def append_dimension(book: Book, req: dict[str, Any]) -> dict[str, Any]:
    sheet = book.sheet_by_id(req.get("sheetId", 0))
    if req["dimension"] == "ROWS":
        sheet.rows += req["length"]
    else:
        sheet.cols += req["length"]
    return {}


def insert_dimension(book: Book, req: dict[str, Any]) -> dict[str, Any]:
    """Insert rows or columns; like Google, new rows take the cell formats of the row after them (of the row
    before with inheritFromBefore, which needs a start index above 0) and the grid grows."""
    sheet, dimension, start, end = _dimension(book, req)
    before = bool(req.get("inheritFromBefore"))
    if before and start == 0:
        raise ApiError(400, "Invalid requests[0].insertDimension: Cannot inherit from before at index 0.")
    if end <= start or start > (sheet.rows if dimension == "ROWS" else sheet.cols):
        raise ApiError(400, f"Invalid requests[0].insertDimension: range [{start}, {end}) is not in the grid.")
    if dimension != "ROWS":
        sheet.insert_cols(start, end - start)
        return {}
    sheet.insert_rows(start, end - start)
    source = start - 1 if before else end  # the neighbour row, after the insert
    row_meta = sheet.meta[source] if 0 <= source < len(sheet.meta) else None
    for c, meta in list((row_meta or {}).items()):
        if meta.get("format"):
            inherited = Shared(format=copy.deepcopy(meta["format"]))  # one stored object, never changed in place
            for r in range(start, end):
                sheet.set_meta(r, c, inherited)
    return {}


def delete_dimension(book: Book, req: dict[str, Any]) -> dict[str, Any]:
    sheet, dimension, start, end = _dimension(book, req)
    if end <= start or end > (sheet.rows if dimension == "ROWS" else sheet.cols):
        raise ApiError(400, f"Invalid requests[0].deleteDimension: range [{start}, {end}) is not in the grid.")
    if dimension == "ROWS" and end - start >= sheet.rows - sheet.frozen_rows:
        raise ApiError(400, "Invalid requests[0].deleteDimension: Sorry, it is not possible to delete all "
                            "non-frozen rows.")
    (sheet.delete_rows if dimension == "ROWS" else sheet.delete_cols)(start, end)
    return {}


def update_dimension_properties(book: Book, req: dict[str, Any]) -> dict[str, Any]:
    sheet, dimension, start, end = _dimension(book, req)
    if dimension == "COLUMNS" and "pixelSize" in req.get("properties", {}):
        for c in range(start, end):
            sheet.widths[c] = req["properties"]["pixelSize"]
    return {}


def add_conditional_format_rule(book: Book, req: dict[str, Any]) -> dict[str, Any]:
    rule = req["rule"]
    sheet = book.sheet_by_id(rule["ranges"][0].get("sheetId", 0))
    sheet.conditional.insert(req.get("index", len(sheet.conditional)), rule)
    return {}


def add_protected_range(book: Book, req: dict[str, Any]) -> dict[str, Any]:
    protected = dict(req["protectedRange"])
    sheet = book.sheet_by_id(protected["range"].get("sheetId", 0))
    protected["protectedRangeId"] = book.new_id()
    sheet.protected.append(protected)
    return {"addProtectedRange": {"protectedRange": protected}}


def add_chart(book: Book, req: dict[str, Any]) -> dict[str, Any]:
    chart = dict(req["chart"])
    anchor = chart.get("position", {}).get("overlayPosition", {}).get("anchorCell")
    if anchor is None:
        raise ApiError(400, "The fake only places charts with an overlayPosition anchorCell.")
    sheet = book.sheet_by_id(anchor.get("sheetId", 0))
    chart["chartId"] = chart.get("chartId") or book.new_id()
    sheet.charts.append(chart)
    return {"addChart": {"chart": chart}}


def _chart(book: Book, chart_id: int) -> dict[str, Any]:
    for sheet in book.sheets:
        for chart in sheet.charts:
            if chart["chartId"] == chart_id:
                return chart
    raise ApiError(400, f"No chart with id: {chart_id}")


def update_chart_spec(book: Book, req: dict[str, Any]) -> dict[str, Any]:
    _chart(book, req["chartId"])["spec"] = req["spec"]
    return {}


def update_embedded_object_position(book: Book, req: dict[str, Any]) -> dict[str, Any]:
    chart = _chart(book, req["objectId"])
    chart["position"] = req["newPosition"]
    return {"updateEmbeddedObjectPosition": {"position": req["newPosition"]}}


def delete_embedded_object(book: Book, req: dict[str, Any]) -> dict[str, Any]:
    for sheet in book.sheets:
        sheet.charts = [c for c in sheet.charts if c["chartId"] != req["objectId"]]
    return {}


def sort_range(book: Book, req: dict[str, Any]) -> dict[str, Any]:
    sheet = book.sheet_by_id(req["range"].get("sheetId", 0))
    spec = req["sortSpecs"][0]
    r0, r1, _, _ = _clip(sheet, req["range"])
    sheet.sort_rows(r0, min(r1, sheet.last_data_row()), spec["dimensionIndex"],
                   spec.get("sortOrder") == "DESCENDING")
    return {}


def delete_sheet(book: Book, req: dict[str, Any]) -> dict[str, Any]:
    sheet = book.sheet_by_id(req["sheetId"])
    if len(book.sheets) == 1:
        raise ApiError(400, "You can't remove all the sheets in a document.")
    book.sheets.remove(sheet)
    for i, other in enumerate(book.sheets):
        other.index = i
    return {}


def copy_paste(book: Book, req: dict[str, Any]) -> dict[str, Any]:
    """Copy a block to another place, values only (PASTE_VALUES) or with formats (PASTE_NORMAL).

    Like Google, a source without end indexes means the whole grid, and the paste must fit the
    destination sheet's grid (rows and columns are not added).
    """
    source = book.sheet_by_id(req["source"].get("sheetId", 0))
    r0, r1, c0, c1 = _clip(source, req["source"])
    dest = req["destination"]
    target = book.sheet_by_id(dest.get("sheetId", 0))
    d_r0, d_c0 = dest.get("startRowIndex", 0), dest.get("startColumnIndex", 0)
    kind = req.get("pasteType", "PASTE_NORMAL")
    if kind not in ("PASTE_NORMAL", "PASTE_VALUES"):
        raise ApiError(400, f"The fake only pastes PASTE_NORMAL and PASTE_VALUES, not {kind!r}")
    target.check_bounds(d_r0 + (r1 - r0), d_c0 + (c1 - c0))
    block = [[source.get(r, c) for c in range(c0, c1)] for r in range(r0, r1)]
    metas = [[source.peek_meta(r, c) for c in range(c0, c1)] for r in range(r0, r1)] if kind == "PASTE_NORMAL" else []
    for i, row in enumerate(block):
        for j, value in enumerate(row):
            target.put(d_r0 + i, d_c0 + j, value)
            if metas and (metas[i][j] or target.peek_meta(d_r0 + i, d_c0 + j)):
                meta = metas[i][j]
                target.set_meta(d_r0 + i, d_c0 + j, meta if type(meta) is Shared else Shared(copy.deepcopy(dict(meta))))
    return {}


HANDLERS: dict[str, Callable[[Book, dict[str, Any]], dict[str, Any]]] = {
    "updateCells": update_cells, "appendCells": append_cells, "repeatCell": repeat_cell,
    "setDataValidation": set_data_validation, "addSheet": add_sheet,
    "updateSheetProperties": update_sheet_properties, "appendDimension": append_dimension,
    "insertDimension": insert_dimension, "deleteDimension": delete_dimension,
    "updateDimensionProperties": update_dimension_properties,
    "addConditionalFormatRule": add_conditional_format_rule, "addProtectedRange": add_protected_range,
    "addChart": add_chart, "updateChartSpec": update_chart_spec,
    "updateEmbeddedObjectPosition": update_embedded_object_position,
    "deleteEmbeddedObject": delete_embedded_object, "sortRange": sort_range, "copyPaste": copy_paste,
    "deleteSheet": delete_sheet,
}


def apply(book: Book, request: dict[str, Any], index: int) -> dict[str, Any]:
    """Apply one batchUpdate request; an unknown kind is refused like Google refuses it."""
    if len(request) != 1:
        raise ApiError(400, f"Invalid requests[{index}]: exactly one kind of request must be set.")
    kind, body = next(iter(request.items()))
    handler = HANDLERS.get(kind)
    if handler is None:
        raise ApiError(400, f'Invalid JSON payload received. Unknown name "{kind}" at \'requests[{index}]\': '
                            "Cannot find field.")
    return handler(book, body)
