"""Checks both stores run before they write: no value a spreadsheet cannot hold, no workbook that won't open.

Call `check_batch` before applying a WriteBatch (nothing is written when it refuses) and `check_xlsx` on a
freshly saved workbook before it replaces the old file. Both raise `UnsafeWrite`, a StoreError whose message
names the cell or the part and says what to do.
"""

from __future__ import annotations

import zipfile
from collections.abc import Collection, Iterator
from pathlib import Path
from xml.parsers import expat

from ..core.clean import unsafe_reason
from ..core.schema import column_letter
from ..ports import Cell, Snapshot, StoreError, WriteBatch


class UnsafeWrite(StoreError):
    """A value or a saved file would corrupt the spreadsheet; nothing was written."""



def _values(snapshot: Snapshot, batch: WriteBatch) -> Iterator[tuple[str, int, int, Cell]]:
    for w in batch.cells:
        yield w.tab, w.row, w.col, w.value
    for key, rows in batch.appends.items():
        start = len(snapshot.tabs[key].rows) + 1 if key in snapshot.tabs else 1
        for i, values in enumerate(rows):
            for col, value in enumerate(values):
                yield key, start + i, col, value
    for key, rows in batch.replace.items():
        for i, values in enumerate(rows):
            for col, value in enumerate(values):
                yield key, i + 2, col, value


def check_value(value: Cell, where: str) -> None:
    """Refuse one value a store is about to write at `where` (e.g. "Opportunities!C5")."""
    reason = unsafe_reason(value)
    if reason is not None:
        raise UnsafeWrite(f"sheetsync refused to write {where}: the value {reason}. Nothing was written. Remove "
                          "the character from the cell or the import it came from (form submissions are cleaned "
                          "automatically), then sync again.")


def check_batch(snapshot: Snapshot, batch: WriteBatch) -> None:
    """Refuse the whole batch when any value in it cannot be stored (row numbers of appends are approximate)."""
    for key, row, col, value in _values(snapshot, batch):
        if isinstance(value, (str, float)):
            tab = snapshot.tabs.get(key)
            check_value(value, f"{tab.title if tab else key}!{column_letter(col)}{row}")


def check_fragment(xml: bytes, part: str) -> None:
    """Refuse XML elements about to be spliced into a part (e.g. re-written rows) unless they are well-formed.

    Replacing whole elements of a well-formed part with well-formed elements keeps the part well-formed, so
    checking what was spliced in stands for parsing the whole part again.
    """
    parser = expat.ParserCreate()
    try:
        parser.Parse(b"<fragment>" + xml + b"</fragment>", True)
    except expat.ExpatError as exc:
        raise UnsafeWrite(f"sheetsync refused to write {part}: the new rows would not open ({exc}). The workbook "
                          "is unchanged; report this with the server log.") from None


def check_xlsx(path: str | Path, only: Collection[str] | None = None) -> None:
    """Refuse a saved .xlsx whose zip or XML parts are broken (the file Excel and openpyxl would reject).

    `only` names the parts to parse when the others were copied unchanged from a file that opened.
    """
    try:
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                if not info.filename.endswith((".xml", ".rels", ".vml")):
                    continue
                if only is not None and info.filename not in only:
                    continue
                parser = expat.ParserCreate()
                with zf.open(info) as part:
                    try:
                        parser.ParseFile(part)
                    except expat.ExpatError as exc:
                        raise UnsafeWrite(
                            f"sheetsync refused to replace {path}: the new copy would not open ({info.filename}: "
                            f"{exc}). The old file is unchanged; report this with the server log.") from None
    except (zipfile.BadZipFile, OSError) as exc:
        raise UnsafeWrite(f"sheetsync refused to replace {path}: the new copy is not a readable .xlsx ({exc}). "
                          "The old file is unchanged.") from None
