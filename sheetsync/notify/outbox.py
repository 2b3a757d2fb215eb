"""The outbox and sent log: every notification is written here before it is sent, and marked after.

`Outbox` is the port; `SqliteOutbox` keeps it in the state directory's state.db (a PostgreSQL adapter can
implement the same contract). The guarantee is *at most once*: a delivery is claimed (committed as
"sending") before the network call, so a process killed mid-send leaves it "unsure" instead of sending it
again after a restart, and a message key already in the log is never queued twice.
"""

from __future__ import annotations

import sqlite3
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from . import defaults

PENDING, SENDING, SENT, FAILED, UNSURE = "pending", "sending", "sent", "failed", "unsure"
"""Delivery states: waiting (maybe after a failure), being sent, sent, given up, interrupted mid-send."""


@dataclass(frozen=True)
class Delivery:
    """One message to one channel of one recipient."""

    message_key: str
    """Identifies the message (e.g. "daily:Alice Chen:2026-11-30"); the same key is never queued twice."""
    kind: str
    recipient: str
    target: str
    """The apprise URL it goes to; may hold a token, so it is never shown whole."""
    title: str
    body: str

    @property
    def key(self) -> str:
        return f"{self.message_key}|{self.target}"


def retry_at(attempts: int, now: datetime) -> datetime | None:
    """When to try again after `attempts` failed tries, or None when it is time to give up."""
    if attempts > len(defaults.RETRY_DELAYS):
        return None
    return now + timedelta(seconds=defaults.RETRY_DELAYS[attempts - 1])


class Outbox(ABC):
    """Where deliveries wait, and the log of what was sent. Safe to share between threads."""

    @abstractmethod
    def add(self, deliveries: Sequence[Delivery], now: datetime, once: str | None = None) -> int:
        """Queue deliveries whose message key is not in the log yet; return how many were new.

        With `once` (e.g. "daily:2026-11-30"), nothing is queued if a batch with that name was queued
        before, and the name is recorded in the same transaction as the deliveries.
        """

    @abstractmethod
    def has_message(self, message_key: str) -> bool:
        """Tell whether a message with this key, or a batch named so by `once`, was ever queued."""

    @abstractmethod
    def claim(self, now: datetime, limit: int) -> list[tuple[Delivery, int]]:
        """Mark up to `limit` due deliveries as sending (committed) and return them with their attempt number."""

    @abstractmethod
    def mark_sent(self, delivery: Delivery, now: datetime) -> None:
        """Record a successful send."""

    @abstractmethod
    def mark_failed(self, delivery: Delivery, now: datetime, error: str, next_try: datetime | None) -> None:
        """Record a failed try; queue it again at `next_try`, or give it up when that is None."""

    @abstractmethod
    def recover(self, now: datetime) -> int:
        """Mark deliveries left "sending" by a dead process as unsure (never resent); return how many."""

    @abstractmethod
    def stats(self, now: datetime) -> dict[str, Any]:
        """Counts per state, the last send and the last error, for status output (no targets, no tokens)."""

    @abstractmethod
    def problems(self, limit: int = 10) -> list[dict[str, Any]]:
        """The newest deliveries that failed, were given up or are unsure, without their targets."""

    @abstractmethod
    def prune(self, now: datetime, keep_days: float = defaults.KEEP_SENT_DAYS) -> int:
        """Forget sent deliveries older than `keep_days`; return how many."""

    @abstractmethod
    def close(self) -> None:
        """Release connections."""


