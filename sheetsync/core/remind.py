"""Work out who must do what today: follow-ups due, missing plans, stale deals, approvals and fixes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from . import values as v
from .habits import EVERY_DAY, name_key, next_workday
from .model import Opportunity, Pipeline, Stage
from .validate import PENDING, REJECTED, approval_decision

FOLLOW_UP = "follow_up"
"""A planned Next follow-up is due today or overdue."""
UNPLANNED = "unplanned"
"""An open deal had no Next follow-up, so one was proposed."""
STALE = "stale"
"""A deal has sat in its stage longer than the stage allows."""
APPROVAL = "approval"
"""A stage that needs approval has none yet, or it was rejected."""
FIX = "fix"
"""The row has validation problems to correct."""

UNASSIGNED = {"en": "(unassigned)", "zh": "（未分配）"}
"""How a blank Owner is shown, per language."""

_TEXT = {
    "en": {
        "due_today": "Follow-up due today",
        "overdue": "Follow-up overdue by {n} day{s}",
        "unplanned": "No follow-up planned: proposed {day}",
        "stale": "Stale: in {stage} for {n} days (limit {limit})",
        "awaiting": "Awaiting approval for {stage}",
        "rejected": "Approval rejected: revise the deal or move it back a stage",
        "fix": "Fix: {problems}",
        "join": "; ",
    },
    "zh": {
        "due_today": "今天需跟进",
        "overdue": "跟进已逾期 {n} 天",
        "unplanned": "未安排下次跟进：建议 {day}",
        "stale": "停滞：已在「{stage}」阶段 {n} 天（上限 {limit} 天）",
        "awaiting": "「{stage}」阶段待审批",
        "rejected": "审批被驳回：请修改后重新提交或退回上一阶段",
        "fix": "需修正：{problems}",
        "join": "；",
    },
}

@dataclass(frozen=True)
class Reminder:
    """One thing an owner must do about one opportunity, due on a given day."""

    due: date
    owner: str
    id: str
    customer: str
    stage: str
    reason: str
    days_overdue: int
    kind: str = ""
    """Which check raised it (FOLLOW_UP, UNPLANNED, STALE, APPROVAL or FIX); not written to the sheet."""

    def row(self) -> list:
        """Return the cells in Reminders column order."""
        return [self.due, self.owner, self.id, self.customer, self.stage, self.reason, self.days_overdue]

    @property
    def is_follow_up(self) -> bool:
        """Tell whether a planned follow-up raised this reminder."""
        return self.kind == FOLLOW_UP


def owner_label(owner: str, language: str = "en") -> str:
    """Return the owner as shown in reminders and summaries, naming a blank owner as unassigned."""
    return owner or UNASSIGNED.get(language, UNASSIGNED["en"])


def propose_follow_ups(opps: Sequence[Opportunity], pipeline: Pipeline, today: date,
                       calendar: str = EVERY_DAY) -> dict[int, date]:
    """Propose a Next follow-up (by sheet row) for open rows where it is blank, from the stage's cadence.

    The day is moved forward to the first workday of `calendar` (see habits.CALENDARS).
    """
    proposals: dict[int, date] = {}
    for opp in opps:
        stage = pipeline.find(opp.cells.get("stage"))
        if stage is None or not stage.is_open or stage.follow_up_days is None:
            continue
        if not opp.blank("next_follow_up"):
            continue
        base = opp.date("last_contact") or opp.date("created") or today
        proposals[opp.row] = next_workday(max(base + timedelta(days=stage.follow_up_days), today), calendar)
    return proposals


def reminders(opps: Sequence[Opportunity], pipeline: Pipeline, today: date, *,
              proposals: Mapping[int, date], problems: Mapping[int, Sequence[str]],
              stage_since: Mapping[int, date | None], language: str = "en") -> list[Reminder]:
    """Return every reminder due today or earlier, sorted by owner (pinyin in Chinese) then due date."""
    words = _TEXT.get(language, _TEXT["en"])
    found: list[Reminder] = []
    for opp in opps:
        stage = pipeline.find(opp.cells.get("stage"))
        checks = [] if stage is None else [
            *_follow_up(opp, stage, today, proposals, words),
            *_stale(stage, stage_since.get(opp.row), today, words),
            *_approval(opp, stage, today, words),
        ]
        row_problems = [p for p in problems.get(opp.row, ()) if p]
        if row_problems:
            checks.append((today, words["fix"].format(problems=words["join"].join(row_problems)), FIX))
        stage_name = stage.name if stage is not None else opp.text("stage")
        for due, reason, kind in checks:
            if due > today:
                continue
            found.append(Reminder(due, owner_label(opp.owner, language), opp.id, opp.text("customer"),
                                  stage_name, reason, max((today - due).days, 0), kind))
    keys: dict[str, tuple[str, str]] = {}
    for r in found:
        if r.owner not in keys:
            keys[r.owner] = name_key(r.owner, language)
    found.sort(key=lambda r: (keys[r.owner], r.due, r.id, r.reason))
    return found


def _follow_up(opp: Opportunity, stage: Stage, today: date, proposals: Mapping[int, date],
               words: Mapping[str, str]) -> list[tuple[date, str, str]]:
    if not stage.is_open:
        return []
    checks = []
    proposal = proposals.get(opp.row)
    due = proposal if opp.blank("next_follow_up") else opp.date("next_follow_up")
    if due is not None and due <= today:
        late = (today - due).days
        text = words["due_today"] if late == 0 else words["overdue"].format(n=late, s="" if late == 1 else "s")
        checks.append((due, text, FOLLOW_UP))
    if proposal is not None:
        checks.append((today, words["unplanned"].format(day=proposal.isoformat()), UNPLANNED))
    return checks


def _stale(stage: Stage, since: date | None, today: date, words: Mapping[str, str]) -> list[tuple[date, str, str]]:
    if not stage.is_open or stage.stale_days is None or since is None:
        return []
    days = (today - since).days
    if days <= stage.stale_days:
        return []
    text = words["stale"].format(stage=stage.name, n=days, limit=stage.stale_days)
    return [(since + timedelta(days=stage.stale_days), text, STALE)]


def _approval(opp: Opportunity, stage: Stage, today: date, words: Mapping[str, str]) -> list[tuple[date, str, str]]:
    if not stage.needs_approval:
        return []
    try:
        decision = approval_decision(opp.cells.get("approval"))
    except v.ValueProblem:
        return []  # an unreadable Approval is already a "Fix:" reminder
    if decision in (None, PENDING):
        return [(today, words["awaiting"].format(stage=stage.name), APPROVAL)]
    if decision == REJECTED:
        return [(today, words["rejected"], APPROVAL)]
    return []
