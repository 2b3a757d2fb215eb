"""Check one opportunity row and say what to fix, in the workbook's language; never change a value."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from ..messages import say
from . import values as v
from .model import LOST, Opportunity, Pipeline, Stage
from .schema import OPPORTUNITIES, STAGES, normalize

OK = "OK"
"""The Status text of a row with no problems."""

DATE_KEYS = ("expected_close", "next_follow_up", "last_contact")
"""Opportunity columns whose filled cells must read as dates."""

APPROVED, REJECTED, PENDING = "approved", "rejected", "pending"
_APPROVAL_WORDS = {
    APPROVED: ("approved", "同意", "通过", "已通过", "批准"),
    REJECTED: ("rejected", "denied", "declined", "驳回", "已驳回", "拒绝", "已拒绝", "不通过", "未通过"),
    PENDING: ("pending", "waiting", "submitted", "in review", "待审批", "审批中", "待审", "已提交"),
}
_APPROVALS = {normalize(word): decision for decision, words in _APPROVAL_WORDS.items() for word in words}
_BY_LENGTH = sorted(_APPROVALS.items(), key=lambda item: -len(item[0]))

_MESSAGES: dict[str, tuple[str, str]] = {
    "missing": ("Missing {field}", "缺少{field}"),
    "reach": ("{phone} or {email} is needed", "{phone}或{email}至少填一项"),
    "unknown_stage": ("{field} '{value}' is not on the {tab} tab: pick one from the dropdown",
                      "{field}“{value}”不在{tab}表中：请从下拉列表中选择"),
    "required_from": ("Missing {field} (required from {stage})", "缺少{field}（{stage}阶段起必填）"),
    "required_when": ("Missing {field} (required when {stage})", "缺少{field}（{stage}时必填）"),
    "phone": ("{field} '{value}' {reason}", "{field}“{value}”{reason}"),
    "email": ("{field} '{value}' is not a valid address", "{field}“{value}”不是有效的邮箱地址"),
    "date": ("{field} '{value}' is not a date (write it as 2026-11-28)",
             "{field}“{value}”不是日期（请写成 2026-11-28）"),
    "amount": ("{field} '{value}' is not an amount (write a number such as 12000)",
               "{field}“{value}”不是金额（请填数字，如 12000）"),
    "negative": ("{field} '{value}' must not be negative", "{field}“{value}”不能为负数"),
    "approval": ("{field} '{value}' should be Approved, Rejected, Pending or blank",
                 "{field}“{value}”应为同意、驳回、待审批或留空"),
    "duplicate": ("{field} {value} is also on row {row}: clear the {field} on the copy so sync gives it a new one",
                  "{field} {value} 与第 {row} 行重复：请清空副本的{field}，同步时会重新生成"),
    "overdue": ("{field} {value} has passed: set a new date or close the deal",
                "{field} {value} 已过：请改新日期或结束商机"),
}

_PHONE_REASONS_ZH = {
    "has characters that are not digits": "含有非数字字符",
    "is not a valid China number": "不是有效的中国号码",
    "should have 8 to 15 digits after the country code": "国家代码后应有 8 到 15 位数字",
    "is not a valid mobile number": "不是有效的手机号",
    "is not a valid number (add the country code, e.g. +44 20 7946 0958)":
        "不是有效号码（国外号码请加国家代码，如 +44 20 7946 0958）",
}
_PHONE_FALLBACK = ("is not a valid number", "不是有效号码")


def status_text(problems: Sequence[str], language: str = "en") -> str:
    """Return 'OK' when there are no problems, else the problems joined ('; ', or '；' in Chinese)."""
    return say("review.join", language).join(problems) if problems else OK


def approval_decision(value: object) -> str | None:
    """Read an Approval cell as approved, rejected or pending (None when blank); raise ValueProblem otherwise."""
    if v.is_blank(value):
        return None
    folded = normalize(value)
    decision = _APPROVALS.get(folded)
    if decision is None:
        # "Approved by Grace Li", "同意（李经理）": the decision first, then who gave it, kept as typed
        decision = next((d for word, d in _BY_LENGTH if folded.startswith(word)), None)
    if decision is None:
        raise v.ValueProblem(f"'{v.text(value)}' is not Approved or Rejected")
    return decision


def required_fields(pipeline: Pipeline, stage: Stage) -> dict[str, Stage]:
    """Map each column key the stage requires to the earliest stage that requires it."""
    if stage.outcome == LOST:
        return {key: stage for key in stage.required}
    earliest: dict[str, Stage] = {}
    for step in pipeline.stages[: pipeline.index(stage) + 1]:
        if step.outcome != LOST:
            for key in step.required:
                earliest.setdefault(key, step)
    return earliest


def validate(opp: Opportunity, pipeline: Pipeline, labels: Mapping[str, str], language: str = "en",
             duplicate_row: int | None = None, today: date | None = None) -> list[str]:
    """Return the problems of one opportunity row, in the workbook's language."""
    check = _Check(opp, labels, language)
    stage = pipeline.find(opp.cells.get("stage"))

    missing_for_stage = []
    if stage is not None:
        required = pipeline.memo.get(("required", stage.name))
        if required is None:
            required = pipeline.memo[("required", stage.name)] = required_fields(pipeline, stage)
        for key, since in required.items():
            if opp.blank(key) and key not in ("customer", "contact"):
                missing_for_stage.append((key, since))

    for key in ("customer", "contact"):
        if opp.blank(key):
            check.say("missing", field=check.label(key))
    stage_asks_reach = any(key in ("phone", "email") for key, _ in missing_for_stage)
    if opp.blank("phone") and opp.blank("email") and not stage_asks_reach:
        check.say("reach", phone=check.label("phone"), email=check.label("email"))

    if stage is None:
        check.say("unknown_stage", field=check.label("stage"), value=opp.text("stage"),
                  tab=STAGES.title(language))
    for key, since in missing_for_stage:
        kind = "required_when" if stage is not None and stage.outcome == LOST else "required_from"
        check.say(kind, field=check.label(key), stage=since.name)

    check.formats()
    if duplicate_row is not None:
        check.say("duplicate", field=check.label("id"), value=opp.id, row=duplicate_row)
    if today is not None and stage is not None and stage.is_open:
        close = opp.date("expected_close")
        if close is not None and close < today:
            check.say("overdue", field=check.label("expected_close"), value=close.isoformat())
    return check.problems


