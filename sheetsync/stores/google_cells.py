"""Translate cells between the Sheets API and the Python values every store returns.

Reading uses UNFORMATTED_VALUE with SERIAL_NUMBER dates: a date is a number of days since 1899-12-30 in
the spreadsheet's own timezone. Writing uses typed CellData (stringValue is never parsed, so text that
looks like a formula or a number stays text).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from ..core.schema import Tab, column_for, column_letter
from ..core.values import from_serial, to_serial
from ..ports import Cell

TEXT_KINDS = frozenset({"text", "id", "phone", "email", "list", "stage", "approval"})
"""Column kinds whose numbers are read back as digit strings (IDs, phones, free text)."""
DATE_KINDS = frozenset({"date", "datetime"})
DATE_FORMAT = {"type": "DATE", "pattern": "yyyy-mm-dd"}
DATETIME_FORMAT = {"type": "DATE_TIME", "pattern": "yyyy-mm-dd hh:mm"}
TEXT_FORMAT = {"type": "TEXT"}
PERCENT_FORMAT = {"type": "PERCENT", "pattern": "0%"}
DEFAULT_AMOUNT_PATTERN = "#,##0.00"

Converter = Callable[[Any], Cell]


def quote_title(title: str) -> str:
    """A tab title quoted for A1 notation ('It''s' for It's)."""
    return "'" + title.replace("'", "''") + "'"


def column_span(title: str, col: int, first_row: int, last_row: int) -> str:
    """A1 range for rows first..last (1-based) of one 0-based column."""
    letter = column_letter(col)
    return f"{quote_title(title)}!{letter}{first_row}:{letter}{last_row}"


def digits(number: int | float) -> str:
    """A number as the text a person typed: no float formatting, no exponent for big integers."""
    if isinstance(number, float) and number.is_integer() and math.isfinite(number):
        return str(int(number))
    return str(number)


def _compact(number: float) -> float | int:
    """Whole numbers as ints, so JSON carries no '.0' (the API reads both the same)."""
    return int(number) if number.is_integer() and abs(number) < 2 ** 53 else number


def _blank(value: Any) -> Cell:
    return None if value == "" else value


def _shift(moment: datetime, source: ZoneInfo | None, target: ZoneInfo | None) -> datetime:
    if source is None or target is None or source.key == target.key:
        return moment
    return moment.replace(tzinfo=source).astimezone(target).replace(tzinfo=None)


def reader_for(kind: str | None, sheet_tz: ZoneInfo | None, team_tz: ZoneInfo | None) -> Converter | None:
    """How to turn an API value of a column of this kind into a store value; None means blank-only."""
    if kind in DATE_KINDS:
        shift = kind == "datetime"

        def read_date(value: Any) -> Cell:
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                moment = from_serial(value)
                return _shift(moment, sheet_tz, team_tz) if shift else moment
            return _blank(value)
        return read_date
    if kind in TEXT_KINDS:
        def read_text(value: Any) -> Cell:
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return digits(value)
            return _blank(value)
        return read_text
    return None


def column_kinds(tab: Tab | None, header: Sequence[Cell]) -> list[str | None]:
    """The schema kind of every header cell (None for columns sheetsync does not know)."""
    if tab is None:
        return [None] * len(header)
    kinds: list[str | None] = []
    for name in header:
        column = column_for(tab, name) if name not in (None, "") else None
        kinds.append(column.kind if column else None)
    return kinds


def convert_rows(rows: Sequence[Sequence[Any]], readers: Sequence[Converter | None],
                 first_col: int = 0, *, in_place: bool = False) -> list[list[Cell]]:
    """API rows as store rows: blanks become None, typed columns converted, trailing blanks trimmed.

    `in_place`: `rows` is a list the caller hands over; each row is replaced by its converted row as it goes
    and the same list is returned, so raw and converted rows are never both held whole.
    """
    special = [(i - first_col, r) for i, r in enumerate(readers) if r is not None and i >= first_col]
    out: list[Any] = rows if in_place and isinstance(rows, list) else [None] * len(rows)
    for n, raw in enumerate(rows):
        row = [None if c == "" else c for c in raw] if "" in raw else list(raw)
        for i, reader in special:
            if i < len(row):
                value = row[i]
                if value is not None and value.__class__ is not str:  # readers keep text as it is
                    row[i] = reader(value)
        while row and row[-1] is None:
            row.pop()
        out[n] = row
    while out and not out[-1]:
        out.pop()
    return out


class CellEncoder:
    """Build typed CellData for one spreadsheet: serials in its timezone, formats by column kind."""

    def __init__(self, sheet_tz: ZoneInfo | None, team_tz: ZoneInfo | None,
                 amount_pattern: str = DEFAULT_AMOUNT_PATTERN) -> None:
        self.sheet_tz = sheet_tz
        self.team_tz = team_tz
        self.amount_pattern = amount_pattern

    def column_format(self, kind: str | None) -> dict[str, str] | None:
        """The number format sheetsync gives a whole column of this kind, None to leave it alone."""
        if kind == "date":
            return DATE_FORMAT
        if kind == "datetime":
            return DATETIME_FORMAT
        if kind == "amount":
            return {"type": "NUMBER", "pattern": self.amount_pattern}
        if kind in ("id", "phone"):
            return TEXT_FORMAT
        if kind == "percent":
            return PERCENT_FORMAT
        return None

    def value(self, value: Cell, kind: str | None = None) -> dict[str, Any]:
        """The userEnteredValue for a Python value ({} clears the cell)."""
        if value is None or value == "":
            return {}
        if isinstance(value, bool):
            return {"boolValue": value}
        if isinstance(value, datetime):
            moment = value.replace(tzinfo=None)
            if kind == "datetime":
                moment = _shift(moment, self.team_tz, self.sheet_tz)
            return {"numberValue": _compact(to_serial(moment))}
        if isinstance(value, date):
            return {"numberValue": _compact(to_serial(value))}
        if isinstance(value, (int, float, Decimal)):
            number = float(value)
            if not math.isfinite(number):
                return {"stringValue": str(value)}
            return {"numberValue": int(value) if isinstance(value, int) else _compact(number)}
        return {"stringValue": str(value)}

    def key(self, value: Cell, kind: str | None = None) -> Any:
        """What the sheet stores for a value, hashable: equal keys mean writing one over the other changes nothing."""
        if value is None or value == "":
            return None
        cls = type(value)
        if cls is str or cls is int:
            return value
        if cls is bool:
            return (bool, value)
        entered = self.value(value, kind)
        return entered.get("numberValue", entered.get("stringValue"))

    def row_keys(self, rows: Sequence[Sequence[Cell]], kinds: Sequence[str | None]) -> list[tuple[Any, ...]]:
        """Each row's keys, trailing blanks dropped: rows with equal keys look the same in the sheet.

        Text and whole numbers are their own keys; other values (dates, decimals) are keyed once per distinct
        value and column kind, so a long tab costs about one pass over its cells."""
        memo: dict[tuple[type, Any, str | None], Any] = {}
        width = len(kinds)
        out: list[tuple[Any, ...]] = []
        for row in rows:
            keys: list[Any] = []
            for i, value in enumerate(row):
                cls = type(value)
                if cls is str:
                    keys.append(value or None)
                elif value is None or cls is int:
                    keys.append(value)
                else:
                    kind = kinds[i] if i < width else None
                    found = memo.get((cls, value, kind), memo)
                    if found is memo:  # keyed by type too: True, 1.0 and Decimal(1) are equal in Python
                        found = memo[(cls, value, kind)] = self.key(value, kind)
                    keys.append(found)
            while keys and keys[-1] is None:
                keys.pop()
            out.append(tuple(keys))
        return out

    def cell(self, value: Cell, kind: str | None, with_format: bool) -> dict[str, Any]:
        """CellData for a value; with_format adds the column's (or the date's) number format."""
        data: dict[str, Any] = {}
        entered = self.value(value, kind)
        if entered:
            data["userEnteredValue"] = entered
        if with_format:
            fmt = self.column_format(kind) or self.value_format(value)
            if fmt:
                data["userEnteredFormat"] = {"numberFormat": fmt}
        return data

    @staticmethod
    def value_format(value: Cell) -> dict[str, str] | None:
        """The number format a date value needs to show as a date in a column of unknown kind."""
        if isinstance(value, datetime):
            return DATETIME_FORMAT if (value.hour, value.minute, value.second) != (0, 0, 0) else DATE_FORMAT
        if isinstance(value, date):
            return DATE_FORMAT
        return None

    def needs_format(self, kind: str | None, values: Sequence[Cell]) -> bool:
        """Whether writing these values into a column of this kind should set number formats too."""
        return self.column_format(kind) is not None or any(isinstance(v, date) for v in values)


FIELDS_VALUE = "userEnteredValue"
FIELDS_VALUE_AND_FORMAT = "userEnteredValue,userEnteredFormat.numberFormat"
