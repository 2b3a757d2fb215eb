"""Choose owners for new opportunities by the Rules tab: match a rule, find eligible reps, rotate or balance.

Round-robin is stride scheduling. Each rule keeps a clock and, per rep, the time of that rep's next turn;
the eligible rep with the earliest turn wins and moves 1/weight later, so weight 2 gets twice the share.
The clock is the time of the latest turn taken. A rep whose turn lies behind it (new, back from leave,
freed capacity) rejoins level with the earliest turn of the others, so they never get catch-up leads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from . import values as v
from .model import ROUND_ROBIN, Opportunity, Pipeline, Rep, Rule, sells
from .schema import normalize

EVERYONE = frozenset(normalize(w) for w in ("All", "Everyone", "*", "全部", "所有人"))
"""Assign-to words that mean the whole team."""

MAX_DETAILS = 6
"""How many reps a reason names before it says 'and N more'."""

_PLACES = 6
"""Decimal places at which two turns or loads count as a tie, so float drift never decides."""

_TEXT = {
    "en": {
        "no_rule": "No rule in the Rules tab matches this row: add a default rule (Field 'Default', "
                   "Assign to 'All')",
        "unknown": "Rule '{rule}' assigns to {names}, but no rep in the Team tab has that name, region, "
                   "industry or level: fix the spelling in the Rules tab",
        "nobody": "No rep available for rule '{rule}': everyone is on leave, inactive, at capacity or at "
                  "weight 0 ({details})",
        "empty": "Rule '{rule}' has nobody to assign to: add reps to the Team tab",
        "inactive": "{name} is inactive",
        "leave": "{name} is on leave until {until}",
        "full": "{name} is at capacity (limit {capacity})",
        "weight": "{name} has weight 0",
        "more": "and {count} more",
        "quote": "'{}'", "list": ", ", "parts": ". ", "end": ".",
    },
    "zh": {
        "no_rule": "分配规则里没有与这一行匹配的规则：请添加一条默认规则（字段填“默认”，分配给填“全部”）",
        "unknown": "规则“{rule}”的分配对象{names}既不是团队表中的姓名，也不是任何人的区域、行业或客户等级："
                   "请在分配规则表中改正",
        "nobody": "规则“{rule}”没有可分配的销售：所有人都在休假、未在岗、已达在手上限或权重为 0（{details}）",
        "empty": "规则“{rule}”没有可分配的人：请在团队表中添加销售",
        "inactive": "{name}未在岗",
        "leave": "{name}休假至 {until}",
        "full": "{name}已达在手上限（{capacity}）",
        "weight": "{name}权重为 0",
        "more": "等另外 {count} 人",
        "quote": "“{}”", "list": "，", "parts": "；", "end": "。",
    },
}


@dataclass(frozen=True)
class Assignment:
    """An owner chosen for one opportunity row, and the rule that chose them."""

    row: int
    owner: str
    rule: str


@dataclass(frozen=True)
class Unassigned:
    """An opportunity row no rule could give an owner, and why in words the manager can act on."""

    row: int
    reason: str


def rule_key(rule: Rule) -> str:
    """Identify a rule by what it does (field, values, targets), so moving its row keeps its rotation."""
    values = ",".join(sorted({normalize(x) for x in rule.values}))
    targets = ",".join(sorted({normalize(x) for x in rule.assign_to}))
    return f"{rule.field or '*'}={values}->{targets}"


def matches(rule: Rule, opportunity: Opportunity) -> bool:
    """Tell whether a rule applies to an opportunity; a default rule applies to every row."""
    if rule.field is None:
        return True
    wanted = {normalize(x) for x in rule.values}
    return normalize(v.text(opportunity.cells.get(rule.field))) in wanted


def resolve_targets(assign_to: Sequence[str], team: Sequence[Rep]) -> tuple[list[Rep], list[str]]:
    """Turn Assign-to items into reps in team order, plus the items that name nobody."""
    by_name: dict[str, int] = {}
    for i, rep in enumerate(team):
        by_name.setdefault(normalize(rep.name), i)
    chosen: set[int] = set()
    unknown: list[str] = []
    for target in assign_to:
        folded = normalize(target)
        if folded in by_name:
            chosen.add(by_name[folded])
        elif folded in EVERYONE:
            chosen.update(i for i, rep in enumerate(team) if sells(rep))  # service and managers take no leads
        else:
            pool = {i for i, rep in enumerate(team)
                    if folded in {normalize(x) for x in (*rep.regions, *rep.industries, *rep.levels)}}
            if pool:
                chosen.update(pool)
            else:
                unknown.append(target)
    return [team[i] for i in sorted(chosen)], unknown


def open_load(opportunities: Sequence[Opportunity], pipeline: Pipeline) -> dict[str, int]:
    """Count open opportunities per owner, keyed by folded owner name; an unknown stage counts as open."""
    load: dict[str, int] = {}
    for opp in opportunities:
        if not opp.blank("owner") and _is_open(opp, pipeline):
            key = normalize(opp.owner)
            load[key] = load.get(key, 0) + 1
    return load


def _is_open(opp: Opportunity, pipeline: Pipeline) -> bool:
    stage = pipeline.find(opp.cells.get("stage"))
    return stage is None or stage.is_open


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _read_cursor(raw: object) -> dict[str, Any]:
    """Copy one rule's saved rotation, dropping anything malformed instead of failing the cycle."""
    cursor: dict[str, Any] = {"clock": 0.0, "turns": {}}
    if not isinstance(raw, Mapping):
        return cursor
    clock = _number(raw.get("clock"))
    if clock is not None:
        cursor["clock"] = clock
    turns = raw.get("turns")
    if isinstance(turns, Mapping):
        for name, turn in turns.items():
            number = _number(turn)
            if isinstance(name, str) and number is not None:
                cursor["turns"][name] = number
    return cursor


