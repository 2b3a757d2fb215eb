"""Coexistence: people keep editing while syncs and intake flushes run, and nothing they typed is lost.

A seeded random person sorts, inserts and deletes rows, types into people's and fill columns, leaves blank
rows in the middle and appends rows at the bottom, interleaved with sync cycles and intake flushes; a share
of the edits lands exactly between the store's guard re-read and its write (`kit.in_gap`). After every
cycle the sheet is checked against what the person did: 0 person-typed values lost, 0 IDs on the wrong
customer, 0 duplicated IDs, 0 rows lost.

The default run is bounded (200 edits per store, a few seconds); the long run is behind a marker:

    python -m pytest -m coexistence_long tests/test_coexistence.py -q -s
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import openpyxl
import pytest
from conftest import NOW

from sheetsync.core import values as v
from sheetsync.core.schema import OPPORTUNITIES, column_letter
from sheetsync.intake.flush import flush_once
from sheetsync.intake.queue import IntakeQueue
from sheetsync.ports import Incoming
from sheetsync.stores.base import StoreError
from sheetsync.sync import Syncer

COL = {c.key: i for i, c in enumerate(OPPORTUNITIES.columns)}
TYPED_PEOPLE = ("need", "next_step")
"""People's columns the person types into (any row)."""
TYPED_FILL = ("owner", "next_follow_up")
"""Columns the worker fills when blank; the person types into them too, and must win."""


def a1(key: str, row: int) -> str:
    return f"{column_letter(COL[key])}{row}"


@dataclass
class Truth:
    """What the person did, to check the sheet against: values typed per customer, IDs once seen."""

    typed: dict[str, dict[str, object]] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)
    alive: set[str] = field(default_factory=set)
    landed_forms: set[str] = field(default_factory=set)
    counts: dict[str, int] = field(default_factory=dict)
    findings: list[str] = field(default_factory=list)

    def count(self, what: str) -> None:
        self.counts[what] = self.counts.get(what, 0) + 1


class ExcelSheet:
    """The person's Excel: edits of one sitting made on one open workbook, saved once (as people do)."""

    def __init__(self, kit) -> None:
        self.path = kit.store.path
        self._wb = None

    def values(self) -> list[list[object]]:
        from sheetsync.stores.excel_read import ValuesReader

        reader = ValuesReader(self.path)
        try:
            return reader.rows("Opportunities")
        finally:
            reader.close()

    @contextmanager
    def sitting(self) -> Iterator[None]:
        self._wb = openpyxl.load_workbook(self.path)
        try:
            yield
            self._wb.save(self.path)
        finally:
            self._wb = None

    @property
    def ws(self):
        assert self._wb is not None, "edit inside a sitting"
        return self._wb["Opportunities"]

    def type(self, cell: str, value: object) -> None:
        self.ws[cell] = value

    def sort(self, col: int) -> None:
        ws = self.ws
        width = ws.max_column
        rows = [[ws.cell(row=r, column=c + 1).value for c in range(width)] for r in range(2, ws.max_row + 1)]
        rows.sort(key=lambda row: (row[col] in (None, ""), str(row[col] or "")))
        for r, row in enumerate(rows, start=2):
            for c, value in enumerate(row):
                ws.cell(row=r, column=c + 1).value = value

    def insert(self, row: int) -> None:
        self.ws.insert_rows(row)

    def delete(self, row: int) -> None:
        self.ws.delete_rows(row)


class GoogleSheet:
    """The person's browser tab on the fake Google Sheet: every edit is live at once."""

    def __init__(self, kit) -> None:
        self.fake = kit.edit.__self__

    def values(self) -> list[list[object]]:
        return self.fake.values("Opportunities")

    @contextmanager
    def sitting(self) -> Iterator[None]:
        yield

    def type(self, cell: str, value: object) -> None:
        self.fake.type("Opportunities", cell, value)

    def sort(self, col: int) -> None:
        self.fake.sort("Opportunities", col)

    def insert(self, row: int) -> None:
        self.fake.insert_row("Opportunities", row)

    def delete(self, row: int) -> None:
        self.fake.delete_row("Opportunities", row)


