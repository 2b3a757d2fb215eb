"""Write, verify, repair: make a positional write safe although a person may edit in between.

The Sheets API writes cells by row position and has no conditional write, so a sort, an inserted or
deleted row, or a value typed into a blank after the guard re-read and before the batchUpdate would put
the cycle's values on the wrong rows or replace what the person typed. Three steps close that gap:

1. **Fence.** The batchUpdate starts with a `copyPaste` of every people tab it writes cells into to a
   hidden scratch tab. Requests inside one batchUpdate are applied in order and atomically, so the copy
   is exactly the tab as people left it the instant before the cycle's own writes: the values a person
   typed in the gap included.
2. **Verify.** One values:batchGet reads the copy and the tab as it is after the write. A write is right
   when the row it landed on is the row it was meant for (same ID, or for a row that had none, the same
   Customer and Contact) and, for a fill, the cell was still blank.
3. **Repair.** Anything else is corrected by ID in the next request: values a person had in the cells the
   cycle overwrote are put back, the cycle's own values move to the rows they were meant for (a fill only
   where that cell is still blank), and each correction is a History row. The repair is itself a guarded,
   fenced and verified write, so an edit during the repair is handled the same way.

Everything here is pure: rows in, corrections out. google.py does the requests.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..core import values as v
from ..core.schema import Tab, column_for
from ..ports import Cell, CellWrite, Guard, TabData, WriteBatch

SCRATCH_TITLE = "sheetsync write check"
"""The hidden tab the fence copies into; sheetsync owns it and rewrites it on every write."""
FENCE_MARGIN_ROWS = 100
"""Rows the fence copies beyond the rows the cycle read, for rows a person adds during the write.

The fence covers the rows read plus this margin, not the whole grid: a write is then a few kilobytes more,
not a copy of every empty row. If rows deleted during the write leave the grid shorter than the fence,
Google refuses the whole batchUpdate (nothing is written) and the cycle reads again and re-plans.
"""

Grid = list[list[Cell]]
Identity = tuple[str, tuple[str, str]]
"""(ID text, (Customer text, Contact text)); either part may be blank."""


@dataclass(frozen=True)
class Fence:
    """One people tab copied to the scratch tab before the write: where its copy starts and how wide it is."""

    key: str
    sheet_id: int
    rows: int
    cols: int
    offset: int


def fence_requests(scratch_id: int, fences: Sequence[Fence]) -> list[dict[str, Any]]:
    """The copyPaste requests that put each fenced tab, values only, side by side on the scratch tab."""
    return [{"copyPaste": {
        "source": {"sheetId": f.sheet_id, "startRowIndex": 0, "endRowIndex": f.rows, "startColumnIndex": 0,
                   "endColumnIndex": f.cols},
        "destination": {"sheetId": scratch_id, "startRowIndex": 0, "endRowIndex": f.rows,
                        "startColumnIndex": f.offset, "endColumnIndex": f.offset + f.cols},
        "pasteType": "PASTE_VALUES"}} for f in fences]


def _blank(value: Cell) -> bool:
    return v.is_blank(value)


def _cell(rows: Grid, row: int, col: int) -> Cell:
    """The value at a 1-based row and 0-based column, None beyond the data."""
    if row - 1 >= len(rows) or row < 1:
        return None
    values = rows[row - 1]
    return values[col] if col < len(values) else None


@dataclass
class Columns:
    """Where a tab keeps what identifies a row: its ID, and for rows without one, Customer and Contact."""

    id: int | None
    anchors: tuple[int, ...]

    @classmethod
    def of(cls, tab: Tab, header: Sequence[Cell]) -> Columns:
        found: dict[str, int] = {}
        for i, name in enumerate(header):
            column = column_for(tab, name) if not _blank(name) else None
            if column is not None:
                found.setdefault(column.key, i)
        id_key = "id" if "id" in tab.by_key else next((c.key for c in tab.columns if c.kind == "id"), None)
        anchors = tuple(found[k] for k in ("customer", "contact", "date", "summary") if k in found)
        return cls(found.get(id_key) if id_key else None, anchors)

    def identity(self, rows: Grid, row: int) -> Identity:
        ident = v.text(_cell(rows, row, self.id)) if self.id is not None else ""
        anchor = tuple(v.text(_cell(rows, row, c)) for c in self.anchors[:2])
        return ident, (anchor + ("", ""))[:2]  # type: ignore[return-value]


def _locate(rows: Grid, cols: Columns, who: Identity, known_ids: set[str]) -> int | None:
    """The 1-based row holding record `who`: by ID, else by Customer and Contact among rows of no known ID."""
    ident, anchor = who
    if ident:
        hits = [r for r in range(2, len(rows) + 1) if cols.identity(rows, r)[0] == ident]
        if len(hits) == 1:
            return hits[0]
    if any(anchor):
        hits = [r for r in range(2, len(rows) + 1)
                if cols.identity(rows, r)[1] == anchor and cols.identity(rows, r)[0] in ("", ident)
                or cols.identity(rows, r)[1] == anchor and cols.identity(rows, r)[0] not in known_ids]
        if len(hits) == 1:
            return hits[0]
    return None


def _key(who: Identity, row: int) -> object:
    """A record's key for merging corrections: its identity, or for a row nothing identifies, its position."""
    return who if who[0] or any(who[1]) else ("row", row)


