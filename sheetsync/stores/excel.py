"""The embedded default store: a local .xlsx workbook that opens in Excel, WPS and LibreOffice."""

from __future__ import annotations

import logging
import os
import tempfile
import threading
import zipfile
from collections.abc import Callable, Collection, Mapping
from functools import partial
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.chart.label import DataLabelList
from openpyxl.styles import Font
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.worksheet import Worksheet
from python_calamine import CalamineError

from ..core.formats import BOLD, INTEGER, PATTERNS, PERCENT
from ..core.schema import TABS, TABS_BY_KEY, find_tab
from ..messages import say
from ..ports import Cell, ChartSpec, Guard, Snapshot, Store, StoreConflict, StoreError, TabData, WriteBatch
from ..template import Layout
from .excel_cells import last_row, set_cell
from .excel_edits import plan_edits
from .excel_layout import apply_layout
from .excel_safety import TEMP_SUFFIX, check_layout, check_rows, check_writable, remove_stale_temp_files, temp_prefix
from .excel_sheet import column_letter
from .excel_surgical import integer_step, rewrite
from .excel_values import normal
from .excel_version import UNREADABLE, LazyTab, Loaded, Version
from .excel_zip import NotSurgical
from .safety import check_batch, check_xlsx

log = logging.getLogger(__name__)

BOLD_FONT = Font(bold=True)


def _stamp(st: os.stat_result) -> Version:
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def _version(path: Path) -> Version | None:
    try:
        return _stamp(path.stat())
    except FileNotFoundError:
        return None


