"""One version of the workbook file as the store knows it: its bytes, its tab titles and fingerprint (from the
zip's table of contents and the small workbook part), and the rows of each tab, parsed only when first used.

A steady cycle that finds the fingerprint it already planned from never parses a worksheet.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from functools import cache
from importlib.metadata import PackageNotFoundError, version

from ..ports import Cell
from .excel_read import ValuesReader
from .excel_surgical import WorkbookParts
from .excel_zip import Deflated, NotSurgical, Package
from .lazy import LazyTab

Version = tuple[int, int, int]
"""(mtime_ns, size, inode) of the file: someone else's save changes it."""

ROWS_FORMAT = "sheetsync-xlsx-rows-1"
"""Goes into every fingerprint: change it when the way cells are read or normalised changes, so that a memo
kept by an older release does not match contents this one would read differently."""



@cache
def reader_version() -> str:
    """The reader library's version, also in every fingerprint: an upgrade may return cells differently."""
    try:
        return f"python-calamine {version('python-calamine')}"
    except PackageNotFoundError:  # pragma: no cover - installed from source without metadata
        return "python-calamine ?"


__all__ = ["UNREADABLE", "LazyTab", "Loaded", "Version"]

UNREADABLE = (NotSurgical, ET.ParseError, ValueError, KeyError)
"""What building a Loaded raises for a file that is not a readable .xlsx package (besides CalamineError)."""


class Loaded:
    """The bytes of one version of the file and what has been parsed from them so far."""

    def __init__(self, data: bytes, version: Version, rows: Mapping[str, list[list[Cell]]] | None = None,
                 written: Mapping[str, Deflated] | None = None) -> None:
        self.data = data
        self.version = version
        self.rows: dict[str, list[list[Cell]]] = dict(rows or {})
        """Rows by tab title, normalised (see excel_values.normal); never changed in place once stored."""
        self.written = dict(written or {})
        """Parts sheetsync wrote into these bytes itself: the next write starts from them."""
        self._package = Package(data, self.written)
        titles = WorkbookParts(self._package).titles
        self._reader: ValuesReader | None = None
        if not titles:  # not where the workbook part says: ask the reader, which knows more layouts
            titles = tuple(self._open().titles)
        self.titles: tuple[str, ...] = titles

    def fingerprint(self, wanted: Mapping[str, str]) -> str:
        """What the tabs `wanted` (schema key -> title) hold in this version, without decompressing anything."""
        return self._package.digest(ROWS_FORMAT, reader_version(),
                                    *(f"{key}={title}" for key, title in sorted(wanted.items())))

    def _open(self) -> ValuesReader:
        if self._reader is None:
            self._reader = ValuesReader(self.data)
        return self._reader

    def rows_of(self, title: str) -> list[list[Cell]]:
        """A tab's rows, parsed from the bytes the first time they are asked for (CalamineError when broken)."""
        found = self.rows.get(title)
        if found is None:
            found = self.rows[title] = self._open().rows(title)
            if self._reader is not None and all(t in self.rows for t in self.titles):
                self._reader.close()
                self._reader = None
        return found
