"""A deployment's pipelines: one per workspace (or one for a config without workspaces), each with its own
store, queue, state and lock, built lazily so one workspace's broken setup never stops another's."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from .backends import Backend
from .config import Config
from .ports import PipelineLock, Queue, StateStore
from .sync import Syncer

log = logging.getLogger(__name__)

QUOTA_BURST = 8
"""Requests an idle account may send at once before pacing starts."""
FENCE_HEADER = "X-Sheetsync-Fence"
"""Sent with every Sheets request: '<workspace>:<lock generation>', so a request log shows who wrote."""


class Pipeline:
    """One workspace of a deployment: its settings and, opened on first use, its queue, state, lock and store."""

    def __init__(self, name: str, config: Config, backend: Backend, role: str = "worker") -> None:
        self.name = name
        self.role = role
        """Who runs this pipeline (serve, worker, sync), named in 'busy' messages."""
        self.config = config
        self.backend = backend
        self._queue: Queue | None = None
        self._state: StateStore | None = None
        self._lock: PipelineLock | None = None
        self._syncer: Syncer | None = None
        self._mutex = threading.Lock()
        self.taken_over = False
        """Set when this process just took the lock: deliveries a dead holder left half-sent are marked first."""

    @property
    def label(self) -> str:
        """The workspace name for messages ("default" for a config without workspaces)."""
        return self.name or "default"

    @property
    def queue(self) -> Queue:
        with self._mutex:
            if self._queue is None:
                self._queue = self.backend.queue(self.name)
            return self._queue

    @property
    def state(self) -> StateStore:
        with self._mutex:
            if self._state is None:
                self._state = self.backend.state(self.name)
            return self._state

    @property
    def lock(self) -> PipelineLock:
        with self._mutex:
            if self._lock is None:
                self._lock = self.backend.lock(self.name)
            return self._lock

    def pacer_for(self, account: str) -> Any:
        """The request pacer of a Google account, shared through the backend when it can be."""
        return self.backend.pacer(account, self.config.google_requests_per_minute, QUOTA_BURST)

    def syncer(self) -> Syncer:
        """The syncer for this workspace's store, built on first use (a broken setup raises here, every time)."""
        if self._syncer is None:
            from .intake.queue import set_aside
            from .notify.notifier import Notifier
            from .stores import open_store

            store = open_store(self.config, self.pacer_for)
            writer = self.backend.cycle_lock(self.name, self.config, self.role)
            queue, tz = self.queue, self.config.tz
            syncer = Syncer(store, self.config, self.state, writer=writer, attention=lambda: set_aside(queue, tz))
            notifier = Notifier(self.config, self.backend.outbox(self.name))
            syncer.notifier = notifier
            syncer.after_write.append(notifier.on_write)
            syncer.after_sync.append(notifier.on_sync)
            syncer.plan_wanted.append(notifier.wants_plan)
            self._syncer = syncer
            self.mark_fence()
        return self._syncer

    def mark_fence(self) -> None:
        """Tag this workspace's Sheets requests with the lock generation this process holds."""
        http = getattr(self._syncer.store, "http", None) if self._syncer else None
        session = getattr(http, "session", None)
        if session is not None:
            session.headers[FENCE_HEADER] = f"{self.label}:{getattr(self._lock, 'fence', 0)}"

    def close(self) -> None:
        """Release the lock and every connection this pipeline opened."""
        for part in (self._lock,):
            if part is not None:
                part.release()
        for closable in (self._queue, self._state):
            if closable is not None:
                closable.close()


def open_pipelines(config: Config, backend: Backend, only: str | None = None, role: str = "worker") -> list[Pipeline]:
    """Every workspace's pipeline (or just `only`), in name order."""
    names = [only] if only is not None else list(config.workspace_names())
    return [Pipeline(name, config.workspace(name), backend, role) for name in names]


def syncer_factory(pipeline: Pipeline) -> Callable[[], Syncer]:
    """A callable building (once) and returning the pipeline's syncer."""
    return pipeline.syncer
