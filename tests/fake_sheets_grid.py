"""The fake Sheets API's state: one grid per tab, A1 ranges, how typed input is parsed and values render.

Simplifications (documented, tested against): formulas are stored but never evaluated (every render
option shows the formula text); FORMATTED values show numbers plainly and dates as yyyy-mm-dd[ hh:mm].
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from types import MappingProxyType
from typing import Any

EPOCH = datetime(1899, 12, 30)
DATE_TYPES = ("DATE", "DATE_TIME", "TIME")


class Formula(str):
    """A cell holding a formula (only USER_ENTERED input or a formulaValue makes one)."""


class Shared(dict):  # type: ignore[type-arg]
    """A cell's formats and validation as stored for many cells at once: never changed in place, only replaced.

    A request that gives a thousand cells the same format stores one Shared object for all of them (a real
    sheet keeps a format per cell; the fake only shares the storage). `Sheet.cell_meta` hands out a private
    copy before anyone may change it.
    """


NO_META: Mapping[str, Any] = MappingProxyType({})
"""What `Sheet.peek_meta` answers for a cell without formats (read-only)."""


class ApiError(Exception):
    """An error the fake answers like Google: HTTP status, canonical status and message."""

    def __init__(self, code: int, message: str, status: str = "INVALID_ARGUMENT") -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def col_index(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n - 1


def col_letters(index: int) -> str:
    out, n = "", index + 1
    while n:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


_CELL = re.compile(r"^([A-Za-z]*)(\d*)$")


@dataclass
class A1:
    """A parsed A1 range: tab title and 0-based half-open bounds (None = unbounded)."""

    title: str | None
    r0: int | None
    r1: int | None
    c0: int | None
    c1: int | None


def parse_a1(text: str) -> A1:
    """Parse 'Tab'!A1:B2, Tab!A:A, Tab!1:1, Tab, A1 (quotes doubled inside quoted titles)."""
    title, ref = None, text
    if text.startswith("'"):
        end = 1
        while True:
            end = text.index("'", end)
            if text[end:end + 2] == "''":
                end += 2
                continue
            break
        title, ref = text[1:end].replace("''", "'"), text[end + 2:] if len(text) > end + 1 else ""
    elif "!" in text:
        title, ref = text.split("!", 1)
    elif not re.match(r"^[A-Za-z]{0,3}\d*(:[A-Za-z]{0,3}\d*)?$", text):
        title, ref = text, ""
    if not ref:
        return A1(title, None, None, None, None)
    parts = ref.split(":")
    if len(parts) > 2:
        raise ApiError(400, f"Unable to parse range: {text}")
    first = _CELL.match(parts[0])
    last = _CELL.match(parts[-1])
    if not first or not last or not (parts[0] and parts[-1]):
        raise ApiError(400, f"Unable to parse range: {text}")
    c0 = col_index(first.group(1)) if first.group(1) else None
    r0 = int(first.group(2)) - 1 if first.group(2) else None
    c1 = col_index(last.group(1)) + 1 if last.group(1) else None
    r1 = int(last.group(2)) if last.group(2) else None
    if len(parts) == 1 and c0 is not None and r0 is not None:
        c1, r1 = c0 + 1, r0 + 1
    return A1(title, r0, r1, c0, c1)


def a1_text(title: str, r0: int, r1: int, c0: int, c1: int) -> str:
    """A range as Google names it in answers: the title quoted only when it needs to be (Sheet1!A1:D2)."""
    plain = re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", title) and not re.fullmatch(r"[A-Za-z]{1,3}[0-9]+", title)
    quoted = title if plain else "'" + title.replace("'", "''") + "'"
    return f"{quoted}!{col_letters(c0)}{r0 + 1}:{col_letters(max(c0, c1 - 1))}{max(r0, r1 - 1) + 1}"


def serial(value: date | datetime) -> float:
    moment = value if isinstance(value, datetime) else datetime.combine(value, datetime.min.time())
    return (moment.replace(tzinfo=None) - EPOCH) / timedelta(days=1)


def from_serial(number: float) -> datetime:
    return EPOCH + timedelta(days=number)


def plain_number(number: float | int) -> float | int:
    """JSON numbers as Google sends them: whole numbers without a fraction."""
    if isinstance(number, float) and number.is_integer() and abs(number) < 2 ** 53:
        return int(number)
    return number


_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?: (\d{1,2}):(\d{2}))?$")


@dataclass
class Sheet:
    """One tab: its properties, a ragged grid of values and per-cell formats and validations."""

    sheet_id: int
    title: str
    index: int
    rows: int = 1000
    cols: int = 26
    frozen_rows: int = 0
    values: list[list[Any]] = field(default_factory=list)
    meta: list[dict[int, dict[str, Any]] | None] = field(default_factory=list)
    charts: list[dict[str, Any]] = field(default_factory=list)
    protected: list[dict[str, Any]] = field(default_factory=list)
    conditional: list[dict[str, Any]] = field(default_factory=list)
    widths: dict[int, int] = field(default_factory=dict)

    def clone(self) -> Sheet:
        """A copy to restore if a batch fails (cell metas are replaced during a batch, never changed in place)."""
        twin = copy.copy(self)
        twin.values = [r[:] for r in self.values]
        twin.meta = [None if m is None else dict(m) for m in self.meta]
        twin.charts, twin.protected = copy.deepcopy(self.charts), copy.deepcopy(self.protected)
        twin.conditional, twin.widths = copy.deepcopy(self.conditional), dict(self.widths)
        return twin

    def get(self, r: int, c: int) -> Any:
        if r < len(self.values) and c < len(self.values[r]):
            return self.values[r][c]
        return None

    def put_row(self, r: int, c0: int, values: list[Any]) -> None:
        """`put` each value from column c0 on, in one go (bounds are the caller's to check)."""
        last = len(values) - 1
        while last >= 0 and values[last] is None:
            last -= 1
        if r >= len(self.values):
            if last < 0:
                return
            self.values.extend([] for _ in range(r + 1 - len(self.values)))
        row = self.values[r]
        if len(row) < c0 + last + 1:
            row.extend([None] * (c0 + last + 1 - len(row)))
        end = min(c0 + len(values), len(row))
        if end > c0:
            row[c0:end] = values[:end - c0]

    def put(self, r: int, c: int, value: Any) -> None:
        if value is None and self.get(r, c) is None:
            return
        self.check_bounds(r + 1, c + 1)
        while len(self.values) <= r:
            self.values.append([])
        row = self.values[r]
        if len(row) <= c:
            row.extend([None] * (c + 1 - len(row)))
        row[c] = value

    def peek_meta(self, r: int, c: int) -> Mapping[str, Any]:
        """A cell's formats and validation, read-only (NO_META when it has none)."""
        if r < len(self.meta):
            row = self.meta[r]
            if row:
                return row.get(c, NO_META)
        return NO_META

    def set_meta(self, r: int, c: int, meta: Mapping[str, Any]) -> None:
        """Replace a cell's formats and validation (a Shared object may be stored in many cells)."""
        if not meta:
            if r < len(self.meta) and self.meta[r]:
                self.meta[r].pop(c, None)  # type: ignore[union-attr]
            return
        if len(self.meta) <= r:
            self.meta.extend([None] * (r + 1 - len(self.meta)))
        row = self.meta[r]
        if row is None:
            row = self.meta[r] = {}
        row[c] = meta  # type: ignore[assignment]

    def cell_meta(self, r: int, c: int, create: bool = False) -> dict[str, Any]:
        """A cell's formats and validation as a dict of its own, to change in place ({} when none and not create)."""
        stored = self.peek_meta(r, c)
        if type(stored) is Shared:
            private = copy.deepcopy(dict(stored))
            self.set_meta(r, c, private)
            return private
        while len(self.meta) <= r:
            if not create:
                return {}
            self.meta.append(None)
        row = self.meta[r]
        if row is None:
            if not create:
                return {}
            row = self.meta[r] = {}
        if c not in row:
            if not create:
                return {}
            row[c] = {}
        return row[c]

    def number_format(self, r: int, c: int) -> dict[str, Any]:
        return self.peek_meta(r, c).get("format", {}).get("numberFormat", {})

    def check_bounds(self, rows: int, cols: int) -> None:
        if rows > self.rows or cols > self.cols:
            raise ApiError(400, f"Range ('{self.title}'!{col_letters(cols - 1)}{rows}) exceeds grid limits. "
                                f"Max rows: {self.rows}, max columns: {self.cols}")

    def grow(self, rows: int, cols: int) -> None:
        self.rows, self.cols = max(self.rows, rows), max(self.cols, cols)

    def last_data_row(self, c0: int = 0, c1: int | None = None) -> int:
        """1-based number of the last row with any value (0 when empty)."""
        for r in range(len(self.values) - 1, -1, -1):
            if any(v not in (None, "") for v in self.values[r][c0:c1]):
                return r + 1
        return 0

    def insert_rows(self, at: int, count: int) -> None:
        if at < len(self.values):
            self.values[at:at] = [[] for _ in range(count)]
        if at < len(self.meta):
            self.meta[at:at] = [None] * count
        self.rows += count

    def delete_rows(self, start: int, end: int) -> None:
        del self.values[start:end]
        del self.meta[start:end]
        self.rows -= min(end, self.rows) - start

    def insert_cols(self, at: int, count: int) -> None:
        for row in self.values:
            if at < len(row):
                row[at:at] = [None] * count
        for i, row_meta in enumerate(self.meta):
            if row_meta:
                self.meta[i] = {(c + count if c >= at else c): m for c, m in row_meta.items()}
        self.cols += count

    def delete_cols(self, start: int, end: int) -> None:
        for row in self.values:
            del row[start:end]
        for i, row_meta in enumerate(self.meta):
            if row_meta:
                self.meta[i] = {(c - (end - start) if c >= end else c): m for c, m in row_meta.items()
                                if not start <= c < end}
        self.cols -= end - start

    def sort_rows(self, r0: int, r1: int, column: int, reverse: bool) -> None:
        """Sort rows r0..r1 (0-based, half-open) by one column, blanks last, formats moving with their rows."""
        sheet = self
        while len(sheet.meta) < r1:
            sheet.meta.append(None)
        while len(sheet.values) < r1:
            sheet.values.append([])
        pairs = list(zip(sheet.values[r0:r1], sheet.meta[r0:r1], strict=True))
        blank = [p for p in pairs if (p[0][column] if column < len(p[0]) else None) in (None, "")]
        full = [p for p in pairs if p not in blank]
        full.sort(key=lambda p: (isinstance(p[0][column], str), p[0][column]), reverse=reverse)
        ordered = full + blank
        sheet.values[r0:r1] = [p[0] for p in ordered]
        sheet.meta[r0:r1] = [p[1] for p in ordered]

    def bounds(self, a1: A1) -> tuple[int, int, int, int]:
        return (a1.r0 or 0, self.rows if a1.r1 is None else a1.r1,
                a1.c0 or 0, self.cols if a1.c1 is None else a1.c1)


def parse_user_entered(text: Any, number_format: dict[str, Any]) -> tuple[Any, dict[str, Any] | None]:
    """A value as if typed into the UI: formulas, numbers, booleans and ISO dates are recognised.

    Returns the stored value and the number format the UI would add (for dates), if any. A cell
    formatted as plain text (numberFormat TEXT) keeps what was typed as text, like Google Sheets.
    """
    if not isinstance(text, str):
        return text, None
    if number_format.get("type") == "TEXT":
        return text, None
    if text.startswith("'"):
        return text[1:], None
    if text.startswith("=") and len(text) > 1:
        return Formula(text), None
    stripped = text.strip()
    if stripped.upper() in ("TRUE", "FALSE"):
        return stripped.upper() == "TRUE", None
    if _NUMBER.match(stripped.replace(",", "")):
        number = float(stripped.replace(",", ""))
        return plain_number(number), None
    m = _ISO_DATE.match(stripped)
    if m:
        try:
            moment = datetime(int(m.group(1)), int(m.group(2)), int(m.group(3)),
                              int(m.group(4) or 0), int(m.group(5) or 0))
        except ValueError:
            return text, None
        kind = ("DATE_TIME", "yyyy-mm-dd hh:mm") if m.group(4) else ("DATE", "yyyy-mm-dd")
        return plain_number(serial(moment)), {"type": kind[0], "pattern": kind[1]}
    return text, None


def render(value: Any, number_format: dict[str, Any], value_option: str, date_option: str) -> Any:
    """A stored value as values.get returns it for the given render options."""
    if value is None:
        return ""
    if isinstance(value, Formula):
        return str(value)  # FORMULA render; the other options get the computed value (fake_sheets_fields)
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return value if value_option != "FORMATTED_VALUE" else ("TRUE" if value else "FALSE")
    is_date = number_format.get("type") in DATE_TYPES
    if value_option == "FORMATTED_VALUE" or (is_date and date_option == "FORMATTED_STRING"):
        if is_date:
            moment = from_serial(value)
            return moment.strftime("%Y-%m-%d %H:%M" if number_format.get("type") == "DATE_TIME" else "%Y-%m-%d")
        return str(plain_number(value))
    return plain_number(value)


def entered_value(value: Any) -> dict[str, Any]:
    """A stored value as CellData.userEnteredValue."""
    if value is None:
        return {}
    if isinstance(value, Formula):
        return {"formulaValue": str(value)}
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, (int, float)):
        return {"numberValue": value}
    return {"stringValue": str(value)}


def from_entered(entered: dict[str, Any]) -> Any:
    """CellData.userEnteredValue as a stored value (never parsed: stringValue stays text)."""
    if "formulaValue" in entered:
        return Formula(entered["formulaValue"])
    if "stringValue" in entered:
        return entered["stringValue"]
    if "boolValue" in entered:
        return bool(entered["boolValue"])
    if "numberValue" in entered:
        return plain_number(entered["numberValue"])
    if entered:
        raise ApiError(400, f"Unsupported userEnteredValue {entered}")
    return None


def person_view(value: Any, number_format: dict[str, Any]) -> Any:
    """What a person sees, typed like openpyxl gives it: dates as datetimes, blanks as None."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and number_format.get("type") in DATE_TYPES:
        return from_serial(value)
    if value == "":
        return None
    return value
