"""Turn form answers into sheet column values: clean text, match labels to columns, keep the rest."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sheetsync.core.clean import clean_text
from sheetsync.core.intake import FORM_COLUMNS
from sheetsync.core.schema import FOLLOWUPS, OPPORTUNITIES, Column, Tab, column_for, normalize

from . import defaults

_FROM_FORMS = {
    OPPORTUNITIES.key: FORM_COLUMNS,
    FOLLOWUPS.key: frozenset(c.key for c in FOLLOWUPS.columns if c.key != "ref"),
}
"""Columns a sender may fill; the others belong to people or to sheetsync."""
_EXTRA_COLUMN = {OPPORTUNITIES.key: "need", FOLLOWUPS.key: "summary"}
_ADDRESS_KEYS = ("province", "city", "district", "detail")


class MappingError(ValueError):
    """A form answer cannot be read; the message names the field and the fix."""


def clean(text: str, limit: int = defaults.MAX_FIELD_CHARS) -> tuple[str, bool]:
    """Return `text` through the one cleaning step (sheetsync.core.clean), cut to `limit`; flag a cut."""
    cleaned = clean_text(text, limit)
    return cleaned.text, cleaned.cut


def to_text(value: object, depth: int = 0) -> str:
    """Render one answer (scalar, list or small object) as the text a person would type, in linear time."""
    if depth > defaults.MAX_DEPTH:
        raise MappingError(f"An answer is nested more than {defaults.MAX_DEPTH} levels deep: send each answer as "
                           "text, a number or a short list.")
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):
        return ", ".join(t for t in (to_text(v, depth + 1) for v in value) if t)
    if isinstance(value, Mapping):
        if any(k in value for k in _ADDRESS_KEYS):
            return "".join(to_text(value.get(k), depth + 1) for k in _ADDRESS_KEYS)
        if "name" in value and not isinstance(value["name"], (Mapping, list)):
            return to_text(value["name"], depth + 1)
        parts = ((k, to_text(v, depth + 1)) for k, v in value.items())  # each value rendered once
        return "; ".join(f"{k}: {t}" for k, t in parts if t)
    return str(value)


@dataclass
class Mapped:
    """Column values for one submission and the warnings to send back."""

    fields: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def resolve_field_map(field_map: Mapping[str, str], tab: Tab) -> dict[str, Column]:
    """Return the configured label -> column mapping that applies to `tab`, by normalized label."""
    resolved = {}
    for label, target in field_map.items():
        column = column_for(tab, target)
        if column is not None:
            resolved[normalize(label)] = column
    return resolved


def check_field_map(field_map: Mapping[str, str]) -> list[str]:
    """Return one problem sentence per field_map entry whose target names no column."""
    problems = []
    for label, target in field_map.items():
        if column_for(OPPORTUNITIES, target) is None and column_for(FOLLOWUPS, target) is None:
            problems.append(f"[field_map] maps {label!r} to {target!r}, which is not a column of Opportunities "
                            "or Follow-ups: use a header such as Customer, Phone, Region or Need.")
    return problems


def _column(names: Sequence[str], explicit: Mapping[str, Column], tab: Tab) -> Column | None:
    """Return the column the first matching name points to: field_map entries first, then headers."""
    for name in names:
        if normalize(name) in explicit:
            return explicit[normalize(name)]
    for name in names:
        column = column_for(tab, name)
        if column is not None:
            return column
    return None


def map_answers(answers: Iterable[tuple[Any, ...]], tab: Tab = OPPORTUNITIES,
                field_map: Mapping[str, str] | None = None) -> Mapped:
    """Map (label, value[, other names]) answers to `tab` column keys; unmatched ones become 'Label: value' lines.

    Other names (a question's ref or key) are tried after the label, so a form can be mapped by either.
    """
    explicit = resolve_field_map(field_map or {}, tab)
    allowed = _FROM_FORMS[tab.key]
    out = Mapped()
    extra: list[str] = []
    unmatched: list[str] = []
    keep = tab.column(_EXTRA_COLUMN[tab.key]).en
    for label, value, *others in answers:
        label_text, _ = clean(to_text(label), defaults.MAX_LABEL_CHARS)
        raw = to_text(value)
        cleaned = clean_text(raw, defaults.MAX_FIELD_CHARS)
        text, cut = cleaned.text, cleaned.cut
        if cleaned.removed:
            out.warnings.append(f"Field {label_text!r} held {cleaned.removed} control or non-character code "
                                "point(s) a spreadsheet cannot store; they were removed.")
        if cut:
            out.warnings.append(f"Field {label_text!r} was longer than {defaults.MAX_FIELD_CHARS} characters "
                                "and was cut: shorten it or send the long part as a file link.")
        if not text:
            continue
        names = [label_text, *(str(o) for o in (others[0] if others else ()) if o)]
        column = _column(names, explicit, tab)
        if column is None:
            unmatched.append(label_text)
        elif column.key not in allowed:
            out.warnings.append(f"Field {label_text!r} names the column {column.en!r}, which a form may not set; "
                                f"the value was kept in {keep}.")
        elif column.key in out.fields:
            out.warnings.append(f"Field {label_text!r} names the column {column.en!r} a second time; "
                                f"the value was kept in {keep}.")
        else:
            out.fields[column.key] = text
            continue
        extra.append(f"{label_text}: {text}")
    if unmatched:
        labels = ", ".join(repr(label) for label in unmatched)
        noun, verb = ("Fields", "match") if len(unmatched) > 1 else ("Field", "matches")
        out.warnings.append(f"{noun} {labels} {verb} no column and went to {keep}: name a field like a column "
                            "header (e.g. Customer, Phone, Region) or map it under [field_map] in the config.")
    if extra:
        key = _EXTRA_COLUMN[tab.key]
        joined = "\n".join(([out.fields[key]] if key in out.fields else []) + extra)
        out.fields[key], cut = clean(joined, defaults.MAX_CELL_CHARS)
        if cut:
            out.warnings.append(f"{keep} was longer than {defaults.MAX_CELL_CHARS} characters and was cut.")
    return out
