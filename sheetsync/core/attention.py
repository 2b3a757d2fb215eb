"""Queue items needing attention, turned into Reminders rows for the manager (pure: explicit `today`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from ..messages import say
from .model import Rep
from .remind import Reminder

ATTENTION = "attention"
"""Reminder kind: a form submission the sheet kept refusing, set aside for a person to look at."""


@dataclass(frozen=True)
class SetAside:
    """One intake item needing attention, as the queue reports it."""

    key: str
    opportunity_id: str
    customer: str
    reason: str
    since: date


def manager_of(team: Sequence[Rep], language: str = "en") -> str:
    """Return the name most reps report to (the Team tab's Manager column), or a placeholder."""
    counts = Counter(r.manager for r in team if r.manager)
    if not counts:
        return say("nothinglost.manager", language)
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]


def attention_reminders(items: Sequence[SetAside], team: Sequence[Rep], today: date,
                        language: str = "en") -> list[Reminder]:
    """Return one Reminders row per item needing attention, addressed to the manager."""
    manager = manager_of(team, language)
    return [Reminder(due=item.since, owner=manager, id=item.opportunity_id or item.key, customer=item.customer,
                     stage="", reason=say("nothinglost.attention_reminder", language, key=item.key,
                                          reason=item.reason.strip()),
                     days_overdue=max(0, (today - item.since).days), kind=ATTENTION)
            for item in items]
