"""`sheetsync serve`: the webhook app under waitress with the scheduler in the same process."""

from __future__ import annotations

import errno
import logging
from collections.abc import Callable
from typing import Any

from waitress import create_server

from sheetsync.config import Config
from sheetsync.messages import say
from sheetsync.runner import Notice, build_scheduler, finishing, heartbeat_for, quiet_scheduler_logs, stop_on_sigterm

from . import EXTENSION, create_app

log = logging.getLogger(__name__)

SERVER_THREADS = 8
"""Waitress worker threads for `serve`."""


class ServeError(Exception):
    """The web server cannot listen where it was told to; the message names the address and the setting."""


def bind(app: Any, config: Config) -> Any:
    """Create the waitress server on config.host:config.port, or raise ServeError naming the setting to change."""
    host, port = config.host, config.port
    channels: dict[int, Any] = {}
    try:
        return create_server(app, map=channels, host=host, port=port, threads=SERVER_THREADS,
                             max_request_body_size=config.max_body + 1024)
    except OSError as exc:
        for channel in list(channels.values()):  # waitress leaves its half-made sockets open
            channel.close()
        if exc.errno == errno.EADDRINUSE:
            raise ServeError(say("page.port_busy", config.template, host=host, port=port)) from None
        if exc.errno == errno.EACCES:
            raise ServeError(say("page.port_denied", config.template, host=host, port=port)) from None
        raise ServeError(say("page.host_bad", config.template, host=host, port=port,
                             error=exc.strerror or exc)) from None


def serve(config: Config, syncer: Any, on_ready: Callable[[str], None] | None = None,
          notice: Notice = log.warning) -> None:
    """Serve the webhook app with the scheduler in the same process until Ctrl+C or SIGTERM, then stop cleanly."""
    app = create_app(config)
    state = app.extensions[EXTENSION]
    try:
        server = bind(app, config)
    except ServeError:
        state.queue.close()
        raise
    heartbeat = heartbeat_for(config, "serve")
    scheduler = build_scheduler(config, syncer, state.queue, blocking=False, clock=state.clock, heartbeat=heartbeat)
    state.scheduler = scheduler
    stop_on_sigterm()
    quiet_scheduler_logs()
    heartbeat.beat(state.clock())
    scheduler.start()
    if on_ready is not None:
        on_ready(f"http://{server.effective_host}:{server.effective_port}")
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    with finishing(syncer, notice):
        server.close()
        scheduler.shutdown(wait=True)
        heartbeat.stopped(state.clock())
        state.queue.close()
