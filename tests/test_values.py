from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from sheetsync.core import values as v
from sheetsync.core.values import ValueProblem


@pytest.mark.parametrize("typed, expected", [
    ("2026-11-28", datetime(2026, 11, 28)),
    ("2026/11/28", datetime(2026, 11, 28)),
    ("2026-1-5", datetime(2026, 1, 5)),
    ("11/28/2026", datetime(2026, 11, 28)),
    ("1/5/2026", datetime(2026, 1, 5)),
    ("28/11/2026", datetime(2026, 11, 28)),
    ("2026年11月28日", datetime(2026, 11, 28)),
    ("2026年11月28", datetime(2026, 11, 28)),
    ("2026.11.28", datetime(2026, 11, 28)),
    ("28.11.2026", datetime(2026, 11, 28)),
    ("20261128", datetime(2026, 11, 28)),
    ("28 Nov 2026", datetime(2026, 11, 28)),
    ("28 November 2026", datetime(2026, 11, 28)),
    ("28-Nov-2026", datetime(2026, 11, 28)),
    ("Nov 28, 2026", datetime(2026, 11, 28)),
    ("November 28 2026", datetime(2026, 11, 28)),
    ("  2026-11-28  ", datetime(2026, 11, 28)),
    ("2026-11-28 14:30", datetime(2026, 11, 28, 14, 30)),
    ("2026-11-28 14:30:15", datetime(2026, 11, 28, 14, 30, 15)),
    ("2026-11-28T14:30:15.250Z", datetime(2026, 11, 28, 14, 30, 15)),
    ("2026-11-28T14:30:00+08:00", datetime(2026, 11, 28, 14, 30)),
    ("2026/11/28 9:05", datetime(2026, 11, 28, 9, 5)),
    ("11/28/2026 14:30", datetime(2026, 11, 28, 14, 30)),
    ("2026年11月28日 08:00", datetime(2026, 11, 28, 8, 0)),
    ("28 Nov 2026 14:30", datetime(2026, 11, 28, 14, 30)),
    (46354, datetime(2026, 11, 28)),
    (46354.5, datetime(2026, 11, 28, 12, 0)),
    (Decimal("46354.25"), datetime(2026, 11, 28, 6, 0)),
    (date(2026, 11, 28), datetime(2026, 11, 28)),
    (datetime(2026, 11, 28, 14, 30), datetime(2026, 11, 28, 14, 30)),
    (datetime(2026, 11, 28, 14, 30, tzinfo=timezone.utc), datetime(2026, 11, 28, 14, 30)),
])
def test_parse_datetime_reads_every_promised_format(typed, expected):
    assert v.parse_datetime(typed) == expected


@pytest.mark.parametrize("typed, expected", [
    ("2026-11-28 14:30", date(2026, 11, 28)),
    (46354.99, date(2026, 11, 28)),
    ("Nov 28, 2026", date(2026, 11, 28)),
    (datetime(2026, 11, 28, 23, 59), date(2026, 11, 28)),
])
def test_parse_date_keeps_the_day_only(typed, expected):
    assert v.parse_date(typed) == expected


@pytest.mark.parametrize("blank", [None, "", "   "])
def test_blank_is_no_date(blank):
    assert v.parse_datetime(blank) is None
    assert v.parse_date(blank) is None


@pytest.mark.parametrize("garbage", [
    "soon", "next week", "2026-13-01", "2026-02-30", "13/13/2026", "31/02/2026", "28 Foo 2026",
    "28 Nov#2026", "2026-11-28 25:00", "2026-11-28 14:75", "46354", "2026-11", True, 0, -5, 2958466,
    float("nan"), float("inf"),
])
def test_parse_date_refuses_garbage(garbage):
    with pytest.raises(ValueProblem):
        v.parse_date(garbage)


def test_date_problem_says_how_to_write_a_date():
    with pytest.raises(ValueProblem, match=r"^'soon' is not a date \(write it as 2026-11-28\)$"):
        v.parse_date("soon")