_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    key TEXT PRIMARY KEY,
    message_key TEXT NOT NULL,
    kind TEXT NOT NULL,
    recipient TEXT NOT NULL,
    target TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    created REAL NOT NULL,
    next_attempt REAL NOT NULL,
    sent_at REAL,
    last_error TEXT,
    last_error_at REAL
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (status, next_attempt);
CREATE INDEX IF NOT EXISTS outbox_message ON outbox (message_key);
CREATE TABLE IF NOT EXISTS outbox_runs (name TEXT PRIMARY KEY, at REAL NOT NULL)
"""


def _ts(moment: datetime) -> float:
    return moment.timestamp()


def _iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="seconds")


class SqliteOutbox(Outbox):
    """The outbox as a table of state.db (WAL, synchronous=FULL); one connection guarded by a lock."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA synchronous = FULL")
        self._lock = threading.Lock()
        with self._transaction() as db:
            for statement in _SCHEMA.split(";"):
                db.execute(statement)

    @classmethod
    def for_state_dir(cls, directory: Path) -> SqliteOutbox:
        return cls(directory / "state.db")

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def add(self, deliveries: Sequence[Delivery], now: datetime, once: str | None = None) -> int:
        added = 0
        with self._transaction() as db:
            if once is not None and not db.execute("INSERT OR IGNORE INTO outbox_runs (name, at) VALUES (?, ?)",
                                                   (once, _ts(now))).rowcount:
                return 0
            logged = {key for key in {d.message_key for d in deliveries} if db.execute(
                "SELECT 1 FROM outbox WHERE message_key = ? LIMIT 1", (key,)).fetchone()}
            for d in deliveries:
                if d.message_key in logged:
                    continue
                added += db.execute(
                    "INSERT OR IGNORE INTO outbox (key, message_key, kind, recipient, target, title, body, status,"
                    " created, next_attempt) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (d.key, d.message_key, d.kind, d.recipient, d.target, d.title, d.body, PENDING, _ts(now),
                     _ts(now))).rowcount
        return added

    def has_message(self, message_key: str) -> bool:
        with self._lock:
            row = self._db.execute("SELECT 1 FROM outbox WHERE message_key = ? UNION ALL SELECT 1 FROM outbox_runs "
                                   "WHERE name = ? LIMIT 1", (message_key, message_key)).fetchone()
        return row is not None

    def claim(self, now: datetime, limit: int) -> list[tuple[Delivery, int]]:
        with self._transaction() as db:
            rows = db.execute("SELECT * FROM outbox WHERE status = ? AND next_attempt <= ? ORDER BY next_attempt, "
                              "created LIMIT ?", (PENDING, _ts(now), limit)).fetchall()
            db.executemany("UPDATE outbox SET status = ?, attempts = attempts + 1 WHERE key = ?",
                           [(SENDING, r["key"]) for r in rows])
        return [(Delivery(r["message_key"], r["kind"], r["recipient"], r["target"], r["title"], r["body"]),
                 r["attempts"] + 1) for r in rows]

    def mark_sent(self, delivery: Delivery, now: datetime) -> None:
        with self._transaction() as db:
            db.execute("UPDATE outbox SET status = ?, sent_at = ? WHERE key = ?", (SENT, _ts(now), delivery.key))

    def mark_failed(self, delivery: Delivery, now: datetime, error: str, next_try: datetime | None) -> None:
        status, when = (PENDING, _ts(next_try)) if next_try is not None else (FAILED, _ts(now))
        with self._transaction() as db:
            db.execute("UPDATE outbox SET status = ?, next_attempt = ?, last_error = ?, last_error_at = ? "
                       "WHERE key = ?", (status, when, error, _ts(now), delivery.key))

    def recover(self, now: datetime) -> int:
        with self._transaction() as db:
            return db.execute("UPDATE outbox SET status = ?, last_error = ?, last_error_at = ? WHERE status = ?",
                              (UNSURE, "The process stopped while sending; not sent again so nobody gets it twice.",
                               _ts(now), SENDING)).rowcount

    def stats(self, now: datetime) -> dict[str, Any]:
        with self._lock:
            counts = dict(self._db.execute("SELECT status, COUNT(*) FROM outbox GROUP BY status").fetchall())
            retrying = self._db.execute("SELECT COUNT(*) FROM outbox WHERE status = ? AND attempts > 0",
                                        (PENDING,)).fetchone()[0]
            last_sent = self._db.execute("SELECT MAX(sent_at) FROM outbox").fetchone()[0]
            error = self._db.execute("SELECT recipient, kind, last_error, last_error_at FROM outbox WHERE "
                                     "last_error IS NOT NULL ORDER BY last_error_at DESC LIMIT 1").fetchone()
        return outbox_stats(counts, retrying, last_sent, error)

    def problems(self, limit: int = 10) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT message_key, kind, recipient, status, attempts, last_error, last_error_at, next_attempt "
                "FROM outbox WHERE last_error IS NOT NULL AND status != ? ORDER BY last_error_at DESC LIMIT ?",
                (SENT, limit)).fetchall()
        return [{"message": r["message_key"], "kind": r["kind"], "recipient": r["recipient"], "status": r["status"],
                 "attempts": r["attempts"], "error": r["last_error"], "at": _iso(r["last_error_at"]),
                 "next_try": _iso(r["next_attempt"]) if r["status"] == PENDING else None} for r in rows]

    def prune(self, now: datetime, keep_days: float = defaults.KEEP_SENT_DAYS) -> int:
        cutoff = _ts(now - timedelta(days=keep_days))
        with self._transaction() as db:
            return db.execute("DELETE FROM outbox WHERE status = ? AND sent_at < ?", (SENT, cutoff)).rowcount

    def close(self) -> None:
        with self._lock:
            self._db.close()


def outbox_stats(counts: Mapping[str, int], retrying: int, last_sent: float | None,
                 error: Mapping[str, Any] | None) -> dict[str, Any]:
    """Shape an outbox's counts per status and its newest error into the /api/status answer."""
    return {
        "pending": counts.get(PENDING, 0) + counts.get(SENDING, 0),
        "retrying": retrying,
        "sent": counts.get(SENT, 0),
        "failed": counts.get(FAILED, 0),
        "unsure": counts.get(UNSURE, 0),
        "last_sent_at": _iso(last_sent),
        "last_error": None if error is None else f"{error['kind']} to {error['recipient']}: {error['last_error']}",
        "last_error_at": None if error is None else _iso(error["last_error_at"]),
    }
