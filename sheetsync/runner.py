"""The scheduler side of sheetsync: flush and sync jobs, and `worker` (scheduler only, beside gunicorn).

`sheetsync serve` (web + scheduler in one process) lives in webhook.server, which builds on this module;
this module never imports the web app. Both log one line per sync and per flush that moved something
(what changed, how long, how many API requests), every error with its fix, and keep a heartbeat in the
state database so /api/status knows how the worker is doing whichever process answers it.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from .config import PARENT_ENV, Config, ConfigError
from .core.schema import LayoutError
from .intake import defaults
from .intake.flush import FlushResult, flush_once
from .intake.queue import IntakeQueue
from .messages import say
from .notify import defaults as notify_defaults
from .pipelines import Pipeline
from .ports import Queue, StoreError
from .state import State
from .sync import Stopping, Syncer
from .worker_state import HEARTBEAT_SECONDS, Heartbeat

if TYPE_CHECKING:
    from .notify.notifier import Notifier

log = logging.getLogger(__name__)

MAX_BATCHES_PER_RUN = 20
"""Batches one flush run may land before it yields to the sync job."""
MAX_JOB_THREADS = 16
"""Most scheduler threads (each may hold a database connection) one worker process runs jobs on."""
USER_ERRORS = (StoreError, LayoutError, ConfigError)
"""Errors whose message already says what to fix."""

Notice = Callable[[str], None]


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _language(syncer: Syncer | None) -> str:
    return str(getattr(getattr(syncer, "config", None), "template", "en"))


def requests_sent(syncer: Syncer) -> int | None:
    """Sheets API requests the syncer's store has sent so far, or None for a store without requests."""
    sent = getattr(getattr(getattr(syncer, "store", None), "http", None), "sent", None)
    return sent if isinstance(sent, int) else None


def _requests_text(before: int | None, after: int | None, language: str) -> str:
    if before is None or after is None:
        return say("page.no_requests", language)
    return say("page.requests", language, count=after - before)


def _add(total: FlushResult, part: FlushResult) -> None:
    total.claimed += part.claimed
    total.landed += part.landed
    total.already += part.already
    total.rejected.update(part.rejected)
    total.failed += part.failed
    total.error = part.error or total.error


def flush_job(queue: Queue, syncer: Syncer, clock: Callable[[], datetime] = _utc_now,
              batch_size: int = defaults.BATCH_SIZE) -> FlushResult | None:
    """Drain the queue batch by batch until it is empty or a batch fails; log one line, never raise."""
    language = _language(syncer)
    started, before = time.monotonic(), requests_sent(syncer)
    stopping = getattr(syncer, "stopping", None)
    total, result = FlushResult(), None
    try:
        for _ in range(MAX_BATCHES_PER_RUN):
            if stopping is not None and stopping.is_set():
                break
            result = flush_once(queue, syncer, clock(), batch_size)
            _add(total, result)
            if result.error or result.claimed < batch_size:
                break
    except Exception as exc:  # the scheduler must keep running whatever happens here
        log.error(say("page.flush_crashed", language, error=f"{type(exc).__name__}: {exc}"),
                  exc_info=log.isEnabledFor(logging.DEBUG))
        return result
    if total.claimed:
        log.info(say("page.flush_line", language, landed=len(total.landed), already=len(total.already),
                     waiting=len(total.rejected), retry=len(total.failed), seconds=time.monotonic() - started,
                     requests=_requests_text(before, requests_sent(syncer), language)))
    else:
        log.debug("flush: nothing queued")
    return result


def sync_job(syncer: Syncer, clock: Callable[[], datetime] = _utc_now, heartbeat: Heartbeat | None = None) -> None:
    """Run one sync cycle and log one line saying what it did (or what to fix); never raise."""
    language = _language(syncer)
    interval = getattr(getattr(syncer, "config", None), "sync_interval", 300)
    started, before = time.monotonic(), requests_sent(syncer)
    if heartbeat is not None:
        heartbeat.beat(clock(), busy="sync")
    try:
        report = syncer.run_cycle(clock())
    except Stopping as exc:
        log.info("%s", exc)
    except USER_ERRORS as exc:  # the store may be locked or unreachable; try again next interval
        log.error(say("page.sync_failed", language, interval=interval, error=exc))
    except Exception as exc:
        log.error(say("page.sync_crashed", language, interval=interval, error=f"{type(exc).__name__}: {exc}"),
                  exc_info=log.isEnabledFor(logging.DEBUG))
    else:
        log.info(say("page.sync_line", language, report=report.line(language), seconds=time.monotonic() - started,
                     requests=_requests_text(before, requests_sent(syncer), language)))
    finally:
        if heartbeat is not None:
            heartbeat.beat(clock(), busy=None)


