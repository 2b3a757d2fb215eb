"""`serve` (worker_process = true, the default): leads land through the worker it starts, which dies with it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date

import pytest
from test_serve_sigkill import SECRET, free_port, post_lead, request

from sheetsync.stores.excel import ExcelStore
from sheetsync.template import load_layout

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")]


def children_of(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = subprocess.run(["ps", "-o", "stat=", "-p", str(pid)], capture_output=True, text=True).stdout.strip()
    return bool(state) and not state.startswith("Z")


def test_leads_land_through_the_worker_process_and_it_stops_when_serve_is_killed(tmp_path):
    workbook = tmp_path / "pipeline.xlsx"
    ExcelStore(workbook).setup(load_layout("en", date.today()))
    port = free_port()
    env = {**os.environ, "SHEETSYNC_WORKBOOK": "pipeline.xlsx", "SHEETSYNC_STATE_DIR": "state",
           "SHEETSYNC_HOST": "127.0.0.1", "SHEETSYNC_PORT": str(port), "SHEETSYNC_FLUSH_INTERVAL": "1",
           "SHEETSYNC_SYNC_INTERVAL": "3600", "SHEETSYNC_SECRET_GENERIC": SECRET}
    env.pop("SHEETSYNC_CONFIG", None)
    env.pop("SHEETSYNC_WORKER_PROCESS", None)  # the default
    serve = subprocess.Popen([sys.executable, "-c", "from sheetsync.cli import main; main()", "serve"], cwd=tmp_path,
                             env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    worker = None
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if request(port, "GET", "/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        status, body = post_lead(port, 1)
        assert status == 202
        while time.monotonic() < deadline:
            rows = ExcelStore(workbook).read(["opportunities"]).tabs["opportunities"].rows
            if any(r and r[0] == body["id"] for r in rows):
                break
            time.sleep(0.2)
        else:
            raise AssertionError("the lead did not land within 20 s")
        (worker,) = children_of(serve.pid)
        serve.send_signal(signal.SIGKILL)
        serve.wait()
        deadline = time.monotonic() + 15
        while alive(worker) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not alive(worker), "the worker outlived the serve process that started it"
    finally:
        if serve.poll() is None:
            serve.kill()
            serve.wait()
        if worker is not None and alive(worker):
            os.kill(worker, signal.SIGKILL)
