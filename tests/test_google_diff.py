"""Rebuilt tabs on Google are written as a diff: bytes follow the rows that changed, not the tab's length."""

from __future__ import annotations

import json
import random
from datetime import datetime
from urllib.parse import parse_qs, urlparse

import pytest
from fake_sheets import FakeSheets, make_store

from sheetsync.core.schema import OPPORTUNITIES
from sheetsync.ports import CellWrite, Guard, StoreConflict, StoreError, WriteBatch
from sheetsync.stores.google_batch import bodies as pack
from sheetsync.stores.row_align import hunks, matches

STATUS = [c.key for c in OPPORTUNITIES.columns].index("status")


def reminder(i: int, reason: str = "Follow-up due") -> list[object]:
    return [datetime(2026, 11, 28), f"Rep {i % 7}", f"OPP-{i:06d}", f"Customer {i}", "Lead", reason, i % 3]


def written(fake: FakeSheets) -> list[dict]:
    """Every request of every batchUpdate since the last reset, decoded."""
    return [r for body in fake.bodies for r in json.loads(body)["requests"]]


def written_bytes(fake: FakeSheets) -> int:
    return sum(c.size for c in fake.calls if c.kind == "batchUpdate")


@pytest.fixture
def bodies(fake):
    """Keep each batchUpdate body the fake receives in fake.bodies."""
    fake.bodies = []
    handle = fake.handle

    def keep(method, url, body):
        if ":batchUpdate" in url and body:
            fake.bodies.append(body if isinstance(body, str) else body.decode("utf-8"))
        return handle(method, url, body)

    fake.handle = keep
    reset = fake.reset_counts

    def reset_all():
        reset()
        fake.bodies.clear()

    fake.reset_counts = reset_all
    return fake


def seeded(fake: FakeSheets, store, layout, rows: int, reminders: list[list[object]]) -> None:
    """The en template with `rows` opportunities (IDs, stages, statuses) and the given reminders, seeded fast."""
    store.setup(layout)
    header = fake.values("Opportunities")[0]
    keys = [c.key for c in OPPORTUNITIES.columns]
    body = []
    for i in range(rows):
        cells = {"id": f"OPP-{i:06d}", "customer": f"Customer {i}", "contact": f"Contact {i}", "stage": "Lead",
                 "owner": f"Rep {i % 7}", "amount": 1000 * (i % 50 + 1), "status": "OK"}
        body.append([cells.get(k) for k in keys])
    fake.seed("Opportunities", [header, *body])
    fake.seed("Reminders", [fake.values("Reminders")[0], *reminders])


def test_alignment_rebuilds_the_new_list_and_keeps_unique_rows_in_place():
    rng = random.Random(11)
    for _ in range(500):
        old = [rng.randrange(8) for _ in range(rng.randrange(25))]
        new = list(old)
        for _ in range(rng.randrange(5)):
            at = rng.randrange(len(new) + 1)
            if rng.random() < 0.5 and new:
                del new[min(at, len(new) - 1)]
            else:
                new.insert(at, rng.randrange(11))
        pairs = matches(old, new)
        assert all(old[i] == new[j] for i, j in pairs)
        rebuilt, at = [], 0
        for h in hunks(old, new):
            rebuilt += old[at:h.old_start] + new[h.new_start:h.new_end]
            at = h.old_end
        assert rebuilt + old[at:] == new
    moved = list(range(1000))
    moved.insert(700, moved.pop(10))
    assert [(h.old_start, h.old_end, h.new_start, h.new_end) for h in hunks(list(range(1000)), moved)] == [
        (10, 11, 10, 10), (701, 701, 700, 701)]


