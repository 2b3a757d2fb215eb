"""The fake's spreadsheets.values endpoints: get, batchGet, update, batchUpdate, append, clear."""

from __future__ import annotations

from typing import Any

from fake_sheets_fields import compute
from fake_sheets_grid import ApiError, Formula, Sheet, parse_a1, parse_user_entered, plain_number, render


def _trim(rows: list[list[Any]]) -> list[list[Any]]:
    for row in rows:
        while row and row[-1] == "":
            row.pop()
    while rows and not rows[-1]:
        rows.pop()
    return rows


def read_range(book: Any, text: str, query: dict[str, list[str]]) -> dict[str, Any]:
    """One ValueRange with the render options of the query."""
    value_option = query.get("valueRenderOption", ["FORMATTED_VALUE"])[0]
    date_option = query.get("dateTimeRenderOption", ["SERIAL_NUMBER"])[0]
    if query.get("majorDimension", ["ROWS"])[0] != "ROWS":
        raise ApiError(400, "The fake only answers majorDimension=ROWS.")
    a1 = parse_a1(text)
    sheet = book._range_sheet(a1)
    r0, r1, c0, c1 = sheet.bounds(a1)
    r1, c1 = min(r1, sheet.rows), min(c1, sheet.cols)
    fast = value_option == "UNFORMATTED_VALUE" and date_option == "SERIAL_NUMBER"
    rows = []
    for r in range(r0, min(r1, len(sheet.values))):
        raw = sheet.values[r][c0:c1]
        if value_option != "FORMULA" and any(isinstance(v, Formula) for v in raw):
            raw = [compute(v, sheet.get) if isinstance(v, Formula) else v for v in raw]
        if fast:
            rows.append(["" if v is None else (plain_number(v) if type(v) is float else v) for v in raw])
        else:
            rows.append([render(v, sheet.number_format(r, c0 + i), value_option, date_option)
                         for i, v in enumerate(raw)])
    answer: dict[str, Any] = {"range": book.range_text(sheet, r0, max(r1, r0 + 1), c0, max(c1, c0 + 1)),
                              "majorDimension": "ROWS"}
    values = _trim(rows)
    if values:
        answer["values"] = values
    return answer


def write_range(book: Any, text: str, values: list[list[Any]], option: str) -> dict[str, Any]:
    """Write rows at a range's top-left corner (null skips a cell, "" clears it); grow the grid as needed."""
    if option not in ("RAW", "USER_ENTERED"):
        raise ApiError(400, "Invalid valueInputOption: use RAW or USER_ENTERED.")
    a1 = parse_a1(text)
    sheet = book._range_sheet(a1)
    r0, c0 = a1.r0 or 0, a1.c0 or 0
    width = max((len(r) for r in values), default=0)
    sheet.grow(r0 + len(values), c0 + width)
    for i, row in enumerate(values):
        for j, value in enumerate(row):
            if value is None:
                continue
            _store(sheet, r0 + i, c0 + j, value, option)
    return {"spreadsheetId": book.spreadsheet_id,
            "updatedRange": book.range_text(sheet, r0, r0 + max(len(values), 1), c0, c0 + max(width, 1)),
            "updatedRows": len(values), "updatedColumns": width, "updatedCells": sum(len(r) for r in values)}


def _store(sheet: Sheet, r: int, c: int, value: Any, option: str) -> None:
    if value == "":
        sheet.put(r, c, None)
        return
    if option == "USER_ENTERED":
        value, fmt = parse_user_entered(value, sheet.number_format(r, c))
        if fmt and not sheet.number_format(r, c):
            sheet.cell_meta(r, c, create=True).setdefault("format", {})["numberFormat"] = fmt
    sheet.put(r, c, value)


def append(book: Any, text: str, query: dict[str, list[str]], values: list[list[Any]]) -> dict[str, Any]:
    """values:append with the documented table simplification (see the fake_sheets docstring)."""
    option = query.get("valueInputOption", [""])[0]
    insert = query.get("insertDataOption", ["OVERWRITE"])[0]
    a1 = parse_a1(text)
    sheet = book._range_sheet(a1)
    r0, c0 = a1.r0 or 0, a1.c0 or 0
    c1 = a1.c1 if a1.c1 is not None and a1.r1 is not None else None

    def blank(r: int) -> bool:
        return r >= len(sheet.values) or all(v in (None, "") for v in sheet.values[r][c0:c1])

    first = r0
    while first < len(sheet.values) and blank(first):
        first += 1
    if first >= len(sheet.values):
        table, target = "", r0
    else:
        end = first
        while end < len(sheet.values) and not blank(end):
            end += 1
        width = max(len(sheet.values[r]) for r in range(first, end))
        table, target = book.range_text(sheet, first, end, c0, max(width, c0 + 1)), end
    if insert == "INSERT_ROWS":
        sheet.insert_rows(target, len(values))
    answer = write_range(book, book.range_text(sheet, target, target + 1, c0, c0 + 1).split(":")[0], values, option)
    return {"spreadsheetId": book.spreadsheet_id, "tableRange": table, "updates": answer}


def clear(book: Any, text: str) -> str:
    a1 = parse_a1(text)
    sheet = book._range_sheet(a1)
    r0, r1, c0, c1 = sheet.bounds(a1)
    for r in range(r0, min(r1, len(sheet.values))):
        for c in range(c0, min(c1, len(sheet.values[r]))):
            sheet.values[r][c] = None
    return book.range_text(sheet, r0, min(r1, sheet.rows), c0, min(c1, sheet.cols))


def values_endpoint(book: Any, kind: str, range_text: str, query: dict[str, list[str]],
                    payload: dict[str, Any]) -> dict[str, Any]:
    """Answer one spreadsheets.values request."""
    if kind == "values.get":
        return read_range(book, range_text, query)
    if kind == "values.batchGet":
        return {"spreadsheetId": book.spreadsheet_id,
                "valueRanges": [read_range(book, text, query) for text in query.get("ranges", [])]}
    if kind == "values.update":
        option = query.get("valueInputOption", [""])[0]
        return write_range(book, range_text, payload.get("values", []), option)
    if kind == "values.batchUpdate":
        option = payload.get("valueInputOption") or ""
        responses = [write_range(book, item["range"], item.get("values", []), option)
                     for item in payload.get("data", [])]
        return {"spreadsheetId": book.spreadsheet_id, "responses": responses,
                "totalUpdatedCells": sum(r["updatedCells"] for r in responses)}
    if kind == "values.append":
        return append(book, range_text, query, payload.get("values", []))
    if kind == "values.clear":
        return {"spreadsheetId": book.spreadsheet_id, "clearedRange": clear(book, range_text)}
    if kind == "values.batchClear":
        return {"spreadsheetId": book.spreadsheet_id,
                "clearedRanges": [clear(book, text) for text in payload.get("ranges", [])]}
    raise ApiError(404, f"Unknown method {kind}", "NOT_FOUND")
