from datetime import datetime

import pytest

from sheetsync.core.model import Opportunity, Pipeline, Rep, Stage
from sheetsync.core.remind import FIX, FOLLOW_UP, STALE, UNPLANNED, Reminder
from sheetsync.core.summary import AMOUNT, PERCENT, build_summary
from sheetsync.stores.base import ChartSpec

NOW = datetime(2026, 11, 28, 9, 30)
TODAY = NOW.date()


def _stage(name, order, probability, outcome="open"):
    return Stage(name, order, probability, 3, 14, (), False, outcome)


PIPELINE = Pipeline.of([
    _stage("Lead", 1, 0.1),
    _stage("Qualified", 2, 0.3),
    _stage("Quote", 3, 0.5),
    _stage("Negotiation", 4, 0.7),
    _stage("Won", 5, 1.0, "won"),
    _stage("Lost", 6, 0.0, "lost"),
])
TEAM = [Rep("Alice Chen"), Rep("Bob Wang"), Rep("Carol Zhang")]


def opp(row, id, stage, owner, source, amount, loss_reason=""):
    return Opportunity(row, {"id": id, "stage": stage, "owner": owner, "source": source, "amount": amount,
                             "loss_reason": loss_reason, "customer": f"Customer {id}"})


OPPS = [
    opp(2, "A1", "Lead", "Alice Chen", "Website", 10000),
    opp(3, "A2", "Lead", "Bob Wang", "Referral", None),
    opp(4, "A3", "Qualified", "Alice Chen", "Website", "¥20,000"),
    opp(5, "A4", "Quote", "Bob Wang", "Trade show", 50000),
    opp(6, "A5", "negotiation", "alice chen", "Website", "lots"),
    opp(7, "A6", "Won", "Bob Wang", "Referral", 80000),
    opp(8, "A7", "Lost", "Carol Zhang", "Website", 30000, "Price"),
    opp(9, "A8", "Lost", "", "Cold call", 5000),
    opp(10, "A9", "Paused", "Alice Chen", "Website", 7000),
]


def reminder(owner, kind, late):
    return Reminder(TODAY, owner, "X", "Customer", "Lead", "reason", late, kind)


REMINDERS = [
    reminder("Alice Chen", FOLLOW_UP, 3),
    reminder("Alice Chen", FOLLOW_UP, 1),
    reminder("Alice Chen", FOLLOW_UP, 0),
    reminder("Alice Chen", STALE, 5),
    reminder("Alice Chen", FIX, 0),
    reminder("Bob Wang", UNPLANNED, 0),
    reminder("(unassigned)", FOLLOW_UP, 2),
]

EXPECTED_EN = [
    ["Pipeline summary"],
    ["Last updated 2026-11-28 09:30"],
    [],
    ["Funnel by stage"],
    ["Stage", "Count", "Amount", "Weighted amount", "Reaching next stage"],
    ["Lead", 2, 10000.0, 1000.0, 0.5],
    ["Qualified", 1, 20000.0, 6000.0, 0.75],
    ["Quote", 1, 50000.0, 25000.0, 2 / 3],
    ["Negotiation", 1, 0.0, 0.0, 0.5],
    ["Won", 1, 80000.0, 80000.0, None],
    ["Lost", 2, 35000.0, 0.0, None],
    ["(unknown stage)", 1, 7000.0],
    [],
    ["Win rate (won / (won + lost))", 1 / 3],
    ["Open pipeline", 80000.0],
    ["Open pipeline (weighted)", 32000.0],
    [],
    ["By owner"],
    ["Owner", "Open deals", "Open amount", "Won amount", "Overdue follow-ups"],
    ["Alice Chen", 3, 30000.0, 0.0, 2],
    ["Bob Wang", 2, 50000.0, 80000.0, 0],
    ["Carol Zhang", 0, 0.0, 0.0, 0],
    ["(unassigned)", 0, 0.0, 0.0, 1],
    [],
    ["By source"],
    ["Source", "Count", "Won", "Amount"],
    ["Website", 5, 0, 67000.0],
    ["Referral", 2, 1, 80000.0],
    ["Cold call", 1, 0, 5000.0],
    ["Trade show", 1, 0, 50000.0],
    [],
    ["Loss reasons"],
    ["Reason", "Count"],
    ["(no reason)", 1],
    ["Price", 1],
]


def test_figures_match_the_hand_computed_fixture():
    grid = build_summary(OPPS, PIPELINE, TEAM, REMINDERS, NOW)
    assert grid.rows == EXPECTED_EN


def test_amounts_are_numbers_and_percentages_are_fractions():
    grid = build_summary(OPPS, PIPELINE, TEAM, REMINDERS, NOW)
    assert all(isinstance(x, float) for x in grid.rows[5][2:4])
    assert grid.formats[(6, 2)] == AMOUNT and grid.formats[(6, 3)] == AMOUNT
    assert grid.formats[(6, 4)] == PERCENT
    assert grid.formats[(14, 1)] == PERCENT
    assert grid.formats[(15, 1)] == AMOUNT and grid.formats[(16, 1)] == AMOUNT
    assert (20, 1) not in grid.formats


