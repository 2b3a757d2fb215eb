"""Turn a write batch into per-tab cell edits, writing only what differs from what the read returned.

Rebuilt tabs (Reminders, Summary) are compared row by row with the rows read: an unchanged row is not
touched, so a cycle in which nothing changed writes nothing. The same edits update the store's cached
copy of the rows, so the next read of an unchanged file needs no parsing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ..core.schema import TABS_BY_KEY
from ..ports import Cell, WriteBatch
from .excel_sheet import SheetEdit
from .excel_values import normal, normal_row, trimmed

PLAIN = "plain"
"""The format kind of a rebuilt Summary cell that needs none: its old style is dropped."""


@dataclass
class Edits:
    """The cell edits of one write by tab title, the number formats of rebuilt cells, and the rows after it."""

    sheets: dict[str, SheetEdit] = field(default_factory=dict)
    kinds: dict[str, dict[tuple[int, int], str]] = field(default_factory=dict)
    rows: dict[str, list[list[Cell]]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return any(self.sheets.values())

    def _rows(self, title: str, current: Mapping[str, list[list[Cell]]]) -> list[list[Cell]]:
        if title not in self.rows:
            self.rows[title] = list(current[title])
        return self.rows[title]

    def put(self, title: str, current: Mapping[str, list[list[Cell]]], row: int, col: int, value: Cell) -> bool:
        """Set one cell unless it already holds the value; return whether it changed."""
        rows = self._rows(title, current)
        new = normal(value)
        old = rows[row - 1][col] if row - 1 < len(rows) and col < len(rows[row - 1]) else None
        if _same([new], [old]):
            return False
        self.sheets.setdefault(title, SheetEdit()).set(row, col, value)
        while len(rows) < row:
            rows.append([])
        line = list(rows[row - 1])
        line.extend([None] * (col + 1 - len(line)))
        line[col] = new
        rows[row - 1] = trimmed(line)
        return True

    def drop(self, title: str, current: Mapping[str, list[list[Cell]]], row: int) -> None:
        rows = self._rows(title, current)
        self.sheets.setdefault(title, SheetEdit()).drop.add(row)
        if row - 1 < len(rows):
            rows[row - 1] = []

    def settle(self) -> None:
        """Drop blank rows at the end of every changed tab, as a read would."""
        for rows in self.rows.values():
            while rows and not rows[-1]:
                rows.pop()


def _same(a: list[Cell], b: list[Cell]) -> bool:
    """Equal values of equal types (1 and True, 1 and 1.0 are different cells)."""
    return a == b and all(type(x) is type(y) for x, y in zip(a, b, strict=True))


def plan_edits(batch: WriteBatch, titles: Mapping[str, str], current: Mapping[str, list[list[Cell]]]) -> Edits:
    """The edits that make the workbook hold what `batch` asks, given the normalised rows read (by title)."""
    edits = Edits()
    for w in batch.cells:
        edits.put(titles[w.tab], current, w.row, w.col, w.value)
    for key, rows in batch.appends.items():
        title = titles[key]
        start = max(len(edits.rows.get(title, current[title])), 1) + 1
        for i, values in enumerate(rows):
            for col, value in enumerate(values):
                if value is not None and value != "":
                    edits.put(title, current, start + i, col, value)
    for key, rows in batch.replace.items():
        title = titles[key]
        first = 1 if TABS_BY_KEY[key].headerless else 2
        old = current[title][first - 1:]
        kinds = edits.kinds.setdefault(title, {})
        for i in range(max(len(old), len(rows))):
            number = first + i
            before = old[i] if i < len(old) else []
            wanted = list(rows[i]) if i < len(rows) else []
            fresh = normal_row(wanted)
            if _same(fresh, before):
                continue
            if not fresh:
                if before:
                    edits.drop(title, current, number)
                continue
            for col in range(max(len(before), len(wanted))):
                value = wanted[col] if col < len(wanted) else None
                if edits.put(title, current, number, col, value):
                    kind = batch.formats.get((key, number, col))
                    if kind is not None:
                        kinds[(number, col)] = kind
                    elif TABS_BY_KEY[key].headerless:
                        kinds[(number, col)] = PLAIN  # Summary: a cell never keeps the bold or format of old content
    edits.settle()
    return edits
