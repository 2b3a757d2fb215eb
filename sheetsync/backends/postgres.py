"""Queue, state, locks and the shared Google quota in PostgreSQL (psycopg 3), for many processes on many hosts.

Every table carries the workspace it belongs to, so one database serves every workspace of a deployment.
Web processes only insert; workers claim with FOR UPDATE SKIP LOCKED; one worker per workspace holds a
session-level advisory lock on its own connection, which PostgreSQL releases when that connection dies.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Any

from ..core.ids import LENGTH, PREFIX, new_id
from ..intake import defaults
from ..intake.queue import _ts, backoff, body_hash, log_failed, queue_stats
from ..ports import (
    CREATE,
    FOLLOWUP,
    KINDS,
    UPDATE,
    Claimed,
    IdempotencyConflict,
    Incoming,
    PipelineLock,
    Queue,
    QueueUnavailable,
    Receipt,
    StateStore,
)
from . import pg_schema

try:
    import psycopg
    from psycopg import errors as pg_errors
    from psycopg.rows import dict_row
except ImportError:  # pragma: no cover - depends on the install
    psycopg = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

KEY_PREFIX = "IN-"
KEY_LENGTH = 10
CONNECT_TIMEOUT = 10
"""Seconds to wait for the database server to answer a new connection."""
KEEPALIVE_SECONDS = 5
"""TCP keepalive idle/interval on lock connections, so a host cut off from the network loses its locks fast."""


def _require_driver() -> None:
    if psycopg is None:
        raise QueueUnavailable("database_url points at PostgreSQL but the driver is not installed: run "
                               "pip install 'sheetsync[postgres]' (it installs psycopg 3).")


def redact(url: str) -> str:
    """The URL with any password replaced by ***, for messages and logs."""
    head, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    creds, _, host = rest.rpartition("@")
    user = creds.split(":", 1)[0]
    return f"{head}://{user}{':***' if ':' in creds else ''}@{host}"


def connect(url: str, **options: Any) -> Any:
    """Open one autocommit connection, turning a refusal into a message that names the URL and the fix."""
    _require_driver()
    try:
        return psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT, **options)
    except psycopg.Error as exc:
        raise QueueUnavailable(f"Cannot connect to PostgreSQL at {redact(url)} ({str(exc).strip()}): check that the "
                               "server runs and database_url (SHEETSYNC_DATABASE_URL) is right.") from exc


class Database:
    """One connection per thread to a PostgreSQL database, reopened after the server dropped it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._local = threading.local()
        self._opened: list[Any] = []
        self._lock = threading.Lock()

    def connection(self) -> Any:
        """This thread's connection, opened on first use or after it broke."""
        conn = getattr(self._local, "conn", None)
        if conn is None or conn.closed or conn.broken:
            conn = connect(self.url, row_factory=dict_row)
            self._local.conn = conn
            with self._lock:
                self._opened.append(conn)
        return conn

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        """Run the block in one transaction; a dropped connection becomes QueueUnavailable."""
        conn = self.connection()
        try:
            with conn.transaction():
                yield conn
        except psycopg.OperationalError as exc:
            raise QueueUnavailable(f"PostgreSQL at {redact(self.url)} stopped answering ({str(exc).strip()}).") \
                from exc

    def migrate(self) -> list[int]:
        """Create or upgrade the schema; return the versions applied."""
        return pg_schema.migrate(self.connection())

    def close(self) -> None:
        """Close every connection any thread opened."""
        with self._lock:
            for conn in self._opened:
                conn.close()
            self._opened.clear()
        self._local = threading.local()


_READY = """((i.status = 'pending' AND i.next_attempt_at <= %(now)s)
 OR (i.status = 'leased' AND (i.lease_until <= %(now)s
     OR i.lease_pid NOT IN (SELECT pid FROM pg_stat_activity WHERE pid IS NOT NULL))))"""
_CLAIMABLE = f"""
SELECT i.* FROM sheetsync_intake_items AS i
WHERE i.workspace = %(ws)s AND i.status IN ('pending', 'leased') AND {_READY}
AND NOT EXISTS (
    SELECT 1 FROM sheetsync_intake_items AS p
    WHERE p.workspace = i.workspace AND p.opportunity_id = i.opportunity_id AND p.seq < i.seq
      AND p.status IN ('pending', 'leased') AND NOT {_READY.replace("i.", "p.")}
)
ORDER BY i.seq LIMIT %(limit)s
FOR UPDATE OF i SKIP LOCKED
"""
"""Ready items of one workspace in arrival order, skipping rows another claimer holds, holding back any whose
earlier item for the same opportunity must wait (one needing attention holds nothing back). A lease whose
database session is gone is ready at once."""