class _Check:
    """Collect one row's problems, worded in one language with the sheet's own column names."""

    def __init__(self, opp: Opportunity, labels: Mapping[str, str], language: str) -> None:
        self.opp = opp
        self.labels = labels
        self.zh = language == "zh"
        self.variant = 1 if self.zh else 0
        self.problems: list[str] = []

    def label(self, key: str) -> str:
        """Name a column as the sheet's header does, else by the schema's name in this language."""
        if self.labels.get(key):
            return self.labels[key]
        column = OPPORTUNITIES.by_key.get(key)
        return column.name("zh" if self.zh else "en") if column else key

    def say(self, message: str, **fields: object) -> None:
        """Add one problem from the message table."""
        self.problems.append(_MESSAGES[message][self.variant].format(**fields))

    def formats(self) -> None:
        """Add a problem for each filled cell that cannot be read as its column's type."""
        cells, raw = self.opp.cells, self.opp.text
        phone = v.phone_problem(cells.get("phone"))
        if phone:
            self.say("phone", field=self.label("phone"), value=raw("phone"), reason=self._phone_reason(phone))
        if v.email_problem(cells.get("email")):
            self.say("email", field=self.label("email"), value=raw("email"))
        for key in DATE_KEYS:
            if self.opp.date(key) is None and not self.opp.blank(key):  # filled, yet no date
                self.say("date", field=self.label(key), value=raw(key))
        amount = self.opp.amount
        if amount is None and not self.opp.blank("amount"):
            self.say("amount", field=self.label("amount"), value=raw("amount"))
        elif amount is not None and amount < 0:
            self.say("negative", field=self.label("amount"), value=raw("amount"))
        try:
            approval_decision(cells.get("approval"))
        except v.ValueProblem:
            self.say("approval", field=self.label("approval"), value=raw("approval"))

    def _phone_reason(self, problem: str) -> str:
        prefix = f"Phone '{self.opp.text('phone')}' "
        reason = problem[len(prefix):] if problem.startswith(prefix) else ""
        if self.zh:
            return _PHONE_REASONS_ZH.get(reason, _PHONE_FALLBACK[1])
        return reason or _PHONE_FALLBACK[0]
