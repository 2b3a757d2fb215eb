"""The durable intake queue: a submission is on disk before the sender hears 2xx, and leaves only once landed."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import socket
import sqlite3
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any

from sheetsync.core.attention import SetAside
from sheetsync.core.ids import new_id
from sheetsync.ports import (
    CREATE,
    FOLLOWUP,
    KINDS,
    UPDATE,
    Claimed,
    IdempotencyConflict,
    Incoming,
    Queue,
    Receipt,
)

from . import defaults
from .db import Database

log = logging.getLogger(__name__)

__all__ = ["CREATE", "FOLLOWUP", "KINDS", "UPDATE", "Claimed", "IdempotencyConflict", "Incoming", "IntakeQueue",
           "Receipt"]

FILE_NAME = "intake.db"
KEY_PREFIX = "IN-"
"""Queue keys look like IN-7K3F9Q2M4D; a follow-up carries its key in the Ref column."""
KEY_LENGTH = 10


def _ready(alias: str) -> str:
    return (f"(({alias}.status = 'pending' AND {alias}.next_attempt_at <= :now) "
            f"OR ({alias}.status = 'leased' AND ({alias}.lease_until <= :now "
            f"OR {alias}.lease_owner IN (SELECT value FROM json_each(:dead)))))")


def _owner() -> str:
    """Name the lease holder by host and process, so a restarted process can take over a dead one's items."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _is_dead(owner: str) -> bool:
    """Tell whether a lease owner is a process on this host that no longer exists (POSIX only)."""
    host, _, pid = owner.rpartition(":")
    if os.name != "posix" or host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:  # exists but belongs to someone else
        return False
    return False


_CLAIMABLE = f"""
SELECT * FROM items AS i WHERE {_ready("i")}
AND NOT EXISTS (
    SELECT 1 FROM items AS p
    WHERE p.opportunity_id = i.opportunity_id AND p.seq < i.seq AND p.status IN ('pending', 'leased')
    AND NOT {_ready("p")}
)
ORDER BY i.seq LIMIT :limit
"""
"""Ready items in arrival order, holding back any whose earlier item for the same opportunity must wait.

An item set aside as needing attention holds nothing back.
"""


def _ts(moment: datetime) -> float:
    if moment.tzinfo is None:
        raise ValueError(f"{moment!r} has no timezone: pass an aware datetime such as datetime.now(timezone.utc).")
    return moment.timestamp()


def body_hash(raw: bytes) -> str:
    """Return the fingerprint that tells a retry from a different request under the same key."""
    return hashlib.sha256(raw).hexdigest()


def backoff(attempts: int) -> float:
    """Return the seconds to wait before retrying an item that has failed `attempts` times."""
    return float(min(defaults.BACKOFF_MAX, defaults.BACKOFF_BASE * 2 ** max(0, attempts - 1)))


