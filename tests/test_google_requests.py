"""What a sync costs on Google: requests and bytes follow what changed, not the size of the sheet."""

from __future__ import annotations

import random
import re
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from conftest import NOW
from fake_sheets import FakeSheets, make_store

from sheetsync.config import Config
from sheetsync.core.schema import OPPORTUNITIES
from sheetsync.ports import TabData, WriteBatch
from sheetsync.state import State
from sheetsync.sync import Syncer

STAGES = ["Lead", "Qualified", "Quote", "Negotiation", "Won", "Lost"]


def pipeline(fake: FakeSheets, layout, rows: int) -> None:
    """The en template plus `rows` typed opportunities, seeded straight into the fake (fast)."""
    make_store(fake).setup(layout)
    rng = random.Random(rows)
    body = []
    for i in range(rows):
        stage = rng.choice(STAGES)
        cells = {"customer": f"{rng.choice(['Acme', 'Harbor', 'Pearl', 'Summit'])} {rng.choice(['Foods', 'Tools'])}"
                             f" {i} {'x' * (i % 5)}", "contact": f"Contact {i}", "phone": f"1{rng.randrange(3, 10)}"
                             f"{rng.randrange(10 ** 8, 10 ** 9)}", "region": rng.choice(["East", "North", "South"]),
                 "stage": stage, "amount": rng.randrange(1, 500) * 1000,
                 "loss_reason": "Price" if stage == "Lost" else None}
        body.append([cells.get(c.key) for c in OPPORTUNITIES.columns])
    header = fake.values("Opportunities")[0]
    fake.seed("Opportunities", [header, *body])


def cycle(store, state, minutes: int) -> None:
    Syncer(store, Config(timezone="UTC"), state, clock=lambda: NOW + timedelta(minutes=minutes)).run_cycle()


def written_bytes(fake: FakeSheets) -> int:
    return sum(c.size for c in fake.calls if c.kind == "batchUpdate")


@pytest.fixture
def synced(layout, tmp_path):
    """A 300-row pipeline synced twice (IDs, owners, statuses in place) with one long-lived store."""
    fake = FakeSheets()
    with fake.mock():
        pipeline(fake, layout, 300)
        store = make_store(fake)
        state = State(tmp_path / "state")
        cycle(store, state, 0)
        cycle(store, state, 5)
        yield fake, store, state
        state.close()


def test_a_cycle_where_nothing_changed_is_one_read_and_no_write(synced):
    fake, store, state = synced
    fake.reset_counts()
    cycle(store, state, 10)
    assert [c.kind for c in fake.calls] == ["values.batchGet"]


def test_a_fresh_process_with_nothing_to_do_reads_metadata_and_values_only(synced, tmp_path):
    fake, store, state = synced
    fake.reset_counts()
    cycle(make_store(fake), state, 10)
    assert sorted(c.kind for c in fake.calls) == ["get", "values.batchGet"]
    assert fake.writes() == 0


def reread_rows(fake: FakeSheets) -> int:
    """The most rows any range of the guard re-read (the second batchGet) spans."""
    guard = [c for c in fake.calls if c.kind == "values.batchGet"][1:2]  # the third is the write's verify read
    spans = [0]
    for call in guard:
        for value in parse_qs(urlparse(call.url).query).get("ranges", []):
            m = re.search(r"!(\d+):(\d+)$", value) or re.search(r"!\D+(\d+):\D+(\d+)$", value)
            spans.append(int(m.group(2)) - int(m.group(1)) + 1 if m else 10 ** 9)
    return max(spans)


def one_changed_row(layout, tmp_path, rows: int) -> tuple[int, int, int]:
    """(requests, bytes written, rows re-read) of the sync after a person changes one row's stage."""
    fake = FakeSheets()
    with fake.mock():
        pipeline(fake, layout, rows)
        store = make_store(fake)
        state = State(tmp_path / f"state-{rows}")
        try:
            cycle(store, state, 0)
            cycle(store, state, 5)
            fake.type("Opportunities", f"N{rows // 2}", "Won")
            fake.reset_counts()
            cycle(store, state, 10)
        finally:
            state.close()
        return len(fake.calls), written_bytes(fake), reread_rows(fake)


def test_one_changed_row_writes_bytes_for_that_row_not_for_the_sheet(layout, tmp_path):
    small_requests, small, _ = one_changed_row(layout, tmp_path, 200)
    big_requests, big, reread = one_changed_row(layout, tmp_path, 2_000)
    assert big_requests == small_requests <= 4  # read, guard re-read of the changed row, one write, verify read
    assert reread <= 60  # the guard re-reads the header and the rows written, not the whole tab
    assert big < 1.5 * small + 2_000, (small, big)  # ten times the rows, about the same bytes
    assert big < 20_000


@pytest.mark.large
def test_one_changed_row_at_100k_rows_writes_a_few_kilobytes(layout, tmp_path):
    requests, written, reread = one_changed_row(layout, tmp_path, 100_000)
    assert requests <= 4 and reread <= 60
    assert written < 20_000


def reminder(i: int) -> list[object]:
    return [datetime(2026, 11, 28), f"Rep {i % 7}", f"OPP-{i:06d}", f"Customer {i}", "Lead", "Follow-up due", i % 3]


