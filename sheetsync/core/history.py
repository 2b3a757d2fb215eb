"""Change history: compare each opportunity with how the last cycle saw it."""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime

from . import values as v
from .model import Opportunity
from .schema import OPPORTUNITIES, PEOPLE

TRACKED = ("customer", "contact", "phone", "email", "owner", "stage", "amount", "expected_close",
           "next_follow_up", "loss_reason", "approval")
"""Columns whose every change is logged in History."""

BY_SHEET = {"en": "sheet edit", "zh": "表格编辑"}
BY_SYSTEM = "sheetsync"
CREATED = {"en": "Created", "zh": "新建"}


def fingerprint(opp: Opportunity) -> str:
    """A short digest of everything people typed in the row (custom columns included)."""
    system = {c.key for c in OPPORTUNITIES.columns if c.owner != PEOPLE}
    parts = [f"{k}={v.text(val)}" for k, val in sorted(opp.cells.items()) if k not in system and not v.is_blank(val)]
    return hashlib.sha1("\x1f".join(parts).encode("utf-8")).hexdigest()[:16]


def seen_values(opp: Opportunity) -> dict[str, str]:
    """What the next cycle compares against: tracked columns as text plus the row fingerprint."""
    state = {key: opp.text(key) for key in TRACKED}
    state["_fp"] = fingerprint(opp)
    return state


def changes(seen: Mapping[str, Mapping[str, str]], opps: Sequence[Opportunity], now: datetime,
            written: Mapping[int, Collection[str]], labels: Mapping[str, str],
            language: str = "en") -> list[list[object]]:
    """History rows (time, ID, field, old, new, by) for every tracked value that changed since last seen."""
    rows: list[list[object]] = []
    for opp in opps:
        if not opp.id:
            continue
        before = seen.get(opp.id)
        if before is None:
            # Rows already in the workbook when sheetsync first meets them are adopted silently.
            if "id" in written.get(opp.row, ()):
                rows.append([now, opp.id, CREATED[language], "", opp.text("customer"), BY_SYSTEM])
            continue
        for key in TRACKED:
            old, new = before.get(key, ""), opp.text(key)
            if old != new:
                who = BY_SYSTEM if key in written.get(opp.row, ()) else BY_SHEET[language]
                label = labels.get(key) or OPPORTUNITIES.column(key).name(language)
                rows.append([now, opp.id, label, old, new, who])
    return rows
