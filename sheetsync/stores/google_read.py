"""Read many tabs in one values:batchGet and return them as the same Python values every store returns.

The answer's body is kept as bytes until a tab is used: its digest is the snapshot's fingerprint, so a cycle
that finds the sheet as it last planned it skips planning without parsing a cell. The first tab used parses
the body once (orjson) and drops it; each tab converts its own cells (typed values) on first use and drops
its raw rows, so at most one copy of a tab's cells is held.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Sequence
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from ..core.schema import TABS_BY_KEY, Tab
from ..ports import Cell
from .google_cells import Converter, column_kinds, convert_rows, quote_title, reader_for
from .lazy import LazyTab

log = logging.getLogger(__name__)

READ_PARAMS = {"valueRenderOption": "UNFORMATTED_VALUE", "dateTimeRenderOption": "SERIAL_NUMBER",
               "majorDimension": "ROWS"}
"""Typed values and serial dates: nothing depends on the sheet's locale or display formats."""


def schema_tab(key: str) -> Tab | None:
    """The schema tab for a key, None for headerless tabs (no columns to map)."""
    tab = TABS_BY_KEY.get(key)
    return None if tab is None or tab.headerless else tab


def readers(key: str, header: Sequence[Cell], sheet_tz: ZoneInfo | None,
            team_tz: ZoneInfo | None) -> list[Converter | None]:
    """One converter per column of a tab, chosen by the schema kind its header names."""
    return [reader_for(kind, sheet_tz, team_tz) for kind in column_kinds(schema_tab(key), header)]


def tab_rows(key: str, raw_rows: list[list[Any]], sheet_tz: ZoneInfo | None,
             team_tz: ZoneInfo | None) -> list[list[Cell]]:
    """One tab's batchGet rows as store rows, the header row first and trailing blanks trimmed.

    Converts in place: each raw row is replaced by its converted row as it goes, so the raw rows are not
    held beside the converted ones.
    """
    if not raw_rows or schema_tab(key) is None:
        return convert_rows(raw_rows, [], in_place=True)
    header = [None if c == "" else c for c in raw_rows[0]]
    return convert_rows(raw_rows, readers(key, header, sheet_tz, team_tz), in_place=True)


def whole_tab_range(title: str) -> str:
    """The A1 range for every cell of a tab."""
    return quote_title(title)


def value_ranges(answer: dict[str, Any], expected: int) -> list[list[list[Any]]]:
    """The `values` of each range of a batchGet answer, in request order ([] for empty ranges)."""
    ranges = answer.get("valueRanges", [])
    if len(ranges) != expected:
        raise ValueError(f"batchGet answered {len(ranges)} ranges for {expected} asked")
    return [r.get("values", []) for r in ranges]


def read_fingerprint(body: bytes | bytearray, context: Iterable[object]) -> str:
    """A digest of a batchGet answer's body as received plus what its reading depends on (titles, timezones).

    Equal digests mean equal snapshots: the same bytes read the same way give the same values.
    """
    digest = hashlib.blake2b(digest_size=20)
    digest.update(orjson.dumps([str(part) for part in context]))
    digest.update(b"\0")
    digest.update(body)
    return digest.hexdigest()


def lazy_tab(key: str, title: str, answer: RawAnswer, index: int, sheet_tz: ZoneInfo | None,
             team_tz: ZoneInfo | None) -> LazyTab:
    """Range `index` of a batchGet answer as a tab whose cells are parsed and converted on first use."""
    return LazyTab(title, lambda: tab_rows(key, answer.take(index), sheet_tz, team_tz))


class RawAnswer:
    """A values:batchGet answer held as its body until a tab is used, then parsed once (the body dropped)."""

    __slots__ = ("_body", "_ranges", "expected")

    def __init__(self, body: bytes | bytearray, expected: int) -> None:
        self._body: bytes | bytearray | None = body
        self._ranges: list[list[list[Any]] | None] | None = None
        self.expected = expected

    def take(self, index: int) -> list[list[Any]]:
        """The raw rows of range `index`, handed over once (the answer keeps no reference to them)."""
        if self._ranges is None:
            body, self._body = self._body, None
            answer = orjson.loads(body or b"{}")
            self._ranges = list(value_ranges(answer, self.expected))
            del answer
        rows = self._ranges[index]
        if rows is None:
            raise RuntimeError(f"range {index} of the batchGet answer was already taken")
        self._ranges[index] = None
        return rows
