"""The webhook web app: `create_app()` builds it; run it with `sheetsync serve` or `gunicorn 'webhook:create_app()'`.

Under gunicorn no scheduler starts in the workers: run one `sheetsync worker` beside it to flush the queue.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from flask import Flask

from sheetsync.config import Config, ConfigError, load
from sheetsync.intake.mapping import check_field_map
from sheetsync.intake.queue import IntakeQueue
from sheetsync.ports import Queue

from . import errors, views

EXTENSION = "sheetsync"
"""Key of the AppState in app.extensions."""


def utc_now() -> datetime:
    """Return the current time, timezone-aware in UTC."""
    return datetime.now(timezone.utc)


@dataclass
class AppState:
    """What the app shares between requests: settings, the queue, the clock and (in serve) the scheduler."""

    config: Config
    queue: Queue
    clock: Callable[[], datetime] = utc_now
    scheduler: Any = None

    def scheduler_status(self) -> dict[str, Any]:
        """Describe the scheduler running in this process, if any."""
        if self.scheduler is None:
            return {"running": False, "note": "No scheduler in this process: run `sheetsync worker` (or "
                    "`sheetsync serve`) so the queue reaches the sheet."}
        jobs = [{"id": job.id, "next_run": job.next_run_time.isoformat() if job.next_run_time else None}
                for job in self.scheduler.get_jobs()]
        return {"running": bool(self.scheduler.running), "jobs": jobs}


def create_app(config: Config | None = None) -> Flask:
    """Build the webhook app for `config` (read from sheetsync.toml and SHEETSYNC_* when None)."""
    config = config if config is not None else load()
    problems = check_field_map(config.field_map)
    if problems:
        raise ConfigError(" ".join(problems))
    app = Flask(__name__)
    app.config.from_mapping(MAX_CONTENT_LENGTH=config.max_body, MAX_FORM_PARTS=50)
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    app.extensions[EXTENSION] = AppState(config, IntakeQueue.for_config(config))
    errors.register(app)
    app.register_blueprint(views.bp)
    return app
