"""A real deployment on one PostgreSQL database: web processes, workers, a fleet of fake spreadsheets.

Used by the failover tests (short and long) and by bench/bench_scale.py.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from fake_sheets_fleet import Fleet

from webhook.signing import sheetsync_header

SECRET = "failover-test-secret-0123456789"
WEB = ("import sys; from waitress import serve; from webhook import create_app; from sheetsync.config import load; "
       "serve(create_app(load()), host='127.0.0.1', port=int(sys.argv[1]), threads=4)")
WORKER = "from sheetsync.cli import main; main()"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sheet_id(workspace: str) -> str:
    return f"sheet-{workspace}-000000"


def write_config(folder: Path, database_url: str, fleet_url: str, workspaces: list[str],
                 per_minute: int = 6000) -> Path:
    lines = [f'database_url = "{database_url}"', "takeover_interval = 1", "flush_interval = 1",
             "sync_interval = 3600", 'store = "google"', f'google_api_endpoint = "{fleet_url}"',
             f"google_requests_per_minute = {per_minute}", 'state_dir = "state"', "", "[secrets]",
             f'generic = ["{SECRET}"]']
    for ws in workspaces:
        lines += ["", f"[workspaces.{ws}]", f'google_spreadsheet = "{sheet_id(ws)}"']
    path = folder / "sheetsync.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path.chmod(0o600)
    return path


def set_up_sheets(config_path: Path, fleet: Fleet, workspaces: list[str]) -> None:
    from sheetsync.config import load
    from sheetsync.stores.google import GoogleStore
    from sheetsync.template import load_layout

    config = load(config_path, env={})
    for ws in workspaces:
        fleet.add(sheet_id(ws))
        GoogleStore(config.workspace(ws)).setup(load_layout("en", date(2026, 11, 28)))
        fake = fleet.sheets[sheet_id(ws)]
        header = fake.values("Opportunities")[0]
        fake.seed("Opportunities", [header])  # no example rows: every row is a posted lead


def post(port: int, path: str, body: bytes, key: str) -> tuple[int, dict[str, Any]]:
    headers = {"Content-Type": "application/json", "Idempotency-Key": key,
               "X-Sheetsync-Signature": sheetsync_header(SECRET, body, int(time.time()))}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        conn.close()


@dataclass
class Deployment:
    """Two (or more) web processes and workers sharing one config, started and killed by the test."""

    folder: Path
    config_path: Path
    database_url: str
    webs: list[subprocess.Popen] = field(default_factory=list)
    web_ports: list[int] = field(default_factory=list)
    workspaces: list[str] = field(default_factory=list)
    workers: list[subprocess.Popen | None] = field(default_factory=list)
    logs: list[Any] = field(default_factory=list)

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SHEETSYNC_")}
        env["SHEETSYNC_CONFIG"] = str(self.config_path)
        return env

    def _spawn(self, args: list[str], name: str) -> subprocess.Popen:
        log = open(self.folder / f"{name}.log", "ab")  # noqa: SIM115 - closed in stop()
        self.logs.append(log)
        return subprocess.Popen(args, cwd=self.folder, env=self.env, stdout=log, stderr=subprocess.STDOUT)

    def start_web(self, count: int = 2) -> None:
        for n in range(count):
            port = free_port()
            self.webs.append(self._spawn([sys.executable, "-c", WEB, str(port)], f"web{n}"))
            self.web_ports.append(port)
        for port in self.web_ports:
            wait_for(lambda p=port: healthy(p), 30, f"web process on port {port}")

    def start_worker(self, slot: int | None = None) -> int:
        name = f"worker{slot if slot is not None else len(self.workers)}"
        proc = self._spawn([sys.executable, "-c", WORKER, "worker"], name)
        if slot is None:
            self.workers.append(proc)
            return len(self.workers) - 1
        self.workers[slot] = proc
        return slot

    def lock_holders(self) -> dict[int, int]:
        """OS pid of each process holding workspace locks -> how many it holds."""
        import psycopg

        with psycopg.connect(self.database_url, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT a.application_name, COUNT(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.granted AND a.application_name LIKE 'sheetsync-lock %' "
                "AND a.datname = current_database() "
                "GROUP BY a.application_name").fetchall()
        return {int(name.split()[-1]): count for name, count in rows}

    def kill_active(self, rng: random.Random) -> int | None:
        """SIGKILL the worker holding the most workspaces, restart it in its slot; return the killed pid."""
        holders = self.lock_holders()
        for slot, proc in enumerate(self.workers):
            if proc is not None and proc.pid in holders and proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                self.start_worker(slot)
                return proc.pid
        return None

    def pending(self) -> int:
        import psycopg

        with psycopg.connect(self.database_url, autocommit=True) as conn:
            return conn.execute("SELECT COUNT(*) FROM sheetsync_intake_items WHERE status IN ('pending', 'leased') "
                                "AND workspace = ANY(%s)", (self.workspaces,)).fetchone()[0]

    def describe_queue(self) -> str:
        """What is still queued, who holds the locks, and the workers' last log lines, for a failure message."""
        import psycopg

        with psycopg.connect(self.database_url, autocommit=True) as conn:
            rows = conn.execute("SELECT workspace, key, status, attempts, lease_pid, lease_until, next_attempt_at, "
                                "extract(epoch FROM clock_timestamp()) AS now, last_error FROM sheetsync_intake_items "
                                "WHERE status IN ('pending', 'leased') ORDER BY seq LIMIT 5").fetchall()
            activity = conn.execute("SELECT pid, application_name, state, wait_event, left(query, 80) "
                                    "FROM pg_stat_activity WHERE datname = current_database()").fetchall()
        tails = {}
        for path in sorted(self.folder.glob("worker*.log")):
            tails[path.name] = path.read_text(errors="replace").splitlines()[-8:]
        return f"items={rows} holders={self.lock_holders()} activity={activity} logs={tails}"

    def stop(self) -> None:
        for proc in [*self.webs, *[w for w in self.workers if w is not None]]:
            if proc.poll() is None:
                proc.terminate()
        for proc in [*self.webs, *[w for w in self.workers if w is not None]]:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for log in self.logs:
            log.close()


