"""Change history: compare each opportunity with how the last cycle saw it, and say who changed what.

Every column people keep is tracked (minus configured exclusions), custom columns included. A sync
compares the sheet with the values it kept after the previous sync, so several edits of one cell
between two syncs show as one net change. Each History row carries its origin: a form (and which), the
sync itself, a handover, a reclaim, or a person's edit of the sheet. Anything that writes the sheet and
logs its own History rows outside a sync (the intake flush, a handover command) is not logged twice:
a change the History tab already records, from the value last seen to the value now, is skipped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from ..messages import say
from ..ports import Cell
from . import values as v
from .model import Opportunity
from .schema import OPPORTUNITIES, PEOPLE, column_for, normalize

NOT_TRACKED = frozenset({"id", "created", "last_contact"})
"""Columns never logged field by field: the ID names the row, Created and Last contact follow other tabs."""
TRACKED = tuple(c.key for c in OPPORTUNITIES.columns
                if (c.owner == PEOPLE or c.key in ("owner", "next_follow_up")) and c.key not in NOT_TRACKED)
"""Known Opportunities columns whose every change is logged (custom columns are tracked as well)."""
_SYSTEM_KEYS = frozenset(c.key for c in OPPORTUNITIES.columns if c.owner != PEOPLE)

CREATED = {"en": "Created", "zh": "新建"}
"""The Field text of the History row that records a new opportunity."""
BY_SHEET = {"en": "sheet edit", "zh": "表格编辑"}
"""Origin of a change a person typed into the sheet."""


def sync_origin(language: str = "en") -> str:
    """Return the origin text of a value the sync itself wrote (an ID, an owner from the rules, a proposal)."""
    return say("review.origin_sync", language)


def sheet_origin(language: str = "en") -> str:
    """Return the origin text of a change a person typed into the sheet."""
    return say("review.origin_sheet", language)


def form_origin(source: str, language: str = "en") -> str:
    """Return the origin text of a value a form submission brought in, naming the source."""
    return say("review.origin_form", language, source=source)


def handover_origin(previous_owner: str, language: str = "en") -> str:
    """Return the origin text of an owner change made because `previous_owner` left or handed over."""
    return say("review.origin_handover", language, name=previous_owner)


def reclaim_origin(language: str = "en") -> str:
    """Return the origin text of an owner change made because the deal went untouched too long (公海)."""
    return say("review.origin_reclaimed", language)


def change_row(now: datetime, opp_id: str, field: str, old: object, new: object, origin: str) -> list[Cell]:
    """Return one History row (time, ID, field, old, new, by) in the schema's column order."""
    return [now, opp_id, field, v.text(old), v.text(new), origin]


@dataclass(frozen=True)
class Entry:
    """One row of the History tab as read back."""

    time: datetime | None
    id: str
    field: str
    old: str
    new: str
    by: str

    @property
    def key(self) -> str:
        """The Opportunities column the row is about (its key, or the folded header of a custom column)."""
        column = column_for(OPPORTUNITIES, self.field)
        return column.key if column is not None else normalize(self.field)


def tracked_keys(opps: Iterable[Opportunity], exclude: Collection[str] = ()) -> list[str]:
    """Column keys to log: the known people columns plus custom ones, minus `exclude` (header names or keys)."""
    skip = set()
    for name in exclude:
        column = column_for(OPPORTUNITIES, name)
        skip.add(column.key if column is not None else normalize(name))
    keys = [k for k in TRACKED if k not in skip]
    known = set(c.key for c in OPPORTUNITIES.columns)
    custom = sorted({k for opp in opps for k in opp.cells if k not in known and k not in skip and k})
    return keys + custom


def fingerprint(opp: Opportunity) -> str:
    """Return a short digest of everything people typed in the row (custom columns included)."""
    parts = [f"{k}={opp.text(k)}" for k, val in sorted(opp.cells.items())
             if k not in _SYSTEM_KEYS and not v.is_blank(val)]
    return hashlib.sha1("\x1f".join(parts).encode("utf-8")).hexdigest()[:16]


