"""A throwaway PostgreSQL database for tests, or a visible skip when no server is reachable.

Tests reach the server named by SHEETSYNC_TEST_POSTGRES (default: the local one at 127.0.0.1:5432, trust
auth, database `test`). With SHEETSYNC_TEST_REQUIRE_POSTGRES=1 (set by .ci/run) an unreachable server fails the
run instead of skipping.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import pytest

ADMIN_URL = os.environ.get("SHEETSYNC_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
REQUIRED = os.environ.get("SHEETSYNC_TEST_REQUIRE_POSTGRES", "") == "1"


def unavailable() -> str | None:
    """Why PostgreSQL tests cannot run here, or None when they can."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install -e '.[test]')"
    parts = urlsplit(ADMIN_URL)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 5432), timeout=1):
            return None
    except OSError as exc:
        return f"no PostgreSQL server at {parts.hostname}:{parts.port or 5432} ({exc})"


def skip_unless_available() -> None:
    """Skip (or, under SHEETSYNC_TEST_REQUIRE_POSTGRES=1, fail) when the server is unreachable."""
    reason = unavailable()
    if reason:
        if REQUIRED:
            pytest.fail(f"PostgreSQL is required (SHEETSYNC_TEST_REQUIRE_POSTGRES=1) but unusable: {reason}")
        pytest.skip(f"PostgreSQL tests skipped: {reason}")


@contextmanager
def throwaway_database() -> Iterator[str]:
    """Create a database with a random name, yield its URL, and drop it afterwards."""
    import psycopg

    name = "sheetsync_test_" + secrets.token_hex(6)
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(ADMIN_URL)
    try:
        yield urlunsplit(parts._replace(path="/" + name))
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
