"""The workbook as the core sees it: every tab found by name, headers mapped, rows parsed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ..ports import Cell, Snapshot, TabData
from .history import Entry, read_history
from .model import (
    FollowUp,
    Opportunity,
    Pipeline,
    Rep,
    Rule,
    body_rows,
    read_followups,
    read_opportunities,
    read_pipeline,
    read_rules,
    read_team,
)
from .schema import (
    CUSTOMERS,
    FOLLOWUPS,
    HISTORY,
    OPPORTUNITIES,
    PEOPLE,
    REMINDERS,
    RULES,
    STAGES,
    SUMMARY,
    TABS_BY_KEY,
    TEAM,
    TRENDS,
    HeaderMap,
    LayoutError,
    Tab,
    map_headers,
    normalize,
)

SYNC_TABS = ("opportunities", "followups", "team", "rules", "stages", "reminders", "summary", "history", "trends",
             "customers")
"""Tabs a sync cycle reads (Trends only when the workbook has it)."""
OPTIONAL_TABS = frozenset({"trends", "customers"})
"""Tabs a cycle works without: a workbook made before they existed gets them from `sheetsync init`."""
OPTIONAL_COLUMNS = frozenset({"days_in_stage"})
"""System columns written only where the workbook has them (`sheetsync init` adds them)."""
INTAKE_TABS = ("opportunities", "followups", "team", "rules", "stages", "history")
"""Tabs an intake flush reads: enough to de-duplicate, assign and log."""

OPPORTUNITY_COLUMNS_NEEDED = tuple(c.key for c in OPPORTUNITIES.columns
                                   if (c.owner != PEOPLE or c.required) and c.key not in OPTIONAL_COLUMNS) + (
    "stage",)
"""Opportunities columns a cycle cannot run without: everything it writes, plus who and what stage."""


def missing_tab(tab: Tab) -> LayoutError:
    return LayoutError(f"The tab '{tab.en}' ({tab.zh}) is missing: run `sheetsync init` to add it "
                       "(it keeps everything already in the workbook).")


@dataclass
class Workbook:
    """Parsed tabs of one snapshot, plus the header maps needed to write back."""

    language: str
    maps: dict[str, HeaderMap]
    opportunities: list[Opportunity]
    followups: list[FollowUp]
    team: list[Rep]
    rules: list[Rule]
    pipeline: Pipeline
    history: list[Entry] = field(default_factory=list)
    """The History tab as read (a sync reads it; the intake flush does not parse it)."""
    trends: TabData | None = None
    """The Trends tab as read, None when the workbook has none."""
    customers: TabData | None = None
    """The Customers tab as read, None when the workbook has none (`sheetsync init` adds it)."""

    def labels(self) -> dict[str, str]:
        """Opportunities column keys (custom columns by folded header) mapped to the header text people see."""
        hm = self.maps["opportunities"]
        out = {normalize(h): h for h in hm.headers if h}
        out.update({key: hm.headers[i] for key, i in hm.index.items()})
        return out

    def has(self, tab: str, key: str) -> bool:
        """Tell whether the tab is in the snapshot and has this column."""
        return tab in self.maps and key in self.maps[tab].index

    def row_of(self, tab: str, values: dict[str, Cell]) -> list[Cell]:
        """A full row for `tab` in its header order from values keyed by column key."""
        hm = self.maps[tab]
        row: list[Cell] = [None] * len(hm.headers)
        for key, value in values.items():
            if key in hm.index:
                row[hm.index[key]] = value
        return row

    def rows_of(self, tab: str, rows: Sequence[Sequence[Cell]]) -> list[list[Cell]]:
        """Rows given in the schema's column order, rearranged into the tab's own header order."""
        keys = [c.key for c in TABS_BY_KEY[tab].columns]
        hm = self.maps[tab]
        moves = [(hm.index[key], at) for at, key in enumerate(keys) if key in hm.index]
        out = []
        for row in rows:
            if len(row) != len(keys):
                raise ValueError(f"{tab}: {len(row)} values for {len(keys)} columns")
            cells: list[Cell] = [None] * len(hm.headers)
            for to, at in moves:
                cells[to] = row[at]
            out.append(cells)
        return out

    def col(self, tab: str, key: str) -> int:
        return self.maps[tab].index[key]


def _map(snapshot: Snapshot, tab: Tab, required: Sequence[str] | None = None) -> tuple[HeaderMap, TabData]:
    data = snapshot.tabs.get(tab.key)
    if data is None:
        raise missing_tab(tab)
    headers = data.rows[0] if data.rows else []
    return map_headers(tab, data.title, headers, required), data


def detect_language(snapshot: Snapshot, default: str) -> str:
    """'zh' when the Opportunities tab carries its Chinese name, else the configured language."""
    data = snapshot.tabs.get("opportunities")
    if data is not None and normalize(data.title) == normalize(OPPORTUNITIES.zh):
        return "zh"
    if data is not None and normalize(data.title) == normalize(OPPORTUNITIES.en):
        return "en"
    return default


def read_workbook(snapshot: Snapshot, language: str, tabs: Sequence[str] = SYNC_TABS) -> Workbook:
    """Map every tab's headers and parse the rows; raise LayoutError before anything is written."""
    maps: dict[str, HeaderMap] = {}
    data: dict[str, TabData] = {}
    wanted = {"opportunities": (OPPORTUNITIES, OPPORTUNITY_COLUMNS_NEEDED), "followups": (FOLLOWUPS, None),
              "team": (TEAM, None), "rules": (RULES, None), "stages": (STAGES, None),
              "reminders": (REMINDERS, [c.key for c in REMINDERS.columns]),
              "history": (HISTORY, [c.key for c in HISTORY.columns]), "trends": (TRENDS, []),
              "customers": (CUSTOMERS, ["id"])}
    for key in tabs:
        if key == "summary":
            if key not in snapshot.tabs:
                raise missing_tab(SUMMARY)
            continue
        if key in OPTIONAL_TABS and key not in snapshot.tabs:
            continue
        tab, required = wanted[key]
        maps[key], data[key] = _map(snapshot, tab, required)
    opp_map = maps["opportunities"]
    custom = {normalize(h): normalize(h) for i, h in enumerate(opp_map.headers) if i not in opp_map.index.values()}
    pipeline = read_pipeline(maps["stages"], data["stages"].rows, tuple(custom))
    return Workbook(
        language=language,
        maps=maps,
        opportunities=read_opportunities(opp_map, data["opportunities"].rows),
        followups=read_followups(maps["followups"], data["followups"].rows),
        team=read_team(maps["team"], data["team"].rows),
        rules=read_rules(maps["rules"], data["rules"].rows, custom),
        pipeline=pipeline,
        # A sync (which rebuilds Summary) reviews History; an intake flush only appends to it.
        history=(read_history([r for _, r in body_rows(data["history"].rows)], maps["history"].get)
                 if "history" in data and "summary" in tabs else []),
        trends=data.get("trends"),
        customers=data.get("customers"),
    )
