"""The intake database file: its tables and how every connection to it is opened."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from . import defaults

SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL,
    kind TEXT NOT NULL,
    opportunity_id TEXT,
    fields TEXT NOT NULL,
    raw BLOB NOT NULL,
    content_type TEXT NOT NULL DEFAULT '',
    body_hash TEXT NOT NULL,
    received REAL NOT NULL,
    idempotency_key TEXT,
    delivery_id TEXT,
    external_id TEXT,
    answer_status INTEGER NOT NULL,
    answer TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    lease_until REAL,
    lease_owner TEXT,
    last_error TEXT,
    done_at REAL,
    outcome TEXT,
    attention_at REAL,
    tries_since REAL
);
CREATE UNIQUE INDEX IF NOT EXISTS items_idempotency ON items (source, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS items_delivery ON items (source, delivery_id) WHERE delivery_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS items_ready ON items (status, next_attempt_at, seq);
CREATE INDEX IF NOT EXISTS items_opportunity ON items (opportunity_id) WHERE opportunity_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS issued_ids (id TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS external_ids (
    source TEXT NOT NULL,
    external_id TEXT NOT NULL,
    opportunity_id TEXT NOT NULL,
    PRIMARY KEY (source, external_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;
"""
"""Status: pending, leased, done or attention (set aside after too many refusals).

Items are kept after landing (for de-duplication) until pruned; issued and external IDs are kept forever.
"""


class Database:
    """One connection per thread to a WAL-mode SQLite file with synchronous=FULL and a busy timeout."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._local = threading.local()
        self._opened: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        with self.transaction() as db:
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)
            columns = {row["name"] for row in db.execute("PRAGMA table_info(items)")}
            if "lease_owner" not in columns:  # files made before leases had owners
                db.execute("ALTER TABLE items ADD COLUMN lease_owner TEXT")
            if "attention_at" not in columns:  # files made before items could need attention
                db.execute("ALTER TABLE items ADD COLUMN attention_at REAL")
                db.execute("ALTER TABLE items ADD COLUMN tries_since REAL")

    def connection(self) -> sqlite3.Connection:
        """Return this thread's connection, opening it on first use."""
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=defaults.BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                                 check_same_thread=False)
            db.row_factory = sqlite3.Row
            db.execute(f"PRAGMA busy_timeout = {int(defaults.BUSY_TIMEOUT_MS)}")
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = FULL")
            self._local.db = db
            with self._lock:
                self._opened.append(db)
        return db

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Run the block in one write transaction, taken up front so readers never need upgrading.

        Threads of this process queue on a lock first: SQLite's own busy handler sleeps in coarse steps,
        which would add tens of milliseconds to a request whenever two threads collide.
        """
        db = self.connection()
        with self._write_lock:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def close(self) -> None:
        """Close every connection opened by any thread."""
        with self._lock:
            for db in self._opened:
                db.close()
            self._opened.clear()
        self._local = threading.local()