def test_a_reminder_inserted_in_the_middle_is_one_insert_and_that_rows_cells(bodies, store, layout):
    fake = bodies
    full = [reminder(i) for i in range(400)]
    seeded(fake, store, layout, 10, full[:200] + full[201:])
    fake.reset_counts()
    store.write(store.read(), WriteBatch(replace={"reminders": full}))
    requests = written(fake)
    inserts = [r["insertDimension"] for r in requests if "insertDimension" in r]
    assert [(i["range"]["startIndex"], i["range"]["endIndex"]) for i in inserts] == [(201, 202)]
    assert not any("deleteDimension" in r or "appendDimension" in r for r in requests)
    rows_written = [(r["updateCells"]["range"]["startRowIndex"], len(r["updateCells"]["rows"]))
                    for r in requests if "updateCells" in r]
    assert rows_written == [(201, 1)]
    assert written_bytes(fake) < 2_500
    assert [r[2] for r in fake.values("Reminders")[1:]] == [r[2] for r in full]
    assert fake.values("Reminders")[202][0] == datetime(2026, 11, 28)  # the inserted row shows its date as a date


def test_a_reminder_moved_down_the_list_is_a_delete_and_an_insert_not_a_rewrite(bodies, store, layout):
    fake = bodies
    old = [reminder(i) for i in range(3000)]
    seeded(fake, store, layout, 10, old)
    new = list(old)
    new.insert(2500, new.pop(100))
    fake.reset_counts()
    store.write(store.read(), WriteBatch(replace={"reminders": new}))
    kinds = sorted(next(iter(r)) for r in written(fake))
    assert kinds.count("deleteDimension") == 1 and kinds.count("insertDimension") == 1
    assert written_bytes(fake) < 3_000
    assert [r[2] for r in fake.values("Reminders")[1:]] == [r[2] for r in new]


def test_a_changed_reminder_writes_only_its_changed_cell_and_keeps_formats_right(bodies, store, layout):
    fake = bodies
    old = [reminder(i) for i in range(500)]
    seeded(fake, store, layout, 10, old)
    new = [list(r) for r in old]
    new[250][5] = "Overdue: call back"
    new[251][0] = datetime(2026, 12, 1)
    fake.reset_counts()
    store.write(store.read(), WriteBatch(replace={"reminders": new}))
    cells = [r["updateCells"] for r in written(fake) if "updateCells" in r]
    assert sorted((c["start"]["rowIndex"], c["start"]["columnIndex"], len(c["rows"])) for c in cells) == [
        (251, 5, 1), (252, 0, 1)]
    assert fake.values("Reminders")[251][5] == "Overdue: call back"
    assert fake.values("Reminders")[252][0] == datetime(2026, 12, 1)
    assert written_bytes(fake) < 1_500


def test_fewer_reminders_clear_the_rows_left_below(bodies, store, layout):
    fake = bodies
    old = [reminder(i) for i in range(50)]
    seeded(fake, store, layout, 10, old)
    store.write(store.read(), WriteBatch(replace={"reminders": old[:30]}))
    assert [r[2] for r in fake.values("Reminders")[1:]] == [r[2] for r in old[:30]]
    store.write(store.read(), WriteBatch(replace={"reminders": old}))
    assert [r[2] for r in fake.values("Reminders")[1:]] == [r[2] for r in old]


def test_a_person_editing_a_reminder_the_diff_relies_on_stops_the_write(bodies, store, layout):
    fake = bodies
    old = [reminder(i) for i in range(100)]
    seeded(fake, store, layout, 10, old)
    snapshot = store.read()
    new = old[:40] + old[41:]
    fake.type("Reminders", "F42", "edited by hand")  # row 42 holds old[40], the one the diff deletes
    fake.reset_counts()
    with pytest.raises(StoreConflict):
        store.write(snapshot, WriteBatch(replace={"reminders": new}))
    assert fake.count("batchUpdate") == 0
    fake.type("Reminders", "F42", "Follow-up due")
    fake.type("Reminders", "F90", "edited by hand")  # a row the diff does not touch: the write goes ahead
    store.write(snapshot, WriteBatch(replace={"reminders": new}))
    assert [r[2] for r in fake.values("Reminders")[1:]] == [r[2] for r in new]


