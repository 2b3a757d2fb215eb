"""The fake's spreadsheets.get answers: tab properties, charts, protections and grid data for ranges."""

from __future__ import annotations

import json
from typing import Any

from fake_sheets_grid import A1, Sheet, entered_value, parse_a1, render


def sheet_properties(sheet: Sheet) -> dict[str, Any]:
    """A tab's SheetProperties."""
    grid = {"rowCount": sheet.rows, "columnCount": sheet.cols}
    if sheet.frozen_rows:
        grid["frozenRowCount"] = sheet.frozen_rows
    return {"sheetId": sheet.sheet_id, "title": sheet.title, "index": sheet.index, "sheetType": "GRID",
            "gridProperties": grid}


def spreadsheet_json(book: Any, grid_data: bool, ranges: list[str]) -> dict[str, Any]:
    """The Spreadsheet resource; with ranges only the tabs they touch, with grid data their cells."""
    wanted: dict[str, list[A1]] = {}
    for text in ranges:
        a1 = parse_a1(text)
        wanted.setdefault(book._range_sheet(a1).title, []).append(a1)
    sheets = []
    for sheet in book.sheets:
        if ranges and sheet.title not in wanted:
            continue
        entry: dict[str, Any] = {"properties": sheet_properties(sheet)}
        for key, items in (("charts", sheet.charts), ("protectedRanges", sheet.protected),
                           ("conditionalFormats", sheet.conditional)):
            if items:
                entry[key] = json.loads(json.dumps(items))
        if grid_data:
            entry["data"] = [_grid_data(sheet, a1) for a1 in wanted.get(sheet.title, [A1(None, *[None] * 4)])]
        sheets.append(entry)
    return {"spreadsheetId": book.spreadsheet_id,
            "properties": {"title": book.title, "timeZone": book.timezone, "locale": "en_US"},
            "sheets": sheets, "spreadsheetUrl": f"https://docs.google.com/spreadsheets/d/{book.spreadsheet_id}/edit"}


def _grid_data(sheet: Sheet, a1: A1) -> dict[str, Any]:
    r0, r1, c0, c1 = sheet.bounds(a1)
    r1 = min(r1, max(len(sheet.values), len(sheet.meta)))
    rows = []
    for r in range(r0, r1):
        cells = []
        for c in range(c0, c1):
            value, meta = sheet.get(r, c), sheet.cell_meta(r, c)
            cell: dict[str, Any] = {}
            if value is not None:
                cell["userEnteredValue"] = entered_value(value)
                cell["formattedValue"] = str(render(value, sheet.number_format(r, c), "FORMATTED_VALUE", ""))
            if meta.get("format"):
                cell["userEnteredFormat"] = json.loads(json.dumps(meta["format"]))
            if meta.get("validation"):
                cell["dataValidation"] = meta["validation"]
            cells.append(cell)
        while cells and not cells[-1]:
            cells.pop()
        rows.append({"values": cells} if cells else {})
    return {"startRow": r0, "startColumn": c0, "rowData": rows}
