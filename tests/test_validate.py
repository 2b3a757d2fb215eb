from datetime import date

import pytest

from sheetsync.core.model import LOST, OPEN, WON, Opportunity, Pipeline, Stage
from sheetsync.core.validate import approval_decision, required_fields, status_text, validate
from sheetsync.core.values import ValueProblem


def stage(name, order, outcome=OPEN, required=()):
    return Stage(name=name, order=order, probability=0.5, follow_up_days=None, stale_days=None,
                 required=required, needs_approval=False, outcome=outcome)


PIPELINE = Pipeline.of([
    stage("Lead", 1),
    stage("Quote", 2, required=("amount",)),
    stage("Negotiation", 3, required=("expected_close", "contractno")),
    stage("Won", 4, WON, required=("approval",)),
    stage("Lost", 5, LOST, required=("loss_reason",)),
])
ZH_PIPELINE = Pipeline.of([
    stage("线索", 1),
    stage("报价", 2, required=("amount",)),
    stage("赢单", 3, WON),
    stage("输单", 4, LOST, required=("loss_reason",)),
])
LABELS = {"contractno": "Contract No."}
TODAY = date(2026, 3, 1)


def row(**cells):
    base = {"id": "OPP-0001", "customer": "Acme", "contact": "Li Lei", "phone": "13800138000"}
    return Opportunity(7, {**base, **cells})


def test_complete_row_has_no_problems():
    assert validate(row(), PIPELINE, LABELS) == []


@pytest.mark.parametrize("problems, text", [
    ([], "OK"),
    (["Missing Customer"], "Missing Customer"),
    (["Missing Customer", "Missing Contact"], "Missing Customer; Missing Contact"),
])
def test_status_text_is_ok_or_the_problems_joined(problems, text):
    assert status_text(problems) == text


@pytest.mark.parametrize("cells, language, expected", [
    ({"customer": None}, "en", ["Missing Customer"]),
    ({"customer": "   "}, "en", ["Missing Customer"]),
    ({"contact": ""}, "en", ["Missing Contact"]),
    ({"customer": None, "contact": None}, "zh", ["缺少客户名称", "缺少联系人"]),
    ({"phone": None}, "en", ["Phone or Email is needed"]),
    ({"phone": None}, "zh", ["电话或邮箱至少填一项"]),
    ({"phone": None, "email": "li@example.com"}, "en", []),
    ({"phone": None, "email": "li@example.com"}, "zh", []),
])
def test_every_row_needs_customer_contact_and_a_way_to_reach_them(cells, language, expected):
    assert validate(row(**cells), PIPELINE, LABELS, language) == expected


def test_messages_name_columns_as_the_sheet_heads_them():
    labels = {"customer": "Company", "phone": "手机号", "email": "E-mail"}
    assert validate(row(customer=None, phone=None), PIPELINE, labels) == [
        "Missing Company", "手机号 or E-mail is needed"]


def test_blank_stage_means_the_first_stage():
    assert validate(row(stage=None, amount=None), PIPELINE, LABELS) == []


@pytest.mark.parametrize("language, expected", [
    ("en", ["Stage 'Negotiating' is not on the Stages tab: pick one from the dropdown"]),
    ("zh", ["阶段“Negotiating”不在阶段表中：请从下拉列表中选择"]),
])
def test_unknown_stage_names_the_value_and_the_fix(language, expected):
    assert validate(row(stage="Negotiating"), PIPELINE, LABELS, language) == expected


def test_unknown_stage_skips_stage_rules_but_keeps_format_checks():
    problems = validate(row(stage="Paused", amount="lots", expected_close="2026-01-05"), PIPELINE, LABELS,
                        today=TODAY)
    assert problems == ["Stage 'Paused' is not on the Stages tab: pick one from the dropdown",
                        "Amount 'lots' is not an amount (write a number such as 12000)"]


def test_stage_name_matches_loosely():
    assert validate(row(stage=" quote ", amount=5000), PIPELINE, LABELS) == []


@pytest.mark.parametrize("stage_name, cells, expected", [
    ("Lead", {}, []),
    ("Quote", {}, ["Missing Amount (required from Quote)"]),
    ("Quote", {"amount": "3.5万"}, []),
    ("Negotiation", {}, ["Missing Amount (required from Quote)",
                         "Missing Expected close (required from Negotiation)",
                         "Missing Contract No. (required from Negotiation)"]),
    ("Negotiation", {"amount": 100, "expected_close": "2026-06-30", "contractno": "C-9"}, []),
    ("Won", {"amount": 100}, ["Missing Expected close (required from Negotiation)",
                              "Missing Contract No. (required from Negotiation)",
                              "Missing Approval (required from Won)"]),
    ("Won", {"amount": 100, "expected_close": "2026-06-30", "contractno": "C-9", "approval": "Approved"}, []),
    ("Lost", {}, ["Missing Loss reason (required when Lost)"]),
    ("Lost", {"loss_reason": "Price"}, []),
])
def test_required_fields_accumulate_along_open_and_won_stages(stage_name, cells, expected):
    assert validate(row(stage=stage_name, **cells), PIPELINE, LABELS) == expected


