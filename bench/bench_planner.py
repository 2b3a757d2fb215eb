"""CPU cost of the planner (core.plan.plan_sync) alone, beside reading the same data with python-calamine.

Run from the repository root with the project's virtualenv active:

    python bench/bench_planner.py --rows 1000 10000 100000 --repeat 3

For each size it takes the en template, adds that many opportunities typed the way people type them (the
generator of bench_sync.py), rows/2 Follow-ups and a team sized for them, and settles it in memory: three
cycles of plan_sync, each batch applied to the tabs as a store would (so IDs, owners, statuses, History,
Reminders and Summary are what a real third sync meets). It then measures CPU seconds (user+sys of this
process, median of --repeat) of one plan_sync over the settled snapshot with nothing changed, and after one
and after 100 rows' Stage changed, each with sheetsync's memo caches emptied first (as a fresh process has
them, e.g. `sheetsync sync` from cron), and for one changed row once more with the caches as a long-running
worker has them. The floor, measured in the same run, is python-calamine reading every tab of the same data
saved as .xlsx (the least any tool pays to look at the sheet before planning). No store, no disk write
inside the timed part, no network.
"""

from __future__ import annotations

import argparse
import copy
import functools
import gc
import os
import pickle
import platform
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from openpyxl import Workbook as XlsxBook
from python_calamine import CalamineWorkbook

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_sync import TODAY, pipeline_rows  # noqa: E402

from sheetsync.core.ids import new_id  # noqa: E402
from sheetsync.core.plan import Plan, plan_sync  # noqa: E402
from sheetsync.core.schema import OPPORTUNITIES, TABS_BY_KEY  # noqa: E402
from sheetsync.core.workbook import SYNC_TABS  # noqa: E402
from sheetsync.ports import Snapshot, TabData, WriteBatch  # noqa: E402
from sheetsync.template import load_layout  # noqa: E402

NOW = datetime(2026, 11, 28, 9, 30)


def cpu() -> float:
    return time.process_time()


def template() -> Snapshot:
    """The en template's tabs as a store would return them: header row, then the example rows."""
    tabs = {}
    for spec in load_layout("en", TODAY).tabs:
        if spec.tab.key not in SYNC_TABS:
            continue
        head = [] if spec.tab.headerless else [list(spec.headers)]
        tabs[spec.tab.key] = TabData(spec.title, head + [[None if c == "" else c for c in row] for row in spec.rows])
    return Snapshot(tabs)


def build(rows: int, seed: int = 7) -> Snapshot:
    """The template plus `rows` opportunities, rows/2 follow-ups and a team sized for them (as bench_sync)."""
    snap = template()
    team, opps, follow = pipeline_rows(rows, seed)
    snap.tabs["team"].rows.extend(team)
    snap.tabs["opportunities"].rows.extend(opps)
    snap.tabs["followups"].rows.extend(follow)
    return snap


def apply(snap: Snapshot, batch: WriteBatch) -> None:
    """Apply a batch to the tabs the way a store does: cells, then replaced tabs, then appends."""
    for w in batch.cells:
        rows = snap.tabs[w.tab].rows
        while len(rows) < w.row:
            rows.append([])
        row = rows[w.row - 1]
        row.extend([None] * (w.col + 1 - len(row)))
        row[w.col] = w.value
    for key, new in batch.replace.items():
        rows = snap.tabs[key].rows
        first = 0 if TABS_BY_KEY[key].headerless else 1
        del rows[first:]
        rows.extend(list(r) for r in new)
    for key, new in batch.appends.items():
        rows = snap.tabs[key].rows
        while rows and len(rows) > 1 and all(c in (None, "") for c in rows[-1]):
            rows.pop()
        rows.extend(list(r) for r in new)


class Planner:
    """Cycles of plan_sync over one in-memory workbook, keeping the state a sync keeps."""

    def __init__(self, snap: Snapshot) -> None:
        self.snap = snap
        self.cursors: dict = {}
        self.seen: dict = {}
        self.rng = random.Random(1)

    def plan(self, minutes: int) -> Plan:
        return plan_sync(self.snap, language="en", now=NOW + timedelta(minutes=minutes), cursors=self.cursors,
                         seen=self.seen, new_id=lambda taken: new_id(self.rng, taken))

    def cycle(self, minutes: int) -> None:
        plan = self.plan(minutes)
        apply(self.snap, plan.batch)
        self.cursors, self.seen = plan.cursors, plan.seen


