"""The embedded default store: a local .xlsx workbook that opens in Excel, WPS and LibreOffice."""

from __future__ import annotations

import logging
import os
import tempfile
import threading
import zipfile
from collections.abc import Collection
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.worksheet import Worksheet

from ..core.schema import TABS, TABS_BY_KEY, find_tab
from ..ports import ChartSpec, Guard, Snapshot, Store, StoreConflict, StoreError, TabData, WriteBatch
from ..template import Layout
from .excel_cells import last_row, set_cell
from .excel_layout import apply_layout

log = logging.getLogger(__name__)

NUMBER_FORMATS = {"percent": "0%", "amount": "#,##0.00"}


def _version(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


class ExcelStore(Store):
    """A workbook on disk, saved atomically; someone else's save in between means re-plan, not overwrite."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._wb: Workbook | None = None
        self._loaded_version: tuple[int, int, int] | None = None
        self._lock = threading.Lock()

    def describe(self) -> str:
        return f"workbook {self.path}"

    def _load(self) -> tuple[Workbook, tuple[int, int, int]]:
        version = _version(self.path)
        if version is None:
            raise StoreError(f"The workbook {self.path} does not exist: run `sheetsync init` to create it, "
                             "or set `workbook` in sheetsync.toml to the right path.")
        if self._wb is not None and version == self._loaded_version:
            return self._wb, version
        try:
            wb = load_workbook(self.path)
        except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as exc:
            raise StoreError(f"{self.path} is not a readable .xlsx workbook ({exc}). Save it as Excel Workbook "
                             "(.xlsx) or point `workbook` at another file.") from exc
        self._wb, self._loaded_version = wb, version
        return wb, version

    def read(self, tabs: Collection[str] | None = None) -> Snapshot:
        with self._lock:
            wb, version = self._load()
            found: dict[str, TabData] = {}
            for tab in TABS:
                if tabs is not None and tab.key not in tabs:
                    continue
                title = find_tab(tab, wb.sheetnames)
                if title is None:
                    continue
                rows = [list(r) for r in wb[title].iter_rows(values_only=True)]
                while rows and all(c in (None, "") for c in rows[-1]):
                    rows.pop()
                for row in rows:
                    while row and row[-1] is None:
                        row.pop()
                found[tab.key] = TabData(title, rows)
            return Snapshot(found, version=version, titles=tuple(wb.sheetnames))

    def write(self, snapshot: Snapshot, batch: WriteBatch) -> None:
        with self._lock:
            if _version(self.path) != snapshot.version or self._loaded_version != snapshot.version:
                self._wb = None
                raise StoreConflict(f"{self.path} was saved by someone else after sheetsync read it.")
            wb = self._wb
            assert wb is not None
            self._check_guards(wb, snapshot, batch.guards)
            try:
                self._apply(wb, snapshot, batch)
                self._save_atomically(wb, snapshot.version)
            except BaseException:
                self._wb = None  # the in-memory copy no longer matches the file
                raise
            self._loaded_version = _version(self.path)

    @staticmethod
    def _check_guards(wb: Workbook, snapshot: Snapshot, guards: list[Guard]) -> None:
        for g in guards:
            ws = wb[snapshot.tabs[g.tab].title]
            current = ws.cell(row=g.row, column=g.col + 1).value
            if current != g.expected and not (current in (None, "") and g.expected in (None, "")):
                raise StoreConflict(f"{ws.title}!{ws.cell(row=g.row, column=g.col + 1).coordinate} changed.")

    def _apply(self, wb: Workbook, snapshot: Snapshot, batch: WriteBatch) -> None:
        for w in batch.cells:
            set_cell(wb[snapshot.tabs[w.tab].title], w.row, w.col, w.value)
        for key, rows in batch.appends.items():
            ws = wb[snapshot.tabs[key].title]
            start = max(last_row(ws), 1) + 1
            for i, values in enumerate(rows):
                for col, value in enumerate(values):
                    if value is not None:
                        set_cell(ws, start + i, col, value)
        for key, rows in batch.replace.items():
            ws = wb[snapshot.tabs[key].title]
            first = 1 if TABS_BY_KEY[key].headerless else 2
            if ws.max_row >= first:
                ws.delete_rows(first, ws.max_row - first + 1)  # a system tab: rebuilt whole, never grows stale rows
            for i, values in enumerate(rows):
                for col, value in enumerate(values):
                    set_cell(ws, first + i, col, value)
        for (key, row, col), kind in batch.formats.items():
            wb[snapshot.tabs[key].title].cell(row=row, column=col + 1).number_format = NUMBER_FORMATS[kind]
        for spec in batch.charts:
            self._chart(wb[snapshot.tabs[spec.tab].title], spec)

    @staticmethod
    def _chart(ws: Worksheet, spec: ChartSpec) -> None:
        ws._charts = []  # the chart is rebuilt from the fresh figures every cycle
        if spec.last_row < spec.first_row:
            return
        chart = BarChart()
        chart.type = "bar"
        chart.title = spec.title
        chart.legend = None
        chart.y_axis.title = spec.series_title
        chart.x_axis.scaling.orientation = "maxMin"  # first stage on top, like a funnel
        data = Reference(ws, min_col=spec.value_col + 1, min_row=spec.first_row, max_row=spec.last_row)
        cats = Reference(ws, min_col=spec.category_col + 1, min_row=spec.first_row, max_row=spec.last_row)
        chart.add_data(data, titles_from_data=False)
        chart.set_categories(cats)
        chart.width, chart.height = 16, 8
        ws.add_chart(chart, ws.cell(row=spec.anchor_row, column=spec.anchor_col + 1).coordinate)

    def _mode(self) -> int:
        """Keep the workbook's permissions (mkstemp makes files only their owner can read)."""
        try:
            return self.path.stat().st_mode & 0o777
        except FileNotFoundError:
            umask = os.umask(0)
            os.umask(umask)
            return 0o666 & ~umask

    def _save_atomically(self, wb: Workbook, expected: object) -> None:
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.stem}-", suffix=".xlsx.tmp", dir=self.path.parent)
        os.close(fd)
        try:
            wb.save(tmp)
            os.chmod(tmp, self._mode())
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
            if expected is not None and _version(self.path) != expected:
                raise StoreConflict(f"{self.path} was saved by someone else while sheetsync was writing.")
            os.replace(tmp, self.path)
        except PermissionError as exc:
            Path(tmp).unlink(missing_ok=True)
            raise StoreError(f"Cannot save {self.path}: it is locked by another program (Excel and WPS lock open "
                             "workbooks on Windows). Close it there; sheetsync tries again next cycle.") from exc
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        log.debug("saved %s", self.path)

    def setup(self, layout: Layout) -> list[str]:
        with self._lock:
            created = not self.path.exists()
            if created:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                wb = Workbook()
                wb.remove(wb.active)
                version = None
            else:
                wb, version = self._load()
            changes = apply_layout(wb, layout)
            if created:
                changes.insert(0, f"Created {self.path}")
            if changes:
                try:
                    self._save_atomically(wb, version)
                finally:
                    self._wb = None
            return changes