@pytest.mark.parametrize("stage_name, expected", [
    ("报价", ["缺少预计金额（报价阶段起必填）"]),
    ("赢单", ["缺少预计金额（报价阶段起必填）"]),
    ("输单", ["缺少流失原因（输单时必填）"]),
])
def test_required_field_messages_in_chinese(stage_name, expected):
    assert validate(row(stage=stage_name), ZH_PIPELINE, {}, "zh") == expected


def test_custom_required_field_without_a_label_is_named_by_its_key():
    assert validate(row(stage="Negotiation", amount=1, expected_close="2026-06-30"), PIPELINE, {}) == [
        "Missing contractno (required from Negotiation)"]


def test_required_fields_map_each_key_to_the_earliest_stage():
    earliest = {key: s.name for key, s in required_fields(PIPELINE, PIPELINE.find("Won")).items()}
    assert earliest == {"amount": "Quote", "expected_close": "Negotiation", "contractno": "Negotiation",
                        "approval": "Won"}
    assert {k: s.name for k, s in required_fields(PIPELINE, PIPELINE.find("Lost")).items()} == {
        "loss_reason": "Lost"}


def test_stage_requiring_phone_replaces_the_phone_or_email_message():
    pipeline = Pipeline.of([stage("Lead", 1, required=("phone",))])
    assert validate(row(phone=None), pipeline, {}) == ["Missing Phone (required from Lead)"]


def test_stage_requiring_customer_is_reported_once():
    pipeline = Pipeline.of([stage("Lead", 1, required=("customer",))])
    assert validate(row(customer=None), pipeline, {}) == ["Missing Customer"]


@pytest.mark.parametrize("key, value, expected", [
    ("phone", "12800138000", "Phone '12800138000' is not a valid mobile number"),
    ("phone", "call me", "Phone 'call me' has characters that are not digits"),
    ("phone", "+86 123", "Phone '+86 123' is not a valid China number"),
    ("phone", "+123", "Phone '+123' should have 8 to 15 digits after the country code"),
    ("phone", "12345", "Phone '12345' is not a valid number (add the country code, e.g. +44 20 7946 0958)"),
    ("email", "li@example", "Email 'li@example' is not a valid address"),
    ("expected_close", "soon", "Expected close 'soon' is not a date (write it as 2026-11-28)"),
    ("next_follow_up", "2026-02-30", "Next follow-up '2026-02-30' is not a date (write it as 2026-11-28)"),
    ("last_contact", "yesterday", "Last contact 'yesterday' is not a date (write it as 2026-11-28)"),
    ("amount", "TBD", "Amount 'TBD' is not an amount (write a number such as 12000)"),
    ("amount", "1,2,3", "Amount '1,2,3' is not an amount (write a number such as 12000)"),
    ("amount", "-500", "Amount '-500' must not be negative"),
    ("amount", "(500)", "Amount '(500)' must not be negative"),
    ("amount", -1.5, "Amount '-1.5' must not be negative"),
    ("approval", "maybe", "Approval 'maybe' should be Approved, Rejected, Pending or blank"),
])
def test_filled_cells_must_read_as_their_type(key, value, expected):
    assert validate(row(**{key: value}), PIPELINE, LABELS) == [expected]


@pytest.mark.parametrize("key, value, expected", [
    ("phone", "12800138000", "电话“12800138000”不是有效的手机号"),
    ("phone", "call me", "电话“call me”含有非数字字符"),
    ("phone", "+86 123", "电话“+86 123”不是有效的中国号码"),
    ("phone", "+123", "电话“+123”国家代码后应有 8 到 15 位数字"),
    ("phone", "12345", "电话“12345”不是有效号码（国外号码请加国家代码，如 +44 20 7946 0958）"),
    ("email", "li@example", "邮箱“li@example”不是有效的邮箱地址"),
    ("expected_close", "下周", "预计成交日期“下周”不是日期（请写成 2026-11-28）"),
    ("amount", "面议", "预计金额“面议”不是金额（请填数字，如 12000）"),
    ("amount", "-500", "预计金额“-500”不能为负数"),
    ("approval", "待定", "审批“待定”应为同意、驳回、待审批或留空"),
])
def test_format_problems_in_chinese(key, value, expected):
    assert validate(row(**{key: value}), PIPELINE, {}, "zh") == [expected]


