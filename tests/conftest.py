"""Shared fixtures: a fixed clock, the en template, and one store kit per store adapter."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from pg import skip_unless_available, throwaway_database

from sheetsync.config import Config
from sheetsync.core.schema import OPPORTUNITIES
from sheetsync.state import State
from sheetsync.stores.base import Store
from sheetsync.stores.excel import ExcelStore
from sheetsync.sync import Syncer
from sheetsync.template import Layout, load_layout

TODAY = date(2026, 11, 28)
NOW = datetime(2026, 11, 28, 9, 30, tzinfo=timezone.utc)


@pytest.fixture
def layout() -> Layout:
    return load_layout("en", TODAY)


@dataclass
class StoreKit:
    """A store under test plus a way to play a person editing the sheet behind its back."""

    store: Store
    edit: Callable[[str, str, object], None]
    """edit(tab title, A1 cell, value): a person types a value and saves."""
    values: Callable[[str], list[list[object]]]
    """values(tab title): every row of a tab as a person would see it now."""
    sort: Callable[[str, int], None] = lambda title, col: None  # noqa: E731
    """sort(tab title, 0-based column): a person sorts the rows below the header (blanks last) and saves."""
    insert_row: Callable[[str, int], None] = lambda title, row: None  # noqa: E731
    """insert_row(tab title, 1-based row): a person inserts a blank row above `row` and saves."""
    delete_row: Callable[[str, int], None] = lambda title, row: None  # noqa: E731
    """delete_row(tab title, 1-based row): a person deletes a row and saves."""
    in_gap: Callable[[Callable[[], None]], None] = lambda action: action()  # noqa: E731
    """in_gap(action): run a person's action exactly between the store's last check and its write, once."""


def _sort_key(value: object) -> tuple[int, str]:
    return (1, "") if value in (None, "") else (0, str(value))


def excel_kit(tmp_path: Path) -> StoreKit:
    path = tmp_path / "pipeline.xlsx"
    store = ExcelStore(path)

    def edit(title: str, cell: str, value: object) -> None:
        wb = openpyxl.load_workbook(path)
        wb[title][cell] = value
        wb.save(path)

    def values(title: str) -> list[list[object]]:
        wb = openpyxl.load_workbook(path)
        return [list(r) for r in wb[title].iter_rows(values_only=True)]

    def sort(title: str, col: int) -> None:
        wb = openpyxl.load_workbook(path)
        ws = wb[title]
        width = ws.max_column
        rows = [[ws.cell(row=r, column=c + 1).value for c in range(width)] for r in range(2, ws.max_row + 1)]
        rows.sort(key=lambda row: _sort_key(row[col]))
        for r, row in enumerate(rows, start=2):
            for c, value in enumerate(row):
                ws.cell(row=r, column=c + 1).value = value
        wb.save(path)

    def insert_row(title: str, row: int) -> None:
        wb = openpyxl.load_workbook(path)
        wb[title].insert_rows(row)
        wb.save(path)

    def delete_row(title: str, row: int) -> None:
        wb = openpyxl.load_workbook(path)
        wb[title].delete_rows(row)
        wb.save(path)

    def in_gap(action: Callable[[], None]) -> None:
        # The workbook store's last check is the file version it compares just before replacing the file;
        # the person saves while the new copy is being written.
        real = store._save_atomically

        def hooked(*args: Any, **kwargs: Any) -> Any:
            store._save_atomically = real  # type: ignore[method-assign]
            action()
            return real(*args, **kwargs)

        store._save_atomically = hooked  # type: ignore[method-assign]

    return StoreKit(store, edit, values, sort, insert_row, delete_row, in_gap)


STORE_KITS: dict[str, Callable[[Path], StoreKit]] = {"excel": excel_kit}
"""Every store adapter the contract suite runs against; the Google store registers itself below."""

try:  # the Google store's kit lives with its fake of the Sheets API
    from fake_sheets import google_kit  # type: ignore[import-not-found]

    STORE_KITS["google"] = google_kit
except ImportError:  # pragma: no cover - before the Google store exists
    pass


@pytest.fixture
def fake():
    """An empty fake of the Sheets API, answering for the length of the test."""
    from fake_sheets import FakeSheets

    sheets = FakeSheets()
    with sheets.mock():
        yield sheets


@pytest.fixture
def store(fake):
    """A GoogleStore talking to `fake` through a plain session (virtual time: retries never really sleep)."""
    import requests
    from fake_sheets import make_store

    return make_store(fake, session=requests.Session())


@pytest.fixture(params=sorted(STORE_KITS))
def kit(request, tmp_path) -> StoreKit:
    return STORE_KITS[request.param](tmp_path)


CLI_ENV = ("SHEETSYNC_CONFIG", "SHEETSYNC_WORKBOOK", "SHEETSYNC_STORE", "SHEETSYNC_TEMPLATE", "SHEETSYNC_PORT",
           "SHEETSYNC_HOST", "SHEETSYNC_STATE_DIR")
"""Settings a developer's shell may export that would point a CLI test at their own files."""


@pytest.fixture
def runner(tmp_path, monkeypatch):
    """A click runner in a fresh directory, as a new user runs sheetsync there (none of CLI_ENV set)."""
    from click.testing import CliRunner

    monkeypatch.chdir(tmp_path)
    for var in CLI_ENV:
        monkeypatch.delenv(var, raising=False)
    return CliRunner()


def filled_rows(kit: StoreKit, title: str) -> list[list[object]]:
    """A tab's rows below the header that hold anything."""
    return [r for r in kit.values(title)[1:] if any(c not in (None, "") for c in r)]


def deal(kit: StoreKit, customer: str) -> tuple[int, list[object]]:
    """The sheet row number and cells of the Opportunities row for `customer`."""
    col = OPPORTUNITIES.columns.index(OPPORTUNITIES.column("customer"))
    for n, r in enumerate(kit.values("Opportunities"), start=1):
        if len(r) > col and r[col] == customer:
            return n, r
    raise AssertionError(customer)


@pytest.fixture
def config(tmp_path) -> Config:
    return Config(workbook=str(tmp_path / "pipeline.xlsx"), state_dir=str(tmp_path / "state"),
                  timezone="UTC", base_dir=tmp_path)


@pytest.fixture
def excel(tmp_path, layout) -> StoreKit:
    k = excel_kit(tmp_path)
    k.store.setup(layout)
    return k


@pytest.fixture
def state(config):
    st = State(config.state_path)
    yield st
    st.close()


@pytest.fixture
def syncer(kit, layout, config, state) -> Syncer:
    kit.store.setup(layout)
    return Syncer(kit.store, config, state, clock=lambda: NOW)


@pytest.fixture(scope="session")
def pg_url():
    """The URL of a throwaway PostgreSQL database shared by this test session (dropped at the end)."""
    skip_unless_available()
    with throwaway_database() as url:
        yield url


def pytest_terminal_summary(terminalreporter):
    """Say why the status page's browser test was skipped, at the end of every run (not only with -rs)."""
    reasons = {str(r.longrepr[2]) for r in terminalreporter.stats.get("skipped", [])
               if "test_page_browser" in r.nodeid and isinstance(r.longrepr, tuple)}
    for reason in sorted(reasons):
        terminalreporter.write_line(f"browser test skipped: {reason}")
