"""Failover on PostgreSQL: workers SIGKILLed while leads pour in; every answered lead lands once, in its own
workspace's sheet, and no workspace is ever written by two workers at once (checked by lock fences)."""

from __future__ import annotations

import signal

import pytest
from failover import run
from pg import skip_unless_available, throwaway_database

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")]


def check(outcome, workspaces) -> None:
    assert not outcome["refused"], outcome["refused"][:3]
    assert not outcome["violations"], outcome["violations"][:3]
    for ws in workspaces:
        rows = outcome["rows"][ws]
        ids = [ident for ident, _ in rows]
        assert len(ids) == len(set(ids)), f"{ws}: a lead landed twice"
        assert dict(rows) == outcome["answered"][ws], f"{ws}: the sheet differs from the answered leads"
    assert sum(len(a) for a in outcome["answered"].values()) > 0


@pytest.fixture
def own_database():
    """A database of its own: nothing another test left queued can hold the run up."""
    skip_unless_available()
    with throwaway_database() as url:
        yield url


def test_a_killed_worker_is_replaced_and_nothing_is_lost_or_doubled(tmp_path, own_database):
    workspaces = ["east", "west"]
    outcome = run(tmp_path, own_database, workspaces, kills=2, gap=(0.2, 0.5))
    check(outcome, workspaces)
    assert len(outcome["kills"]) == 2


@pytest.mark.failover
def test_ten_kills_across_four_workspaces(tmp_path, own_database):
    workspaces = ["east", "west", "north", "south"]
    outcome = run(tmp_path, own_database, workspaces, kills=12, gap=(0.3, 2.5))
    check(outcome, workspaces)
    assert len(outcome["kills"]) >= 10