def notify_job(notifier: Notifier) -> None:
    """Send due notifications from the outbox; log errors and never raise."""
    try:
        report = notifier.deliver()
        if report.sent or report.failed:
            log.info("notifications: %s sent, %s failed", report.sent, report.failed)
    except Exception:  # a channel problem must never stop the scheduler
        log.exception("sending notifications failed; they stay in the outbox")


def build_scheduler(config: Config, syncer: Syncer, queue: Queue, blocking: bool,
                    clock: Callable[[], datetime] = _utc_now, heartbeat: Heartbeat | None = None) -> BaseScheduler:
    """Return an unstarted scheduler flushing every flush_interval and syncing every sync_interval.

    When the syncer has a notifier, a third job sends due notifications every notify.defaults.SEND_INTERVAL
    seconds in its own thread, so a slow chat tool never holds up a flush or a sync; deliveries a dead
    process left half-sent are marked unsure first (this runs in the one scheduler process).
    """
    cls = BlockingScheduler if blocking else BackgroundScheduler
    scheduler = cls(timezone=timezone.utc)
    start = clock()
    single = {"max_instances": 1, "coalesce": True, "next_run_time": start}
    scheduler.add_job(flush_job, "interval", seconds=config.flush_interval, id="flush", name="intake flush",
                      args=(queue, syncer, clock), misfire_grace_time=config.flush_interval, **single)
    scheduler.add_job(sync_job, "interval", seconds=config.sync_interval, id="sync", name="sync cycle",
                      args=(syncer, clock, heartbeat), misfire_grace_time=config.sync_interval, **single)
    if heartbeat is not None:
        scheduler.add_job(lambda: heartbeat.beat(clock()), "interval", seconds=HEARTBEAT_SECONDS, id="heartbeat",
                          name="heartbeat", misfire_grace_time=HEARTBEAT_SECONDS, **single)
    notifier = getattr(syncer, "notifier", None)
    if notifier is not None:
        notifier.recover()
        scheduler.add_job(notify_job, "interval", seconds=notify_defaults.SEND_INTERVAL, id="notify",
                          name="send notifications", args=(notifier,), misfire_grace_time=notify_defaults.SEND_INTERVAL,
                          **single)
        notifier.wake = waker(scheduler, "notify")
    return scheduler


def _pool_size(pipelines: int) -> int:
    """Threads for the jobs: enough that a slow workspace never holds up another's, capped for the database."""
    return max(4, min(3 * pipelines + 1, MAX_JOB_THREADS))


def build_pipeline_scheduler(config: Config, pipelines: Sequence[Pipeline], blocking: bool,
                             clock: Callable[[], datetime] = _utc_now,
                             heartbeat: Heartbeat | None = None) -> BaseScheduler:
    """Return an unstarted scheduler running flush and sync for every workspace whose lock this process holds.

    A takeover job tries, every takeover_interval, to take the lock of each workspace this process does not
    hold; the flush and sync jobs of a workspace do nothing while another process holds its lock.
    """
    cls = BlockingScheduler if blocking else BackgroundScheduler
    scheduler = cls(timezone=timezone.utc, executors={"default": ThreadPoolExecutor(_pool_size(len(pipelines)))})
    start = clock()
    single = {"max_instances": 1, "coalesce": True, "next_run_time": start}
    for pipeline in pipelines:
        if pipeline.lock.acquire():
            log.info("this process runs workspace %s", pipeline.label)
            pipeline.taken_over = True
        suffix = f":{pipeline.name}" if pipeline.name else ""
        scheduler.add_job(_guarded_notify, "interval", seconds=notify_defaults.SEND_INTERVAL, id="notify" + suffix,
                          name=f"send notifications {pipeline.label}", args=(pipeline, scheduler, "notify" + suffix),
                          misfire_grace_time=notify_defaults.SEND_INTERVAL, **single)
        scheduler.add_job(_guarded_flush, "interval", seconds=pipeline.config.flush_interval, id="flush" + suffix,
                          name=f"intake flush {pipeline.label}", args=(pipeline, clock),
                          misfire_grace_time=pipeline.config.flush_interval, **single)
        scheduler.add_job(_guarded_sync, "interval", seconds=pipeline.config.sync_interval, id="sync" + suffix,
                          name=f"sync cycle {pipeline.label}", args=(pipeline, clock, heartbeat),
                          misfire_grace_time=pipeline.config.sync_interval, **single)
    if heartbeat is not None:
        scheduler.add_job(lambda: heartbeat.beat(clock()), "interval", seconds=HEARTBEAT_SECONDS, id="heartbeat",
                          name="heartbeat", misfire_grace_time=HEARTBEAT_SECONDS, **single)
    scheduler.add_job(takeover_job, "interval", seconds=config.takeover_interval, id="takeover",
                      name="take over stopped workers' workspaces", args=(pipelines, scheduler, clock),
                      max_instances=1, coalesce=True, misfire_grace_time=config.takeover_interval)
    return scheduler