def edit(snap: Snapshot, count: int) -> None:
    """A person changes the Stage of `count` rows spread over the sheet."""
    rows = snap.tabs["opportunities"].rows
    col = OPPORTUNITIES.columns.index(OPPORTUNITIES.column("stage"))
    step = max(1, (len(rows) - 1) // max(count, 1))
    for i in range(count):
        rows[1 + i * step][col] = "Negotiation"


def save_xlsx(snap: Snapshot, path: Path) -> None:
    book = XlsxBook(write_only=True)
    for data in snap.tabs.values():
        sheet = book.create_sheet(data.title)
        for row in data.rows:
            sheet.append(row)
    book.save(path)


def calamine_read(path: Path) -> None:
    book = CalamineWorkbook.from_path(str(path))
    for title in book.sheet_names:
        book.get_sheet_by_name(title).to_python(skip_empty_area=False)
    book.close()


def forget() -> None:
    """Empty sheetsync's memo caches (parsed dates, amounts, phones), as a fresh `sheetsync sync` process has them."""
    for obj in gc.get_objects():
        if isinstance(obj, functools._lru_cache_wrapper) and getattr(obj, "__module__", "").startswith("sheetsync"):
            obj.cache_clear()


def timed(action) -> float:
    start = cpu()
    action()
    return cpu() - start


def measure(rows: int, repeat: int) -> dict[str, tuple[float, float]]:
    settled = Planner(build(rows))
    for minutes in (0, 10, 20):
        settled.cycle(minutes)
    with tempfile.TemporaryDirectory(prefix="sheetsync-bench-") as tmp:
        path = Path(tmp) / "settled.xlsx"
        save_xlsx(settled.snap, path)
        floor = statistics.median(timed(lambda: calamine_read(path)) for _ in range(repeat))
    out: dict[str, tuple[float, float]] = {}
    for name, changed, warm in (("planner, nothing changed", 0, False), ("planner, 1 row changed", 1, False),
                                ("planner, 100 rows changed", 100, False),
                                ("1 row changed, warm caches", 1, True)):
        spent = []
        for _ in range(repeat):
            run = Planner(copy.deepcopy(settled.snap))
            run.cursors, run.seen = settled.cursors, settled.seen
            edit(run.snap, changed)
            forget()
            if warm:  # a long-running worker has planned these rows before
                run.plan(30)
            spent.append(timed(lambda run=run: run.plan(30)))
        out[name] = (statistics.median(spent), floor)
    return out


def dump(rows: int, path: Path) -> None:
    """Pickle everything the planner produced while settling and after 100 changed rows, to compare checkouts."""
    run = Planner(build(rows))
    for minutes in (0, 10, 20):
        run.cycle(minutes)
    edit(run.snap, 100)
    plan = run.plan(30)
    b = plan.batch
    out = ({k: t.rows for k, t in run.snap.tabs.items()}, run.cursors, run.seen,
           (b.cells, b.guards, b.appends, b.replace, b.charts, b.formats), plan.seen, plan.cursors, plan.report)
    path.write_bytes(pickle.dumps(out))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000, 10_000], help="opportunity rows")
    parser.add_argument("--repeat", type=int, default=3, help="runs per step; the median is shown (default 3)")
    parser.add_argument("--dump", type=Path, help="instead of timing, pickle what the planner wrote (first --rows) "
                        "to this file: two checkouts' files are equal when they plan alike")
    args = parser.parse_args()
    if args.dump:
        dump(args.rows[0], args.dump)
        return
    print(f"python {platform.python_version()}, {platform.machine()}, nproc {os.cpu_count()}; CPU seconds "
          f"(user+sys) of this process, median of {args.repeat}\n")
    print(f"{'rows':>8}  {'step':<28}{'planner':>9}{'calamine floor':>16}{'ratio':>7}")
    for rows in args.rows:
        for name, (spent, floor) in measure(rows, args.repeat).items():
            print(f"{rows:>8,}  {name:<28}{spent:>9.3f}{floor:>16.3f}{spent / floor:>6.1f}x")


if __name__ == "__main__":
    main()
