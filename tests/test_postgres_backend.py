"""What only the PostgreSQL backend promises: versioned schema, SKIP LOCKED claims, locks tied to a connection."""

from __future__ import annotations

import secrets
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone

import pytest

from sheetsync.backends import PostgresBackend, pg_schema
from sheetsync.backends.postgres import AdvisoryLock, SharedPacer, connect
from sheetsync.ports import Incoming

T0 = datetime(2026, 11, 28, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def backend(pg_url):
    made = PostgresBackend(pg_url)
    made.migrate()
    yield made
    made.close()


def name() -> str:
    return "ws-" + secrets.token_hex(4)


def lead(n: int) -> Incoming:
    return Incoming("generic", "create", {"customer": f"C{n}"}, f'{{"n": {n}}}'.encode())


def test_the_schema_is_versioned_and_migrating_twice_changes_nothing(backend):
    assert backend.migrate() == []
    conn = backend.db.connection()
    assert pg_schema.version(conn) == pg_schema.LATEST


def test_a_newer_schema_stops_an_older_sheetsync(pg_url, monkeypatch):
    monkeypatch.setattr(pg_schema, "LATEST", 0)
    monkeypatch.setattr(pg_schema, "MIGRATIONS", ())
    backend = PostgresBackend(pg_url)
    with pytest.raises(pg_schema.SchemaTooNew, match="upgrade sheetsync"):
        backend.migrate()
    backend.close()


def test_two_claimers_at_once_never_get_the_same_item(backend):
    ws = name()
    queue = backend.queue(ws)
    for n in range(40):
        queue.submit(lead(n), T0)
    got: list[list[str]] = []
    done = threading.Barrier(4)

    def claim() -> None:
        other = PostgresBackend(backend.url)  # another process: its own sessions, kept open while it works
        try:
            got.append([c.key for c in other.queue(ws).claim(15, 60, T0)])
            done.wait(timeout=30)
        finally:
            other.close()

    threads = [threading.Thread(target=claim) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    keys = [k for batch in got for k in batch]
    assert len(keys) == len(set(keys)) == 40


def test_a_lease_whose_database_session_died_is_claimed_again_at_once(backend):
    ws = name()
    backend.queue(ws).submit(lead(1), T0)
    other = PostgresBackend(backend.url)
    assert len(other.queue(ws).claim(10, 3600, T0)) == 1
    assert backend.queue(ws).claim(10, 3600, T0) == []
    other.close()  # the claiming process is gone: its session ends (the server notices within moments)
    deadline = time.monotonic() + 10
    while not (claimed := backend.queue(ws).claim(10, 3600, T0)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(claimed) == 1


def test_a_killed_holder_loses_the_lock_and_another_takes_it(pg_url):
    ws = name()
    code = ("import sys, time; from sheetsync.backends.postgres import AdvisoryLock; "
            f"lock = AdvisoryLock({pg_url!r}, {ws!r}); assert lock.acquire(); print('held', flush=True); "
            "time.sleep(60)")
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        standby = AdvisoryLock(pg_url, ws, poll=0.05)
        assert not standby.acquire()
        first_fence = _fence(pg_url, ws)
        holder.kill()
        holder.wait()
        assert standby.acquire(timeout=10) and standby.held()
        assert standby.fence == first_fence + 1
        standby.release()
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()


def _fence(url: str, ws: str) -> int:
    with connect(url) as conn:
        return int(conn.execute("SELECT value FROM sheetsync_state WHERE workspace = %s AND name = 'lock_fence'",
                                (ws,)).fetchone()[0])


def test_a_lock_whose_connection_was_cut_is_no_longer_held(pg_url):
    lock = AdvisoryLock(pg_url, name())
    assert lock.acquire() and lock.held()
    pid = lock.session.backend_pid
    with connect(pg_url) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    assert not lock.held()
    assert lock.acquire() and lock.held()  # reconnects and takes it again: nobody else had it
    lock.release()


def test_the_shared_pacer_is_one_bucket_for_every_process_of_an_account(backend):
    account = f"svc-{secrets.token_hex(3)}@example.iam.gserviceaccount.com"
    slept: list[float] = []
    pacers = [SharedPacer(PostgresBackend(backend.url).db, account, per_minute=60, burst=3, sleep=slept.append)
              for _ in range(2)]
    for n in range(6):
        pacers[n % 2].wait()
    assert len(slept) == 3  # 3 from the shared burst, then each of the next 3 waits about a second more
    assert slept[0] > 0.8 and slept[2] > 2.5
    other = SharedPacer(backend.db, "another@example.iam.gserviceaccount.com", per_minute=60, burst=3,
                        sleep=slept.append)
    assert other.wait() == 0
    for pacer in pacers:
        pacer._db.close()
