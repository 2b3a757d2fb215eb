"""The store port: read every tab at once, apply one batch of changes, append rows.

Every store (the local workbook, Google Sheets) implements `Store`. The core never sees a store; the
sync and intake modules hand it plain `Snapshot`s and take back `WriteBatch`es.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the template module is data layout only; stores receive it, the core never does
    from ..template import Layout

Cell = object
"""A cell value: str, int, float, Decimal, bool, date, datetime or None (blank)."""


@dataclass
class TabData:
    """One tab as read: its title in the workbook and every row, the header row first (row 1)."""

    title: str
    rows: list[list[Cell]]

    def cell(self, row: int, col: int) -> Cell:
        """The value at a 1-based sheet row and 0-based column, None beyond the data."""
        if row - 1 >= len(self.rows):
            return None
        values = self.rows[row - 1]
        return values[col] if col < len(values) else None


@dataclass
class Snapshot:
    """Every tab the store was asked for, keyed by schema tab key (see core.schema.TABS)."""

    tabs: dict[str, TabData]
    timezone: str | None = None
    """The spreadsheet's own timezone when the store knows it (Google Sheets does)."""
    version: object = None
    """Opaque token the store uses to notice that someone saved in between."""
    titles: tuple[str, ...] = ()
    """Every tab title in the workbook, including ones sheetsync does not know."""


@dataclass(frozen=True)
class CellWrite:
    """Write `value` at a 1-based sheet row and 0-based column of a tab (by tab key)."""

    tab: str
    row: int
    col: int
    value: Cell


@dataclass(frozen=True)
class Guard:
    """The write is valid only while this cell still holds what the snapshot showed."""

    tab: str
    row: int
    col: int
    expected: Cell


@dataclass(frozen=True)
class ChartSpec:
    """A bar chart on a tab: categories and values are 1-based row spans of two 0-based columns."""

    tab: str
    title: str
    first_row: int
    last_row: int
    category_col: int
    value_col: int
    anchor_row: int
    anchor_col: int
    series_title: str = ""


@dataclass
class WriteBatch:
    """Everything one cycle writes, applied together or not at all."""

    cells: list[CellWrite] = field(default_factory=list)
    guards: list[Guard] = field(default_factory=list)
    appends: dict[str, list[list[Cell]]] = field(default_factory=dict)
    """Rows to add below the last non-blank row of a tab, in column order of its header row."""
    replace: dict[str, list[list[Cell]]] = field(default_factory=dict)
    """System tabs rebuilt whole: rows from row 2 (row 1 for headerless tabs); older rows beyond are cleared."""
    charts: list[ChartSpec] = field(default_factory=list)
    formats: dict[tuple[str, int, int], str] = field(default_factory=dict)
    """Number formats for replaced cells, keyed (tab, 1-based row, 0-based col): "percent" or "amount"."""

    def __bool__(self) -> bool:
        return bool(self.cells or self.appends or self.replace or self.charts)


class StoreError(Exception):
    """The store cannot be reached or used; the message says what to fix."""


class StoreConflict(StoreError):
    """Someone changed the sheet between the read and the write; read again and re-plan."""


class Store(ABC):
    """A spreadsheet sheetsync keeps: the local workbook or a Google Sheet."""

    @abstractmethod
    def read(self, tabs: Collection[str] | None = None) -> Snapshot:
        """Read the given tabs (schema keys; all known tabs when None) in one go."""

    @abstractmethod
    def write(self, snapshot: Snapshot, batch: WriteBatch) -> None:
        """Apply the batch planned from `snapshot`; raise StoreConflict if the sheet moved underneath it.

        Cells named by `batch.guards` must still hold their expected values, and the header rows must be
        unchanged, or nothing is written. Text is always written as text, never as a formula.
        """

    @abstractmethod
    def setup(self, layout: Layout) -> list[str]:
        """Create missing tabs and columns from a workbook template, keeping everything people entered.

        Returns one line per change made, for the user.
        """

    @abstractmethod
    def describe(self) -> str:
        """Where the data lives, for messages ("workbook ./pipeline.xlsx")."""
