"""Run the core against a store: read once, plan, write once; re-plan when someone saved in between."""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from .config import Config
from .core.attention import SetAside
from .core.handover import Move
from .core.ids import new_id
from .core.importing import ImportPlan, ImportRow, plan_import
from .core.intake import IntakePlan, Submission, plan_intake
from .core.plan import Plan, Report, plan_sync
from .core.policy import Policy
from .core.workbook import INTAKE_TABS, SYNC_TABS, detect_language
from .followup_link import open_deals_by_owner
from .lock import WAIT_SECONDS, WriterBusy, busy_message
from .ports import PipelineLock, Snapshot, StateStore, Store, StoreConflict, StoreError, WriteBatch

if TYPE_CHECKING:
    from .notify.notifier import Notifier

log = logging.getLogger(__name__)

MAX_REPLANS = 5
"""How many times a cycle re-reads after a conflicting save before giving up until the next run."""

P = TypeVar("P")


MEMO = "plan_memo"
"""State key of the last sync cycle that wrote nothing: what it read, its inputs and what it reported."""


@cache
def code_digest() -> str:
    """A digest of sheetsync's own source, so an upgrade never reuses a plan the old code made."""
    h = hashlib.blake2b(digest_size=16)
    root = Path(__file__).resolve().parent
    for path in sorted(root.rglob("*.py")):
        h.update(path.relative_to(root).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()


class Stopping(Exception):
    """The process is stopping: the planned write was skipped, so nothing was half-written."""


Progress = Callable[[str, dict[str, object]], None]
"""Told each step of a cycle: ("read", {}), ("plan", {"rows": n}), ("write", {"cells": n})."""


@dataclass
class IntakeResult:
    """What one flush did with each submission."""

    landed: list[str]
    already: list[str]
    rejected: dict[str, str]


class Syncer:
    """Runs sync cycles and intake flushes for one store, one at a time."""

    def __init__(self, store: Store, config: Config, state: StateStore,
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc), *,
                 writer: PipelineLock | None = None, lock_wait: float = WAIT_SECONDS,
                 attention: Callable[[], Sequence[SetAside]] | None = None) -> None:
        self.store = store
        self.config = config
        self.state = state
        self.clock = clock
        self.writer = writer
        """The cross-process lock held around each cycle, so two processes never interleave on one pipeline."""
        self.lock_wait = lock_wait
        self.attention = attention
        """Lists intake items needing attention, for the manager's Reminders rows."""
        self._lock = threading.Lock()
        self._rng = secrets.SystemRandom()
        self.notifier: Notifier | None = None
        """Sends what the listeners below queue; the scheduler runs its send job when set."""
        self.after_write: list[Callable[[Snapshot, WriteBatch], object]] = []
        """Called after every successful write (sync or flush), e.g. to queue "new lead" notices."""
        self.after_sync: list[Callable[[Plan, datetime], object]] = []
        """Called after every successful sync cycle with its plan, e.g. to queue digests."""
        self.stopping = threading.Event()
        """Set when the process stops: a cycle that has not started writing skips its write."""
        self.progress: Progress | None = None
        self.plan_wanted: list[Callable[[datetime, str], bool]] = []
        """Asked (with the time and the workbook's language) before a cycle over unchanged contents is skipped;
        any True plans it in full, e.g. because a digest that needs the plan is due."""

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        """Hold this process's lock and the pipeline's cross-process lock (WriterBusy when another holds it)."""
        with self._lock:
            if self.writer is None:
                yield
                return
            if not self.writer.acquire(self.lock_wait):
                raise WriterBusy(busy_message(self.writer.holder(), self.store.describe(), self.config.template))
            try:
                yield
            finally:
                self.writer.release()

    def _tell(self, hooks: Sequence[Callable[..., object]], *args: object) -> None:
        """Run listeners; a failing one is logged and never fails the cycle that already landed."""
        for hook in hooks:
            try:
                hook(*args)
            except Exception:
                log.exception("a listener after the write failed; the write itself succeeded")

    def _local(self, now: datetime) -> datetime:
        return now.astimezone(self.config.tz).replace(tzinfo=None, microsecond=0)

    def policy(self, **overrides: str) -> Policy:
        """The discipline settings of the config, with any one-off overrides (e.g. a handover)."""
        c = self.config
        return Policy(phone_region=c.phone_region, duplicates=c.duplicates,
                      duplicate_protection_days=c.duplicate_protection_days, reclaim_to=c.reclaim_to, **overrides)

    def _new_id(self, taken: Collection[str]) -> str:
        return new_id(self._rng, taken)

    def _cycle(self, tabs: Sequence[str], plan: Callable[[Snapshot], P], batch_of: Callable[[P], WriteBatch],
               planned_before: Callable[[Snapshot], P | None] = lambda _: None) -> tuple[P, bool]:
        """Read, plan and write, re-reading after a conflicting save; return the plan that landed and whether
        anything was written.

        `planned_before` returns a plan known to write nothing for exactly this snapshot (else None); then the
        cycle neither plans nor writes.
        """
        for attempt in range(1, MAX_REPLANS + 1):
            self._step("read")
            snapshot = self.store.read(tabs)
            known = planned_before(snapshot)
            if known is not None:
                return known, False
            opportunities = snapshot.tabs.get("opportunities")
            self._step("plan", rows=max(0, len(opportunities.rows) - 1) if opportunities else 0)
            planned = plan(snapshot)
            batch = batch_of(planned)
            if self.stopping.is_set():
                raise Stopping("sheetsync is stopping; the planned write was skipped and runs at the next start.")
            try:
                wrote = False
                if batch:
                    self._step("write", cells=len(getattr(batch, "cells", ())) + sum(
                        len(r) for rows in getattr(batch, "appends", {}).values() for r in rows))
                    wrote = self.store.write(snapshot, batch)
                    self._tell(self.after_write, snapshot, batch)
                return planned, wrote
            except StoreConflict as exc:
                log.info("sheet changed during cycle (attempt %s): %s; re-reading", attempt, exc)
        raise StoreError(f"{self.store.describe()} kept changing while sheetsync tried to write "
                         f"({MAX_REPLANS} attempts); nothing was overwritten. It will try again next cycle.")

    def _step(self, name: str, **numbers: object) -> None:
        if self.progress is not None:
            self.progress(name, numbers)

    def run_cycle(self, now: datetime | None = None) -> Report:
        """Run one sync cycle and keep the state it produced (and how long it took, or why it failed)."""
        return self._sync(now or self.clock(), self.policy()).report

    def handover(self, from_: str, to: str = "", *, dry_run: bool = False,
                 now: datetime | None = None) -> list[Move]:
        """Hand `from_`'s open deals to `to` (else by the Rules without them) in one sync cycle.

        A dry run reads and plans the same cycle but writes nothing and keeps no state.
        """
        return self._sync(now or self.clock(), self.policy(handover_from=from_, handover_to=to), dry_run).moves

    def _sync(self, now: datetime, policy: Policy, dry_run: bool = False) -> Plan:
        with self._exclusive():
            attention = list(self.attention()) if self.attention is not None else []

            def plan(snapshot: Snapshot) -> Plan:
                return self._plan_sync(snapshot, now, attention, policy)

            if dry_run:
                return plan(self.store.read(SYNC_TABS))
            started, sent = time.monotonic(), self._sent()
            inputs = self._inputs(now, policy, attention)
            try:
                done, wrote = self._cycle(SYNC_TABS, plan, lambda p: p.batch,
                                          lambda snap: self._recall(snap, inputs, now))
            except Stopping:
                raise
            except Exception as exc:
                self.state.save(last_sync_error=str(exc) or type(exc).__name__, last_sync_error_at=now.isoformat())
                raise
            after = self._sent()
            took: dict[str, Any] = {
                "last_sync": now.isoformat(), "last_sync_seconds": round(time.monotonic() - started, 3),
                "last_sync_requests": None if sent is None or after is None else after - sent}
            if done.recalled:
                self.state.save(**took)
                log.debug("sync: nothing changed since the last cycle; nothing planned")
                return done
            words = done.workbook.language if done.workbook is not None else self.config.template
            self.state.save(cursors=done.cursors, seen=done.seen, last_sync_report=done.report.line(words),
                            open_deals=open_deals_by_owner(done.workbook.opportunities, done.workbook.pipeline)
                            if done.workbook is not None else {},
                            **{MEMO: None if wrote else self._memo(done, inputs)}, **took)
            log.debug("sync: %s", done.report.line())
            self._tell(self.after_sync, done, now)
            return done

    def _inputs(self, now: datetime, policy: Policy, attention: Sequence[SetAside]) -> str:
        """Everything a sync plan depends on besides the sheet and the kept state, as one digest.

        The planner is a pure function of these, the snapshot, the local date and the state (cursors, seen) the
        last cycle saved; the time of day changes nothing it writes.
        """
        c = self.config
        parts = [code_digest(), self._local(now).date().isoformat(), repr(policy), c.template, str(c.tz),
                 repr(tuple(c.history_exclude)), repr(c.owner_reassign_share), c.workdays, c.trend_period,
                 repr([asdict(a) for a in attention])]
        return hashlib.blake2b("\x1f".join(parts).encode(), digest_size=16).hexdigest()

    @staticmethod
    def _memo(done: Plan, inputs: str) -> dict[str, object] | None:
        """What to remember after a cycle that wrote nothing: what it read, its inputs and its report."""
        if done.fingerprint is None:
            return None
        return {"fingerprint": done.fingerprint, "inputs": inputs, "report": asdict(done.report),
                "language": done.workbook.language if done.workbook is not None else ""}

    def _recall(self, snapshot: Snapshot, inputs: str, now: datetime) -> Plan | None:
        """An empty plan when the last cycle read exactly this snapshot with the same inputs and wrote nothing.

        Cursors and last-seen values are covered too: every save of them (sync, flush, import) replaces or
        clears the memo in the same transaction.
        """
        memo = self.state.get(MEMO)
        if not isinstance(memo, dict) or snapshot.fingerprint is None:
            return None
        if memo.get("fingerprint") != snapshot.fingerprint or memo.get("inputs") != inputs:
            return None
        if any(wants(now, str(memo.get("language", ""))) for wants in self.plan_wanted):
            return None
        try:
            report = Report(**{**memo.get("report", {}), "unchanged": True})
        except TypeError:  # saved by another version
            return None
        return Plan(WriteBatch(), {}, {}, report, recalled=True)

    def _plan_sync(self, snapshot: Snapshot, now: datetime, attention: Sequence[SetAside],
                   policy: Policy | None = None) -> Plan:
        language = detect_language(snapshot, self.config.template)
        return plan_sync(snapshot, language=language, now=self._local(now), cursors=self.state.cursors(),
                         seen=self.state.seen(), new_id=self._new_id, history_exclude=self.config.history_exclude,
                         attention=attention, policy=policy or self.policy(),
                         reassign_share=self.config.owner_reassign_share, workdays=self.config.workdays,
                         trend_period=self.config.trend_period)

    def preview(self, now: datetime | None = None) -> Plan:
        """Plan a sync cycle without writing anything or keeping its state (for previews)."""
        now = now or self.clock()
        with self._lock:
            attention = list(self.attention()) if self.attention is not None else []
            return self._plan_sync(self.store.read(SYNC_TABS), now, attention)

    def _sent(self) -> int | None:
        sent = getattr(getattr(self.store, "http", None), "sent", None)
        return sent if isinstance(sent, int) else None

    def flush(self, submissions: Sequence[Submission], now: datetime | None = None) -> IntakeResult:
        """Land queued submissions in one write; report which landed, were already there, or must wait."""
        now = now or self.clock()
        with self._exclusive():
            def plan(snapshot: Snapshot) -> IntakePlan:
                language = detect_language(snapshot, self.config.template)
                return plan_intake(snapshot, submissions, language=language, tz=self.config.tz, now=now,
                                   cursors=self.state.cursors(), policy=self.policy())

            done, _ = self._cycle(INTAKE_TABS, plan, lambda p: p.batch)
            self.state.save(cursors=done.cursors, **{MEMO: None})
            return IntakeResult(done.landed, done.already, done.rejected)

    def import_rows(self, rows: Sequence[ImportRow], source: str, now: datetime | None = None,
                    dry_run: bool = False) -> ImportPlan:
        """Import file rows in one write (or only plan it with `dry_run`): new rows, merges and rejects."""
        now = now or self.clock()
        with self._exclusive():
            def plan(snapshot: Snapshot) -> ImportPlan:
                language = detect_language(snapshot, self.config.template)
                return plan_import(snapshot, rows, language=language, now=self._local(now),
                                   cursors=self.state.cursors(), new_id=self._new_id, source=source,
                                   policy=self.policy())

            if dry_run:
                return plan(self.store.read(INTAKE_TABS))
            done, _ = self._cycle(INTAKE_TABS, plan, lambda p: p.batch)
            self.state.save(cursors=done.cursors, **{MEMO: None})
            return done
