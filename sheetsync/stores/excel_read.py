"""Read a workbook's values fast with python-calamine, shaped exactly as sheetsync expects them."""

from __future__ import annotations

from collections.abc import Iterable
from io import BytesIO
from pathlib import Path

from python_calamine import CalamineWorkbook

from ..ports import Cell
from .excel_values import normal_rows


class ValuesReader:
    """One open workbook file; reads the tabs asked for, each once."""

    def __init__(self, source: Path | str | bytes) -> None:
        """`source` is the file's path or its bytes (one version of it, read once)."""
        if isinstance(source, bytes):
            self._book = CalamineWorkbook.from_filelike(BytesIO(source))
        else:
            self._book = CalamineWorkbook.from_path(str(source))

    @property
    def titles(self) -> list[str]:
        return list(self._book.sheet_names)

    def rows(self, title: str) -> list[list[Cell]]:
        """Every row of a tab from A1 on, values normalised (see excel_values.normal), trailing blanks dropped."""
        return normal_rows(self._book.get_sheet_by_name(title).to_python(skip_empty_area=False))

    def read(self, titles: Iterable[str]) -> dict[str, list[list[Cell]]]:
        return {title: self.rows(title) for title in titles}

    def close(self) -> None:
        self._book.close()
