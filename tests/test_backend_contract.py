"""One contract for the queue, state and lock backends, run against SQLite files and a real PostgreSQL server."""

from __future__ import annotations

import random
import secrets
import threading
from datetime import datetime, timedelta, timezone

import pytest

from sheetsync.backends import Backend, PostgresBackend, SqliteBackend
from sheetsync.ports import IdempotencyConflict, Incoming, PipelineLock, Queue, StateStore

T0 = datetime(2026, 11, 28, 9, 0, tzinfo=timezone.utc)


def later(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request, tmp_path) -> Backend:
    if request.param == "sqlite":
        made: Backend = SqliteBackend(tmp_path / "state")
    else:
        made = PostgresBackend(request.getfixturevalue("pg_url"))
        made.migrate()
    yield made
    made.close()


@pytest.fixture
def workspace() -> str:
    """A fresh workspace name, so tests sharing one PostgreSQL database never see each other's rows."""
    return "ws-" + secrets.token_hex(4)


@pytest.fixture
def queue(backend, workspace) -> Queue:
    q = backend.queue(workspace)
    q._rng = random.Random(7)  # type: ignore[attr-defined]
    return q


def lead(customer: str = "Acme", **kw) -> Incoming:
    kw.setdefault("raw", f'{{"Customer": "{customer}"}}'.encode())
    return Incoming(kw.pop("source", "generic"), kw.pop("kind", "create"), {"customer": customer}, **kw)


def test_a_submission_is_stored_with_everything_needed(queue):
    receipt = queue.submit(lead(content_type="application/json", idempotency_key="k1"), T0)
    assert receipt.status_code == 202 and not receipt.replayed and receipt.body["id"].startswith("OPP-")
    item = queue.get(receipt.key)
    assert item["raw"] == b'{"Customer": "Acme"}' and item["fields"] == {"customer": "Acme"}
    assert (item["source"], item["kind"], item["idempotency_key"], item["status"]) == ("generic", "create", "k1",
                                                                                        "pending")
    assert item["opportunity_id"] == receipt.body["id"] and item["answer"] == receipt.body
    assert item["received"] == T0.timestamp()


def test_a_repeat_gets_the_first_answer_and_adds_nothing(queue):
    first = queue.submit(lead(idempotency_key="k1"), T0)
    again = queue.submit(lead(idempotency_key="k1"), later(5))
    assert again.replayed and again.body == first.body and len(queue.items()) == 1
    by_delivery = queue.submit(lead("B", delivery_id="d1"), T0)
    assert queue.submit(lead("B", delivery_id="d1"), T0).body == by_delivery.body and len(queue.items()) == 2


def test_a_reused_key_with_another_body_is_a_conflict(queue):
    queue.submit(lead(idempotency_key="k1"), T0)
    with pytest.raises(IdempotencyConflict, match="k1"):
        queue.submit(lead("Other", idempotency_key="k1"), T0)


def test_keys_are_per_source_and_per_workspace(backend, queue, workspace):
    queue.submit(lead(idempotency_key="k1"), T0)
    queue.submit(lead(idempotency_key="k1", source="tally"), T0)
    other = backend.queue(workspace + "-other")
    assert not other.submit(lead(idempotency_key="k1"), T0).replayed
    assert len(queue.items()) == 2 and len(other.items()) == 1


def test_an_external_record_is_created_once_then_updated(queue):
    created = queue.submit(lead(external_id="x1", delivery_id="a"), T0)
    updated = queue.submit(lead(kind="update", external_id="x1", delivery_id="b"), T0)
    assert updated.body["id"] == created.body["id"]
    assert [i["kind"] for i in queue.items()] == ["create", "update"]


def test_claim_leases_in_arrival_order_and_hides_leased_items(queue):
    keys = [queue.submit(lead(f"C{n}"), T0).key for n in range(3)]
    first = queue.claim(2, 60, later(1))
    assert [c.key for c in first] == keys[:2] and all(c.attempts == 1 for c in first)
    assert [c.key for c in queue.claim(10, 60, later(2))] == keys[2:]
    assert queue.claim(10, 60, later(3)) == []
    assert [c.key for c in queue.claim(10, 60, later(61.5))] == keys[:2]  # leases ran out


