"""CPU cost of sheetsync on the local workbook, each step beside its floor measured in the same run.

Run from the repository root with the project's virtualenv active:

    python bench/bench_sync.py --rows 1000 10000 --repeat 3

For each size it builds a workbook from the en template with that many opportunities typed the way people
type them (mixed amount formats and phone styles, some rows without ID or owner) and rows/2 Follow-ups, in
a temporary directory (the rows are appended through the store's in-place write: seconds even at 100k
rows), syncs it three times (the state a real sync meets), then measures CPU seconds (user+sys of this
process, median of --repeat runs, each on a fresh copy and a fresh store):

- floors: openpyxl load+save (what any whole-file tool pays); python-calamine reading every tab; and for
  each step, reading what the step reads plus re-writing only the zip parts the step changed (copying
  every other part raw) - the least any tool can do for that step;
- steady sync (nothing changed), a sync after 1 and after 100 rows changed, a one-lead flush in a fresh
  store (cold) and in the same store again (warm), and the planner alone.

The growth table at the end shows what a changed row costs as the sheet grows. No network is used.
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
import zipfile
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from openpyxl import load_workbook
from python_calamine import CalamineWorkbook

from sheetsync.config import Config
from sheetsync.core.ids import new_id
from sheetsync.core.intake import CREATE, Submission
from sheetsync.core.plan import plan_sync
from sheetsync.core.schema import FOLLOWUPS, OPPORTUNITIES, TEAM
from sheetsync.core.workbook import SYNC_TABS
from sheetsync.ports import Cell
from sheetsync.state import State
from sheetsync.stores.base import CellWrite, WriteBatch
from sheetsync.stores.excel import ExcelStore
from sheetsync.stores.excel_zip import Package
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



def pipeline_rows(rows: int, seed: int = 7) -> tuple[list[list[Cell]], list[list[Cell]], list[list[Cell]]]:
    """Extra Team rows (one rep per 250 deals), `rows` opportunities typed the way people type and rows/2
    follow-ups, the same for a given seed in every bench."""
    rng = random.Random(seed)
    reps = ["Alice Chen", "Bob Wang", "Carol Zhang", "Dan Liu", "Erin Zhou"]
    team: list[list[Cell]] = []
    for r in range(max(0, rows // 250)):
        extra = {"name": f"Rep {r:03d}", "regions": rng.choice(["East", "North", "South", "West"]),
                 "levels": "B, C", "capacity": 400, "weight": 1, "active": "Yes"}
        team.append([extra.get(c.key) for c in TEAM.columns])
        reps.append(str(extra["name"]))
    opps: list[list[Cell]] = []
    anchors = []
    for i in range(rows):
        values, ident, tel = opportunity(rng, i, reps)
        opps.append(values)
        anchors.append((ident, tel, values[3]))
    follow: list[list[Cell]] = []
    for _ in range(rows // 2):
        ident, tel, customer = rng.choice(anchors)
        entry = {"date": datetime(2026, 11, 28) - timedelta(days=rng.randrange(60)), "opportunity_id": ident,
                 "customer": customer, "phone": None if ident else tel, "channel": rng.choice(["Phone", "Visit"]),
                 "summary": "Talked about the quote", "by": rng.choice(reps)}
        follow.append([entry.get(c.key) for c in FOLLOWUPS.columns])
    return team, opps, follow

def build(path: Path, rows: int, seed: int = 7) -> None:
    """The en template plus `rows` opportunities, rows/2 follow-ups and a team sized for them.

    The template gets its charts from one sync of its example rows; the generated rows are then appended
    through the store's own in-place write, so no whole-workbook load or save is paid at any size.
    """
    store = ExcelStore(path)
    store.setup(load_layout("en", TODAY))
    config = Config(workbook=str(path), state_dir=str(path.parent / "draw"), timezone="UTC", base_dir=path.parent)
    state = State(config.state_path)
    try:
        Syncer(store, config, state, clock=lambda: NOW - timedelta(minutes=10)).run_cycle()
    finally:
        state.close()
    shutil.rmtree(path.parent / "draw", ignore_errors=True)
    team, opps, follow = pipeline_rows(rows, seed)
    store = ExcelStore(path)
    snapshot = store.read(["opportunities", "followups", "team"])
    store.write(snapshot, WriteBatch(appends={"team": team, "opportunities": opps, "followups": follow}))


def cpu() -> float:
    return time.process_time()


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {name: z.read(name) for name in z.namelist()}


def calamine_read(path: Path, titles: list[str] | None = None) -> None:
    book = CalamineWorkbook.from_path(str(path))
    for title in titles or book.sheet_names:
        book.get_sheet_by_name(title).to_python(skip_empty_area=False)
    book.close()


def rewrite_floor(before: bytes, after: Path) -> tuple[float, int]:
    """CPU of re-writing only the parts that differ between two saves (others copied raw), and their count."""
    old, new = parts_of(before), parts(after)
    changed = {name: body for name, body in new.items() if old.get(name) != body}
    start = cpu()
    Package(before).rewrite(changed)
    return cpu() - start, len(changed)


def parts_of(data: bytes) -> dict[str, bytes]:
    import io

    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {name: z.read(name) for name in z.namelist()}


def lead(i: int) -> Submission:
    return Submission(f"bench-{i}", CREATE, f"OPP-BENCH{i:04d}", {"customer": f"Flush Co {i}", "contact": "Li",
                      "phone": f"1390000{i:04d}", "region": "East"}, NOW, "generic")


class Run:
    """One fresh copy of the settled workbook and its state."""

    def __init__(self, settled: Path, work: Path) -> None:
        shutil.rmtree(work, ignore_errors=True)
        shutil.copytree(settled.parent, work)
        self.path = work / settled.name
        self.config = Config(workbook=str(self.path), state_dir=str(work / "state"), timezone="UTC", base_dir=work)
        self.state = State(self.config.state_path)
        self.store = ExcelStore(self.path)

    def syncer(self, minutes: int) -> Syncer:
        return Syncer(self.store, self.config, self.state, clock=lambda: NOW + timedelta(minutes=minutes))

    def edit_rows(self, count: int) -> None:
        """A person changes the Stage of `count` rows and saves (written in place, outside the clock)."""
        store = ExcelStore(self.path)
        snap = store.read(["opportunities"])
        rows = snap.tabs["opportunities"].rows
        col = rows[0].index("Stage")
        step = max(1, (len(rows) - 1) // max(count, 1))
        cells = [CellWrite("opportunities", 2 + i * step, col, "Negotiation") for i in range(count)]
        store.write(snap, WriteBatch(cells=cells))

    def close(self) -> None:
        self.state.close()


def measure(settled: Path, work: Path) -> dict[str, tuple[float, float]]:
    """Each step once: step -> (sheetsync CPU s, floor CPU s)."""
    out: dict[str, tuple[float, float]] = {}
    titles = CalamineWorkbook.from_path(str(settled)).sheet_names

    start = cpu()
    load_workbook(settled).save(work.parent / "openpyxl-copy.xlsx")
    out["openpyxl load + save (whole-file floor)"] = (cpu() - start, 0.0)
    start = cpu()
    calamine_read(settled)
    read_all = cpu() - start
    out["python-calamine: read every tab"] = (read_all, 0.0)
    intake_titles = [t for t in titles if t not in ("Reminders", "Summary")]
    start = cpu()
    calamine_read(settled, intake_titles)
    read_intake = cpu() - start

    for name, changed_rows in (("steady sync, nothing changed", 0), ("sync, 1 row changed", 1),
                               ("sync, 100 rows changed", 100)):
        run = Run(settled, work)
        try:
            if changed_rows:
                run.edit_rows(changed_rows)
            before = run.path.read_bytes()
            start = cpu()
            run.syncer(30).run_cycle()
            spent = cpu() - start
            floor, _ = rewrite_floor(before, run.path)
            out[name] = (spent, read_all + floor)
        finally:
            run.close()

    run = Run(settled, work)
    try:
        syncer = run.syncer(30)
        before = run.path.read_bytes()
        start = cpu()
        syncer.flush([lead(1)], NOW)
        spent = cpu() - start
        floor, _ = rewrite_floor(before, run.path)
        out["one-lead flush, cold (fresh store)"] = (spent, read_intake + floor)
        before = run.path.read_bytes()
        start = cpu()
        syncer.flush([lead(2)], NOW)
        spent = cpu() - start
        floor, _ = rewrite_floor(before, run.path)
        out["one-lead flush, warm (same store)"] = (spent, floor)
        snap = run.store.read(SYNC_TABS)
        rng = random.Random(1)
        start = cpu()
        plan_sync(snap, language="en", now=datetime(2026, 11, 28, 10, 0), cursors=run.state.cursors(),
                  seen=run.state.seen(), new_id=lambda taken: new_id(rng, taken))
        out["planner alone, steady"] = (cpu() - start, 0.0)
    finally:
        run.close()
    return out


def settle(seed: Path) -> float:
    """Sync a built workbook three times; return the CPU of the first sync (IDs, owners, statuses for every row)."""
    config = Config(workbook=str(seed), state_dir=str(seed.parent / "state"), timezone="UTC", base_dir=seed.parent)
    state = State(config.state_path)
    first = 0.0
    try:
        for i, minutes in enumerate((0, 10, 20)):
            start = cpu()
            Syncer(ExcelStore(seed), config, state, clock=lambda m=minutes: NOW + timedelta(minutes=m)).run_cycle()
            if i == 0:
                first = cpu() - start
    finally:
        state.close()
    return first


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000, 10_000], help="opportunity rows")
    parser.add_argument("--repeat", type=int, default=3, help="runs per step; the median is shown (default 3)")
    args = parser.parse_args()
    print(f"python {platform.python_version()}, {platform.machine()}, nproc {os.cpu_count()}; CPU seconds "
          f"(user+sys) of this process, median of {args.repeat}\n")
    growth = []
    for rows in args.rows:
        with tempfile.TemporaryDirectory(prefix="sheetsync-bench-") as tmp:
            seed = Path(tmp) / "seed" / "pipeline.xlsx"
            seed.parent.mkdir()
            start = cpu()
            build(seed, rows)
            built = cpu() - start
            first = settle(seed)
            runs = [measure(seed, Path(tmp) / "run") for _ in range(args.repeat)]
            size = seed.stat().st_size / 1e6
        print(f"{rows:,} opportunities + {rows // 2:,} follow-ups ({size:.1f} MB); built in {built:.1f} s, first "
              f"sync {first:.2f} s (IDs, owners and statuses for every row)")
        print(f"  {'step':<42}{'sheetsync':>10}{'floor':>8}{'ratio':>7}")
        median = {name: (statistics.median(r[name][0] for r in runs), statistics.median(r[name][1] for r in runs))
                  for name in runs[0]}
        for name, (spent, floor) in median.items():
            ratio = f"{spent / floor:>6.1f}x" if floor else ""
            print(f"  {name:<42}{spent:>10.3f}{floor or '':>8.3}{ratio:>7}")
        print()
        growth.append((rows, median))
    print("growth, CPU s (same-run floor in brackets); per changed row = (100 rows - 1 row) / 99")
    print(f"{'rows':>8}{'steady':>16}{'1 row':>16}{'100 rows':>16}{'per row':>10}{'flush cold':>16}"
          f"{'flush warm':>16}{'openpyxl':>10}")
    for rows, m in growth:
        one, hundred = m["sync, 1 row changed"][0], m["sync, 100 rows changed"][0]
        per_row = (hundred - one) / 99 * 1000

        def cell(name: str, m: dict[str, tuple[float, float]] = m) -> str:
            spent, floor = m[name]
            return f"{spent:>7.3f} ({floor:.3f})"

        print(f"{rows:>8,}{cell('steady sync, nothing changed'):>16}{cell('sync, 1 row changed'):>16}"
              f"{cell('sync, 100 rows changed'):>16}{per_row:>7.1f} ms{cell('one-lead flush, cold (fresh store)'):>16}"
              f"{cell('one-lead flush, warm (same store)'):>16}"
              f"{m['openpyxl load + save (whole-file floor)'][0]:>10.2f}")


if __name__ == "__main__":
    main()