class Person:
    """Edits the Opportunities tab the way a person in Excel or Google Sheets would, and remembers what."""

    def __init__(self, sheet, rng: random.Random, truth: Truth) -> None:
        self.sheet = sheet
        self.rng = rng
        self.truth = truth
        self.made = 0
        self._rows: list[tuple[int, list[object]]] = []

    def rows(self) -> list[tuple[int, list[object]]]:
        return [(i, r) for i, r in enumerate(self.sheet.values(), start=1)
                if i > 1 and r and COL["customer"] < len(r) and r[COL["customer"]]]

    def sitting(self, edits: int) -> list[str]:
        """Make `edits` edits in one sitting (one save on Excel)."""
        done = []
        with self.sheet.sitting():
            self._rows = self.rows() if isinstance(self.sheet, GoogleSheet) else self._rows_open()
            for _ in range(edits):
                done.append(self.edit())
                if isinstance(self.sheet, GoogleSheet):
                    self._rows = self.rows()
                else:
                    self._rows = self._rows_open()
        return done

    def _rows_open(self) -> list[tuple[int, list[object]]]:
        ws = self.sheet.ws
        out = []
        for i, r in enumerate(ws.iter_rows(min_row=2, values_only=True), start=2):
            if len(r) > COL["customer"] and r[COL["customer"]]:
                out.append((i, list(r)))
        return out

    def edit(self) -> str:
        kinds = ["sort", "insert", "delete", "type_people", "type_fill", "append", "blank_middle"]
        weights = [2, 1, 1, 4, 3, 2, 1]
        kind = self.rng.choices(kinds, weights)[0]
        rows = self._rows
        if kind in ("delete", "type_people", "type_fill", "sort") and len(rows) < 3:
            kind = "append"
        getattr(self, kind)(rows)
        self.truth.count(kind)
        return kind

    def sort(self, rows) -> None:
        self.sheet.sort(COL[self.rng.choice(["customer", "phone", "need", "contact"])])

    def insert(self, rows) -> None:
        self.sheet.insert(self.rng.randint(2, len(rows) + 1))

    blank_middle = insert

    def delete(self, rows) -> None:
        row, values = self.rng.choice(rows)
        self.sheet.delete(row)
        self.truth.alive.discard(str(values[COL["customer"]]))

    def type_people(self, rows) -> None:
        row, values = self.rng.choice(rows)
        key = self.rng.choice(TYPED_PEOPLE)
        value = f"{key} typed {self.made}"
        self.made += 1
        self.sheet.type(a1(key, row), value)
        self.truth.typed.setdefault(str(values[COL["customer"]]), {})[key] = value

    def type_fill(self, rows) -> None:
        row, values = self.rng.choice(rows)
        key = self.rng.choice(TYPED_FILL)
        value: object = f"Rep {self.made}" if key == "owner" else datetime(2027, 1, 1) + timedelta(days=self.made)
        self.made += 1
        self.sheet.type(a1(key, row), value)
        self.truth.typed.setdefault(str(values[COL["customer"]]), {})[key] = value

    def append(self, rows) -> None:
        name = f"Walk-in {self.made}"
        self.made += 1
        last = max((r for r, _ in rows), default=1)
        row = last + 1 + self.rng.choice([0, 0, 1])  # now and then below a blank row
        self.sheet.type(a1("customer", row), name)
        self.sheet.type(a1("contact", row), "Kim")
        self.sheet.type(a1("phone", row), f"139{self.made:08d}")
        self.truth.alive.add(name)


def same(a: object, b: object) -> bool:
    if isinstance(a, datetime) and isinstance(b, (datetime, date)):
        return a.date() == (b.date() if isinstance(b, datetime) else b)
    return v.text(a) == v.text(b)


