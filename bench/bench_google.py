"""Requests and wall time of one sync on Google Sheets (against the fake), beside a naive per-row gspread cycle.

Run from the repository root with the project's virtualenv active (no network is used):

    python bench/bench_google.py --rows 1000 10000 100000

For each size it builds the same generated pipeline as bench/bench_sync.py, loads it into the fake Sheets
API (tests/fake_sheets.py, reached through a session adapter, so no real HTTP and no sleeping), and runs:

- sheetsync: a first `Syncer.run_cycle()` with GoogleStore (metadata + batchGet read, guard re-read,
  one batchUpdate);
- naive: the same planned changes applied the way per-row gspread code does it (open + worksheet per
  tab, get_all_values per tab, update_cell per changed cell, append_row per new row, clear + update per
  rebuilt tab). Past --naive-cap requests its time is extrapolated from the measured rate.

"Minutes at quota" is requests / 60: how long Google's 60 requests/minute/user quota makes the cycle take.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import gspread
from bench_sync import NOW, TODAY, build

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from fake_sheets import FakeSheets, make_store  # noqa: E402

from sheetsync.config import Config  # noqa: E402
from sheetsync.core.ids import new_id  # noqa: E402
from sheetsync.core.plan import plan_sync  # noqa: E402
from sheetsync.core.workbook import SYNC_TABS  # noqa: E402
from sheetsync.state import State  # noqa: E402
from sheetsync.stores.excel import ExcelStore  # noqa: E402
from sheetsync.sync import Syncer  # noqa: E402


def load_fake(seed_file: Path) -> FakeSheets:
    """A fake spreadsheet holding every tab of the generated workbook."""
    fake = FakeSheets(first_tab=None)
    snap = ExcelStore(seed_file).read()
    for data in snap.tabs.values():
        fake.add_sheet(data.title, [list(r) for r in data.rows] or None, frozen_rows=1)
    return fake


def sheetsync_cycles(seed_file: Path, work: Path) -> list[tuple[int, int, float]]:
    """(requests, bytes sent, seconds) of a first and a second sync with the Google store (one store, as a worker)."""
    fake = load_fake(seed_file)
    store = make_store(fake)
    state = State(work / "state-g")
    out = []
    try:
        for minutes in (0, 5):
            fake.reset_counts()
            start = time.perf_counter()
            Syncer(store, Config(timezone="UTC"), state, clock=lambda m=minutes: NOW + timedelta(minutes=m)).run_cycle()
            out.append((len(fake.calls), sum(c.size for c in fake.calls), time.perf_counter() - start))
    finally:
        state.close()
    return out


def _plain(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return float(value)
    return str(value) if isinstance(value, (date, datetime)) else value


def naive_cycle(seed_file: Path, cap: int) -> tuple[int, float, bool]:
    """(requests, seconds, extrapolated) of the same changes written cell by cell with plain gspread."""
    fake = load_fake(seed_file)
    store = make_store(fake)
    snapshot = store.read(SYNC_TABS)
    rng = random.Random(3)
    batch = plan_sync(snapshot, language="en", now=NOW.replace(tzinfo=None), cursors={}, seen={},
                      new_id=lambda taken: new_id(rng, taken)).batch
    fake.reset_counts()
    gc = gspread.Client(auth=None, session=fake.session())
    start = time.perf_counter()
    sh = gc.open_by_key(fake.spreadsheet_id)
    sheets = {key: sh.worksheet(snapshot.tabs[key].title) for key in SYNC_TABS if key in snapshot.tabs}
    for ws in sheets.values():
        ws.get_all_values()
    planned = 1 + 2 * len(sheets) + len(batch.cells) + sum(len(r) for r in batch.appends.values())
    planned += 2 * len(batch.replace)
    done = 0
    for cell in batch.cells:
        if done >= cap:
            break
        sheets[cell.tab].update_cell(cell.row, cell.col + 1, _plain(cell.value))
        done += 1
    for key, rows in batch.appends.items():
        for row in rows:
            if done < cap:
                sheets[key].append_row([_plain(v) for v in row])
                done += 1
    seconds = time.perf_counter() - start
    measured = len(fake.calls)
    if measured < planned:
        return planned, seconds * planned / measured, True
    return measured, seconds, False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--naive-cap", type=int, default=3_000, help="requests the naive cycle really sends")
    args = parser.parse_args()
    print(f"{'':>8} | {'sheetsync, first sync':^31} | {'sheetsync, next sync':^22} | {'naive per-row gspread':^30}")
    print(f"{'rows':>8} | {'requests':>8} {'MB sent':>7} {'seconds':>7} {'min@quota':>9} | "
          f"{'requests':>8} {'MB sent':>7} {'s':>5} | {'requests':>9} {'seconds':>9} {'min@quota':>9}")
    for rows in args.rows:
        with tempfile.TemporaryDirectory(prefix="sheetsync-gbench-") as tmp:
            seed_file = Path(tmp) / "seed.xlsx"
            build(seed_file, rows)
            (requests, sent, seconds), (again, sent2, seconds2) = sheetsync_cycles(seed_file, Path(tmp))
            naive, naive_seconds, guessed = naive_cycle(seed_file, args.naive_cap)
        mark = "*" if guessed else " "
        print(f"{rows:>8,} | {requests:>8} {sent / 1e6:>7.1f} {seconds:>7.2f} {requests / 60:>9.2f} | "
              f"{again:>8} {sent2 / 1e6:>7.1f} {seconds2:>5.1f} | {naive:>9,} {naive_seconds:>8.1f}{mark} "
              f"{naive / 60:>9,.0f}")
    print(f"\n* extrapolated from the first {args.naive_cap:,} requests. Built on {TODAY}; no network used.")


if __name__ == "__main__":
    main()
