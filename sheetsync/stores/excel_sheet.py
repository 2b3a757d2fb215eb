"""Edit one worksheet part (xl/worksheets/sheetN.xml) in place: only the rows that change are re-written.

Rows stay in ascending order and cells in column order; a row that exists already (LibreOffice writes
formatted empty rows past the data) is merged into, never doubled; the row's `spans` hint is dropped
where cells change and `<dimension>` is widened to cover what was written.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ..core.schema import column_letter
from ..ports import Cell
from .excel_zip import NotSurgical

_ROW_START = re.compile(rb"<row\b")
_CELL = re.compile(rb"<c\b[^>]*?(?:/>|>.*?</c>)", re.S)
_R = re.compile(rb'\sr="([^"]*)"')
_S = re.compile(rb'\ss="(\d+)"')
_STYLE = re.compile(rb'\sstyle="(\d+)"')
_SPANS = re.compile(rb'\sspans="[^"]*"')
_COL = re.compile(rb"<col\b[^>]*?/>")
_DIMENSION = re.compile(rb'<dimension\b[^>]*?\sref="([^"]*)"[^>]*?/>')
_REF = re.compile(r"([A-Z]+)(\d+)")



def column_index(letters: str) -> int:
    """The 0-based column index of column letters."""
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def _int_attr(pattern: re.Pattern[bytes], tag: bytes) -> int | None:
    m = pattern.search(tag)
    return int(m.group(1)) if m else None


Render = Callable[[int, int, Cell, int | None], bytes | None]
"""render(1-based row, 0-based column, value, the style the cell has or inherits) -> cell XML, None for no cell."""


@dataclass
class SheetEdit:
    """What to change in one worksheet: cell values by 1-based row and 0-based column, rows to remove."""

    cells: dict[int, dict[int, Cell]] = field(default_factory=dict)
    drop: set[int] = field(default_factory=set)

    def set(self, row: int, col: int, value: Cell) -> None:
        self.cells.setdefault(row, {})[col] = value
        self.drop.discard(row)

    def __bool__(self) -> bool:
        return bool(self.cells or self.drop)


BISECT_LIMIT = 64
"""More edited rows than this in a part sheetsync wrote itself: index every row once instead of bisecting."""
_SCAN = 4096
"""Bisecting stops when the rows left to look at span fewer bytes than this; they are then read in order."""


class SheetXml:
    """A worksheet part, indexed by row so that single rows can be replaced without parsing the rest.

    A part sheetsync wrote itself (`ordered`) is known to hold its rows in ascending order, each with its
    number; its rows are then found by bisecting byte offsets, so a few edits cost the same at any size.
    """

    def __init__(self, xml: bytes, ordered: bool = False) -> None:
        self.xml = xml
        open_at = xml.find(b"<sheetData")
        if open_at < 0:
            raise NotSurgical("worksheet without sheetData (or with a namespace prefix)")
        tag_end = xml.index(b">", open_at) + 1
        if xml[tag_end - 2:tag_end] == b"/>":
            self.start = self.end = tag_end
            self._empty: tuple[int, int] | None = (open_at, tag_end)
        else:
            self.start, self.end = tag_end, xml.index(b"</sheetData>", tag_end)
            self._empty = None
        self.rows: list[int] = []
        self.spans: list[tuple[int, int]] = []
        """Each row's bytes run from its start tag to the next row's (whitespace between rows included)."""
        self.indexed = False
        if not ordered:
            self._index()
        self.formula_replaced = False
        self.written: list[bytes] = []
        """The rows this edit rendered, for checking that they are well-formed XML."""
        self.copied: list[tuple[int, int, int]] = []
        """After `apply`: (offset in the new XML, offset in the old, length) of every run of bytes kept as it was."""
        self.col_styles = self._col_styles()

    def _index(self) -> None:
        """Every row's number and bytes, checking that the numbers ascend."""
        xml, previous = self.xml, 0
        starts = [m.start() for m in _ROW_START.finditer(xml, self.start, self.end)]
        for i, at in enumerate(starts):
            tag = xml[at: xml.index(b">", at) + 1]
            number = _int_attr(_R, tag) or previous + 1
            if number <= previous:
                raise NotSurgical("rows out of order")
            self.rows.append(number)
            self.spans.append((at, starts[i + 1] if i + 1 < len(starts) else self.end))
            previous = number
        self.indexed = True

    def _next_row(self, at: int, limit: int) -> int:
        """Where the first row element starting in [at, limit) starts, -1 when none does."""
        m = _ROW_START.search(self.xml, at, limit)
        return m.start() if m else -1

    def _number_at(self, at: int) -> int:
        number = _int_attr(_R, self.xml[at: self.xml.index(b">", at) + 1])
        if number is None:
            raise _Unnumbered
        return number

    def locate(self, number: int) -> tuple[int, int, bool]:
        """The bytes of row `number` (start, end, True), or where it would go (at, at, False)."""
        if self.indexed:
            j = bisect.bisect_left(self.rows, number)
            if j < len(self.rows) and self.rows[j] == number:
                return (*self.spans[j], True)
            at = self.spans[j][0] if j < len(self.spans) else self.end
            return at, at, False
        try:
            return self._bisect(number)
        except _Unnumbered:
            self._index()
            return self.locate(number)

    def _bisect(self, number: int) -> tuple[int, int, bool]:
        # Rows starting before lo are numbered below `number`; rows starting at hi or later, `number` or more.
        lo, hi = self.start, self.end
        while hi - lo > _SCAN:
            mid = (lo + hi) // 2
            at = self._next_row(mid, hi)
            if at < 0:
                hi = mid
            elif self._number_at(at) < number:
                lo = at + 1
            else:
                hi = at
        at = self._next_row(lo, self.end)
        while at >= 0 and self._number_at(at) < number:
            at = self._next_row(at + 1, self.end)
        if at < 0:
            return self.end, self.end, False
        if self._number_at(at) != number:
            return at, at, False
        following = self._next_row(at + 1, self.end)
        return at, following if following >= 0 else self.end, True

    def _col_styles(self) -> list[tuple[int, int, int]]:
        cols_at = self.xml.find(b"<cols")
        if cols_at < 0 or cols_at > self.start:
            return []
        out = []
        for m in _COL.finditer(self.xml, cols_at, self.start):
            style = _int_attr(_STYLE, m.group(0))
            lo, hi = re.search(rb'\smin="(\d+)"', m.group(0)), re.search(rb'\smax="(\d+)"', m.group(0))
            if style is not None and lo and hi:
                out.append((int(lo.group(1)) - 1, int(hi.group(1)) - 1, style))
        return out

    def column_style(self, col: int) -> int | None:
        for lo, hi, style in self.col_styles:
            if lo <= col <= hi:
                return style
        return None

    def _row(self, number: int, old: bytes | None, changes: Mapping[int, Cell], render: Render) -> bytes:
        if old is None:
            tag, inner, row_style = b'<row r="%d">' % number, b"", None
        else:
            old = old.rstrip()
            if not (old.endswith(b"</row>") or old.endswith(b"/>")):
                raise NotSurgical(f"row {number} is followed by something other than rows")
            close = old.index(b">") + 1
            tag = old[:close]
            if tag.endswith(b"/>"):
                tag, inner = tag[:-2].rstrip() + b">", b""
            else:
                inner = old[close:-len(b"</row>")]
            tag = _SPANS.sub(b"", tag)
            if b' r="' not in tag:
                tag = tag[:4] + b' r="%d"' % number + tag[4:]
            row_style = _int_attr(_S, tag) if b'customFormat="1"' in tag else None
        cells: dict[int, bytes] = {}
        position = -1
        for m in _CELL.finditer(inner):
            cell = m.group(0)
            ref = _R.search(cell[: cell.index(b">")])
            letters = _REF.match(ref.group(1).decode()) if ref else None
            if ref and letters is None:
                raise NotSurgical(f"row {number} has a cell reference that is not A1-style")
            position = column_index(letters.group(1)) if letters else position + 1
            cells[position] = cell
        if _CELL.sub(b"", inner).strip():
            raise NotSurgical(f"row {number} holds something other than cells")
        for col, value in changes.items():
            existing = cells.get(col)
            if existing is not None:
                style = _int_attr(_S, existing[: existing.index(b">")])
                if b"<f" in existing:
                    self.formula_replaced = True
            else:
                style = self.column_style(col)
                if style is None:
                    style = row_style
            rendered = render(number, col, value, style)
            if rendered is None:
                cells.pop(col, None)
            else:
                cells[col] = rendered
        if not cells:
            return tag[:-1] + b"/>"
        return tag + b"".join(cells[c] for c in sorted(cells)) + b"</row>"

    def apply(self, edit: SheetEdit, render: Render) -> bytes:
        """The worksheet XML with the edit applied; `copied` then tells which of its bytes are the old part's."""
        xml = self.xml
        if self._empty is None:
            head, pos, close = xml[: self.start], self.start, (self.end, len(xml))
        else:  # <sheetData/>: opened and closed around the rows written
            head, pos, close = xml[: self._empty[0]] + b"<sheetData>", self.start, (self._empty[1], len(xml))
        pieces: list[bytes | tuple[int, int]] = []
        """New bytes, or (start, end) of bytes kept from the old part."""
        numbers = sorted(set(edit.cells) | edit.drop)
        if not self.indexed and len(numbers) > BISECT_LIMIT:
            self._index()
        max_row, max_col = 0, -1
        for number in numbers:
            start, end, found = self.locate(number)
            if start > pos:
                pieces.append((pos, start))
            pos = end
            if number in edit.drop:
                continue
            changes = edit.cells[number]
            row = self._row(number, xml[start:end] if found else None, changes, render)
            self.written.append(row)
            pieces.append(row)
            if any(value is not None for value in changes.values()):
                max_row = max(max_row, number)
                max_col = max(max_col, *changes)
        if self.end > pos:
            pieces.append((pos, self.end))
        if self._empty is not None:
            pieces.append(b"</sheetData>")
        pieces.append(close)
        widened = _widen_dimension(head, max_row, max_col)
        pieces.insert(0, (0, len(head)) if widened == head and self._empty is None else widened)
        view = memoryview(xml)
        out: list[bytes | memoryview] = []
        self.copied = []
        at = 0
        for piece in pieces:
            if isinstance(piece, tuple):
                self.copied.append((at, piece[0], piece[1] - piece[0]))
                out.append(view[piece[0]:piece[1]])
                at += piece[1] - piece[0]
            else:
                out.append(piece)
                at += len(piece)
        return b"".join(out)


class _Unnumbered(Exception):
    """A row without its number: rows are then counted from the start of sheetData."""


def _widen_dimension(xml: bytes, max_row: int, max_col: int) -> bytes:
    if max_row == 0:
        return xml
    m = _DIMENSION.search(xml, 0, 4096)
    if m is None:
        return xml
    ref = m.group(1).decode()
    first, _, last = ref.partition(":")
    last = last or first
    a, b = _REF.match(first), _REF.match(last)
    if not a or not b:
        return xml
    top_col, top_row = column_index(a.group(1)), int(a.group(2))
    end_col, end_row = column_index(b.group(1)), int(b.group(2))
    if max_row <= end_row and max_col <= end_col:
        return xml
    empty = ref == "A1" and m.group(0).count(b":") == 0
    if empty:
        top_col, top_row = 0, 1
    new_ref = f"{column_letter(top_col)}{top_row}:{column_letter(max(end_col, max_col))}{max(end_row, max_row)}"
    start, end = m.span(1)
    return xml[:start] + new_ref.encode() + xml[end:]