def test_serial_numbers_round_trip():
    moment = datetime(2026, 11, 28, 12, 0)
    assert v.to_serial(moment) == 46354.5
    assert v.to_serial(date(2026, 11, 28)) == 46354.0
    assert v.from_serial(46354.5) == moment


@pytest.mark.parametrize("typed, expected", [
    (12000, Decimal("12000")),
    (1250.5, Decimal("1250.5")),
    (Decimal("99.90"), Decimal("99.90")),
    ("12000", Decimal("12000")),
    ("¥12,000", Decimal("12000")),
    ("￥12,000", Decimal("12000")),
    ("12,000元", Decimal("12000")),
    ("¥12,000元", Decimal("12000")),
    ("12，000", Decimal("12000")),
    ("12 000", Decimal("12000")),
    ("12\u00a0000", Decimal("12000")),
    ("1,234,567.89", Decimal("1234567.89")),
    ("$1,250.50", Decimal("1250.50")),
    ("USD 1,250.50", Decimal("1250.50")),
    ("1,250.50 USD", Decimal("1250.50")),
    ("RMB 3000", Decimal("3000")),
    ("rmb3000", Decimal("3000")),
    ("3000人民币", Decimal("3000")),
    ("3.5万", Decimal("35000")),
    ("3 万", Decimal("30000")),
    ("2亿", Decimal("200000000")),
    ("12k", Decimal("12000")),
    ("12K", Decimal("12000")),
    ("1.2m", Decimal("1200000")),
    ("-500", Decimal("-500")),
    ("(500)", Decimal("-500")),
    ("$(500)", Decimal("-500")),
    ("($500)", Decimal("-500")),
    ("0", Decimal("0")),
])
def test_parse_amount_reads_what_people_type(typed, expected):
    assert v.parse_amount(typed) == expected


@pytest.mark.parametrize("blank", [None, "", "  "])
def test_blank_is_no_amount(blank):
    assert v.parse_amount(blank) is None


@pytest.mark.parametrize("garbage", [
    "about 5k", "TBD", "面议", "1e5", "12.5.3", "(500", "500)", True,
    # Separators must group digits in threes: '12,50' may mean 12.50, '1,2,3' may be a list.
    "1,2,3", "12,50", "1,0000", "12,000,00",
    float("nan"), float("inf"), Decimal("NaN"),
])
def test_parse_amount_refuses_what_it_cannot_read(garbage):
    with pytest.raises(ValueProblem):
        v.parse_amount(garbage)


@pytest.mark.parametrize("phone", [
    "13800138000",
    "138 0013 8000",
    "138-0013-8000",
    "+86 138 0013 8000",
    "+8613800138000",
    "0086 138 0013 8000",
    "(+86) 138 0013 8000",
    "010-12345678",
    "0755-1234567",
    "021 1234 5678",
    "+86 10 12345678",
    "0086-10-12345678",
    "010-12345678 转 123",
    "010-12345678 ext. 12",
    "+44 20 7946 0958",
    "0044 20 7946 0958",
    "+1 (415) 555-2671",
    13800138000,
    13800138000.0,
    None,
    "",
])
def test_phone_problem_accepts_dialable_numbers(phone):
    assert v.phone_problem(phone) is None


@pytest.mark.parametrize("phone, problem", [
    ("12800138000", "Phone '12800138000' is not a valid mobile number"),
    ("1380013800", None),  # ten digits may be a foreign national number
    ("138001380001", None),
    ("12345", "Phone '12345' is not a valid number (add the country code, e.g. +44 20 7946 0958)"),
    ("0123456", "Phone '0123456' is not a valid number (add the country code, e.g. +44 20 7946 0958)"),
    ("138-0013-800a", "Phone '138-0013-800a' has characters that are not digits"),
    ("call me", "Phone 'call me' has characters that are not digits"),
    ("+86 123", "Phone '+86 123' is not a valid China number"),
    ("+123", "Phone '+123' should have 8 to 15 digits after the country code"),
    ("+1234567890123456", "Phone '+1234567890123456' should have 8 to 15 digits after the country code"),
])
def test_phone_problem_says_why(phone, problem):
    assert v.phone_problem(phone) == problem


