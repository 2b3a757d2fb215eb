"""The one cleaning step and the stores' refusal: nothing a form sends or a person types can break a save."""

from __future__ import annotations

import zipfile

import openpyxl
import pytest

from sheetsync.core.clean import MAX_CELL_CHARS, clean_text, unsafe_reason
from sheetsync.ports import CellWrite, WriteBatch
from sheetsync.stores import excel as excel_module
from sheetsync.stores.excel_zip import NotSurgical
from sheetsync.stores.safety import UnsafeWrite, check_xlsx, column_letter


@pytest.mark.parametrize("raw, expected", [
    ("X \uffff", "X"),
    ("a\ufffeb", "ab"),
    ("lone \ud800 surrogate \udfff", "lone  surrogate"),
    ("nonchar \ufdd0\U0001fffe\U0010ffff end", "nonchar  end"),
    ("bell\x07 vt\x0b ff\x0c esc\x1b del\x7f c1\x85", "bell vt ff esc del c1"),
    ("keeps\ttab\nand newline", "keeps\ttab\nand newline"),
    ("crlf\r\nline\rend", "crlf\nline\nend"),
    ("中文客户 😀 مرحبا שלום \u202eRTL", "中文客户 😀 مرحبا שלום \u202eRTL"),
    ("=HYPERLINK(\"http://x\")", "=HYPERLINK(\"http://x\")"),
])
def test_clean_text_removes_only_what_a_spreadsheet_cannot_hold(raw, expected):
    cleaned = clean_text(raw)
    assert cleaned.text == expected
    assert unsafe_reason(cleaned.text) is None


def test_clean_text_caps_at_googles_cell_limit_and_says_so():
    cleaned = clean_text("好" * (MAX_CELL_CHARS + 10))
    assert (len(cleaned.text), cleaned.cut) == (MAX_CELL_CHARS, True)
    assert clean_text("x" * 100, limit=10).text == "x" * 10


@pytest.mark.parametrize("value, fragment", [
    ("X \uffff", "U+FFFF at position 3"),
    ("\ud800", "U+D800"),
    ("a\x01", "U+0001"),
    ("x" * (MAX_CELL_CHARS + 1), "50,000"),
    (float("inf"), "not a number"),
    (float("nan"), "not a number"),
])
def test_unsafe_values_are_named(value, fragment):
    assert fragment in unsafe_reason(value)


@pytest.mark.parametrize("value", ["ok", "tab\tnew\nline\rcr", "中文😀", 3, 2.5, None, True])
def test_safe_values_pass(value):
    assert unsafe_reason(value) is None


def test_column_letters():
    assert [column_letter(c) for c in (0, 25, 26, 701, 702)] == ["A", "Z", "AA", "ZZ", "AAA"]


def _write(kit, value):
    snapshot = kit.store.read()
    kit.store.write(snapshot, WriteBatch(cells=[CellWrite("opportunities", 2, 3, value)]))


@pytest.mark.parametrize("value", ["X \uffff", "Y \ufffe", "bad\x02", "\ud800"])
def test_both_stores_refuse_a_value_a_file_cannot_hold_whatever_its_origin(kit, layout, value):
    kit.store.setup(layout)
    before = kit.values("Opportunities")
    with pytest.raises(UnsafeWrite, match=r"refused to write Opportunities!D2: the value holds the character U\+"):
        _write(kit, value)
    assert kit.values("Opportunities") == before


def test_a_refused_write_leaves_a_workbook_that_still_opens(excel, tmp_path):
    with pytest.raises(UnsafeWrite):
        _write(excel, "X \uffff")
    openpyxl.load_workbook(tmp_path / "pipeline.xlsx")
    _write(excel, "fine")  # the store keeps working afterwards
    assert openpyxl.load_workbook(tmp_path / "pipeline.xlsx")["Opportunities"]["D2"].value == "fine"


def test_a_save_that_would_not_open_never_replaces_the_workbook(excel, tmp_path, monkeypatch):
    """Even if a bad value got past the value check, the saved copy is parsed before it replaces the file."""
    monkeypatch.setattr(excel_module, "check_batch", lambda snapshot, batch: None)

    def not_surgical(*args):
        raise NotSurgical("test: take the openpyxl path")

    monkeypatch.setattr(excel.store, "_write_in_place", not_surgical)
    path = tmp_path / "pipeline.xlsx"
    before = path.read_bytes()
    with pytest.raises(UnsafeWrite, match="the new copy would not open .*sheet"):
        _write(excel, "X \uffff")
    assert path.read_bytes() == before
    assert not list(tmp_path.glob(".pipeline-*.tmp"))
    openpyxl.load_workbook(path)


def test_check_xlsx_refuses_broken_zip_and_broken_xml(tmp_path):
    bad_zip = tmp_path / "a.xlsx"
    bad_zip.write_bytes(b"not a zip")
    with pytest.raises(UnsafeWrite, match="not a readable .xlsx"):
        check_xlsx(bad_zip)
    bad_xml = tmp_path / "b.xlsx"
    with zipfile.ZipFile(bad_xml, "w") as zf:
        zf.writestr("xl/worksheets/sheet1.xml", "<a>\uffff</a>")
    with pytest.raises(UnsafeWrite, match="sheet1.xml"):
        check_xlsx(bad_xml)