@pytest.mark.parametrize("cells", [
    {"phone": "+86 138 0013 8000"}, {"phone": "010-12345678"}, {"phone": "+44 20 7946 0958"},
    {"phone": 13800138000.0}, {"email": "li@example.com"},
    {"expected_close": 46354}, {"next_follow_up": date(2026, 11, 28)}, {"last_contact": "28 Nov 2026"},
    {"amount": "¥12,000"}, {"amount": 0},
])
def test_readable_cells_pass(cells):
    assert validate(row(**cells), PIPELINE, LABELS) == []


@pytest.mark.parametrize("value, decision", [
    (None, None), ("", None), ("Approved", "approved"), ("APPROVED", "approved"), (" approved ", "approved"),
    ("同意", "approved"), ("通过", "approved"), ("Rejected", "rejected"), ("rejected", "rejected"),
    ("驳回", "rejected"), ("拒绝", "rejected"), ("不通过", "rejected"), ("已通过", "approved"),
    ("Pending", "pending"), ("审批中", "pending"),
])
def test_approval_is_blank_approved_rejected_or_pending_in_either_language(value, decision):
    assert approval_decision(value) == decision
    assert validate(row(approval=value), PIPELINE, LABELS) == []


@pytest.mark.parametrize("value", ["maybe", "Approve", "yes", "待定"])
def test_approval_refuses_other_words(value):
    with pytest.raises(ValueProblem):
        approval_decision(value)


@pytest.mark.parametrize("language, expected", [
    ("en", ["ID OPP-0001 is also on row 12: clear the ID on the copy so sync gives it a new one"]),
    ("zh", ["编号 OPP-0001 与第 12 行重复：请清空副本的编号，同步时会重新生成"]),
])
def test_duplicate_id_tells_to_clear_the_copy(language, expected):
    assert validate(row(), PIPELINE, LABELS, language, duplicate_row=12) == expected


@pytest.mark.parametrize("stage_name, close, today, expected", [
    ("Lead", "2026-01-05", TODAY, ["Expected close 2026-01-05 has passed: set a new date or close the deal"]),
    ("Lead", "2026-02-28 18:00", TODAY,
     ["Expected close 2026-02-28 has passed: set a new date or close the deal"]),
    ("Lead", "2026-03-01", TODAY, []),
    ("Lead", "2026-06-30", TODAY, []),
    ("Lead", "2026-01-05", None, []),
    ("Lost", "2026-01-05", TODAY, ["Missing Loss reason (required when Lost)"]),
    ("Lead", "garbage", TODAY, ["Expected close 'garbage' is not a date (write it as 2026-11-28)"]),
])
def test_passed_expected_close_is_flagged_on_open_deals_only(stage_name, close, today, expected):
    assert validate(row(stage=stage_name, expected_close=close), PIPELINE, LABELS, today=today) == expected


def test_passed_expected_close_in_chinese():
    assert validate(row(expected_close="2026-01-05"), PIPELINE, {}, "zh", today=TODAY) == [
        "预计成交日期 2026-01-05 已过：请改新日期或结束商机"]


def test_won_deal_with_passed_close_is_not_flagged():
    done = row(stage="Won", amount=1, expected_close="2026-01-05", contractno="C-1", approval="同意")
    assert validate(done, PIPELINE, LABELS, today=TODAY) == []


def test_problems_come_in_rule_order():
    messy = row(customer=None, phone="abc", stage="Quote", amount=None, expected_close="2026-01-05")
    assert validate(messy, PIPELINE, LABELS, duplicate_row=3, today=TODAY) == [
        "Missing Customer",
        "Missing Amount (required from Quote)",
        "Phone 'abc' has characters that are not digits",
        "ID OPP-0001 is also on row 3: clear the ID on the copy so sync gives it a new one",
        "Expected close 2026-01-05 has passed: set a new date or close the deal",
    ]


def test_validate_never_changes_the_row():
    opp = row(stage="Quote", amount="(500)", phone="abc")
    before = dict(opp.cells)
    validate(opp, PIPELINE, LABELS, "zh", duplicate_row=2, today=TODAY)
    assert opp.cells == before



def test_chinese_status_joins_problems_with_a_full_width_semicolon():
    assert status_text(["缺少客户名称", "缺少联系人"], "zh") == "缺少客户名称；缺少联系人"
