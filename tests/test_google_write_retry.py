"""A refused write is retried for more than a quota minute, and the guards are re-read before every try."""

from __future__ import annotations

import pytest
from test_google_store import COL, TABS, plan, seed

from sheetsync.stores.base import StoreConflict, StoreError


def kinds(fake) -> list[str]:
    return [c.kind for c in fake.calls]


def test_the_guards_are_re_read_before_every_retry_of_the_write(fake, store):
    seed(fake, 10)
    snap = store.read(TABS)
    fake.reset_counts()
    fake.fail(429, times=2, kinds=("batchUpdate",))
    store.write(snap, plan(snap))
    assert kinds(fake) == ["values.batchGet", "batchUpdate"] * 3 + ["values.batchGet"]  # guard, try; …; verify
    assert fake.values("Opportunities")[3][COL["owner"]] == "Robot"


def test_a_person_typing_between_two_tries_wins_and_nothing_is_written(fake, store):
    seed(fake, 10)
    snap = store.read(TABS)
    fake.fail(503, times=1, kinds=("batchUpdate",))
    fake.before("batchUpdate", lambda f: f.before("values.batchGet", lambda g: g.type("Opportunities", "L4", "Zoe")))
    with pytest.raises(StoreConflict):
        store.write(snap, plan(snap))
    rows = fake.values("Opportunities")
    assert rows[3][COL["owner"]] == "Zoe" and rows[1][COL["status"]] is None  # nothing of the batch written


def test_the_write_rides_out_a_whole_quota_minute_of_429s(fake, store):
    seed(fake, 10)
    snap = store.read(TABS)
    start = store.fake_time.now
    fake.fail(429, times=7, kinds=("batchUpdate",))
    store.write(snap, plan(snap))
    assert store.fake_time.now - start >= 60
    assert fake.values("Opportunities")[3][COL["owner"]] == "Robot"


def test_a_write_refused_for_longer_than_the_budget_gives_up_clearly(fake, store):
    seed(fake, 10)
    snap = store.read(TABS)
    start = store.fake_time.now
    fake.fail(429, times=None, kinds=("batchUpdate",))
    with pytest.raises(StoreError, match="longer than a whole quota minute; nothing is lost"):
        store.write(snap, plan(snap))
    assert store.fake_time.now - start >= 75
    assert fake.values("Opportunities")[3][COL["owner"]] in (None, "")