@pytest.mark.parametrize("email", [
    "a@b.co", "li.lei@example.com.cn", "first+tag@sub.example.org", " li@example.com ", "张三@例子.中国", None, "",
])
def test_email_problem_accepts_deliverable_addresses(email):
    assert v.email_problem(email) is None


@pytest.mark.parametrize("email", [
    "a@b", "a@b.c", "a..b@c.com", "@x.com", "a@@x.com", "li lei@example.com", "Joe <joe@x.com>",
    "a@x.com; b@y.com",
])
def test_email_problem_names_the_bad_address(email):
    assert v.email_problem(email) == f"Email '{email}' is not a valid address"


@pytest.mark.parametrize("typed, expected", [
    ("Yes", True), ("y", True), ("TRUE", True), ("1", True), (1, True), (1.0, True), ("x", True), ("✓", True),
    ("是", True), ("需要", True), (True, True),
    ("No", False), ("n", False), ("FALSE", False), ("0", False), (0, False), ("否", False), ("不需要", False),
    (False, False),
])
def test_parse_bool_reads_yes_and_no(typed, expected):
    assert v.parse_bool(typed) is expected


@pytest.mark.parametrize("default", [True, False])
def test_parse_bool_blank_gives_the_default(default):
    assert v.parse_bool(None, default=default) is default
    assert v.parse_bool(" ", default=default) is default


@pytest.mark.parametrize("garbage", ["maybe", "2", 2, "可能"])
def test_parse_bool_refuses_other_answers(garbage):
    with pytest.raises(ValueProblem):
        v.parse_bool(garbage)


@pytest.mark.parametrize("typed, expected", [
    ("East, West", ["East", "West"]),
    ("华东，华南、华北；西南", ["华东", "华南", "华北", "西南"]),
    ("A; B;; C", ["A", "B", "C"]),
    ("A/B|C\nD", ["A", "B", "C", "D"]),
    ("  solo  ", ["solo"]),
    ("", []),
    (None, []),
])
def test_parse_list_splits_on_every_separator(typed, expected):
    assert v.parse_list(typed) == expected


@pytest.mark.parametrize("typed, expected", [
    (0.4, 0.4), (40, 0.4), ("40%", 0.4), ("40 %", 0.4), ("40％", 0.4), ("0.4", 0.4), ("0.5%", 0.005),
    (1, 1.0), (100, 1.0), (0, 0.0), ("100%", 1.0),
])
def test_parse_percent_reads_fractions_and_percents(typed, expected):
    assert v.parse_percent(typed) == pytest.approx(expected)


def test_blank_is_no_percent():
    assert v.parse_percent(None) is None
    assert v.parse_percent("") is None


@pytest.mark.parametrize("garbage", ["150%", 150, "-5%", "high", "nan"])
def test_parse_percent_refuses_impossible_probabilities(garbage):
    with pytest.raises(ValueProblem):
        v.parse_percent(garbage)


@pytest.mark.parametrize("typed, expected", [(3, 3.0), ("3", 3.0), ("1,234.5", 1234.5), (2.5, 2.5), (None, None)])
def test_parse_number_reads_plain_numbers(typed, expected):
    assert v.parse_number(typed) == expected


@pytest.mark.parametrize("garbage", ["three", True, "inf", "nan", float("inf"), float("nan")])
def test_parse_number_refuses_non_numbers(garbage):
    with pytest.raises(ValueProblem):
        v.parse_number(garbage)


@pytest.mark.parametrize("cell, expected", [
    (None, ""), ("  Acme  ", "Acme"), (12.0, "12"), (12.5, "12.5"), (True, "TRUE"),
    (date(2026, 11, 28), "2026-11-28"), (datetime(2026, 11, 28), "2026-11-28"),
    (datetime(2026, 11, 28, 9, 5), "2026-11-28 09:05"),
])
def test_text_shows_a_cell_as_people_see_it(cell, expected):
    assert v.text(cell) == expected
