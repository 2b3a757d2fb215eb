"""Measure signed webhook intake, with the flush writing to a big workbook, beside a bare Flask endpoint.

    python bench/bench_intake.py [--requests 3000] [--concurrency 8] [--rows 10000]

Three servers run one after the other as separate processes on loopback, each with 8 waitress threads:

- a bare Flask endpoint doing one SQLite insert (WAL, synchronous=FULL): the baseline;
- `sheetsync serve` with the flush held back (intake alone);
- `sheetsync serve` on a --rows workbook with the flush running every second, so leads land in the sheet
  while more arrive. For it the bench also reports how long a lead takes from its POST to being in the
  workbook: the queue's received time to the first save of the workbook at or after its flush.

The client keeps one HTTP connection per worker thread. "accepted/s" counts 2xx answers per second of
wall time; the ratio column compares with the bare endpoint measured in the same run.
"""

from __future__ import annotations

import argparse
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

SECRET = "bench-secret"
THREADS = 8


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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


def run_server(kind: str, port: int, state: str) -> None:
    """Serve the bare app until killed (runs in a child process)."""
    import logging

    from waitress import serve

    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    serve(bare_app(Path(state)), host="127.0.0.1", port=port, threads=THREADS, _quiet=True)


def start_sheetsync(work: Path, port: int, flush_interval: int, worker_process: bool) -> subprocess.Popen:
    """`sheetsync serve` on work/pipeline.xlsx with the given flush interval (sync held back for the run)."""
    config = work / "sheetsync.toml"
    config.write_text(f'workbook = "pipeline.xlsx"\nstate_dir = "state"\ntimezone = "UTC"\nhost = "127.0.0.1"\n'
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
    from bench_sync import settle

    seed = work / "pipeline.xlsx"
    settle(seed, rows)


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


def into_sheet(db: Path, saves: list[float]) -> list[float]:
    """Seconds from each landed lead's arrival to the first workbook save at or after its flush began."""
    import bisect

    con = sqlite3.connect(db)
    rows = con.execute("SELECT received, done_at FROM items WHERE outcome = 'landed'").fetchall()
    con.close()
    out = []
    for received, done_at in rows:
        i = bisect.bisect_left(saves, done_at)
        if i < len(saves):
            out.append(saves[i] - received)
    return sorted(out)


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


def load(port: int, path: str, total: int, concurrency: int, signed: bool) -> dict:
    """Send `total` distinct leads from `concurrency` keep-alive connections; return throughput and latency."""
    from webhook.signing import sheetsync_header

    latencies: list[float] = []
    failures: list[int] = []
    lock = threading.Lock()
    counter = iter(range(total))

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine, bad = [], []
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                break
            body = json.dumps({"Customer": f"Bench Co {i}", "Contact": "Li", "Phone": f"138{i:08d}",
                               "Need": "Benchmark lead"}).encode()
            headers = {"Content-Type": "application/json"}
            if signed:
                headers["X-Sheetsync-Signature"] = sheetsync_header(SECRET, body, int(time.time()))
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

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - began
    latencies.sort()
    return {"accepted_per_s": (len(latencies) - len(failures)) / wall,
            "p50_ms": statistics.median(latencies) * 1000,
            "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
            "errors": len(failures)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rows", type=int, default=10_000, help="opportunities in the workbook the flush writes")
    parser.add_argument("--serve", nargs=3, metavar=("KIND", "PORT", "STATE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        run_server(args.serve[0], int(args.serve[1]), args.serve[2])
        return
    rows = []
    latencies: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        seed = base / "seed"
        seed.mkdir()
        settled_workbook(seed, args.rows)
        for kind, label in (("bare", "bare Flask, 1 SQLite insert"),
                            ("held", "sheetsync serve, flush held back"),
                            ("flush", f"serve, flush every 1 s in-process, {args.rows:,} rows"),
                            ("worker", f"serve, worker_process = true, {args.rows:,} rows")):
            work = base / kind
            shutil.copytree(seed, work)
            port = free_port()
            if kind == "bare":
                server = subprocess.Popen([sys.executable, __file__, "--serve", kind, str(port), str(work)],
                                          env={**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)})
            else:
                server = start_sheetsync(work, port, 3600 if kind == "held" else 1, kind == "worker")
            try:
                try:
                    wait_for(port, 60)
                except SystemExit:
                    if (work / "serve.log").exists():
                        print((work / "serve.log").read_text()[-2000:])
                    raise
                path = "/hooks/bare" if kind == "bare" else "/hooks/generic"
                time.sleep(0 if kind in ("bare", "held") else 4)  # serve syncs once at start
                load(port, path, min(200, args.requests), args.concurrency, kind != "bare")  # warm up
                watcher = SaveWatcher(work / "pipeline.xlsx") if kind in ("flush", "worker") else None
                result = load(port, path, args.requests, args.concurrency, kind != "bare")
                if watcher is not None:
                    time.sleep(8)  # let the flush land the last leads
                    latencies[label] = into_sheet(work / "state" / "intake.db", watcher.stop())
                rows.append((label, result))
            finally:
                server.terminate()
                server.wait(30)
    bare = rows[0][1]["accepted_per_s"]
    print(f"{args.requests} requests, {args.concurrency} client connections, waitress threads={THREADS}, "
          f"SQLite WAL synchronous=FULL, Python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    print(f"{'endpoint':<44}{'accepted/s':>11}{'vs bare':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}")
    for label, r in rows:
        print(f"{label:<44}{r['accepted_per_s']:>11.0f}{r['accepted_per_s'] / bare:>8.0%}{r['p50_ms']:>9.1f}"
              f"{r['p99_ms']:>9.1f}{r['errors']:>8}")
    for label, latency in latencies.items():
        if latency:
            print(f"POST -> row in the workbook, {label} ({len(latency)} leads): p50 "
                  f"{percentile(latency, 0.5):.2f} s, p95 {percentile(latency, 0.95):.2f} s, max {latency[-1]:.2f} s")


if __name__ == "__main__":
    main()
