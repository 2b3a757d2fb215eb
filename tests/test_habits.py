"""Chinese teams' habits: pinyin order, workdays with Chinese public holidays, and the fallback beyond the data."""

from datetime import date

import pytest

from sheetsync.core.habits import CN, EVERY_DAY, MON_FRI, calendar_for, holiday_data_until, is_workday, next_workday
from sheetsync.core.model import Opportunity, Pipeline, Stage
from sheetsync.core.remind import propose_follow_ups, reminders


def test_chinese_names_sort_by_pinyin_not_code_point():
    from sheetsync.core.habits import name_key

    names = ["张伟", "陈晓", "李雷", "王芳"]
    assert sorted(names) != ["陈晓", "李雷", "王芳", "张伟"]  # code point order is not what people expect
    assert sorted(names, key=lambda n: name_key(n, "zh")) == ["陈晓", "李雷", "王芳", "张伟"]


@pytest.mark.parametrize("day, workday", [
    (date(2026, 10, 1), False),   # National Day
    (date(2026, 10, 7), False),   # still the Golden Week holiday
    (date(2026, 10, 10), True),   # a Saturday worked in exchange (调休)
    (date(2026, 11, 28), False),  # an ordinary Saturday
    (date(2026, 11, 30), True),
])
def test_the_chinese_calendar_knows_holidays_and_make_up_workdays(day, workday):
    assert is_workday(day, CN) is workday


def test_beyond_the_holiday_data_only_weekends_are_skipped():
    assert holiday_data_until() == date(2026, 12, 31)
    assert is_workday(date(2027, 1, 1), CN)  # not known yet to the package: treated as a plain Friday
    assert not is_workday(date(2027, 1, 2), CN)


def test_calendars_by_setting_and_language():
    assert calendar_for("auto", "zh") == CN and calendar_for("auto", "en") == EVERY_DAY
    assert calendar_for("mon-fri", "zh") == MON_FRI
    assert next_workday(date(2026, 11, 28), MON_FRI) == date(2026, 11, 30)
    assert next_workday(date(2026, 11, 28), EVERY_DAY) == date(2026, 11, 28)
    assert next_workday(date(2026, 10, 1), CN) == date(2026, 10, 8)


LEAD = Stage("Lead", 1, 0.1, 2, None, (), False, "open")


def test_proposed_follow_ups_land_on_workdays():
    opp = Opportunity(2, {"id": "A", "stage": "Lead", "created": date(2026, 9, 29)})
    pipeline = Pipeline.of([LEAD])
    assert propose_follow_ups([opp], pipeline, date(2026, 9, 30), CN) == {2: date(2026, 10, 8)}  # after Golden Week
    assert propose_follow_ups([opp], pipeline, date(2026, 9, 30), EVERY_DAY) == {2: date(2026, 10, 1)}


def test_chinese_reminders_are_ordered_by_owner_in_pinyin():
    opps = [Opportunity(i + 2, {"id": f"B{i}", "stage": "Lead", "owner": name, "next_follow_up": date(2026, 11, 27)})
            for i, name in enumerate(["张伟", "陈晓", "李雷"])]
    due = reminders(opps, Pipeline.of([LEAD]), date(2026, 11, 28), proposals={}, problems={}, stage_since={},
                    language="zh")
    assert [r.owner for r in due] == ["陈晓", "李雷", "张伟"]