class _Issued:
    """The IDs and keys ever issued in a workspace, looked up when new_id() asks."""

    def __init__(self, conn: Any, workspace: str) -> None:
        self.conn, self.workspace = conn, workspace

    def __contains__(self, ident: object) -> bool:
        return self.conn.execute("SELECT 1 FROM sheetsync_issued_ids WHERE workspace = %s AND id = %s",
                                 (self.workspace, ident)).fetchone() is not None


class PostgresQueue(Queue):
    """The intake queue of one workspace in PostgreSQL; any number of processes may share it."""

    def __init__(self, db: Database, workspace: str = "", rng: random.Random | None = None, *,
                 max_attempts: int = defaults.MAX_ATTEMPTS, max_age_hours: float = defaults.MAX_AGE_HOURS) -> None:
        self._db = db
        self.workspace = workspace
        self.max_attempts = max_attempts
        self.max_age = max_age_hours * 3600.0
        self._rng = rng or random.SystemRandom()
        self._owner = f"{socket.gethostname()}:{os.getpid()}"

    def close(self) -> None:
        """Close this process's connections."""
        self._db.close()

    def submit(self, item: Incoming, now: datetime) -> Receipt:
        """Commit `item` and return its answer, or return the first answer when it is a repeat."""
        if item.kind not in KINDS:
            raise ValueError(f"Unknown kind {item.kind!r}: use one of {', '.join(KINDS)}.")
        for attempt in range(5):
            try:
                return self._submit(item, now)
            except pg_errors.UniqueViolation:  # a racing process inserted the same key first: look again
                log.debug("submit raced another process (attempt %s); looking again", attempt + 1)
        raise QueueUnavailable("The submission kept colliding with concurrent ones; send it again.")

    def _submit(self, item: Incoming, now: datetime) -> Receipt:
        digest = body_hash(item.raw)
        ts = _ts(now)
        ws = self.workspace
        with self._db.transaction() as db:
            earlier = self._earlier(db, item, digest)
            if earlier is not None:
                return earlier
            warnings = list(item.warnings)
            kind, opp = self._target(db, item, warnings)
            key = self._issue(db, KEY_PREFIX, KEY_LENGTH)
            if kind == CREATE:
                opp = self._issue(db, PREFIX, LENGTH)
                if item.external_id:
                    db.execute("INSERT INTO sheetsync_external_ids (workspace, source, external_id, opportunity_id) "
                               "VALUES (%s, %s, %s, %s)", (ws, item.source, item.external_id, opp))
            if kind == FOLLOWUP:
                answer = {"id": key, "status": "queued", "warnings": warnings, "opportunity_id": opp or None}
            else:
                answer = {"id": opp, "status": "queued", "warnings": warnings}
            db.execute(
                "INSERT INTO sheetsync_intake_items (workspace, key, source, kind, opportunity_id, fields, raw, "
                "content_type, body_hash, received, idempotency_key, delivery_id, external_id, answer_status, answer, "
                "next_attempt_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (ws, key, item.source, kind, opp or None, json.dumps(dict(item.fields), ensure_ascii=False), item.raw,
                 item.content_type, digest, ts, item.idempotency_key, item.delivery_id, item.external_id,
                 202, json.dumps(answer, ensure_ascii=False), ts))
        log.debug("queued %s %s from %s as %s", kind, opp or "-", item.source, key)
        return Receipt(key, 202, answer)

    def _earlier(self, db: Any, item: Incoming, digest: str) -> Receipt | None:
        if item.idempotency_key:
            row = db.execute("SELECT key, body_hash, answer_status, answer FROM sheetsync_intake_items "
                             "WHERE workspace = %s AND source = %s AND idempotency_key = %s",
                             (self.workspace, item.source, item.idempotency_key)).fetchone()
            if row is not None:
                if row["body_hash"] != digest:
                    raise IdempotencyConflict(
                        f"Idempotency-Key {item.idempotency_key!r} was already used for a different request "
                        f"to /hooks/{item.source}: send a new key for a new submission, or resend the "
                        "original body unchanged to get the first answer.")
                return Receipt(row["key"], row["answer_status"], json.loads(row["answer"]), replayed=True)
        if item.delivery_id:
            row = db.execute("SELECT key, answer_status, answer FROM sheetsync_intake_items "
                             "WHERE workspace = %s AND source = %s AND delivery_id = %s",
                             (self.workspace, item.source, item.delivery_id)).fetchone()
            if row is not None:
                return Receipt(row["key"], row["answer_status"], json.loads(row["answer"]), replayed=True)
        return None

    def _target(self, db: Any, item: Incoming, warnings: list[str]) -> tuple[str, str | None]:
        if item.kind == FOLLOWUP:
            return FOLLOWUP, item.opportunity_id
        if item.external_id:
            row = db.execute("SELECT opportunity_id FROM sheetsync_external_ids WHERE workspace = %s AND source = %s "
                             "AND external_id = %s", (self.workspace, item.source, item.external_id)).fetchone()
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

    def _issue(self, db: Any, prefix: str, length: int) -> str:
        ident = new_id(self._rng, _Issued(db, self.workspace), prefix=prefix, length=length)
        db.execute("INSERT INTO sheetsync_issued_ids (workspace, id) VALUES (%s, %s)", (self.workspace, ident))
        return ident

    def claim(self, limit: int, lease_seconds: float, now: datetime) -> list[Claimed]:
        """Lease up to `limit` ready items in arrival order, skipping rows other claimers hold."""
        ts = _ts(now)
        with self._db.transaction() as db:
            pid = db.execute("SELECT pg_backend_pid() AS pid").fetchone()["pid"]
            rows = db.execute(_CLAIMABLE, {"ws": self.workspace, "now": ts, "limit": int(limit)}).fetchall()
            if rows:
                db.execute("UPDATE sheetsync_intake_items SET status = 'leased', lease_until = %s, lease_owner = %s, "
                           "lease_pid = %s, attempts = attempts + 1 WHERE seq = ANY(%s)",
                           (ts + lease_seconds, self._owner, pid, [r["seq"] for r in rows]))
        return [Claimed(r["key"], r["kind"], r["opportunity_id"] or "", json.loads(r["fields"]),
                        datetime.fromtimestamp(r["received"], timezone.utc), r["source"], attempts=r["attempts"] + 1)
                for r in rows]

    def complete(self, keys: Sequence[str], now: datetime, outcome: str = "landed") -> None:
        """Mark items done after the store confirmed them."""
        if not keys:
            return
        with self._db.transaction() as db:
            db.execute("UPDATE sheetsync_intake_items SET status = 'done', done_at = %s, outcome = %s, "
                       "lease_until = NULL, last_error = NULL WHERE workspace = %s AND key = ANY(%s) "
                       "AND status != 'done'", (_ts(now), outcome, self.workspace, list(keys)))

    def fail(self, keys: Sequence[str], error: str, now: datetime, *, transient: bool = False) -> list[str]:
        """Put leased items back with `error` after a backoff, or set worn-out ones aside as needing attention."""
        if not keys:
            return []
        ts = _ts(now)
        aside: list[str] = []
        with self._db.transaction() as db:
            rows = db.execute("SELECT key, attempts, COALESCE(tries_since, received) AS since "
                              "FROM sheetsync_intake_items WHERE workspace = %s AND key = ANY(%s) "
                              "AND status = 'leased'", (self.workspace, list(keys))).fetchall()
            for row in rows:
                worn = row["attempts"] >= self.max_attempts or ts - row["since"] >= self.max_age
                if worn and not transient:
                    db.execute("UPDATE sheetsync_intake_items SET status = 'attention', lease_until = NULL, "
                               "last_error = %s, attention_at = %s WHERE workspace = %s AND key = %s",
                               (error, ts, self.workspace, row["key"]))
                    aside.append(row["key"])
                    continue
                db.execute("UPDATE sheetsync_intake_items SET status = 'pending', lease_until = NULL, "
                           "last_error = %s, next_attempt_at = %s WHERE workspace = %s AND key = %s",
                           (error, ts + backoff(row["attempts"]), self.workspace, row["key"]))
        log_failed(len(keys), aside, self.max_attempts, error)
        return aside

    def needs_attention(self, limit: int | None = None) -> list[dict[str, Any]]:
        """Return the items set aside as needing attention, oldest first."""
        sql = "SELECT * FROM sheetsync_intake_items WHERE workspace = %s AND status = 'attention' ORDER BY seq"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        with self._db.transaction() as db:
            return [_plain(r) for r in db.execute(sql, (self.workspace,))]

    def retry(self, key: str, now: datetime) -> bool:
        """Send an item needing attention (or waiting) back to the queue now, with fresh tries."""
        ts = _ts(now)
        with self._db.transaction() as db:
            return bool(db.execute(
                "UPDATE sheetsync_intake_items SET status = 'pending', attempts = 0, next_attempt_at = %s, "
                "attention_at = NULL, tries_since = %s WHERE workspace = %s AND key = %s "
                "AND status IN ('attention', 'pending')", (ts, ts, self.workspace, key)).rowcount)

    def drop(self, key: str, now: datetime) -> bool:
        """Give up on an item needing attention (or waiting): kept as done/dropped, so repeats stay ignored."""
        with self._db.transaction() as db:
            return bool(db.execute(
                "UPDATE sheetsync_intake_items SET status = 'done', outcome = 'dropped', done_at = %s, "
                "lease_until = NULL WHERE workspace = %s AND key = %s AND status IN ('attention', 'pending')",
                (_ts(now), self.workspace, key)).rowcount)

    def record_flush(self, now: datetime, result: str, error: str | None = None) -> None:
        """Remember when the last flush ran, what it did, and the last error seen."""
        values = {"last_flush_at": now.isoformat(), "last_flush_result": result}
        if error:
            values.update(last_error=error, last_error_at=now.isoformat())
        with self._db.transaction() as db:
            for name, value in values.items():
                db.execute("INSERT INTO sheetsync_intake_meta (workspace, name, value) VALUES (%s, %s, %s) "
                           "ON CONFLICT (workspace, name) DO UPDATE SET value = excluded.value",
                           (self.workspace, name, value))

    def prune(self, now: datetime, keep_days: float = 30) -> int:
        """Delete landed items older than `keep_days`; their IDs stay reserved."""
        cutoff = _ts(now - timedelta(days=keep_days))
        with self._db.transaction() as db:
            return db.execute("DELETE FROM sheetsync_intake_items WHERE workspace = %s AND status = 'done' "
                              "AND done_at < %s", (self.workspace, cutoff)).rowcount

    def stats(self, now: datetime) -> dict[str, Any]:
        """Return queue depth, oldest pending age, retries and the last flush, for /api/status."""
        with self._db.transaction() as db:
            row = db.execute(
                "SELECT COUNT(*) AS depth, COUNT(*) FILTER (WHERE status = 'leased') AS leased, "
                "COUNT(*) FILTER (WHERE attempts > 0 AND last_error IS NOT NULL) AS retrying, "
                "MIN(received) AS oldest FROM sheetsync_intake_items WHERE workspace = %s "
                "AND status IN ('pending', 'leased')", (self.workspace,)).fetchone()
            attention = db.execute("SELECT COUNT(*) AS n FROM sheetsync_intake_items WHERE workspace = %s "
                                   "AND status = 'attention'", (self.workspace,)).fetchone()["n"]
            meta = {r["name"]: r["value"] for r in db.execute(
                "SELECT name, value FROM sheetsync_intake_meta WHERE workspace = %s", (self.workspace,))}
        return queue_stats(row, attention, meta, self.needs_attention(defaults.ATTENTION_SHOWN), _ts(now))

    def get(self, key: str) -> dict[str, Any] | None:
        """Return one item as stored (raw payload included), or None."""
        with self._db.transaction() as db:
            row = db.execute("SELECT * FROM sheetsync_intake_items WHERE workspace = %s AND key = %s",
                             (self.workspace, key)).fetchone()
        return None if row is None else _plain(row)

    def items(self, status: str | None = None) -> list[dict[str, Any]]:
        """Return every item in arrival order, optionally only those with `status`."""
        sql = "SELECT * FROM sheetsync_intake_items WHERE workspace = %s"
        params: tuple[Any, ...] = (self.workspace,)
        if status:
            sql, params = sql + " AND status = %s", (self.workspace, status)
        with self._db.transaction() as db:
            return [_plain(r) for r in db.execute(sql + " ORDER BY seq", params)]


