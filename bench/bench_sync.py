"""Time sheetsync against a large workbook: openpyxl floor, first sync, steady-state sync, planner alone.

Run from the repository root with the project's virtualenv active:

    python bench/bench_sync.py --rows 10000 --repeat 3

It builds a workbook from the en template with --rows opportunities typed the way people type them
(mixed amount formats and phone styles, some rows without ID or owner) and rows/2 Follow-ups, in a
temporary directory, then prints the median of --repeat runs of each step. No network is used.
The third sync is the steady state: nothing new, only Reminders and Summary rebuilt.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from openpyxl import load_workbook

from sheetsync.config import Config
from sheetsync.core.ids import new_id
from sheetsync.core.plan import plan_sync
from sheetsync.core.schema import FOLLOWUPS, OPPORTUNITIES, TEAM
from sheetsync.core.workbook import SYNC_TABS
from sheetsync.state import State
from sheetsync.stores.base import Snapshot, WriteBatch
from sheetsync.stores.excel import ExcelStore
from sheetsync.sync import Syncer
from sheetsync.template import load_layout

TODAY = date(2026, 11, 28)
NOW = datetime(2026, 11, 28, 9, 30, tzinfo=timezone.utc)
STAGES = ["Lead"] * 6 + ["Qualified"] * 5 + ["Quote"] * 4 + ["Negotiation"] * 2 + ["Won"] * 4 + ["Lost"] * 4 + [
    "quote", " Won ", None]
REGIONS = ["East", "East", "North", "South", "West", "east", None]
INDUSTRIES = ["Manufacturing", "Retail", "Software", "Logistics", "Food", None]
LEVELS = ["A", "B", "B", "C", "C", None]
SOURCES = ["Website", "Referral", "Trade show", "Cold call", None]


def amount(rng: random.Random) -> object:
    n = rng.randrange(1, 500) * 1000
    return rng.choice([None, n, n + 0.5, f"{n:,}", f"${n:,}", f"¥{n:,}.00", f"{n // 1000}k", f"RMB {n}"])


def phone(rng: random.Random, i: int) -> object:
    digits = f"13{i % 10}{i:08d}"[-11:]
    return rng.choice([None, digits, f"+86 {digits[:3]} {digits[3:7]} {digits[7:]}", f"021-6{i % 10_000_000:07d}",
                       f"{digits[:3]} {digits[3:7]} {digits[7:]}"])


def opportunity(rng: random.Random, i: int, reps: list[str]) -> tuple[list[object], object, object]:
    """One typed row in template column order, plus the ID and phone it carries (for follow-ups)."""
    stage = rng.choice(STAGES)
    ident = new_id(rng) if rng.random() < 0.7 else None
    row = {
        "id": ident, "created": datetime(2026, 1, 1) + timedelta(hours=rng.randrange(8000)) if ident else None,
        "source": rng.choice(SOURCES), "customer": f"Customer {i:05d} Ltd", "contact": f"Contact {i}",
        "phone": phone(rng, i), "email": f"c{i}@example.com" if rng.random() < 0.6 else None,
        "region": rng.choice(REGIONS), "industry": rng.choice(INDUSTRIES), "level": rng.choice(LEVELS),
        "need": rng.choice(["Quote for line", "POS upgrade", "CRM integration", None]),
        "owner": rng.choice(reps) if rng.random() < 0.6 else None, "stage": stage, "amount": amount(rng),
        "expected_close": TODAY + timedelta(days=rng.randrange(-30, 90)) if rng.random() < 0.5 else None,
        "next_follow_up": TODAY + timedelta(days=rng.randrange(-10, 20)) if rng.random() < 0.4 else None,
        "loss_reason": "Price" if stage == "Lost" and rng.random() < 0.5 else None,
    }
    return [row.get(c.key) for c in OPPORTUNITIES.columns], ident, row["phone"]


def build(path: Path, rows: int, seed: int = 7) -> None:
    """The en template plus `rows` opportunities, rows/2 follow-ups and a team sized for them."""
    ExcelStore(path).setup(load_layout("en", TODAY))
    rng = random.Random(seed)
    wb = load_workbook(path)
    team = wb[TEAM.en]
    reps = ["Alice Chen", "Bob Wang", "Carol Zhang", "Dan Liu", "Erin Zhou"]
    for r in range(max(0, rows // 250)):
        extra = {"name": f"Rep {r:03d}", "regions": rng.choice(["East", "North", "South", "West"]),
                 "levels": "B, C", "capacity": 400, "weight": 1, "active": "Yes"}
        team.append([extra.get(c.key) for c in TEAM.columns])
        reps.append(extra["name"])
    opps, follow = wb[OPPORTUNITIES.en], wb[FOLLOWUPS.en]
    anchors = []
    for i in range(rows):
        values, ident, tel = opportunity(rng, i, reps)
        opps.append(values)
        anchors.append((ident, tel, values[3]))
    for _ in range(rows // 2):
        ident, tel, customer = rng.choice(anchors)
        entry = {"date": datetime(2026, 11, 28) - timedelta(days=rng.randrange(60)), "opportunity_id": ident,
                 "customer": customer, "phone": None if ident else tel, "channel": rng.choice(["Phone", "Visit"]),
                 "summary": "Talked about the quote", "by": rng.choice(reps)}
        follow.append([entry.get(c.key) for c in FOLLOWUPS.columns])
    wb.save(path)


def cells_in(batch: WriteBatch) -> int:
    """Every cell a batch puts in the workbook: single writes, appended and rebuilt rows."""
    grids = [*batch.appends.values(), *batch.replace.values()]
    return len(batch.cells) + sum(len(r) for grid in grids for r in grid)


class CountingStore(ExcelStore):
    """The workbook store, remembering how many cells its last write put down."""

    cells = 0

    def write(self, snapshot: Snapshot, batch: WriteBatch) -> None:
        self.cells = cells_in(batch)
        super().write(snapshot, batch)


def one_round(seed_file: Path, work: Path, first_snap: Snapshot) -> dict[str, tuple[float, int | None]]:
    """Each step once on a fresh copy of the seed workbook and fresh state: step -> (seconds, cells)."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    path = work / "pipeline.xlsx"
    shutil.copy(seed_file, path)
    out: dict[str, tuple[float, int | None]] = {}

    def clock(name: str, fn: Callable[[], int | None]) -> None:
        start = time.perf_counter()
        cells = fn()
        out[name] = (time.perf_counter() - start, cells)

    def baseline_load() -> None:
        load_workbook(path)

    def baseline() -> None:
        load_workbook(path).save(work / "copy.xlsx")

    clock("openpyxl load", baseline_load)
    clock("openpyxl load+save (floor)", baseline)
    config = Config(workbook=str(path), state_dir=str(work / "state"), timezone="UTC", base_dir=work)
    state = State(config.state_path)
    try:
        runs = (("first sync", NOW), ("second sync", NOW + timedelta(minutes=5)),
                ("steady-state sync (3rd)", NOW + timedelta(minutes=10)))
        for name, at in runs:
            store = CountingStore(path)  # a fresh store per run, as `sheetsync sync` starts fresh
            syncer = Syncer(store, config, state, clock=lambda at=at: at)

            def sync(syncer: Syncer = syncer, store: CountingStore = store) -> int:
                syncer.run_cycle()
                return store.cells

            clock(name, sync)
        steady_snap = ExcelStore(path).read(SYNC_TABS)
        rng = random.Random(1)
        later = datetime(2026, 11, 28, 9, 40)
        for name, snap, seen, cursors in (("planner only, first", first_snap, {}, {}),
                                          ("planner only, steady", steady_snap, state.seen(), state.cursors())):
            def plan(snap: Snapshot = snap, seen: dict = seen, cursors: dict = cursors) -> int:
                return cells_in(plan_sync(snap, language="en", now=later, cursors=cursors, seen=seen,
                                          new_id=lambda taken: new_id(rng, taken)).batch)

            clock(name, plan)
    finally:
        state.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000, help="opportunity rows (default 10000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per step; the median is shown (default 3)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sheetsync-bench-") as tmp:
        seed_file = Path(tmp) / "seed.xlsx"
        start = time.perf_counter()
        build(seed_file, args.rows)
        print(f"built {args.rows} opportunities + {args.rows // 2} follow-ups in {time.perf_counter() - start:.1f}s"
              f" ({seed_file.stat().st_size / 1e6:.1f} MB)")
        first_snap = ExcelStore(seed_file).read(SYNC_TABS)
        rounds = [one_round(seed_file, Path(tmp) / "run", first_snap) for _ in range(args.repeat)]
    print(f"python {platform.python_version()}, {platform.machine()}, nproc {os.cpu_count()}, "
          f"median of {args.repeat}\n")
    print(f"{'step':<28}{'seconds':>9}{'rows/s':>10}{'cells written':>15}")
    for name in rounds[0]:
        secs = statistics.median(r[name][0] for r in rounds)
        cells = rounds[0][name][1]
        print(f"{name:<28}{secs:>9.3f}{args.rows / secs:>10,.0f}{'-' if cells is None else f'{cells:,}':>15}")


if __name__ == "__main__":
    main()
