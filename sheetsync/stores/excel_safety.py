"""What the workbook store checks before it writes: a writable file and folder, an unchanged layout.

Kept apart from the write path itself so any way of writing the file (whole-file save or surgical edits)
runs the same checks, and nothing is written when one fails.
"""

from __future__ import annotations

import logging
import os
import stat
import time
from collections.abc import Sequence
from pathlib import Path

from ..core.schema import TABS_BY_KEY
from ..messages import say
from ..ports import Cell, Snapshot, StoreConflict, StoreError, WriteBatch

log = logging.getLogger(__name__)

TEMP_SUFFIX = ".xlsx.tmp"
"""Every temporary file a save makes is named `.<workbook stem>-<random>.xlsx.tmp` in the workbook's folder."""
STALE_TEMP_SECONDS = 60
"""A temporary file older than this is left over from a killed save (a save takes seconds), never one in use."""


def temp_prefix(path: Path) -> str:
    """Return the name prefix of the workbook's temporary save files."""
    return f".{path.stem}-"


def remove_stale_temp_files(path: Path, now: float | None = None) -> list[Path]:
    """Delete temporary files a killed save left next to the workbook; return what was removed."""
    now = time.time() if now is None else now
    removed: list[Path] = []
    try:
        candidates = list(path.parent.glob(temp_prefix(path) + "*" + TEMP_SUFFIX))
    except OSError:
        return removed
    for tmp in candidates:
        try:
            if now - tmp.stat().st_mtime < STALE_TEMP_SECONDS:
                continue
            tmp.unlink()
        except OSError:
            continue
        removed.append(tmp)
    if removed:
        log.info("removed %s temporary file(s) left by an interrupted save: %s", len(removed),
                 ", ".join(p.name for p in removed))
    return removed


def _read_only(target: Path) -> bool:
    """Tell whether `target` refuses writes: its permissions say so, even to an administrator."""
    try:
        mode = target.stat().st_mode
    except FileNotFoundError:
        return False
    return not (mode & stat.S_IWUSR) or not os.access(target, os.W_OK)


def check_writable(path: Path) -> None:
    """Raise StoreError (one sentence with the fix) when the workbook or its folder is read-only."""
    if _read_only(path):
        raise StoreError(say("nothinglost.read_only_file", path=path))
    folder = path.parent if str(path.parent) else Path(".")
    if _read_only(folder):
        raise StoreError(say("nothinglost.read_only_folder", path=path, folder=folder))


def _trimmed(row: Sequence[Cell]) -> list[Cell]:
    out = list(row)
    while out and out[-1] in (None, ""):
        out.pop()
    return out


def _same(current: Cell, expected: Cell) -> bool:
    return current == expected or (current in (None, "") and expected in (None, ""))


def touched_tabs(batch: WriteBatch) -> set[str]:
    """Return every tab key a batch writes to or guards."""
    return ({c.tab for c in batch.cells} | {g.tab for g in batch.guards} | set(batch.appends) | set(batch.replace)
            | {c.tab for c in batch.charts} | {key for key, _, _ in batch.formats})


def check_layout(fresh: Snapshot, snapshot: Snapshot, batch: WriteBatch) -> None:
    """Raise StoreConflict when a tab the batch touches was renamed, or its header row changed, since the read.

    `fresh` is the file as it is now, `snapshot` what the batch was planned from.
    """
    for key in sorted(touched_tabs(batch)):
        data = snapshot.tabs.get(key)
        if data is None:
            continue
        now = fresh.tabs.get(key)
        if now is None or now.title != data.title:
            raise StoreConflict(f"Tab '{data.title}' was renamed or deleted since sheetsync read it.")
        if TABS_BY_KEY[key].headerless:
            continue
        if _trimmed(now.rows[0] if now.rows else []) != _trimmed(data.rows[0] if data.rows else []):
            raise StoreConflict(f"The header row of '{data.title}' changed since sheetsync read it.")


def check_rows(fresh: Snapshot, snapshot: Snapshot, batch: WriteBatch) -> None:
    """Raise StoreConflict when a row the batch writes cells into no longer holds exactly what was read.

    Its other cells (a Stage changed, a Phone fixed) feed what the cycle computed for that row, so the row
    is planned again rather than given values worked out from what it used to hold.
    """
    rows: dict[str, set[int]] = {}
    for cell in batch.cells:
        rows.setdefault(cell.tab, set()).add(cell.row)
    for key, numbers in sorted(rows.items()):
        before, now = snapshot.tabs.get(key), fresh.tabs.get(key)
        if before is None or now is None:
            continue
        for row in sorted(numbers):
            was = _trimmed(before.rows[row - 1]) if row - 1 < len(before.rows) else []
            is_ = _trimmed(now.rows[row - 1]) if row - 1 < len(now.rows) else []
            if was != is_:
                raise StoreConflict(f"'{before.title}' row {row} was edited since sheetsync read it.")
