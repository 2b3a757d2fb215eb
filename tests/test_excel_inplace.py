"""The workbook written in place: only changed parts re-written, files other programs saved kept intact."""

from __future__ import annotations

import re
import zipfile
import zlib
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from conftest import NOW

from sheetsync.state import State
from sheetsync.stores.base import CellWrite, WriteBatch
from sheetsync.stores.excel import ExcelStore
from sheetsync.stores.excel_sheet import SheetEdit, SheetXml
from sheetsync.stores.excel_values import normal, normal_row
from sheetsync.stores.excel_zip import deflate
from sheetsync.stores.safety import UnsafeWrite, check_fragment
from sheetsync.sync import Syncer

NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
RNS = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
HEADERS = ["ID", "Customer", "Contact", "Phone", "Owner", "Stage", "Next follow-up", "Status", "Total"]
SHAPE = (b'<xdr:wsDr xmlns:xdr="http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing" '
         b'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"><xdr:twoCellAnchor><xdr:from><xdr:col>10'
         b'</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>1</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:from><xdr:to>'
         b'<xdr:col>12</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>4</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:to>'
         b'<xdr:sp><xdr:nvSpPr><xdr:cNvPr id="2" name="Arrow"/><xdr:cNvSpPr/></xdr:nvSpPr><xdr:spPr>'
         b'<a:prstGeom prst="rightArrow"/></xdr:spPr></xdr:sp><xdr:clientData/></xdr:twoCellAnchor></xdr:wsDr>')


def office_saved(path: Path, calc_chain: bool = False) -> None:
    """A workbook as Excel or LibreOffice leave it: shared strings, spans, formatted empty rows, a shape."""
    strings = HEADERS + ["OPP-AAAAAA", "Acme", "Li Lei", "Lead", "History"]
    sst = "".join(f"<si><t>{s}</t></si>" for s in strings)
    header = "".join(f'<c r="{chr(65 + i)}1" s="1" t="s"><v>{i}</v></c>' for i in range(len(HEADERS)))
    row2 = ('<c r="A2" t="s"><v>9</v></c><c r="B2" t="s"><v>10</v></c><c r="C2" t="s"><v>11</v></c>'
            '<c r="D2" t="s"><v>0</v></c><c r="F2" t="s"><v>12</v></c><c r="G2" s="2"><v>46357</v></c>'
            '<c r="I2"><f>LEN(B2)</f><v>4</v></c>')
    empty_rows = "".join(f'<row r="{r}" spans="1:9" s="3" customFormat="1" ht="15"/>' for r in range(3, 8))
    sheet = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet {NS} {RNS}>'
             '<dimension ref="A1:I7"/><cols><col min="7" max="7" width="12" style="2" customWidth="1"/></cols>'
             f'<sheetData><row r="1" spans="1:9">{header}</row><row r="2" spans="1:9">{row2}</row>{empty_rows}'
             '</sheetData><drawing r:id="rId1"/></worksheet>')
    history = (f'<worksheet {NS}><dimension ref="A1"/><sheetData><row r="1"><c r="A1" t="s"><v>13</v></c></row>'
               '</sheetData></worksheet>')
    styles = (f'<styleSheet {NS}><numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy\\-mm\\-dd"/></numFmts>'
              '<fonts count="2"><font><sz val="11"/></font><font><b/><sz val="11"/></font></fonts>'
              '<fills count="2"><fill><patternFill/></fill><fill><patternFill patternType="gray125"/></fill></fills>'
              '<borders count="1"><border/></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" '
              'fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" '
              'borderId="0" xfId="0"/><xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" '
              'applyFont="1"/><xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" '
              'applyNumberFormat="1"/><xf numFmtId="0" fontId="0" fillId="1" borderId="0" xfId="0"/></cellXfs>'
              '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
              '</styleSheet>')
    parts = {
        "[Content_Types].xml": '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        'spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/worksheets/'
        'sheet2.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        'spreadsheetml.styles+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.'
        'openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/><Override PartName="/xl/drawings/'
        'drawing1.xml" ContentType="application/vnd.openxmlformats-officedocument.drawing+xml"/>'
        + ('<Override PartName="/xl/calcChain.xml" ContentType="application/vnd.openxmlformats-officedocument.'
           'spreadsheetml.calcChain+xml"/>' if calc_chain else "") + "</Types>",
        "_rels/.rels": f'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<workbook {NS} {RNS}><sheets><sheet name="Opportunities" sheetId="1" r:id="rId1"/>'
        '<sheet name="History" sheetId="2" r:id="rId2"/></sheets><calcPr calcId="191029"/></workbook>',
        "xl/_rels/workbook.xml.rels": '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
        f'relationships"><Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{REL}/worksheet" Target="worksheets/sheet2.xml"/>'
        f'<Relationship Id="rId3" Type="{REL}/styles" Target="styles.xml"/>'
        f'<Relationship Id="rId4" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>'
        + (f'<Relationship Id="rId5" Type="{REL}/calcChain" Target="calcChain.xml"/>' if calc_chain else "")
        + "</Relationships>",
        "xl/worksheets/sheet1.xml": sheet,
        "xl/worksheets/sheet2.xml": history,
        "xl/worksheets/_rels/sheet1.xml.rels": '<Relationships xmlns="http://schemas.openxmlformats.org/package/'
        f'2006/relationships"><Relationship Id="rId1" Type="{REL}/drawing" Target="../drawings/drawing1.xml"/>'
        "</Relationships>",
        "xl/drawings/drawing1.xml": SHAPE.decode(),
        "xl/styles.xml": styles,
        "xl/sharedStrings.xml": f'<sst {NS} count="{len(strings)}" uniqueCount="{len(strings)}">{sst}</sst>',
    }
    if calc_chain:
        parts["xl/calcChain.xml"] = f'<calcChain {NS}><c r="I2" i="1"/></calcChain>'
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in parts.items():
            z.writestr(name, body)


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {name: z.read(name) for name in z.namelist()}


