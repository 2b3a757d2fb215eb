"""Workbook templates: the tabs, headers and example rows `sheetsync init` lays out."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from .core.schema import TABS, Column, Tab

_RELATIVE_DAY = re.compile(r"^\{today([+-]\d+)?\}$")


@dataclass(frozen=True)
class TabLayout:
    """One tab as a template lays it out: title, columns in order and example rows for a new tab."""

    tab: Tab
    title: str
    columns: tuple[Column, ...]
    headers: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    adopted: bool = False
    """A tab of the person's own adopted by `init --tab`: every missing column is added, even to a tab
    with rows (it never had an ID, Owner or Stage column, so none was renamed or deleted)."""


@dataclass(frozen=True)
class Layout:
    """A whole workbook template in one language."""

    language: str
    timezone: str
    currency_format: str
    tabs: tuple[TabLayout, ...]

    def tab(self, key: str) -> TabLayout:
        return next(t for t in self.tabs if t.tab.key == key)


def template_file(name: str) -> Any:
    """A file from templates/: the source checkout's folder, else the copy installed as package data."""
    checkout = Path(__file__).resolve().parent.parent / "templates"
    if (checkout / name).is_file():
        return checkout / name
    return resources.files("sheetsync.templates").joinpath(name)


def read_template(language: str) -> dict[str, Any]:
    """The raw template data for 'en' or 'zh'."""
    return json.loads(template_file(f"{language}.json").read_text("utf-8"))


def _resolve(value: Any, today: date) -> Any:
    if isinstance(value, str):
        m = _RELATIVE_DAY.match(value)
        if m:
            return today + timedelta(days=int(m.group(1) or 0))
    return None if value == "" else value


SETTINGS_TABS = ("stages",)
"""Tabs whose template rows are settings, not examples: `init --no-examples` keeps them."""


def _is_default_rule(example: dict[str, Any]) -> bool:
    return str(example.get("field", "")).strip().lower() in ("default", "默认", "其他")


def load_layout(language: str, today: date, *, examples: bool = True,
                titles: dict[str, str] | None = None) -> Layout:
    """The template for `language` ('en' or 'zh') with example dates placed around `today`.

    Without `examples`, new tabs get no example deals, follow-ups or reps, and Rules only its catch-all rule.
    `titles` gives a tab another title (e.g. {"opportunities": "商机列表"} for `init --tab`).
    """
    raw = read_template(language)
    tabs = []
    for tab in TABS:
        found = raw["rows"].get(tab.key, [])
        if not examples and tab.key not in SETTINGS_TABS:
            found = [e for e in found if tab.key == "rules" and _is_default_rule(e)]
        rows = tuple(tuple(_resolve(example.get(c.key, ""), today) for c in tab.columns) for example in found)
        own = (titles or {}).get(tab.key)
        tabs.append(TabLayout(tab, own or tab.title(language), tab.columns,
                              tuple(c.name(language) for c in tab.columns), rows, adopted=bool(own)))
    return Layout(raw["language"], raw["timezone"], raw["currency_format"], tuple(tabs))
