"""The CLI talks: one line per cycle, -v anywhere, a busy port in one line, Ctrl+C without a traceback, zh text."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest

from sheetsync.cli import main
from sheetsync.config import Config
from sheetsync.intake.queue import Incoming, IntakeQueue
from sheetsync.runner import flush_job, sync_job
from sheetsync.state import State
from sheetsync.stores.base import StoreError
from sheetsync.sync import IntakeResult

NOW = datetime(2026, 11, 28, 9, 30, tzinfo=timezone.utc)


class CountingSyncer:
    """A syncer whose store sends `per_cycle` API requests per cycle, like the Google store does."""

    def __init__(self, per_cycle: int = 0, fail: Exception | None = None, template: str = "en") -> None:
        self.config = Config(template=template)
        self.store = SimpleNamespace(http=SimpleNamespace(sent=0)) if per_cycle else SimpleNamespace()
        self.per_cycle, self.fail = per_cycle, fail
        self.stopping = threading.Event()

    def _spend(self) -> None:
        if self.per_cycle:
            self.store.http.sent += self.per_cycle

    def run_cycle(self, now=None):
        self._spend()
        if self.fail:
            raise self.fail
        return SimpleNamespace(line=lambda language="en": "7 opportunities: 1 new IDs")

    def flush(self, submissions, now):
        self._spend()
        return IntakeResult([s.key for s in submissions], [], {})


def test_sync_job_logs_what_changed_how_long_and_requests_used(caplog):
    caplog.set_level(logging.INFO, "sheetsync")
    sync_job(CountingSyncer(per_cycle=3), clock=lambda: NOW)
    line = [r.getMessage() for r in caplog.records if r.name == "sheetsync.runner"]
    assert len(line) == 1
    assert line[0].startswith("sync: 7 opportunities: 1 new IDs (") and line[0].endswith(" s, 3 requests)")


def test_sync_job_on_the_workbook_says_no_api_requests(caplog):
    caplog.set_level(logging.INFO, "sheetsync")
    sync_job(CountingSyncer(), clock=lambda: NOW)
    assert "no API requests" in caplog.text


def test_a_failing_sync_logs_its_fix_and_when_it_runs_again(caplog):
    sync_job(CountingSyncer(fail=StoreError("The workbook x.xlsx does not exist: run `sheetsync init`.")),
             clock=lambda: NOW)
    assert "sync failed, nothing was written; it runs again in 300 s: The workbook x.xlsx does not exist: run " \
           "`sheetsync init`." in caplog.text


def test_flush_job_logs_one_line_when_it_landed_something_and_nothing_when_idle(tmp_path, caplog):
    caplog.set_level(logging.INFO, "sheetsync")
    queue = IntakeQueue(tmp_path)
    try:
        flush_job(queue, CountingSyncer(per_cycle=2), clock=lambda: NOW)
        assert not [r for r in caplog.records if r.name == "sheetsync.runner"]
        for i in range(3):
            queue.submit(Incoming("generic", "create", {"customer": str(i)}, str(i).encode()), NOW)
        flush_job(queue, CountingSyncer(per_cycle=2), clock=lambda: NOW)
    finally:
        queue.close()
    lines = [r.getMessage() for r in caplog.records if r.name == "sheetsync.runner"]
    assert len(lines) == 1 and lines[0].startswith("flush: 3 landed, 0 already in the sheet, 0 waiting, 0 to retry")
    assert lines[0].endswith("2 requests)")


def test_zh_log_lines_are_chinese(caplog):
    caplog.set_level(logging.INFO, "sheetsync")
    sync_job(CountingSyncer(template="zh"), clock=lambda: NOW)
    assert "同步：" in caplog.text and "无接口请求" in caplog.text


@pytest.mark.parametrize("args", [["-v", "sync"], ["sync", "-v"], ["sync", "--verbose"], ["sync", "-vv"]])
def test_verbose_works_before_or_after_the_command_and_shows_progress(runner, args):
    assert runner.invoke(main, ["init"]).exit_code == 0
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "Reading workbook" in result.output and "Planning 10 rows" in result.output
    assert "Writing " in result.output and "Synced workbook" in result.output


def test_without_verbose_a_sync_in_a_script_prints_only_its_result(runner):
    runner.invoke(main, ["init"])
    result = runner.invoke(main, ["sync"])
    assert "Reading workbook" not in result.output and "Synced workbook" in result.output


def test_zh_template_speaks_chinese(runner):
    assert runner.invoke(main, ["init", "--template", "zh"]).exit_code == 0
    result = runner.invoke(main, ["sync"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("已同步 workbook")


def test_a_busy_port_is_one_line_naming_the_port_and_the_setting(runner):
    assert runner.invoke(main, ["init"]).exit_code == 0
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = runner.invoke(main, ["serve", "--port", str(port)])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines == [f"Error: Port {port} on 127.0.0.1 is already in use (another sheetsync serve?): stop that "
                     "program, or choose another port with --port, `port` in sheetsync.toml or SHEETSYNC_PORT."]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(proc: subprocess.Popen, port: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("sheetsync serve did not listen within 20 s")


@pytest.mark.skipif(not hasattr(signal, "SIGINT") or os.name != "posix", reason="needs POSIX signals")
@pytest.mark.parametrize("gap, worker_process", [(0.05, "true"), (0.0, "true"), (0.0, "false")],
                         ids=["a-moment-apart", "back-to-back", "back-to-back-one-process"])
def test_ctrl_c_twice_finishes_the_write_and_exits_without_a_traceback(runner, tmp_path, gap, worker_process):
    assert runner.invoke(main, ["init"]).exit_code == 0
    port = _free_port()
    env = {**os.environ, "SHEETSYNC_PORT": str(port), "SHEETSYNC_FLUSH_INTERVAL": "1",
           "SHEETSYNC_WORKER_PROCESS": worker_process}
    env.pop("SHEETSYNC_CONFIG", None)
    proc = subprocess.Popen([sys.executable, "-c", "from sheetsync.cli import main; main()", "serve"], cwd=tmp_path,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        _wait_for(proc, port)
        deadline = time.monotonic() + 20
        while not State(tmp_path / ".sheetsync").get("last_sync") and time.monotonic() < deadline:
            time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        time.sleep(gap)
        proc.send_signal(signal.SIGINT)
        output, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, output
    assert "Traceback" not in output
    assert "webhook on http://127.0.0.1:" in output
    assert "sync: 10 opportunities: 10 new IDs" in output
    assert "Stopping: finishing the current write…" in output and output.rstrip().endswith("Stopped.")


def test_a_cycle_that_has_not_started_writing_skips_its_write_when_stopping(runner, tmp_path):
    from sheetsync.cli import build_syncer
    from sheetsync.config import load
    from sheetsync.sync import Stopping

    runner.invoke(main, ["init"])
    before = (tmp_path / "pipeline.xlsx").read_bytes()
    syncer = build_syncer(load())
    syncer.stopping.set()
    with pytest.raises(Stopping):
        syncer.run_cycle(NOW)
    assert (tmp_path / "pipeline.xlsx").read_bytes() == before


def test_the_server_extra_brings_gunicorn():
    from pathlib import Path

    from sheetsync.config import tomllib

    project = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())["project"]
    assert any(dep.startswith("gunicorn") for dep in project["optional-dependencies"]["server"])


def test_the_chinese_readme_is_linked_first_and_has_the_same_two_commands():
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    english = (root / "README.md").read_text(encoding="utf-8")
    chinese = (root / "README.zh-CN.md").read_text(encoding="utf-8")
    assert "(README.zh-CN.md)" in english.split("\n## ")[0]
    commands = [block.split("```", 1)[0].strip() for block in english.split("```sh\n")[1:3]]
    assert all(command in chinese for command in commands)
