"""The Summary tab a manager reviews, checked against a hand-computed fixture (tests/review_fixture.py)."""

from datetime import datetime

import review_fixture as fx

from sheetsync.core.formats import AMOUNT, AMOUNT_CN, BOLD, DECIMAL, PERCENT
from sheetsync.core.model import Opportunity, Rep
from sheetsync.core.remind import FOLLOW_UP, STALE, UNPLANNED, Reminder
from sheetsync.core.summary import build_summary


def reminder(owner, kind, late):
    return Reminder(fx.NOW.date(), owner, "X", "Customer", "Lead", "reason", late, kind)


def summary(**kw):
    kw.setdefault("history", fx.history())
    return build_summary(fx.opportunities(), fx.PIPELINE, fx.TEAM, kw.pop("reminders", []), fx.NOW, **kw)


def test_figures_match_the_hand_computed_fixture():
    assert summary().rows == fx.EXPECTED


def test_only_overdue_follow_ups_count_per_owner():
    late = [reminder("Alice Chen", FOLLOW_UP, 3), reminder("Alice Chen", FOLLOW_UP, 0),
            reminder("Alice Chen", STALE, 9), reminder("Bob Wang", UNPLANNED, 0), reminder("Bob Wang", FOLLOW_UP, 1)]
    rows = summary(reminders=late).rows
    owners = {r[0]: r[3] for r in rows if r and r[0] in ("Alice Chen", "Bob Wang", "Carol Zhang")}
    assert owners == {"Alice Chen": 1, "Bob Wang": 1, "Carol Zhang": 0}


def test_a_deal_that_moved_back_counts_both_stays_and_reaches_each_stage_once():
    only_w6 = [o for o in fx.opportunities() if o.id == "W6"]
    rows = build_summary(only_w6, fx.PIPELINE, fx.TEAM, [], fx.NOW, history=fx.history()).rows
    # W6: Quote 6 + 6 days, Negotiation 4 + 10 days; it reached every stage up to Won once.
    assert [r[4:7] for r in rows[5:9]] == [[1, 1.0, 2.0], [1, 1.0, 4.0], [1, 1.0, 12.0], [1, 1.0, 14.0]]


def test_without_history_the_funnel_falls_back_to_todays_stage():
    rows = summary(history=[]).rows
    assert [r[4] for r in rows[5:9]] == [30, 16, 12, 9]  # each deal counts from where it is now; lost ones as leads
    assert rows[19] == ["Lead", 0, 0.0, ""]  # no Lost move recorded: lost deals can't be placed
    assert rows[23][:2] == ["(not recorded)", 8]


def test_header_rows_are_bold_and_money_percent_and_days_have_formats():
    grid = summary()
    assert grid.formats[(1, 0)] == BOLD
    assert all(grid.formats[(5, c)] == BOLD for c in range(7))
    assert grid.formats[(4, 0)] == BOLD and (4, 1) not in grid.formats
    assert grid.formats[(6, 2)] == AMOUNT and grid.formats[(6, 3)] == AMOUNT
    assert grid.formats[(6, 5)] == PERCENT and grid.formats[(6, 6)] == DECIMAL
    assert (6, 0) not in grid.formats and (6, 1) not in grid.formats  # names and counts stay plain
    zh = build_summary(fx.opportunities(), fx.PIPELINE, fx.TEAM, [], fx.NOW, "zh", history=fx.history())
    assert zh.formats[(6, 2)] == AMOUNT_CN and zh.formats[(1, 0)] == BOLD


def test_charts_plot_only_open_stages_by_amount_and_by_count():
    grid = summary()
    amount, count = grid.charts
    for chart in (amount, count):
        names = [grid.rows[r - 1][0] for r in range(chart.first_row, chart.last_row + 1)]
        assert names == ["Lead", "Qualified", "Quote", "Negotiation"]  # Won and Lost are not in the funnel
    assert [grid.rows[r - 1][amount.value_col] for r in range(6, 10)] == [80000.0, 200000.0, 300000.0, 400000.0]
    assert [grid.rows[r - 1][count.value_col] for r in range(6, 10)] == [6, 4, 3, 3]
    assert count.integer_ticks and count.value_max == 6 and not amount.integer_ticks
    assert amount.anchor_col == count.anchor_col and count.anchor_row > amount.anchor_row
    assert all(len(row) <= amount.anchor_col for row in grid.rows)


def test_empty_pipeline_keeps_the_layout_and_leaves_rates_blank():
    rows = build_summary([], fx.PIPELINE, [Rep("Alice Chen")], [], fx.NOW).rows
    assert rows[5] == ["Lead", 0, 0.0, 0.0, 0, None, None]
    assert rows[13] == ["Win rate (won / (won + lost))", None]
    assert ["Alice Chen", 0, 0.0, 0, 0, 0.0, None, None, None, 0.0, None] in rows


def test_chinese_labels_and_owners_in_pinyin_order():
    team = [Rep("张伟"), Rep("陈晓"), Rep("李雷")]
    opps = [Opportunity(2, {"id": "B1", "stage": "Lead", "owner": "张伟", "amount": 1000}),
            Opportunity(3, {"id": "B2", "stage": "Lead", "owner": "", "amount": 500})]
    rows = build_summary(opps, fx.PIPELINE, team, [], datetime(2026, 11, 28, 9, 30), "zh").rows
    assert rows[0] == ["商机汇总"] and rows[3] == ["阶段漏斗"]
    start = rows.index(["按负责人"]) + 2
    names = [r[0] for r in rows[start:start + 4]]
    assert names == ["陈晓", "李雷", "张伟", "（未分配）"]  # chen, li, zhang; unassigned last
