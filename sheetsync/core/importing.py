"""Plan an import of rows from a CSV or XLSX file: validate, de-duplicate, assign, and write once.

Pure: the rows come already mapped to column keys (see sheetsync.importer). A row is rejected when it
cannot become a lead (no customer, or neither phone nor email). A row for a customer the sheet (or an
earlier row of the same file) already has, by the same rules as 撞单 (phone, email, company name), is
merged: the existing deal's blank cells are filled from the file and nothing people typed is changed.
Everything else becomes a new row with an ID, an owner by the Rules tab (unless the file names one),
a Status and a History line naming the file.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..messages import say
from ..ports import Cell, CellWrite, Guard, Snapshot, WriteBatch
from . import values as v
from .duplicates import DuplicateIndex, Match
from .intake import IntakePlan, _land_new
from .model import Opportunity
from .policy import Policy
from .schema import OPPORTUNITIES, PEOPLE
from .workbook import INTAKE_TABS, read_workbook

IMPORT_COLUMNS = frozenset(c.key for c in OPPORTUNITIES.columns if c.owner == PEOPLE) | {"owner", "created"}
"""Opportunities columns a file may set: what people own, plus Owner and Created kept from a CRM export."""
MERGE_FILLS = frozenset(IMPORT_COLUMNS - {"owner", "created", "stage"})
"""Blank cells of an existing deal a merged row may fill (never its owner or stage)."""


@dataclass(frozen=True)
class ImportRow:
    """One data row of the file: its line number (for the report) and its values by column key."""

    line: int
    fields: Mapping[str, Cell]


@dataclass(frozen=True)
class Merged:
    """A file row that repeats a deal already there: which one, by what signal, and the cells it filled."""

    line: int
    customer: str
    into: str
    signal: str
    filled: tuple[str, ...]


@dataclass
class ImportPlan:
    """The write for one batch of rows, and what became of each row."""

    batch: WriteBatch
    cursors: dict[str, Any]
    imported: list[tuple[int, str, str, str]] = field(default_factory=list)
    """(line, new ID, customer, owner)."""
    merged: list[Merged] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)
    """(line, reason in plain words)."""
    flagged: list[tuple[int, str, str]] = field(default_factory=list)
    """(line, new ID, the Status note) for rows imported beside a similar earlier deal."""


def reject_reason(fields: Mapping[str, Cell], language: str) -> str | None:
    """Why a row cannot be imported, or None: it needs a customer and a phone or an email."""
    if v.is_blank(fields.get("customer")):
        return say("page.import.no_customer", language)
    if v.is_blank(fields.get("phone")) and v.is_blank(fields.get("email")):
        return say("page.import.no_contact_way", language)
    return None


def plan_import(snapshot: Snapshot, rows: Sequence[ImportRow], *, language: str, now: datetime,
                cursors: Mapping[str, Any], new_id: Callable[[Collection[str]], str], source: str,
                policy: Policy | None = None) -> ImportPlan:
    """Plan one write importing `rows`; `now` is the team's local wall time (naive)."""
    policy = policy or Policy()
    wb = read_workbook(snapshot, language, INTAKE_TABS)
    plan = ImportPlan(WriteBatch(), dict(cursors))
    index = DuplicateIndex(wb.opportunities, wb.pipeline, now.date(), region=policy.phone_region,
                           protect_days=policy.duplicate_protection_days)
    taken = {o.id for o in wb.opportunities if o.id}
    new_rows: list[Opportunity] = []
    lines: dict[int, int] = {}
    duplicates: dict[str, Match] = {}
    fills: dict[int, dict[str, Cell]] = {}
    for item in rows:
        if v.is_blank(item.fields.get("customer")):
            plan.rejected.append((item.line, say("page.import.no_customer", language)))
            continue
        cells: dict[str, Cell] = {k: val for k, val in item.fields.items()
                                    if k in IMPORT_COLUMNS and not v.is_blank(val)}
        ident = new_id(taken)
        cells.update(id=ident, updated=now)
        cells.setdefault("created", now)
        if v.is_blank(cells.get("stage")):
            cells["stage"] = wb.pipeline.first.name
        opp = Opportunity(-len(new_rows) - 1, cells)
        match = index.find(opp)
        if match is not None and match.strong:
            plan.merged.append(_merge(opp, match, item.line, fills.setdefault(id(match.original), {})))
            continue
        reason = reject_reason(item.fields, language)
        if reason is not None:
            plan.rejected.append((item.line, reason))
            continue
        taken.add(ident)
        index.add(opp)
        if match is not None:
            duplicates[ident] = match
        new_rows.append(opp)
        lines[opp.row] = item.line
    _fill_blanks(wb, plan, fills)
    intake = IntakePlan(plan.batch, plan.cursors)
    _land_new(wb, intake, new_rows, now, cursors, {o.id: source for o in new_rows}, duplicates)
    plan.cursors = intake.cursors
    for opp in new_rows:
        plan.imported.append((lines[opp.row], opp.id, opp.text("customer"), opp.owner))
        if opp.id in duplicates:
            plan.flagged.append((lines[opp.row], opp.id, opp.text("status")))
    return plan


def _merge(opp: Opportunity, match: Match, line: int, wanted: dict[str, Cell]) -> Merged:
    """Note the blank cells of the earlier deal this row can fill (first file row wins per cell)."""
    original = match.original
    filled = []
    for key, val in opp.cells.items():
        if key in MERGE_FILLS and original.blank(key) and key not in wanted:
            wanted[key] = val
            filled.append(key)
    if original.row < 0:  # an earlier row of this file: fill it directly
        for key in filled:
            original.cells[key] = wanted[key]
    return Merged(line, opp.text("customer"), original.id, match.signal, tuple(filled))


def _fill_blanks(wb: Any, plan: ImportPlan, fills: Mapping[int, Mapping[str, Cell]]) -> None:
    """Write the blank cells merged rows fill on deals already in the sheet, each guarded as still blank."""
    by_identity = {id(o): o for o in wb.opportunities}
    index = wb.maps["opportunities"].index
    for key, values in fills.items():
        opp = by_identity.get(key)
        if opp is None:
            continue
        columns = [k for k in values if k in index]
        if not columns:
            continue
        plan.batch.guards.append(Guard("opportunities", opp.row, index["id"], opp.cells.get("id")))
        for column in columns:
            plan.batch.guards.append(Guard("opportunities", opp.row, index[column], opp.cells.get(column)))
            plan.batch.cells.append(CellWrite("opportunities", opp.row, index[column], values[column]))
