"""Apply planned edits to an .xlsx package: re-write only the worksheet parts that change.

Cells are written as inline strings, numbers, booleans and date serials; a new cell takes the style of the
cell it replaces, else its column's, else its row's, with the number format a date or a Summary figure
needs added to styles.xml when the workbook has none. Every other part is copied byte for byte.
"""

from __future__ import annotations

import math
import posixpath
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from html import escape

from ..core.formats import BOLD, PATTERNS
from ..ports import Cell, ChartSpec
from .excel_edits import PLAIN, Edits
from .excel_sheet import SheetXml, column_letter
from .excel_styles import Styles
from .excel_zip import Deflated, NotSurgical, Package, deflate
from .safety import check_fragment

DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
FORMULA_START = ("=", "+", "-", "@")
_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_ODR = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_XML_ESCAPE = re.compile(r"_x[0-9A-Fa-f]{4}_|[\x00-\x08\x0b\x0c\r\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_CHART_REF = re.compile(rb"(<(?:\w+:)?f>)([^<]*)(</(?:\w+:)?f>)")
_RANGE = re.compile(r"^(?:'((?:[^']|'')*)'|([^!]*))!\$?([A-Z]+)\$?(\d+):\$?([A-Z]+)\$?(\d+)$")


def text_xml(value: str) -> bytes:
    """Text as the body of <t>: XML-escaped, with what XML 1.0 cannot hold (and CR, as Office wants) as _xHHHH_."""
    def code(m: re.Match[str]) -> str:
        found = m.group(0)
        return "_x005F_" + found[1:] if len(found) > 1 else f"_x{ord(found):04X}_"

    return escape(_XML_ESCAPE.sub(code, value), quote=False).encode()


def _part_path(base: str, target: str) -> str:
    if target.startswith("/"):
        return target[1:]
    return posixpath.normpath(posixpath.join(posixpath.dirname(base), target))


def _rels(pkg: Package, part: str) -> dict[str, tuple[str, str]]:
    """Relationships of a part: id -> (type suffix, part path)."""
    name = posixpath.join(posixpath.dirname(part), "_rels", posixpath.basename(part) + ".rels")
    if name not in pkg.names:
        return {}
    out = {}
    for rel in ET.fromstring(pkg.read(name)).iter(_REL):
        if rel.get("TargetMode") == "External":
            continue
        out[rel.get("Id", "")] = (rel.get("Type", "").rsplit("/", 1)[-1], _part_path(part, rel.get("Target", "")))
    return out


class WorkbookParts:
    """Where each tab of a package lives, its date system, and its styles."""

    def __init__(self, pkg: Package) -> None:
        self.pkg = pkg
        root = _rels(pkg, "")
        book = next((path for kind, path in root.values() if kind == "officeDocument"), "xl/workbook.xml")
        self.book = book
        tree = ET.fromstring(pkg.read(book))
        rels = _rels(pkg, book)
        pr = tree.find(f"{_MAIN}workbookPr")
        self.epoch = datetime(1904, 1, 1) if pr is not None and pr.get("date1904") in ("1", "true") else \
            datetime(1899, 12, 30)
        self.sheets: dict[str, str] = {}
        self.titles = tuple(sheet.get("name", "") for sheet in tree.iter(f"{_MAIN}sheet"))
        """Every tab title in workbook order (worksheets, chart sheets and any other kind)."""
        for sheet in tree.iter(f"{_MAIN}sheet"):
            rel = rels.get(sheet.get(_ODR, ""))
            if rel is not None and rel[0] == "worksheet":
                self.sheets[sheet.get("name", "")] = rel[1]
        self.styles_part = next((path for kind, path in rels.values() if kind == "styles"), None)
        self._styles: Styles | None = None

    @property
    def styles(self) -> Styles:
        if self._styles is None:
            if self.styles_part is None:
                raise NotSurgical("the workbook has no styles part")
            self._styles = Styles(self.pkg.read(self.styles_part))
        return self._styles

    def part(self, title: str) -> str:
        if title not in self.sheets:
            raise NotSurgical(f"no worksheet part for '{title}'")
        return self.sheets[title]

    def charts_of(self, title: str) -> list[str]:
        """Chart parts drawn on a tab."""
        out = []
        for kind, drawing in _rels(self.pkg, self.part(title)).values():
            if kind == "drawing":
                out += [path for k, path in _rels(self.pkg, drawing).values() if k == "chart"]
        return out


class CellRenderer:
    """Cell XML for values, choosing styles through the workbook's Styles."""

    def __init__(self, parts: WorkbookParts, kinds: Mapping[tuple[int, int], str]) -> None:
        self.parts = parts
        self.kinds = kinds

    def serial(self, moment: datetime) -> str:
        delta = moment - self.parts.epoch
        return repr(delta.days + (delta.seconds + delta.microseconds / 1e6) / 86400)

    def __call__(self, row: int, col: int, value: Cell, style: int | None) -> bytes | None:
        ref = f"{column_letter(col)}{row}".encode()
        if isinstance(value, Decimal):
            value = float(value)
        kind_of = self.kinds.get((row, col), "")
        if kind_of in (PLAIN, BOLD) or kind_of in PATTERNS:
            style = None  # a rebuilt Summary cell starts from the default style
        if value is None or value == "":
            return None if style is None else b'<c r="%s" s="%d"/>' % (ref, style)
        styles = self.parts.styles
        if isinstance(value, str):
            if kind_of == BOLD:
                style = styles.bold(style)
            if value.startswith(FORMULA_START):
                style = styles.quoted(style)
            body = b'<is><t xml:space="preserve">%s</t></is>' % text_xml(value)
            kind = b' t="inlineStr"'
        elif isinstance(value, bool):
            body, kind = b"<v>%d</v>" % value, b' t="b"'
        elif isinstance(value, int | float):
            if value != value or value in (float("inf"), float("-inf")):
                raise ValueError(f"{value!r} cannot be stored in a workbook cell")
            fmt = PATTERNS.get(kind_of)
            if fmt is not None:
                style = styles.with_format(style, fmt)
            body, kind = b"<v>%s</v>" % (repr(value) if isinstance(value, float) else str(value)).encode(), b""
        elif isinstance(value, date):
            moment = value if isinstance(value, datetime) else datetime.combine(value, time())
            moment = moment.replace(tzinfo=None)
            style = styles.with_format(style, DATETIME_FORMAT if moment.time() != time() else DATE_FORMAT)
            body, kind = b"<v>%s</v>" % self.serial(moment).encode(), b""
        else:
            raise TypeError(f"cannot write {type(value).__name__} {value!r} to a workbook cell")
        s = b"" if style is None else b' s="%d"' % style
        return b'<c r="%s"%s%s>%s</c>' % (ref, s, kind, body)


def _ref(title: str, col: int, first: int, last: int) -> str:
    letter = column_letter(col)
    return f"'{title.replace(chr(39), chr(39) * 2)}'!${letter}${first}:${letter}${last}"


def _chart_updates(parts: WorkbookParts, title: str, specs: Sequence[ChartSpec]) -> dict[str, bytes]:
    """The chart parts of a tab with their ranges (and whole-number axis step) moved to the specs' rows,
    each chart found by its title; {} when already there."""
    charts = parts.charts_of(title)
    if len(charts) != len(specs) or any(spec.last_row < spec.first_row for spec in specs):
        raise NotSurgical("a chart must be created or removed")
    out: dict[str, bytes] = {}
    for spec in specs:
        matches = [c for c in charts if text_xml(spec.title) in parts.pkg.read(c)]
        if len(matches) != 1:
            raise NotSurgical("the chart's title changed")
        updated = _chart_update(parts.pkg.read(matches[0]), title, spec)
        if updated is not None:
            out[matches[0]] = updated
    return out


_MAJOR_UNIT = re.compile(rb'(<(?:\w+:)?majorUnit val=")([^"]*)(")')


def _chart_update(xml: bytes, title: str, spec: ChartSpec) -> bytes | None:
    """One chart part with its category and value ranges set to the spec's rows; None when already there."""
    refs = _CHART_REF.findall(xml)
    if len(refs) != 2:
        raise NotSurgical("the chart is not the one sheetsync draws")
    wanted = [_ref(title, spec.category_col, spec.first_row, spec.last_row),
              _ref(title, spec.value_col, spec.first_row, spec.last_row)]
    found = []
    for (_, ref, _), want in zip(refs, wanted, strict=True):
        m = _RANGE.match(ref.decode())
        if m is None:
            raise NotSurgical("the chart's ranges are not simple")
        target = _RANGE.match(want)
        found.append(target is not None and m.groups()[2:] == target.groups()[2:])
    new_xml = xml
    if not all(found):
        new = iter(wanted)
        new_xml = _CHART_REF.sub(lambda m: m.group(1) + escape(next(new), quote=False).encode() + m.group(3), xml)
    if spec.integer_ticks:
        unit = str(float(integer_step(spec.value_max))).encode()
        new_xml = _MAJOR_UNIT.sub(lambda m: m.group(1) + unit + m.group(3), new_xml)
    return None if new_xml == xml else new_xml


def integer_step(value_max: float | None) -> int:
    """The value-axis step of a count chart: whole numbers, about eight gridlines at most."""
    return max(1, math.ceil((value_max or 0) / 8))


@dataclass
class Rewritten:
    """A re-written package: its bytes, the parts re-written (uncompressed), and which of those to parse whole
    before the file is replaced (the worksheet rows spliced in were checked on their own already)."""

    data: bytes
    parts: dict[str, Deflated]
    unchecked: list[str]


def rewrite(data: bytes, edits: Edits, charts: Sequence[ChartSpec], titles: Mapping[str, str],
            written: Mapping[str, Deflated] | None = None) -> Rewritten | None:
    """The package re-written for `edits` and `charts`; None when nothing changes.

    `written` holds parts sheetsync wrote into `data` itself: they are not inflated again, their rows are
    found without indexing every row, and only their chunks whose bytes change are compressed again.
    """
    pkg = Package(data, written)
    parts = WorkbookParts(pkg)
    changed: dict[str, Deflated] = {}
    formulas_replaced = False
    for title, edit in edits.sheets.items():
        if not edit:
            continue
        part = parts.part(title)
        previous = pkg.written.get(part)
        sheet = SheetXml(pkg.read(part), ordered=previous is not None)
        body = sheet.apply(edit, CellRenderer(parts, edits.kinds.get(title, {})))
        check_fragment(b"".join(sheet.written), part)
        changed[part] = deflate(body, previous, sheet.copied)
        formulas_replaced |= sheet.formula_replaced
    spliced = set(changed)
    by_tab: dict[str, list[ChartSpec]] = {}
    for spec in charts:
        by_tab.setdefault(titles[spec.tab], []).append(spec)
    for title, specs in by_tab.items():
        changed.update({name: deflate(body) for name, body in _chart_updates(parts, title, specs).items()})
    if not changed:
        return None
    if parts._styles is not None and parts._styles.dirty:
        assert parts.styles_part is not None
        changed[parts.styles_part] = deflate(parts._styles.render())
    if formulas_replaced and "xl/calcChain.xml" in pkg.names:
        raise NotSurgical("a formula cell is overwritten and the calculation chain must be rebuilt")
    return Rewritten(pkg.rewrite(changed), changed, sorted(set(changed) - spliced))