class _Cycle:
    """The state of one assign() call: loads and rotations that move as rows get owners."""

    def __init__(self, opportunities: Sequence[Opportunity], team: Sequence[Rep], rules: Sequence[Rule],
                 pipeline: Pipeline, cursors: Mapping[str, Any], today: date, language: str) -> None:
        self.team = list(team)
        self.pipeline = pipeline
        self.today = today
        self.text = _TEXT["zh" if language == "zh" else "en"]
        self.load = open_load(opportunities, pipeline)
        self.targets = {id(rule): resolve_targets(rule.assign_to, self.team) for rule in rules}
        self.cursors: dict[str, dict[str, Any]] = {}
        self.members: dict[str, set[str]] = {}
        for rule in rules:
            if rule.method == ROUND_ROBIN:
                key = rule_key(rule)
                self.cursors.setdefault(key, _read_cursor(cursors.get(key)))
                names = {normalize(rep.name) for rep in self.targets[id(rule)][0]}
                self.members.setdefault(key, set()).update(names)
        for key, cursor in self.cursors.items():
            if not cursor["turns"]:
                cursor["turns"] = dict.fromkeys(sorted(self.members[key]), cursor["clock"])

    def blocker(self, rep: Rep) -> str | None:
        """Say why a rep cannot take a lead now, or None when they can."""
        t = self.text
        if not rep.active:
            return t["inactive"].format(name=rep.name)
        if not rep.available(self.today):
            return t["leave"].format(name=rep.name, until=rep.on_leave_until)
        if rep.weight <= 0:
            return t["weight"].format(name=rep.name)
        load = self.load.get(normalize(rep.name), 0)
        if rep.capacity is not None and load >= rep.capacity:
            # The limit, not the live count: a count in every waiting row's Status would change them all
            # whenever any of the rep's deals opens or closes.
            return t["full"].format(name=rep.name, capacity=rep.capacity)
        return None

    def try_rule(self, rule: Rule) -> tuple[Rep | None, list[str]]:
        """Pick a rep by one rule, or return the reasons it has nobody."""
        candidates, unknown = self.targets[id(rule)]
        eligible: list[tuple[int, Rep]] = []
        blocked: list[str] = []
        for rep in candidates:
            why = self.blocker(rep)
            if why is None:
                eligible.append((len(eligible), rep))
            else:
                blocked.append(why)
        if eligible:
            if rule.method == ROUND_ROBIN:
                return self.next_in_turn(rule_key(rule), eligible), []
            return self.least_loaded(eligible), []
        t = self.text
        reasons = []
        if unknown:
            names = t["list"].join(t["quote"].format(name) for name in unknown)
            reasons.append(t["unknown"].format(rule=rule.label, names=names))
        if not candidates and not unknown:
            reasons.append(t["empty"].format(rule=rule.label))
        if blocked:
            shown = blocked[:MAX_DETAILS]
            if len(blocked) > MAX_DETAILS:
                shown.append(t["more"].format(count=len(blocked) - MAX_DETAILS))
            reasons.append(t["nobody"].format(rule=rule.label, details=t["list"].join(shown)))
        return None, reasons

    def least_loaded(self, eligible: list[tuple[int, Rep]]) -> Rep:
        """Pick the rep with the fewest open opportunities per unit of weight; team order breaks ties."""
        def share(item: tuple[int, Rep]) -> tuple[float, int]:
            order, rep = item
            return round(self.load.get(normalize(rep.name), 0) / rep.weight, _PLACES), order
        return min(eligible, key=share)[1]

    def next_in_turn(self, key: str, eligible: list[tuple[int, Rep]]) -> Rep:
        """Pick the rep whose weighted turn comes first and move their turn and the rule's clock on."""
        cursor = self.cursors[key]
        clock: float = cursor["clock"]
        turns: dict[str, float] = cursor["turns"]

        saved = {normalize(rep.name): turns.get(normalize(rep.name)) for _, rep in eligible}
        current = [t for t in saved.values() if t is not None and round(t, _PLACES) >= round(clock, _PLACES)]
        rejoin = min(current, default=clock)

        def turn(rep: Rep) -> float:
            mine = saved[normalize(rep.name)]
            return rejoin if mine is None or round(mine, _PLACES) < round(clock, _PLACES) else mine

        for _, each in eligible:
            turns[normalize(each.name)] = turn(each)
        order, rep = min(eligible, key=lambda item: (round(turn(item[1]), _PLACES), item[0]))
        start = turn(rep)
        turns[normalize(rep.name)] = start + 1 / rep.weight
        cursor["clock"] = start
        return rep

    def take(self, rep: Rep, opportunity: Opportunity) -> None:
        """Count a new open opportunity against a rep's capacity for the rest of this cycle."""
        if _is_open(opportunity, self.pipeline):
            key = normalize(rep.name)
            self.load[key] = self.load.get(key, 0) + 1

    def saved_cursors(self) -> dict[str, Any]:
        """Return the rotations to persist: current round-robin rules only, current target reps only."""
        saved: dict[str, Any] = {}
        for key, cursor in self.cursors.items():
            members = self.members.get(key, set())
            turns = {name: turn for name, turn in cursor["turns"].items() if name in members}
            saved[key] = {"clock": cursor["clock"], "turns": dict(sorted(turns.items()))}
        return saved


def assign(pending: Sequence[Opportunity], opportunities: Sequence[Opportunity], team: Sequence[Rep],
           rules: Sequence[Rule], pipeline: Pipeline, cursors: Mapping[str, Any], today: date,
           language: str = "en") -> tuple[list[Assignment], list[Unassigned], dict[str, Any]]:
    """Choose owners for the pending rows; return assignments, rows left unassigned, and the new cursors."""
    cycle = _Cycle(opportunities, team, rules, pipeline, cursors, today, language)
    assigned: list[Assignment] = []
    unassigned: list[Unassigned] = []
    for opp in pending:
        reasons: list[str] = []
        for rule in rules:
            if not matches(rule, opp):
                continue
            rep, why = cycle.try_rule(rule)
            if rep is not None:
                cycle.take(rep, opp)
                assigned.append(Assignment(opp.row, rep.name, rule.label))
                break
            reasons.extend(why)
        else:
            t = cycle.text
            sentence = t["parts"].join(reasons) if reasons else t["no_rule"]
            unassigned.append(Unassigned(opp.row, sentence + t["end"]))
    return assigned, unassigned, cycle.saved_cursors()
