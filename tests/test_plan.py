"""The pure planner on plain data: what one cycle may write, and the guards that keep it on the right row."""

from __future__ import annotations

import gc
from datetime import datetime

import pytest
from conftest import TODAY

from sheetsync.core.plan import plan_sync
from sheetsync.core.schema import OPPORTUNITIES, PEOPLE, TABS_BY_KEY, LayoutError
from sheetsync.stores.base import Snapshot, TabData
from sheetsync.template import load_layout

NOW = datetime(2026, 11, 28, 9, 30)
COL = {c.key: i for i, c in enumerate(OPPORTUNITIES.columns)}


def snapshot(language: str = "en") -> Snapshot:
    layout = load_layout(language, TODAY)
    tabs = {}
    for spec in layout.tabs:
        rows = [] if spec.tab.headerless else [list(spec.headers)] + [list(r) for r in spec.rows]
        tabs[spec.tab.key] = TabData(spec.title, rows)
    return Snapshot(tabs)


def counter():
    n = iter(range(1, 1000))
    return lambda taken: f"OPP-{next(n):06d}"


def plan(snap=None, seen=None):
    return plan_sync(snap or snapshot(), language="en", now=NOW, cursors={}, seen=seen or {}, new_id=counter())


def test_a_cycle_never_writes_a_people_column():
    people = {COL[c.key] for c in OPPORTUNITIES.columns if c.owner == PEOPLE}
    writes = plan().batch.cells
    assert writes and not [w for w in writes if w.tab == "opportunities" and w.col in people]


def test_every_filled_blank_is_guarded_as_blank_and_every_row_by_its_id():
    batch = plan().batch
    guards = {(g.row, g.col): g.expected for g in batch.guards}
    for w in (c for c in batch.cells if c.tab == "opportunities"):
        if TABS_BY_KEY["opportunities"].columns[w.col].owner == "fill":
            assert guards[(w.row, w.col)] is None
        assert (w.row, COL["id"]) in guards
    # rows that had no ID are also pinned by what people typed in them
    assert guards[(2, COL["customer"])] == "Acme Machinery"


def test_ids_come_from_the_injected_generator_in_sheet_order():
    ids = [w.value for w in plan().batch.cells if w.tab == "opportunities" and w.col == COL["id"]]
    assert ids == [f"OPP-{i:06d}" for i in range(1, 11)]


def test_a_second_cycle_on_its_own_result_writes_no_opportunity_cells():
    first = plan()
    snap = snapshot()
    rows = snap.tabs["opportunities"].rows
    for w in (c for c in first.batch.cells if c.tab == "opportunities"):
        row = rows[w.row - 1]
        row.extend([None] * (w.col + 1 - len(row)))
        row[w.col] = w.value
    second = plan_sync(snap, language="en", now=NOW, cursors=first.cursors, seen=first.seen, new_id=counter())
    assert [c for c in second.batch.cells if c.tab == "opportunities"] == []
    assert second.report.history == 0


def test_planning_leaves_the_cycle_collector_as_it_found_it():
    assert gc.isenabled()
    plan()
    assert gc.isenabled()
    gc.disable()
    try:
        plan()
        assert not gc.isenabled()  # someone who turned it off keeps it off
    finally:
        gc.enable()
    with pytest.raises(LayoutError):
        plan(Snapshot({}))
    assert gc.isenabled()  # a plan that fails resumes it too
