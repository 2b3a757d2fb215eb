"""Where the queue, the state and the locks live: SQLite files in state_dir (default) or PostgreSQL.

`open_backend(config)` picks by `database_url`: unset keeps today's files in `state_dir`; a postgresql://
URL puts everything in that database, shared by every web process and worker of the deployment.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

from ..ports import PipelineLock, Queue, StateStore

_PACERS: dict[tuple[str, float, int], Any] = {}
_PACERS_LOCK = threading.Lock()

DEFAULT_WORKSPACE = ""
"""The workspace of a config without [workspaces] sections: its files sit directly in state_dir."""


class Backend(ABC):
    """Opens the queue, state and lock of each workspace on one kind of database."""

    name = ""

    @abstractmethod
    def queue(self, workspace: str = DEFAULT_WORKSPACE) -> Queue:
        """The intake queue of a workspace."""

    @abstractmethod
    def state(self, workspace: str = DEFAULT_WORKSPACE) -> StateStore:
        """The small state of a workspace."""

    @abstractmethod
    def lock(self, workspace: str = DEFAULT_WORKSPACE) -> PipelineLock:
        """The lock that lets one process at a time write a workspace's pipeline."""

    @abstractmethod
    def outbox(self, workspace: str = DEFAULT_WORKSPACE) -> Any:
        """The notification outbox of a workspace (the log that keeps a notice from being sent twice)."""

    def pacer(self, account: str, per_minute: float, burst: int) -> Any:
        """The request pacer of a Google account: here one per account shared by this process's workspaces."""
        from ..stores.google_http import Pacer

        with _PACERS_LOCK:
            return _PACERS.setdefault((account, per_minute, burst), Pacer(per_minute, burst))

    def cycle_lock(self, workspace: str, config: Any, role: str) -> PipelineLock | None:
        """The lock a syncer takes around each cycle, or None when holding `lock()` already covers it."""
        return None

    def migrate(self) -> list[int]:
        """Create or upgrade the database schema; return the versions applied."""
        return []

    @abstractmethod
    def describe(self) -> str:
        """Where the data lives, for messages."""

    def close(self) -> None:  # noqa: B027 - SQLite files need no closing here; subclasses override
        """Release every connection."""


class ProcessLock(PipelineLock):
    """One holder at a time within this process: the tenure lock of SQLite pipelines.

    Across processes on one host, the file lock each cycle takes (`cycle_lock`) keeps writers apart.
    """

    _held: dict[str, threading.Lock] = {}
    _guard = threading.Lock()

    def __init__(self, name: str) -> None:
        with self._guard:
            self._lock = self._held.setdefault(name, threading.Lock())
        self._mine = False
        self.fence = 0

    def acquire(self, timeout: float = 0) -> bool:
        if self._mine:
            return True
        self._mine = self._lock.acquire(timeout=timeout) if timeout > 0 else self._lock.acquire(blocking=False)
        if self._mine:
            self.fence += 1
        return self._mine

    def release(self) -> None:
        if self._mine:
            self._mine = False
            self._lock.release()

    def held(self) -> bool:
        return self._mine


class SqliteBackend(Backend):
    """SQLite files in state_dir: intake.db and state.db, one folder per named workspace."""

    name = "sqlite"

    def __init__(self, state_dir: Path, **limits: Any) -> None:
        self.state_dir = Path(state_dir)
        self.limits = limits
        """Queue retry limits (max_attempts, max_age_hours) from the config."""

    def folder(self, workspace: str) -> Path:
        """The folder holding a workspace's files."""
        return self.state_dir / "workspaces" / workspace if workspace else self.state_dir

    def queue(self, workspace: str = DEFAULT_WORKSPACE) -> Queue:
        from ..intake.queue import IntakeQueue

        return IntakeQueue(self.folder(workspace), **self.limits)

    def state(self, workspace: str = DEFAULT_WORKSPACE) -> StateStore:
        from ..state import State

        return State(self.folder(workspace))

    def lock(self, workspace: str = DEFAULT_WORKSPACE) -> PipelineLock:
        return ProcessLock(str(self.folder(workspace).resolve()))

    def outbox(self, workspace: str = DEFAULT_WORKSPACE) -> Any:
        from ..notify.outbox import SqliteOutbox

        return SqliteOutbox.for_state_dir(self.folder(workspace))

    def cycle_lock(self, workspace: str, config: Any, role: str) -> PipelineLock | None:
        """The local file lock around each cycle, so serve, worker and `sync` on one host never interleave."""
        from ..lock import pipeline_lock
        from ..stores import lock_target

        return pipeline_lock(self.folder(workspace), lock_target(config), role)

    def describe(self) -> str:
        return f"SQLite files in {self.state_dir}"


class PostgresBackend(Backend):
    """Every workspace's queue, state and locks in one PostgreSQL database."""

    name = "postgresql"

    def __init__(self, url: str, **limits: Any) -> None:
        from .postgres import Database

        self.url = url
        self.db = Database(url)
        self.limits = limits
        self._lock_session: Any = None

    def queue(self, workspace: str = DEFAULT_WORKSPACE) -> Queue:
        from .postgres import PostgresQueue

        return PostgresQueue(self.db, workspace, **self.limits)

    def state(self, workspace: str = DEFAULT_WORKSPACE) -> StateStore:
        from .postgres import PostgresState

        return PostgresState(self.db, workspace)

    def lock(self, workspace: str = DEFAULT_WORKSPACE) -> PipelineLock:
        from .postgres import AdvisoryLock, LockSession

        if self._lock_session is None:
            self._lock_session = LockSession(self.url)
        return AdvisoryLock(self.url, workspace, session=self._lock_session)

    def outbox(self, workspace: str = DEFAULT_WORKSPACE) -> Any:
        from .pg_outbox import PostgresOutbox

        return PostgresOutbox(self.db, workspace)

    def pacer(self, account: str, per_minute: float, burst: int) -> Any:
        from .postgres import SharedPacer

        return SharedPacer(self.db, account, per_minute, burst)

    def migrate(self) -> list[int]:
        return self.db.migrate()

    def describe(self) -> str:
        from .postgres import redact

        return f"PostgreSQL {redact(self.url)}"

    def close(self) -> None:
        self.db.close()
        if self._lock_session is not None:
            with self._lock_session.mutex:
                self._lock_session.drop()


def is_postgres_url(url: str) -> bool:
    """Whether a database_url names PostgreSQL."""
    return url.strip().lower().startswith(("postgresql://", "postgres://"))


def open_backend(config: Any) -> Backend:
    """The backend the config selects; PostgreSQL schemas are created or upgraded here, before first use."""
    url = getattr(config, "database_url", "") or ""
    limits = {"max_attempts": config.intake_max_attempts, "max_age_hours": config.intake_max_age_hours}
    if is_postgres_url(url):
        backend = PostgresBackend(url.strip(), **limits)
        backend.migrate()
        return backend
    return SqliteBackend(Path(config.state_path), **limits)
