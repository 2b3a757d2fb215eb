"""The Google Sheets store: a whole sync in a constant handful of requests, safe while people edit.

Request budget: read = one metadata GET (first time, then cached) + one values:batchGet; write = one
values:batchGet re-reading the header row and every row the cycle writes (and guarded cells elsewhere) + one
spreadsheets:batchUpdate (split only above 8 MB, as Google refuses bodies over 10 MiB); setup = one
metadata GET + one grid-data GET of rows 1-2 + at most one batchUpdate.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection
from typing import Any, TypeVar

from google.auth.exceptions import GoogleAuthError, TransportError
from gspread.exceptions import APIError
from gspread.urls import SPREADSHEET_BATCH_UPDATE_URL

from ..config import Config
from ..core.schema import TABS
from ..ports import Snapshot, Store, StoreConflict, StoreError, TabData, WriteBatch
from ..template import Layout, read_template
from . import named_tabs
from .google_batch import (
    MAX_BODY_BYTES,
    append_requests,
    bodies,
    cell_requests,
    chart_requests,
    chart_slot,
    find_chart,
    replace_requests,
)
from .google_cells import DEFAULT_AMOUNT_PATTERN, CellEncoder
from .google_connect import build_client, explain, spreadsheet_id
from .google_http import SheetsHTTPClient
from .google_meta import METADATA_FIELDS, SheetMeta, SpreadsheetMeta
from .google_read import READ_PARAMS, tab_data, value_ranges, whole_tab_range
from .google_setup import SetupPlan, parse_top, top_ranges
from .google_write import Target, make_target, plan_checks, verify
from .safety import check_batch

log = logging.getLogger(__name__)
T = TypeVar("T")
_REPLY_FIELDS = f"replies(addChart(chart(chartId,spec(title)))),updatedSpreadsheet({METADATA_FIELDS})"


def _amount_pattern(language: str) -> str:
    try:
        return read_template(language)["currency_format"]
    except (OSError, ValueError, KeyError):
        return DEFAULT_AMOUNT_PATTERN


class GoogleStore(Store):
    """A Google Sheet reached through the Sheets API v4 with a service account."""

    def __init__(self, config: Config, *, http: SheetsHTTPClient | None = None, account: str = "",
                 pacer_for: Callable[[str], Any] | None = None) -> None:
        self.config = config
        self.spreadsheet_id = spreadsheet_id(config.google_spreadsheet)
        if http is None:
            http, account = build_client(config, pacer_for=pacer_for) if pacer_for else build_client(config)
        self.http = http
        self.account = account or "the service account"
        self.endpoint = config.google_api_endpoint.strip()
        self._meta: SpreadsheetMeta | None = None
        self._charts: dict[tuple[int, int, int], int] = {}
        """Chart IDs sheetsync added, by (sheet ID, anchor row, anchor column): one chart per place."""
        self._lock = threading.RLock()
        """One cycle at a time: the flush and sync jobs of one process may share this store (and its pacer)."""
        self._amount_pattern = _amount_pattern(config.template)
        self.max_body = MAX_BODY_BYTES
        """Largest batchUpdate body; bigger writes are split (Google refuses more than 10 MiB)."""

    def describe(self) -> str:
        """Where the data lives, for messages."""
        via = f" via {self.endpoint}" if self.endpoint else ""
        return f"Google Sheet {self.spreadsheet_id}{via}"

    def _call(self, fn: Callable[..., T], *args: Any, keep: tuple[int, ...] = (), **kwargs: Any) -> T:
        try:
            return fn(*args, **kwargs)
        except APIError as exc:
            if exc.code in keep:
                raise
            error = explain(exc, self.spreadsheet_id, self.account, self.endpoint)
            if isinstance(error, StoreConflict):
                self._meta = None
            raise error from exc
        except TransportError as exc:
            raise StoreError(f"Could not reach Google to sign in ({exc}): check the network connection.") from exc
        except GoogleAuthError as exc:
            raise StoreError(f"Google rejected the service-account credentials ({exc}): create a new key and point "
                             "google_credentials at it.") from exc

    def metadata(self, refresh: bool = False) -> SpreadsheetMeta:
        """The spreadsheet's tabs, sizes and timezone, cached for the life of the store."""
        if self._meta is None or refresh:
            params = {"includeGridData": "false", "fields": METADATA_FIELDS}
            answer = self._call(self.http.fetch_sheet_metadata, self.spreadsheet_id, params=params)
            self._meta = SpreadsheetMeta.from_json(answer)
            self._meta.named = named_tabs(self.config)
            log.debug("Read metadata of %s: %s tabs", self.spreadsheet_id, len(self._meta.sheets))
        return self._meta

    def _encoder(self, meta: SpreadsheetMeta) -> CellEncoder:
        return CellEncoder(meta.zone, self.config.tz, self._amount_pattern)

    def read(self, tabs: Collection[str] | None = None) -> Snapshot:
        """Read the given tabs (all known tabs when None) with one values:batchGet."""
        with self._lock:
            return self._read(tabs)

    def write(self, snapshot: Snapshot, batch: WriteBatch) -> None:
        """Re-read what the plan relies on in one batchGet, then apply the batch in one batchUpdate."""
        with self._lock:
            self._write(snapshot, batch)

    def setup(self, layout: Layout) -> list[str]:
        """Add missing tabs, columns, formats, dropdown, rules, protection and chart in one batchUpdate."""
        with self._lock:
            return self._setup(layout)

    def _read(self, tabs: Collection[str] | None) -> Snapshot:
        keys = list(tabs) if tabs is not None else [t.key for t in TABS]
        fresh = self._meta is None
        meta = self.metadata()
        if not fresh and any(meta.find(k) is None for k in keys):
            meta, fresh = self.metadata(refresh=True), True
        for attempt in (1, 2):
            found = {k: s for k in keys if (s := meta.find(k)) is not None}
            ranges = [whole_tab_range(s.title) for s in found.values()]
            if not ranges:
                answer: dict[str, Any] = {"valueRanges": []}
                break
            try:
                answer = self._call(self.http.values_batch_get, self.spreadsheet_id, ranges,
                                    params=dict(READ_PARAMS), keep=(400,))
                break
            except APIError as exc:
                if fresh or attempt == 2:
                    raise explain(exc, self.spreadsheet_id, self.account, self.endpoint) from exc
                log.info("A tab was renamed or removed since the last read; reading the metadata again")
                meta, fresh = self.metadata(refresh=True), True
        sheet_tz, team_tz = meta.zone, self.config.tz
        data = {key: tab_data(key, sheet.title, rows, sheet_tz, team_tz)
                for (key, sheet), rows in zip(found.items(), value_ranges(answer, len(ranges)), strict=True)}
        return Snapshot(tabs=data, timezone=meta.timezone, titles=meta.titles,
                        version={k: s.sheet_id for k, s in found.items()})

    def _sheet_for(self, meta: SpreadsheetMeta, key: str, data: TabData | None) -> SheetMeta | None:
        return meta.by_title(data.title) if data is not None else meta.find(key)

    def _targets(self, snapshot: Snapshot, keys: set[str]) -> dict[str, Target]:
        meta = self.metadata()
        if any(self._sheet_for(meta, k, snapshot.tabs.get(k)) is None for k in keys):
            meta = self.metadata(refresh=True)
        targets = {}
        for key in sorted(keys):
            data = snapshot.tabs.get(key)
            sheet = self._sheet_for(meta, key, data)
            if sheet is None:
                if data is not None:
                    raise StoreConflict(f"Tab '{data.title}' was renamed or deleted since it was read; reading "
                                        "the sheet again.")
                raise StoreError(f"The spreadsheet has no tab for {key}: run `sheetsync init` to add it.")
            targets[key] = make_target(key, sheet, data, meta.zone, self.config.tz)
        return targets

    def _write(self, snapshot: Snapshot, batch: WriteBatch) -> None:
        if not batch:
            return
        check_batch(snapshot, batch)
        keys = ({c.tab for c in batch.cells} | {g.tab for g in batch.guards} | set(batch.appends)
                | set(batch.replace) | {c.tab for c in batch.charts})
        targets = self._targets(snapshot, keys)
        encoder = self._encoder(self.metadata())
        requests = cell_requests(batch, targets, encoder)
        for key, rows in batch.replace.items():
            requests += replace_requests(key, rows, targets[key], encoder, batch.formats)
        for key, rows in batch.appends.items():
            requests += append_requests(key, rows, targets[key], encoder)
        for chart in batch.charts:
            sheet = targets[chart.tab].sheet
            requests += chart_requests(chart, sheet, self._charts.get(chart_slot(chart, sheet.sheet_id)))
        if not requests:
            return  # the sheet already holds everything the batch asks for: no re-read, no write
        checks = plan_checks(batch, targets)
        if checks:
            answer = self._call(self.http.values_batch_get, self.spreadsheet_id, [c.a1 for c in checks],
                                params=dict(READ_PARAMS))
            try:
                verify(checks, value_ranges(answer, len(checks)))
            except StoreConflict:
                self._meta = None
                raise
        self._batch_update(requests)

    def _batch_update(self, requests: list[dict[str, Any]]) -> None:
        url = SPREADSHEET_BATCH_UPDATE_URL % self.spreadsheet_id
        chunks = bodies(requests, self.max_body)
        if len(chunks) > 1:
            log.warning("The write is %s requests of up to %s bytes each (Google refuses larger bodies); a failure "
                        "part-way leaves the earlier parts written, and the next cycle finishes the job",
                        len(chunks), self.max_body)
        done = 0
        for count, body in chunks:
            reply = self._call(self.http.request, "post", url, params={"fields": _REPLY_FIELDS}, data=body,
                               headers={"Content-Type": "application/json; charset=utf-8"}).json()
            for request, answer in zip(requests[done:done + count], reply.get("replies", []), strict=False):
                if "addChart" in request and answer.get("addChart"):
                    anchor = request["addChart"]["chart"]["position"]["overlayPosition"]["anchorCell"]
                    slot = (anchor["sheetId"], anchor.get("rowIndex", 0), anchor.get("columnIndex", 0))
                    self._charts[slot] = answer["addChart"]["chart"]["chartId"]
            done += count
        self._meta = SpreadsheetMeta.from_json(reply["updatedSpreadsheet"]) if "updatedSpreadsheet" in reply else None
        log.info("Wrote %s changes to %s in %s batchUpdate request(s)", len(requests), self.spreadsheet_id,
                 len(chunks))

    def _setup(self, layout: Layout) -> list[str]:
        meta = self.metadata(refresh=True)
        tops = {}
        if meta.sheets:
            params = {"includeGridData": "true", "ranges": top_ranges(meta.titles),
                      "fields": "sheets(properties(title),data(rowData(values(userEnteredValue,"
                                "userEnteredFormat(numberFormat,textFormat(bold)),dataValidation))))"}
            answer = self._call(self.http.fetch_sheet_metadata, self.spreadsheet_id, params=params)
            for sheet in answer.get("sheets", []):
                tops[sheet.get("properties", {}).get("title", "")] = parse_top(sheet)
        self._amount_pattern = layout.currency_format or self._amount_pattern
        plan = SetupPlan(layout, meta, tops, self._encoder(meta)).build()
        if plan.requests:
            self._batch_update(plan.requests)
        return plan.lines

    def chart_id(self, sheet_title: str, title: str) -> int | None:
        """The ID of the chart sheetsync keeps on a tab, if it exists (for tests and `doctor`)."""
        sheet = self.metadata().by_title(sheet_title)
        if sheet is None:
            return None
        remembered = [cid for (sid, _, _), cid in self._charts.items() if sid == sheet.sheet_id]
        for drawn in sheet.charts:
            if drawn.get("chartId") in remembered and drawn.get("spec", {}).get("title") == title:
                return drawn.get("chartId")
        chart = find_chart(sheet, title, None)
        return None if chart is None else chart.get("chartId")