def test_a_reminder_gone_from_the_middle_moves_the_rows_below_instead_of_rewriting_them(fake, store, layout):
    store.setup(layout)
    full = [reminder(i) for i in range(400)]
    store.write(store.read(), WriteBatch(replace={"reminders": full}))
    shorter = full[:150] + full[151:]
    fake.reset_counts()
    store.write(store.read(), WriteBatch(replace={"reminders": shorter}))
    assert written_bytes(fake) < 2_000
    assert [r[2] for r in fake.values("Reminders")[1:] if r[2]] == [r[2] for r in shorter]
    fake.reset_counts()
    store.write(store.read(), WriteBatch(replace={"reminders": full}))  # and one comes back
    assert written_bytes(fake) < 2_000
    assert [r[:3] for r in fake.values("Reminders")[1:] if r[2]] == [r[:3] for r in full]


def test_the_fingerprint_follows_every_cell_every_title_and_the_timezone(fake, layout):
    make_store(fake).setup(layout)
    pipeline(fake, layout, 20)

    def fingerprint() -> str | None:
        return make_store(fake).read().fingerprint  # a fresh process each time, as cron runs `sheetsync sync`

    steady = fingerprint()
    assert steady and fingerprint() == steady  # nothing changed: the same digest, read after read
    kept = fake.values("Opportunities")[5][2]
    fake.type("Opportunities", "C6", "Someone else")
    assert fingerprint() not in (None, steady)
    fake.type("Opportunities", "C6", kept)  # typed back: the sheet holds what it held
    assert fingerprint() == steady
    summary = fake.values("Follow-ups")[1][5]
    fake.type("Follow-ups", "F2", "Called back")  # any tab the cycle reads counts
    assert fingerprint() != steady
    fake.type("Follow-ups", "F2", summary)
    assert fingerprint() == steady
    fake.sheet("Reminders").title = "Reminders (old)"  # a retitled tab reads differently (or not at all)
    assert fingerprint() != steady
    fake.sheet("Reminders (old)").title = "Reminders"
    fake.add_sheet("Notes")  # even a tab sheetsync does not know: Snapshot.titles changed
    assert fingerprint() != steady
    fake.sheets.remove(fake.sheet("Notes"))
    assert fingerprint() == steady
    fake.timezone = "Asia/Shanghai"  # serial dates mean other moments
    assert fingerprint() != steady


def test_a_read_parses_no_cell_until_a_tab_is_used(fake, store, layout):
    store.setup(layout)
    pipeline(fake, layout, 20)
    snapshot = store.read()
    assert snapshot.tabs and not any(tab.loaded for tab in snapshot.tabs.values())
    assert len(snapshot.tabs["opportunities"].rows) == 21
    assert [k for k, tab in snapshot.tabs.items() if tab.loaded] == ["opportunities"]
    seen = [row[:max((i + 1 for i, v in enumerate(row) if v is not None), default=0)]
            for row in fake.values("Opportunities")]  # what a person sees, trailing blanks left off
    assert snapshot.tabs["opportunities"] == TabData("Opportunities", seen)


def first_sync_bodies(layout, tmp_path, rows: int, limit: int | None = None) -> list[int]:
    """The batchUpdate body sizes of a first sync of `rows` typed opportunities."""
    fake = FakeSheets()
    with fake.mock():
        pipeline(fake, layout, rows)
        store = make_store(fake)
        if limit:
            store.max_body = limit
        state = State(tmp_path / f"first-{rows}")
        fake.reset_counts()
        try:
            cycle(store, state, 0)
        finally:
            state.close()
        return [c.size for c in fake.calls if c.kind == "batchUpdate"]


def test_a_large_first_sync_is_as_few_bodies_as_the_limit_allows(layout, tmp_path):
    sizes = first_sync_bodies(layout, tmp_path, 1_000, limit=400_000)
    assert len(sizes) >= 4 and max(sizes) <= 400_000
    assert all(size > 400_000 - 2_000 for size in sizes[:-1])  # every body but the last is full
    assert len(sizes) == -(-sum(sizes) // (400_000 - 2_000))


@pytest.mark.large
def test_a_first_sync_at_100k_rows_stays_under_google_limit_in_the_fewest_bodies(layout, tmp_path):
    sizes = first_sync_bodies(layout, tmp_path, 100_000)
    assert max(sizes) <= 10_000_000
    assert len(sizes) == -(-sum(sizes) // (10_000_000 - 20_000))


def test_a_steady_cycle_reads_once_and_parses_no_cell(synced, monkeypatch):
    fake, store, state = synced
    cycle(store, state, 10)  # finds nothing to change and says so to the next cycle
    read = store.read
    snapshots = []
    monkeypatch.setattr(store, "read", lambda tabs=None: snapshots.append(read(tabs)) or snapshots[-1])
    fake.reset_counts()
    cycle(store, state, 15)
    assert [c.kind for c in fake.calls] == ["values.batchGet"]
    assert len(snapshots) == 1 and not any(tab.loaded for tab in snapshots[0].tabs.values())
