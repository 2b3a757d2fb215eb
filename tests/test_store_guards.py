"""What a write relies on, checked on every store: guards, IDs and headers; a person's unrelated save is kept."""

from __future__ import annotations

import pytest

from sheetsync.core.schema import OPPORTUNITIES, column_letter
from sheetsync.ports import CellWrite, Guard, StoreConflict, WriteBatch

COL = {c.key: i for i, c in enumerate(OPPORTUNITIES.columns)}


def a1(key: str, row: int) -> str:
    return f"{column_letter(COL[key])}{row}"


def fill_owner(snap, row: int) -> WriteBatch:
    """What a sync writes to give row `row` an owner: the Owner cell, guarded blank, and the row's ID guarded."""
    ident = snap.tabs["opportunities"].cell(row, COL["id"])
    return WriteBatch(cells=[CellWrite("opportunities", row, COL["owner"], "Robot")],
                      guards=[Guard("opportunities", row, COL["id"], ident),
                              Guard("opportunities", row, COL["owner"], None)])


@pytest.fixture
def ready(kit, layout):
    kit.store.setup(layout)
    kit.edit("Opportunities", a1("id", 2), "OPP-ZZZZZ1")
    kit.edit("Opportunities", a1("id", 3), "OPP-BBBBB2")
    kit.edit("Opportunities", a1("owner", 2), None)
    return kit


def test_a_person_typing_into_a_guarded_blank_after_the_read_stops_the_write(ready):
    snap = ready.store.read()
    ready.edit("Opportunities", a1("owner", 2), "Typed by a person")
    with pytest.raises(StoreConflict):
        ready.store.write(snap, fill_owner(snap, 2))
    assert ready.values("Opportunities")[1][COL["owner"]] == "Typed by a person"


def test_a_sort_after_the_read_stops_the_write_and_every_row_keeps_its_values(ready):
    snap = ready.store.read()
    ready.sort("Opportunities", COL["id"])  # row 2 (OPP-ZZZZZ1) moves down
    before = ready.values("Opportunities")
    with pytest.raises(StoreConflict):
        ready.store.write(snap, fill_owner(snap, 2))
    assert ready.values("Opportunities") == before


@pytest.mark.parametrize("change", ["insert", "delete"])
def test_rows_inserted_or_deleted_after_the_read_stop_the_write(ready, change):
    snap = ready.store.read()
    if change == "insert":
        ready.insert_row("Opportunities", 2)
    else:
        ready.delete_row("Opportunities", 2)
    before = ready.values("Opportunities")
    with pytest.raises(StoreConflict):
        ready.store.write(snap, fill_owner(snap, 2))
    assert ready.values("Opportunities") == before


def test_a_renamed_header_after_the_read_stops_the_write(ready):
    snap = ready.store.read()
    ready.edit("Opportunities", a1("owner", 1), "Rep name")
    with pytest.raises(StoreConflict):
        ready.store.write(snap, fill_owner(snap, 2))
    assert ready.values("Opportunities")[1][COL["owner"]] in (None, "")


def test_a_person_saving_elsewhere_after_the_read_keeps_their_edit_and_the_write_lands(ready):
    snap = ready.store.read()
    ready.edit("Opportunities", a1("next_step", 3), "Call back Friday")
    ready.store.write(snap, fill_owner(snap, 2))
    rows = ready.values("Opportunities")
    assert rows[1][COL["owner"]] == "Robot" and rows[2][COL["next_step"]] == "Call back Friday"


def test_digit_strings_read_back_as_the_same_text_on_every_store(ready):
    snap = ready.store.read()
    ready.store.write(snap, WriteBatch(cells=[CellWrite("opportunities", 2, COL["phone"], "008613800138000"),
                                              CellWrite("opportunities", 3, COL["phone"], "13811112222")]))
    rows = ready.store.read().tabs["opportunities"].rows
    assert (rows[1][COL["phone"]], rows[2][COL["phone"]]) == ("008613800138000", "13811112222")


def test_a_guard_on_a_row_the_batch_does_not_write_is_honoured(ready):
    snap = ready.store.read()
    ready.edit("Opportunities", a1("customer", 4), "Renamed by a person")
    customer = snap.tabs["opportunities"].cell(4, COL["customer"])
    batch = WriteBatch(cells=[CellWrite("opportunities", 3, COL["status"], "OK")],
                       guards=[Guard("opportunities", 4, COL["customer"], customer)])
    with pytest.raises(StoreConflict):
        ready.store.write(snap, batch)
    rows = ready.values("Opportunities")
    assert rows[3][COL["customer"]] == "Renamed by a person" and rows[2][COL["status"]] in (None, "")
