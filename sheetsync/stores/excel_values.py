"""Cell values of the local workbook as sheetsync sees them, however the file was read or written."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time
from decimal import Decimal

from ..ports import Cell


def normal(value: Cell) -> Cell:
    """The value a fresh read of the saved workbook gives back for `value` written to a cell.

    Blank text is no value, whole numbers are ints, dates are datetimes at midnight and Decimals are floats:
    a plan compared or cached with these values matches what the next read returns.
    """
    if value is None or value == "":
        return None
    if isinstance(value, bool | str | int) and not isinstance(value, float):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, Decimal):
        return normal(float(value))
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime.combine(value, time())
    return value


def trimmed(row: list[Cell]) -> list[Cell]:
    """A row without its trailing blank cells."""
    end = len(row)
    while end and row[end - 1] is None:
        end -= 1
    return row if end == len(row) else row[:end]


_KEPT = frozenset({str, int, bool, datetime})
"""Types `normal` returns unchanged (text only when not blank): checked inline, as most cells are these."""


def normal_row(row: Sequence[Cell]) -> list[Cell]:
    """Every cell of a row normalised, trailing blanks dropped."""
    return trimmed([None if c == "" else c if type(c) in _KEPT else normal(c) for c in row])


def normal_rows(rows: Sequence[Sequence[Cell]]) -> list[list[Cell]]:
    """Rows normalised, with the blank rows at the end dropped (a read never returns those)."""
    out = [normal_row(r) for r in rows]
    while out and not out[-1]:
        out.pop()
    return out