def _guarded_flush(pipeline: Pipeline, clock: Callable[[], datetime]) -> FlushResult | None:
    if not pipeline.lock.held():
        return None
    try:
        syncer = pipeline.syncer()
    except Exception as exc:  # a broken workspace (revoked sharing, bad key) must not stop the others
        log.warning("workspace %s cannot flush: %s", pipeline.label, exc)
        _record(pipeline, clock, str(exc))
        return None
    return flush_job(pipeline.queue, syncer, clock)


def _guarded_sync(pipeline: Pipeline, clock: Callable[[], datetime], heartbeat: Heartbeat | None = None) -> None:
    if not pipeline.lock.held():
        return
    try:
        syncer = pipeline.syncer()
    except Exception as exc:
        log.warning("workspace %s cannot sync: %s", pipeline.label, exc)
        _record(pipeline, clock, str(exc))
        return
    sync_job(syncer, clock, heartbeat)


def waker(scheduler: BaseScheduler, job_id: str) -> Callable[[], object]:
    """Run the job `job_id` as soon as a thread is free (e.g. the send job right after a sync queued notices)."""
    return lambda: scheduler.modify_job(job_id, next_run_time=datetime.now(timezone.utc))


def _guarded_notify(pipeline: Pipeline, scheduler: BaseScheduler | None = None, job_id: str = "") -> None:
    """Send a workspace's due notifications while this process holds it (after marking a dead holder's unsure)."""
    if not pipeline.lock.held():
        return
    try:
        notifier = pipeline.syncer().notifier
    except Exception as exc:
        log.warning("workspace %s cannot send notifications: %s", pipeline.label, exc)
        return
    if notifier is None:
        return
    if notifier.wake is None and scheduler is not None:
        notifier.wake = waker(scheduler, job_id)
    if pipeline.taken_over:
        notifier.recover()
        pipeline.taken_over = False
    notify_job(notifier)


def _record(pipeline: Pipeline, clock: Callable[[], datetime], error: str) -> None:
    try:
        pipeline.queue.record_flush(clock(), "not run", error)
    except Exception:  # the database may be the problem; the log line above already says what happened
        log.debug("could not record the error of workspace %s", pipeline.label, exc_info=True)


def takeover_job(pipelines: Sequence[Pipeline], scheduler: BaseScheduler,
                 clock: Callable[[], datetime] = _utc_now) -> list[str]:
    """Take every workspace whose lock is free (its worker stopped) and run its jobs now; return their names."""
    taken = []
    for pipeline in pipelines:
        try:
            if pipeline.lock.held() or not pipeline.lock.acquire():
                continue
        except Exception:  # the lock's database is unreachable: try again next interval
            log.warning("cannot reach the lock of workspace %s", pipeline.label, exc_info=True)
            continue
        log.info("took over workspace %s", pipeline.label)
        pipeline.mark_fence()
        pipeline.taken_over = True
        taken.append(pipeline.name)
        suffix = f":{pipeline.name}" if pipeline.name else ""
        for job_id in ("flush" + suffix, "sync" + suffix, "notify" + suffix):
            job = scheduler.get_job(job_id)
            if job is not None:
                job.modify(next_run_time=clock())
    return taken


def _not_overlapping(record: logging.LogRecord) -> bool:
    return "maximum number of running instances reached" not in record.getMessage()


def quiet_scheduler_logs() -> None:
    """Keep APScheduler's per-run INFO lines (one every flush_interval) out of the service log.

    Also its warning that a run was skipped because the last one is still going (a flush of a big burst
    takes longer than flush_interval: the next run simply starts after it, one warning a second meanwhile),
    and waitress's "Task queue depth is N" warning, written for every request that waits for a thread: a
    burst of posts would fill the log with them (and pay for each line) while nothing is wrong.
    """
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    scheduler_log = logging.getLogger("apscheduler.scheduler")
    if _not_overlapping not in scheduler_log.filters:
        scheduler_log.addFilter(_not_overlapping)
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)


def _on_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


