"""One writer per pipeline: a second process waits for or reports the running one, and never interleaves."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import NOW

from sheetsync.cli import main
from sheetsync.config import load
from sheetsync.lock import FileLock, WriterBusy, pipeline_lock
from sheetsync.state import State
from sheetsync.stores import lock_target
from sheetsync.sync import Syncer

HOLD = """
import sys, time
from pathlib import Path
from sheetsync.lock import pipeline_lock
lock = pipeline_lock(Path(sys.argv[1]), sys.argv[2], "serve", shared_dir=Path(sys.argv[3]))
assert lock.acquire(0)
print("held", flush=True)
time.sleep(60)
"""


@pytest.fixture
def holder(tmp_path):
    """Start another process holding a pipeline's lock as `serve`; yield a function taking (state dir, target)."""
    procs: list[subprocess.Popen] = []

    def start(state_dir: Path, target: str, shared: Path) -> subprocess.Popen:
        proc = subprocess.Popen([sys.executable, "-c", HOLD, str(state_dir), target, str(shared)],
                                stdout=subprocess.PIPE, text=True)
        procs.append(proc)
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        return proc

    yield start
    for proc in procs:
        proc.kill()
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def test_a_second_process_is_told_who_is_syncing(excel, config, tmp_path, holder):
    from sheetsync.stores import lock_target

    proc = holder(config.state_path, lock_target(config), tmp_path / "locks")
    lock = pipeline_lock(config.state_path, lock_target(config), "sync", shared_dir=tmp_path / "locks")
    assert not lock.acquire(0) and lock.holder() == f"serve (pid {proc.pid})"
    syncer = Syncer(excel.store, config, State(config.state_path), clock=lambda: NOW, writer=lock, lock_wait=0)
    with pytest.raises(WriterBusy) as caught:
        syncer.run_cycle(NOW)
    assert str(caught.value) == f"serve (pid {proc.pid}) is syncing {excel.store.describe()}; try again in a moment."


def test_another_state_directory_on_the_same_workbook_is_still_excluded(tmp_path, holder):
    holder(tmp_path / "state-a", "workbook /x/pipeline.xlsx", tmp_path / "locks")
    other = pipeline_lock(tmp_path / "state-b", "workbook /x/pipeline.xlsx", "sync", shared_dir=tmp_path / "locks")
    assert not other.acquire(0)
    free = pipeline_lock(tmp_path / "state-b", "workbook /y/other.xlsx", "sync", shared_dir=tmp_path / "locks")
    assert free.acquire(0) and free.held()
    free.release()


def test_a_killed_holder_leaves_no_stuck_lock(tmp_path, holder):
    proc = holder(tmp_path / "state", "Google Sheet abc", tmp_path / "locks")
    proc.kill()
    proc.wait()
    lock = pipeline_lock(tmp_path / "state", "Google Sheet abc", "sync", shared_dir=tmp_path / "locks")
    assert lock.acquire(0)
    assert lock.holder() == f"sync (pid {os.getpid()})"
    lock.release()
    assert lock.holder() is None


def test_a_waiting_process_gets_the_lock_once_the_holder_is_done(tmp_path):
    first = FileLock(tmp_path / "w.lock", "serve")
    second = FileLock(tmp_path / "w.lock", "sync")
    assert first.acquire(0) and not second.acquire(0)
    threading.Timer(0.2, first.release).start()
    assert second.acquire(30)
    assert second.holder() == f"sync (pid {os.getpid()})"
    second.release()


def test_sync_from_the_command_line_reports_the_running_serve(tmp_path, monkeypatch, holder):
    monkeypatch.chdir(tmp_path)
    for var in ("SHEETSYNC_CONFIG", "SHEETSYNC_WORKBOOK", "SHEETSYNC_STORE", "SHEETSYNC_STATE_DIR"):
        monkeypatch.delenv(var, raising=False)
    runner = CliRunner()
    assert runner.invoke(main, ["init"]).exit_code == 0
    before = (tmp_path / "pipeline.xlsx").read_bytes()
    config = load()
    from sheetsync.lock import shared_lock_dir

    proc = holder(config.state_path, lock_target(config), shared_lock_dir())
    result = runner.invoke(main, ["sync", "--wait", "0"])
    assert result.exit_code == 1
    assert f"serve (pid {proc.pid}) is syncing " in result.output and "try again in a moment" in result.output
    assert (tmp_path / "pipeline.xlsx").read_bytes() == before


def test_two_syncers_on_one_pipeline_never_interleave(excel, config, tmp_path):
    inside: list[int] = []
    overlaps: list[str] = []
    real_read, real_write = excel.store.read, excel.store.write

    def tracked(fn):
        def run(*args, **kwargs):
            if inside:
                overlaps.append(fn.__name__)
            inside.append(1)
            try:
                time.sleep(0.01)
                return fn(*args, **kwargs)
            finally:
                inside.pop()
        return run

    excel.store.read, excel.store.write = tracked(real_read), tracked(real_write)
    syncers = []
    for role in ("serve", "sync"):
        lock = pipeline_lock(config.state_path, lock_target(config), role, shared_dir=tmp_path / "locks")
        syncers.append(Syncer(excel.store, config, State(config.state_path), clock=lambda: NOW, writer=lock,
                              lock_wait=60))
    errors: list[BaseException] = []

    def cycles(syncer: Syncer) -> None:
        try:
            for _ in range(4):
                syncer.run_cycle(NOW)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=cycles, args=(s,)) for s in syncers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and not overlaps