def row_numbers(xml: bytes) -> list[int]:
    return [int(n) for n in re.findall(rb'<row [^>]*?r="(\d+)"', xml)]


@pytest.fixture
def office(tmp_path) -> Path:
    path = tmp_path / "pipeline.xlsx"
    office_saved(path)
    return path


def test_a_workbook_saved_by_office_reads_through_its_shared_strings(office):
    snap = ExcelStore(office).read()
    assert snap.tabs["opportunities"].rows[0] == HEADERS
    assert snap.tabs["opportunities"].rows[1][:3] == ["OPP-AAAAAA", "Acme", "Li Lei"]
    assert snap.tabs["opportunities"].rows[1][6] == datetime(2026, 12, 1)
    assert len(snap.tabs["opportunities"].rows) == 2  # the formatted empty rows below are not data


def test_a_write_keeps_every_other_part_byte_for_byte_and_merges_into_formatted_rows(office):
    before = members(office)
    store = ExcelStore(office)
    snap = store.read()
    store.write(snap, WriteBatch(
        cells=[CellWrite("opportunities", 2, 7, "OK"), CellWrite("opportunities", 2, 4, "Ann")],
        appends={"opportunities": [[None, "New Co", "Wang", "13800138000", None, "Lead", date(2026, 12, 3)]]}))
    after = members(office)
    changed = {name for name in before if before[name] != after[name]}
    assert changed == {"xl/worksheets/sheet1.xml"}  # the shape, shared strings and styles untouched
    assert row_numbers(after["xl/worksheets/sheet1.xml"]) == [1, 2, 3, 4, 5, 6, 7]  # row 3 merged, not doubled
    ws = openpyxl.load_workbook(office)["Opportunities"]
    assert [ws.cell(2, c).value for c in (5, 8, 9)] == ["Ann", "OK", "=LEN(B2)"]  # the formula is kept
    assert ws["B3"].value == "New Co" and ws["G3"].value == datetime(2026, 12, 3)
    assert ws["G3"].number_format.replace("\\", "") == "yyyy-mm-dd"  # the column's own date style, reused
    fresh = ExcelStore(office).read().tabs["opportunities"].rows
    assert fresh[2][:3] == [None, "New Co", "Wang"] and len(fresh) == 3


