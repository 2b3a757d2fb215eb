"""A real `sheetsync serve` process killed with SIGKILL mid-intake and mid-flush loses and doubles nothing."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from sheetsync.stores.excel import ExcelStore
from sheetsync.template import load_layout
from webhook.signing import sheetsync_header

TOKEN = "sigkill-status-token-0123"
AUTH = {"Authorization": f"Bearer {TOKEN}"}

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")]

SECRET = "kill-test-secret"
LEADS = 120
FALLBACK = ("from sheetsync.cli import build_syncer; from sheetsync.config import load; "
            "from webhook.server import serve; c = load(); serve(c, build_syncer(c))")


def serve_command() -> list[str]:
    """Return `sheetsync serve` once the CLI has it, else the same library call it makes."""
    from sheetsync import cli

    if "serve" in getattr(cli.main, "commands", {}):
        return [sys.executable, "-c", "from sheetsync.cli import main; main()", "serve"]
    return [sys.executable, "-c", FALLBACK]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One `sheetsync serve` process at a time, restarted after each kill."""

    def __init__(self, cwd: Path, port: int) -> None:
        self.cwd, self.port = cwd, port
        self.env = {**os.environ, "SHEETSYNC_WORKBOOK": "pipeline.xlsx", "SHEETSYNC_STATE_DIR": "state",
                    "SHEETSYNC_HOST": "127.0.0.1", "SHEETSYNC_PORT": str(port), "SHEETSYNC_FLUSH_INTERVAL": "1",
                    "SHEETSYNC_SYNC_INTERVAL": "3600", "SHEETSYNC_SECRET_GENERIC": SECRET,
                    "SHEETSYNC_API_TOKEN": TOKEN}
        self.env.pop("SHEETSYNC_CONFIG", None)
        self.proc: subprocess.Popen | None = None
        self.ready = threading.Event()
        self.kills: list[str] = []

    def start(self) -> None:
        self.ready.clear()
        self.proc = subprocess.Popen(serve_command(), cwd=self.cwd, env=self.env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"sheetsync serve exited with {self.proc.returncode}")
            try:
                if request(self.port, "GET", "/healthz")[0] == 200:
                    self.ready.set()
                    return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("sheetsync serve did not answer /healthz within 15 s")

    def kill(self, why: str) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
            self.kills.append(why)

    def dead(self) -> bool:
        return self.proc is None or self.proc.poll() is not None


def request(port: int, method: str, path: str, body: bytes = b"", headers: dict | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        conn.close()


def post_lead(port: int, i: int):
    body = json.dumps({"Customer": f"Kill Co {i}", "Contact": "Li", "Phone": f"138{i:08d}"}).encode()
    return request(port, "POST", "/hooks/generic", body, {
        "Content-Type": "application/json", "Idempotency-Key": f"lead-{i}",
        "X-Sheetsync-Signature": sheetsync_header(SECRET, body, int(time.time()))})


def killer(server: Server, workbook: Path, stop: threading.Event) -> None:
    """Kill at timed moments, while the workbook is being saved, and right after a save landed."""
    def wait_for(condition, limit: float = 8.0) -> bool:
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline and not stop.is_set():
            if condition():
                return True
            time.sleep(0.002)
        return False

    saving = lambda: any(workbook.parent.glob(f".{workbook.stem}-*.xlsx.tmp"))  # noqa: E731
    plan = [("timed 0.3 s into intake", 0.3), ("during a workbook save", saving),
            ("right after a save landed", "mtime"), ("timed 0.6 s into intake", 0.6),
            ("during a workbook save", saving)]
    for why, when in plan:
        if not server.ready.wait(20) or stop.is_set():
            return
        if isinstance(when, float):
            time.sleep(when)
        elif when == "mtime":
            before = workbook.stat().st_mtime_ns
            if not wait_for(lambda before=before: workbook.stat().st_mtime_ns != before):
                continue
        elif not wait_for(when):
            continue
        server.ready.clear()
        server.kill(why)


def test_every_answered_submission_lands_exactly_once_across_sigkills(tmp_path):
    workbook = tmp_path / "pipeline.xlsx"
    ExcelStore(workbook).setup(load_layout("en", date.today()))
    server = Server(tmp_path, free_port())
    server.start()
    stop = threading.Event()
    thread = threading.Thread(target=killer, args=(server, workbook, stop), daemon=True)
    thread.start()
    answered: dict[int, str] = {}
    deadline = time.monotonic() + 40

    def send(i: int) -> bool:
        """Post lead i once; False when the server died mid-request or mid-answer (it is restarted)."""
        try:
            status, body = post_lead(server.port, i)
        except (OSError, http.client.HTTPException):
            if server.dead():
                server.start()
            return False
        assert status == 202, body
        if i in answered:
            assert answered[i] == body["id"]
        answered[i] = body["id"]
        return True

    try:
        i = 0
        unanswered = False
        # saves are quick now: keep posting until the killer has had its every chance
        while (i < LEADS or thread.is_alive()) and time.monotonic() < deadline:
            # killed mid-request or mid-answer: a real sender retries with the same Idempotency-Key
            unanswered = not send(i)
            if unanswered:
                continue
            i += 1
            if i % 10 == 0:
                time.sleep(0.05)  # let flushes run between bursts
        stop.set()
        thread.join(5)
        if server.dead():
            server.start()
        # The lead in flight when time ran out may be queued already: its sender keeps retrying until answered.
        retry_until = time.monotonic() + 20
        while unanswered and time.monotonic() < retry_until:
            unanswered = not send(i)
        assert not unanswered, f"lead {i} was never answered after the kills stopped"
        assert len(answered) >= LEADS, f"only {len(answered)} leads answered before the deadline"
        settle = time.monotonic() + 15
        while (request(server.port, "GET", "/api/status", headers=AUTH)[1]["queue"]["depth"]
               and time.monotonic() < settle):
            time.sleep(0.2)
        assert request(server.port, "GET", "/api/status", headers=AUTH)[1]["queue"]["depth"] == 0
    finally:
        stop.set()
        if server.proc is not None and server.proc.poll() is None:
            server.proc.terminate()
            server.proc.wait(10)
    assert len(server.kills) >= 3 and "during a workbook save" in server.kills, server.kills
    sheet = openpyxl.load_workbook(workbook)["Opportunities"]
    headers = [c.value for c in sheet[1]]
    id_col, customer_col = headers.index("ID"), headers.index("Customer")
    rows = [(r[id_col], r[customer_col]) for r in sheet.iter_rows(min_row=2, values_only=True)
            if r[customer_col] and str(r[customer_col]).startswith("Kill Co ")]
    ids = [ident for ident, _ in rows]
    assert sorted(ids) == sorted(answered.values()), "every answered lead once, nothing else"
    assert sorted(c for _, c in rows) == sorted(f"Kill Co {i}" for i in answered)