def _plain(row: Mapping[str, Any]) -> dict[str, Any]:
    item = dict(row)
    for name in ("workspace", "lease_pid"):
        item.pop(name, None)
    item["raw"] = bytes(item["raw"])
    item["fields"] = json.loads(item["fields"])
    item["answer"] = json.loads(item["answer"])
    return item


class PostgresState(StateStore):
    """A workspace's cursors, last-seen values and other small state in PostgreSQL; each save is one transaction."""

    def __init__(self, db: Database, workspace: str = "") -> None:
        self._db = db
        self.workspace = workspace

    def get(self, name: str, default: Any = None) -> Any:
        with self._db.transaction() as db:
            row = db.execute("SELECT value FROM sheetsync_state WHERE workspace = %s AND name = %s",
                             (self.workspace, name)).fetchone()
        return default if row is None else json.loads(row["value"])

    def seen(self) -> dict[str, dict[str, Any]]:
        with self._db.transaction() as db:
            rows = db.execute("SELECT id, value FROM sheetsync_seen WHERE workspace = %s", (self.workspace,))
            return {r["id"]: json.loads(r["value"]) for r in rows}

    def save(self, *, cursors: Mapping[str, Any] | None = None, seen: Mapping[str, Mapping[str, Any]] | None = None,
             **values: Any) -> None:
        if cursors is not None:
            values["cursors"] = dict(cursors)
        with self._db.transaction() as db:
            for name, value in values.items():
                db.execute("INSERT INTO sheetsync_state (workspace, name, value) VALUES (%s, %s, %s) "
                           "ON CONFLICT (workspace, name) DO UPDATE SET value = excluded.value",
                           (self.workspace, name, json.dumps(value, default=str)))
            if seen is not None:
                db.execute("DELETE FROM sheetsync_seen WHERE workspace = %s", (self.workspace,))
                with db.cursor() as cur:
                    with cur.copy("COPY sheetsync_seen (workspace, id, value) FROM STDIN") as copy:
                        for ident, val in seen.items():
                            copy.write_row((self.workspace, ident, json.dumps(val, default=str)))

    def close(self) -> None:
        self._db.close()


