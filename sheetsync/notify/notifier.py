"""Tie notifications to the running product: queue them after writes and syncs, send them from the outbox.

Queuing is a local SQLite insert made after the sheet write succeeded, so it never slows a sync or a
flush; sending happens in its own scheduler job, one delivery at a time with timeouts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING

from ..config import Config
from ..core.habits import AUTO, EVERY_DAY, MON_FRI, calendar_for, is_workday
from ..core.schema import normalize
from ..core.workbook import detect_language
from ..stores.base import Snapshot, WriteBatch
from . import defaults, schedule
from .build import MANAGER, Message, assignment_messages, build_payload, daily_digests, weekly_digest
from .channels import Contact, manager_targets, targets_for
from .leads import assigned_leads, contacts_of, team_contacts
from .outbox import Delivery, Outbox, retry_at
from .send import SendResult, send

if TYPE_CHECKING:
    from ..core.plan import Plan

log = logging.getLogger(__name__)

Sender = Callable[[str, str, str], SendResult]
"""Sends (target, title, body); the default is send.send."""


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class Addressed:
    """A message with the channels it will go to, and why someone cannot be reached."""

    message: Message
    targets: list[str]
    problems: list[str] = field(default_factory=list)

    def deliveries(self) -> list[Delivery]:
        payload = build_payload(self.message)
        m = self.message
        return [Delivery(m.key, m.kind, m.recipient, t, payload["title"], payload["body"]) for t in self.targets]


@dataclass
class DeliverReport:
    """What one run of the send job did."""

    sent: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


class Notifier:
    """Queues assignment notices and digests into the outbox and delivers what is due."""

    def __init__(self, config: Config, outbox: Outbox, clock: Callable[[], datetime] = _utc_now,
                 sender: Sender = send) -> None:
        self.config = config
        self.outbox = outbox
        self.clock = clock
        self.sender = sender
        self.daily_at = schedule.parse_time(config.notify_daily_at)
        self.weekly_at = schedule.parse_weekly(config.notify_weekly_at)
        self.workdays = schedule.parse_days(config.notify_workdays)
        self.wake: Callable[[], object] | None = None
        """Set by the scheduler: run the send job now rather than at its next interval."""

    def _queued(self, count: int) -> int:
        """Wake the send job after something was queued; return `count`."""
        if count and self.wake is not None:
            try:
                self.wake()
            except Exception as exc:  # a stopped scheduler: the next run sends it
                log.debug("could not wake the send job: %s", exc)
        return count

    def is_workday(self, day: date, language: str) -> bool:
        """A day for daily digests: notify_workdays, or with "auto" the team's calendar (`workdays`; Mon-Fri at
        least, so the every-day calendar of proposals does not send digests at weekends)."""
        if self.workdays is not None:
            return day.weekday() in self.workdays
        calendar = calendar_for(getattr(self.config, "workdays", AUTO), language)
        return is_workday(day, MON_FRI if calendar == EVERY_DAY else calendar)

    def _today(self, now: datetime) -> date:
        return now.astimezone(self.config.tz).date()

    # -- addressing ------------------------------------------------------------------------------

    def address(self, message: Message, contacts: dict[str, Contact]) -> Addressed:
        """The channels a message goes to: the manager setting, or the recipient's Team cells."""
        if message.recipient == MANAGER:
            targets = manager_targets(self.config.notify_manager)
            problems = [] if targets else ["notify_manager is not set, so the manager's digest goes nowhere."]
            return Addressed(message, targets, problems)
        contact = contacts.get(normalize(message.recipient))
        if contact is None:
            return Addressed(message, [], [f"{message.recipient} is not on the Team tab, so they cannot be reached."])
        targets, problems = targets_for(contact, self.config.notify_smtp)
        if not targets and not problems:
            problems = [f"{contact.name} has no IM id or Email on the Team tab."]
        return Addressed(message, targets, problems)

    # -- queuing (called by the Syncer after a write / a cycle) ----------------------------------

    def on_write(self, snapshot: Snapshot, batch: WriteBatch) -> int:
        """Queue "new lead for you" for every owner the written batch set; return deliveries queued."""
        leads = assigned_leads(snapshot, batch)
        if not leads:
            return 0
        now = self.clock()
        language = detect_language(snapshot, self.config.template)
        contacts = team_contacts(snapshot)
        deliveries: list[Delivery] = []
        for message in assignment_messages(leads, language, self._today(now), defaults.GROUP_ABOVE):
            addressed = self.address(message, contacts)
            for problem in addressed.problems:
                if addressed.targets:
                    log.debug("%r skips a channel: %s", message.title, problem)
                else:
                    log.info("%r goes to nobody: %s", message.title, problem)
            deliveries += addressed.deliveries()
        return self._queued(self.outbox.add(deliveries, now)) if deliveries else 0

    def digests(self, plan: Plan, today: date, *, daily: bool = True, weekly: bool = True) -> list[Addressed]:
        """Today's daily digests (per owner) and the weekly manager digest, addressed."""
        wb = plan.workbook
        if wb is None:
            return []
        contacts = contacts_of(wb.team)
        messages: list[Message] = []
        if daily:
            messages += daily_digests(plan.reminders, wb.language, today)
        if weekly:
            messages.append(weekly_digest(wb.opportunities, wb.pipeline, plan.reminders, wb.language, today))
        return [self.address(m, contacts) for m in messages]

    def _due_runs(self, now: datetime, language: str) -> list[tuple[str, bool, bool]]:
        """The digests due at `now` and not queued yet: (outbox run name, daily, weekly)."""
        local = now.astimezone(self.config.tz).replace(tzinfo=None)
        today = local.date()
        runs = (("daily", schedule.daily_due(local, self.daily_at, self.is_workday(today, language)), True, False),
                ("weekly", schedule.weekly_due(local, self.weekly_at), False, True))
        return [(f"{name}:{today.isoformat()}", daily, weekly) for name, due, daily, weekly in runs
                if due and not self.outbox.has_message(f"{name}:{today.isoformat()}")]

    def wants_plan(self, now: datetime, language: str) -> bool:
        """Whether a cycle at `now` must be planned in full because a digest is due (see Syncer's memo)."""
        return bool(self._due_runs(now, language))

    def on_sync(self, plan: Plan, now: datetime | None = None) -> int:
        """Queue the digests that are due at `now` and were not queued yet; return deliveries queued."""
        now = now or self.clock()
        today = self._today(now)
        queued = 0
        language = plan.workbook.language if plan.workbook is not None else self.config.template
        for run, daily, weekly in self._due_runs(now, language):
            deliveries = [d for a in self.digests(plan, today, daily=daily, weekly=weekly)
                          for d in a.deliveries()]
            queued += self.outbox.add(deliveries, now, once=run)
            log.info("%s digest: %s messages queued", run.split(":")[0], queued)
            if daily:
                self.outbox.prune(now)
        return self._queued(queued)

    # -- sending (its own scheduler job) ---------------------------------------------------------

    def deliver(self, limit: int = defaults.SEND_BATCH) -> DeliverReport:
        """Send what is due from the outbox, recording each result; never raises."""
        report = DeliverReport()
        try:
            claimed = self.outbox.claim(self.clock(), limit)
        except Exception as exc:  # a locked state file: try again next run
            log.warning("could not read the notification outbox: %s", exc)
            return report
        for delivery, attempt in claimed:
            result = self.sender(delivery.target, delivery.title, delivery.body)
            now = self.clock()
            try:
                if result.ok:
                    self.outbox.mark_sent(delivery, now)
                    report.sent += 1
                else:
                    self.outbox.mark_failed(delivery, now, result.error, retry_at(attempt, now))
                    report.failed += 1
                    report.errors.append(result.error)
            except Exception as exc:
                log.warning("could not record a notification result: %s", exc)
        return report

    def recover(self) -> int:
        """At the start of the one process that sends: deliveries cut off mid-send become "unsure"."""
        count = self.outbox.recover(self.clock())
        self.outbox.prune(self.clock())
        if count:
            log.warning("%s notifications were being sent when the last process stopped; they are not sent again "
                        "(see sheetsync status)", count)
        return count

    def send_now(self, addressed: Sequence[Addressed]) -> list[tuple[str, SendResult]]:
        """Send messages straight away, bypassing the outbox (doctor --send-test)."""
        results = []
        for item in addressed:
            for target in item.targets:
                results.append((target, self.sender(target, item.message.title, item.message.body)))
        return results