def test_the_dimension_grows_with_the_rows_written(office):
    store = ExcelStore(office)
    snap = store.read()
    rows = [[f"OPP-{i:06d}", f"Co {i}"] + [None] * 8 + [f"extra {i}"] for i in range(8)]
    store.write(snap, WriteBatch(appends={"opportunities": rows}))
    sheet = members(office)["xl/worksheets/sheet1.xml"]
    assert b'<dimension ref="A1:K10"/>' in sheet
    assert row_numbers(sheet) == list(range(1, 11))


@pytest.mark.parametrize("value", [
    "line one\r\nline two", "  padded  ", "a < b & c > d", "_x0041_ stays literal", "=SUM(A1:A3)", "+86 138",
    "-5", "@home", "中文 客户", "tab\there",
])
def test_text_comes_back_exactly_as_written_and_never_as_a_formula(office, value):
    store = ExcelStore(office)
    snap = store.read()
    store.write(snap, WriteBatch(cells=[CellWrite("opportunities", 2, 7, value)]))
    assert ExcelStore(office).read().tabs["opportunities"].rows[1][7] == value
    cell = openpyxl.load_workbook(office)["Opportunities"]["H2"]
    assert cell.data_type == "s"
    assert cell.quotePrefix == value.startswith(("=", "+", "-", "@"))


def test_numbers_dates_and_booleans_keep_their_types(office):
    store = ExcelStore(office)
    snap = store.read()
    values = [12, 1250.5, True, datetime(2026, 11, 28, 9, 30), date(2026, 12, 24)]
    store.write(snap, WriteBatch(appends={"opportunities": [[None, *values]]}))
    row = ExcelStore(office).read().tabs["opportunities"].rows[2]
    assert row[1:6] == [12, 1250.5, True, datetime(2026, 11, 28, 9, 30), datetime(2026, 12, 24)]
    ws = openpyxl.load_workbook(office)["Opportunities"]
    assert ws["E3"].number_format == "yyyy-mm-dd hh:mm"
    assert ws["F3"].number_format.replace("\\", "") == "yyyy-mm-dd"  # the workbook's own date format, reused


def test_a_write_that_changes_nothing_leaves_the_file_alone(office):
    store = ExcelStore(office)
    snap = store.read()
    stamp = office.stat().st_mtime_ns
    store.write(snap, WriteBatch(cells=[CellWrite("opportunities", 2, 1, "Acme")],
                                 replace={"history": []}))
    assert office.stat().st_mtime_ns == stamp


def test_overwriting_a_formula_drops_the_stale_calculation_chain(tmp_path):
    path = tmp_path / "pipeline.xlsx"
    office_saved(path, calc_chain=True)
    store = ExcelStore(path)
    snap = store.read()
    store.write(snap, WriteBatch(cells=[CellWrite("opportunities", 2, 8, "typed over")]))
    assert "xl/calcChain.xml" not in members(path)
    assert ExcelStore(path).read().tabs["opportunities"].rows[1][8] == "typed over"


def test_what_the_store_remembers_is_what_a_fresh_read_finds(excel, config):
    state = State(config.state_path)
    try:
        syncer = Syncer(excel.store, config, state, clock=lambda: NOW)
        for _ in range(3):
            syncer.run_cycle()
            excel.edit("Opportunities", "D30", "Typed between cycles")
            syncer.run_cycle()
    finally:
        state.close()
    assert excel.store.read() .tabs == ExcelStore(excel.store.path).read().tabs


