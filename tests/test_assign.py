"""Tests for choosing owners by the Rules tab."""

from __future__ import annotations

import copy
import json
from collections import Counter
from datetime import date, timedelta

import pytest

from sheetsync.core.assign import Assignment, assign, resolve_targets, rule_key
from sheetsync.core.model import (
    LEAST_LOADED,
    LOST,
    OPEN,
    ROUND_ROBIN,
    WON,
    Opportunity,
    Pipeline,
    Rep,
    Rule,
    Stage,
    read_rules,
    read_team,
)
from sheetsync.core.schema import RULES, TEAM, map_headers

TODAY = date(2026, 3, 10)
PIPELINE = Pipeline.of([
    Stage("Lead", 1, 0.1, 2, 7, (), False, OPEN),
    Stage("Quote", 2, 0.5, 3, 14, (), False, OPEN),
    Stage("Won", 3, 1.0, None, None, (), False, WON),
    Stage("Lost", 4, 0.0, None, None, (), False, LOST),
])


def rule(field: str | None, values: str, targets: str, method: str = ROUND_ROBIN, *, label: str = "",
         row: int = 2, priority: float = 1) -> Rule:
    """Build a rule as read_rules would, with comma-separated values and targets."""
    split = [x.strip() for x in values.split(",") if x.strip()]
    if not label:
        label = f"{field} = {values}" if field else "Default rule"
    return Rule(row, priority, field, tuple(split), tuple(x.strip() for x in targets.split(",")), method, label)


def leads(count: int, start: int = 100, **cells: object) -> list[Opportunity]:
    """Build `count` ownerless open opportunities from sheet row `start` on."""
    return [Opportunity(start + i, {"stage": "Lead", **cells}) for i in range(count)]


def owned(owner: str, stage: str = "Lead", count: int = 1, start: int = 2) -> list[Opportunity]:
    """Build `count` opportunities already owned by `owner` in `stage`."""
    return [Opportunity(start + i, {"owner": owner, "stage": stage}) for i in range(count)]


def run(pending, team, rules, opportunities=(), cursors=None, language="en"):
    """Assign with the pending rows counted among all opportunities, as the caller does."""
    return assign(pending, [*opportunities, *pending], team, rules, PIPELINE, cursors or {}, TODAY, language)


def owners(assignments: list[Assignment]) -> list[str]:
    return [a.owner for a in assignments]


ALICE, BOB, CAROL = Rep("Alice Chen"), Rep("Bob Wang"), Rep("Carol Zhang")
EVERYONE = [rule(None, "", "All")]


def test_round_robin_rotates_through_reps_in_team_order():
    done, left, _ = run(leads(5), [ALICE, BOB, CAROL], EVERYONE)
    assert owners(done) == ["Alice Chen", "Bob Wang", "Carol Zhang", "Alice Chen", "Bob Wang"]
    assert left == []


@pytest.mark.parametrize(("weights", "count", "expected"), [
    ((2, 1), 30, (20, 10)),
    ((1, 1, 1), 9, (3, 3, 3)),
    ((3, 1), 8, (6, 2)),
    ((1.5, 1), 10, (6, 4)),
    ((1, 0), 6, (6, 0)),
])
def test_round_robin_shares_leads_by_weight(weights, count, expected):
    team = [Rep(f"Rep {i}", weight=w) for i, w in enumerate(weights)]
    done, _, _ = run(leads(count), team, EVERYONE)
    tally = Counter(owners(done))
    assert tuple(tally[rep.name] for rep in team) == expected


def test_round_robin_interleaves_weighted_reps_instead_of_batching():
    team = [Rep("Alice Chen", weight=2), Rep("Bob Wang")]
    done, _, _ = run(leads(6), team, EVERYONE)
    assert owners(done) == ["Alice Chen", "Bob Wang", "Alice Chen"] * 2


@pytest.mark.parametrize(("loads", "weights", "expected"), [
    ((3, 1, 2), (1, 1, 1), "Bob Wang"),
    ((4, 3, 3), (2, 1, 1), "Alice Chen"),
    ((2, 2, 2), (1, 1, 1), "Alice Chen"),
    ((5, 2, 2), (1, 1, 1), "Bob Wang"),
    ((0, 0, 0), (0, 1, 1), "Bob Wang"),
])
def test_least_loaded_picks_fewest_open_per_weight_with_team_order_breaking_ties(loads, weights, expected):
    names = ("Alice Chen", "Bob Wang", "Carol Zhang")
    team = [Rep(n, weight=w) for n, w in zip(names, weights, strict=True)]
    existing = [o for n, k in zip(names, loads, strict=True) for o in owned(n, count=k)]
    done, _, _ = run(leads(1), team, [rule(None, "", "All", LEAST_LOADED)], existing)
    assert owners(done) == [expected]


