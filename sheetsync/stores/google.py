"""The Google Sheets store: a whole sync in a constant handful of requests, safe while people edit.

Request budget: read = one metadata GET (first time, then cached) + one values:batchGet; write = one
values:batchGet re-reading the header row and every row the cycle writes or its diff of a rebuilt tab relies
on (and guarded cells elsewhere) + one spreadsheets:batchUpdate (bodies filled to 10,000,000 bytes, as Google
refuses more than 10,485,760) + one values:batchGet of the fence's copy of the rows written, verifying where
the values landed (google_repair.py; only when one did not land right are the copy and the tab read whole, and
the repair is one more guarded write); setup = one metadata GET + one grid-data GET of rows 1-2 + at most one
batchUpdate.

Guarantee: nothing is written when the guard re-read shows a change; a refused write is retried for more than
a quota minute with the guard re-read before every try; an edit landing between the guard re-read and the
batchUpdate is found by the verify read and repaired by ID (see google_repair.py).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection
from datetime import datetime
from typing import Any, TypeVar

import orjson
from google.auth.exceptions import GoogleAuthError, TransportError
from gspread.exceptions import APIError
from gspread.urls import SPREADSHEET_BATCH_UPDATE_URL, SPREADSHEET_VALUES_BATCH_URL

from ..config import Config
from ..core.schema import TABS, TABS_BY_KEY, column_letter
from ..messages import say
from ..ports import Cell, CellWrite, Snapshot, Store, StoreConflict, StoreError, TabData, WriteBatch
from ..template import Layout, read_template
from . import named_tabs
from .google_batch import (
    MAX_BODY_BYTES,
    append_requests,
    bodies,
    cell_requests,
    chart_requests,
    chart_slot,
    encode,
    find_chart,
    prepend,
    replace_requests,
)
from .google_cells import DEFAULT_AMOUNT_PATTERN, CellEncoder, convert_rows, quote_title
from .google_connect import build_client, explain, spreadsheet_id
from .google_http import SheetsHTTPClient, Transient
from .google_meta import METADATA_FIELDS, SheetMeta, SpreadsheetMeta
from .google_read import READ_PARAMS, RawAnswer, lazy_tab, read_fingerprint, value_ranges, whole_tab_range
from .google_repair import (
    FENCE_MARGIN_ROWS,
    SCRATCH_TITLE,
    Columns,
    Fence,
    Outcome,
    cells_written,
    check_write,
    fence_requests,
    fills_of,
    history_rows,
    labels,
    people_tab,
    repair_batch,
    writes_of,
    written_over,
)
from .google_setup import SetupPlan, parse_top, top_ranges
from .google_write import Target, make_target, plan_checks, row_blocks, verify
from .safety import check_batch

log = logging.getLogger(__name__)
T = TypeVar("T")
WRITE_RETRY_SECONDS = 75.0
"""A refused write is retried (guards re-checked first) until this long has passed: more than one quota minute."""
MAX_REPAIRS = 3
"""Repair rounds after one write before the rest is left to the next cycle."""
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
        self.repairs = 0
        """Cells put right after a person's edit landed during a write (for tests and `doctor`)."""
        self._scratch: tuple[int, list[Fence]] | None = None
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

    def write(self, snapshot: Snapshot, batch: WriteBatch) -> bool:
        """Re-read what the plan relies on in one batchGet, then apply the batch in one batchUpdate."""
        with self._lock:
            return self._write(snapshot, batch)

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
        body: bytes | bytearray = b'{"valueRanges": []}'
        for attempt in (1, 2):
            found = {k: s for k in keys if (s := meta.find(k)) is not None}
            ranges = [whole_tab_range(s.title) for s in found.values()]
            if not ranges:
                break
            try:
                body = self._call(self._values_body, ranges, keep=(400,))
                break
            except APIError as exc:
                if fresh or attempt == 2:
                    raise explain(exc, self.spreadsheet_id, self.account, self.endpoint) from exc
                log.info("A tab was renamed or removed since the last read; reading the metadata again")
                meta, fresh = self.metadata(refresh=True), True
        sheet_tz, team_tz = meta.zone, self.config.tz
        context = [meta.timezone, getattr(team_tz, "key", team_tz), *meta.titles,
                   *(f"{k}={s.sheet_id}:{s.title}" for k, s in found.items())]
        answer = RawAnswer(body, len(ranges))
        data: dict[str, TabData] = {key: lazy_tab(key, sheet.title, answer, i, sheet_tz, team_tz)
                                    for i, (key, sheet) in enumerate(found.items())}
        return Snapshot(tabs=data, timezone=meta.timezone, titles=meta.titles,
                        version={k: s.sheet_id for k, s in found.items()},
                        fingerprint=read_fingerprint(body, context))

    def _values_body(self, ranges: list[str]) -> bytes | bytearray:
        """One values:batchGet of `ranges` with typed values, answered as the body's bytes (not parsed)."""
        url = SPREADSHEET_VALUES_BATCH_URL % self.spreadsheet_id
        return self.http.body("get", url, params={**READ_PARAMS, "ranges": ranges})

    def _values(self, ranges: list[str]) -> dict[str, Any]:
        """One values:batchGet of `ranges` with typed values, parsed (orjson: the verify read spans whole tabs)."""
        answer: dict[str, Any] = orjson.loads(self._values_body(ranges))
        return answer

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

    def _write(self, snapshot: Snapshot, batch: WriteBatch, depth: int = 0) -> bool:
        """Guard re-read, fenced batchUpdate (retried, the guards re-checked before every try), verify, repair.

        Returns False when nothing needed writing.
        """
        if not batch:
            return False
        check_batch(snapshot, batch)
        keys = ({c.tab for c in batch.cells} | {g.tab for g in batch.guards} | set(batch.appends)
                | set(batch.replace) | {c.tab for c in batch.charts})
        targets = self._targets(snapshot, keys)
        started, attempt = self.http.now(), 0
        while True:
            attempt += 1
            fences, fence, requests, relied = self._requests(batch, targets)
            if not requests:
                return False  # the sheet already holds everything the batch asks for: no re-read, no write
            self._check_guards(batch, targets, relied)
            requests = fence + requests
            refence = [r for r in fence if "copyPaste" in r]
            try:
                self._batch_update(requests, once=attempt, refence=refence,
                                   after=self._checker(snapshot, batch, targets, fences, depth) if fences else None)
                break
            except Transient as exc:
                waited = self.http.now() - started
                if waited >= WRITE_RETRY_SECONDS:
                    raise StoreError(f"Google Sheets kept refusing the write ({exc}) for {waited:.0f} s, longer than "
                                     "a whole quota minute; nothing is lost: the next cycle writes it. If it keeps "
                                     "happening, raise sync_interval or stop other tools using this service "
                                     "account.") from exc
                log.warning("The write was refused (%s); re-checking the sheet and trying again in %.1f s", exc,
                            exc.delay)
                self.http.wait(exc.delay)
        return True

    def _checker(self, snapshot: Snapshot, batch: WriteBatch, targets: dict[str, Target], fences: list[Fence],
                 depth: int) -> Callable[[list[dict[str, Any]], bool], None]:
        """What runs after each batchUpdate body: verify (and repair) the fenced cells that body wrote.

        A write sent in several bodies re-copies the fence at the start of each, and each body's writes are
        checked against the rows as read with the earlier bodies' writes applied, so an edit made between two
        bodies is found like one made during a single write; after a repair the rest is left to the next cycle.
        """
        fenced = {f.sheet_id: f.key for f in fences}
        index = {(c.tab, c.row, c.col): c for c in batch.cells if c.tab in fenced.values()}
        done: list[CellWrite] = []

        def after(sent: list[dict[str, Any]], more: bool) -> None:
            part = [index[k] for k in cells_written(sent, fenced) if k in index]
            if not part:
                return
            pre = written_over(targets, done) if done else None
            self._verify_and_repair(snapshot, WriteBatch(cells=part, guards=batch.guards), targets, fences, depth,
                                    pre=pre, more=more)
            done.extend(part)
        return after

    def _check_guards(self, batch: WriteBatch, targets: dict[str, Target], relied: dict[str, set[int]]) -> None:
        """Re-read what the plan relies on in one batchGet; StoreConflict when anything moved."""
        checks = plan_checks(batch, targets, relied)
        if not checks:
            return
        answer = self._call(self._values, [c.a1 for c in checks])
        try:
            verify(checks, value_ranges(answer, len(checks)))
        except StoreConflict:
            self._meta = None
            raise

    def _requests(self, batch: WriteBatch, targets: dict[str, Target]
                  ) -> tuple[list[Fence], list[dict[str, Any]], list[dict[str, Any]], dict[str, set[int]]]:
        """The fences, their requests (the scratch copy, sent first), the batch's own requests and the rows of
        rebuilt tabs those rely on (per tab, numbered as read)."""
        meta = self.metadata()
        encoder = self._encoder(meta)
        fences, fence = self._fence(batch, targets, meta)
        requests = cell_requests(batch, targets, encoder)
        relied: dict[str, set[int]] = {}
        for key, rows in batch.replace.items():
            rebuild = replace_requests(key, rows, targets[key], encoder, batch.formats)
            requests += rebuild.requests
            if rebuild.requests:
                relied[key] = rebuild.rows
        for key, rows in batch.appends.items():
            requests += append_requests(key, rows, targets[key], encoder)
        for chart in batch.charts:
            sheet = targets[chart.tab].sheet
            requests += chart_requests(chart, sheet, self._charts.get(chart_slot(chart, sheet.sheet_id)))
        if not requests:
            return [], [], [], {}
        return fences, fence, requests, relied

    def _fence(self, batch: WriteBatch, targets: dict[str, Target],
               meta: SpreadsheetMeta) -> tuple[list[Fence], list[dict[str, Any]]]:
        """Copy every people tab the batch writes cells into to the hidden scratch tab, first in the batch."""
        fences: list[Fence] = []
        offset = 0
        for key in sorted({c.tab for c in batch.cells}):
            target = targets[key]
            if people_tab(key) is None or target.data is None:
                continue
            width = max([len(target.header)] + [c.col + 1 for c in batch.cells if c.tab == key])
            fence = Fence(key, target.sheet.sheet_id, min(target.sheet.rows, len(target.data.rows) + FENCE_MARGIN_ROWS),
                          min(target.sheet.cols, width), offset)
            fences.append(fence)
            offset += fence.cols
        if not fences:
            return [], []
        rows = max(f.rows for f in fences)
        scratch = meta.by_title(SCRATCH_TITLE)
        requests: list[dict[str, Any]] = []
        if scratch is None:
            scratch_id = meta.next_sheet_id()
            requests.append({"addSheet": {"properties": {
                "sheetId": scratch_id, "title": SCRATCH_TITLE, "hidden": True,
                "gridProperties": {"rowCount": rows, "columnCount": offset}}}})
        else:
            scratch_id = scratch.sheet_id
            if scratch.rows < rows or scratch.cols < offset:
                requests.append({"updateSheetProperties": {"properties": {"sheetId": scratch_id, "gridProperties": {
                    "rowCount": max(rows, scratch.rows), "columnCount": max(offset, scratch.cols)}},
                    "fields": "gridProperties.rowCount,gridProperties.columnCount"}})
        self._scratch = (scratch_id, fences)
        return fences, requests + fence_requests(scratch_id, fences)

    def _verify_and_repair(self, snapshot: Snapshot, batch: WriteBatch, targets: dict[str, Target],
                           fences: list[Fence], depth: int, pre: dict[str, list[list[Cell]]] | None = None,
                           more: bool = False) -> None:
        """Read the fence's copy of the rows written; when every write landed on its row, that is all. Else read
        the fence and the written tabs whole and put right what a person's edit displaced.

        `pre`: the fenced tabs' rows as the write expected them (default: as read); `more`: bodies of the write
        are still to be sent, which a repair stops (StoreConflict: the next cycle re-plans the rest)."""
        pre = pre or {}
        if self._landed(batch, targets, fences, pre):
            return
        ranges = [f"{quote_title(SCRATCH_TITLE)}!A1:{column_letter(max(f.offset + f.cols for f in fences) - 1)}"
                  f"{max(f.rows for f in fences)}"]
        ranges += [f"{quote_title(targets[f.key].sheet.title)}!1:{f.rows}" for f in fences]
        answer = self._call(self._values, ranges)
        raw = value_ranges(answer, len(ranges))
        repair = WriteBatch()
        post_tabs: dict[str, TabData] = {}
        history: list[list[Any]] = []
        for fence, post_raw in zip(fences, raw[1:], strict=True):
            target = targets[fence.key]
            gap_raw = [row[fence.offset:fence.offset + fence.cols] for row in raw[0][:fence.rows]]
            gap = convert_rows(gap_raw, target.readers)
            post = convert_rows(post_raw, target.readers)
            before = pre.get(fence.key) or (target.data.rows if target.data is not None else [])
            tab = people_tab(fence.key)
            assert tab is not None
            cols = Columns.of(tab, target.header)
            outcome = check_write(before, gap, writes_of(batch, fence.key), fills_of(batch, fence.key), cols)
            if not outcome:
                continue
            log.warning("'%s' changed while sheetsync wrote (rows sorted, inserted or deleted, or a blank typed "
                        "into): %s value(s) to put right, %s dropped", target.sheet.title,
                        len(outcome.corrections), len(outcome.dropped))
            gap_ids = {cols.identity(gap, r)[0] for r in range(2, len(gap) + 1)} - {""}
            post_tabs[fence.key] = TabData(target.sheet.title, post)
            fixes = repair_batch(fence.key, post_tabs[fence.key], cols, outcome, gap_ids)
            repair.cells += fixes.cells
            repair.guards += fixes.guards
            history += self._history(snapshot, target, outcome)
        self.repairs += len(repair.cells)
        if history and "history" in snapshot.tabs:
            repair.appends["history"] = history
        if not repair:
            return
        if depth >= MAX_REPAIRS:
            raise StoreError(f"{self.describe()} kept changing while sheetsync put its own write right "
                             f"({MAX_REPAIRS} tries); the next cycle finishes the job.")
        fixed = Snapshot({**snapshot.tabs, **post_tabs}, snapshot.timezone, snapshot.version, snapshot.titles)
        self._write(fixed, repair, depth + 1)
        if more:
            raise StoreConflict(f"{self.describe()} changed while sheetsync wrote a large update in parts; what "
                                "was written is put right and the next cycle writes the rest.")

    def _landed(self, batch: WriteBatch, targets: dict[str, Target], fences: list[Fence],
                pre: dict[str, list[list[Cell]]]) -> bool:
        """One batchGet of the fence's copy of just the rows written (in blocks of nearby rows): True when each
        write landed on the row it was meant for and each fill found its cell blank, as the full check would."""
        ranges: list[str] = []
        spans: list[tuple[Fence, int]] = []
        for fence in fences:
            for first, last in row_blocks({c.row for c in batch.cells if c.tab == fence.key}):
                ranges.append(f"{quote_title(SCRATCH_TITLE)}!{column_letter(fence.offset)}{first}:"
                              f"{column_letter(fence.offset + fence.cols - 1)}{last}")
                spans.append((fence, first))
        if not ranges:
            return True
        answer = self._call(self.http.values_batch_get, self.spreadsheet_id, ranges, params=dict(READ_PARAMS))
        gaps: dict[str, list[list[Cell]]] = {f.key: [] for f in fences}
        for (fence, first), raw in zip(spans, value_ranges(answer, len(ranges)), strict=True):
            gap = gaps[fence.key]
            block = convert_rows(raw, targets[fence.key].readers)
            if len(gap) < first - 1 + len(block):
                gap.extend([] for _ in range(first - 1 + len(block) - len(gap)))
            gap[first - 1:first - 1 + len(block)] = block
        for fence in fences:
            target = targets[fence.key]
            tab = people_tab(fence.key)
            assert tab is not None
            before = pre.get(fence.key) or (target.data.rows if target.data is not None else [])
            cols = Columns.of(tab, target.header)
            if check_write(before, gaps[fence.key], writes_of(batch, fence.key), fills_of(batch, fence.key), cols):
                return False
        return True

    def _history(self, snapshot: Snapshot, target: Target, outcome: Outcome) -> list[list[Any]]:
        data = snapshot.tabs.get("history")
        if data is None or not data.rows:
            return []
        language = "zh" if target.sheet.title == TABS_BY_KEY[target.key].zh else "en"
        by = {why: say(f"nothinglost.repair_{why}", language) for why in ("restored", "moved", "dropped")}
        now = datetime.now(self.config.tz).replace(tzinfo=None, microsecond=0)
        return history_rows(data.rows[0], labels(target.header), outcome, now, by)

    def _batch_update(self, requests: list[dict[str, Any]], once: int = 0, refence: list[dict[str, Any]] | None = None,
                      after: Callable[[list[dict[str, Any]], bool], None] | None = None) -> None:
        """Send the requests in as few batchUpdates as the size limit allows; `once`: one try (the attempt number).

        `refence` starts every body after the first (the fence copied again); `after(requests, more)` runs after
        each body with the requests it held and whether bodies are still to come."""
        if not requests:
            return
        url = SPREADSHEET_BATCH_UPDATE_URL % self.spreadsheet_id
        chunks = bodies(requests, self.max_body - (len(encode(refence)) if refence else 0))
        if len(chunks) > 1:
            log.warning("The write is %s requests of up to %s bytes each (Google refuses larger bodies); a failure "
                        "part-way leaves the earlier parts written, and the next cycle finishes the job",
                        len(chunks), self.max_body)
        for i, (sent, body) in enumerate(chunks):
            if i and refence:
                sent, body = [*refence, *sent], prepend(refence, body)
            headers = {"Content-Type": "application/json; charset=utf-8"}
            if once and len(chunks) == 1:
                reply = self._call(self.http.send_once, "post", url, attempt=once, params={"fields": _REPLY_FIELDS},
                                   data=body, headers=headers).json()
            else:
                reply = self._call(self.http.request, "post", url, params={"fields": _REPLY_FIELDS}, data=body,
                                   headers=headers).json()
            for request, answer in zip(sent, reply.get("replies", []), strict=False):
                if "addChart" in request and answer.get("addChart"):
                    anchor = request["addChart"]["chart"]["position"]["overlayPosition"]["anchorCell"]
                    slot = (anchor["sheetId"], anchor.get("rowIndex", 0), anchor.get("columnIndex", 0))
                    self._charts[slot] = answer["addChart"]["chart"]["chartId"]
            fresh = reply.get("updatedSpreadsheet")
            self._meta = SpreadsheetMeta.from_json(fresh) if fresh else None  # read again unless the reply has it
            if after is not None:
                after(sent, i < len(chunks) - 1)
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
