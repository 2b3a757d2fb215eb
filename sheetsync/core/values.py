"""Read the values people actually type: dates, amounts, phones, emails, yes/no, lists."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache, wraps
from typing import TypeVar

SERIAL_EPOCH = datetime(1899, 12, 30)
"""Day zero of spreadsheet serial dates (Excel's 1900 system and Google Sheets)."""

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
"""First characters that make Excel or Sheets treat a typed value as a formula."""


MAX_PARSED_CHARS = 100
"""Longest text read as a date or an amount; anything longer is refused at once, never pattern-matched."""


class ValueProblem(ValueError):
    """A cell holds a value that cannot be read as its column's type."""


R = TypeVar("R")


def memo(parse: Callable[[object], R]) -> Callable[[object], R]:
    """Remember a pure parser's answers per value and type: a sheet repeats the same few values many times."""
    cached = lru_cache(maxsize=1 << 16, typed=True)(parse)

    @wraps(parse)
    def parse_once(value: object) -> R:
        try:
            return cached(value)
        except TypeError:  # an unhashable value: parse it every time
            return parse(value)

    return parse_once


def is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def text(value: object) -> str:
    """A cell as trimmed text ('' for blank); whole floats lose their '.0'."""
    if type(value) is str:
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M") if value.time() != time() else value.strftime("%Y-%m-%d")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def from_serial(serial: float) -> datetime:
    """A spreadsheet serial number (days since 1899-12-30) as a naive datetime."""
    return SERIAL_EPOCH + timedelta(days=float(serial))


def to_serial(value: date | datetime) -> float:
    """A date or naive datetime as a spreadsheet serial number."""
    if not isinstance(value, datetime):
        value = datetime.combine(value, time())
    return (value - SERIAL_EPOCH) / timedelta(days=1)


_DATE_PATTERNS = (
    (re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$"), "ymd"),
    (re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"), "ymd"),
    (re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$"), "mdy"),
    (re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$"), "dmy"),
    (re.compile(r"^(\d{4})(\d{2})(\d{2})$"), "ymd"),
)
_TIME = re.compile(r"^(.*?)[ T]+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?$")
_MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}
_WORDY = re.compile(r"^(\d{1,2})[ -]([a-z]{3})[a-z]*[ ,-]*(\d{4})$|^([a-z]{3})[a-z]*[ -](\d{1,2}),? (\d{4})$")


@memo
def parse_datetime(value: object) -> datetime | None:
    """A date or date-time as typed or stored, as a naive datetime; None for blank.

    Accepts real dates, spreadsheet serial numbers, 2026-11-28, 2026/11/28, 2026.11.28, 20261128,
    11/28/2026 (month first, as US spreadsheets show it; 28/11/2026 is read day first because no
    month is 28), 28.11.2026, 2026年11月28日, 28 Nov 2026, Nov 28, 2026, each with an optional time.
    """
    if is_blank(value):
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, date):
        return datetime.combine(value, time())
    if isinstance(value, bool):
        raise ValueProblem(f"{value!r} is not a date")
    if isinstance(value, (int, float, Decimal)):
        try:
            serial = float(value)
        except (ValueError, OverflowError):  # a signalling NaN, an integer beyond any float
            raise ValueProblem(f"{value!r} is not a date") from None
        if not 1 <= serial < 2958466:
            raise ValueProblem(f"{value!r} is not a date")
        return from_serial(serial)
    raw = str(value).strip()
    if len(raw) > MAX_PARSED_CHARS:  # the patterns below backtrack quadratically on long text
        raise ValueProblem(f"'{raw[:40]}…' is too long to be a date (write it as 2026-11-28)")
    body, clock = raw, time()
    m = _TIME.match(raw)
    if m:
        body = m.group(1).strip()
        try:
            clock = time(int(m.group(2)), int(m.group(3)), int(m.group(4) or 0))
        except ValueError as exc:
            raise ValueProblem(f"'{raw}' has no such time of day (write it as 2026-11-28 14:30)") from exc
    day = _parse_date_text(body)
    if day is None:
        raise ValueProblem(f"'{raw}' is not a date (write it as 2026-11-28)")
    return datetime.combine(day, clock)


def _parse_date_text(body: str) -> date | None:
    for pattern, order in _DATE_PATTERNS:
        m = pattern.match(body)
        if not m:
            continue
        a, b, c = (int(g) for g in m.groups())
        if order == "ymd":
            y, mo, d = a, b, c
        elif order == "dmy":
            d, mo, y = a, b, c
        else:
            mo, d, y = (a, b, c) if a <= 12 else (b, a, c)
        try:
            return date(y, mo, d)
        except ValueError:
            return None
    m = _WORDY.match(body.casefold())
    if m:
        day, mon, year = (m.group(1), m.group(2), m.group(3)) if m.group(1) else (m.group(5), m.group(4), m.group(6))
        if mon in _MONTHS:
            try:
                return date(int(year), _MONTHS[mon], int(day))
            except ValueError:
                return None
    return None


def parse_date(value: object) -> date | None:
    """Like parse_datetime, keeping the day only."""
    moment = parse_datetime(value)
    return None if moment is None else moment.date()


_AMOUNT_UNITS = {"万": Decimal(10_000), "亿": Decimal(100_000_000), "k": Decimal(1000), "m": Decimal(1_000_000)}
_AMOUNT = re.compile(r"^(-)?\s*([0-9][0-9,，\s']*(?:\.[0-9]+)?)\s*(万|亿|k|m)?$")
_GROUPED = re.compile(r"^(?:[0-9]+|[0-9]{1,3}(?:[,，\s'][0-9]{3})+)(?:\.[0-9]+)?$")
_CURRENCY = re.compile(r"(?i)^(?:rmb|cny|usd|eur|gbp|hkd|jpy|us\$|hk\$|[¥￥$€£])\s*|\s*(?:rmb|cny|usd|eur|gbp|hkd|"
                       r"jpy|元|人民币|块|[¥￥$€£])$")


@memo
def parse_amount(value: object) -> Decimal | None:
    """A money amount such as 12000, '¥12,000', '$1,250.50', 'RMB 3000', '3.5万', '12k', '(500)'; None for blank.

    Thousands separators must split the digits in threes, so '12,50' or '1,2,3' is refused, not guessed.
    """
    if is_blank(value):
        return None
    if isinstance(value, bool):
        raise ValueProblem(f"{value!r} is not an amount")
    if isinstance(value, (int, float, Decimal)):
        number = Decimal(str(value))
        if not number.is_finite():
            raise ValueProblem(f"{value!r} is not an amount")
        return number
    raw = str(value).strip()
    if len(raw) > MAX_PARSED_CHARS:  # the patterns below backtrack quadratically on long text
        raise ValueProblem(f"'{raw[:40]}…' is too long to be an amount (write a number such as 12000)")
    body = raw.replace("\u00a0", " ")
    negative = False
    for _ in range(2):
        body = _CURRENCY.sub("", body).strip()
        if body.startswith("(") and body.endswith(")"):
            negative, body = True, body[1:-1].strip()
    m = _AMOUNT.match(body.casefold())
    if not m or not _GROUPED.match(m.group(2).strip()):
        raise ValueProblem(f"'{raw}' is not an amount (write a number such as 12000)")
    digits = re.sub(r"[,，\s']", "", m.group(2))
    try:
        amount = Decimal(digits)
    except InvalidOperation as exc:  # pragma: no cover - the pattern admits only digits
        raise ValueProblem(f"'{raw}' is not an amount") from exc
    if m.group(3):
        amount *= _AMOUNT_UNITS[m.group(3)]
    if m.group(1) or negative:
        amount = -amount
    return amount


_CN_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_CN_LANDLINE = re.compile(r"^0\d{2,3}\d{7,8}$")
_PHONE_PUNCTUATION = re.compile(r"[\s\-().]")
_PHONE_EXTENSION = re.compile(r"(?i)(?:ext\.?|x|转)\d{1,6}$")
_PHONE_DIGITS = re.compile(r"\+?\d+")


@memo
def phone_problem(value: object) -> str | None:
    """Why a phone number is not dialable, or None when it is.

    Accepts mainland China mobiles (13800138000, +86 138 0013 8000), China landlines with area code
    (010-12345678), and international numbers in + form with 8 to 15 digits (E.164).
    """
    if is_blank(value):
        return None
    raw = text(value)
    digits_only = _PHONE_PUNCTUATION.sub("", raw)
    ext = _PHONE_EXTENSION.search(digits_only)
    if ext:
        digits_only = digits_only[: ext.start()]
    if digits_only.startswith("00"):
        digits_only = "+" + digits_only[2:]
    if not _PHONE_DIGITS.fullmatch(digits_only):
        return f"Phone '{raw}' has characters that are not digits"
    if digits_only.startswith("+"):
        national = digits_only[1:]
        if national.startswith("86"):
            rest = national[2:]
            if _CN_MOBILE.match(rest) or _CN_LANDLINE.match("0" + rest) or _CN_LANDLINE.match(rest):
                return None
            return f"Phone '{raw}' is not a valid China number"
        if 8 <= len(national) <= 15:
            return None
        return f"Phone '{raw}' should have 8 to 15 digits after the country code"
    if _CN_MOBILE.match(digits_only) or _CN_LANDLINE.match(digits_only):
        return None
    if len(digits_only) == 11 and digits_only.startswith("1"):
        return f"Phone '{raw}' is not a valid mobile number"
    if 7 <= len(digits_only) <= 15 and not digits_only.startswith("0"):
        return None
    return f"Phone '{raw}' is not a valid number (add the country code, e.g. +44 20 7946 0958)"


_EMAIL = re.compile(r"^[^@\s<>(),;:\"\[\]]+@[^@\s<>(),;:\"\[\]]+\.[^@\s<>(),;:\"\[\].]{2,}$")


@memo
def email_problem(value: object) -> str | None:
    """Why an email address is malformed, or None when it looks deliverable."""
    if is_blank(value):
        return None
    raw = text(value)
    if not _EMAIL.match(raw) or ".." in raw:
        return f"Email '{raw}' is not a valid address"
    return None


_TRUE = {"y", "yes", "true", "1", "x", "✓", "✔", "是", "对", "需要", "有", "启用", "在岗", "在职", "on", "active"}
_FALSE = {"n", "no", "false", "0", "否", "不", "不需要", "无", "停用", "离职", "off", "inactive"}


def parse_bool(value: object, default: bool = False) -> bool:
    """Yes/no as people type it (Yes, TRUE, 1, x, 是 …); blank gives the default."""
    if is_blank(value):
        return default
    if isinstance(value, bool):
        return value
    folded = text(value).casefold()
    if folded in _TRUE:
        return True
    if folded in _FALSE:
        return False
    raise ValueProblem(f"'{text(value)}' is not yes or no")


def parse_list(value: object) -> list[str]:
    """Items separated by commas, semicolons, slashes, 、 or new lines, trimmed, blanks dropped."""
    return [part.strip() for part in re.split(r"[,，;；、/\n|]+", text(value)) if part.strip()]


def parse_number(value: object) -> float | None:
    """A plain number (int, float or numeric text); None for blank."""
    if is_blank(value):
        return None
    if isinstance(value, bool):
        raise ValueProblem(f"{value!r} is not a number")
    try:
        number = float(value) if isinstance(value, (int, float, Decimal)) else float(text(value).replace(",", ""))
    except (ValueError, OverflowError) as exc:  # OverflowError: an integer beyond any float
        raise ValueProblem(f"'{text(value)}' is not a number") from exc
    if not math.isfinite(number):
        raise ValueProblem(f"'{text(value)}' is not a number")
    return number


def parse_percent(value: object) -> float | None:
    """A probability as 0..1 from 0.4, 40, '40%' or '40 %'; None for blank."""
    if is_blank(value):
        return None
    raw = text(value)
    number = parse_number(raw.rstrip("%％ ").strip()) if isinstance(value, str) else parse_number(value)
    if number is None:
        return None
    if raw.endswith(("%", "％")) or number > 1:
        number /= 100
    if not 0 <= number <= 1:
        raise ValueProblem(f"'{raw}' is not a probability between 0% and 100%")
    return number
