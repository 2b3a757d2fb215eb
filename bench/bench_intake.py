"""Measure signed webhook intake while the flush writes a big workbook or Google Sheets, beside a bare endpoint.

    python bench/bench_intake.py [--requests 3000] [--concurrency 8] [--rows 10000] [--rounds 3]

Each server runs as its own process on loopback with 8 waitress threads, one after the other, and each round
runs every one of them again (the table shows each one's median round, so a burst of load from elsewhere on
a shared machine moves one round, not the figure):

- a bare Flask endpoint doing one SQLite insert (WAL, synchronous=FULL) per request: the baseline;
- `sheetsync serve` with the flush held back (intake alone);
- `sheetsync serve` on a --rows workbook with the flush running every second, in its worker process (the
  default) and in the serving process (`worker_process = false`), so leads land while more arrive;
- the same on Google Sheets: the fake Sheets API (tests/fake_sheets.py) served over HTTP in a separate
  process, filled afresh with --rows opportunities for every run, at the default quota of 50 requests a
  minute.

"accepted/s" counts 2xx answers per second of wall time; "vs bare" compares with the bare endpoint's median.
"intake CPU" is user+sys milliseconds per request of the process answering the posts (the serving process;
the worker's flush is apart). POST -> row is what a rep feels: from the moment a form's POST is sent to the
row being in the sheet. For the workbook: to the first save of the file at or after the flush that landed
it began. For Google: to the first time the bench, reading the fake's Customer column four times a second,
sees the lead's row. Before each burst the warm-up's 200 leads have landed and, on Google, 10 s have passed
so the quota's burst allowance (8 requests) has refilled, as between a real sender's bursts. Linux only
(CPU is read from /proc).
"""

from __future__ import annotations

import argparse
import bisect
import http.client
import json
import os
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

