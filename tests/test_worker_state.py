"""The worker's heartbeat in the state database, read by whichever process answers /api/status."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from sheetsync.config import Config
from sheetsync.state import State
from sheetsync.worker_state import STALE_AFTER, Heartbeat, read_worker_status, worker_status
from webhook import EXTENSION, create_app

AUTH = {"Authorization": "Bearer " + "0123456789abcdef-token"}

NOW = datetime(2026, 11, 28, 9, 30, tzinfo=timezone.utc)


def record(**changes):
    base = {"process": "worker", "pid": 4242, "host": "box", "started_at": NOW.isoformat(),
            "heartbeat_at": NOW.isoformat(), "busy": None}
    return {**base, **changes}


def test_no_heartbeat_means_no_worker_has_run():
    status = worker_status(None, NOW)
    assert status["running"] is False and status["state"] == "never"
    assert "start `sheetsync serve`" in status["note"]


def test_a_fresh_heartbeat_is_a_running_worker_named_by_process_and_pid():
    status = worker_status(record(busy="sync"), NOW + timedelta(seconds=3))
    assert status["running"] is True and status["state"] == "running"
    assert (status["process"], status["pid"], status["busy"]) == ("worker", 4242, "sync")
    assert status["heartbeat_age_seconds"] == 3


def test_a_stale_heartbeat_says_the_worker_stopped_or_hangs():
    status = worker_status(record(), NOW + timedelta(seconds=STALE_AFTER + 1))
    assert status["running"] is False and status["state"] == "stale"
    assert "pid 4242" in status["note"] and "Start `sheetsync worker`" in status["note"]


def test_a_clean_stop_is_reported_as_stopped_at_once():
    status = worker_status(record(stopped_at=NOW.isoformat()), NOW)
    assert status["running"] is False and status["state"] == "stopped"


def test_zh_notes_are_chinese():
    assert "后台任务" in worker_status(None, NOW, "zh")["note"]


def test_heartbeat_round_trips_through_the_state_database(tmp_path):
    beat = Heartbeat(State(tmp_path), "serve", 5, 300)
    beat.beat(NOW, busy="sync")
    state = State(tmp_path)
    state.save(last_sync=NOW.isoformat(), last_sync_report="7 opportunities", last_sync_seconds=1.5,
               last_sync_requests=3)
    status = read_worker_status(state, NOW + timedelta(seconds=1))
    assert status["running"] and status["process"] == "serve" and status["busy"] == "sync"
    assert status["last_sync"]["result"] == "7 opportunities" and status["last_sync"]["requests"] == 3
    beat.stopped(NOW + timedelta(seconds=2))
    assert read_worker_status(state, NOW + timedelta(seconds=2))["state"] == "stopped"


@pytest.fixture
def app(tmp_path):
    app = create_app(Config(state_dir=str(tmp_path / "state"), secrets={"generic": ("s",)}, base_dir=tmp_path,
                            api_token="0123456789abcdef-token"))
    app.extensions[EXTENSION].clock = lambda: NOW + timedelta(seconds=2)
    yield app
    app.extensions[EXTENSION].queue.close()


def test_api_status_reports_a_worker_running_in_another_process(app, tmp_path):
    """Under gunicorn the app has no scheduler; the worker's heartbeat tells it how the worker is doing."""
    assert app.test_client().get("/api/status", headers=AUTH).json["scheduler"]["running"] is False
    Heartbeat(State(tmp_path / "state"), "worker", 5, 300).beat(NOW)
    scheduler = app.test_client().get("/api/status", headers=AUTH).json["scheduler"]
    assert scheduler["running"] is True and scheduler["process"] == "worker"
    assert "No scheduler in this process" not in str(scheduler)
