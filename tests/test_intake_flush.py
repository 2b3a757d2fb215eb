"""Flushing the queue to the sheet: landed once, kept queued while the store fails, never raised to the web."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta

import openpyxl
import pytest
from conftest import NOW

from sheetsync.core.schema import OPPORTUNITIES
from sheetsync.intake.flush import flush_once
from sheetsync.intake.queue import Incoming, IntakeQueue, backoff
from sheetsync.stores.base import StoreError
from sheetsync.sync import IntakeResult, Syncer
from webhook import EXTENSION, create_app
from webhook.signing import sheetsync_header


def later(seconds: float) -> datetime:
    return NOW + timedelta(seconds=seconds)


@pytest.fixture
def queue(config):
    q = IntakeQueue.for_config(config)
    yield q
    q.close()


def lead(customer: str, **kw) -> Incoming:
    fields = {"customer": customer, "contact": "Mia", "phone": "13811112222", "region": "East"}
    return Incoming("generic", kw.pop("kind", "create"), fields, json.dumps(fields).encode(), **kw)


class FakeSyncer:
    """Lands everything it is given, or fails the way it is told to."""

    def __init__(self, error: Exception | None = None, rejected: dict[str, str] | None = None) -> None:
        self.error = error
        self.rejected = rejected or {}
        self.calls: list[list[str]] = []

    def flush(self, submissions, now):
        self.calls.append([s.key for s in submissions])
        if self.error:
            raise self.error
        keys = [s.key for s in submissions if s.key not in self.rejected]
        return IntakeResult(landed=keys, already=[], rejected={k: r for k, r in self.rejected.items()})


def test_a_flush_hands_over_submissions_and_completes_what_landed(queue):
    keys = [queue.submit(lead(c), NOW).key for c in ("A", "B")]
    syncer = FakeSyncer()
    result = flush_once(queue, syncer, later(1))
    assert syncer.calls == [keys] and result.landed == keys
    assert [i["status"] for i in queue.items()] == ["done", "done"]
    assert queue.stats(later(2))["last_flush_result"] == "2 claimed, 2 landed, 0 already in the sheet, 0 waiting, " \
                                                         "0 to retry"


def test_a_failing_store_leaves_items_queued_with_the_error_and_never_raises(queue):
    key = queue.submit(lead("A"), NOW).key
    result = flush_once(queue, FakeSyncer(StoreError("pipeline.xlsx is open in Excel: close it.")), later(1))
    assert result.failed == [key] and result.error == "pipeline.xlsx is open in Excel: close it."
    item = queue.get(key)
    assert item["status"] == "pending" and item["last_error"] == "pipeline.xlsx is open in Excel: close it."
    assert queue.stats(later(2))["last_error"] == "pipeline.xlsx is open in Excel: close it."
    assert flush_once(queue, FakeSyncer(), later(2)).claimed == 0  # backing off
    assert flush_once(queue, FakeSyncer(), later(1 + backoff(1))).landed == [key]


def test_an_unexpected_exception_is_recorded_with_its_type(queue):
    queue.submit(lead("A"), NOW)
    result = flush_once(queue, FakeSyncer(TimeoutError("read timed out")), later(1))
    assert result.error == "TimeoutError: read timed out"


def test_rejected_and_unreported_items_wait_for_a_retry(queue):
    a, b, c = (queue.submit(lead(x), NOW).key for x in "ABC")

    class Partial(FakeSyncer):
        def flush(self, submissions, now):
            return IntakeResult(landed=[a], already=[], rejected={b: "Opportunity OPP-X is not in the sheet yet."})

    result = flush_once(queue, Partial(), later(1))
    assert (result.landed, list(result.rejected), result.failed) == ([a], [b], [c])
    assert queue.get(b)["last_error"] == "Opportunity OPP-X is not in the sheet yet."
    assert "did not report" in queue.get(c)["last_error"]
    assert queue.stats(later(1))["depth"] == 2


# -- against the real Syncer and every store ---------------------------------------------------------


def opp_ids(kit) -> list[str]:
    return [r[0] for r in kit.values("Opportunities")[1:] if r and r[0]]


def test_submissions_land_once_in_one_write(syncer, kit, queue, monkeypatch):
    answers = [queue.submit(lead(f"Customer {i}"), NOW).body["id"] for i in range(30)]
    writes = []
    real = kit.store.write
    monkeypatch.setattr(kit.store, "write", lambda snap, batch: (writes.append(1), real(snap, batch))[1])
    result = flush_once(queue, syncer, later(1))
    assert len(result.landed) == 30 and len(writes) == 1
    assert sorted(i for i in opp_ids(kit) if i in answers) == sorted(answers)


def test_a_store_that_fails_then_recovers_lands_everything_once(syncer, kit, queue, monkeypatch):
    answers = [queue.submit(lead(f"C{i}"), NOW).body["id"] for i in range(3)]
    real = kit.store.write

    def down(snapshot, batch):
        raise StoreError("The Google Sheets API answered 429 RESOURCE_EXHAUSTED; retry later.")

    monkeypatch.setattr(kit.store, "write", down)
    now = later(1)
    for _ in range(3):
        assert flush_once(queue, syncer, now).error
        now += timedelta(hours=2)
    assert queue.stats(now)["depth"] == 3
    monkeypatch.setattr(kit.store, "write", real)
    assert len(flush_once(queue, syncer, now).landed) == 3
    assert sorted(i for i in opp_ids(kit) if i in answers) == sorted(answers)


def test_a_write_that_succeeded_but_timed_out_is_not_written_twice(syncer, kit, queue, monkeypatch):
    answer = queue.submit(lead("Ambiguous Ltd"), NOW).body["id"]
    real = kit.store.write

    def lands_then_times_out(snapshot, batch):
        real(snapshot, batch)
        raise TimeoutError("the response never came")

    monkeypatch.setattr(kit.store, "write", lands_then_times_out)
    assert flush_once(queue, syncer, later(1)).error
    monkeypatch.setattr(kit.store, "write", real)
    result = flush_once(queue, syncer, later(1 + backoff(1)))
    assert result.already and not result.landed
    assert opp_ids(kit).count(answer) == 1


def test_a_slow_flush_overtaken_after_its_lease_does_not_double(syncer, kit, queue):
    answer = queue.submit(lead("Slow Co"), NOW).body["id"]
    stalled = queue.claim(10, 120, NOW)  # flush A claims, then stalls past its lease
    overtaking = flush_once(queue, syncer, later(121))  # flush B takes the expired lease and lands it
    assert overtaking.landed == [stalled[0].key]
    late = syncer.flush(stalled, later(200))  # A finally writes
    assert late.already == [stalled[0].key] and opp_ids(kit).count(answer) == 1


def test_a_data_update_reaches_the_row_its_create_made(syncer, kit, queue):
    created = queue.submit(Incoming("jiandaoyun", "create", {"customer": "Acme", "contact": "Li",
                                                             "phone": "13800000000"}, b"1", external_id="r1"), NOW)
    queue.submit(Incoming("jiandaoyun", "update", {"customer": "Acme", "contact": "Li",
                                                   "phone": "13800000000", "region": "华东"}, b"2",
                          external_id="r1"), later(1))
    result = flush_once(queue, syncer, later(2))
    assert len(result.landed) == 2
    rows = [r for r in kit.values("Opportunities")[1:] if r and r[0] == created.body["id"]]
    assert len(rows) == 1 and "华东" in rows[0]


def test_posted_formula_text_lands_as_a_text_cell_in_the_workbook(excel, config, state, tmp_path):
    app = create_app(replace(config, secrets={"generic": ("s",)}))
    app.extensions[EXTENSION].clock = lambda: NOW
    typed = {"customer": '=HYPERLINK("http://evil.example","Click me")', "contact": "+1+1", "need": "@SUM(A1:A9)",
             "region": "-East"}
    payload = {"Customer": typed["customer"], "Contact": typed["contact"], "Need": typed["need"],
               "Region": typed["region"], "Phone": "13800000000"}
    body = json.dumps(payload).encode()
    answer = app.test_client().post("/hooks/generic", data=body, headers={
        "Content-Type": "application/json", "X-Sheetsync-Signature": sheetsync_header("s", body, int(NOW.timestamp()))})
    assert answer.status_code == 202
    queue = app.extensions[EXTENSION].queue
    assert flush_once(queue, Syncer(excel.store, config, state, clock=lambda: NOW), later(1)).landed
    queue.close()
    sheet = openpyxl.load_workbook(tmp_path / "pipeline.xlsx")["Opportunities"]
    headers = [c.value for c in sheet[1]]
    [row] = [r for r in sheet.iter_rows(min_row=2) if r[headers.index("ID")].value == answer.json["id"]]
    for key, text in typed.items():
        cell = row[headers.index(OPPORTUNITIES.column(key).en)]
        assert (cell.value, cell.data_type) == (text, "s"), key


def test_the_webhook_keeps_answering_202_while_the_store_is_down(excel, config, state, monkeypatch):
    app = create_app(replace(config, secrets={"generic": ("s",)}))
    state_ = app.extensions[EXTENSION]
    syncer = Syncer(excel.store, config, state, clock=lambda: NOW)
    monkeypatch.setattr(excel.store, "write", lambda *a: (_ for _ in ()).throw(StoreError("Workbook locked.")))
    ids = []
    for i, minute in enumerate((0, 1, 2)):
        moment = later(60 * minute)
        state_.clock = lambda moment=moment: moment
        body = json.dumps({"Customer": f"Down {i}", "Contact": "Li", "Phone": "13800000000"}).encode()
        r = app.test_client().post("/hooks/generic", data=body, headers={
            "Content-Type": "application/json",
            "X-Sheetsync-Signature": sheetsync_header("s", body, int(moment.timestamp()))})
        assert r.status_code == 202
        ids.append(r.json["id"])
        assert flush_once(state_.queue, syncer, moment).error == "Workbook locked."
    monkeypatch.undo()
    assert len(flush_once(state_.queue, syncer, later(7200)).landed) == 3
    assert sorted(i for i in opp_ids(excel) if i in ids) == sorted(ids)
    state_.queue.close()
