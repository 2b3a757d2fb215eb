"""A sync on Google Sheets as users run it: `sheetsync sync` in its own process against the fake served over HTTP.

Run from the repository root with the project's virtualenv active (no network beyond loopback):

    python bench/bench_google_http.py --rows 1000 10000 100000

For each size it starts the fake Sheets API (tests/fake_sheets.py) in a separate process, fills it with the
same generated pipeline as bench/bench_sync.py (through the Google store, in writes under 10 MB), then runs
`sheetsync sync` five times, each in a fresh process as cron or a CLI user would: the first sync (IDs, owners,
statuses for every row), the second, a sync that finds nothing to change (it plans, writes nothing and remembers
what it read), the steady state (nothing changed since: the sync recognises the sheet's fingerprint and skips
planning) and a sync after a person changed one row. It reports the API requests each sync sent (its store's
own count) and the kB of their bodies (what it wrote), the CPU seconds (user+sys) and peak RSS of the sheetsync
process, and, apart, the CPU the fake spent answering. Linux only (the fake's CPU is read from /proc).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_sync import NOW, TODAY, opportunity

from sheetsync.config import Config
from sheetsync.core.schema import FOLLOWUPS, OPPORTUNITIES
from sheetsync.stores.base import CellWrite, WriteBatch
from sheetsync.stores.google import GoogleStore
from sheetsync.template import load_layout

ROOT = Path(__file__).resolve().parent.parent
SPREADSHEET = "bench-spreadsheet-0001"
SYNC = ("from datetime import datetime, timezone; from sheetsync.cli import build_syncer; "
        "from sheetsync.config import load; s = build_syncer(load()); s.run_cycle(datetime.now(timezone.utc)); "
        "print('REQUESTS', s.store.http.sent, s.store.http.sent_bytes); "
        "print([line for line in open('/proc/self/status') if line.startswith('VmHWM')][0])")
"""What `sheetsync sync` runs, plus printing the API requests its store sent, the bytes of their bodies and its
own peak RSS (VmHWM: since its exec, unlike ru_maxrss, which also counts the bench process's memory the child
had before exec)."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_cpu(pid: int) -> float:
    """User+sys CPU seconds of a running process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_for(port: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("the fake Sheets API did not start")


def store_for(endpoint: str) -> GoogleStore:
    return GoogleStore(Config(store="google", google_spreadsheet=SPREADSHEET, google_api_endpoint=endpoint,
                              timezone="UTC"))


def fill(endpoint: str, rows: int) -> None:
    """The en template plus `rows` opportunities and rows/2 follow-ups, written through the Google store."""
    store = store_for(endpoint)
    store.setup(load_layout("en", TODAY))
    rng = random.Random(7)
    reps = ["Alice Chen", "Bob Wang", "Carol Zhang", "Dan Liu", "Erin Zhou"]
    opps, anchors = [], []
    for i in range(rows):
        values, ident, tel = opportunity(rng, i, reps)
        opps.append(values)
        anchors.append((ident, tel, values[3]))
    follow = []
    for _ in range(rows // 2):
        ident, tel, customer = rng.choice(anchors)
        entry = {"date": NOW.replace(tzinfo=None), "opportunity_id": ident, "customer": customer,
                 "phone": None if ident else tel, "channel": "Phone", "summary": "Talked about the quote",
                 "by": rng.choice(reps)}
        follow.append([entry.get(c.key) for c in FOLLOWUPS.columns])
    width = len(OPPORTUNITIES.columns)
    snap = store.read(["opportunities", "followups"])
    store.write(snap, WriteBatch(appends={"opportunities": [r[:width] for r in opps], "followups": follow}))


def sync(endpoint: str, work: Path, fake_pid: int) -> dict[str, float]:
    """One `sheetsync sync` in a fresh process: requests, its CPU and peak RSS, and the fake's CPU meanwhile."""
    env = {**os.environ, "SHEETSYNC_STORE": "google", "SHEETSYNC_GOOGLE_SPREADSHEET": SPREADSHEET,
           "SHEETSYNC_GOOGLE_API_ENDPOINT": endpoint, "SHEETSYNC_STATE_DIR": str(work / "state"),
           "SHEETSYNC_TIMEZONE": "UTC"}
    env.pop("SHEETSYNC_CONFIG", None)
    fake_before = proc_cpu(fake_pid)
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", SYNC], cwd=work, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    output = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(f"sheetsync sync failed:\n{output}")
    found = re.search(r"REQUESTS (\d+) (\d+)", output)
    peak = re.search(r"VmHWM:\s+(\d+) kB", output)
    return {"requests": int(found.group(1)) if found else 0, "sent_kb": int(found.group(2)) / 1000 if found else 0,
            "cpu": usage.ru_utime + usage.ru_stime,
            "rss_mb": int(peak.group(1)) / 1024 if peak else usage.ru_maxrss / 1024,
            "fake_cpu": proc_cpu(fake_pid) - fake_before, "wall": wall}


def change_one_row(endpoint: str) -> None:
    store = store_for(endpoint)
    snap = store.read(["opportunities"])
    rows = snap.tabs["opportunities"].rows
    col = rows[0].index("Stage")
    store.write(snap, WriteBatch(cells=[CellWrite("opportunities", len(rows) // 2, col, "Negotiation")]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000, 10_000])
    args = parser.parse_args()
    print(f"{'rows':>8}  {'sync':<22}{'requests':>9}{'sent kB':>10}{'CPU s':>8}{'peak RSS MB':>13}{'fake CPU s':>12}"
          f"{'wall s':>8}")
    for rows in args.rows:
        port = free_port()
        endpoint = f"http://127.0.0.1:{port}"
        fake = subprocess.Popen([sys.executable, str(ROOT / "tests" / "fake_sheets.py"), "--port", str(port),
                                 "--spreadsheet", SPREADSHEET], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for(port)
            fill(endpoint, rows)
            with tempfile.TemporaryDirectory(prefix="sheetsync-ghttp-") as tmp:
                work = Path(tmp)
                for name in ("first sync", "second sync", "nothing to change", "steady, nothing changed",
                             "one row changed"):
                    if name == "one row changed":
                        change_one_row(endpoint)
                    r = sync(endpoint, work, fake.pid)
                    print(f"{rows:>8,}  {name:<22}{r['requests']:>9}{r['sent_kb']:>10,.1f}{r['cpu']:>8.2f}"
                          f"{r['rss_mb']:>13.0f}"
                          f"{r['fake_cpu']:>12.2f}{r['wall']:>8.1f}", flush=True)
        finally:
            fake.terminate()
            fake.wait(10)


if __name__ == "__main__":
    main()
