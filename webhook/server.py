"""`sheetsync serve`: the webhook app under waitress with the scheduler in the same process."""

from __future__ import annotations

import logging
from typing import Any

from waitress import create_server

from sheetsync.config import Config
from sheetsync.runner import build_scheduler, quiet_scheduler_logs, stop_on_sigterm

from . import EXTENSION, create_app

log = logging.getLogger(__name__)

SERVER_THREADS = 8
"""Waitress worker threads for `serve`."""


def serve(config: Config, syncer: Any, host: str | None = None, port: int | None = None) -> None:
    """Serve the webhook app under waitress with the scheduler in the same process, until interrupted."""
    app = create_app(config)
    state = app.extensions[EXTENSION]
    scheduler = build_scheduler(config, syncer, state.queue, blocking=False, clock=state.clock)
    state.scheduler = scheduler
    server = create_server(app, host=host or config.host, port=port or config.port, threads=SERVER_THREADS,
                           max_request_body_size=config.max_body + 1024)
    stop_on_sigterm()
    quiet_scheduler_logs()
    scheduler.start()
    log.info("sheetsync serving on http://%s:%s (flush every %s s, sync every %s s)", server.effective_host,
             server.effective_port, config.flush_interval, config.sync_interval)
    try:
        server.run()
    except KeyboardInterrupt:
        log.info("stopping")
    finally:
        server.close()
        scheduler.shutdown(wait=True)
        state.queue.close()