class IntakeQueue(Queue):
    """The SQLite queue in `<state dir>/intake.db`; safe to share between threads and processes."""

    def __init__(self, path: str | Path, rng: random.Random | None = None, *,
                 max_attempts: int = defaults.MAX_ATTEMPTS, max_age_hours: float = defaults.MAX_AGE_HOURS) -> None:
        path = Path(path)
        self.path = path if path.suffix == ".db" else path / FILE_NAME
        self._store = Database(self.path)
        self._rng = rng or random.SystemRandom()
        self.max_attempts = max_attempts
        """Tries after which an item the sheet refuses is set aside as needing attention."""
        self.max_age = max_age_hours * 3600.0
        """Seconds after arrival after which an item the sheet refuses is set aside as needing attention."""

    @classmethod
    def for_config(cls, config: Any) -> IntakeQueue:
        """Open the queue in the config's state directory, with its retry limits."""
        return cls(Path(config.state_path) / FILE_NAME,
                   max_attempts=getattr(config, "intake_max_attempts", defaults.MAX_ATTEMPTS),
                   max_age_hours=getattr(config, "intake_max_age_hours", defaults.MAX_AGE_HOURS))

    def close(self) -> None:
        """Close every connection to the file."""
        self._store.close()

    # -- intake ----------------------------------------------------------------------------------

    def submit(self, item: Incoming, now: datetime) -> Receipt:
        """Commit `item` and return its answer, or return the first answer when it is a repeat."""
        if item.kind not in KINDS:
            raise ValueError(f"Unknown kind {item.kind!r}: use one of {', '.join(KINDS)}.")
        digest = body_hash(item.raw)
        ts = _ts(now)
        fields = json.dumps(dict(item.fields), ensure_ascii=False)

        def store(db: sqlite3.Connection) -> tuple[Receipt, str, str | None]:
            earlier = self._earlier(db, item, digest)
            if earlier is not None:
                return earlier, "", None
            warnings = list(item.warnings)
            kind, opp = self._target(db, item, warnings)
            key = self._issue(db)
            if kind == CREATE:
                opp = self._reserve(db)
                if item.external_id:
                    db.execute("INSERT INTO external_ids (source, external_id, opportunity_id) VALUES (?, ?, ?)",
                               (item.source, item.external_id, opp))
            if kind == FOLLOWUP:
                answer = {"id": key, "status": "queued", "warnings": warnings, "opportunity_id": opp or None}
            else:
                answer = {"id": opp, "status": "queued", "warnings": warnings}
            db.execute(
                "INSERT INTO items (key, source, kind, opportunity_id, fields, raw, content_type, body_hash, "
                "received, idempotency_key, delivery_id, external_id, answer_status, answer, next_attempt_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (key, item.source, kind, opp or None, fields, item.raw, item.content_type, digest, ts,
                 item.idempotency_key, item.delivery_id, item.external_id, 202,
                 json.dumps(answer, ensure_ascii=False), ts))
            return Receipt(key, 202, answer), kind, opp

        receipt, kind, opp = self._store.grouped(store)  # returns once committed (fsync'd)
        if receipt.replayed:
            return receipt
        log.debug("queued %s %s from %s as %s", kind, opp or "-", item.source, receipt.key)
        return receipt

    def _earlier(self, db: sqlite3.Connection, item: Incoming, digest: str) -> Receipt | None:
        """Return the stored answer when this submission was seen before."""
        if item.idempotency_key:
            row = db.execute("SELECT key, body_hash, answer_status, answer FROM items "
                             "WHERE source = ? AND idempotency_key = ?", (item.source, item.idempotency_key)).fetchone()
            if row is not None:
                if row["body_hash"] != digest:
                    raise IdempotencyConflict(
                        f"Idempotency-Key {item.idempotency_key!r} was already used for a different request "
                        f"to /hooks/{item.source}: send a new key for a new submission, or resend the "
                        "original body unchanged to get the first answer.")
                return Receipt(row["key"], row["answer_status"], json.loads(row["answer"]), replayed=True)
        if item.delivery_id:
            row = db.execute("SELECT key, answer_status, answer FROM items WHERE source = ? AND delivery_id = ?",
                             (item.source, item.delivery_id)).fetchone()
            if row is not None:
                return Receipt(row["key"], row["answer_status"], json.loads(row["answer"]), replayed=True)
        return None

    def _target(self, db: sqlite3.Connection, item: Incoming, warnings: list[str]) -> tuple[str, str | None]:
        """Decide between create and update for a sender's record, and which opportunity it concerns."""
        if item.kind == FOLLOWUP:
            return FOLLOWUP, item.opportunity_id
        if item.external_id:
            row = db.execute("SELECT opportunity_id FROM external_ids WHERE source = ? AND external_id = ?",
                             (item.source, item.external_id)).fetchone()
            if row is not None:
                return UPDATE, row["opportunity_id"]
            if item.kind == UPDATE:
                warnings.append(f"No earlier submission created record {item.external_id!r}, so this update "
                                "creates a new opportunity.")
            return CREATE, None
        if item.kind == UPDATE:
            if not item.opportunity_id:
                raise ValueError("An update needs the opportunity ID it changes.")
            return UPDATE, item.opportunity_id
        return CREATE, None

    def _issue(self, db: sqlite3.Connection) -> str:
        """Reserve and return a fresh queue key."""
        return self._reserve(db, KEY_PREFIX, KEY_LENGTH)

    def _reserve(self, db: sqlite3.Connection, *shape: Any) -> str:
        """Draw IDs (opportunity IDs, or keys with `shape` = prefix, length) until one was never issued; keep it."""
        while True:
            ident = new_id(self._rng, (), *shape)
            if db.execute("INSERT OR IGNORE INTO issued_ids (id) VALUES (?)", (ident,)).rowcount:
                return ident

    # -- flush side ------------------------------------------------------------------------------

    def claim(self, limit: int, lease_seconds: float, now: datetime) -> list[Claimed]:
        """Lease up to `limit` ready items in arrival order, taking over expired leases and dead holders' leases."""
        ts = _ts(now)
        owner = _owner()
        with self._store.transaction() as db:
            holders = [r[0] for r in db.execute("SELECT DISTINCT lease_owner FROM items WHERE status = 'leased' "
                                                "AND lease_until > ? AND lease_owner IS NOT NULL", (ts,))]
            dead = [h for h in holders if _is_dead(h)]
            if dead:
                log.info("taking over items leased by stopped process(es) %s", ", ".join(dead))
            rows = db.execute(_CLAIMABLE, {"now": ts, "limit": int(limit), "dead": json.dumps(dead)}).fetchall()
            until = ts + lease_seconds
            db.executemany("UPDATE items SET status = 'leased', lease_until = ?, lease_owner = ?, "
                           "attempts = attempts + 1 WHERE key = ?", [(until, owner, r["key"]) for r in rows])
        return [Claimed(r["key"], r["kind"], r["opportunity_id"] or "", json.loads(r["fields"]),
                        datetime.fromtimestamp(r["received"], timezone.utc), r["source"], attempts=r["attempts"] + 1)
                for r in rows]

    def complete(self, keys: Sequence[str], now: datetime, outcome: str = "landed") -> None:
        """Mark items done after the store confirmed them (outcome: landed or already)."""
        with self._store.transaction() as db:
            db.executemany("UPDATE items SET status = 'done', done_at = ?, outcome = ?, lease_until = NULL, "
                           "last_error = NULL WHERE key = ? AND status != 'done'",
                           [(_ts(now), outcome, k) for k in keys])

    def fail(self, keys: Sequence[str], error: str, now: datetime, *, transient: bool = False) -> list[str]:
        """Put leased items back with `error`, to be retried after an exponential backoff.

        An item refused `max_attempts` times, or still refused `max_age_hours` after it arrived, is set aside
        as needing attention instead (returned), and holds nothing back. A transient failure (the store is
        down or busy: not the item's fault) never sets an item aside; it stays queued until the store is back.
        """
        ts = _ts(now)
        set_aside: list[str] = []
        with self._store.transaction() as db:
            for key in keys:
                row = db.execute("SELECT attempts, COALESCE(tries_since, received) AS since FROM items "
                                 "WHERE key = ? AND status = 'leased'",
                                 (key,)).fetchone()
                if row is None:
                    continue
                worn = row["attempts"] >= self.max_attempts or ts - row["since"] >= self.max_age
                if worn and not transient:
                    db.execute("UPDATE items SET status = 'attention', lease_until = NULL, last_error = ?, "
                               "attention_at = ? WHERE key = ?", (error, ts, key))
                    set_aside.append(key)
                    continue
                db.execute("UPDATE items SET status = 'pending', lease_until = NULL, last_error = ?, "
                           "next_attempt_at = ? WHERE key = ?", (error, ts + backoff(row["attempts"]), key))
        log_failed(len(keys), set_aside, self.max_attempts, error)
        return set_aside

    def needs_attention(self, limit: int | None = None) -> list[dict[str, Any]]:
        """Return the items set aside as needing attention, oldest first (fields, reason, when, tries)."""
        sql = "SELECT * FROM items WHERE status = 'attention' ORDER BY seq"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [_plain(r) for r in self._store.connection().execute(sql)]

    def retry(self, key: str, now: datetime) -> bool:
        """Send an item needing attention (or waiting for a retry) back to the queue now, with fresh tries."""
        ts = _ts(now)
        with self._store.transaction() as db:
            changed = db.execute("UPDATE items SET status = 'pending', attempts = 0, next_attempt_at = ?, "
                                 "attention_at = NULL, tries_since = ? WHERE key = ? AND status IN ('attention', "
                                 "'pending')", (ts, ts, key)).rowcount
        return bool(changed)

    def drop(self, key: str, now: datetime) -> bool:
        """Give up on an item needing attention (or waiting): it is kept as done/dropped, so repeats stay ignored."""
        with self._store.transaction() as db:
            changed = db.execute("UPDATE items SET status = 'done', outcome = 'dropped', done_at = ?, "
                                 "lease_until = NULL WHERE key = ? AND status IN ('attention', 'pending')",
                                 (_ts(now), key)).rowcount
        return bool(changed)

    def record_flush(self, now: datetime, result: str, error: str | None = None) -> None:
        """Remember when the last flush ran, what it did, and the last error seen."""
        values = {"last_flush_at": now.isoformat(), "last_flush_result": result}
        if error:
            values.update(last_error=error, last_error_at=now.isoformat())
        with self._store.transaction() as db:
            db.executemany("INSERT INTO meta (name, value) VALUES (?, ?) "
                           "ON CONFLICT(name) DO UPDATE SET value = excluded.value", list(values.items()))

    def prune(self, now: datetime, keep_days: float = defaults.KEEP_DONE_DAYS) -> int:
        """Delete landed items older than `keep_days`; their IDs stay reserved."""
        cutoff = _ts(now - timedelta(days=keep_days))
        with self._store.transaction() as db:
            return db.execute("DELETE FROM items WHERE status = 'done' AND done_at < ?", (cutoff,)).rowcount

    # -- reading ---------------------------------------------------------------------------------

    def stats(self, now: datetime) -> dict[str, Any]:
        """Return queue depth, oldest pending age, retries and the last flush, for /api/status."""
        db = self._store.connection()
        row = db.execute(
            "SELECT COUNT(*) AS depth, SUM(status = 'leased') AS leased, SUM(attempts > 0 AND last_error IS NOT NULL)"
            " AS retrying, MIN(received) AS oldest FROM items WHERE status IN ('pending', 'leased')").fetchone()
        attention = db.execute("SELECT COUNT(*) FROM items WHERE status = 'attention'").fetchone()[0]
        meta = {r["name"]: r["value"] for r in db.execute("SELECT name, value FROM meta")}
        return queue_stats(row, attention, meta, self.needs_attention(defaults.ATTENTION_SHOWN), _ts(now))

    def get(self, key: str) -> dict[str, Any] | None:
        """Return one item as stored (raw payload included), or None."""
        row = self._store.connection().execute("SELECT * FROM items WHERE key = ?", (key,)).fetchone()
        return None if row is None else _plain(row)

    def items(self, status: str | None = None) -> list[dict[str, Any]]:
        """Return every item in arrival order, optionally only those with `status`."""
        sql = "SELECT * FROM items" + (" WHERE status = ?" if status else "") + " ORDER BY seq"
        return [_plain(r) for r in self._store.connection().execute(sql, (status,) if status else ())]


