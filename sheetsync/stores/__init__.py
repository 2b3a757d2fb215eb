"""Stores: where the pipeline lives. Only this package touches openpyxl and gspread."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..config import Config
from ..ports import Store


def open_store(config: Config, pacer_for: Callable[[str], Any] | None = None) -> Store:
    """The store the config selects: the local workbook (default) or a Google Sheet.

    `pacer_for(account)` gives the Google store a request pacer shared by every process using that account.
    """
    if config.store == "google":
        from .google import GoogleStore

        return GoogleStore(config, pacer_for=pacer_for)
    from .excel import ExcelStore

    return ExcelStore(config.workbook_path, named_tabs(config))


def named_tabs(config: Config) -> dict[str, str]:
    """Tab titles the config gives schema tabs that carry another name (`init --tab`)."""
    return {"opportunities": config.opportunities_tab} if config.opportunities_tab else {}


def lock_target(config: Config) -> str:
    """Name the pipeline the config writes to, the same for every config pointing at it (for the writer lock)."""
    if config.store == "google":
        from .google_connect import spreadsheet_id

        return f"Google Sheet {spreadsheet_id(config.google_spreadsheet)}"
    return f"workbook {config.workbook_path.resolve()}"