def lock_key(name: str) -> tuple[int, int]:
    """Two signed 32-bit numbers naming a workspace's advisory lock (a namespace word, then a hash)."""
    digest = hashlib.sha256(f"sheetsync:{name}".encode()).digest()
    return 0x5EE7, int.from_bytes(digest[:4], "big", signed=True)


class LockSession:
    """One connection holding every advisory lock of this process (PostgreSQL allows many per session).

    The locks live exactly as long as the connection: a process killed with SIGKILL, or a host cut off from
    the network (TCP keepalives notice within about 20 s), loses them all and another process can take them.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self._conn: Any = None
        self.mutex = threading.Lock()
        self.owners: dict[tuple[int, int], AdvisoryLock] = {}
        """Which lock object of this process holds each key (the database sees one session for all of them)."""

    def connection(self) -> Any:
        """The session's connection, opened (named after this process) on first use or after it broke."""
        if self._conn is None or self._conn.closed or self._conn.broken:
            self.drop()
            self._conn = connect(self.url, application_name=f"sheetsync-lock {os.getpid()}",
                                 keepalives=1, keepalives_idle=KEEPALIVE_SECONDS,
                                 keepalives_interval=KEEPALIVE_SECONDS, keepalives_count=3,
                                 options=f"-c tcp_keepalives_idle={KEEPALIVE_SECONDS} "
                                         f"-c tcp_keepalives_interval={KEEPALIVE_SECONDS} "
                                         "-c tcp_keepalives_count=3")
        return self._conn

    @property
    def backend_pid(self) -> int | None:
        return None if self._conn is None or self._conn.closed else self._conn.info.backend_pid

    def drop(self) -> None:
        """Close the connection; every lock it held is gone."""
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:  # closing a broken connection must never raise
                log.debug("closing a lock connection failed", exc_info=True)
        self._conn = None
        self.owners.clear()