SECRET = "bench-secret"
THREADS = 8
SPREADSHEET = f"bench-intake-{os.getpid()}"
"""The fake's spreadsheet ID: of this run alone (the writer lock is per spreadsheet ID, machine-wide)."""
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_cpu(pid: int) -> float:
    """User+sys CPU seconds of a running process, from /proc (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return out


def bare_app(state: Path):
    """Build a Flask app whose one endpoint stores the raw body with one SQLite insert (WAL, FULL)."""
    from flask import Flask, jsonify, request

    app = Flask("bare")
    local = threading.local()
    setup = sqlite3.connect(state / "bare.db")
    setup.execute("PRAGMA journal_mode = WAL")
    setup.execute("CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, body BLOB, received REAL)")
    setup.close()

    @app.post("/hooks/bare")
    def bare():
        db = getattr(local, "db", None)
        if db is None:
            db = local.db = sqlite3.connect(state / "bare.db", isolation_level=None)
            db.execute("PRAGMA synchronous = FULL")
            db.execute("PRAGMA busy_timeout = 10000")
        db.execute("INSERT INTO items (body, received) VALUES (?, ?)", (request.get_data(), time.time()))
        return jsonify({"status": "queued"}), 202

    return app


def run_server(port: int, state: str) -> None:
    """Serve the bare app until killed (runs in a child process)."""
    import logging

    from waitress import serve

    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    serve(bare_app(Path(state)), host="127.0.0.1", port=port, threads=THREADS, _quiet=True)


def start_sheetsync(work: Path, port: int, flush_interval: int, worker_process: bool,
                    google: str | None = None) -> subprocess.Popen:
    """`sheetsync serve` on work/pipeline.xlsx (or the fake Google endpoint), sync held back for the run."""
    store = (f'store = "google"\ngoogle_spreadsheet = "{SPREADSHEET}"\ngoogle_api_endpoint = "{google}"\n'
             if google else 'workbook = "pipeline.xlsx"\n')
    config = work / "sheetsync.toml"
    config.write_text(f'{store}state_dir = "state"\ntimezone = "UTC"\nhost = "127.0.0.1"\n'
                      f'port = {port}\nflush_interval = {flush_interval}\nsync_interval = 86400\n'
                      f'worker_process = {str(worker_process).lower()}\n\n'
                      f'[secrets]\ngeneric = ["{SECRET}"]\n')
    config.chmod(0o600)
    env = {**os.environ, "SHEETSYNC_CONFIG": str(config)}
    log = (work / "serve.log").open("w")
    return subprocess.Popen([sys.executable, "-c", "from sheetsync.cli import main; main()", "serve"], cwd=work,
                            env=env, stdout=log, stderr=subprocess.STDOUT)


def settled_workbook(work: Path, rows: int) -> None:
    """A --rows workbook synced three times, as bench_sync builds it."""
    sys.path.insert(0, str(Path(__file__).parent))
    from bench_sync import build, settle

    build(work / "pipeline.xlsx", rows)
    settle(work / "pipeline.xlsx")


class SaveWatcher:
    """Notes the wall time of every save of the workbook (polling its mtime), to time leads into the sheet."""

    def __init__(self, path: Path) -> None:
        self.path, self.saves, self._stop = path, [], threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        last = None
        while not self._stop.is_set():
            try:
                mtime = self.path.stat().st_mtime
            except FileNotFoundError:
                mtime = None
            if mtime is not None and mtime != last:
                self.saves.append(time.time())
                last = mtime
            time.sleep(0.02)

    def stop(self) -> list[float]:
        self._stop.set()
        self._thread.join()
        return self.saves


class RowWatcher:
    """Reads the fake's Customer column four times a second; notes when each customer first appears."""

    def __init__(self, endpoint: str) -> None:
        from urllib.parse import quote, urlsplit

        from sheetsync.core.schema import OPPORTUNITIES, column_letter

        letter = column_letter([c.key for c in OPPORTUNITIES.columns].index("customer"))
        parts = urlsplit(endpoint)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.letter = letter
        self.path = f"/v4/spreadsheets/{SPREADSHEET}/values/" + quote("Opportunities!") + letter
        self.seen: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def read(self, first: int = 1) -> list[str]:
        """The Customer column from row `first` down."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            conn.request("GET", f"{self.path}{first}:{self.letter}")
            data = json.loads(conn.getresponse().read())
        finally:
            conn.close()
        return [row[0] if row else "" for row in data.get("values", [])]

    def _run(self) -> None:
        rows = 0
        while not self._stop.is_set():
            first = max(1, rows - 100)  # leads are appended: read the tail, with a margin
            names = self.read(first)
            now = time.time()
            for name in names:
                self.seen.setdefault(name, now)
            rows = first - 1 + len(names)
            time.sleep(0.25)

    def stop(self) -> dict[str, float]:
        """Stop polling; one last whole-column read catches a row landed anywhere else (timed as now)."""
        self._stop.set()
        self._thread.join()
        now = time.time()
        for name in self.read():
            self.seen.setdefault(name, now)
        return self.seen


def percentile(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(len(values) * q))] if values else float("nan")


def wait_for(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"server on port {port} did not start within {timeout} s")


def wait_for_first_sync(log: Path, timeout: float = 180.0) -> None:
    """serve (or its worker) syncs once at start: wait for that line so the load meets a steady server."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = [line.split(" ", 1)[-1] for line in log.read_text().splitlines()]
        if any(line.startswith(("sync:", "同步")) for line in lines):
            return
        if any(line.startswith("ERROR") for line in lines):
            break
        time.sleep(0.2)
    raise SystemExit(f"no first sync (within {timeout} s):\n{log.read_text()[-2000:]}")


def body_for(tag: str, i: int) -> bytes:
    return json.dumps({"Customer": f"Bench Co {tag}-{i}", "Contact": "Li", "Phone": f"138{i:08d}",
                       "Need": "Benchmark lead"}).encode()


