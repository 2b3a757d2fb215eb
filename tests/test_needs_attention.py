"""Bounded intake retries: an item the sheet keeps refusing is set aside as needing attention, never retried forever."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from conftest import NOW

from sheetsync.cli import main
from sheetsync.intake.flush import flush_once
from sheetsync.intake.queue import IntakeQueue, set_aside
from sheetsync.ports import Incoming
from sheetsync.stores.base import StoreError
from sheetsync.sync import IntakeResult, Syncer
from webhook import EXTENSION, create_app

REFUSAL = "Opportunity OPP-GONE01 is not in the sheet yet; the update waits until it is."


def later(seconds: float) -> datetime:
    return NOW + timedelta(seconds=seconds)


def lead(customer: str, kind: str = "create", **kw) -> Incoming:
    fields = {"customer": customer, "contact": "Mia", "phone": "13811112222"}
    return Incoming("generic", kind, fields, json.dumps(fields).encode(), **kw)


class Refusing:
    """Lands everything except the keys it refuses (as the planner refuses an update for a deleted row)."""

    def __init__(self, refuse=(), error: Exception | None = None) -> None:
        self.refuse = set(refuse)
        self.error = error

    def flush(self, submissions, now):
        if self.error:
            raise self.error
        return IntakeResult(landed=[s.key for s in submissions if s.key not in self.refuse], already=[],
                            rejected={k: REFUSAL for k in self.refuse if k in {s.key for s in submissions}})


def run_until_quiet(queue, syncer, start: datetime, hours: float = 100) -> tuple[datetime, int]:
    """Flush as a worker would over `hours` of virtual time: every minute while an item is due soon, else
    straight to when the next one is due; return the clock and how many flushes claimed something."""
    now, tries = start, 0
    end = start + timedelta(hours=hours)
    while now < end:
        if flush_once(queue, syncer, now).claimed:
            tries += 1
        waiting = [i["next_attempt_at"] for i in queue.items("pending")]
        due = datetime.fromtimestamp(min(waiting), timezone.utc) if waiting else end
        now = max(now + timedelta(minutes=1), min(due, end))
    return now, tries


@pytest.fixture
def queue(tmp_path):
    q = IntakeQueue(tmp_path / "state", max_attempts=4, max_age_hours=24)
    yield q
    q.close()


def test_a_refused_item_is_set_aside_after_max_attempts_with_its_reason(queue):
    key = queue.submit(lead("Acme", kind="update", opportunity_id="OPP-GONE01"), NOW).key
    _, tries = run_until_quiet(queue, Refusing([key]), later(1))
    assert tries == 4  # not 40 tries over 80 hours
    item = queue.get(key)
    assert item["status"] == "attention" and item["last_error"] == REFUSAL
    stats = queue.stats(later(100 * 3600))
    assert stats["depth"] == 0 and stats["needs_attention_count"] == 1
    assert stats["needs_attention"][0]["key"] == key and stats["needs_attention"][0]["reason"] == REFUSAL


def test_a_refused_item_is_set_aside_after_max_age_even_with_tries_left(tmp_path):
    q = IntakeQueue(tmp_path / "s", max_attempts=1000, max_age_hours=2)
    key = q.submit(lead("Acme", kind="update", opportunity_id="OPP-GONE01"), NOW).key
    run_until_quiet(q, Refusing([key]), later(1), hours=3)
    assert q.get(key)["status"] == "attention" and q.get(key)["attempts"] < 20
    q.close()


def test_a_store_outage_never_sets_items_aside(queue):
    key = queue.submit(lead("Acme"), NOW).key
    run_until_quiet(queue, Refusing(error=StoreError("Google answered 503.")), later(1), hours=48)
    assert queue.get(key)["status"] == "pending"
    assert flush_once(queue, Refusing(), later(49 * 3600)).landed == [key]


def test_a_poison_item_that_crashes_the_flush_is_bounded_too(queue):
    key = queue.submit(lead("Acme"), NOW).key
    run_until_quiet(queue, Refusing(error=ValueError("cannot parse")), later(1), hours=5)
    assert queue.get(key)["status"] == "attention" and "ValueError" in queue.get(key)["last_error"]


def test_an_item_set_aside_never_blocks_later_items_for_the_same_deal(queue):
    first = queue.submit(lead("Acme", kind="update", opportunity_id="OPP-AAAAAA"), NOW).key
    second = queue.submit(lead("Acme Ltd", kind="update", opportunity_id="OPP-AAAAAA"), later(1)).key
    syncer = Refusing([first])
    landed: list[str] = []
    now = later(2)
    for _ in range(60):
        landed += flush_once(queue, syncer, now).landed
        now += timedelta(minutes=10)
    assert landed == [second]
    assert queue.get(first)["status"] == "attention"


def test_retry_sends_an_item_back_with_fresh_tries_and_drop_gives_up(queue):
    a = queue.submit(lead("A", kind="update", opportunity_id="OPP-GONE01"), NOW).key
    b = queue.submit(lead("B", kind="update", opportunity_id="OPP-GONE02"), NOW).key
    run_until_quiet(queue, Refusing([a, b]), later(1), hours=30)
    assert [i["key"] for i in queue.needs_attention()] == [a, b]
    assert queue.retry(a, later(31 * 3600)) and queue.drop(b, later(31 * 3600))
    assert flush_once(queue, Refusing(), later(31 * 3600 + 1)).landed == [a]
    assert queue.get(b)["status"] == "done" and queue.get(b)["outcome"] == "dropped"
    assert queue.stats(later(32 * 3600))["needs_attention_count"] == 0
    assert not queue.retry(b, later(32 * 3600)) and not queue.drop("IN-NOSUCH0000", later(32 * 3600))


def test_api_status_lists_items_needing_attention(config):
    app = create_app(config.with_values(intake_max_attempts=1, api_token="0123456789abcdef-token"))
    q = app.extensions[EXTENSION].queue
    key = q.submit(lead("Acme", kind="update", opportunity_id="OPP-GONE01"), NOW).key
    flush_once(q, Refusing([key]), later(1))
    auth = {"Authorization": "Bearer 0123456789abcdef-token"}
    body = app.test_client().get("/api/status", headers=auth).get_json()
    assert body["queue"]["needs_attention_count"] == 1
    assert body["queue"]["needs_attention"][0] == {
        "key": key, "kind": "update", "source": "generic", "opportunity_id": "OPP-GONE01", "reason": REFUSAL,
        "attempts": 1, "customer": "Acme", "since": later(1).isoformat()}
    q.close()


def test_the_manager_sees_items_needing_attention_on_reminders(excel, config, state):
    q = IntakeQueue.for_config(config.with_values(intake_max_attempts=1))
    key = q.submit(lead("Acme", kind="update", opportunity_id="OPP-GONE01"), NOW).key
    flush_once(q, Refusing([key]), later(1))
    syncer = Syncer(excel.store, config, state, clock=lambda: NOW, attention=lambda: set_aside(q, config.tz))
    syncer.run_cycle(later(2))
    rows = [r for r in excel.values("Reminders") if r and r[2] == "OPP-GONE01"]
    assert len(rows) == 1
    team = excel.values("Team")
    manager_col = team[0].index("Manager")
    assert rows[0][1] in {r[manager_col] for r in team[1:] if r[manager_col]}
    assert key in rows[0][5] and REFUSAL in rows[0][5] and f"sheetsync queue retry {key}" in rows[0][5]
    q.close()


def test_queue_list_retry_and_drop_from_the_command_line(runner, tmp_path):
    assert runner.invoke(main, ["init"]).exit_code == 0
    q = IntakeQueue(tmp_path / ".sheetsync", max_attempts=1)
    a = q.submit(lead("A", kind="update", opportunity_id="OPP-GONE01"), NOW).key
    b = q.submit(lead("B", kind="update", opportunity_id="OPP-GONE02"), NOW).key
    w = q.submit(lead("C"), NOW).key
    flush_once(q, Refusing([a, b]), later(1), batch_size=2)
    q.close()
    listed = runner.invoke(main, ["queue", "list"])
    assert listed.exit_code == 0, listed.output
    assert "Needs attention (2):" in listed.output and "Waiting to land (1):" in listed.output
    assert a in listed.output and REFUSAL in listed.output and w in listed.output
    assert runner.invoke(main, ["queue", "retry", a]).exit_code == 0
    assert runner.invoke(main, ["queue", "drop", b]).exit_code == 0
    again = runner.invoke(main, ["queue", "drop", b])
    assert again.exit_code != 0 and "already dropped" in again.output
    unknown = runner.invoke(main, ["queue", "retry", "IN-NOPE"])
    assert unknown.exit_code != 0 and "No queued submission has the ID 'IN-NOPE'" in unknown.output
    q = IntakeQueue(tmp_path / ".sheetsync")
    assert q.get(a)["status"] == "pending" and q.get(b)["outcome"] == "dropped"
    q.close()
