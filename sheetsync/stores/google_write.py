"""Prove nothing moved before writing: one values:batchGet re-reads what the plan relies on.

Rows are found by the snapshot's row numbers, which stay right only while nobody sorted, inserted or
deleted rows, retitled a column, edited a row the cycle writes, or typed into a blank it means to fill.
Any difference raises StoreConflict and nothing is written; the caller reads again and re-plans.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from ..core.schema import FILL, TABS_BY_KEY, column_for, column_letter
from ..ports import Cell, StoreConflict, TabData, WriteBatch
from .google_cells import (
    Converter,
    column_kinds,
    column_span,
    convert_rows,
    quote_title,
)
from .google_meta import SheetMeta
from .google_read import readers, schema_tab


@dataclass
class Target:
    """A tab the batch touches: where it lives now and what the snapshot saw in it."""

    key: str
    sheet: SheetMeta
    data: TabData | None
    kinds: list[str | None] = field(default_factory=list)
    readers: list[Converter | None] = field(default_factory=list)

    @property
    def header(self) -> list[Cell]:
        return list(self.data.rows[0]) if self.data and self.data.rows else []

    def kind(self, col: int) -> str | None:
        return self.kinds[col] if col < len(self.kinds) else None


def make_target(key: str, sheet: SheetMeta, data: TabData | None, sheet_tz: ZoneInfo | None,
                team_tz: ZoneInfo | None) -> Target:
    """A Target with the column kinds and readers its snapshot header implies."""
    header = list(data.rows[0]) if data and data.rows else []
    return Target(key, sheet, data, column_kinds(schema_tab(key), header),
                  readers(key, header, sheet_tz, team_tz))


def id_column(target: Target) -> int | None:
    """The column that identifies rows of a tab (ID, or a filled id-kind column such as Ref), if any."""
    tab = schema_tab(target.key)
    if tab is None or not target.header:
        return None
    wanted = "id" if "id" in tab.by_key else next(
        (c.key for c in tab.columns if c.kind == "id" and c.owner == FILL), None)
    if wanted is None:
        return None
    for i, name in enumerate(target.header):
        column = column_for(tab, name) if name is not None else None
        if column is not None and column.key == wanted:
            return i
    return None


@dataclass
class Check:
    """One range of the guard re-read and what it must still hold."""

    target: Target
    what: str
    """"rows" (a block of rows the batch writes into), "header" (row 1) or "guard" (cells of one column)."""
    col: int
    first_row: int
    last_row: int
    expected: dict[int, Cell] = field(default_factory=dict)
    """Guard checks: the expected value per 1-based sheet row."""
    rows: set[int] = field(default_factory=set)
    """Rows checks: the sheet rows the batch writes into, which must still hold exactly what was read."""
    cells: dict[tuple[int, int], Cell] = field(default_factory=dict)
    """Rows checks: guarded cells inside the block, keyed (1-based row, 0-based column)."""

    @property
    def a1(self) -> str:
        title = quote_title(self.target.sheet.title)
        if self.what == "rows":
            return f"{title}!{self.first_row}:{self.last_row}"
        if self.what == "header":
            return f"{title}!1:1"
        return column_span(self.target.sheet.title, self.col, self.first_row, self.last_row)


GAP = 50
"""Written rows this close together are re-read as one block (fewer ranges, a few unneeded rows)."""
MAX_BLOCKS = 200
"""Past this many blocks, one block from the first to the last written row is re-read instead."""


def row_blocks(rows: set[int]) -> list[tuple[int, int]]:
    """Spans of written rows to re-read: consecutive and nearby rows merged."""
    spans: list[tuple[int, int]] = []
    for row in sorted(rows):
        if spans and row - spans[-1][1] <= GAP:
            spans[-1] = (spans[-1][0], row)
        else:
            spans.append((row, row))
    if len(spans) > MAX_BLOCKS:
        spans = [(spans[0][0], spans[-1][1])]
    return spans


def plan_checks(batch: WriteBatch, targets: dict[str, Target],
                relied: dict[str, set[int]] | None = None) -> list[Check]:
    """The ranges to re-read before writing, one batchGet in all, proportional to what the batch writes.

    Every tab the batch touches has its header row re-read. A tab whose cells the batch updates has the rows
    it writes into re-read (in blocks of nearby rows): each must still hold exactly what was read, so a sort,
    an insert or a delete above them, or an edit in them, stops the write. Guards outside those blocks
    are re-read column by column. `relied` adds, per rebuilt tab, the rows its diff overwrites, deletes,
    clears or inserts above: they too must still hold what was read.
    """
    checks: list[Check] = []
    blocks: dict[str, list[Check]] = defaultdict(list)
    written: dict[str, set[int]] = defaultdict(set)
    for cell in batch.cells:
        written[cell.tab].add(cell.row)
    for key, rows in (relied or {}).items():
        written[key].update(rows)
    for key, target in targets.items():
        if target.data is None or TABS_BY_KEY[key].headerless:
            continue
        if key in written or key in batch.appends or key in batch.replace or any(g.tab == key for g in batch.guards):
            checks.append(Check(target, "header", 0, 1, 1))
        for first, last in row_blocks({r for r in written.get(key, ()) if r > 1}):
            block = Check(target, "rows", 0, first, last, rows={r for r in written[key] if first <= r <= last})
            blocks[key].append(block)
            checks.append(block)
    by_column: dict[tuple[str, int], dict[int, Cell]] = defaultdict(dict)
    for guard in batch.guards:
        inside = next((b for b in blocks.get(guard.tab, ()) if b.first_row <= guard.row <= b.last_row), None)
        if inside is not None:
            inside.cells[(guard.row, guard.col)] = guard.expected
        else:
            by_column[(guard.tab, guard.col)][guard.row] = guard.expected
    for (key, col), expected in sorted(by_column.items()):
        checks.append(Check(targets[key], "guard", col, min(expected), max(expected), expected))
    return checks


def _describe(value: Cell) -> str:
    return "empty" if value is None else repr(value)


def _trimmed(row: Sequence[Cell]) -> list[Cell]:
    out = list(row)
    while out and out[-1] is None:
        out.pop()
    return out


def _verify_header(check: Check, current: Sequence[Cell]) -> None:
    before = _trimmed(check.target.header)
    if list(current) != before:
        raise StoreConflict(f"The header row of '{check.target.sheet.title}' changed since it was read "
                            f"(was {before}, now {list(current)}); reading the sheet again.")


def _verify_rows(check: Check, rows: list[list[Cell]]) -> None:
    """`rows` are the block's rows as they are now, from check.first_row on."""
    target, title = check.target, check.target.sheet.title
    data = target.data
    assert data is not None

    def now(row_no: int) -> list[Cell]:
        i = row_no - check.first_row
        return _trimmed(rows[i]) if 0 <= i < len(rows) else []

    id_col = id_column(target)
    for row_no in sorted(check.rows):
        before = _trimmed(data.rows[row_no - 1]) if row_no - 1 < len(data.rows) else []
        if id_col is not None and _cell(before, id_col) != _cell(now(row_no), id_col):
            raise StoreConflict(f"'{title}' row {row_no} held ID {_describe(_cell(before, id_col))} when read and now "
                                f"holds {_describe(_cell(now(row_no), id_col))}: rows were sorted, inserted or "
                                "deleted; reading the sheet again.")
    for (row_no, col), expected in sorted(check.cells.items()):
        current = _cell(now(row_no), col)
        if current != expected:
            raise StoreConflict(f"'{title}' row {row_no}, column {column_letter(col)} changed since it was read "
                                f"(was {_describe(expected)}, now {_describe(current)}): someone edited it; "
                                "reading the sheet again.")
    for row_no in sorted(check.rows):
        before = _trimmed(data.rows[row_no - 1]) if row_no - 1 < len(data.rows) else []
        if now(row_no) != before:
            raise StoreConflict(f"'{title}' row {row_no} was edited since it was read; reading the sheet again.")


def _cell(row: Sequence[Cell], col: int) -> Cell:
    return row[col] if col < len(row) else None


def verify(checks: Sequence[Check], answers: Sequence[list[list[Any]]]) -> None:
    """Raise StoreConflict naming the first cell that no longer holds what the snapshot showed."""
    for check, raw in zip(checks, answers, strict=True):
        if check.what == "rows":
            _verify_rows(check, convert_rows(raw, check.target.readers))
            continue
        if check.what == "header":
            converted = convert_rows(raw[:1], check.target.readers)
            _verify_header(check, converted[0] if converted else [])
            continue
        reader = check.target.readers[check.col] if check.col < len(check.target.readers) else None
        rows = convert_rows(raw, [reader])
        for row_no, expected in check.expected.items():
            i = row_no - check.first_row
            current = rows[i][0] if i < len(rows) and rows[i] else None
            if current != expected:
                where = f"'{check.target.sheet.title}' row {row_no}, column {column_letter(check.col)}"
                raise StoreConflict(f"{where} changed since it was read (was {_describe(expected)}, now "
                                    f"{_describe(current)}): someone edited it; reading the sheet again.")