def load(port: int, path: str, total: int, concurrency: int, signed: bool, tag: str) -> dict[str, Any]:
    """Send `total` distinct leads from `concurrency` keep-alive connections; return throughput and latency."""
    from webhook.signing import sheetsync_header

    latencies: list[float] = []
    failures: list[int] = []
    sent: dict[str, float] = {}
    lock = threading.Lock()
    counter = iter(range(total))

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine, bad, posted = [], [], {}
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                break
            body = body_for(tag, i)
            headers = {"Content-Type": "application/json"}
            if signed:
                headers["X-Sheetsync-Signature"] = sheetsync_header(SECRET, body, int(time.time()))
            posted[f"Bench Co {tag}-{i}"] = time.time()
            start = time.perf_counter()
            conn.request("POST", path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            mine.append(time.perf_counter() - start)
            if response.status // 100 != 2:
                bad.append(response.status)
        conn.close()
        with lock:
            latencies.extend(mine)
            failures.extend(bad)
            sent.update(posted)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - began
    latencies.sort()
    return {"accepted_per_s": (len(latencies) - len(failures)) / wall,
            "p50_ms": statistics.median(latencies) * 1000, "p99_ms": percentile(latencies, 0.99) * 1000,
            "errors": len(failures), "sent": sent}


def pending(db: Path) -> int:
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT COUNT(*) FROM items WHERE status IN ('pending', 'leased')").fetchone()[0]
    finally:
        con.close()


def into_workbook(db: Path, saves: list[float], since: float) -> list[float]:
    """Seconds from each lead's arrival (from `since` on) to the first workbook save at or after its flush began."""
    con = sqlite3.connect(db)
    rows = con.execute("SELECT received, done_at FROM items WHERE outcome = 'landed' AND received >= ?",
                       (since,)).fetchall()
    con.close()
    out = []
    for received, done_at in rows:
        i = bisect.bisect_left(saves, done_at)
        if i < len(saves):
            out.append(saves[i] - received)
    return sorted(out)


KINDS = {
    "bare": "bare Flask, one SQLite insert",
    "held": "serve, flush held back",
    "workbook": "serve, workbook, worker process (default)",
    "workbook-inproc": "serve, workbook, worker_process = false",
    "google": "serve, Google, worker process (default)",
    "google-inproc": "serve, Google, worker_process = false",
}


class Bench:
    def __init__(self, args: argparse.Namespace, base: Path) -> None:
        self.args, self.base = args, base
        self.seed = base / "seed"
        self.fake: subprocess.Popen | None = None
        self.endpoint = ""
        self.runs = 0

    def prepare(self, kinds: list[str]) -> None:
        self.seed.mkdir()
        if any(k.startswith("workbook") for k in kinds):
            settled_workbook(self.seed, self.args.rows)

    def start_fake(self) -> None:
        """A fresh fake Sheets API holding --rows opportunities: every Google run starts from the same sheet."""
        sys.path.insert(0, str(Path(__file__).parent))
        import bench_google_http

        self.close()
        bench_google_http.SPREADSHEET = SPREADSHEET
        port = free_port()
        self.endpoint = f"http://127.0.0.1:{port}"
        self.fake = subprocess.Popen([sys.executable, str(ROOT / "tests" / "fake_sheets.py"), "--port",
                                      str(port), "--spreadsheet", SPREADSHEET],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(port, 30)
        bench_google_http.fill(self.endpoint, self.args.rows)

    def close(self) -> None:
        if self.fake is not None:
            self.fake.terminate()
            self.fake.wait(10)
            self.fake = None

    def run(self, kind: str) -> dict[str, Any]:
        self.runs += 1
        tag = f"r{self.runs}"
        work = self.base / f"{kind}-{self.runs}"
        if kind.startswith("workbook"):
            shutil.copytree(self.seed, work)
        else:
            work.mkdir()
        if kind.startswith("google"):
            self.start_fake()
        port = free_port()
        if kind == "bare":
            server = subprocess.Popen([sys.executable, __file__, "--serve", str(port), str(work)],
                                      env={**os.environ, "PYTHONPATH": str(ROOT)})
        else:
            server = start_sheetsync(work, port, 3600 if kind == "held" else 1, not kind.endswith("-inproc"),
                                     self.endpoint if kind.startswith("google") else None)
        try:
            try:
                wait_for(port, 60)
                if kind not in ("bare", "held"):
                    wait_for_first_sync(work / "serve.log")
            except SystemExit:
                if (work / "serve.log").exists():
                    print((work / "serve.log").read_text()[-2000:])
                raise
            path = "/hooks/bare" if kind == "bare" else "/hooks/generic"
            load(port, path, min(200, self.args.requests), self.args.concurrency, kind != "bare", tag + "w")
            if kind not in ("bare", "held"):  # the warm-up lands, and the quota's burst allowance refills
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline and pending(work / "state" / "intake.db"):
                    time.sleep(0.2)
                time.sleep(10 if kind.startswith("google") else 1)
            workers = children(server.pid)
            cpu0 = proc_cpu(server.pid), sum(proc_cpu(p) for p in workers)
            fake0 = proc_cpu(self.fake.pid) if self.fake is not None else 0.0
            saves = SaveWatcher(work / "pipeline.xlsx") if kind.startswith("workbook") else None
            rows = RowWatcher(self.endpoint) if kind.startswith("google") else None
            began = time.time()
            result = load(port, path, self.args.requests, self.args.concurrency, kind != "bare", tag)
            cpu1 = proc_cpu(server.pid)
            result["intake_cpu_ms"] = (cpu1 - cpu0[0]) / self.args.requests * 1000
            if kind in ("bare", "held"):
                return result
            deadline = time.monotonic() + 120  # let the flush land every lead
            while time.monotonic() < deadline and pending(work / "state" / "intake.db"):
                time.sleep(0.2)
            time.sleep(1.5)
            result["flush_cpu_s"] = (proc_cpu(server.pid) - cpu1 if kind.endswith("-inproc")
                                     else sum(proc_cpu(p) for p in workers) - cpu0[1])
            if saves is not None:
                result["into_sheet"] = into_workbook(work / "state" / "intake.db", saves.stop(), began)
            if rows is not None:
                seen = rows.stop()
                result["into_sheet"] = sorted(seen[name] - at for name, at in result["sent"].items() if name in seen)
                result["fake_cpu_s"] = proc_cpu(self.fake.pid) - fake0 if self.fake is not None else 0.0
            result["landed"] = len(result["into_sheet"])
            return result
        finally:
            server.terminate()
            server.wait(60)
            if self.args.verbose and (work / "serve.log").exists():
                for line in (work / "serve.log").read_text().splitlines():
                    if " flush: " in line or " sync: " in line or "ERROR" in line or "WARNING" in line:
                        print(f"    {kind}: {line}", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rows", type=int, default=10_000, help="opportunities in the sheet the flush writes")
    parser.add_argument("--rounds", type=int, default=3, help="times every server is measured (median shown)")
    parser.add_argument("--only", nargs="+", choices=list(KINDS), default=list(KINDS))
    parser.add_argument("--verbose", action="store_true", help="show each server's flush and sync lines")
    parser.add_argument("--serve", nargs=2, metavar=("PORT", "STATE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        run_server(int(args.serve[0]), args.serve[1])
        return
    kinds = ["bare", *[k for k in args.only if k != "bare"]]
    results: dict[str, list[dict[str, Any]]] = {k: [] for k in kinds}
    with tempfile.TemporaryDirectory(prefix="sheetsync-intake-") as tmp:
        bench = Bench(args, Path(tmp))
        try:
            bench.prepare(kinds)
            for _ in range(args.rounds):
                for kind in kinds:
                    results[kind].append(bench.run(kind))
                    print(f"  {kind}: {results[kind][-1]['accepted_per_s']:.0f}/s", file=sys.stderr, flush=True)
        finally:
            bench.close()
    print(f"{args.requests} signed requests per run, {args.concurrency} client connections, waitress threads="
          f"{THREADS}, SQLite WAL synchronous=FULL, {args.rows:,} rows, {args.rounds} round(s), Python "
          f"{sys.version.split()[0]}, {os.cpu_count()} CPUs")
    bare = statistics.median(r["accepted_per_s"] for r in results["bare"])
    print(f"{'endpoint':<44}{'accepted/s':>11}{'vs bare':>9}{'p50 ms':>8}{'p99 ms':>8}{'intake CPU':>11}"
          f"{'errors':>7}   every round (accepted/s)")
    for kind in kinds:
        runs = sorted(results[kind], key=lambda r: r["accepted_per_s"])
        mid = runs[len(runs) // 2]
        rounds = ", ".join(str(round(r["accepted_per_s"])) for r in results[kind])
        print(f"{KINDS[kind]:<44}{mid['accepted_per_s']:>11.0f}{mid['accepted_per_s'] / bare:>8.0%}"
              f"{mid['p50_ms']:>8.1f}{mid['p99_ms']:>8.1f}{mid['intake_cpu_ms']:>8.2f} ms"
              f"{sum(r['errors'] for r in runs):>7}   {rounds}")
    print("\nPOST -> row in the sheet (every lead of every round's burst):")
    for kind in kinds:
        if kind in ("bare", "held"):
            continue
        times = sorted(t for r in results[kind] for t in r["into_sheet"])
        landed = sum(r["landed"] for r in results[kind])
        extra = ""
        if kind.startswith("google"):
            extra = f", fake's CPU {statistics.median(r['fake_cpu_s'] for r in results[kind]):.1f} s a round"
        print(f"  {KINDS[kind]:<44} {landed}/{args.requests * args.rounds} seen: "
              f"p50 {percentile(times, 0.5):.2f} s, "
              f"p95 {percentile(times, 0.95):.2f} s, max {times[-1] if times else float('nan'):.2f} s; flush CPU "
              f"{statistics.median(r['flush_cpu_s'] for r in results[kind]):.1f} s a round{extra}")


if __name__ == "__main__":
    main()
