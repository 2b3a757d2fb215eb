"""The intake queue: committed before the answer, de-duplicated, leased, retried with backoff, never lost."""

from __future__ import annotations

import os
import random
import re
import socket
import sqlite3
import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone

import pytest

from sheetsync.intake import defaults
from sheetsync.intake.queue import IdempotencyConflict, Incoming, IntakeQueue, backoff

T0 = datetime(2026, 11, 28, 9, 0, tzinfo=timezone.utc)


def later(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.fixture
def queue(tmp_path):
    q = IntakeQueue(tmp_path / "state", rng=random.Random(7))
    yield q
    q.close()


def lead(customer: str = "Acme", **kw) -> Incoming:
    kw.setdefault("raw", f'{{"Customer": "{customer}"}}'.encode())
    return Incoming(kw.pop("source", "generic"), kw.pop("kind", "create"), {"customer": customer}, **kw)


def test_the_file_is_wal_with_full_sync(queue):
    db = sqlite3.connect(queue.path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert queue._store.connection().execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert queue._store.connection().execute("PRAGMA busy_timeout").fetchone()[0] == defaults.BUSY_TIMEOUT_MS
    db.close()


def test_a_submission_is_on_disk_with_everything_needed_before_the_answer(queue, tmp_path):
    receipt = queue.submit(lead(content_type="application/json", idempotency_key="k1"), T0)
    assert receipt.status_code == 202 and not receipt.replayed
    assert re.fullmatch(r"OPP-[0-9A-HJKMNP-TV-Z]{6}", receipt.body["id"])
    other = IntakeQueue(tmp_path / "state" / "intake.db")  # a second process would see it
    item = other.get(receipt.key)
    other.close()
    assert item["raw"] == b'{"Customer": "Acme"}'
    assert item["fields"] == {"customer": "Acme"}
    assert (item["source"], item["kind"], item["idempotency_key"], item["status"]) == ("generic", "create", "k1",
                                                                                        "pending")
    assert item["opportunity_id"] == receipt.body["id"] and item["answer"] == receipt.body
    assert item["received"] == T0.timestamp()


def test_same_idempotency_key_and_body_returns_the_first_answer_and_adds_nothing(queue):
    first = queue.submit(lead(idempotency_key="abc"), T0)
    again = queue.submit(lead(idempotency_key="abc"), later(60))
    assert again.replayed and again.body == first.body and again.key == first.key
    assert len(queue.items()) == 1


def test_same_idempotency_key_with_a_different_body_is_a_conflict(queue):
    queue.submit(lead("Acme", idempotency_key="abc"), T0)
    with pytest.raises(IdempotencyConflict, match="'abc' was already used for a different request"):
        queue.submit(lead("Other", idempotency_key="abc"), T0)
    assert len(queue.items()) == 1


def test_idempotency_keys_are_per_source(queue):
    queue.submit(lead(idempotency_key="abc"), T0)
    queue.submit(lead(idempotency_key="abc", source="tally"), T0)
    assert len(queue.items()) == 2


def test_same_delivery_id_returns_the_first_answer(queue):
    first = queue.submit(lead(delivery_id="evt-1"), T0)
    again = queue.submit(lead("changed", delivery_id="evt-1"), T0)
    assert again.replayed and again.body == first.body
    assert len(queue.items()) == 1


def test_an_external_record_is_created_once_then_updated(queue):
    created = queue.submit(lead(source="jiandaoyun", external_id="rec1"), T0)
    updated = queue.submit(lead("Acme Ltd", source="jiandaoyun", kind="update", external_id="rec1"), T0)
    assert updated.body["id"] == created.body["id"]
    assert [i["kind"] for i in queue.items()] == ["create", "update"]


def test_an_update_for_an_unknown_record_creates_the_opportunity_and_says_so(queue):
    receipt = queue.submit(lead(source="jiandaoyun", kind="update", external_id="rec9"), T0)
    assert queue.items()[0]["kind"] == "create"
    assert "creates a new opportunity" in receipt.body["warnings"][0]
    again = queue.submit(lead(source="jiandaoyun", kind="create", external_id="rec9"), T0)
    assert again.body["id"] == receipt.body["id"] and queue.items()[1]["kind"] == "update"


def test_a_follow_up_answers_with_its_ref_and_target(queue):
    receipt = queue.submit(Incoming("followup", "followup", {"summary": "Called"}, b"{}",
                                    opportunity_id="OPP-7K3F9Q"), T0)
    assert receipt.body["id"] == receipt.key and receipt.key.startswith("IN-")
    assert receipt.body["opportunity_id"] == "OPP-7K3F9Q"


def test_opportunity_ids_and_keys_are_never_issued_twice(tmp_path):
    q = IntakeQueue(tmp_path, rng=random.Random(1))
    first = q.submit(lead(), T0)
    q.close()
    q = IntakeQueue(tmp_path, rng=random.Random(1))  # the same random stream again
    second = q.submit(lead(), T0)
    q.close()
    assert first.body["id"] != second.body["id"] and first.key != second.key


def test_claim_leases_in_arrival_order_and_hides_leased_items(queue):
    keys = [queue.submit(lead(f"c{i}"), later(i)).key for i in range(5)]
    got = queue.claim(3, 60, later(10))
    assert [c.key for c in got] == keys[:3]
    assert got[0].fields == {"customer": "c0"} and got[0].received == T0 and got[0].attempts == 1
    assert [c.key for c in queue.claim(10, 60, later(11))] == keys[3:]
    assert queue.claim(10, 60, later(12)) == []


def test_an_expired_lease_is_claimed_again(queue):
    key = queue.submit(lead(), T0).key
    queue.claim(10, 60, T0)  # this worker is killed mid-flush
    assert queue.claim(10, 60, later(59)) == []
    again = queue.claim(10, 60, later(61))
    assert [c.key for c in again] == [key] and again[0].attempts == 2


@pytest.mark.skipif(os.name != "posix", reason="process liveness is only checked on POSIX")
def test_a_lease_held_by_a_process_that_died_is_taken_over_at_once(queue):
    key = queue.submit(lead(), T0).key
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    db = sqlite3.connect(queue.path)
    queue.claim(10, 600, T0)
    with db:
        db.execute("UPDATE items SET lease_owner = ? WHERE key = ?", (f"{socket.gethostname()}:{os.getppid()}", key))
    assert queue.claim(10, 600, later(1)) == []  # the holder is alive: wait for its lease
    with db:
        db.execute("UPDATE items SET lease_owner = ? WHERE key = ?",
                   (f"{socket.gethostname()}:{gone.stdout.strip()}", key))
    db.close()
    assert [c.key for c in queue.claim(10, 600, later(2))] == [key]


def test_complete_removes_items_from_the_queue_but_keeps_their_answer(queue):
    key = queue.submit(lead(idempotency_key="k"), T0).key
    queue.claim(10, 60, T0)
    queue.complete([key], later(1))
    assert queue.claim(10, 60, later(1000)) == []
    assert queue.get(key)["status"] == "done" and queue.get(key)["outcome"] == "landed"
    assert queue.submit(lead(idempotency_key="k"), later(2)).replayed


def test_fail_backs_off_exponentially_and_records_the_error(queue):
    key = queue.submit(lead(), T0).key
    waits = []
    now = T0
    for _ in range(4):
        claimed = queue.claim(10, 60, now)
        assert [c.key for c in claimed] == [key]
        queue.fail([key], "quota exceeded", now)
        item = queue.get(key)
        waits.append(item["next_attempt_at"] - now.timestamp())
        assert item["last_error"] == "quota exceeded" and item["status"] == "pending"
        assert queue.claim(10, 60, now + timedelta(seconds=waits[-1] - 1)) == []
        now += timedelta(seconds=waits[-1])
    assert waits == [5, 10, 20, 40]
    assert backoff(100) == defaults.BACKOFF_MAX


def test_a_waiting_item_holds_back_later_items_for_the_same_opportunity(queue):
    created = queue.submit(lead(source="jiandaoyun", external_id="r"), T0)
    queue.submit(lead(source="jiandaoyun", kind="update", external_id="r"), later(1))
    other = queue.submit(lead("Other"), later(2))
    queue.claim(1, 60, later(3))
    queue.fail([created.key], "store down", later(3))
    assert [c.key for c in queue.claim(10, 60, later(4))] == [other.key]
    assert [c.kind for c in queue.claim(10, 60, later(3 + backoff(1)))] == ["create", "update"]


def test_stats_show_depth_age_and_the_last_flush(queue):
    assert queue.stats(T0)["depth"] == 0 and queue.stats(T0)["oldest_pending_age_seconds"] is None
    key = queue.submit(lead(), T0).key
    queue.submit(lead("b"), later(5))
    queue.claim(1, 60, later(10))
    queue.fail([key], "Workbook is open in Excel", later(10))
    queue.record_flush(later(10), "1 claimed, 0 landed", "Workbook is open in Excel")
    stats = queue.stats(later(30))
    assert stats["depth"] == 2 and stats["retrying"] == 1 and stats["oldest_pending_age_seconds"] == 30
    assert stats["last_flush_at"] == later(10).isoformat() and stats["last_error"] == "Workbook is open in Excel"


def test_prune_drops_old_landed_items_but_keeps_ids_reserved(queue):
    receipt = queue.submit(lead(), T0)
    queue.claim(1, 60, T0)
    queue.complete([receipt.key], T0)
    assert queue.prune(later(86400 * (defaults.KEEP_DONE_DAYS + 1))) == 1
    db = sqlite3.connect(queue.path)
    assert db.execute("SELECT 1 FROM issued_ids WHERE id = ?", (receipt.body["id"],)).fetchone()
    db.close()
    assert queue.items() == []


def test_naive_datetimes_are_refused(queue):
    with pytest.raises(ValueError, match="no timezone"):
        queue.submit(lead(), datetime(2026, 1, 1))


def test_concurrent_submissions_from_many_threads_all_land_once(queue):
    errors = []

    def post(i: int) -> None:
        try:
            for j in range(20):  # every submission sent twice, as a retrying sender would
                queue.submit(lead(f"c{i}-{j // 2}", idempotency_key=f"{i}-{j // 2}"), T0)
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=post, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len({i["opportunity_id"] for i in queue.items()}) == len(queue.items()) == 80
