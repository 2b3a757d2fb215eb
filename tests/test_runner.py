"""The scheduler that drives flush and sync: one instance each, coalesced, errors logged not raised."""

from __future__ import annotations

import threading
from datetime import datetime, timezone

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from sheetsync.config import Config
from sheetsync.intake.queue import Incoming, IntakeQueue
from sheetsync.runner import build_scheduler, flush_job, sync_job
from sheetsync.sync import IntakeResult

NOW = datetime(2026, 11, 28, 9, 30, tzinfo=timezone.utc)


@pytest.fixture
def queue(tmp_path):
    q = IntakeQueue(tmp_path)
    yield q
    q.close()


class Recorder:
    """A syncer that records calls and lands everything."""

    def __init__(self, fail: Exception | None = None) -> None:
        self.fail = fail
        self.flushed: list[str] = []
        self.cycles = 0
        self.called = threading.Event()

    def flush(self, submissions, now):
        self.called.set()
        if self.fail:
            raise self.fail
        self.flushed += [s.key for s in submissions]
        return IntakeResult([s.key for s in submissions], [], {})

    def run_cycle(self, now=None):
        self.cycles += 1
        if self.fail:
            raise self.fail


@pytest.mark.parametrize("blocking, cls", [(True, BlockingScheduler), (False, BackgroundScheduler)])
def test_build_scheduler_adds_flush_and_sync_with_single_coalesced_runs(queue, blocking, cls):
    config = Config(flush_interval=7, sync_interval=300)
    scheduler = build_scheduler(config, Recorder(), queue, blocking=blocking, clock=lambda: NOW)
    assert isinstance(scheduler, cls)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {"flush", "sync"}
    for job_id, seconds in (("flush", 7), ("sync", 300)):
        job = jobs[job_id]
        assert job.trigger.interval.total_seconds() == seconds
        assert (job.max_instances, job.coalesce, job.misfire_grace_time) == (1, True, seconds)
        assert job.next_run_time == NOW


def test_the_background_scheduler_flushes_the_queue(queue):
    key = queue.submit(Incoming("generic", "create", {"customer": "A"}, b"x"), datetime.now(timezone.utc)).key
    syncer = Recorder()
    scheduler = build_scheduler(Config(flush_interval=60, sync_interval=60), syncer, queue, blocking=False)
    scheduler.start()
    try:
        assert syncer.called.wait(5)
    finally:
        scheduler.shutdown(wait=True)
    assert syncer.flushed == [key] and syncer.cycles == 1


def test_flush_job_drains_several_batches(queue):
    for i in range(5):
        queue.submit(Incoming("generic", "create", {"customer": str(i)}, str(i).encode()), NOW)
    syncer = Recorder()
    flush_job(queue, syncer, clock=lambda: NOW, batch_size=2)
    assert len(syncer.flushed) == 5


def test_a_burst_of_thousands_of_leads_lands_in_one_write(queue):
    for i in range(1500):  # more than a batch held before (1,000)
        queue.submit(Incoming("generic", "create", {"customer": str(i)}, str(i).encode()), NOW)
    syncer = Recorder()
    writes = []
    real = syncer.flush
    syncer.flush = lambda submissions, now: writes.append(len(submissions)) or real(submissions, now)
    flush_job(queue, syncer, clock=lambda: NOW)
    assert writes == [1500]  # one store write (on Google: one read, one write, one check) for the whole burst


def test_jobs_never_raise(queue, caplog):
    queue.submit(Incoming("generic", "create", {"customer": "A"}, b"x"), NOW)
    broken = Recorder(fail=RuntimeError("boom"))
    assert flush_job(queue, broken, clock=lambda: NOW).error == "RuntimeError: boom"
    sync_job(broken, clock=lambda: NOW)
    assert "sync failed" in caplog.text
    queue.close()
    flush_job(None, broken, clock=lambda: NOW)  # even a broken queue only logs
    assert "intake flush failed" in caplog.text


def test_service_logs_skip_the_scheduler_and_waitress_noise_of_a_busy_moment(caplog):
    import logging

    from sheetsync.runner import quiet_scheduler_logs

    quiet_scheduler_logs()
    with caplog.at_level(logging.INFO):
        logging.getLogger("apscheduler.scheduler").warning(
            'Execution of job "intake flush" skipped: maximum number of running instances reached (1)')
        logging.getLogger("waitress.queue").warning("Task queue depth is 1")
        logging.getLogger("apscheduler.scheduler").warning("Run time of job was missed by 0:00:30")
    assert "skipped" not in caplog.text and "Task queue depth" not in caplog.text
    assert "was missed" in caplog.text  # other warnings still reach the log


def test_stop_signals_interrupt_once_then_only_say_still_finishing(monkeypatch):
    """The first Ctrl+C stops; one arriving while that stop unwinds never interrupts it; a lost one is retried."""
    from sheetsync import runner

    clock = [100.0]
    monkeypatch.setattr(runner.time, "monotonic", lambda: clock[0])
    stops = runner._StopSignals()
    said = []
    stops.again = lambda: said.append("still finishing")
    with pytest.raises(KeyboardInterrupt):
        stops(2, None)
    clock[0] += 0.05
    stops(2, None)  # a second Ctrl+C right after the first: said, not raised
    assert said == ["still finishing"]
    clock[0] += stops.RETRY_AFTER
    with pytest.raises(KeyboardInterrupt):  # the stop never began (the interrupt was swallowed): try again
        stops(15, None)
    stops.finishing = True
    clock[0] += 60
    stops(15, None)
    assert said == ["still finishing", "still finishing"]