def seen_values(opp: Opportunity, keys: Sequence[str] = TRACKED) -> dict[str, str]:
    """Return what the next cycle compares against: tracked columns as text plus the row fingerprint."""
    text = opp.text
    state = {key: text(key) for key in keys}
    state["_fp"] = fingerprint(opp)
    return state


def _already_logged(entries: Iterable[Entry]) -> dict[tuple[str, str], Entry]:
    """The newest History row per (ID, column key); later rows in the tab win over earlier ones."""
    newest: dict[tuple[str, str], Entry] = {}
    for entry in entries:
        if entry.id:
            newest[(entry.id, entry.key)] = entry
    return newest


def changes(seen: Mapping[str, Mapping[str, str]], opps: Sequence[Opportunity], now: datetime,
            written: Mapping[int, Mapping[str, str] | Collection[str]], labels: Mapping[str, str],
            language: str = "en", *, keys: Sequence[str] = TRACKED,
            logged: Iterable[Entry] = (), current: Mapping[int, Mapping[str, str]] | None = None) -> list[list[Cell]]:
    """Return History rows (time, ID, field, old, new, by) for every tracked value changed since last seen.

    `written` maps a sheet row to the columns this cycle wrote there, each with its origin text (a plain
    collection means "the sync"). Rows of IDs last seen but gone from the sheet are logged as deleted,
    with their last values. `logged` is the History tab as read: changes it already records are skipped.
    `current` may give each sheet row's seen_values(opp, keys), when the caller has them already.
    """
    newest = _already_logged(logged)
    rows: list[list[Cell]] = []
    present = set()
    for opp in opps:
        if not opp.id:
            continue
        present.add(opp.id)
        before = seen.get(opp.id)
        wrote = written.get(opp.row, ())
        if before is None:
            # Rows already in the workbook when sheetsync first meets them are adopted silently; rows a
            # person typed get their Created row once the sync gave them an ID.
            if "id" in wrote:
                rows.append(change_row(now, opp.id, CREATED.get(language, CREATED["en"]), "",
                                       opp.text("customer"), sheet_origin(language)))
            continue
        now_values = current[opp.row] if current is not None else seen_values(opp, keys)
        for key in keys:
            if key not in before:
                continue  # a column tracked since this cycle only: start from what it holds now
            old, new = before[key], now_values[key]
            if old == new:
                continue
            last = newest.get((opp.id, key))
            if last is not None and last.old == old and last.new == new:
                continue  # someone else already logged exactly this change (a form, a handover)
            origin = _origin(wrote, key, language)
            rows.append(change_row(now, opp.id, _label(key, labels, language), old, new, origin))
    for opp_id, before in seen.items():
        if opp_id not in present:
            rows.append(change_row(now, opp_id, say("review.deleted", language),
                                   last_values(before, labels, language), "", sheet_origin(language)))
    return rows


def _origin(wrote: Mapping[str, str] | Collection[str], key: str, language: str) -> str:
    if isinstance(wrote, Mapping) and key in wrote:
        return wrote[key] or sync_origin(language)
    return sync_origin(language) if key in wrote else sheet_origin(language)


def _label(key: str, labels: Mapping[str, str], language: str) -> str:
    if labels.get(key):
        return labels[key]
    if key in OPPORTUNITIES.by_key:
        return OPPORTUNITIES.column(key).name(language)
    return key


def last_values(before: Mapping[str, str], labels: Mapping[str, str], language: str) -> str:
    """Return a deleted row's last tracked values as 'Field: value' parts, in the language's list style."""
    parts = [f"{_label(k, labels, language)}: {val}" for k, val in before.items()
             if not k.startswith("_") and val]
    return say("review.join", language).join(parts)


def read_history(rows: Sequence[Sequence[object]], get) -> list[Entry]:
    """Parse the History tab's body rows; `get(row, key)` reads a column by key."""
    out = []
    for row in rows:
        when = get(row, "time")
        try:
            time = v.parse_datetime(when)
        except v.ValueProblem:
            time = None
        out.append(Entry(time, v.text(get(row, "id")), v.text(get(row, "field")), v.text(get(row, "old")),
                         v.text(get(row, "new")), v.text(get(row, "by"))))
    return out
