"""The webhook web app: `create_app()` builds it; run it with `sheetsync serve` or `gunicorn 'webhook:create_app()'`.

Under gunicorn no scheduler starts in the workers: run one `sheetsync worker` beside it to flush the queue.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from flask import Flask
from flask.json.provider import DefaultJSONProvider

from sheetsync.backends import Backend, open_backend
from sheetsync.config import Config, ConfigError, load
from sheetsync.intake.mapping import check_field_map
from sheetsync.notify.outbox import Outbox
from sheetsync.pipelines import Pipeline, open_pipelines
from sheetsync.ports import Queue
from sheetsync.state import State
from sheetsync.worker_state import read_worker_status

from . import errors, followup_page, page, views
from .auth import log_signing
from .sources import SOURCES

EXTENSION = "sheetsync"
"""Key of the AppState in app.extensions."""


def utc_now() -> datetime:
    """Return the current time, timezone-aware in UTC."""
    return datetime.now(timezone.utc)


@dataclass
class AppState:
    """What the app shares between requests: settings, the queues, the clock and (in serve) the scheduler."""

    config: Config
    pipelines: dict[str, Pipeline]
    clock: Callable[[], datetime] = utc_now
    scheduler: Any = None
    outbox: Outbox | None = None
    """The notification outbox in the state directory, for its counts in /api/status."""
    backend: Backend | None = None

    @property
    def queue(self) -> Queue:
        """The queue of the only (or first) workspace: what `/hooks/<source>` writes to."""
        return self.pipelines[next(iter(self.pipelines))].queue

    def pipeline(self, workspace: str) -> Pipeline | None:
        """The pipeline a URL names, or None."""
        return self.pipelines.get(workspace)

    def scheduler_status(self) -> dict[str, Any]:
        """Describe the worker from its heartbeat in the state database, whichever process runs it."""
        state = State(self.config.state_path)
        try:
            status = read_worker_status(state, self.clock(), self.config.template)
        finally:
            state.close()
        if self.scheduler is not None:
            status["in_this_process"] = True
            status["jobs"] = [{"id": job.id, "next_run": job.next_run_time.isoformat() if job.next_run_time else None}
                              for job in self.scheduler.get_jobs()]
        return status

    def close(self) -> None:
        """Close every queue and connection the app opened."""
        for pipeline in self.pipelines.values():
            pipeline.close()
        if self.backend is not None:
            self.backend.close()


def create_app(config: Config | None = None) -> Flask:
    """Build the webhook app for `config` (read from sheetsync.toml and SHEETSYNC_* when None)."""
    config = config if config is not None else load()
    for name in config.workspace_names():
        problems = check_field_map(config.workspace(name).field_map)
        if problems:
            raise ConfigError(" ".join(problems))
    app = Flask(__name__)
    app.config.from_mapping(MAX_CONTENT_LENGTH=config.max_body, MAX_FORM_PARTS=50)
    if isinstance(app.json, DefaultJSONProvider):
        app.json.ensure_ascii = False
        app.json.sort_keys = False
    backend = open_backend(config)
    pipelines = {p.name: p for p in open_pipelines(config, backend)}
    app.extensions[EXTENSION] = AppState(config, pipelines, backend=backend,
                                         outbox=backend.outbox(config.workspace_name))
    errors.register(app)
    app.register_blueprint(views.bp)
    app.register_blueprint(followup_page.bp)
    log_signing(config, sorted(SOURCES))
    app.register_blueprint(page.bp)
    return app
