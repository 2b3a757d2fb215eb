"""Scale bench: intake on PostgreSQL vs SQLite vs the bare endpoint, takeover after a kill, and many workspaces
sharing one service account's quota.

    python bench/bench_scale.py                      # everything (about 6 minutes)
    python bench/bench_scale.py --only intake --requests 2000
    python bench/bench_scale.py --only takeover --kills 10
    python bench/bench_scale.py --only quota --workspaces 1 10 50 --seconds 75

Needs a PostgreSQL server (SHEETSYNC_TEST_POSTGRES, default postgresql://postgres@127.0.0.1:5432/test); each
part makes a throwaway database and drops it. CPU figures are user+sys seconds of the server process.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from tempfile import TemporaryDirectory

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from failover import SECRET, Deployment, free_port, healthy, run, set_up_sheets, wait_for, write_config  # noqa: E402
from fake_sheets_fleet import Fleet  # noqa: E402
from pg import throwaway_database  # noqa: E402

from webhook.signing import sheetsync_header  # noqa: E402

SERVER = """
import sys
from waitress import serve
from sheetsync.config import load
from sheetsync.ports import Receipt
from webhook import EXTENSION, create_app

app = create_app(load())
if sys.argv[2] == "bare":
    class Bare:
        def submit(self, item, now):
            return Receipt("IN-BARE", 202, {"id": "OPP-BARE00", "status": "queued", "warnings": []})
    for pipeline in app.extensions[EXTENSION].pipelines.values():
        pipeline._queue = Bare()