def test_complete_and_fail(queue):
    a, b = (queue.submit(lead(n), T0).key for n in "AB")
    queue.claim(10, 60, T0)
    queue.complete([a], later(1))
    queue.fail([b], "quota", later(1))
    assert queue.get(a)["status"] == "done" and queue.get(b)["last_error"] == "quota"
    assert queue.claim(10, 60, later(2)) == []  # backing off
    assert [c.key for c in queue.claim(10, 60, later(60))] == [b]
    stats = queue.stats(later(60))
    assert stats["depth"] == 1 and stats["leased"] == 1 and stats["retrying"] == 1


def test_a_waiting_update_holds_back_later_items_of_its_opportunity(queue):
    created = queue.submit(lead(external_id="x1", delivery_id="a"), T0)
    queue.submit(lead(kind="update", external_id="x1", delivery_id="b"), T0)
    other = queue.submit(lead("Other"), T0)
    claimed = queue.claim(1, 60, T0)
    queue.fail([claimed[0].key], "not yet", T0)
    assert [c.key for c in queue.claim(10, 60, later(1))] == [other.key]
    assert created.key == claimed[0].key


def test_stats_and_prune(queue):
    key = queue.submit(lead(), T0).key
    queue.record_flush(later(1), "1 landed", "boom")
    stats = queue.stats(later(10))
    assert stats["depth"] == 1 and stats["oldest_pending_age_seconds"] == 10
    assert stats["last_flush_result"] == "1 landed" and stats["last_error"] == "boom"
    queue.claim(1, 60, T0)
    queue.complete([key], later(1))
    assert queue.prune(later(86400 * 31)) == 1 and queue.items() == []


def test_concurrent_submissions_all_land_once(backend, workspace):
    errors: list[BaseException] = []

    def post(n: int) -> None:
        q = backend.queue(workspace)
        try:
            for i in range(10):
                q.submit(lead(f"T{n}-{i % 5}", idempotency_key=f"k{i % 5}-{n}"), T0)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            if isinstance(backend, SqliteBackend):
                q.close()

    threads = [threading.Thread(target=post, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    items = backend.queue(workspace).items()
    assert len(items) == 30 and len({i["opportunity_id"] for i in items}) == 30


def test_state_saves_and_reads_back(backend, workspace):
    state: StateStore = backend.state(workspace)
    assert state.cursors() == {} and state.seen() == {} and state.get("last_sync") is None
    state.save(cursors={"rule 1": 3}, seen={"OPP-1": {"stage": "Lead"}}, last_sync="2026-11-28T09:00:00+00:00")
    state.save(seen={"OPP-2": {"stage": "Won"}})
    again = backend.state(workspace)
    assert again.cursors() == {"rule 1": 3} and again.seen() == {"OPP-2": {"stage": "Won"}}
    assert again.get("last_sync") == "2026-11-28T09:00:00+00:00"
    assert backend.state(workspace + "-other").seen() == {}


def test_one_lock_holder_at_a_time(backend, workspace):
    first: PipelineLock = backend.lock(workspace)
    second = backend.lock(workspace)
    assert first.acquire() and first.held()
    assert not second.acquire() and not second.held()
    other = backend.lock(workspace + "-other")
    assert other.acquire()
    other.release()
    first.release()
    assert not first.held() and second.acquire(timeout=2) and second.held()
    second.release()


def test_an_item_refused_too_often_needs_attention_then_can_be_retried_or_dropped(backend, workspace):
    queue = backend.queue(workspace)
    queue.max_attempts = 2  # type: ignore[attr-defined]
    a, b = (queue.submit(lead(n), T0).key for n in "AB")
    for attempt in range(2):
        claimed = queue.claim(10, 60, later(attempt * 4000))
        aside = queue.fail([c.key for c in claimed], "Customer is required", later(attempt * 4000))
    assert sorted(aside) == sorted([a, b])
    assert [i["key"] for i in queue.needs_attention()] == [a, b]
    assert queue.stats(later(9000))["needs_attention_count"] == 2
    assert queue.retry(a, later(9000)) and queue.drop(b, later(9000))
    assert [c.key for c in queue.claim(10, 60, later(9000))] == [a]
    assert queue.get(b)["outcome"] == "dropped" and not queue.retry(b, later(9000))


def test_a_transient_failure_never_sets_an_item_aside(backend, workspace):
    queue = backend.queue(workspace)
    queue.max_attempts = 1  # type: ignore[attr-defined]
    key = queue.submit(lead(), T0).key
    queue.claim(1, 60, T0)
    assert queue.fail([key], "Google is down", T0, transient=True) == []
    assert queue.get(key)["status"] == "pending"
