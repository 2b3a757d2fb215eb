"""The fake Sheets API itself behaves like Google where the store depends on it (and where peers trip)."""

from __future__ import annotations

import pytest
import requests
from fake_sheets import FakeSheets
from fake_sheets_grid import Formula

BASE = "https://sheets.googleapis.com/v4/spreadsheets/fake-spreadsheet-0001"


@pytest.fixture
def fake():
    sheets = FakeSheets()
    sheets.add_sheet("T", [["Name", "Phone"], ["Ann", "1"], ["Bob", "2"], [], ["Eve", "5"]])
    with sheets.mock():
        yield sheets


def put(a1: str, values, option: str) -> requests.Response:
    return requests.put(f"{BASE}/values/{a1}", params={"valueInputOption": option}, json={"values": values})


def test_user_entered_parses_formulas_and_numbers_but_raw_keeps_text(fake):
    put("T!C1", [["=1+2", "0138", "TRUE", "2026-11-28"]], "USER_ENTERED").raise_for_status()
    put("T!C2", [["=1+2", "0138"]], "RAW").raise_for_status()
    assert isinstance(fake.cell("T", "C1"), Formula) and fake.cell("T", "D1") == 138
    assert fake.cell("T", "E1") is True and fake.sheet("T").number_format(0, 5)["type"] == "DATE"
    assert fake.cell("T", "C2") == "=1+2" and not isinstance(fake.cell("T", "C2"), Formula)
    assert fake.cell("T", "D2") == "0138"


def test_values_get_honours_render_options(fake):
    fake.type("T", "C2", "2026-11-28")
    url = f"{BASE}/values/T!C2"
    serial = requests.get(url, params={"valueRenderOption": "UNFORMATTED_VALUE"}).json()["values"]
    text = requests.get(url, params={"valueRenderOption": "UNFORMATTED_VALUE",
                                     "dateTimeRenderOption": "FORMATTED_STRING"}).json()["values"]
    assert serial == [[46354]] and text == [["2026-11-28"]]


def test_append_stops_at_the_first_blank_row_and_overwrite_overwrites(fake):
    answer = requests.post(f"{BASE}/values/T!A1:append", params={"valueInputOption": "RAW"},
                           json={"values": [["New1"], ["New2"]]}).json()
    assert answer["tableRange"] == "T!A1:B3"
    assert fake.cell("T", "A4") == "New1" and fake.cell("T", "A5") == "New2"  # Eve was overwritten


def test_append_with_insert_rows_keeps_rows_but_lands_in_the_gap(fake):
    requests.post(f"{BASE}/values/T!A1:append", params={"valueInputOption": "RAW", "insertDataOption": "INSERT_ROWS"},
                  json={"values": [["New1"]]}).raise_for_status()
    assert [r[0] if r else None for r in fake.values("T")] == ["Name", "Ann", "Bob", "New1", None, "Eve"]


def test_append_cells_goes_after_the_last_row_with_data(fake):
    sheet_id = fake.sheet("T").sheet_id
    body = {"requests": [{"appendCells": {"sheetId": sheet_id, "fields": "userEnteredValue",
                                          "rows": [{"values": [{"userEnteredValue": {"stringValue": "New"}}]}]}}]}
    requests.post(f"{BASE}:batchUpdate", json=body).raise_for_status()
    assert fake.cell("T", "A6") == "New" and fake.cell("T", "A5") == "Eve"


def test_unknown_requests_and_out_of_grid_writes_are_refused_and_nothing_is_applied(fake):
    sheet_id = fake.sheet("T").sheet_id
    write = {"updateCells": {"start": {"sheetId": sheet_id, "rowIndex": 0, "columnIndex": 0},
                             "fields": "userEnteredValue",
                             "rows": [{"values": [{"userEnteredValue": {"stringValue": "Changed"}}]}]}}
    unknown = requests.post(f"{BASE}:batchUpdate", json={"requests": [write, {"frobnicate": {}}]})
    assert unknown.status_code == 400 and "Unknown name \"frobnicate\"" in unknown.json()["error"]["message"]
    beyond = dict(write, updateCells=dict(write["updateCells"], start={"sheetId": sheet_id, "rowIndex": 5000}))
    too_far = requests.post(f"{BASE}:batchUpdate", json={"requests": [write, beyond]})
    assert too_far.status_code == 400 and "exceeds grid limits" in too_far.text
    assert fake.cell("T", "A1") == "Name"


def test_failures_on_demand_and_request_counts(fake):
    fake.fail(429, times=2, retry_after="3")
    statuses = [requests.get(BASE).status_code for _ in range(3)]
    assert statuses == [429, 429, 200] and fake.count("get") == 3
    assert requests.get(BASE.replace("0001", "0002")).status_code == 404


def test_grid_data_for_ranges_returns_only_those_tabs(fake):
    answer = requests.get(BASE, params={"includeGridData": "true", "ranges": "'T'!1:2"}).json()
    assert [s["properties"]["title"] for s in answer["sheets"]] == ["T"]
    row = answer["sheets"][0]["data"][0]["rowData"][0]["values"]
    assert row[0]["userEnteredValue"] == {"stringValue": "Name"}


def test_one_format_for_a_whole_column_stays_per_cell_and_a_failed_batch_puts_formats_back(fake):
    sheet = fake.sheet("T")
    bold = {"repeatCell": {"range": {"sheetId": sheet.sheet_id, "startRowIndex": 0, "endRowIndex": 5,
                                     "startColumnIndex": 0, "endColumnIndex": 1},
                           "cell": {"userEnteredFormat": {"textFormat": {"bold": True}}},
                           "fields": "userEnteredFormat.textFormat.bold"}}
    requests.post(f"{BASE}:batchUpdate", json={"requests": [bold]}).raise_for_status()
    sheet.cell_meta(1, 0)["format"]["textFormat"]["bold"] = False  # a person un-bolds one cell
    assert [sheet.number_format(r, 0) for r in range(5)] == [{}] * 5
    assert [sheet.cell_meta(r, 0)["format"]["textFormat"]["bold"] for r in range(5)] == [True, False, True, True, True]
    italic = dict(bold, repeatCell=dict(bold["repeatCell"], fields="userEnteredFormat.textFormat.italic",
                                        cell={"userEnteredFormat": {"textFormat": {"italic": True}}}))
    refused = requests.post(f"{BASE}:batchUpdate", json={"requests": [italic, {"frobnicate": {}}]})
    assert refused.status_code == 400
    sheet = fake.sheet("T")  # the tab as it was before the batch
    assert [sheet.cell_meta(r, 0)["format"]["textFormat"] for r in range(3)] == [{"bold": True}, {"bold": False},
                                                                                 {"bold": True}]
