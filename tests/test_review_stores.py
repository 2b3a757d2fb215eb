"""Summary and Trends on every store: the hand-computed fixture (tests/review_fixture.py) through a real sync."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta, timezone

import pytest
import review_fixture as fx

from sheetsync.core.schema import OPPORTUNITIES, TEAM
from sheetsync.state import State
from sheetsync.sync import Syncer
from sheetsync.template import Layout, load_layout

NOW_UTC = fx.NOW.replace(tzinfo=timezone.utc)


def fixture_layout() -> Layout:
    base = load_layout("en", fx.NOW.date())
    opps = tuple(tuple(fx.cells(deal).get(c.key) for c in OPPORTUNITIES.columns) for deal in fx.DEALS)
    team = tuple(tuple({"name": r.name, "active": "Yes", "target": r.target}.get(c.key) for c in TEAM.columns)
                 for r in fx.TEAM)
    rows = {"opportunities": opps, "team": team, "rules": (), "followups": (), "history": tuple(
        tuple(r) for r in fx.history_rows())}
    return replace(base, tabs=tuple(replace(t, rows=rows.get(t.tab.key, t.rows)) for t in base.tabs))


def trimmed(rows):
    out = []
    for row in rows:
        row = list(row)
        while row and row[-1] in (None, ""):
            row.pop()
        out.append(row)
    while out and not out[-1]:
        out.pop()
    return out


@pytest.fixture
def synced(kit, config):
    kit.store.setup(fixture_layout())
    state = State(config.state_path)
    syncer = Syncer(kit.store, config, state, clock=lambda: NOW_UTC)
    syncer.run_cycle()
    yield kit, syncer
    state.close()


def test_summary_figures_match_the_hand_computed_fixture(synced):
    kit, _ = synced
    assert trimmed(kit.values("Summary")) == trimmed(fx.EXPECTED)


def test_trends_gets_one_row_per_week_with_stage_columns_added_once(synced, config):
    kit, syncer = synced
    rows = trimmed(kit.values("Trends"))
    assert rows[0] == fx.TRENDS_HEADER
    assert rows[1:] == [fx.TRENDS_ROW]
    syncer.run_cycle(NOW_UTC + timedelta(days=1))  # Sunday: same week, nothing appended
    assert len(trimmed(kit.values("Trends"))) == 2
    syncer.run_cycle(NOW_UTC + timedelta(days=2))  # Monday: a new week
    rows = trimmed(kit.values("Trends"))
    assert rows[0] == fx.TRENDS_HEADER and len(rows) == 3
    assert rows[2][:3] == [fx.TRENDS_ROW[0] + timedelta(days=7), fx.NOW + timedelta(days=2), 16]


def test_google_summary_has_bold_headers_number_formats_and_two_charts_updated_in_place(fake, store, config):
    store.setup(fixture_layout())
    state = State(config.state_path)
    for days in (0, 1):
        Syncer(store, config, state, clock=lambda d=days: NOW_UTC + timedelta(days=d)).run_cycle()
    state.close()
    sheet = fake.sheet("Summary")
    assert sheet.cell_meta(0, 0)["format"]["textFormat"]["bold"] is True
    assert all(sheet.cell_meta(4, c)["format"]["textFormat"]["bold"] for c in range(7))
    assert not sheet.cell_meta(5, 0).get("format", {}).get("textFormat", {}).get("bold")
    assert sheet.number_format(5, 2) == {"type": "NUMBER", "pattern": "#,##0"}
    assert sheet.number_format(5, 5) == {"type": "PERCENT", "pattern": "0%"}
    assert sheet.number_format(5, 6) == {"type": "NUMBER", "pattern": "0.0"}
    assert len(sheet.charts) == 2
    amount, count = (c["spec"]["basicChart"] for c in sheet.charts)
    assert amount["series"][0]["series"]["sourceRange"]["sources"][0]["startColumnIndex"] == 2
    assert count["series"][0]["series"]["sourceRange"]["sources"][0]["startColumnIndex"] == 1
    window = count["axis"][0]["viewWindowOptions"]
    assert (window["viewWindowMin"], window["viewWindowMax"]) == (0, 8)  # six deals at most: ticks 0, 2, 4 …
    rows = [r for r in sheet.charts[0]["spec"]["basicChart"]["domains"][0]["domain"]["sourceRange"]["sources"]]
    assert (rows[0]["startRowIndex"], rows[0]["endRowIndex"]) == (5, 9)  # the four open stages only


def test_excel_summary_shows_yuan_and_wan_in_a_chinese_workbook_with_integer_count_axis(tmp_path, config):
    import openpyxl

    from sheetsync.core.formats import AMOUNT_CN, PATTERNS
    from sheetsync.stores.excel import ExcelStore

    store = ExcelStore(tmp_path / "zh.xlsx")
    store.setup(load_layout("zh", fx.NOW.date()))
    state = State(config.state_path)
    Syncer(store, config, state, clock=lambda: NOW_UTC).run_cycle()
    state.close()
    ws = openpyxl.load_workbook(store.path)["汇总"]
    assert ws["A1"].font.b and ws["A5"].font.b and ws["G5"].font.b and not ws["A6"].font.b
    assert ws["C6"].number_format == PATTERNS[AMOUNT_CN] == '[>=10000]"¥"0\\.0,"万";"¥"#,##0'
    amount, count = ws._charts
    assert count.y_axis.majorUnit == 1 and count.y_axis.number_format.formatCode == "0"
    assert amount.y_axis.majorUnit is None


def test_workbook_summary_keeps_bold_formats_and_charts_when_rewritten_in_place(tmp_path, config, caplog):
    import logging

    import openpyxl

    from sheetsync.stores.excel import ExcelStore

    store = ExcelStore(tmp_path / "review.xlsx")
    store.setup(fixture_layout())
    state = State(config.state_path)
    Syncer(store, config, state, clock=lambda: NOW_UTC).run_cycle()  # draws the charts: a whole save
    wb = openpyxl.load_workbook(store.path)
    wb["Opportunities"]["N2"] = "Won"  # A01 is won: the funnel, results and owner rows all move
    wb.save(store.path)
    caplog.set_level(logging.INFO, logger="sheetsync.stores.excel")
    Syncer(store, config, state, clock=lambda: NOW_UTC + timedelta(hours=1)).run_cycle()
    state.close()
    assert not [r for r in caplog.records if "whole" in r.getMessage()]  # Summary and charts updated in place
    ws = openpyxl.load_workbook(store.path)["Summary"]
    assert ws["A1"].font.b and ws["A5"].font.b and ws["B5"].font.b
    assert not ws["A6"].font.b and not ws["A29"].font.b
    assert ws["C6"].number_format == "#,##0" and ws["F6"].number_format == "0%" and ws["G6"].number_format == "0.0"
    assert ws["B6"].value == 5 and ws["B11"].value == 7  # Lead lost A01, Won gained it
    assert len(ws._charts) == 2
