"""The intake database file: its tables and how every connection to it is opened."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Generic, TypeVar

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

GROUP_LIMIT = 64
"""Most pieces of work one group commit carries."""

T = TypeVar("T")


class _Work(Generic[T]):
    """One thread's piece of a group commit: what to run in the transaction, and how it ended."""

    __slots__ = ("done", "error", "result", "run", "wake")

    def __init__(self, run: Callable[[sqlite3.Connection], T]) -> None:
        self.run = run
        self.result: Any = None
        self.error: BaseException | None = None
        self.done = False
        self.wake = threading.Lock()  # released when the piece is done, or when its thread is to lead next
        self.wake.acquire()


class Database:
    """A WAL-mode SQLite file with synchronous=FULL and a busy timeout: one connection per thread for reading,
    one shared connection for this process's writes (they take turns anyway, and its page cache stays warm)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._local = threading.local()
        self._opened: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._writer: sqlite3.Connection | None = None
        self._group = threading.Lock()
        self._waiting: list[_Work[Any]] = []
        self._leading = False
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

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=defaults.BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                             check_same_thread=False)
        db.row_factory = sqlite3.Row
        db.execute(f"PRAGMA busy_timeout = {int(defaults.BUSY_TIMEOUT_MS)}")
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = FULL")
        with self._lock:
            self._opened.append(db)
        return db

    def connection(self) -> sqlite3.Connection:
        """Return this thread's connection for reading, opening it on first use."""
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = self._open()
        return db

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Run the block in one write transaction, taken up front so readers never need upgrading.

        Threads of this process queue on a lock first (SQLite's own busy handler sleeps in coarse steps,
        which would add tens of milliseconds to a request whenever two threads collide), then write through
        the process's one writing connection.
        """
        with self._write_lock:
            if self._writer is None:
                self._writer = self._open()
            db = self._writer
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:  # a failed COMMIT too: the shared connection must not stay mid-transaction
                    db.execute("ROLLBACK")
                raise

    def grouped(self, run: Callable[[sqlite3.Connection], T]) -> T:
        """Run `run(db)` in a write transaction shared with other threads' work; return once it is committed.

        Group commit: while one thread commits (and the WAL is fsync'd), the work of threads arriving
        meanwhile gathers; the next of them to lead runs all of it in one transaction and commits once. A
        piece that raises is undone alone and its thread gets the exception; the others are unaffected.
        Nobody returns before the commit carrying its work has returned, so a result still means "on disk"
        (synchronous=FULL), at one fsync per group instead of one per piece.
        """
        mine: _Work[T] = _Work(run)
        with self._group:
            self._waiting.append(mine)
            lead = not self._leading
            self._leading = True
        if not lead:
            mine.wake.acquire()  # until my piece is committed, or it is my turn to lead
        if not mine.done:
            with self._group:
                batch = self._waiting[:GROUP_LIMIT]
                if mine not in batch:  # a leader always carries its own work
                    batch[-1] = mine
                chosen = {id(w) for w in batch}
                self._waiting = [w for w in self._waiting if id(w) not in chosen]
            try:
                self._run_group(batch)
            finally:
                for work in batch:
                    if work is not mine:
                        work.wake.release()
                with self._group:  # hand the lead to the oldest waiting piece, or put it down
                    if self._waiting:
                        self._waiting[0].wake.release()
                    else:
                        self._leading = False
        if mine.error is not None:
            raise mine.error
        return mine.result

    def _run_group(self, batch: list[_Work[Any]]) -> None:
        """Run the pieces in one transaction; mark every piece done after the commit (or the failure).

        Pieces normally succeed, so they run one after the other without savepoints. When one raises, the
        whole transaction is undone and the group runs again with each piece in its own savepoint, so the
        failing piece fails alone.
        """
        try:
            try:
                with self.transaction() as db:
                    for work in batch:
                        work.result = work.run(db)
            except Exception:
                if len(batch) == 1:
                    raise
                with self.transaction() as db:
                    for work in batch:
                        db.execute("SAVEPOINT piece")
                        try:
                            work.result, work.error = work.run(db), None
                        except Exception as exc:  # this piece alone is undone; its thread re-raises it
                            db.execute("ROLLBACK TO piece")
                            work.result, work.error = None, exc
                        db.execute("RELEASE piece")
        except BaseException as exc:  # the transaction did not commit: nothing in it is stored
            for work in batch:
                if work.error is None:
                    work.result, work.error = None, exc
            raise
        finally:
            for work in batch:
                work.done = True

    def close(self) -> None:
        """Close every connection opened by any thread."""
        with self._lock:
            for db in self._opened:
                db.close()
            self._opened.clear()
        self._local = threading.local()
        self._writer = None
