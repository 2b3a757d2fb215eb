"""The workbook's fingerprint: what a read returned, told from the zip's table of contents without parsing cells."""

from __future__ import annotations

import pytest
from conftest import NOW

from sheetsync.state import State
from sheetsync.stores import excel_read
from sheetsync.stores.base import CellWrite, WriteBatch
from sheetsync.stores.excel import ExcelStore
from sheetsync.stores.excel_surgical import WorkbookParts
from sheetsync.stores.excel_zip import Package
from sheetsync.sync import Syncer


@pytest.fixture
def synced(excel, config):
    """The template workbook after one sync (IDs, owners and statuses written, charts drawn)."""
    state = State(config.state_path)
    Syncer(excel.store, config, state, clock=lambda: NOW).run_cycle()
    state.close()
    return excel.store.path


def _rezip(path, change=None) -> None:
    """Save the package again, every part re-compressed (as another tool's save would), `change` applied."""
    pkg = Package(path.read_bytes())
    parts = {name: pkg.read(name) for name in pkg.names}
    if change is not None:
        change(parts, WorkbookParts(pkg))
    path.write_bytes(pkg.rewrite(parts))


def test_the_fingerprint_stays_while_the_contents_stay(synced):
    store = ExcelStore(synced)
    first = store.read()
    assert first.fingerprint is not None
    assert store.read().fingerprint == first.fingerprint  # the same store again
    assert ExcelStore(synced).read().fingerprint == first.fingerprint  # a fresh process
    rows = first.tabs["opportunities"].rows
    store.write(first, WriteBatch(cells=[CellWrite("opportunities", 2, 0, rows[1][0])]))  # already there
    assert ExcelStore(synced).read().fingerprint == first.fingerprint
    _rezip(synced)  # every part re-compressed, the same contents
    assert ExcelStore(synced).read().fingerprint == first.fingerprint


def test_the_fingerprint_differs_for_different_tabs_or_names(synced):
    store = ExcelStore(synced)
    every = store.read().fingerprint
    assert store.read(["opportunities"]).fingerprint != every
    assert ExcelStore(synced, named={"history": "Summary"}).read().fingerprint != every


def _cell(parts, book) -> None:
    sheet = book.sheets["Opportunities"]
    xml = parts[sheet]
    parts[sheet] = xml.replace(b"</t>", b"!</t>", 3)  # a header and the first example's cells
    assert parts[sheet] != xml


def _title(parts, book) -> None:
    xml = parts[book.book]
    parts[book.book] = xml.replace(b'name="Rules"', b'name="Rules 2"')
    assert parts[book.book] != xml


def _style(parts, book) -> None:
    assert book.styles_part is not None
    styles = parts[book.styles_part]
    parts[book.styles_part] = styles.replace(b'formatCode="yyyy-mm-dd"', b'formatCode="dd/mm/yyyy"', 1)
    assert parts[book.styles_part] != styles


@pytest.mark.parametrize("change", [_cell, _title, _style], ids=["cell", "title", "style"])
def test_any_change_to_what_is_read_changes_the_fingerprint(synced, change):
    before = ExcelStore(synced).read().fingerprint
    data = synced.read_bytes()
    _rezip(synced, change)
    assert synced.read_bytes() != data
    assert ExcelStore(synced).read().fingerprint != before


def test_a_written_cell_changes_the_fingerprint_for_every_store(synced, excel):
    store = ExcelStore(synced)
    snap = store.read()
    store.write(snap, WriteBatch(cells=[CellWrite("opportunities", 2, 10, "A new need")]))
    after = store.read()
    assert after.fingerprint != snap.fingerprint
    assert ExcelStore(synced).read().fingerprint == after.fingerprint
    excel.edit("Opportunities", "K2", "Typed in Excel")
    assert ExcelStore(synced).read().fingerprint not in (snap.fingerprint, after.fingerprint)


def test_a_read_parses_no_tab_until_its_rows_are_used(synced, monkeypatch):
    parsed: list[str] = []
    real = excel_read.ValuesReader.rows

    def counting(self, title):
        parsed.append(title)
        return real(self, title)

    monkeypatch.setattr(excel_read.ValuesReader, "rows", counting)
    snap = ExcelStore(synced).read()
    assert snap.fingerprint and snap.tabs["opportunities"].title == "Opportunities" and "Summary" in snap.titles
    assert parsed == []
    rows = snap.tabs["opportunities"].rows
    assert parsed == ["Opportunities"] and rows[0][0] == "ID"
    assert snap.tabs["opportunities"].rows is rows and parsed == ["Opportunities"]


def test_lazy_rows_are_those_of_the_version_read_even_after_someone_saves(synced, excel):
    snap = ExcelStore(synced).read()
    expected = excel.values("Opportunities")[1][3]
    excel.edit("Opportunities", "D2", "Renamed after the read")
    assert snap.tabs["opportunities"].rows[1][3] == expected
    assert ExcelStore(synced).read().tabs["opportunities"].rows[1][3] == "Renamed after the read"


def test_the_rows_handed_out_are_copies(synced):
    store = ExcelStore(synced)
    snap = store.read()
    snap.tabs["opportunities"].rows[1][3] = "scribbled by a caller"
    assert store.read().tabs["opportunities"].rows[1][3] != "scribbled by a caller"
