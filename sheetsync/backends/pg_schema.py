"""The PostgreSQL schema sheetsync keeps, as numbered migrations applied once each, in order."""

from __future__ import annotations

from typing import Any

from psycopg.rows import tuple_row

LOCK_KEY = 0x5EE75
"""Transaction-level advisory lock taken while migrating, so two processes starting at once migrate once."""

MIGRATIONS: tuple[tuple[int, str], ...] = (
    (1, """
CREATE TABLE sheetsync_intake_items (
    seq BIGSERIAL PRIMARY KEY,
    workspace TEXT NOT NULL,
    key TEXT NOT NULL,
    source TEXT NOT NULL,
    kind TEXT NOT NULL,
    opportunity_id TEXT,
    fields TEXT NOT NULL,
    raw BYTEA NOT NULL,
    content_type TEXT NOT NULL DEFAULT '',
    body_hash TEXT NOT NULL,
    received DOUBLE PRECISION NOT NULL,
    idempotency_key TEXT,
    delivery_id TEXT,
    external_id TEXT,
    answer_status INTEGER NOT NULL,
    answer TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at DOUBLE PRECISION NOT NULL,
    lease_until DOUBLE PRECISION,
    lease_owner TEXT,
    lease_pid INTEGER,
    last_error TEXT,
    done_at DOUBLE PRECISION,
    outcome TEXT,
    UNIQUE (workspace, key)
);
CREATE UNIQUE INDEX sheetsync_intake_idem ON sheetsync_intake_items (workspace, source, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE UNIQUE INDEX sheetsync_intake_delivery ON sheetsync_intake_items (workspace, source, delivery_id)
    WHERE delivery_id IS NOT NULL;
CREATE INDEX sheetsync_intake_ready ON sheetsync_intake_items (workspace, status, next_attempt_at, seq)
    WHERE status != 'done';
CREATE INDEX sheetsync_intake_opportunity ON sheetsync_intake_items (workspace, opportunity_id)
    WHERE opportunity_id IS NOT NULL;
CREATE TABLE sheetsync_issued_ids (workspace TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY (workspace, id));
CREATE TABLE sheetsync_external_ids (
    workspace TEXT NOT NULL, source TEXT NOT NULL, external_id TEXT NOT NULL, opportunity_id TEXT NOT NULL,
    PRIMARY KEY (workspace, source, external_id)
);
CREATE TABLE sheetsync_intake_meta (workspace TEXT NOT NULL, name TEXT NOT NULL, value TEXT,
                                    PRIMARY KEY (workspace, name));
CREATE TABLE sheetsync_state (workspace TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL,
                              PRIMARY KEY (workspace, name));
CREATE TABLE sheetsync_seen (workspace TEXT NOT NULL, id TEXT NOT NULL, value TEXT NOT NULL,
                             PRIMARY KEY (workspace, id));
CREATE TABLE sheetsync_quota (account TEXT PRIMARY KEY, tokens DOUBLE PRECISION NOT NULL,
                              updated DOUBLE PRECISION NOT NULL);
"""),
    (2, """
ALTER TABLE sheetsync_intake_items ADD COLUMN attention_at DOUBLE PRECISION;
ALTER TABLE sheetsync_intake_items ADD COLUMN tries_since DOUBLE PRECISION;
"""),
    (3, """
CREATE TABLE sheetsync_outbox (
    workspace TEXT NOT NULL,
    key TEXT NOT NULL,
    message_key TEXT NOT NULL,
    kind TEXT NOT NULL,
    recipient TEXT NOT NULL,
    target TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    created DOUBLE PRECISION NOT NULL,
    next_attempt DOUBLE PRECISION NOT NULL,
    sent_at DOUBLE PRECISION,
    last_error TEXT,
    last_error_at DOUBLE PRECISION,
    PRIMARY KEY (workspace, key)
);
CREATE INDEX sheetsync_outbox_due ON sheetsync_outbox (workspace, status, next_attempt);
CREATE INDEX sheetsync_outbox_message ON sheetsync_outbox (workspace, message_key);
CREATE TABLE sheetsync_outbox_runs (workspace TEXT NOT NULL, name TEXT NOT NULL, at DOUBLE PRECISION NOT NULL,
                                    PRIMARY KEY (workspace, name));
"""),
)
"""(version, SQL) pairs; a new version only ever adds a pair at the end."""
LATEST = MIGRATIONS[-1][0]


class SchemaTooNew(Exception):
    """The database was migrated by a newer sheetsync than this one."""


def migrate(conn: Any) -> list[int]:
    """Bring the schema up to LATEST in one transaction; return the versions applied (none when current)."""
    applied = []
    cur = conn.cursor(row_factory=tuple_row)
    with conn.transaction():
        cur.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
        cur.execute("CREATE TABLE IF NOT EXISTS sheetsync_schema (version INTEGER PRIMARY KEY, "
                     "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())")
        current = cur.execute("SELECT COALESCE(MAX(version), 0) FROM sheetsync_schema").fetchone()[0]
        if current > LATEST:
            raise SchemaTooNew(f"The database schema is version {current}, newer than this sheetsync knows "
                               f"({LATEST}): upgrade sheetsync on this host to the version the other hosts run.")
        for version, sql in MIGRATIONS:
            if version > current:
                cur.execute(sql)
                cur.execute("INSERT INTO sheetsync_schema (version) VALUES (%s)", (version,))
                applied.append(version)
    return applied


def version(conn: Any) -> int:
    """The schema version the database is at (0 when sheetsync never ran on it)."""
    cur = conn.cursor(row_factory=tuple_row)
    row = cur.execute("SELECT to_regclass('sheetsync_schema') IS NOT NULL").fetchone()
    if not row or not row[0]:
        return 0
    return int(cur.execute("SELECT COALESCE(MAX(version), 0) FROM sheetsync_schema").fetchone()[0])
