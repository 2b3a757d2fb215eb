"""The fake Sheets API answers as the real one did in recorded traffic.

The facts below were transcribed by hand from gspread's public test cassettes (recordings of the real
Sheets API v4, tests/cassettes in github.com/burnash/gspread): the request made, and the parts of the real
answer that sheetsync's code or this fake's fidelity depend on. No cassette content is copied here beyond
those few values.
"""

from __future__ import annotations

import json

import pytest
import requests
from fake_sheets import FakeSheets

BASE = "https://sheets.googleapis.com/v4/spreadsheets"


@pytest.fixture
def api():
    fake = FakeSheets(first_tab=None)
    with fake.mock():
        session = requests.Session()

        def call(method: str, path: str, **kw):
            answer = session.request(method, f"{BASE}/{fake.spreadsheet_id}{path}", **kw)
            assert answer.status_code == 200, answer.text
            return answer.json()

        yield fake, call


def test_formulas_read_as_their_value_unless_formula_is_asked_for(api):
    # WorksheetTest.test_get_all_records_value_render_options: USER_ENTERED into a 2x4 sheet, read three ways.
    fake, call = api
    fake.add_sheet("Sheet1", row_count=2, cols=4)
    call("PUT", "/values/Sheet1!A1:D2", params={"valueInputOption": "USER_ENTERED"},
         json={"values": [["=4/2", "2020-01-01", "string", 53], ["=3/2", 0.12, "1999-01-02", ""]]})
    formatted = call("GET", "/values/Sheet1")
    assert formatted["range"] == "Sheet1!A1:D2"
    assert formatted["values"] == [["2", "2020-01-01", "string", "53"], ["1.5", "0.12", "1999-01-02"]]
    unformatted = call("GET", "/values/Sheet1", params={"valueRenderOption": "UNFORMATTED_VALUE"})
    assert unformatted["values"] == [[2, 43831, "string", 53], [1.5, 0.12, 36162]]
    formulas = call("GET", "/values/Sheet1", params={"valueRenderOption": "FORMULA"})
    assert formulas["values"] == [["=4/2", 43831, "string", 53], ["=3/2", 0.12, 36162]]


def test_batch_get_keeps_inner_blanks_and_drops_trailing_ones(api):
    # WorksheetTest.test_batch_get: RAW rows with blanks, then two ranges in one values:batchGet.
    fake, call = api
    fake.add_sheet("Sheet1")
    call("PUT", "/values/Sheet1!A1", params={"valueInputOption": "RAW"},
         json={"values": [["A1", "B1", "", "D1"], ["", "b2", "", ""], ["", "", "", ""], ["A4", "B4", "", "D4"]]})
    answer = call("GET", "/values:batchGet", params={"ranges": ["Sheet1!A1:B1", "Sheet1!B4:D4"]})
    assert answer == {"spreadsheetId": fake.spreadsheet_id, "valueRanges": [
        {"range": "Sheet1!A1:B1", "majorDimension": "ROWS", "values": [["A1", "B1"]]},
        {"range": "Sheet1!B4:D4", "majorDimension": "ROWS", "values": [["B4", "", "D4"]]}]}


def test_a_whole_column_range_is_answered_bounded_by_the_grid(api):
    # SpreadsheetTest.test_values_batch_get: "A:A" on a 10-row tab comes back as A1:A10.
    fake, call = api
    fake.add_sheet("Fruit 1", row_count=10, cols=10)
    call("PUT", "/values/'Fruit 1'!A1", params={"valueInputOption": "RAW"}, json={"values": [["a"], ["b"]]})
    answer = call("GET", "/values:batchGet", params={"ranges": ["'Fruit 1'!A:A"]})
    assert answer["valueRanges"][0]["range"] == "'Fruit 1'!A1:A10"
    assert answer["valueRanges"][0]["values"] == [["a"], ["b"]]


def test_an_empty_range_has_no_values_key(api):
    # WorksheetTest.test_get_all_records_value_render_options: reading A1:D2 of a cleared sheet.
    fake, call = api
    fake.add_sheet("Sheet1", row_count=2, cols=4)
    assert call("GET", "/values/Sheet1!A1:D2") == {"range": "Sheet1!A1:D2", "majorDimension": "ROWS"}


def test_clearing_a_whole_tab_names_the_whole_grid(api):
    # WorksheetTest.test_get_notes: clearing 'Sheet1' (1000 x 26) answers clearedRange Sheet1!A1:Z1000.
    fake, call = api
    fake.add_sheet("Sheet1")
    answer = call("POST", "/values/'Sheet1':clear")
    assert answer == {"spreadsheetId": fake.spreadsheet_id, "clearedRange": "Sheet1!A1:Z1000"}


def test_a_fields_mask_keeps_only_what_it_names(api):
    # WorksheetTest.test_get_notes: fields=sheets.data.rowData.values.note on a tab without notes.
    fake, call = api
    fake.add_sheet("Sheet1")
    answer = call("GET", "", params={"fields": "sheets.data.rowData.values.note", "ranges": "'Sheet1'"})
    assert answer == {"sheets": [{"data": [{}]}]}


def test_batch_update_replies_one_entry_per_request_and_add_sheet_describes_the_tab(api):
    # SpreadsheetTest.test_values_batch_get: addSheet with a 10 x 10 grid; deleteSheet replies {}.
    fake, call = api
    fake.add_sheet("Sheet1")
    body = {"requests": [{"addSheet": {"properties": {"title": "Fruit 1", "sheetType": "GRID",
                                                      "gridProperties": {"rowCount": 10, "columnCount": 10}}}}]}
    answer = call("POST", ":batchUpdate", data=json.dumps(body))
    assert set(answer) == {"spreadsheetId", "replies"} and len(answer["replies"]) == 1
    props = answer["replies"][0]["addSheet"]["properties"]
    assert props["title"] == "Fruit 1" and props["index"] == 1 and props.get("sheetType", "GRID") == "GRID"
    assert props["gridProperties"] == {"rowCount": 10, "columnCount": 10}
    gone = call("POST", ":batchUpdate", data=json.dumps({"requests": [{"deleteSheet": {"sheetId": props["sheetId"]}}]}))
    assert gone["replies"] == [{}]


def test_the_stores_metadata_mask_keeps_what_chart_diffing_compares(api):
    """A steady cycle must not rewrite charts: the metadata mask sheetsync sends keeps whole chart specs."""
    from sheetsync.stores.google_meta import METADATA_FIELDS

    fake, call = api
    fake.add_sheet("Summary")
    spec = {"title": "T", "basicChart": {"chartType": "BAR", "legendPosition": "NO_LEGEND", "axis": [{"title": "x"}]}}
    fake.sheet("Summary").charts.append({"chartId": 7, "spec": spec, "position": {}})
    answer = call("GET", "", params={"fields": METADATA_FIELDS, "includeGridData": "false"})
    assert answer["sheets"][0]["charts"][0]["spec"] == spec