class AdvisoryLock(PipelineLock):
    """A workspace's session-level PostgreSQL advisory lock, on this process's lock session."""

    def __init__(self, url: str, name: str, *, poll: float = 0.2, session: LockSession | None = None) -> None:
        self.url = url
        self.name = name
        self.key = lock_key(name)
        self.poll = poll
        self.session = session or LockSession(url)
        self.fence = 0
        """A number that grows with every acquisition of this lock by anyone (0 until acquired)."""

    def acquire(self, timeout: float = 0) -> bool:
        """Try to take the lock, polling until `timeout` seconds passed; return whether it is held."""
        deadline = time.monotonic() + timeout
        while True:
            with self.session.mutex:
                owner = self.session.owners.get(self.key)
                if owner is self:
                    return True
                if owner is None:
                    try:
                        if self._try():
                            return True
                    except (QueueUnavailable, psycopg.Error) as exc:
                        log.warning("cannot reach PostgreSQL for the lock of %r: %s", self.name, exc)
                        self.session.drop()
            if time.monotonic() >= deadline:
                return False
            time.sleep(self.poll)

    def _try(self) -> bool:
        conn = self.session.connection()
        got = conn.execute("SELECT pg_try_advisory_lock(%s, %s)", self.key).fetchone()[0]
        if not got:
            return False
        self.fence = conn.execute(
            "INSERT INTO sheetsync_state (workspace, name, value) VALUES (%s, 'lock_fence', '1') "
            "ON CONFLICT (workspace, name) DO UPDATE SET value = "
            "(sheetsync_state.value::bigint + 1)::text RETURNING value::bigint", (self.name,)).fetchone()[0]
        self.session.owners[self.key] = self
        return True

    def held(self) -> bool:
        """Ask the server whether this process still holds the lock; False when the connection broke."""
        with self.session.mutex:
            if self.session.owners.get(self.key) is not self:
                return False
            try:
                row = self.session.connection().execute(
                    "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted "
                    "AND classid = %s::oid AND objid = %s::oid AND objsubid = 2",
                    (self.key[0] & 0xFFFFFFFF, self.key[1] & 0xFFFFFFFF)).fetchone()
            except psycopg.Error:
                self.session.drop()
                return False
            if row is None:
                self.session.owners.pop(self.key, None)
            return row is not None

    def release(self) -> None:
        """Give the lock up; harmless when not held."""
        with self.session.mutex:
            if self.session.owners.get(self.key) is not self:
                return
            self.session.owners.pop(self.key, None)
            try:
                self.session.connection().execute("SELECT pg_advisory_unlock(%s, %s)", self.key)
            except (QueueUnavailable, psycopg.Error):
                self.session.drop()  # a broken connection released it anyway
            if not self.session.owners:
                self.session.drop()


