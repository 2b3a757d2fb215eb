"""The notification outbox and sent log of one workspace in PostgreSQL (the same contract as SqliteOutbox)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from ..notify import defaults
from ..notify.outbox import FAILED, PENDING, SENDING, SENT, UNSURE, Delivery, Outbox, _iso, _ts, outbox_stats
from .postgres import Database


class PostgresOutbox(Outbox):
    """Deliveries and the sent log in sheetsync_outbox, keyed by workspace; safe for many processes.

    Only the worker holding a workspace's lock sends its notifications, so `recover` (run when a worker
    takes a workspace) finds "sending" rows only from a holder that died.
    """

    def __init__(self, db: Database, workspace: str = "") -> None:
        self._db = db
        self.workspace = workspace

    def add(self, deliveries: Sequence[Delivery], now: datetime, once: str | None = None) -> int:
        added = 0
        ws = self.workspace
        with self._db.transaction() as db:
            if once is not None and not db.execute(
                    "INSERT INTO sheetsync_outbox_runs (workspace, name, at) VALUES (%s, %s, %s) "
                    "ON CONFLICT DO NOTHING", (ws, once, _ts(now))).rowcount:
                return 0
            keys = sorted({d.message_key for d in deliveries})
            logged = {r["message_key"] for r in db.execute(
                "SELECT DISTINCT message_key FROM sheetsync_outbox WHERE workspace = %s AND message_key = ANY(%s)",
                (ws, keys))}
            for d in deliveries:
                if d.message_key in logged:
                    continue
                added += db.execute(
                    "INSERT INTO sheetsync_outbox (workspace, key, message_key, kind, recipient, target, title, body, "
                    "status, created, next_attempt) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
                    "ON CONFLICT DO NOTHING",
                    (ws, d.key, d.message_key, d.kind, d.recipient, d.target, d.title, d.body, PENDING, _ts(now),
                     _ts(now))).rowcount
        return added

    def has_message(self, message_key: str) -> bool:
        with self._db.transaction() as db:
            row = db.execute("SELECT 1 FROM sheetsync_outbox WHERE workspace = %s AND message_key = %s UNION ALL "
                             "SELECT 1 FROM sheetsync_outbox_runs WHERE workspace = %s AND name = %s LIMIT 1",
                             (self.workspace, message_key, self.workspace, message_key)).fetchone()
        return row is not None

    def claim(self, now: datetime, limit: int) -> list[tuple[Delivery, int]]:
        with self._db.transaction() as db:
            rows = db.execute("SELECT * FROM sheetsync_outbox WHERE workspace = %s AND status = %s "
                              "AND next_attempt <= %s ORDER BY next_attempt, created LIMIT %s "
                              "FOR UPDATE SKIP LOCKED", (self.workspace, PENDING, _ts(now), limit)).fetchall()
            if rows:
                db.execute("UPDATE sheetsync_outbox SET status = %s, attempts = attempts + 1 WHERE workspace = %s "
                           "AND key = ANY(%s)", (SENDING, self.workspace, [r["key"] for r in rows]))
        return [(Delivery(r["message_key"], r["kind"], r["recipient"], r["target"], r["title"], r["body"]),
                 r["attempts"] + 1) for r in rows]

    def mark_sent(self, delivery: Delivery, now: datetime) -> None:
        with self._db.transaction() as db:
            db.execute("UPDATE sheetsync_outbox SET status = %s, sent_at = %s WHERE workspace = %s AND key = %s",
                       (SENT, _ts(now), self.workspace, delivery.key))

    def mark_failed(self, delivery: Delivery, now: datetime, error: str, next_try: datetime | None) -> None:
        status, when = (PENDING, _ts(next_try)) if next_try is not None else (FAILED, _ts(now))
        with self._db.transaction() as db:
            db.execute("UPDATE sheetsync_outbox SET status = %s, next_attempt = %s, last_error = %s, "
                       "last_error_at = %s WHERE workspace = %s AND key = %s",
                       (status, when, error, _ts(now), self.workspace, delivery.key))

    def recover(self, now: datetime) -> int:
        with self._db.transaction() as db:
            return db.execute("UPDATE sheetsync_outbox SET status = %s, last_error = %s, last_error_at = %s "
                              "WHERE workspace = %s AND status = %s",
                              (UNSURE, "The process stopped while sending; not sent again so nobody gets it twice.",
                               _ts(now), self.workspace, SENDING)).rowcount

    def stats(self, now: datetime) -> dict[str, Any]:
        ws = self.workspace
        with self._db.transaction() as db:
            counts = {r["status"]: r["n"] for r in db.execute(
                "SELECT status, COUNT(*) AS n FROM sheetsync_outbox WHERE workspace = %s GROUP BY status", (ws,))}
            retrying = db.execute("SELECT COUNT(*) AS n FROM sheetsync_outbox WHERE workspace = %s AND status = %s "
                                  "AND attempts > 0", (ws, PENDING)).fetchone()["n"]
            last_sent = db.execute("SELECT MAX(sent_at) AS at FROM sheetsync_outbox WHERE workspace = %s",
                                   (ws,)).fetchone()["at"]
            error = db.execute("SELECT recipient, kind, last_error, last_error_at FROM sheetsync_outbox "
                               "WHERE workspace = %s AND last_error IS NOT NULL ORDER BY last_error_at DESC LIMIT 1",
                               (ws,)).fetchone()
        return outbox_stats(counts, retrying, last_sent, error)

    def problems(self, limit: int = 10) -> list[dict[str, Any]]:
        with self._db.transaction() as db:
            rows = db.execute(
                "SELECT message_key, kind, recipient, status, attempts, last_error, last_error_at, next_attempt "
                "FROM sheetsync_outbox WHERE workspace = %s AND last_error IS NOT NULL AND status != %s "
                "ORDER BY last_error_at DESC LIMIT %s", (self.workspace, SENT, limit)).fetchall()
        return [{"message": r["message_key"], "kind": r["kind"], "recipient": r["recipient"], "status": r["status"],
                 "attempts": r["attempts"], "error": r["last_error"], "at": _iso(r["last_error_at"]),
                 "next_try": _iso(r["next_attempt"]) if r["status"] == PENDING else None} for r in rows]

    def prune(self, now: datetime, keep_days: float = defaults.KEEP_SENT_DAYS) -> int:
        cutoff = _ts(now - timedelta(days=keep_days))
        with self._db.transaction() as db:
            return db.execute("DELETE FROM sheetsync_outbox WHERE workspace = %s AND status = %s AND sent_at < %s",
                              (self.workspace, SENT, cutoff)).rowcount

    def close(self) -> None:
        """The database connections belong to the backend; nothing to release here."""
