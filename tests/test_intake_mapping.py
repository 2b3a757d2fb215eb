"""Form answers become sheet values: cleaned, matched to columns by name, nothing dropped."""

from __future__ import annotations

import pytest

from sheetsync.core.schema import FOLLOWUPS
from sheetsync.intake import defaults
from sheetsync.intake.mapping import check_field_map, clean, map_answers, to_text


@pytest.mark.parametrize("raw, expected", [
    ("Acme\x00 Ltd", "Acme Ltd"),
    ("line1\r\nline2\rline3", "line1\nline2\nline3"),
    ("tab\there", "tab\there"),
    ("bell\x07\x1b[31m", "bell[31m"),
    ("c1\x85\x9fend", "c1end"),
    ("  padded  ", "padded"),
    ("=HYPERLINK(\"http://evil\",\"click\")", "=HYPERLINK(\"http://evil\",\"click\")"),
    ("+86 138 0000 0000", "+86 138 0000 0000"),
    ("@SUM(A1)", "@SUM(A1)"),
    ("-2+3", "-2+3"),
    ("中文客户", "中文客户"),
])
def test_clean_strips_control_characters_but_leaves_formula_text_unchanged(raw, expected):
    assert clean(raw) == (expected, False)


def test_clean_cuts_long_values_and_says_so():
    text, cut = clean("x" * (defaults.MAX_FIELD_CHARS + 5))
    assert cut and len(text) == defaults.MAX_FIELD_CHARS


@pytest.mark.parametrize("value, expected", [
    (None, ""), (True, "Yes"), (False, "No"), (10, "10"), (5.0, "5"), (-930.3609, "-930.3609"),
    (["London", "Sydney"], "London, Sydney"), (["a", None, ""], "a"),
    ({"province": "江苏省", "city": "无锡市", "district": "梁溪区", "detail": "清扬路138号"},
     "江苏省无锡市梁溪区清扬路138号"),
    ({"_id": "5acd", "name": "张秀兰"}, "张秀兰"),
    ([{"a": 1, "b": 2}], "a: 1; b: 2"),
])
def test_to_text_renders_answers_as_a_person_would_type_them(value, expected):
    assert to_text(value) == expected


def test_answers_map_by_english_chinese_and_alias_headers():
    mapped = map_answers([("Company", "Acme"), ("联系人", "王伟"), ("手机号", "13800000000"), ("E-mail", "a@b.cn"),
                          ("所属行业", "制造"), ("Message", "Need 20 units")])
    assert mapped.fields == {"customer": "Acme", "contact": "王伟", "phone": "13800000000", "email": "a@b.cn",
                             "industry": "制造", "need": "Need 20 units"}
    assert mapped.warnings == []


def test_unmatched_fields_are_kept_in_need_with_a_warning():
    mapped = map_answers([("Customer", "Acme"), ("Need", "Quote please"), ("utm_campaign", "newsletter"),
                          ("Budget", "50k")])
    assert mapped.fields["need"] == "Quote please\nutm_campaign: newsletter\nBudget: 50k"
    assert mapped.warnings == ["Fields 'utm_campaign', 'Budget' match no column and went to Need: name a field like a "
                               "column header (e.g. Customer, Phone, Region) or map it under [field_map] in the "
                               "config."]


def test_field_map_beats_header_matching():
    mapped = map_answers([("Company size", "200"), ("Name", "Li")], field_map={"Company size": "Level",
                                                                              "Name": "Customer"})
    assert mapped.fields == {"level": "200", "customer": "Li"}


def test_other_names_such_as_a_question_ref_are_tried_after_the_label():
    mapped = map_answers([("What is your company called?", "Acme", ("company", "abc123"))])
    assert mapped.fields == {"customer": "Acme"}


@pytest.mark.parametrize("label", ["ID", "Owner", "Status", "Created", "Assigned by", "Updated"])
def test_columns_sheetsync_owns_cannot_be_set_by_a_form(label):
    mapped = map_answers([("Customer", "Acme"), (label, "forged")])
    assert mapped.fields["customer"] == "Acme"
    assert mapped.fields["need"] == f"{label}: forged"
    assert "may not set" in mapped.warnings[0]


def test_a_second_field_for_the_same_column_is_kept_in_need():
    mapped = map_answers([("Phone", "1"), ("Mobile", "2")])
    assert mapped.fields == {"phone": "1", "need": "Mobile: 2"}
    assert "a second time" in mapped.warnings[0]


def test_blank_answers_are_skipped():
    assert map_answers([("Customer", "  "), ("Phone", None), ("Email", [])]).fields == {}


def test_follow_up_answers_map_to_follow_up_columns_and_extras_go_to_summary():
    mapped = map_answers([("商机编号", "OPP-7K3F9Q"), ("跟进方式", "电话"), ("内容", "聊了报价"), ("Mood", "good")],
                         FOLLOWUPS)
    assert mapped.fields == {"opportunity_id": "OPP-7K3F9Q", "channel": "电话", "summary": "聊了报价\nMood: good"}


def test_long_need_is_capped_at_the_cell_limit():
    answers = [(f"Q{i}", "x" * defaults.MAX_FIELD_CHARS) for i in range(15)]
    mapped = map_answers(answers)
    assert len(mapped.fields["need"]) == defaults.MAX_CELL_CHARS
    assert any("was cut" in w for w in mapped.warnings)


def test_check_field_map_names_targets_that_are_no_column():
    assert check_field_map({"Size": "Level", "Foo": "Nonsense"}) == [
        "[field_map] maps 'Foo' to 'Nonsense', which is not a column of Opportunities or Follow-ups: use a header "
        "such as Customer, Phone, Region or Need."]
