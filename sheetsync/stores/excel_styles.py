"""The cell formats of a workbook (xl/styles.xml): find or add the format a written cell needs."""

from __future__ import annotations

import re
from html import escape, unescape

from .excel_zip import NotSurgical

BUILTIN = {"general": 0, "0": 1, "0.00": 2, "#,##0": 3, "#,##0.00": 4, "0%": 9, "0.00%": 10}
"""Built-in number formats (ECMA-376 §18.8.30) that need no numFmt entry."""
FIRST_CUSTOM = 164
_XF = re.compile(rb"<xf\b[^>]*?(?:/>|>.*?</xf>)", re.S)
_NUMFMT = re.compile(rb"<numFmt\b[^>]*?/>", re.S)
_FONT = re.compile(rb"<font\b[^>]*?(?:/>|>.*?</font>)", re.S)
_BOLD = re.compile(rb"<b(?:\s[^>]*)?/>")
_BLOCK = {name: re.compile(rb"<%s\b[^>]*?(?:/>|>.*?</%s>)" % (name, name), re.S)
          for name in (b"cellXfs", b"numFmts", b"fonts")}


def _attr(tag: bytes, name: str) -> str | None:
    m = re.search(rb'\s%s="([^"]*)"' % name.encode(), tag)
    return unescape(m.group(1).decode()) if m else None


def set_attr(element: bytes, name: str, value: str) -> bytes:
    """The element with one attribute of its start tag set (added or replaced)."""
    end = element.index(b">")
    if element[end - 1:end] == b"/":
        end -= 1
    head, tail = element[:end], element[end:]
    pattern = re.compile(rb'(\s%s=")[^"]*(")' % name.encode())
    encoded = escape(value).encode()
    if pattern.search(head):
        head = pattern.sub(lambda m: m.group(1) + encoded + m.group(2), head, count=1)
    else:
        head = head + b' %s="%s"' % (name.encode(), encoded)
    return head + tail


def fold(code: str) -> str:
    """A format code in a comparable form: LibreOffice writes yyyy\\-mm\\-dd where openpyxl writes yyyy-mm-dd."""
    return code.replace("\\", "").replace('"', "").lower()


class Styles:
    """The cellXfs and numFmts of styles.xml; new formats are appended, existing indexes never move."""

    def __init__(self, xml: bytes) -> None:
        self.xml = xml
        xfs = _BLOCK[b"cellXfs"].search(xml)
        if xfs is None:
            raise NotSurgical("styles.xml has no cellXfs")
        self._xfs_span = xfs.span()
        self.xfs = [m.group(0) for m in _XF.finditer(xfs.group(0))]
        fmts = _BLOCK[b"numFmts"].search(xml)
        self._fmts_span = fmts.span() if fmts else None
        self.codes: dict[int, str] = {}
        for m in _NUMFMT.finditer(fmts.group(0) if fmts else b""):
            ident, code = _attr(m.group(0), "numFmtId"), _attr(m.group(0), "formatCode")
            if ident is not None and code is not None:
                self.codes[int(ident)] = code
        self._new_codes: dict[int, str] = {}
        fonts = _BLOCK[b"fonts"].search(xml)
        self._fonts_span = fonts.span() if fonts else None
        self.fonts = [m.group(0) for m in _FONT.finditer(fonts.group(0))] if fonts else []
        self._fonts_added = False
        self.dirty = False

    def _format_id(self, code: str) -> int:
        wanted = fold(code)
        if wanted in BUILTIN:
            return BUILTIN[wanted]
        for ident, existing in self.codes.items():
            if fold(existing) == wanted:
                return ident
        ident = max([FIRST_CUSTOM - 1, *self.codes]) + 1
        self.codes[ident] = self._new_codes[ident] = code
        self.dirty = True
        return ident

    def format_of(self, index: int | None) -> str:
        """The number format code of a cell style ("general" when it has none)."""
        if index is None or index >= len(self.xfs):
            return "general"
        ident = int(_attr(self.xfs[index], "numFmtId") or 0)
        return self.codes.get(ident) or next((c for c, i in BUILTIN.items() if i == ident), f"builtin {ident}")

    def _variant(self, base: int | None, changes: dict[str, str]) -> int:
        base = base if base is not None and base < len(self.xfs) else 0
        element = self.xfs[base]
        if all(_attr(element, name) == value for name, value in changes.items()):
            return base
        for name, value in changes.items():
            element = set_attr(element, name, value)
        if element in self.xfs:
            return self.xfs.index(element)
        self.xfs.append(element)
        self.dirty = True
        return len(self.xfs) - 1

    def with_format(self, base: int | None, code: str) -> int:
        """The style `base` with number format `code` (found or added)."""
        if base is not None and fold(self.format_of(base)) == fold(code):
            return base
        return self._variant(base, {"numFmtId": str(self._format_id(code)), "applyNumberFormat": "1"})

    def bold(self, base: int | None) -> int:
        """The style `base` with a bold font (the same font made bold, found or added)."""
        if self._fonts_span is None or not self.fonts:
            raise NotSurgical("styles.xml has no fonts")
        index = base if base is not None and base < len(self.xfs) else 0
        font_id = int(_attr(self.xfs[index], "fontId") or 0)
        font = self.fonts[font_id] if font_id < len(self.fonts) else self.fonts[0]
        if _BOLD.search(font):
            return self._variant(base, {"fontId": str(font_id), "applyFont": "1"})
        if font.endswith(b"/>"):
            made = font[:-2].rstrip() + b"><b/></font>"
        else:
            at = font.index(b">") + 1
            made = font[:at] + b"<b/>" + font[at:]
        if made in self.fonts:
            new_id = self.fonts.index(made)
        else:
            self.fonts.append(made)
            new_id = len(self.fonts) - 1
            self._fonts_added = self.dirty = True
        return self._variant(base, {"fontId": str(new_id), "applyFont": "1"})

    def quoted(self, base: int | None) -> int:
        """The style `base` with quotePrefix set: text typed over it later in Excel stays text."""
        return self._variant(base, {"quotePrefix": "1"})

    def render(self) -> bytes:
        """styles.xml with the added formats, fonts and cell styles."""
        xml = self.xml
        start, end = self._xfs_span
        xfs = b'<cellXfs count="%d">%s</cellXfs>' % (len(self.xfs), b"".join(self.xfs))
        xml = xml[:start] + xfs + xml[end:]
        if self._fonts_added and self._fonts_span is not None:
            # fonts come before cellXfs in styles.xml, so the cellXfs span above is unaffected by this one
            start, end = self._fonts_span
            fonts = b'<fonts count="%d">%s</fonts>' % (len(self.fonts), b"".join(self.fonts))
            xml = xml[:start] + fonts + xml[end:]
        if self._new_codes:
            entries = b"".join(b'<numFmt numFmtId="%d" formatCode="%s"/>' % (i, escape(c).encode())
                               for i, c in self._new_codes.items())
            if self._fmts_span is None:
                at = xml.index(b">", xml.index(b"<styleSheet")) + 1
                xml = xml[:at] + b'<numFmts count="%d">%s</numFmts>' % (len(self._new_codes), entries) + xml[at:]
            else:
                start, end = self._fmts_span
                block = xml[start:end]
                inner = block[block.index(b">") + 1:block.rindex(b"</numFmts>")] if not block.endswith(b"/>") else b""
                xml = xml[:start] + b'<numFmts count="%d">%s</numFmts>' % (len(self.codes), inner + entries) + xml[end:]
        return xml