def test_load_counts_assignments_made_in_the_same_cycle():
    existing = owned("Bob Wang")
    done, _, _ = run(leads(4), [ALICE, BOB], [rule(None, "", "All", LEAST_LOADED)], existing)
    assert owners(done) == ["Alice Chen", "Alice Chen", "Bob Wang", "Alice Chen"]


def test_capacity_counts_assignments_made_in_the_same_cycle():
    team = [Rep("Alice Chen", capacity=2), BOB]
    done, _, _ = run(leads(4), team, EVERYONE, owned("Alice Chen"))
    assert owners(done) == ["Alice Chen", "Bob Wang", "Bob Wang", "Bob Wang"]


@pytest.mark.parametrize("stage", ["Won", "Lost", "won", " LOST "])
def test_won_and_lost_rows_do_not_count_as_load(stage):
    team = [Rep("Alice Chen", capacity=1), BOB]
    existing = owned("Alice Chen", stage, count=5) + owned("Bob Wang", start=20)
    done, _, _ = run(leads(1), team, [rule(None, "", "All", LEAST_LOADED)], existing)
    assert owners(done) == ["Alice Chen"]


@pytest.mark.parametrize("stage", ["Lead", "", "Some stage nobody defined"])
def test_open_blank_and_unknown_stages_count_as_load(stage):
    team = [Rep("Alice Chen", capacity=1), BOB]
    done, _, _ = run(leads(1), team, EVERYONE, owned("alice  chen", stage))
    assert owners(done) == ["Bob Wang"]


@pytest.mark.parametrize(("alice", "available"), [
    (Rep("Alice Chen", active=False), False),
    (Rep("Alice Chen", on_leave_until=TODAY + timedelta(days=3)), False),
    (Rep("Alice Chen", on_leave_until=TODAY), False),
    (Rep("Alice Chen", on_leave_until=TODAY - timedelta(days=1)), True),
    (Rep("Alice Chen", capacity=0), False),
    (Rep("Alice Chen", weight=0), False),
])
def test_assignment_skips_reps_who_cannot_take_leads(alice, available):
    done, _, _ = run(leads(2), [alice, BOB], EVERYONE)
    expected = ["Alice Chen", "Bob Wang"] if available else ["Bob Wang", "Bob Wang"]
    assert owners(done) == expected


def test_default_rule_catches_rows_no_rule_matches():
    rules = [rule("region", "East", "Alice Chen", label="East"), rule(None, "", "Bob Wang", label="Everyone else")]
    done, left, _ = run(leads(1, region="West"), [ALICE, BOB], rules)
    assert done == [Assignment(100, "Bob Wang", "Everyone else")]
    assert left == []


def test_matching_rule_with_nobody_available_falls_through_to_next_matching_rule():
    team = [Rep("Alice Chen", on_leave_until=TODAY), BOB, CAROL]
    rules = [rule("region", "East", "Alice Chen", label="East key accounts"),
             rule("level", "A", "Carol Zhang", label="Level A"),
             rule(None, "", "Bob Wang", label="Default")]
    done, left, _ = run(leads(1, region="East", level="A"), team, rules)
    assert done == [Assignment(100, "Carol Zhang", "Level A")]
    assert left == []


@pytest.mark.parametrize(("cell", "values"), [
    ("East", "East"),
    ("  east ", "EAST"),
    ("ＥＡＳＴ", "East"),
    ("North", "South, North"),
])
def test_rule_matches_values_ignoring_case_width_and_spaces(cell, values):
    rules = [rule("region", values, "Alice Chen", label="Pool"), rule(None, "", "Bob Wang")]
    done, _, _ = run(leads(1, region=cell), [ALICE, BOB], rules)
    assert done == [Assignment(100, "Alice Chen", "Pool")]


