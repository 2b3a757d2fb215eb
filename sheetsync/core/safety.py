"""Advice that is safe to follow: never "fix" a layout with a blank column the next sync treats as data.

Pure functions: which columns `init` must not add to a tab that already has rows, what to say about a
missing column (naming the header it was probably renamed to), and whether a sync is about to hand out
owners again to many deals that had one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..messages import say
from .schema import OPPORTUNITIES, SYSTEM, Column, LayoutError, Tab, column_for, normalize

EMPTINESS_MATTERS: dict[str, frozenset[str]] = {
    "opportunities": frozenset({"id", "owner", "stage", "last_contact", "next_follow_up"}),
}
"""Columns whose blank cells change what the next sync does (new IDs, owners assigned, first stage, proposals)."""


def language_of(tab: Tab, title: str) -> str:
    """Guess the workbook's language from the tab's title (its Chinese name means zh)."""
    return "zh" if normalize(title) == normalize(tab.zh) else "en"


def held_back(tab: Tab, has_rows: bool) -> frozenset[str]:
    """Return the column keys `init` must not add to this tab, because blank cells in them would be acted on."""
    return EMPTINESS_MATTERS.get(tab.key, frozenset()) if has_rows else frozenset()


def not_added(tab: Tab, title: str, column: Column, headers: Sequence[object]) -> str:
    """Say why `init` left a column out, and how to bring the real one back."""
    language = language_of(tab, title)
    renamed = unknown_headers(tab, headers)
    guess = say("nothinglost.renamed_guess", language, header=renamed[0]) if len(renamed) == 1 else ""
    return say(f"nothinglost.not_added.{column.key}", language, column=column.name(language), title=title,
               en=column.en, zh=column.zh) + guess


def unknown_headers(tab: Tab, headers: Sequence[object]) -> list[str]:
    """Return the headers of a tab that name no column sheetsync knows (where a renamed column would be)."""
    return [str(h).strip() for h in headers if str(h or "").strip() and column_for(tab, h) is None]


def missing_column(tab: Tab, title: str, column: Column, headers: Sequence[object]) -> str:
    """Explain a missing column: rename back (naming the likely header), restore, or let `init` add a system one."""
    language = language_of(tab, title)
    fields = {"column": column.name(language), "en": column.en, "zh": column.zh, "title": title}
    if column.owner == SYSTEM:
        return say("nothinglost.missing_system", language, **fields)
    renamed = unknown_headers(tab, headers)
    if len(renamed) == 1:
        return say("nothinglost.missing_renamed", language, header=renamed[0], **fields)
    if renamed:
        listed = ("、" if language == "zh" else ", ").join(f"'{h}'" for h in renamed)
        return say("nothinglost.missing_renamed_one_of", language, headers=listed, **fields)
    return say("nothinglost.missing_deleted", language, **fields)


class ReassignRefused(LayoutError):
    """A sync would give owners again to too many deals that had one; the message says what to check."""


def check_reassignment(assigned: Sequence[str], seen: Mapping[str, Mapping[str, Any]], share: float | None,
                       language: str = "en") -> None:
    """Raise ReassignRefused when `assigned` (IDs about to get an owner) holds too many that had one last sync.

    "Too many" is more than `share` of the deals that had an owner at the last sync (at least one is always
    allowed, so a person clearing one Owner to have it reassigned is fine). `share` None or 1 allows any.
    """
    if share is None or share >= 1:
        return
    had = [ident for ident, before in seen.items() if str(before.get("owner") or "").strip()]
    again = [ident for ident in assigned if ident and str(seen.get(ident, {}).get("owner") or "").strip()]
    allowed = max(1, int(share * len(had)))
    if len(again) <= allowed:
        return
    shown = ", ".join(again[:5]) + (" …" if len(again) > 5 else "")
    owner = OPPORTUNITIES.column("owner")
    raise ReassignRefused(say("nothinglost.reassign_refused", language, count=len(again), had=len(had),
                              ids=shown, column=owner.name(language), share=f"{share:g}"))