@dataclass
class Correction:
    """One cell to set right after a write: on which record, which column, from what to what, and why."""

    who: Identity
    col: int
    expect: Cell
    """What the cell holds after the write if nobody touched it since; anything else is left alone."""
    value: Cell
    why: str
    """"restored" (a value people had there) or "moved" (the cycle's own value, put on its row)."""
    row: int = 0
    """Where the record sat just before the write: the way to find a row nothing identifies (a blank row)."""


@dataclass
class Outcome:
    """What the verify found: corrections to make, and writes dropped because their row is gone."""

    corrections: list[Correction] = field(default_factory=list)
    dropped: list[CellWrite] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.corrections or self.dropped)


def check_write(pre: Grid, gap: Grid, writes: Sequence[CellWrite], fills: set[tuple[int, int]],
                cols: Columns) -> Outcome:
    """Compare where each write landed (`gap`: the tab just before it) with where it was meant to go (`pre`).

    `fills` are the (row, col) writes that must land only in a blank cell.
    """
    outcome = Outcome()
    known = {cols.identity(gap, r)[0] for r in range(2, len(gap) + 1)} - {""}
    by_position = {(w.row, w.col): w for w in writes}
    restore: dict[tuple[object, int], Correction] = {}
    place: dict[tuple[object, int], Correction] = {}
    for w in writes:
        meant, landed = cols.identity(pre, w.row), cols.identity(gap, w.row)
        there = _cell(gap, w.row, w.col)
        typed = (w.row, w.col) in fills and not _blank(there)
        if landed == meant and not typed:
            continue
        if v.text(there) != v.text(w.value) and (landed != meant or typed):
            restore[(_key(landed, w.row), w.col)] = Correction(landed, w.col, w.value, there, "restored", w.row)
        if landed == meant:
            continue  # a person typed into the blank this write filled: their value stays, ours is dropped
        row = _locate(gap, cols, meant, known - {meant[0]})
        if row is None:
            outcome.dropped.append(w)
            continue
        current = _cell(gap, row, w.col)
        if (w.row, w.col) in fills and not _blank(current):
            continue  # the row it was meant for got a value meanwhile: people win
        ours_there = by_position.get((row, w.col))
        expect = ours_there.value if ours_there is not None else current
        place[(_key(meant, row), w.col)] = Correction(meant, w.col, expect, w.value, "moved", row)
    for key, correction in restore.items():
        if key in place:
            correction = Correction(correction.who, correction.col, correction.expect, place[key].value, "moved",
                                    correction.row)
            place.pop(key)
        outcome.corrections.append(correction)
    outcome.corrections += place.values()
    return outcome