@pytest.mark.parametrize(("target", "expected"), [
    ("East", ["Alice Chen", "Bob Wang"]),
    ("Retail", ["Bob Wang", "Carol Zhang"]),
    ("a", ["Alice Chen", "Carol Zhang"]),
    ("bob wang", ["Bob Wang"]),
    ("  BOBWANG ", ["Bob Wang"]),
    ("Carol Zhang, East", ["Alice Chen", "Bob Wang", "Carol Zhang"]),
    *[(word, ["Alice Chen", "Bob Wang", "Carol Zhang"]) for word in ("All", "everyone", "*", "全部", "所有人")],
])
def test_targets_resolve_to_reps_by_name_pool_or_everyone(target, expected):
    team = [Rep("Alice Chen", regions=("East",), industries=("Manufacturing",), levels=("A",)),
            Rep("Bob Wang", regions=("East",), industries=("Retail",), levels=("B",)),
            Rep("Carol Zhang", regions=("North",), industries=("Retail",), levels=("A",))]
    reps, unknown = resolve_targets([t.strip() for t in target.split(",")], team)
    assert [r.name for r in reps] == expected
    assert unknown == []


def test_pool_by_region_rotates_among_that_regions_reps():
    team = [Rep("Alice Chen", regions=("East",)), Rep("Bob Wang", regions=("North",)),
            Rep("Carol Zhang", regions=("North", "East"))]
    rules = [rule("region", "East", "East", label="East region pool")]
    done, _, _ = run(leads(4, region="East"), team, rules)
    assert owners(done) == ["Alice Chen", "Carol Zhang"] * 2
    assert {a.rule for a in done} == {"East region pool"}


@pytest.mark.parametrize(("language", "expected"), [
    ("en", "Rule 'East region pool' assigns to 'Estt', but no rep in the Team tab has that name"),
    ("zh", "规则“East region pool”的分配对象“Estt”既不是团队表中的姓名"),
])
def test_unknown_target_reason_names_it(language, expected):
    team = [Rep("Alice Chen", regions=("East",))]
    rules = [rule("region", "East", "Estt", label="East region pool")]
    done, left, _ = run(leads(1, region="East"), team, rules, language=language)
    assert done == []
    assert [u.row for u in left] == [100]
    assert expected in left[0].reason


def test_nobody_available_reason_says_why_for_each_rep():
    team = [Rep("Alice Chen", regions=("East",), active=False),
            Rep("Bob Wang", regions=("East",), on_leave_until=date(2026, 3, 20)),
            Rep("Carol Zhang", regions=("East",), capacity=1)]
    rules = [rule("region", "East", "East", label="East region pool")]
    _, left, _ = run(leads(1, region="East"), team, rules, owned("Carol Zhang"))
    assert left[0].reason == (
        "No rep available for rule 'East region pool': everyone is on leave, inactive, at capacity or at weight 0 "
        "(Alice Chen is inactive, Bob Wang is on leave until 2026-03-20, Carol Zhang is at capacity (limit 1)).")


def test_a_full_reps_reason_does_not_change_with_their_load():
    """Waiting rows' Status must not be rewritten every time one of a full rep's deals opens or closes."""
    team = [Rep("Carol Zhang", regions=("East",), capacity=2)]
    rules = [rule("region", "East", "East", label="East region pool")]
    reasons = {run(leads(1, region="East"), team, rules, owned("Carol Zhang", count=n))[1][0].reason for n in (2, 3, 5)}
    assert reasons == {"No rep available for rule 'East region pool': everyone is on leave, inactive, at capacity "
                       "or at weight 0 (Carol Zhang is at capacity (limit 2))."}


def test_every_matching_rule_that_failed_is_named_in_the_reason():
    team = [Rep("Alice Chen", active=False)]
    rules = [rule("region", "East", "Alice Chen", label="East"), rule(None, "", "Nobody", label="Default")]
    _, left, _ = run(leads(1, region="East"), team, rules, language="zh")
    assert left[0].reason.startswith("规则“East”没有可分配的销售")
    assert "；规则“Default”的分配对象“Nobody”" in left[0].reason
    assert left[0].reason.endswith("。")


@pytest.mark.parametrize(("language", "expected"), [
    ("en", "No rule in the Rules tab matches this row: add a default rule"),
    ("zh", "分配规则里没有与这一行匹配的规则"),
])
def test_row_no_rule_matches_is_left_unassigned_with_a_reason(language, expected):
    rules = [rule("region", "East", "Alice Chen")]
    done, left, _ = run(leads(2, region="West"), [ALICE], rules, language=language)
    assert done == []
    assert [u.row for u in left] == [100, 101]
    assert left[0].reason.startswith(expected)


