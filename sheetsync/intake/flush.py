"""Move queued submissions to the sheet in batches; a failing store leaves them queued for a later try."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sheetsync.core.intake import Submission
from sheetsync.ports import Queue, StoreError

from . import defaults

log = logging.getLogger(__name__)


class IntakeSyncer(Protocol):
    """What the flush needs from sheetsync.sync.Syncer."""

    def flush(self, submissions: Sequence[Submission], now: datetime) -> Any: ...


@dataclass
class FlushResult:
    """What one flush did: how many were claimed, landed, already there, refused or left for a retry."""

    claimed: int = 0
    landed: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    rejected: dict[str, str] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)
    attention: list[str] = field(default_factory=list)
    """Items set aside as needing attention by this flush (refused too often or for too long)."""
    error: str | None = None

    def line(self) -> str:
        """Return a one-line summary for logs and /api/status."""
        if not self.claimed:
            return "nothing queued"
        text = (f"{self.claimed} claimed, {len(self.landed)} landed, {len(self.already)} already in the sheet, "
                f"{len(self.rejected)} waiting, {len(self.failed)} to retry")
        if self.attention:
            text += f", {len(self.attention)} need attention"
        return f"{text} ({self.error})" if self.error else text


def _describe(exc: BaseException) -> str:
    if isinstance(exc, StoreError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def flush_once(queue: Queue, syncer: IntakeSyncer, now: datetime, batch_size: int = defaults.BATCH_SIZE,
               lease_seconds: float = defaults.LEASE_SECONDS) -> FlushResult:
    """Claim a batch, land it in one store write, and settle every item; never raise for a store failure."""
    claimed = queue.claim(batch_size, lease_seconds, now)
    result = FlushResult(claimed=len(claimed))
    if not claimed:
        queue.prune(now)
        queue.record_flush(now, result.line())
        return result
    keys = [c.key for c in claimed]
    try:
        outcome = syncer.flush(claimed, now)
    except Exception as exc:  # any store failure leaves the batch queued
        result.error = _describe(exc)
        result.failed = keys
        log.warning("flush of %s submission(s) failed; they stay queued: %s", len(keys), result.error,
                    exc_info=not isinstance(exc, StoreError))
        result.attention = queue.fail(keys, result.error, now, transient=isinstance(exc, StoreError))
        queue.record_flush(now, result.line(), result.error)
        return result
    wanted = set(keys)
    result.landed = [k for k in outcome.landed if k in wanted]
    result.already = [k for k in outcome.already if k in wanted]
    result.rejected = {k: r for k, r in dict(outcome.rejected).items() if k in wanted}
    settled = set(result.landed) | set(result.already) | set(result.rejected)
    result.failed = [k for k in keys if k not in settled]
    queue.complete(result.landed, now, "landed")
    queue.complete(result.already, now, "already")
    by_reason: dict[str, list[str]] = defaultdict(list)
    for key, reason in result.rejected.items():
        by_reason[reason].append(key)
    for reason, rejected in by_reason.items():
        result.attention += queue.fail(rejected, reason, now)
    if result.failed:
        result.attention += queue.fail(result.failed, "The store did not report on this submission.", now)
    error = next(iter(by_reason), None)
    queue.record_flush(now, result.line(), error)
    log.debug("flush: %s", result.line())
    return result
