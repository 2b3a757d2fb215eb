"""A person's edit landing exactly between the guard re-read and the write: nothing typed is lost, no ID moves.

On Google the edit lands just before the batchUpdate (after the guard re-read), so the write goes to the
wrong rows and the store must verify and repair; on the workbook it lands while the new copy is written,
so the store notices before replacing the file and the cycle re-plans.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from sheetsync.core.schema import OPPORTUNITIES, PEOPLE, column_letter

COL = {c.key: i for i, c in enumerate(OPPORTUNITIES.columns)}
PEOPLE_KEYS = [c.key for c in OPPORTUNITIES.columns if c.owner == PEOPLE]


def a1(key: str, row: int) -> str:
    return f"{column_letter(COL[key])}{row}"


def rows(kit) -> list[list[object]]:
    return [r for r in kit.values("Opportunities")[1:] if any(v not in (None, "") for v in r)]


def cell(row: list[object], key: str) -> object:
    return row[COL[key]] if COL[key] < len(row) else None


def by_customer(kit) -> dict[str, list[object]]:
    return {cell(r, "customer"): r for r in rows(kit)}


def row_of(kit, customer: str) -> int:
    for i, r in enumerate(kit.values("Opportunities"), start=1):
        if r and cell(r, "customer") == customer:
            return i
    raise AssertionError(customer)


def record_intentions(kit, monkeypatch) -> dict[str, str]:
    """Customer -> the ID the last successful top-level write meant to give it (or the one it already had)."""
    meant: dict[str, str] = {}
    real = kit.store.write

    def write(snapshot, batch):
        data = snapshot.tabs["opportunities"]
        plan = {data.cell(c.row, COL["customer"]): c.value for c in batch.cells
                if c.tab == "opportunities" and c.col == COL["id"]}
        real(snapshot, batch)
        meant.update(plan)

    monkeypatch.setattr(kit.store, "write", write)
    return meant


def assert_nothing_lost(kit, before: dict[str, list[object]], meant: dict[str, str], typed=(),
                        deleted=()) -> None:
    after = by_customer(kit)
    assert set(after) == set(before) - set(deleted), "rows lost or added"
    ids = [cell(r, "id") for r in after.values()]
    assert all(ids) and len(ids) == len(set(ids)), f"missing or duplicated IDs: {ids}"
    for customer, row in after.items():
        old = before[customer]
        for key in PEOPLE_KEYS:
            assert cell(row, key) == cell(old, key), (customer, key)
        if cell(old, "id"):
            assert cell(row, "id") == cell(old, "id"), customer
        elif customer in meant:
            assert cell(row, "id") == meant[customer], f"{customer} got another row's ID"
        if cell(old, "owner"):
            assert cell(row, "owner") == cell(old, "owner"), customer
    for customer, key, value in typed:
        assert cell(after[customer], key) == value, (customer, key)


def blank_owner_customer(kit) -> str:
    return next(c for c, r in by_customer(kit).items() if not cell(r, "owner") and cell(r, "stage") != "Lost")


@pytest.mark.parametrize("kind", ["sort", "insert", "delete", "typing_owner", "typing_follow_up"])
def test_an_edit_between_the_guard_read_and_the_write_loses_nothing(kind, syncer, kit, monkeypatch):
    before = by_customer(kit)
    meant = record_intentions(kit, monkeypatch)
    typed: list[tuple[str, str, object]] = []
    deleted: list[str] = []
    if kind == "sort":
        kit.in_gap(lambda: kit.sort("Opportunities", COL["customer"]))
    elif kind == "insert":
        kit.in_gap(lambda: kit.insert_row("Opportunities", 3))
    elif kind == "delete":
        victim = list(before)[1]
        deleted.append(victim)
        kit.in_gap(lambda: kit.delete_row("Opportunities", row_of(kit, victim)))
    elif kind == "typing_owner":
        customer = blank_owner_customer(kit)
        typed.append((customer, "owner", "Zoe Typed"))
        kit.in_gap(lambda: kit.edit("Opportunities", a1("owner", row_of(kit, customer)), "Zoe Typed"))
    else:
        customer = next(c for c, r in before.items() if not cell(r, "next_follow_up"))
        day = datetime(2026, 12, 24)
        typed.append((customer, "next_follow_up", day))
        kit.in_gap(lambda: kit.edit("Opportunities", a1("next_follow_up", row_of(kit, customer)), day))
    syncer.run_cycle()
    assert_nothing_lost(kit, before, meant, typed, deleted)
    syncer.run_cycle()  # and the next cycle agrees: nothing moves, nothing typed is replaced
    assert_nothing_lost(kit, before, meant, typed, deleted)