def _sheet(rows: list[int]) -> bytes:
    body = "".join(f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>row {r}</t></is></c></row>\n' for r in rows)
    return (f'<worksheet {NS}><dimension ref="A1:A{max(rows)}"/><sheetData>{body}</sheetData>'
            '<pageMargins left="0.7"/></worksheet>').encode()


def _text(row: int, col: int, value: object, style: int | None) -> bytes | None:
    return None if value is None else f'<c r="{chr(65 + col)}{row}" t="inlineStr"><is><t>{value}</t></is></c>'.encode()


@pytest.mark.parametrize("numbers", [
    [1], [3], [2500], [2501], [2600], [1, 2, 3], [7, 1999, 2001, 2600], list(range(1, 200, 3)),
])
def test_rows_found_by_bisecting_a_part_sheetsync_wrote_land_where_a_full_index_puts_them(numbers):
    xml = _sheet([r for r in range(2, 2501) if r % 7])  # 2,142 rows with gaps, ~180 KB
    edit = SheetEdit()
    for n in numbers:
        edit.set(n, 1, f"new {n}")
    if numbers[0] % 7:
        edit.drop.add(numbers[0] + 1 if (numbers[0] + 1) % 7 else numbers[0] + 2)
    indexed, bisected = SheetXml(xml), SheetXml(xml, ordered=True)
    assert bisected.apply(edit, _text) == indexed.apply(edit, _text)
    assert row_numbers(bisected.apply(edit, _text)) == sorted(row_numbers(bisected.apply(edit, _text)))


def test_a_row_that_would_not_parse_is_refused_before_anything_is_written():
    check_fragment(b'<row r="2"><c r="A2"><v>1</v></c></row>', "xl/worksheets/sheet1.xml")
    with pytest.raises(UnsafeWrite, match="sheet1.xml: the new rows would not open"):
        check_fragment(b'<row r="2"><c r="A2"><v>1</v></row>', "xl/worksheets/sheet1.xml")


def test_writes_in_a_row_from_one_store_read_back_as_a_fresh_store_reads_them(excel, config):
    state = State(config.state_path)
    try:
        syncer = Syncer(excel.store, config, state, clock=lambda: NOW)
        syncer.run_cycle()
        for i in range(3):
            excel.store.write(excel.store.read(), WriteBatch(
                cells=[CellWrite("opportunities", 3, 10, f"need {i}")],
                appends={"opportunities": [[None, None, None, f"Flush Co {i}"]]}))
    finally:
        state.close()
    assert excel.store.read().tabs == ExcelStore(excel.store.path).read().tabs
    rows = ExcelStore(excel.store.path).read().tabs["opportunities"].rows
    assert [r[3] for r in rows[-3:]] == ["Flush Co 0", "Flush Co 1", "Flush Co 2"] and rows[2][10] == "need 2"


def test_a_part_written_again_compresses_only_the_chunks_whose_bytes_changed():
    body = b"".join(b'<row r="%d"><c><v>%d</v></c></row>' % (i, i * 7919 % 10007) for i in range(1, 60000))
    first = deflate(body)
    assert zlib.decompress(first.payload, -15) == body and first.crc == zlib.crc32(body)
    start, end = body.index(b'<row r="30000">'), body.index(b'<row r="30001">')
    row, tail = b'<row r="30000"><c><v>changed</v></c></row>', b'<row r="60000"><c><v>1</v></c></row>'
    changed = body[:start] + row + body[end:] + tail
    second = deflate(changed, first, [(0, 0, start), (start + len(row), end, len(body) - end)])
    assert zlib.decompress(second.payload, -15) == changed and second.crc == zlib.crc32(changed)
    kept = {id(c) for _, _, c in first.chunks} & {id(c) for _, _, c in second.chunks}
    assert len(first.chunks) >= 8 and len(second.chunks) - len(kept) <= 3  # the changed row's chunk, the last


def test_a_row_read_is_normalised_cell_by_cell_whatever_the_types():
    row = ["", "x", " ", 0, 1, True, 1.0, 1.5, Decimal("2.0"), Decimal("2.5"), date(2026, 1, 1),
           datetime(2026, 1, 1, 5), time(3), timedelta(1), None, "", None]
    expected = [normal(c) for c in row]
    while expected[-1] is None:
        expected.pop()
    got = normal_row(row)
    assert got == expected and [type(c) for c in got] == [type(c) for c in expected]