class ExcelStore(Store):
    """A workbook on disk, saved atomically; someone else's save in between means re-plan, not overwrite."""

    def __init__(self, path: Path, named: Mapping[str, str] | None = None) -> None:
        self.path = Path(path)
        self.named = dict(named or {})
        """Tab titles the config names for schema tabs (e.g. opportunities -> 商机列表)."""
        self._known: Loaded | None = None
        """The file's version last read or written, with the rows parsed from it so far; kept across reads and
        writes (a write carries the rows of the tabs it did not touch over to the version it makes)."""
        self._lock = threading.RLock()
        """Re-entrant: a snapshot's rows may be parsed from inside `write`, which holds it."""
        self._swept = False
        """Whether temporary files left by a killed save were looked for (once, at the first read)."""

    def describe(self) -> str:
        return f"workbook {self.path}"

    def _unreadable(self, exc: BaseException) -> StoreError:
        return StoreError(f"{self.path} is not a readable .xlsx workbook ({exc}). Save it as Excel Workbook "
                          "(.xlsx) or point `workbook` at another file.")

    def _missing(self) -> StoreError:
        return StoreError(f"The workbook {self.path} does not exist: run `sheetsync init` to create it, "
                          "or set `workbook` in sheetsync.toml to the right path.")

    def _current(self) -> Loaded:
        """The file as it is on disk now: the version already known when it is unchanged, else read afresh."""
        version = _version(self.path)
        if version is None:
            raise self._missing()
        if self._known is not None and self._known.version == version:
            return self._known
        self._known = None
        try:
            with open(self.path, "rb") as fh:
                before = _stamp(os.fstat(fh.fileno()))
                data = fh.read()
                after = _stamp(os.fstat(fh.fileno()))
        except FileNotFoundError as exc:
            raise self._missing() from exc
        except OSError as exc:
            raise self._unreadable(exc) from exc
        if before != after:
            raise StoreConflict(f"{self.path} was saved by someone else while sheetsync was reading it.")
        try:
            self._known = Loaded(data, before)
        except (CalamineError, *UNREADABLE) as exc:
            raise self._unreadable(exc) from exc
        return self._known

    def _rows_of(self, known: Loaded, title: str) -> list[list[Cell]]:
        """A tab's rows in the version `known` (the store's own list: copy before handing it out)."""
        with self._lock:
            try:
                return known.rows_of(title)
            except CalamineError as exc:
                raise self._unreadable(exc) from exc

    def _copy_of(self, known: Loaded, title: str) -> list[list[Cell]]:
        return [list(r) for r in self._rows_of(known, title)]

    def _values(self, titles: Collection[str]) -> tuple[dict[str, list[list[Cell]]], Version]:
        """Rows of the given tabs as the file holds them now, parsing only tabs not parsed for this version."""
        known = self._current()
        return {t: self._rows_of(known, t) for t in titles if t in known.titles}, known.version

    def read(self, tabs: Collection[str] | None = None) -> Snapshot:
        with self._lock:
            return self._read(tabs)

    def _read(self, tabs: Collection[str] | None) -> Snapshot:
        """Titles and fingerprint now; each tab's rows when the caller first uses them (from the same bytes)."""
        if not self._swept:
            self._swept = True
            remove_stale_temp_files(self.path)
        for attempt in range(3):
            try:
                known = self._current()
                break
            except StoreConflict:
                if attempt == 2:
                    raise
        wanted = {}
        for tab in TABS:
            if tabs is not None and tab.key not in tabs:
                continue
            title = find_tab(tab, known.titles, self.named)
            if title is not None:
                wanted[tab.key] = title
        found: dict[str, TabData] = {key: LazyTab(title, partial(self._copy_of, known, title))
                                     for key, title in wanted.items()}
        return Snapshot(found, version=known.version, titles=known.titles, fingerprint=known.fingerprint(wanted))

    def write(self, snapshot: Snapshot, batch: WriteBatch) -> bool:
        """Apply the batch unless something it relies on changed; a person's unrelated save is kept, not refused.

        When the file was saved by someone else since the read, it is read again and the batch is applied to
        it only if every tab the batch touches has the same title and header row, every row it writes cells
        into is unchanged, and every guarded cell (the ID of each row written, each blank being filled) still
        holds what was read.
        """
        with self._lock:
            check_writable(self.path)
            if _version(self.path) != snapshot.version:
                fresh = self._read(list(snapshot.tabs))
                log.info("%s was saved by someone else after the read; checking the cells this cycle relies on",
                         self.path)
                check_layout(fresh, snapshot, batch)
                check_rows(fresh, snapshot, batch)
                snapshot = fresh
            self._check_guards(snapshot, batch.guards)
            check_batch(snapshot, batch)
            titles = {key: data.title for key, data in snapshot.tabs.items()}
            touched = {titles[k] for k in [w.tab for w in batch.cells] + [*batch.appends, *batch.replace]}
            current, version = self._values(sorted(touched))
            if version != snapshot.version:
                raise StoreConflict(f"{self.path} was saved by someone else after sheetsync read it.")
            edits = plan_edits(batch, titles, current)
            if not edits and not batch.charts:
                return False
            try:
                return self._write_in_place(edits, batch, titles, version)
            except NotSurgical as exc:
                log.info("writing %s whole with openpyxl: %s", self.path, exc)
                self._write_whole(snapshot, batch)
                return True

    def _write_in_place(self, edits, batch: WriteBatch, titles: dict[str, str], version: Version) -> bool:
        """Re-write only the parts that change (False: none did); raise NotSurgical before touching the file.

        Works on the bytes of the version just checked (`_values`); the save checks the version again.
        """
        known = self._known
        if known is None or known.version != version:
            raise StoreConflict(f"{self.path} was saved by someone else after sheetsync read it.")
        rewritten = rewrite(known.data, edits, batch.charts, titles, known.written)
        if rewritten is None:
            return False
        new = rewritten.data

        def save(tmp: str) -> None:
            with open(tmp, "wb") as out:
                out.write(new)

        try:
            written = self._save_atomically(save, version, rewritten.unchecked)
        except BaseException:
            self._known = None
            raise
        try:
            self._known = Loaded(new, written, {**known.rows, **edits.rows}, {**known.written, **rewritten.parts})
        except (CalamineError, *UNREADABLE):  # pragma: no cover - the copy just passed check_xlsx
            self._known = None
        return True

    def _write_whole(self, snapshot: Snapshot, batch: WriteBatch) -> None:
        """Load the workbook with openpyxl, apply the batch and save it whole (charts created, calcChain, …)."""
        try:
            wb = load_workbook(self.path)
        except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as exc:
            raise self._unreadable(exc) from exc
        try:
            if _version(self.path) != snapshot.version:
                raise StoreConflict(f"{self.path} was saved by someone else after sheetsync read it.")
            self._apply(wb, snapshot, batch)
            self._save_atomically(wb.save, snapshot.version)
        finally:
            self._known = None

    @staticmethod
    def _check_guards(snapshot: Snapshot, guards: list[Guard]) -> None:
        """The snapshot is the file as it is now (its version was just checked); the guards must hold in it."""
        for g in guards:
            data = snapshot.tabs[g.tab]
            current = normal(data.cell(g.row, g.col))
            if current != normal(g.expected):
                raise StoreConflict(f"{data.title}!{column_letter(g.col)}{g.row} changed.")

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
            cell = wb[snapshot.tabs[key].title].cell(row=row, column=col + 1)
            if kind == BOLD:
                cell.font = BOLD_FONT
            else:
                cell.number_format = PATTERNS.get(kind, PATTERNS[PERCENT])
        for title in {snapshot.tabs[spec.tab].title for spec in batch.charts}:
            wb[title]._charts = []  # charts are rebuilt from the fresh figures every cycle
        for spec in batch.charts:
            self._chart(wb[snapshot.tabs[spec.tab].title], spec)

    @staticmethod
    def _chart(ws: Worksheet, spec: ChartSpec) -> None:
        if spec.last_row < spec.first_row:
            return
        chart = BarChart()
        chart.type = "bar"
        chart.title = spec.title
        chart.legend = None
        chart.y_axis.title = spec.series_title
        chart.x_axis.scaling.orientation = "maxMin"  # first stage on top, like a funnel
        chart.x_axis.delete = chart.y_axis.delete = False  # openpyxl 3.1 hides axes unless told
        chart.y_axis.scaling.min = 0
        if spec.integer_ticks:
            chart.y_axis.majorUnit = integer_step(spec.value_max)
            chart.y_axis.number_format = PATTERNS[INTEGER]
        data = Reference(ws, min_col=spec.value_col + 1, min_row=spec.first_row, max_row=spec.last_row)
        cats = Reference(ws, min_col=spec.category_col + 1, min_row=spec.first_row, max_row=spec.last_row)
        chart.add_data(data, titles_from_data=False)
        chart.set_categories(cats)
        chart.dataLabels = DataLabelList()
        chart.dataLabels.showVal = True
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

    def _save_atomically(self, save: Callable[[str], None], expected: object,
                         changed: Collection[str] | None = None) -> Version:
        """Write through `save` to a temp file beside the workbook, then swap it in; return the new version.

        `changed` names the parts to parse whole when every other part was copied as it was or checked already.
        """
        check_writable(self.path)
        try:
            fd, tmp = tempfile.mkstemp(prefix=temp_prefix(self.path), suffix=TEMP_SUFFIX, dir=self.path.parent)
        except PermissionError as exc:
            raise StoreError(say("nothinglost.read_only_folder", path=self.path, folder=self.path.parent)) from exc
        os.close(fd)
        try:
            save(tmp)
            check_xlsx(tmp, changed)
            os.chmod(tmp, self._mode())
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
                st = os.fstat(fh.fileno())
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
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def setup(self, layout: Layout) -> list[str]:
        with self._lock:
            created = not self.path.exists()
            if created:
                try:
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                except PermissionError as exc:
                    raise StoreError(say("nothinglost.read_only_folder", path=self.path,
                                         folder=self.path.parent)) from exc
                wb = Workbook()
                wb.remove(wb.active)
                version = None
            else:
                version = _version(self.path)
                try:
                    wb = load_workbook(self.path)
                except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as exc:
                    raise self._unreadable(exc) from exc
            changes = apply_layout(wb, layout, self.named)
            if created:
                changes.insert(0, f"Created {self.path}")
            if changes:
                try:
                    self._save_atomically(wb.save, version)
                finally:
                    self._known = None
            return changes