def repair_batch(key: str, post: TabData, cols: Columns, outcome: Outcome, gap_ids: set[str]) -> WriteBatch:
    """The guarded write that applies the corrections to the tab as read after the write (`post`)."""
    batch = WriteBatch()
    rows = post.rows
    for fix in outcome.corrections:
        nameless = not fix.who[0] and not any(fix.who[1])
        row = fix.row if nameless else _locate(rows, cols, fix.who, gap_ids - {fix.who[0]})
        if row is None:
            continue
        now = _cell(rows, row, fix.col)
        if v.text(now) != v.text(fix.expect) or v.text(now) == v.text(fix.value):
            continue  # someone changed it after the write, or it is already right
        batch.cells.append(CellWrite(key, row, fix.col, fix.value))
        batch.guards.append(Guard(key, row, fix.col, now))
        if cols.id is not None and (key, row, cols.id) not in {(g.tab, g.row, g.col) for g in batch.guards}:
            batch.guards.append(Guard(key, row, cols.id, _cell(rows, row, cols.id)))
    return batch


def history_rows(header: Sequence[Cell], label: dict[int, str], outcome: Outcome, now: Cell,
                 by: dict[str, str]) -> list[list[Cell]]:
    """One History row per correction and per dropped write, in the History tab's own column order."""
    from ..core.schema import HISTORY

    keys = [column.key if (column := column_for(HISTORY, h)) is not None else None for h in header]

    def row(ident: Identity, col: int, old: Cell, new: Cell, why: str) -> list[Cell]:
        values = {"time": now, "id": ident[0] or " / ".join(p for p in ident[1] if p), "field": label.get(col, ""),
                  "old": old, "new": new, "by": by[why]}
        return [values.get(k) if k else None for k in keys]

    out = [row(c.who, c.col, c.expect, c.value, c.why) for c in outcome.corrections]
    out += [row(("", ("",) * 2), w.col, w.value, None, "dropped") for w in outcome.dropped]
    return out


def people_tab(key: str) -> Tab | None:
    """The schema tab when people keep rows in it (a fence is worth it), None for system tabs."""
    from ..core.schema import TABS_BY_KEY

    tab = TABS_BY_KEY.get(key)
    return None if tab is None or tab.system or tab.headerless else tab


def fills_of(batch: WriteBatch, key: str) -> set[tuple[int, int]]:
    """The (row, col) writes on a tab the plan guarded as blank: they fill a blank and must never overwrite."""
    blank_guards = {(g.row, g.col) for g in batch.guards if g.tab == key and _blank(g.expected)}
    return {(c.row, c.col) for c in batch.cells if c.tab == key and (c.row, c.col) in blank_guards}


def writes_of(batch: WriteBatch, key: str) -> list[CellWrite]:
    """The cell writes of one tab, in order."""
    return [c for c in batch.cells if c.tab == key]


def labels(header: Sequence[Cell]) -> dict[int, str]:
    """Column index to header text, for History."""
    return {i: v.text(h) for i, h in enumerate(header)}



def cells_written(requests: Sequence[dict[str, Any]], tabs: dict[int, str]) -> list[tuple[str, int, int]]:
    """(tab key, 1-based row, 0-based col) of every cell the updateCells requests (start form) write on the
    given sheets (sheet ID to key)."""
    out: list[tuple[str, int, int]] = []
    for request in requests:
        body = request.get("updateCells")
        if body is None or "start" not in body:
            continue
        start = body["start"]
        key = tabs.get(start.get("sheetId", 0))
        if key is None:
            continue
        row0, col0 = start.get("rowIndex", 0) + 1, start.get("columnIndex", 0)
        for i, row in enumerate(body.get("rows", [])):
            out += [(key, row0 + i, col0 + j) for j in range(len(row.get("values", [])))]
    return out


def written_over(targets: Mapping[str, Any], writes: Sequence[CellWrite]) -> dict[str, Grid]:
    """The tabs' rows as read with `writes` applied: what a later part of a write expects to find."""
    out: dict[str, Grid] = {}
    copied: set[tuple[str, int]] = set()
    for w in writes:
        if w.tab not in out:
            data = targets[w.tab].data
            out[w.tab] = list(data.rows) if data is not None else []
        rows = out[w.tab]
        while len(rows) < w.row:
            rows.append([])
        if (w.tab, w.row) not in copied:
            rows[w.row - 1] = list(rows[w.row - 1])
            copied.add((w.tab, w.row))
        row = rows[w.row - 1]
        if len(row) <= w.col:
            row.extend([None] * (w.col + 1 - len(row)))
        row[w.col] = w.value
    return out
