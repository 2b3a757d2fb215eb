"""One writer per pipeline: a cross-process lock taken around every read-plan-write cycle.

`ports.PipelineLock` is the port (acquire with a bounded wait, release, describe the holder); `FileLock` is
the local adapter (an OS lock on a small file, released by the kernel when the process dies, so a killed
process never leaves it stuck). Another backend (a database advisory lock) implements the same port.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from .messages import say
from .ports import LockUnavailable, PipelineLock, StoreError

WAIT_SECONDS = 15.0
"""How long a cycle waits for another process's cycle to finish before reporting it as busy."""
POLL_SECONDS = 0.05
"""How often a waiting process tries the lock again."""


class WriterBusy(StoreError, LockUnavailable):
    """Another process is reading and writing the same pipeline; try again when it is done."""


def busy_message(holder: str | None, what: str, language: str = "en") -> str:
    """Say who is syncing `what` (a store's description) and that the user should try again shortly."""
    if holder:
        return say("nothinglost.busy", language, holder=holder, what=what)
    return say("nothinglost.busy_unknown", language, what=what)


def _try_lock(fh: IO[Any]) -> bool:
    """Take an exclusive, non-blocking OS lock on an open file; False when another holder has it."""
    if os.name == "nt":  # pragma: no cover - exercised on Windows only
        import msvcrt

        try:
            fh.seek(0)
            msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _unlock(fh: IO[Any]) -> None:
    if os.name == "nt":  # pragma: no cover - exercised on Windows only
        import msvcrt

        fh.seek(0)
        msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)  # type: ignore[attr-defined]
        return
    import fcntl

    fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


class FileLock(PipelineLock):
    """An exclusive lock on `path`, with who holds it written inside (role, pid, host) for the others to read.

    flock locks belong to the open file, so two cycles of the same process on the same file exclude each
    other too, and the kernel drops the lock when its process dies.
    """

    def __init__(self, path: Path, role: str) -> None:
        self.path = Path(path)
        self.role = role
        self._fh: IO[Any] | None = None

    def acquire(self, timeout: float = 0) -> bool:
        if self._fh is not None:
            raise RuntimeError(f"{self.path} is already held by this lock object.")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - kept open while the lock is held
        deadline = time.monotonic() + max(0.0, timeout)
        while not _try_lock(fh):
            if time.monotonic() >= deadline:
                fh.close()
                return False
            time.sleep(POLL_SECONDS)
        fh.seek(0)
        fh.truncate()
        fh.write(json.dumps({"role": self.role, "pid": os.getpid(), "host": socket.gethostname(),
                             "since": time.time()}))
        fh.flush()
        self._fh = fh
        return True

    def release(self) -> None:
        fh, self._fh = self._fh, None
        if fh is None:
            return
        try:
            fh.seek(0)
            fh.truncate()
            fh.flush()
            _unlock(fh)
        finally:
            fh.close()

    def held(self) -> bool:
        return self._fh is not None

    def holder(self) -> str | None:
        try:
            info = json.loads(self.path.read_text(encoding="utf-8") or "null")
        except (OSError, ValueError):
            return None
        if not isinstance(info, dict) or "pid" not in info:
            return None
        host = "" if info.get("host") in (None, socket.gethostname()) else f" on {info['host']}"
        return f"{info.get('role') or 'sheetsync'} (pid {info['pid']}{host})"


class LockSet(PipelineLock):
    """Several locks taken in a fixed order and released in reverse: all of them or none."""

    def __init__(self, locks: Sequence[PipelineLock]) -> None:
        self.locks = list(locks)
        self._taken: list[PipelineLock] = []

    def acquire(self, timeout: float = 0) -> bool:
        deadline = time.monotonic() + max(0.0, timeout)
        try:
            for lock in self.locks:
                if not lock.acquire(max(0.0, deadline - time.monotonic())):
                    self.release()
                    return False
                self._taken.append(lock)
        except BaseException:
            self.release()
            raise
        return True

    def release(self) -> None:
        while self._taken:
            self._taken.pop().release()

    def held(self) -> bool:
        return bool(self.locks) and len(self._taken) == len(self.locks) and all(lk.held() for lk in self._taken)

    def holder(self) -> str | None:
        return next((h for lock in self.locks if (h := lock.holder()) is not None), None)


def shared_lock_dir() -> Path:
    """The per-user folder holding locks on workbooks and spreadsheets, shared by every state directory."""
    return Path(tempfile.gettempdir()) / f"sheetsync-locks-{os.getuid() if hasattr(os, 'getuid') else 'user'}"


def pipeline_lock(state_dir: Path, target: str, role: str, shared_dir: Path | None = None) -> PipelineLock:
    """The lock one process takes to sync: its state directory, then the workbook file or spreadsheet `target`."""
    digest = hashlib.sha256(target.encode("utf-8")).hexdigest()[:16]
    where = shared_dir if shared_dir is not None else shared_lock_dir()
    return LockSet([FileLock(Path(state_dir) / "writer.lock", role), FileLock(where / f"{digest}.lock", role)])