def set_aside(queue: Queue, tz: tzinfo) -> list[SetAside]:
    """Return a queue's items needing attention as the sync shows them to the manager (dates in `tz`)."""
    out = []
    for item in queue.needs_attention():
        since = item.get("attention_at") or item["received"]
        out.append(SetAside(item["key"], item["opportunity_id"] or "", str(item["fields"].get("customer") or ""),
                            item["last_error"] or "", datetime.fromtimestamp(since, tz).date()))
    return out




def log_failed(failed: int, set_aside: Sequence[str], max_attempts: int, error: str) -> None:
    """Warn about a failed batch: which items now need attention and how many will be retried."""
    if set_aside:
        log.warning("%s intake item(s) need attention after %s tries: %s (see `sheetsync queue list`)",
                    len(set_aside), max_attempts, error)
    if failed > len(set_aside):
        log.warning("%s intake item(s) will be retried: %s", failed - len(set_aside), error)

def queue_stats(counts: Mapping[str, Any], attention: int, meta: Mapping[str, Any],
                shown: Sequence[Mapping[str, Any]], now_ts: float) -> dict[str, Any]:
    """Shape a backend's queue counts, meta values and needs-attention items into the /api/status answer."""
    oldest = counts["oldest"]
    return {
        "depth": counts["depth"],
        "leased": counts["leased"] or 0,
        "retrying": counts["retrying"] or 0,
        "oldest_pending_age_seconds": None if oldest is None else round(max(0.0, now_ts - oldest), 3),
        "last_flush_at": meta.get("last_flush_at"),
        "last_flush_result": meta.get("last_flush_result"),
        "last_error": meta.get("last_error"),
        "last_error_at": meta.get("last_error_at"),
        "needs_attention_count": attention,
        "needs_attention": [_attention_entry(item) for item in shown],
    }

def _attention_entry(item: Mapping[str, Any]) -> dict[str, Any]:
    """One item needing attention as /api/status and `sheetsync queue list` show it."""
    since = item.get("attention_at")
    return {"key": item["key"], "kind": item["kind"], "source": item["source"],
            "opportunity_id": item["opportunity_id"], "reason": item["last_error"], "attempts": item["attempts"],
            "customer": item["fields"].get("customer"),
            "since": None if since is None else datetime.fromtimestamp(since, timezone.utc).isoformat()}


def _plain(row: sqlite3.Row) -> dict[str, Any]:
    item = dict(row)
    item["fields"] = json.loads(item["fields"])
    item["answer"] = json.loads(item["answer"])
    return item