serve(app, host="127.0.0.1", port=int(sys.argv[1]), threads=8)
"""


def cpu_seconds(pid: int) -> float:
    """User+sys CPU seconds a process used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def intake(requests: int, concurrency: int) -> None:
    print(f"\n## Intake: {requests} signed submissions, {concurrency} at a time, waitress with 8 threads")
    print("| backend | submissions/s | server CPU ms per submission | p50 ms | p99 ms |")
    print("|---|---|---|---|---|")
    with throwaway_database() as url, TemporaryDirectory() as tmp:
        for name, database_url, mode in (("bare endpoint (no queue)", "", "bare"), ("SQLite (default)", "", "queue"),
                                         ("PostgreSQL", url, "queue")):
            folder = Path(tmp) / name.split()[0]
            folder.mkdir()
            config = folder / "sheetsync.toml"
            config.write_text(f'database_url = "{database_url}"\nstate_dir = "state"\n'
                              f'[secrets]\ngeneric = ["{SECRET}"]\n')
            config.chmod(0o600)
            env = {k: v for k, v in os.environ.items() if not k.startswith("SHEETSYNC_")}
            env["SHEETSYNC_CONFIG"] = str(config)
            port = free_port()
            proc = subprocess.Popen([sys.executable, "-c", SERVER, str(port), mode], cwd=folder, env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                wait_for(lambda p=port: healthy(p), 30, "the server")
                latencies: list[float] = []
                before = cpu_seconds(proc.pid)
                started = time.perf_counter()
                with ThreadPoolExecutor(concurrency) as pool:
                    latencies = list(pool.map(lambda n, p=port: _post(p, n), range(requests)))
                wall = time.perf_counter() - started
                cpu = cpu_seconds(proc.pid) - before
                latencies.sort()
                p99 = latencies[int(0.99 * len(latencies))]
                print(f"| {name} | {requests / wall:,.0f} | {1000 * cpu / requests:.2f} | "
                      f"{1000 * statistics.median(latencies):.1f} | {1000 * p99:.1f} |")
            finally:
                proc.terminate()
                proc.wait(10)



def _post(port: int, n: int) -> float:
    body = json.dumps({"Customer": f"Bench Co {n}", "Contact": "Li Lei", "Phone": f"+86 139 {n:08d}"}).encode()
    headers = {"Content-Type": "application/json", "Idempotency-Key": f"bench-{n}",
               "X-Sheetsync-Signature": sheetsync_header(SECRET, body, int(time.time()))}
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", "/hooks/generic", body=body, headers=headers)
    response = conn.getresponse()
    response.read()
    conn.close()
    if response.status != 202:
        raise RuntimeError(f"answer {response.status}")
    return time.perf_counter() - started


def takeover(kills: int) -> None:
    print(f"\n## Takeover: {kills} SIGKILLs of the active worker (takeover_interval = 1 s, 3 workspaces)")
    with throwaway_database() as url, TemporaryDirectory() as tmp:
        outcome = run(Path(tmp), url, ["east", "west", "north"], kills=kills, gap=(0.5, 2.0))
    times = sorted(outcome["takeovers"])
    answered = sum(len(a) for a in outcome["answered"].values())
    landed = sum(len(r) for r in outcome["rows"].values())
    print(f"kills: {len(times)}; takeover (kill -> every workspace held by the other worker): median "
          f"{statistics.median(times):.2f} s, worst {max(times):.2f} s")
    print(f"leads answered 2xx: {answered}; rows in the sheets: {landed}; fence violations: "
          f"{len(outcome['violations'])}")


def quota(counts: list[int], seconds: float) -> None:
    print(f"\n## One service account, many workspaces: {seconds:.0f} s each, two workers (half the workspaces each), "
          "google_requests_per_minute = 50, a sync every 5 s per workspace, leads posted to every workspace")
    print("| workspaces | requests seen by the fake | busiest 60 s window | 429s |")
    print("|---|---|---|---|")
    for count in counts:
        with throwaway_database() as url, TemporaryDirectory() as tmp:
            print(_quota_run(Path(tmp), url, count, seconds))


def _quota_run(folder: Path, url: str, count: int, seconds: float) -> str:
    fleet = Fleet().start()
    names = [f"ws{n:02d}" for n in range(count)]
    halves = [names[: max(1, count // 2)], names[max(1, count // 2):]] if count > 1 else [names, []]
    try:
        deployments = []
        for i, part in enumerate(halves):
            if not part:
                continue
            sub = folder / f"worker{i}"
            sub.mkdir()
            config = write_config(sub, url, fleet.url, part, per_minute=50)
            text = config.read_text().replace("sync_interval = 3600", "sync_interval = 5")
            config.write_text(text)
            set_up_sheets(config, fleet, part)
            deployments.append(Deployment(sub, config, url, workspaces=part))
        start = len(fleet.log)
        for deployment in deployments:
            deployment.start_worker()
        poster = threading.Thread(target=_post_leads, args=(deployments, seconds), daemon=True)
        poster.start()
        time.sleep(seconds)
        poster.join(5)
        log = fleet.log[start:]
        window = _busiest_minute([e.at for e in log])
        throttled = sum(1 for e in log if e.status == 429)
        return f"| {count} | {len(log)} | {window} | {throttled} |"
    finally:
        for deployment in deployments:
            deployment.stop()
        fleet.stop()


def _post_leads(deployments: list[Deployment], seconds: float) -> None:
    """Queue leads straight into the database (the web side is measured above) at a steady pace."""
    from datetime import datetime, timezone

    import psycopg  # noqa: F401

    from sheetsync.backends import PostgresBackend
    from sheetsync.ports import Incoming

    backend = PostgresBackend(deployments[0].database_url)
    backend.migrate()
    end = time.monotonic() + seconds
    n = 0
    while time.monotonic() < end:
        for deployment in deployments:
            for ws in deployment.workspaces:
                n += 1
                backend.queue(ws).submit(Incoming("generic", "create", {"customer": f"Quota Co {n}"},
                                                  str(n).encode()), datetime.now(timezone.utc))
        time.sleep(2)
    backend.close()


def _busiest_minute(times: list[float]) -> int:
    times = sorted(times)
    best, start = 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] >= 60:
            start += 1
        best = max(best, end - start + 1)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["intake", "takeover", "quota"])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--workspaces", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument("--seconds", type=float, default=75)
    args = parser.parse_args()
    if args.only in (None, "intake"):
        intake(args.requests, args.concurrency)
    if args.only in (None, "takeover"):
        takeover(args.kills)
    if args.only in (None, "quota"):
        quota(args.workspaces, args.seconds)


if __name__ == "__main__":
    main()
