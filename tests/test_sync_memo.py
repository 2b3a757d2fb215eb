"""A cycle over contents it already planned to nothing costs a read: no planning, no write.

Runs against every store. Where a store does not (yet) fingerprint its reads, the test gives its snapshots a
digest of their contents, which is what a fingerprint promises.
"""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import timedelta

import pytest
from conftest import NOW

from sheetsync.core.attention import SetAside
from sheetsync.sync import MEMO, Syncer


def content_digest(snapshot) -> str:
    return hashlib.sha256(repr(sorted((k, t.title, t.rows) for k, t in snapshot.tabs.items())).encode()).hexdigest()


@pytest.fixture
def counted(syncer, kit, monkeypatch):
    """The kit's syncer with its plans and writes counted (and fingerprints on every read)."""
    real_read, real_write, real_plan = kit.store.read, kit.store.write, syncer._plan_sync
    calls = {"plans": 0, "writes": 0}

    def read(tabs=None):
        snap = real_read(tabs)
        return snap if snap.fingerprint else dataclasses.replace(snap, fingerprint=content_digest(snap))

    def write(snapshot, batch):
        calls["writes"] += 1
        return real_write(snapshot, batch)

    def plan(*args, **kwargs):
        calls["plans"] += 1
        return real_plan(*args, **kwargs)

    monkeypatch.setattr(kit.store, "read", read)
    monkeypatch.setattr(kit.store, "write", write)
    monkeypatch.setattr(syncer, "_plan_sync", plan)
    return syncer, calls


def settle(syncer: Syncer, now=NOW) -> None:
    """Sync until a cycle plans nothing (the first ones fill IDs, owners, statuses, reminders, history)."""
    for _ in range(5):
        syncer.run_cycle(now)
        if syncer.state.get(MEMO):
            return
    raise AssertionError("the sheet never settled: every cycle kept writing")


def test_unchanged_sheet_is_neither_planned_nor_written(counted):
    syncer, calls = counted
    settle(syncer)
    before = dict(calls)
    settled_report = syncer.state.get("last_sync_report")
    report = syncer.run_cycle(NOW + timedelta(hours=3))
    assert calls == before  # no plan, no write
    assert report.rows == 10 and report.cells == 0
    assert report.line().endswith("(nothing changed since the last sync: not planned again)")
    assert syncer.state.get("last_sync") == (NOW + timedelta(hours=3)).isoformat()
    assert syncer.state.get("last_sync_report") == settled_report


def test_a_typed_value_is_planned_again(counted, kit):
    syncer, calls = counted
    settle(syncer)
    plans = calls["plans"]
    kit.edit("Opportunities", "D2", "Renamed Customer Ltd")
    syncer.run_cycle(NOW)
    assert calls["plans"] == plans + 1
    assert any(r[3] == "Renamed Customer Ltd" for r in kit.values("Opportunities"))


def test_the_next_day_is_planned_again_and_reminders_move_on(counted, kit):
    syncer, calls = counted
    settle(syncer)
    reminders_today = kit.values("Reminders")
    plans = calls["plans"]
    syncer.run_cycle(NOW + timedelta(days=9))
    assert calls["plans"] == plans + 1
    assert kit.values("Reminders") != reminders_today  # follow-ups became overdue: the day mattered


def test_a_flush_or_another_setting_forgets_the_memo(counted):
    syncer, calls = counted
    settle(syncer)
    syncer.flush([], NOW)  # even an empty flush saves the round-robin cursors
    plans = calls["plans"]
    syncer.run_cycle(NOW)
    assert calls["plans"] == plans + 1
    settle(syncer)
    plans = calls["plans"]
    syncer.config = dataclasses.replace(syncer.config, duplicate_protection_days=30)
    syncer.run_cycle(NOW)
    assert calls["plans"] == plans + 1


def test_new_items_needing_attention_are_planned(counted):
    syncer, calls = counted
    settle(syncer)
    plans = calls["plans"]
    syncer.attention = lambda: [SetAside("k1", "", "Odd Lead Co", "no customer name", NOW.date())]
    syncer.run_cycle(NOW)
    assert calls["plans"] == plans + 1


def test_a_due_digest_gets_its_plan(counted):
    syncer, calls = counted
    settle(syncer)
    asked = []
    syncer.plan_wanted.append(lambda now, language: asked.append((now, language)) or True)
    plans = calls["plans"]
    syncer.run_cycle(NOW)
    assert calls["plans"] == plans + 1
    assert asked == [(NOW, "en")]


def test_a_store_without_fingerprints_is_always_planned(syncer, kit, monkeypatch):
    real_read = kit.store.read
    monkeypatch.setattr(kit.store, "read", lambda tabs=None: dataclasses.replace(real_read(tabs), fingerprint=None))
    for _ in range(3):
        syncer.run_cycle(NOW)
    assert syncer.state.get(MEMO) is None


def test_a_manual_edit_back_to_an_old_state_is_planned(counted, kit):
    """A sheet returning to contents once planned to nothing is planned again if anything was written since."""
    syncer, calls = counted
    settle(syncer)
    original = kit.values("Opportunities")[1][3]
    kit.edit("Opportunities", "D2", "Somebody Else Ltd")
    settle(syncer)
    kit.edit("Opportunities", "D2", original)
    plans = calls["plans"]
    syncer.run_cycle(NOW)
    assert calls["plans"] == plans + 1