class SharedPacer:
    """A token bucket in PostgreSQL shared by every process using one Google account (same API as Pacer).

    Each request takes a token in one UPDATE, using the database's clock; a process that took a token from
    an empty bucket sleeps until its turn, so all processes together stay under `per_minute`.
    """

    def __init__(self, db: Database, account: str, per_minute: float = 50, burst: int = 8, *,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if per_minute <= 0 or burst < 1:
            raise ValueError("per_minute must be above 0 and burst at least 1")
        self._db = db
        self.account = account
        self.rate = per_minute / 60.0
        self.burst = burst
        self._sleep = sleep

    def wait(self) -> float:
        """Take one token, sleeping until it is available; return the seconds slept."""
        with self._db.transaction() as db:
            db.execute("INSERT INTO sheetsync_quota (account, tokens, updated) VALUES "
                       "(%s, %s, extract(epoch FROM clock_timestamp())) ON CONFLICT (account) DO NOTHING",
                       (self.account, float(self.burst)))
            tokens = db.execute(
                "UPDATE sheetsync_quota SET tokens = LEAST(%(burst)s, tokens + GREATEST(0, "
                "extract(epoch FROM clock_timestamp()) - updated) * %(rate)s) - 1, "
                "updated = GREATEST(updated, extract(epoch FROM clock_timestamp())) "
                "WHERE account = %(account)s RETURNING tokens",
                {"burst": float(self.burst), "rate": self.rate, "account": self.account}).fetchone()["tokens"]
        delay = -tokens / self.rate if tokens < 0 else 0.0
        if delay > 0:
            log.debug("Pacing Sheets requests for %s: waiting %.2f s", self.account, delay)
            self._sleep(delay)
        return delay
