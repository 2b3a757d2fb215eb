"""Measure signed webhook intake under waitress beside a bare Flask endpoint doing one SQLite insert.

    python bench/bench_intake.py [--requests 3000] [--concurrency 8]

Both servers run as separate processes on loopback with the same waitress thread count; the client keeps
one HTTP connection per worker thread. "accepted/s" counts 2xx answers per second of wall time.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
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
    """Serve one of the two apps until killed (runs in a child process)."""
    import logging

    from waitress import serve

    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    path = Path(state)
    if kind == "bare":
        app = bare_app(path)
    else:
        from sheetsync.config import Config
        from webhook import create_app

        app = create_app(Config(state_dir=str(path), base_dir=path, secrets={"generic": (SECRET,)}))
    serve(app, host="127.0.0.1", port=port, threads=THREADS, _quiet=True)


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
    parser.add_argument("--serve", nargs=3, metavar=("KIND", "PORT", "STATE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        run_server(args.serve[0], int(args.serve[1]), args.serve[2])
        return
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind, path, signed, label in (("sheetsync", "/hooks/generic", True, "sheetsync POST /hooks/generic"),
                                          ("bare", "/hooks/bare", False, "bare Flask, 1 SQLite insert")):
            state = Path(tmp) / kind
            state.mkdir()
            port = free_port()
            server = subprocess.Popen([sys.executable, __file__, "--serve", kind, str(port), str(state)],
                                      env={**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)})
            try:
                wait_for(port)
                load(port, path, min(200, args.requests), args.concurrency, signed)  # warm up
                rows.append((label, load(port, path, args.requests, args.concurrency, signed)))
            finally:
                server.terminate()
                server.wait(10)
    print(f"{args.requests} requests, {args.concurrency} client connections, waitress threads={THREADS}, "
          f"SQLite WAL synchronous=FULL, Python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    print(f"{'endpoint':<34}{'accepted/s':>12}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}")
    for label, r in rows:
        print(f"{label:<34}{r['accepted_per_s']:>12.0f}{r['p50_ms']:>10.2f}{r['p99_ms']:>10.2f}{r['errors']:>8}")


if __name__ == "__main__":
    main()
