"""Group commit: submissions arriving while another commits share the next commit, and each still answers
only once it is on disk; one failing submission fails alone."""

from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager
from datetime import datetime, timezone

import pytest

from sheetsync.intake.db import Database
from sheetsync.intake.queue import IdempotencyConflict, Incoming, IntakeQueue

T0 = datetime(2026, 11, 28, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def db(tmp_path):
    database = Database(tmp_path / "intake.db")
    yield database
    database.close()


def counting_commits(database: Database) -> list[int]:
    """Count the transactions a Database runs from now on (one list entry per commit attempted)."""
    commits: list[int] = []
    real = database.transaction

    @contextmanager
    def counted():
        with real() as conn:
            yield conn
        commits.append(1)

    database.transaction = counted  # type: ignore[method-assign]
    return commits


def on_disk(path, key: str) -> bool:
    """Whether a fresh connection (another process would see the same) finds the item."""
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT 1 FROM meta WHERE name = ?", (key,)).fetchone() is not None


def put(key: str):
    def run(conn: sqlite3.Connection) -> str:
        conn.execute("INSERT INTO meta (name, value) VALUES (?, 'x')", (key,))
        return key
    return run


def test_work_arriving_during_a_commit_shares_the_next_one(db, tmp_path):
    commits = counting_commits(db)
    first_running, let_first_finish = threading.Event(), threading.Event()

    def slow(conn: sqlite3.Connection) -> str:
        put("first")(conn)
        first_running.set()
        assert let_first_finish.wait(10)
        return "first"

    results: dict[str, object] = {}
    leader = threading.Thread(target=lambda: results.setdefault("first", db.grouped(slow)))
    leader.start()
    assert first_running.wait(10)
    others = [threading.Thread(target=lambda k=k: results.setdefault(k, db.grouped(put(k)))) for k in "abcde"]
    for t in others:
        t.start()
    while len(db._waiting) < 5:  # every other thread is now waiting behind the first commit
        threading.Event().wait(0.01)
    let_first_finish.set()
    for t in [leader, *others]:
        t.join(10)
    assert results == {k: k for k in ["first", *"abcde"]}
    assert len(commits) == 2  # the first alone, then the five together
    assert all(on_disk(tmp_path / "intake.db", k) for k in ["first", *"abcde"])


def test_a_failing_piece_fails_alone_and_the_others_are_committed(db, tmp_path):
    hold, holding = threading.Event(), threading.Event()

    def blocker(conn: sqlite3.Connection) -> None:
        holding.set()
        assert hold.wait(10)

    def broken(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO meta (name, value) VALUES ('broken', 'half done')")
        raise ValueError("this submission is refused")

    outcomes: dict[str, object] = {}

    def call(name, run):
        try:
            outcomes[name] = db.grouped(run)
        except Exception as exc:
            outcomes[name] = exc

    first = threading.Thread(target=call, args=("blocker", blocker))
    first.start()
    assert holding.wait(10)
    threads = [threading.Thread(target=call, args=(n, r)) for n, r in
               (("a", put("a")), ("broken", broken), ("b", put("b")))]
    for t in threads:
        t.start()
    while len(db._waiting) < 3:
        threading.Event().wait(0.01)
    hold.set()
    for t in [first, *threads]:
        t.join(10)
    assert outcomes["a"] == "a" and outcomes["b"] == "b"
    assert isinstance(outcomes["broken"], ValueError)
    path = tmp_path / "intake.db"
    assert on_disk(path, "a") and on_disk(path, "b") and not on_disk(path, "broken")


def test_a_commit_that_fails_fails_every_piece_in_it(db):
    def fine(conn: sqlite3.Connection) -> str:
        conn.execute("INSERT INTO meta (name, value) VALUES ('fine', 'x')")
        return "stored?"

    real = db.transaction

    @contextmanager
    def failing_commit():
        with real() as conn:
            yield conn
            raise sqlite3.OperationalError("disk I/O error")

    db.transaction = failing_commit  # type: ignore[method-assign]
    with pytest.raises(sqlite3.OperationalError):
        db.grouped(fine)


def test_concurrent_submissions_each_get_their_own_answer_and_are_all_stored(tmp_path):
    queue = IntakeQueue(tmp_path)
    receipts = []
    lock = threading.Lock()

    def send(i: int) -> None:
        receipt = queue.submit(Incoming("generic", "create", {"customer": f"c{i}"}, f"body {i}".encode(),
                                        delivery_id=f"d{i % 20}"), T0)
        with lock:
            receipts.append((i, receipt))

    threads = [threading.Thread(target=send, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    items = queue.items()
    assert len(receipts) == 40 and len(items) == 20  # the second of each delivery is its replay
    first = {}
    for i, receipt in sorted(receipts, key=lambda r: r[1].replayed):
        first.setdefault(i % 20, receipt.body)
        assert receipt.body == first[i % 20]
    assert sorted(r.body["id"] for _, r in receipts if not r.replayed) == sorted(i["opportunity_id"] for i in items)
    queue.close()


def test_an_idempotency_conflict_in_a_group_is_the_senders_alone(tmp_path):
    queue = IntakeQueue(tmp_path)
    queue.submit(Incoming("generic", "create", {"customer": "a"}, b"one", idempotency_key="k1"), T0)
    with pytest.raises(IdempotencyConflict):
        queue.submit(Incoming("generic", "create", {"customer": "a"}, b"two", idempotency_key="k1"), T0)
    assert len(queue.items()) == 1
    queue.close()


def test_after_a_failed_commit_the_next_write_works(db, tmp_path, monkeypatch):
    db.grouped(put("before"))
    writer = db._writer
    calls = {"n": 0}

    class FailingCommit:
        """The writer connection, with its next COMMIT failing as a full disk would."""

        def __getattr__(self, name):
            return getattr(writer, name)

        def execute(self, sql, *args):
            if sql == "COMMIT" and not calls["n"]:
                calls["n"] += 1
                raise sqlite3.OperationalError("database or disk is full")
            return writer.execute(sql, *args)

    db._writer = FailingCommit()  # type: ignore[assignment]
    with pytest.raises(sqlite3.OperationalError):
        db.grouped(put("lost"))
    assert db.grouped(put("after")) == "after"
    path = tmp_path / "intake.db"
    assert on_disk(path, "before") and on_disk(path, "after") and not on_disk(path, "lost")
