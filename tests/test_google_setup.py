"""`sheetsync init` on a Google Sheet: one batchUpdate, nothing deleted or reordered, nothing added twice."""

from __future__ import annotations

import threading

from conftest import TODAY
from fake_sheets import FakeSheets
from fake_sheets_http import make_server

from sheetsync.config import Config
from sheetsync.core.schema import OPPORTUNITIES, SYSTEM
from sheetsync.stores.google import GoogleStore
from sheetsync.template import load_layout

HEAD = [c.en for c in OPPORTUNITIES.columns]
COL = {c.key: i for i, c in enumerate(OPPORTUNITIES.columns)}


def test_setup_on_a_new_spreadsheet_lays_everything_out_in_one_batch_update(fake, store, layout):
    lines = store.setup(layout)
    assert [c.kind for c in fake.calls] == ["get", "get", "batchUpdate"]
    assert "Added tab 'Opportunities' with 10 example rows" in lines
    assert "Added the funnel charts to 'Summary'" in lines
    opp = fake.sheet("Opportunities")
    assert opp.frozen_rows == 1 and opp.cell_meta(0, 0)["format"]["textFormat"]["bold"] is True
    assert fake.values("Opportunities")[0] == HEAD
    rule = opp.cell_meta(500, COL["stage"])["validation"]
    assert rule["condition"] == {"type": "ONE_OF_RANGE", "values": [{"userEnteredValue": "='Stages'!$A$2:$A"}]}
    assert "TODAY()" in str(opp.conditional) and "$R2" in str(opp.conditional)
    assert opp.number_format(700, COL["expected_close"])["type"] == "DATE"
    assert opp.widths[COL["customer"]] > opp.widths[COL["id"]]
    system = {c.en for c in OPPORTUNITIES.columns if c.owner == SYSTEM}
    assert {p["description"].split("column ")[-1] for p in opp.protected} == system
    assert all(p["warningOnly"] for s in fake.sheets for p in s.protected)
    assert [p["range"] for p in fake.sheet("History").protected] == [{"sheetId": fake.sheet("History").sheet_id}]
    assert len(fake.sheet("Summary").charts) == 2  # open stages by amount and by count


def test_setup_twice_adds_nothing(fake, store, layout):
    store.setup(layout)
    fake.reset_counts()
    assert store.setup(layout) == []
    assert fake.count("batchUpdate") == 0 and fake.count() == 2
    assert len(fake.sheet("Summary").charts) == 2 and len(fake.sheet("Opportunities").conditional) == 1


def test_setup_on_an_existing_sheet_appends_missing_columns_and_keeps_order_and_data(fake, store, layout):
    own = ["Customer", "My notes", "电话", "ID", "Stage"]
    fake.add_sheet("商机", [own, ["Acme", "call back", "13800138000", "OPP-1", "Lead"]], cols=5)
    lines = store.setup(layout)
    row = fake.values("商机")
    assert row[0][:5] == own and row[1][:5] == ["Acme", "call back", "13800138000", "OPP-1", "Lead"]
    held_back = ("Owner", "Last contact", "Next follow-up")  # blank, they would change what the next sync does
    added = [h for h in HEAD if h not in ("Customer", "Phone", "ID", "Stage", *held_back)]
    assert row[0][5:] == added and len(row) == 2  # no example rows in a tab people already use
    assert "Added column 'Created' to '商机'" in lines and not any("Added tab '商机'" in line for line in lines)
    assert any(line.startswith("没有向「商机」添加「负责人」列") and "「My notes」" in line for line in lines)
    sheet = fake.sheet("商机")
    assert sheet.cols >= len(own) + len(added)
    assert sheet.cell_meta(1, 4)["validation"]["condition"]["type"] == "ONE_OF_RANGE"
    again = store.setup(layout)
    assert len(again) == len(held_back) and all(line.startswith("没有向「商机」添加") for line in again)


def test_setup_keeps_a_dropdown_and_formats_people_already_set(fake, store, layout):
    store.setup(layout)
    opp = fake.sheet("Opportunities")
    opp.cell_meta(1, COL["stage"])["validation"] = {"condition": {"type": "ONE_OF_LIST", "values": []}}
    opp.cell_meta(1, COL["amount"])["format"] = {"numberFormat": {"type": "CURRENCY", "pattern": "$#,##0"}}
    opp.frozen_rows = 0
    assert store.setup(layout) == ["Made the header row of 'Opportunities' frozen"]
    assert opp.cell_meta(1, COL["stage"])["validation"]["condition"]["type"] == "ONE_OF_LIST"
    assert opp.number_format(1, COL["amount"])["type"] == "CURRENCY"


def test_chinese_setup_names_tabs_and_columns_in_chinese(fake, store):
    lines = store.setup(load_layout("zh", TODAY))
    assert "Added tab '商机' with 10 example rows" in lines
    assert fake.sheet("商机").charts == []
    titles = [c["spec"]["title"] for c in fake.sheet("汇总").charts]
    assert titles == ["在手商机阶段漏斗（金额）", "在手商机阶段漏斗（数量）"]


def test_the_cli_path_works_against_the_fake_served_on_loopback(layout):
    fake = FakeSheets()
    server = make_server(fake)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        endpoint = f"http://127.0.0.1:{server.server_port}"
        store = GoogleStore(Config(store="google", google_spreadsheet=fake.spreadsheet_id,
                                   google_api_endpoint=endpoint))
        assert any("Opportunities" in line for line in store.setup(layout))
        assert store.read().tabs["opportunities"].rows[1][COL["customer"]] == "Acme Machinery"
        assert store.describe() == f"Google Sheet {fake.spreadsheet_id} via {endpoint}"
    finally:
        server.shutdown()
        server.server_close()
