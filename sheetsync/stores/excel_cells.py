"""Cell-level helpers for the workbook store: text stays text, dates look like dates."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from openpyxl.worksheet.worksheet import Worksheet

from ..ports import Cell

DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"


def set_cell(ws: Worksheet, row: int, col: int, value: Cell) -> None:
    """Put a value in a cell so that text stays text and dates look like dates."""
    cell = ws.cell(row=row, column=col + 1)
    if isinstance(value, Decimal):
        value = float(value)
    elif isinstance(value, date) and not isinstance(value, datetime):
        value = datetime.combine(value, datetime.min.time())  # read back the same as a saved file gives it
    cell.value = value
    if isinstance(value, str):
        # openpyxl turns any text starting with "=" into a formula; a form value must never run.
        cell.data_type = "s"
        if value[:1] in ("=", "+", "-", "@"):
            cell.quotePrefix = True
    elif isinstance(value, datetime):
        cell.number_format = DATETIME_FORMAT if value.time() != datetime.min.time() else DATE_FORMAT


def last_row(ws: Worksheet) -> int:
    """The last row holding any value (max_row also counts rows that only carry formatting)."""
    last = 0
    for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
        if any(value not in (None, "") for value in values):
            last = number
    return last