def healthy(port: int) -> bool:
    """Whether a web process answers /healthz with 200."""
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        conn.request("GET", "/healthz")
        ok = conn.getresponse().status == 200
        conn.close()
        return ok
    except OSError:
        return False


def wait_for(check: Any, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


class Poster(threading.Thread):
    """Posts signed leads to random web processes and workspaces until stopped; remembers every 2xx answer."""

    def __init__(self, deployment: Deployment, workspaces: list[str], rng: random.Random, pause: float = 0.02):
        super().__init__(daemon=True)
        self.deployment, self.workspaces, self.rng, self.pause = deployment, workspaces, rng, pause
        self.answered: dict[str, dict[str, str]] = {ws: {} for ws in workspaces}
        self.refused: list[str] = []
        self.stop = threading.Event()

    def run(self) -> None:
        n = 0
        while not self.stop.is_set():
            n += 1
            ws = self.rng.choice(self.workspaces)
            body = json.dumps({"Customer": f"Lead {ws} {n}", "Contact": "Wang Wei",
                               "Phone": f"+86 138 {n:04d} {n % 10000:04d}", "Region": "East"}).encode()
            for _ in range(5):
                port = self.rng.choice(self.deployment.web_ports)
                try:
                    status, answer = post(port, f"/hooks/{ws}/generic", body, f"lead-{n}")
                except OSError:
                    time.sleep(0.1)
                    continue
                if 200 <= status < 300:
                    self.answered[ws][answer["id"]] = f"Lead {ws} {n}"
                else:
                    self.refused.append(f"{status} {answer}")
                break
            time.sleep(self.pause)


def sheet_rows(fleet: Fleet, ws: str) -> list[tuple[str, str]]:
    """(ID, Customer) of every row in a workspace's Opportunities tab."""
    rows = fleet.sheets[sheet_id(ws)].values("Opportunities")
    header = rows[0]
    id_col, customer_col = header.index("ID"), header.index("Customer")
    return [(str(r[id_col]), str(r[customer_col])) for r in rows[1:] if len(r) > customer_col and r[customer_col]]


def fence_violations(fleet: Fleet, ws: str, since: int = 0) -> list[str]:
    """Writes to a workspace's sheet that came from an older lock generation after a newer one wrote."""
    problems, newest = [], 0
    for entry in fleet.writes(sheet_id(ws), since):
        name, _, number = entry.fence.rpartition(":")
        if name != ws or not number.isdigit():
            problems.append(f"write without this workspace's fence: {entry}")
            continue
        if int(number) < newest:
            problems.append(f"fence {number} wrote after fence {newest}: {entry}")
        newest = max(newest, int(number))
    return problems


def run(folder: Path, database_url: str, workspaces: list[str], kills: int, seed: int = 12,
        gap: tuple[float, float] = (0.5, 2.0)) -> dict[str, Any]:
    """Run the scenario; return what happened (answers, rows, violations, kills, takeover times)."""
    rng = random.Random(seed)
    fleet = Fleet().start()
    deployment = Deployment(folder, write_config(folder, database_url, fleet.url, workspaces), database_url,
                            workspaces=list(workspaces))
    killed: list[int] = []
    setup_done = 0
    takeovers: list[float] = []
    try:
        set_up_sheets(deployment.config_path, fleet, workspaces)
        setup_done = len(fleet.log)  # the test's own setup writes carry no fence
        deployment.start_web(2)
        deployment.start_worker()
        deployment.start_worker()
        wait_for(lambda: sum(deployment.lock_holders().values()) == len(workspaces), 30, "workers to hold locks")
        poster = Poster(deployment, workspaces, rng)
        poster.start()
        for _ in range(kills):
            time.sleep(rng.uniform(*gap))
            pid = deployment.kill_active(rng)
            if pid is None:
                continue
            killed.append(pid)
            started = time.monotonic()
            wait_for(lambda p=pid: p not in deployment.lock_holders()
                     and sum(deployment.lock_holders().values()) == len(workspaces), 60, "a takeover")
            takeovers.append(time.monotonic() - started)
        time.sleep(rng.uniform(*gap))
        poster.stop.set()
        poster.join(30)
        try:
            wait_for(lambda: deployment.pending() == 0, 90, "every queued lead to land")
        except AssertionError:
            raise AssertionError(f"queued leads did not land: {deployment.describe_queue()}") from None
    finally:
        deployment.stop()
        fleet.stop()
    return {
        "answered": poster.answered,
        "refused": poster.refused,
        "rows": {ws: sheet_rows(fleet, ws) for ws in workspaces},
        "violations": [v for ws in workspaces for v in fence_violations(fleet, ws, setup_done)],
        "kills": killed,
        "takeovers": takeovers,
        "fleet": fleet,
    }
