"""The scheduler side of sheetsync: flush and sync jobs, and `worker` (scheduler only, beside gunicorn).

`sheetsync serve` (web + scheduler in one process) lives in webhook.server, which builds on this module;
this module never imports the web app.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from .config import Config
from .intake import defaults
from .intake.flush import FlushResult, flush_once
from .intake.queue import IntakeQueue
from .ports import Queue

log = logging.getLogger(__name__)

MAX_BATCHES_PER_RUN = 20
"""Batches one flush run may land before it yields to the sync job."""


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def flush_job(queue: Queue, syncer: Any, clock: Callable[[], datetime] = _utc_now,
              batch_size: int = defaults.BATCH_SIZE) -> FlushResult | None:
    """Drain the queue batch by batch until it is empty or a batch fails; log errors and never raise."""
    result = None
    try:
        for _ in range(MAX_BATCHES_PER_RUN):
            result = flush_once(queue, syncer, clock(), batch_size)
            if result.error or result.claimed < batch_size:
                break
    except Exception:  # the scheduler must keep running whatever happens here
        log.exception("intake flush failed; queued submissions stay queued")
    return result


def sync_job(syncer: Any, clock: Callable[[], datetime] = _utc_now) -> None:
    """Run one sync cycle; log errors and never raise."""
    try:
        syncer.run_cycle(clock())
    except Exception as exc:  # the store may be locked or unreachable; try again next interval
        log.warning("sync cycle failed, will retry next interval: %s", exc, exc_info=log.isEnabledFor(logging.DEBUG))


def build_scheduler(config: Config, syncer: Any, queue: Queue, blocking: bool,
                    clock: Callable[[], datetime] = _utc_now) -> BaseScheduler:
    """Return an unstarted scheduler flushing every flush_interval and syncing every sync_interval."""
    cls = BlockingScheduler if blocking else BackgroundScheduler
    scheduler = cls(timezone=timezone.utc)
    start = clock()
    single = {"max_instances": 1, "coalesce": True, "next_run_time": start}
    scheduler.add_job(flush_job, "interval", seconds=config.flush_interval, id="flush", name="intake flush",
                      args=(queue, syncer, clock), misfire_grace_time=config.flush_interval, **single)
    scheduler.add_job(sync_job, "interval", seconds=config.sync_interval, id="sync", name="sync cycle",
                      args=(syncer, clock), misfire_grace_time=config.sync_interval, **single)
    return scheduler


def quiet_scheduler_logs() -> None:
    """Keep APScheduler's per-run INFO lines (one every flush_interval) out of the service log."""
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


def stop_on_sigterm() -> None:
    """Turn SIGTERM (systemd, docker stop) into the same clean stop as Ctrl-C, when running on the main thread."""
    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, handler)


def worker(config: Config, syncer: Any) -> None:
    """Run only the scheduler (flush and sync) in the foreground, for deployments with gunicorn in front."""
    queue = IntakeQueue.for_config(config)
    scheduler = build_scheduler(config, syncer, queue, blocking=True)
    stop_on_sigterm()
    quiet_scheduler_logs()
    log.info("sheetsync worker started (flush every %s s, sync every %s s)", config.flush_interval,
             config.sync_interval)
    try:
        scheduler.start()
    except KeyboardInterrupt:
        log.info("stopping")
        scheduler.shutdown(wait=True)
    finally:
        queue.close()