def test_round_robin_continues_from_persisted_cursor_after_restart():
    team = [Rep("Alice Chen", weight=2), BOB, CAROL]
    whole, _, _ = run(leads(7), team, EVERYONE)
    first, _, cursors = run(leads(3), team, EVERYONE)
    restored = json.loads(json.dumps(cursors))
    second, _, _ = run(leads(4, start=200), team, EVERYONE, cursors=restored)
    assert owners(first) + owners(second) == owners(whole)


def test_round_robin_cursor_survives_reordering_the_rules_tab():
    east = rule("region", "East, North", "Alice Chen, Bob Wang", label="East", row=2, priority=1)
    moved = rule("region", "north,east", "bob wang, Alice Chen", label="Renamed note", row=7, priority=5)
    other = rule("level", "A", "Carol Zhang", row=2, priority=1)
    _, _, cursors = run(leads(1, region="East"), [ALICE, BOB, CAROL], [east])
    done, _, _ = run(leads(1, region="East"), [ALICE, BOB, CAROL], [other, moved], cursors=cursors)
    assert rule_key(east) == rule_key(moved)
    assert owners(done) == ["Bob Wang"]


def test_rep_back_from_leave_rejoins_rotation_without_a_burst():
    away = Rep("Bob Wang", on_leave_until=TODAY)
    _, _, cursors = run(leads(10), [ALICE, away, CAROL], EVERYONE)
    tomorrow = TODAY + timedelta(days=1)
    back = json.loads(json.dumps(cursors))
    done, _, _ = assign(leads(6), leads(6), [ALICE, away, CAROL], EVERYONE, PIPELINE, back, tomorrow)
    assert owners(done) == ["Alice Chen", "Bob Wang", "Carol Zhang"] * 2


def test_new_rep_joins_rotation_without_a_burst_and_removed_rep_leaves_the_cursor():
    _, _, cursors = run(leads(9), [ALICE, BOB], EVERYONE)
    done, _, cursors = run(leads(6), [ALICE, CAROL], EVERYONE, cursors=cursors)
    assert Counter(owners(done)) == {"Alice Chen": 3, "Carol Zhang": 3}
    [state] = cursors.values()
    assert set(state["turns"]) == {"alicechen", "carolzhang"}


def test_assign_leaves_input_cursors_untouched_and_returns_json_data():
    _, _, cursors = run(leads(2), [ALICE, BOB], EVERYONE)
    before = copy.deepcopy(cursors)
    _, _, after = run(leads(3), [ALICE, BOB], EVERYONE, cursors=cursors)
    assert cursors == before
    assert after != before
    assert json.loads(json.dumps(after)) == after


@pytest.mark.parametrize("saved", [
    {"*=->all": "garbage"},
    {"*=->all": {"clock": "soon", "turns": {"alicechen": "x", "bobwang": True}}},
    {"*=->all": {"clock": None, "turns": [1, 2]}},
    {"unrelated": 3},
])
def test_malformed_cursor_is_ignored_rather_than_failing_the_cycle(saved):
    done, _, cursors = run(leads(2), [ALICE, BOB], EVERYONE, cursors=saved)
    assert owners(done) == ["Alice Chen", "Bob Wang"]
    assert set(cursors) == {"*=->all"}


def test_least_loaded_rules_keep_no_cursor():
    _, _, cursors = run(leads(2), [ALICE, BOB], [rule(None, "", "All", LEAST_LOADED)])
    assert cursors == {}


def test_rules_and_team_read_from_a_chinese_sheet_assign_by_region():
    team_rows = [["姓名", "区域", "权重", "在岗", "休假至"],
                 ["张三", "华东", 2, "是", ""],
                 ["李四", "华东、华北", 1, "是", ""],
                 ["王五", "华南", 1, "否", ""]]
    rule_rows = [["优先级", "字段", "取值", "分配给", "方式", "备注"],
                 [2, "默认", "", "全部", "负载最少", "其余按负载"],
                 [1, "区域", "华东", "华东", "轮流", "华东池"]]
    team = read_team(map_headers(TEAM, "团队", team_rows[0]), team_rows)
    rules = read_rules(map_headers(RULES, "分配规则", rule_rows[0]), rule_rows, {})
    pending = leads(3, region="华东") + leads(1, start=200, region="西北")
    done, left, _ = run(pending, team, rules, language="zh")
    assert [(a.owner, a.rule) for a in done] == [("张三", "华东池"), ("李四", "华东池"), ("张三", "华东池"),
                                                 ("张三", "其余按负载")]
    assert left == []
