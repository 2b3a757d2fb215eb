"""The one cleaning step for text from outside (forms, imports): nothing a spreadsheet file cannot hold.

XML 1.0 (inside every .xlsx) cannot hold C0 control characters other than tab, newline and carriage return,
lone UTF-16 surrogates, or U+FFFE/U+FFFF; a workbook saved with one of them no longer opens. Google Sheets
holds at most 50,000 characters per cell. `clean_text` removes those characters (and the other Unicode
noncharacters and C1 controls, which no person types) and caps the length; everything else — Chinese,
emoji, right-to-left text — is kept exactly as sent. `unsafe_reason` is the check stores run on every value
they are about to write, whatever its origin, so a save can never produce a file that does not open.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

MAX_CELL_CHARS = 50_000
"""Longest text one cell may hold (Google Sheets' limit; Excel's is 32,767 for display, more stored)."""

_NONCHARACTERS = "\ufdd0-\ufdef\ufffe\uffff" + "".join(
    f"{chr(plane * 0x10000 + 0xFFFE)}{chr(plane * 0x10000 + 0xFFFF)}" for plane in range(1, 17))
_UNSAFE = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff{_NONCHARACTERS}]")
"""Characters a store refuses: not allowed in XML 1.0, or Unicode noncharacters."""
_STRIPPED = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff{_NONCHARACTERS}]")
"""Characters the cleaning step removes: the unsafe ones plus DEL and the C1 controls (CR is unified first)."""


@dataclass(frozen=True)
class Cleaned:
    """Text after cleaning, with how many characters were removed and whether it was cut to the limit."""

    text: str
    removed: int = 0
    cut: bool = False


def clean_text(text: str, limit: int = MAX_CELL_CHARS) -> Cleaned:
    """Unify line ends, remove characters no spreadsheet can hold, trim surrounding space and cap the length."""
    unified = text.replace("\r\n", "\n").replace("\r", "\n")
    stripped = _STRIPPED.sub("", unified)
    removed = len(unified) - len(stripped)
    stripped = stripped.strip()
    limit = min(limit, MAX_CELL_CHARS)
    if len(stripped) > limit:
        return Cleaned(stripped[:limit], removed, True)
    return Cleaned(stripped, removed, False)


def describe_char(char: str) -> str:
    """Name a character the way Unicode charts do: U+FFFF."""
    return f"U+{ord(char):04X}"


def unsafe_reason(value: object) -> str | None:
    """Return why a store must not write `value` (a sentence fragment), or None when it is safe."""
    if isinstance(value, float) and not math.isfinite(value):
        return f"is {value}, not a number a spreadsheet can hold"
    if not isinstance(value, str):
        return None
    if len(value) > MAX_CELL_CHARS:
        return f"is {len(value):,} characters long; a cell holds at most {MAX_CELL_CHARS:,}"
    match = _UNSAFE.search(value)
    if match:
        return (f"holds the character {describe_char(match.group())} at position {match.start() + 1}, which "
                "spreadsheet files cannot store")
    return None
