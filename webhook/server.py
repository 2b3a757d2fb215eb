"""`sheetsync serve`: the webhook app under waitress, the scheduler in a worker process it starts (or in-process)."""

from __future__ import annotations

import errno
import json
import logging
import os
import subprocess
import sys
from collections.abc import Callable
from typing import Any

from waitress import create_server
from waitress.channel import HTTPChannel
from waitress.task import ErrorTask

from sheetsync.config import Config
from sheetsync.messages import say
from sheetsync.runner import (
    PARENT_ENV,
    Notice,
    build_pipeline_scheduler,
    build_scheduler,
    finishing,
    heartbeat_for,
    quiet_scheduler_logs,
    runs_pipelines,
    stop_on_sigterm,
)
from sheetsync.sync import Syncer

from . import EXTENSION, create_app
from .errors import HTTP_MESSAGES

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
        server = create_server(app, map=channels, host=host, port=port, threads=SERVER_THREADS,
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
    answer_errors_as_json(server, config.max_body)
    return server


def serve(config: Config, syncer: Syncer | None = None, on_ready: Callable[[str], None] | None = None,
          notice: Notice = log.warning) -> None:
    """Serve the webhook app until Ctrl+C or SIGTERM, then stop cleanly; flush and sync run in a `sheetsync worker`
    child process (worker_process, the default) or, with worker_process = false, in this process."""
    app = create_app(config)
    state = app.extensions[EXTENSION]
    try:
        server = bind(app, config)
    except ServeError:
        state.close()
        raise
    heartbeat = heartbeat_for(config, "serve")
    child: subprocess.Popen[bytes] | None = None
    scheduler: Any = None
    if config.worker_process:
        child = spawn_worker(config)
    elif runs_pipelines(config):
        if syncer is not None and "" in state.pipelines:
            state.pipelines[""]._syncer = syncer
        scheduler = build_pipeline_scheduler(config, list(state.pipelines.values()), blocking=False,
                                             clock=state.clock, heartbeat=heartbeat)
    else:
        if syncer is None:
            syncer = state.pipelines[""].syncer()
        scheduler = build_scheduler(config, syncer, state.queue, blocking=False, clock=state.clock,
                                    heartbeat=heartbeat)
    state.scheduler = scheduler
    stop_on_sigterm()
    quiet_scheduler_logs()
    heartbeat.beat(state.clock())
    if scheduler is not None:
        scheduler.start()
    if on_ready is not None:
        on_ready(f"http://{server.effective_host}:{server.effective_port}")
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    with finishing(syncer, notice):
        server.close()
        if scheduler is not None:
            scheduler.shutdown(wait=True)
        if child is not None:
            stop_worker(child)
        heartbeat.stopped(state.clock())
        state.close()


def spawn_worker(config: Config) -> subprocess.Popen[bytes]:
    """Start `sheetsync worker` on the same settings; it stops by itself if this process dies."""
    env = dict(os.environ)
    if config.source is not None:
        env["SHEETSYNC_CONFIG"] = str(config.source)
    env[PARENT_ENV] = str(os.getpid())
    log.info("flush and sync run in a separate worker process (worker_process = false keeps them here)")
    return subprocess.Popen([sys.executable, "-c", "from sheetsync.cli import main; main()", "worker"], env=env)


def stop_worker(child: subprocess.Popen[bytes]) -> None:
    """Ask the worker to finish its current write and stop (SIGTERM), then wait for it."""
    if child.poll() is None:
        child.terminate()
    try:
        child.wait(120)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


def _json_error_task(max_body: int) -> type[ErrorTask]:
    class JsonErrorTask(ErrorTask):
        """Waitress's own refusals (body over its cap, broken chunking, bad headers) as our JSON errors."""

        def execute(self) -> None:
            error = self.request.error
            code = int(getattr(error, "code", 400))
            if code == 413:
                message = HTTP_MESSAGES[413].format(max_body=max_body)
            else:
                message = (f"The request could not be read ({getattr(error, 'reason', 'bad request')}): send "
                           "an HTTP/1.1 POST with a Content-Type and a body of at most max_body bytes.")
            reason = str(getattr(error, "reason", "Bad Request"))
            body = json.dumps({"error": reason.lower().replace(" ", "_"), "message": message}).encode("utf-8")
            self.status = f"{code} {reason}"
            self.response_headers.append(("Content-Type", "application/json"))
            self.set_close_on_finish()
            self.content_length = len(body)
            self.write(body)

    return JsonErrorTask


def answer_errors_as_json(server: Any, max_body: int) -> None:
    """Make a waitress server answer the errors it raises itself (413, bad chunking…) with JSON, like the app."""
    channel = type("JsonErrorChannel", (HTTPChannel,), {"error_task_class": _json_error_task(max_body)})
    servers = [server] if hasattr(server, "channel_class") else list(getattr(server, "map", {}).values())
    for each in servers:
        if hasattr(each, "channel_class"):
            each.channel_class = channel
