"""A tab whose rows are read only when a cycle uses them, for every store.

A store that can tell cheaply whether the sheet changed (Snapshot.fingerprint) hands out LazyTabs, so a cycle
that recognises contents it already planned from never pays for parsing or converting a cell.
"""

from __future__ import annotations

from collections.abc import Callable

from ..ports import Cell, TabData


class LazyTab(TabData):
    """A tab whose rows are parsed the first time `rows` is used; its title is known at once."""

    def __init__(self, title: str, load: Callable[[], list[list[Cell]]]) -> None:
        self.title = title
        self._load: Callable[[], list[list[Cell]]] | None = load
        self._rows: list[list[Cell]] | None = None

    @property  # type: ignore[override]
    def rows(self) -> list[list[Cell]]:
        if self._rows is None:
            assert self._load is not None
            self._rows, self._load = self._load(), None
        return self._rows

    @rows.setter
    def rows(self, value: list[list[Cell]]) -> None:
        self._rows, self._load = value, None

    @property
    def loaded(self) -> bool:
        """Whether the rows were read already (tests check that a steady cycle reads none)."""
        return self._rows is not None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TabData):
            return NotImplemented
        return (self.title, self.rows) == (other.title, other.rows)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        state = f"{len(self._rows)} rows" if self._rows is not None else "rows not read yet"
        return f"LazyTab(title={self.title!r}, {state})"