def check(view, truth: Truth) -> None:
    """Compare the sheet with what the person did; record every difference as a finding."""
    sheet = [r for r in view.values()[1:] if r and COL["customer"] < len(r) and r[COL["customer"]]]
    by_customer: dict[str, list[object]] = {}
    for r in sheet:
        by_customer.setdefault(str(r[COL["customer"]]), r)
    for customer in sorted(truth.alive):
        if customer not in by_customer:
            truth.findings.append(f"row lost: {customer}")
    ids = [str(r[COL["id"]]) for r in sheet if COL["id"] < len(r) and r[COL["id"]]]
    for dup in sorted({i for i in ids if ids.count(i) > 1}):
        holders = [str(r[COL["customer"]]) for r in sheet if COL["id"] < len(r) and str(r[COL["id"]]) == dup]
        truth.findings.append(f"duplicated ID {dup} on {', '.join(holders)}")
    for customer, row in by_customer.items():
        ident = row[COL["id"]] if COL["id"] < len(row) else None
        if ident:
            first = truth.ids.setdefault(customer, str(ident))
            if first != str(ident):
                truth.findings.append(f"{customer} had ID {first}, now {ident} (ID on the wrong customer)")
        for key, value in truth.typed.get(customer, {}).items():
            current = row[COL[key]] if COL[key] < len(row) else None
            if not same(value, current):
                truth.findings.append(f"{customer}: {key} typed {value!r} is now {current!r}")
    for name in truth.landed_forms:
        if name not in by_customer and name in truth.alive:
            truth.findings.append(f"form lead lost: {name}")


def play(kit, syncer: Syncer, queue: IntakeQueue, edits: int, seed: int, gap_share: float = 0.5) -> Truth:
    """Run `edits` random edits interleaved with syncs and flushes; return what was found."""
    rng = random.Random(seed)
    truth = Truth()
    view = GoogleSheet(kit) if hasattr(kit.edit, "__self__") else ExcelSheet(kit)
    syncer.run_cycle(NOW)
    truth.alive = {str(r[COL["customer"]]) for r in view.values()[1:]
                   if r and COL["customer"] < len(r) and r[COL["customer"]]}
    check(view, truth)
    person = Person(view, rng, truth)
    clock = NOW
    done = 0
    while done < edits:
        sitting = min(rng.randint(1, 6), edits - done)
        person.sitting(sitting)
        done += sitting
        if done < edits and rng.random() < gap_share:
            kit.in_gap(lambda: person.sitting(1))
            done += 1
            truth.count("in_gap")
        clock += timedelta(minutes=5)
        try:
            if rng.random() < 0.4:
                name = f"Form lead {done}"
                queue.submit(Incoming("generic", "create", {"customer": name, "contact": "Lu", "phone": "13700000000"},
                                      name.encode()), clock)
                result = flush_once(queue, syncer, clock)
                if result.landed:
                    truth.alive.add(name)
                    truth.landed_forms.add(name)
                truth.count("flushes")
            else:
                syncer.run_cycle(clock)
                truth.count("syncs")
        except StoreError as exc:  # a sheet that kept changing: the cycle gives up, nothing overwritten
            truth.count("cycles given up")
            truth.findings += [] if "kept changing" in str(exc) else [f"cycle failed: {exc}"]
        check(view, truth)
    syncer.run_cycle(clock + timedelta(minutes=5))  # a quiet cycle at the end settles everything
    check(view, truth)
    return truth


@pytest.fixture
def queue(config):
    q = IntakeQueue.for_config(config)
    yield q
    q.close()


def test_two_hundred_random_edits_lose_nothing(syncer, kit, queue):
    truth = play(kit, syncer, queue, edits=200, seed=11)
    assert truth.findings == []
    assert truth.counts.get("in_gap", 0) >= 20 and truth.counts.get("syncs", 0) >= 10 and truth.counts["flushes"]
    assert all(truth.counts.get(k, 0) for k in ("sort", "insert", "delete", "type_people", "type_fill", "append"))


@pytest.mark.coexistence_long
@pytest.mark.parametrize("seed", [1])
def test_two_thousand_random_edits_lose_nothing(syncer, kit, queue, seed):
    started = time.process_time()
    truth = play(kit, syncer, queue, edits=2000, seed=seed)
    print(f"\n{kit.store.describe()} seed {seed}: {sum(1 for _ in truth.findings)} findings, "  # noqa: T201
          f"{truth.counts}, {time.process_time() - started:.1f} s CPU")
    assert truth.findings == []