def test_chart_points_at_the_funnel_rows():
    grid = build_summary(OPPS, PIPELINE, TEAM, REMINDERS, NOW)
    assert grid.chart == ChartSpec(tab="summary", title="Funnel by stage", first_row=6, last_row=11,
                                   category_col=0, value_col=1, anchor_row=4, anchor_col=6, series_title="Count")
    names = [grid.rows[r - 1][grid.chart.category_col] for r in range(grid.chart.first_row, grid.chart.last_row + 1)]
    counts = [grid.rows[r - 1][grid.chart.value_col] for r in range(grid.chart.first_row, grid.chart.last_row + 1)]
    assert names == ["Lead", "Qualified", "Quote", "Negotiation", "Won", "Lost"]
    assert counts == [2, 1, 1, 1, 1, 2]
    assert all(len(row) <= grid.chart.anchor_col for row in grid.rows)


def test_funnel_uses_the_furthest_stage_each_deal_reached():
    # A3 reached Quote before moving back; A7 was lost after Negotiation.
    grid = build_summary(OPPS, PIPELINE, TEAM, REMINDERS, NOW, furthest={"A3": 3, "A7": 4})
    assert [row[4] for row in grid.rows[5:11]] == [5 / 8, 1.0, 3 / 5, 1 / 3, None, None]


def test_a_lost_deal_never_counts_as_reaching_won():
    grid = build_summary(OPPS, PIPELINE, TEAM, REMINDERS, NOW, furthest={"A8": 6})
    # A8 counts as reaching Negotiation (the last open stage): reached = 8, 5, 4, 3, 1.
    assert [row[4] for row in grid.rows[5:11]] == [5 / 8, 4 / 5, 3 / 4, 1 / 3, None, None]


def test_empty_pipeline_keeps_the_layout_and_leaves_rates_blank():
    grid = build_summary([], PIPELINE, TEAM[:1], [], NOW)
    assert grid.rows[5:13] == [
        ["Lead", 0, 0.0, 0.0, None],
        ["Qualified", 0, 0.0, 0.0, None],
        ["Quote", 0, 0.0, 0.0, None],
        ["Negotiation", 0, 0.0, 0.0, None],
        ["Won", 0, 0.0, 0.0, None],
        ["Lost", 0, 0.0, 0.0, None],
        [],
        ["Win rate (won / (won + lost))", None],
    ]
    assert grid.rows[18] == ["Alice Chen", 0, 0.0, 0.0, 0]
    assert (grid.chart.first_row, grid.chart.last_row) == (6, 11)


def test_chinese_labels():
    zh_opps = [opp(2, "B1", "Lead", "", "", 1000), opp(3, "B2", "Lost", "", "官网", 2000),
               opp(4, "B3", "暂停", "陈晓", "官网", 500)]
    zh_reminders = [reminder("（未分配）", FOLLOW_UP, 4)]
    grid = build_summary(zh_opps, PIPELINE, [Rep("陈晓")], zh_reminders, NOW, language="zh")
    rows = grid.rows
    assert rows[0] == ["商机汇总"]
    assert rows[1] == ["更新时间 2026-11-28 09:30"]
    assert rows[3] == ["阶段漏斗"]
    assert rows[4] == ["阶段", "数量", "金额", "加权金额", "进入下一阶段比例"]
    assert rows[11] == ["（未知阶段）", 1, 500.0]
    assert rows[13] == ["赢单率（赢单 /（赢单 + 输单））", 0.0]
    assert rows[14] == ["在手商机金额", 1000.0]
    assert rows[15] == ["在手商机加权金额", 100.0]
    assert rows[17:21] == [
        ["按负责人"],
        ["负责人", "在手数量", "在手金额", "成交金额", "逾期跟进"],
        ["陈晓", 0, 0.0, 0.0, 0],
        ["（未分配）", 1, 1000.0, 0.0, 1],
    ]
    assert rows[22:26] == [["按来源"], ["来源", "数量", "成交数", "金额"], ["官网", 2, 0, 2500.0],
                           ["（未填来源）", 1, 0, 1000.0]]
    assert rows[27:] == [["流失原因"], ["原因", "数量"], ["（未填原因）", 1]]
    assert (grid.chart.title, grid.chart.series_title) == ("阶段漏斗", "数量")


@pytest.mark.parametrize("language", ["en", "zh"])
def test_only_overdue_follow_ups_count_per_owner(language):
    late = [reminder("Alice Chen", FOLLOW_UP, 1), reminder("Alice Chen", FOLLOW_UP, 0),
            reminder("Alice Chen", STALE, 9), reminder("Alice Chen", UNPLANNED, 0)]
    grid = build_summary([opp(2, "A1", "Lead", "Alice Chen", "Web", 1)], PIPELINE, [Rep("Alice Chen")], late, NOW,
                         language=language)
    assert grid.rows[18][0] == "Alice Chen"
    assert grid.rows[18][4] == 1

