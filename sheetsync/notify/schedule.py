"""When digests are due: parse the digest settings and test a local time against them (pure)."""

from __future__ import annotations

from datetime import datetime, time

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_ZH_DAYS = {"周一": 0, "周二": 1, "周三": 2, "周四": 3, "周五": 4, "周六": 5, "周日": 6, "周天": 6}
OFF = ("", "off", "no", "none", "false")
AUTO = "auto"


class ScheduleError(ValueError):
    """A digest setting cannot be read; the message shows a value that works."""


def parse_time(text: str, name: str = "notify_daily_at") -> time | None:
    """"09:00" as a time of day; blank or "off" as None (no digest)."""
    value = str(text).strip().lower()
    if value in OFF:
        return None
    try:
        hours, minutes = value.split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        raise ScheduleError(f"{name} must be a time of day such as \"09:00\" (24-hour clock) or \"off\", "
                            f"not {text!r}.") from None


def _day(word: str, name: str) -> int:
    folded = word.strip().lower()[:3]
    if folded in DAYS:
        return DAYS.index(folded)
    if word.strip() in _ZH_DAYS:
        return _ZH_DAYS[word.strip()]
    raise ScheduleError(f"{name}: {word!r} is not a day of the week; use mon, tue, wed, thu, fri, sat or sun.")


def parse_days(text: str, name: str = "notify_workdays") -> frozenset[int] | None:
    """"mon-fri" or "mon,tue,thu" as weekday numbers (Monday = 0); "auto" as None (the team's calendar)."""
    if str(text).strip().lower() == AUTO:
        return None
    days: set[int] = set()
    for part in str(text).replace("，", ",").split(","):
        if not part.strip():
            continue
        if "-" in part:
            first, last = (_day(p, name) for p in part.split("-", 1))
            days.update(range(first, last + 1) if first <= last else [*range(first, 7), *range(0, last + 1)])
        else:
            days.add(_day(part, name))
    if not days:
        raise ScheduleError(f"{name} names no day: use e.g. \"mon-fri\".")
    return frozenset(days)


def parse_weekly(text: str, name: str = "notify_weekly_at") -> tuple[int, time] | None:
    """"mon 09:00" as (weekday, time); blank or "off" as None."""
    value = str(text).strip()
    if value.lower() in OFF:
        return None
    parts = value.split()
    if len(parts) != 2:
        raise ScheduleError(f"{name} must be a day and a time such as \"mon 09:00\" or \"off\", not {text!r}.")
    moment = parse_time(parts[1], name)
    assert moment is not None
    return _day(parts[0], name), moment


def daily_due(local: datetime, at: time | None, workday: bool) -> bool:
    """Whether the daily digest is due at naive local time `local`: a workday, at or after `at`."""
    return at is not None and workday and local.time() >= at


def weekly_due(local: datetime, weekly: tuple[int, time] | None) -> bool:
    """Whether the weekly digest is due at `local`: its day, at or after its time."""
    return weekly is not None and local.weekday() == weekly[0] and local.time() >= weekly[1]
