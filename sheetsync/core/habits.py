"""Local habits: the order people expect names in (pinyin for Chinese) and which days are workdays.

Chinese names sort by their pinyin (`pypinyin`), the way a Chinese phone book or WeCom contact list does,
not by Unicode code point. Workdays come from a calendar named in config: every day, Monday to Friday, or
the Chinese calendar (weekends, public holidays and the make-up working days 调休, from the maintained
`chinese-calendar` package). That package ships data for the years the State Council has announced; a
day beyond its data falls back to Monday to Friday (see `holiday_data_until`).
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

from .schema import normalize

EVERY_DAY, MON_FRI, CN = "every-day", "mon-fri", "cn"
CALENDARS = (EVERY_DAY, MON_FRI, CN)
AUTO = "auto"
"""The config value meaning: the Chinese calendar for zh workbooks, every day otherwise."""


@lru_cache(maxsize=4096)
def _pinyin(name: str) -> str:
    from pypinyin import lazy_pinyin  # loads its dictionary on first use only

    return " ".join(lazy_pinyin(name)).casefold()


def name_key(name: str, language: str = "en") -> tuple[str, str]:
    """Return a sort key for a person's or customer's name: pinyin in Chinese, folded text otherwise."""
    return (_pinyin(name), name) if language == "zh" else (normalize(name), name)


def calendar_for(setting: str, language: str) -> str:
    """Return the workday calendar a setting means for a workbook language."""
    if setting in CALENDARS:
        return setting
    return CN if language == "zh" else EVERY_DAY


def holiday_data_until() -> date | None:
    """Return the last day the installed Chinese holiday data covers, None without the package."""
    try:
        import chinese_calendar  # type: ignore[import-untyped]
    except ImportError:
        return None
    return date(max(chinese_calendar.holidays).year, 12, 31)


def _cn_workday(day: date) -> bool:
    try:
        import chinese_calendar  # type: ignore[import-untyped]
    except ImportError:
        return day.weekday() < 5
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:  # a year the package has no announced holidays for
        return day.weekday() < 5


def is_workday(day: date, calendar: str) -> bool:
    """Tell whether `day` is a workday in the calendar (CN, MON_FRI or EVERY_DAY)."""
    if calendar == CN:
        return _cn_workday(day)
    if calendar == MON_FRI:
        return day.weekday() < 5
    return True


def next_workday(day: date, calendar: str) -> date:
    """Return `day` when it is a workday, else the first workday after it."""
    for _ in range(60):  # the longest Chinese holiday with its weekends is well under this
        if is_workday(day, calendar):
            return day
        day += timedelta(days=1)
    return day