def one_changed_row(fake: FakeSheets, layout, rows: int) -> tuple[list[str], int, list[str]]:
    """(request kinds, bytes written, what a cycle with nothing changed sends) for a person changing one deal's
    stage at `rows` rows: its Status cell changes, its reminder leaves the list and comes back further down."""
    old = [reminder(i) for i in range(rows)]
    seeded(fake, make_store(fake), layout, rows, old)
    store = make_store(fake)
    store.read()  # warm: the metadata is known
    fake.reset_counts()
    snapshot = store.read()
    store.write(snapshot, WriteBatch(replace={"reminders": old}))
    unchanged = [c.kind for c in fake.calls]
    k = rows // 2
    new = list(old)
    new.pop(k)
    new.insert(rows * 3 // 4, reminder(k, "Stage changed: follow up"))
    batch = WriteBatch(cells=[CellWrite("opportunities", k + 2, STATUS, "Moved to Quote")],
                       guards=[Guard("opportunities", k + 2, STATUS, "OK")], replace={"reminders": new})
    fake.reset_counts()
    store.write(snapshot, batch)
    assert fake.cell("Opportunities", f"V{k + 2}") == "Moved to Quote"
    verify = parse_qs(urlparse(fake.calls[-1].url).query)["ranges"]
    assert verify == [f"'sheetsync write check'!A{k + 2}:Y{k + 2}"]  # the copy of the row written, not the tab
    assert [r[2] for r in fake.values("Reminders")[1:]] == [r[2] for r in new]
    return [c.kind for c in fake.calls], written_bytes(fake), unchanged


def test_one_changed_row_writes_a_few_kilobytes_whatever_the_size_of_the_sheet(layout):
    sizes = {}
    for rows in (1_000, 10_000):
        fake = FakeSheets()
        with fake.mock():
            kinds, size, unchanged = one_changed_row(fake, layout, rows)
        assert unchanged == ["values.batchGet"]  # nothing changed: one read, no guard read, no write
        assert kinds == ["values.batchGet", "batchUpdate", "values.batchGet"]  # guard, write, verify
        sizes[rows] = size
    assert sizes[10_000] < 20_000
    assert sizes[10_000] <= sizes[1_000] + 200, sizes  # ten times the rows, the same bytes (a digit or two more)


@pytest.mark.large
def test_one_changed_row_at_100k_rows_writes_a_few_kilobytes(layout):
    fake = FakeSheets()
    with fake.mock():
        kinds, size, unchanged = one_changed_row(fake, layout, 100_000)
    assert unchanged == ["values.batchGet"] and kinds == ["values.batchGet", "batchUpdate", "values.batchGet"]
    assert size < 20_000


def test_bodies_are_filled_to_the_limit_and_cut_between_rows():
    rows = [{"values": [{"userEnteredValue": {"stringValue": f"row {i} " + "x" * (i % 37)}}]} for i in range(3000)]
    requests = [{"repeatCell": {"range": {"sheetId": 1}, "cell": {}, "fields": "userEnteredFormat.numberFormat"}},
                {"updateCells": {"range": {"sheetId": 1, "startRowIndex": 5, "endRowIndex": 3005},
                                 "fields": "userEnteredValue", "rows": rows}},
                {"appendCells": {"sheetId": 2, "rows": rows, "fields": "userEnteredValue"}}]
    whole = pack(requests, 10 ** 9)
    assert len(whole) == 1
    limit = 40_000
    parts = pack(requests, limit)
    assert all(len(body) <= limit for _, body in parts)
    assert len(parts) == -(-len(whole[0][1]) // (limit - 200))  # as few as the limit allows
    assert all(len(body) > limit - 700 for _, body in parts[:-1])  # each full to within a row
    sent = [r for _, body in parts for r in json.loads(body)["requests"]]
    assert [r for chunk, _ in parts for r in chunk] == sent
    assert b"includeSpreadsheetInResponse" in parts[-1][1] and all(b"include" not in b for _, b in parts[:-1])
    cells = [r["updateCells"] for r in sent if "updateCells" in r]
    assert [row for c in cells for row in c["rows"]] == rows
    starts = [c["range"]["startRowIndex"] for c in cells]
    ends = [c["range"]["endRowIndex"] for c in cells]
    assert starts[0] == 5 and ends[-1] == 3005 and starts[1:] == ends[:-1]
    assert all(e - s == len(c["rows"]) for s, e, c in zip(starts, ends, cells, strict=True))
    assert [row for r in sent if "appendCells" in r for row in r["appendCells"]["rows"]] == rows


def test_a_write_split_in_bodies_lands_like_one_body(bodies_fake_pair, layout):
    (small, small_store), (big, big_store) = bodies_fake_pair
    rows = [reminder(i, "Follow-up due " + "y" * (i % 50)) for i in range(2_000)]
    for fake, store in bodies_fake_pair:
        seeded(fake, store, layout, 10, [])
        store.write(store.read(), WriteBatch(replace={"reminders": rows}))
    assert small.count("batchUpdate") >= 5 and big.count("batchUpdate") == 2  # setup, then one body
    assert small.values("Reminders") == big.values("Reminders")
    assert all(c.size <= 100_000 for c in small.calls if c.kind == "batchUpdate")


@pytest.fixture
def bodies_fake_pair():
    """Two fakes and stores: one sends bodies of at most 100 kB, the other of the usual size."""
    small, big = FakeSheets(), FakeSheets(spreadsheet_id="fake-spreadsheet-0002")
    with small.mock(), big.mock():
        small_store = make_store(small)
        small_store.max_body = 100_000
        yield (small, small_store), (big, make_store(big))


def test_a_write_stopped_between_bodies_is_finished_by_the_next_one(bodies_fake_pair, layout):
    """Each body is safe to stop after: what the first bodies wrote is kept and the next write (planned from a
    fresh read) sends only the rest, values with their formats."""
    (small, store), (big, big_store) = bodies_fake_pair
    rows = [reminder(i, "Follow-up due " + "y" * (i % 50)) for i in range(2_000)]
    for fake, each in bodies_fake_pair:
        seeded(fake, each, layout, 10, [reminder(i) for i in range(300)])
    big.reset_counts()
    big_store.write(big_store.read(), WriteBatch(replace={"reminders": rows}))
    whole = written_bytes(big)
    small.before("batchUpdate", lambda f: f.before("batchUpdate", lambda g: g.fail(400, kinds=("batchUpdate",))))
    small.reset_counts()
    with pytest.raises(StoreError):
        store.write(store.read(), WriteBatch(replace={"reminders": rows}))
    first = sum(c.size for c in small.calls if c.kind == "batchUpdate" and c.status == 200)
    assert 0 < first <= 100_000 and small.values("Reminders") != big.values("Reminders")
    small.reset_counts()
    store.write(store.read(), WriteBatch(replace={"reminders": rows}))
    assert small.values("Reminders") == big.values("Reminders")
    assert written_bytes(small) < whole - first // 2  # the rest, not everything again


def statuses(fake: FakeSheets, rows: int) -> WriteBatch:
    """A Status for every opportunity that has none yet, planned from the sheet as it is now."""
    batch = WriteBatch()
    for r, row in enumerate(fake.values("Opportunities")[1:], start=2):
        if row[0] and not row[STATUS]:
            batch.cells.append(CellWrite("opportunities", r, STATUS, f"checked {row[0]} " + "z" * 40))
            batch.guards.append(Guard("opportunities", r, STATUS, None))
    return batch


def test_a_sort_between_two_bodies_of_a_large_write_is_found_and_put_right(bodies_fake_pair, layout):
    (fake, store), _ = bodies_fake_pair
    seeded(fake, store, layout, 2_000, [])
    for r in range(2, 2_002):
        fake.type("Opportunities", f"V{r}", None)
    store.max_body = 40_000
    sort = fake.sheet("Opportunities").values[1:]
    assert len(sort) == 2_000
    fake.before("batchUpdate", lambda f: f.before("batchUpdate", lambda g: g.sort("Opportunities", 3, True)))
    fake.reset_counts()
    with pytest.raises(StoreConflict):
        store.write(store.read(), statuses(fake, 2_000))
    assert store.repairs > 0
    rows = fake.values("Opportunities")[1:]
    done = [row for row in rows if row[STATUS]]
    assert 0 < len(done) < 2_000
    assert all(row[STATUS] == f"checked {row[0]} " + "z" * 40 for row in done)  # every one on its own deal
    store.write(store.read(), statuses(fake, 2_000))  # the next cycle writes the rest
    assert all(row[STATUS] == f"checked {row[0]} " + "z" * 40 for row in fake.values("Opportunities")[1:])
