"""Which process runs the flush and sync jobs, and how it is doing, shared through the state database.

The process running the scheduler (`serve` or `worker`) writes a heartbeat into state.db every few
seconds; any other process (a gunicorn worker answering /api/status or the status page) reads it. The
reading side is a pure function of the stored record and `now`.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from .messages import say
from .state import State

log = logging.getLogger(__name__)

RECORD = "worker"
"""Name of the heartbeat record in the state database."""
HEARTBEAT_SECONDS = 5
"""How often the scheduler process writes its heartbeat."""
STALE_AFTER = 30
"""Seconds without a heartbeat after which the worker is reported as stopped or hanging."""


class Heartbeat:
    """Write this process's heartbeat and current job into the state database (its own connection)."""

    def __init__(self, state: State, process: str, flush_interval: int, sync_interval: int) -> None:
        self.state = state
        self.record: dict[str, Any] = {"process": process, "pid": os.getpid(), "host": socket.gethostname(),
                                       "flush_interval": flush_interval, "sync_interval": sync_interval,
                                       "busy": None}
        self._lock = threading.Lock()

    def beat(self, now: datetime, **changes: Any) -> None:
        """Store the heartbeat at `now` with `changes` applied; log and carry on if the database is busy."""
        with self._lock:
            self.record.update(changes)
            self.record.setdefault("started_at", now.isoformat())
            self.record["heartbeat_at"] = now.isoformat()
            try:
                self.state.save(**{RECORD: self.record})
            except Exception as exc:  # a heartbeat must never stop the jobs
                log.warning("could not record the worker heartbeat in %s: %s", self.state.path, exc)

    def stopped(self, now: datetime) -> None:
        """Record a clean stop, so status pages say so instead of waiting for the heartbeat to go stale."""
        self.beat(now, stopped_at=now.isoformat(), busy=None)


def _parse(value: object) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def worker_status(record: Mapping[str, Any] | None, now: datetime, language: str = "en",
                  stale_after: float = STALE_AFTER) -> dict[str, Any]:
    """Describe the scheduler process from its stored heartbeat record: running, stale, stopped or never run."""
    if not record:
        return {"running": False, "state": "never", "note": say("page.worker_never", language)}
    beat = _parse(record.get("heartbeat_at"))
    age = None if beat is None else max(0.0, (now - beat).total_seconds())
    who = {k: record.get(k) for k in ("process", "pid", "host")}
    base = {**who, "started_at": record.get("started_at"), "last_heartbeat_at": record.get("heartbeat_at"),
            "heartbeat_age_seconds": None if age is None else round(age, 1), "busy": record.get("busy")}
    if record.get("stopped_at"):
        return {"running": False, "state": "stopped", **base,
                "note": say("page.worker_stopped", language, when=record["stopped_at"], **who)}
    if age is None or age > stale_after:
        return {"running": False, "state": "stale", **base,
                "note": say("page.worker_stale", language, age=int(age or 0), **who)}
    return {"running": True, "state": "running", **base, "note": say("page.worker_ok", language, **who)}


def read_worker_status(state: State, now: datetime, language: str = "en") -> dict[str, Any]:
    """The worker's status as stored in `state`, plus the last sync it recorded."""
    status = worker_status(state.get(RECORD), now, language)
    status["last_sync"] = {
        "at": state.get("last_sync"),
        "result": state.get("last_sync_report"),
        "seconds": state.get("last_sync_seconds"),
        "requests": state.get("last_sync_requests"),
        "error": state.get("last_sync_error"),
        "error_at": state.get("last_sync_error_at"),
    }
    return status