class _StopSignals:
    """Ctrl+C and SIGTERM: the first one stops serving (KeyboardInterrupt); any later one only says "still finishing".

    One handler for both, installed before serving starts, so a second signal arriving while the first is still
    unwinding can never interrupt the clean stop itself.
    """

    RETRY_AFTER = 3.0
    """Seconds after which a further signal interrupts again when the clean stop has still not begun (the first
    interrupt was lost in code that swallows it)."""

    def __init__(self) -> None:
        self.received: float | None = None
        self.finishing = False
        self.again: Callable[[], None] = lambda: None

    def __call__(self, signum: int, frame: object) -> None:
        now = time.monotonic()
        if self.finishing or (self.received is not None and now - self.received < self.RETRY_AFTER):
            self.again()
            return
        self.received = now
        raise KeyboardInterrupt(f"signal {signum}")


STOP_SIGNALS = _StopSignals()


def stop_on_sigterm() -> None:
    """Turn Ctrl+C and SIGTERM (systemd, docker stop) into one clean stop, when running on the main thread."""
    if _on_main_thread():
        STOP_SIGNALS.received, STOP_SIGNALS.finishing = None, False
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, STOP_SIGNALS)


@contextmanager
def finishing(syncer: Syncer | None, notice: Notice) -> Iterator[None]:
    """Say the process is finishing its write, and answer further Ctrl+C / SIGTERM with a sentence, not a traceback."""
    language = _language(syncer)
    STOP_SIGNALS.finishing = True  # kept until the process exits: a late signal must not interrupt the stop
    STOP_SIGNALS.again = lambda: notice(say("page.still_finishing", language))
    notice(say("page.finishing", language))
    stopping = getattr(syncer, "stopping", None)
    if stopping is not None:
        stopping.set()
    if _on_main_thread() and signal.getsignal(signal.SIGINT) is not STOP_SIGNALS:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, STOP_SIGNALS)
    yield
    notice(say("page.stopped", language))
    if _on_main_thread():  # ignored, not handled: Python resets its own handlers while exiting
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_IGN)


def heartbeat_for(config: Config, process: str) -> Heartbeat:
    return Heartbeat(State(config.state_path), process, config.flush_interval, config.sync_interval)


def runs_pipelines(config: Config) -> bool:
    """Whether this deployment needs the per-workspace scheduler (workspaces, or a shared PostgreSQL database)."""
    from .backends import is_postgres_url

    return bool(config.workspaces) or is_postgres_url(config.database_url)




def follow_parent(poll: float = 0.5) -> None:
    """When started by `serve`, stop like Ctrl+C (finishing the current write) once `serve` has died."""
    parent = os.environ.get(PARENT_ENV)
    if not parent or not parent.isdigit():
        return

    def watch() -> None:
        while os.getppid() == int(parent):
            time.sleep(poll)
        log.warning("serve (pid %s) stopped; the worker it started stops too", parent)
        while not STOP_SIGNALS.finishing:  # the same clean stop as `docker stop`, until it has begun
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(STOP_SIGNALS.RETRY_AFTER + 1)

    threading.Thread(target=watch, name="follow-serve", daemon=True).start()


def worker(config: Config, syncer: Syncer | None = None, on_ready: Callable[[], None] | None = None,
           notice: Notice = log.warning) -> None:
    """Run only the scheduler (flush and sync) in the foreground, for deployments with gunicorn in front.

    With workspaces or PostgreSQL, every workspace gets its jobs; this worker runs those whose lock it holds
    and takes over the others' when their worker stops.
    """
    pipelines: list[Pipeline] = []
    backend = None
    if runs_pipelines(config):
        from .backends import open_backend
        from .pipelines import open_pipelines

        backend = open_backend(config)
        pipelines = open_pipelines(config, backend, role="worker")
        if syncer is not None and len(pipelines) == 1:
            pipelines[0]._syncer = syncer
        queue: Queue = pipelines[0].queue
        heartbeat = heartbeat_for(config, "worker")
        scheduler = build_pipeline_scheduler(config, pipelines, blocking=False, heartbeat=heartbeat)
    else:
        if syncer is None:
            from .backends import open_backend

            syncer = Pipeline("", config, open_backend(config), "worker").syncer()
        queue = IntakeQueue.for_config(config)
        heartbeat = heartbeat_for(config, "worker")
        scheduler = build_scheduler(config, syncer, queue, blocking=False, heartbeat=heartbeat)
    stop_on_sigterm()
    quiet_scheduler_logs()
    heartbeat.beat(_utc_now())
    follow_parent()
    if on_ready is not None:
        on_ready()
    # The jobs run in the scheduler's threads; the main thread only waits, so the KeyboardInterrupt a signal
    # raises always lands here (a BlockingScheduler's loop swallows one raised while it hands out a job).
    try:
        scheduler.start()
        while scheduler.running:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    with finishing(syncer, notice):
        if scheduler.running:
            scheduler.shutdown(wait=True)
        heartbeat.stopped(_utc_now())
        queue.close()
        for pipeline in pipelines:
            pipeline.close()
        if backend is not None:
            backend.close()
