"""A stateful fake of the Google Sheets API v4 for tests, benchmarks and the README tour.

In tests, `with FakeSheets().mock() as fake:` routes every request to sheets.googleapis.com through
`responses` to the fake, which keeps a grid per tab, counts requests, answers errors on demand
(`fail(429, times=3, retry_after="2")`) and plays people editing (`type`, `sort`, `insert_row`,
`delete_row`) or runs a hook just before a given request (`before("batchUpdate", fn)`).
`google_kit(tmp_path)` gives the store-contract suite a GoogleStore on its own fake, routed through a
session adapter so nothing is patched globally.

Served over real HTTP on loopback (stdlib http.server), the same fake lets the CLI run against it:

    python tests/fake_sheets.py --port 8765          # prints the spreadsheet ID to use
    export SHEETSYNC_STORE=google SHEETSYNC_GOOGLE_SPREADSHEET=fake-spreadsheet-0001
    export SHEETSYNC_GOOGLE_API_ENDPOINT=http://127.0.0.1:8765   # loopback: no credentials needed

Endpoints: spreadsheets.get (metadata, includeGridData with ranges), values get/batchGet (render
options), values update (PUT)/batchUpdate (RAW vs USER_ENTERED), values append (table detection
simplified: the table is the contiguous block of non-blank rows starting at the first non-blank row at
or below the range's first row; OVERWRITE writes right after it, INSERT_ROWS inserts rows there first),
values clear/batchClear, and spreadsheets:batchUpdate with the requests in fake_sheets_requests.
A `fields` mask keeps only the named parts of an answer, and formulas are answered with their computed
value (arithmetic and same-tab references; "#NAME?" otherwise) unless FORMULA is asked for, as Google does
(fake_sheets_fields; checked against recorded real traffic in test_fake_fidelity).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fake_sheets_fields import apply_mask, parse_mask  # noqa: E402
from fake_sheets_grid import (  # noqa: E402
    A1,
    ApiError,
    Sheet,
    a1_text,
    col_letters,
    parse_a1,
    parse_user_entered,
    person_view,
    plain_number,
    serial,
)
from fake_sheets_http import FakeAdapter, serve  # noqa: E402
from fake_sheets_meta import sheet_properties, spreadsheet_json  # noqa: E402
from fake_sheets_requests import apply  # noqa: E402

GOOGLE = "https://sheets.googleapis.com"
_STATUS = {400: "INVALID_ARGUMENT", 403: "PERMISSION_DENIED", 404: "NOT_FOUND", 408: "DEADLINE_EXCEEDED",
           429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 502: "UNAVAILABLE", 503: "UNAVAILABLE"}
_MESSAGES = {403: "The caller does not have permission", 404: "Requested entity was not found.",
             429: "Quota exceeded for quota metric 'Write requests' and limit 'Write requests per minute per user' "
                  "of service 'sheets.googleapis.com'.", 503: "The service is currently unavailable."}
_ROUTES = [
    ("GET", re.compile(r"^/v4/spreadsheets/([^/:]+)$"), "get"),
    ("POST", re.compile(r"^/v4/spreadsheets/([^/:]+):batchUpdate$"), "batchUpdate"),
    ("GET", re.compile(r"^/v4/spreadsheets/([^/:]+)/values:batchGet$"), "values.batchGet"),
    ("POST", re.compile(r"^/v4/spreadsheets/([^/:]+)/values:batchUpdate$"), "values.batchUpdate"),
    ("POST", re.compile(r"^/v4/spreadsheets/([^/:]+)/values:batchClear$"), "values.batchClear"),
    ("POST", re.compile(r"^/v4/spreadsheets/([^/:]+)/values/(.+):append$"), "values.append"),
    ("POST", re.compile(r"^/v4/spreadsheets/([^/:]+)/values/(.+):clear$"), "values.clear"),
    ("GET", re.compile(r"^/v4/spreadsheets/([^/:]+)/values/(.+)$"), "values.get"),
    ("PUT", re.compile(r"^/v4/spreadsheets/([^/:]+)/values/(.+)$"), "values.update"),
]
READS = ("get", "values.get", "values.batchGet")
MAX_BODY = 10_485_760
"""Google's front end refuses request bodies larger than this (an undocumented but long-standing limit)."""


@dataclass
class Call:
    """One request the fake received."""

    kind: str
    method: str
    url: str
    status: int
    size: int = 0
    """Bytes of the request body."""


@dataclass
class Failure:
    """Answer the next `times` matching requests with an error (times None: forever)."""

    status: int
    times: int | None
    retry_after: str | None
    kinds: tuple[str, ...] | None


class FakeSheets:
    """One fake spreadsheet: tabs, counters, injected failures and people's edits."""

    def __init__(self, spreadsheet_id: str = "fake-spreadsheet-0001", *, title: str = "Pipeline",
                 timezone: str = "UTC", base: str = GOOGLE, first_tab: str | None = "Sheet1") -> None:
        self.spreadsheet_id = spreadsheet_id
        self.title = title
        self.timezone = timezone
        self.base = base.rstrip("/")
        self.sheets: list[Sheet] = []
        self.calls: list[Call] = []
        self.failures: list[Failure] = []
        self.hooks: list[tuple[str, Callable[[FakeSheets], None]]] = []
        self.lock = threading.RLock()
        self._ids = 1000
        if first_tab:
            self.add_sheet(first_tab, sheet_id=0)

    # -- state helpers ---------------------------------------------------------------------------
    def new_id(self) -> int:
        self._ids += 1
        return self._ids

    def add_sheet(self, title: str, rows: list[list[Any]] | None = None, *, sheet_id: int | None = None,
                  index: int | None = None, row_count: int | None = None, cols: int = 26,
                  frozen_rows: int = 0) -> Sheet:
        """Add a tab (as a person would, or for addSheet); `rows` seeds it fast with Python values."""
        if any(s.title.lower() == title.lower() for s in self.sheets):
            raise ApiError(400, f'A sheet with the name "{title}" already exists. Please enter another name.')
        if sheet_id is not None and any(s.sheet_id == sheet_id for s in self.sheets):
            raise ApiError(400, f"A sheet with the ID {sheet_id} already exists.")
        sheet = Sheet(self.new_id() if sheet_id is None else sheet_id, title, len(self.sheets),
                      rows=row_count or max(1000, len(rows or []) + 1),
                      cols=max(cols, max((len(r) for r in rows or []), default=0)), frozen_rows=frozen_rows)
        self.sheets.append(sheet)
        if index is not None:
            self.move_sheet(sheet, index)
        if rows:
            self.seed(title, rows)
        return sheet

    def seed(self, title: str, rows: list[list[Any]]) -> None:
        """Replace a tab's values wholesale (dates become serials with a date format)."""
        sheet = self.sheet(title)
        sheet.values, sheet.meta = [], []
        for r, row in enumerate(rows):
            out = list(row)
            for c, value in enumerate(out):
                if isinstance(value, date):
                    out[c] = plain_number(serial(value))
                    pattern = ("DATE_TIME", "yyyy-mm-dd hh:mm") if hasattr(value, "hour") else ("DATE", "yyyy-mm-dd")
                    sheet.cell_meta(r, c, create=True)["format"] = {"numberFormat": {"type": pattern[0],
                                                                                     "pattern": pattern[1]}}
            sheet.values.append(out)
        sheet.grow(len(rows) + 1, max((len(r) for r in rows), default=0))

    def move_sheet(self, sheet: Sheet, index: int) -> None:
        self.sheets.remove(sheet)
        self.sheets.insert(min(index, len(self.sheets)), sheet)
        for i, s in enumerate(self.sheets):
            s.index = i

    def sheet(self, title: str) -> Sheet:
        for s in self.sheets:
            if s.title == title:
                return s
        raise ApiError(400, f"Unable to parse range: {title}")

    def sheet_by_id(self, sheet_id: int) -> Sheet:
        for s in self.sheets:
            if s.sheet_id == sheet_id:
                return s
        raise ApiError(400, f"No grid with id: {sheet_id}")

    def _range_sheet(self, a1: A1) -> Sheet:
        if a1.title is None:
            return self.sheets[0]
        return self.sheet(a1.title)

    # -- what tests look at ----------------------------------------------------------------------
    def count(self, *kinds: str) -> int:
        """Requests received of these kinds (all kinds when none given)."""
        return sum(1 for c in self.calls if not kinds or c.kind in kinds)

    def reads(self) -> int:
        return self.count(*READS)

    def writes(self) -> int:
        return len(self.calls) - self.count(*READS)

    def reset_counts(self) -> None:
        self.calls.clear()

    def cell(self, title: str, a1: str) -> Any:
        """The stored value of one cell (a Formula, str, number, bool or None)."""
        ref = parse_a1(a1)
        return self.sheet(title).get(ref.r0 or 0, ref.c0 or 0)

    def values(self, title: str) -> list[list[Any]]:
        """Every row as a person sees it: dates as datetimes, blanks as None, rows padded to one width."""
        sheet = self.sheet(title)
        last = sheet.last_data_row()
        width = max((len(r) for r in sheet.values[:last]), default=0)
        out = []
        for r in range(last):
            row = sheet.values[r] if r < len(sheet.values) else []
            out.append([person_view(row[c] if c < len(row) else None, sheet.number_format(r, c))
                        for c in range(width)])
        return out

    # -- people editing --------------------------------------------------------------------------
    def type(self, title: str, a1: str, value: Any) -> None:
        """A person types a value into a cell (parsed as the UI parses it; None clears the cell)."""
        with self.lock:
            sheet, ref = self.sheet(title), parse_a1(a1)
            r, c = ref.r0 or 0, ref.c0 or 0
            sheet.grow(r + 1, c + 1)
            if isinstance(value, date):
                kind = ("DATE_TIME", "yyyy-mm-dd hh:mm") if hasattr(value, "hour") else ("DATE", "yyyy-mm-dd")
                value, fmt = plain_number(serial(value)), {"type": kind[0], "pattern": kind[1]}
            else:
                value, fmt = parse_user_entered(value, sheet.number_format(r, c))
            sheet.put(r, c, None if value == "" else value)
            if fmt and sheet.number_format(r, c).get("type") not in ("DATE", "DATE_TIME"):
                sheet.cell_meta(r, c, create=True).setdefault("format", {})["numberFormat"] = fmt

    def insert_row(self, title: str, row: int, values: list[Any] | None = None) -> None:
        """A person inserts a row above `row` (1-based) and optionally types into it."""
        with self.lock:
            self.sheet(title).insert_rows(row - 1, 1)
            for c, value in enumerate(values or []):
                if value is not None:
                    self.type(title, f"{col_letters(c)}{row}", value)

    def delete_row(self, title: str, row: int) -> None:
        """A person deletes row `row` (1-based)."""
        with self.lock:
            self.sheet(title).delete_rows(row - 1, row)

    def sort(self, title: str, column: int, reverse: bool = False) -> None:
        """A person sorts the rows below the header by a 0-based column (blanks last)."""
        with self.lock:
            sheet = self.sheet(title)
            sheet.sort_rows(1, sheet.last_data_row(), column, reverse)

    # -- failures and hooks ----------------------------------------------------------------------
    def fail(self, status: int, times: int | None = 1, *, retry_after: str | None = None,
             kinds: tuple[str, ...] | None = None) -> None:
        """Answer the next `times` requests (of `kinds`) with `status`; status 0 drops the connection."""
        self.failures.append(Failure(status, times, retry_after, kinds))

    def before(self, kind: str, hook: Callable[[FakeSheets], None]) -> None:
        """Run `hook(fake)` once, just before the next request of `kind` is handled."""
        self.hooks.append((kind, hook))

    def _failure_for(self, kind: str) -> Failure | None:
        for failure in self.failures:
            if failure.kinds is None or kind in failure.kinds:
                if failure.times is not None:
                    failure.times -= 1
                    if failure.times <= 0:
                        self.failures.remove(failure)
                return failure
        return None

    # -- the HTTP surface ------------------------------------------------------------------------
    def handle(self, method: str, url: str, body: bytes | str | None) -> tuple[int, dict[str, str], str]:
        """Answer one HTTP request: (status, headers, JSON body); status 0 means drop the connection."""
        with self.lock:
            parts = urlsplit(url)
            query = parse_qs(parts.query, keep_blank_values=True)
            kind, groups = self._route(method.upper(), parts.path)
            for i, (hook_kind, hook) in enumerate(self.hooks):
                if hook_kind == kind:
                    del self.hooks[i]
                    hook(self)
                    break
            failure = self._failure_for(kind)
            if failure is not None:
                self.calls.append(Call(kind, method, url, failure.status, len(body or b"")))
                if failure.status == 0:
                    return 0, {}, ""
                headers = {"Retry-After": failure.retry_after} if failure.retry_after else {}
                return failure.status, headers, _error(failure.status, _MESSAGES.get(failure.status, "Backend error"))
            try:
                if body and len(body) > MAX_BODY:
                    raise ApiError(400, f"Request payload size exceeds the limit: {MAX_BODY} bytes.")
                if groups[0] != self.spreadsheet_id:
                    raise ApiError(404, _MESSAGES[404], "NOT_FOUND")
                payload = _loads(body) if body else {}
                answer = self._dispatch(kind, groups, query, payload)
                if query.get("fields"):
                    answer = apply_mask(answer, parse_mask(query["fields"][0]))
            except ApiError as exc:
                self.calls.append(Call(kind, method, url, exc.code, len(body or b"")))
                return exc.code, {}, _error(exc.code, exc.message, exc.status)
            self.calls.append(Call(kind, method, url, 200, len(body or b"")))
            return 200, {}, _dumps(answer)

    def _route(self, method: str, path: str) -> tuple[str, tuple[str, ...]]:
        for route_method, pattern, kind in _ROUTES:
            m = pattern.match(path)
            if m and route_method == method:
                return kind, tuple(unquote(g) for g in m.groups())
        return "unknown", ("",)

    def _dispatch(self, kind: str, groups: tuple[str, ...], query: dict[str, list[str]],
                  payload: Any) -> dict[str, Any]:
        from fake_sheets_values import values_endpoint

        if kind == "get":
            grid = query.get("includeGridData", ["false"])[0] == "true"
            grid = grid or any(re.search(r"\bdata\b", f) for f in query.get("fields", []))  # a mask naming it
            return self.spreadsheet_json(grid, query.get("ranges", []))
        if kind == "batchUpdate":
            return self.batch_update(payload)
        if kind == "unknown":
            raise ApiError(404, "Not found: no such Sheets API method in the fake.", "NOT_FOUND")
        return values_endpoint(self, kind, groups[1] if len(groups) > 1 else "", query, payload)

    def batch_update(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Apply every request or none (Google applies a batch atomically)."""
        requests = payload.get("requests", [])
        charts = any(k in r for r in requests for k in ("deleteEmbeddedObject", "updateChartSpec",
                                                        "updateEmbeddedObjectPosition"))
        touched = {sheet.sheet_id for sheet in self.sheets} if charts else _sheet_ids(requests)
        saved = [s.clone() if s.sheet_id in touched else s for s in self.sheets], self._ids
        originals = list(self.sheets)
        try:
            replies = [apply(self, request, i) for i, request in enumerate(payload.get("requests", []))]
        except (ApiError, KeyError, TypeError, ValueError) as exc:
            # put back the tabs the batch touched (untouched ones were never changed) and the tab list
            self.sheets, self._ids = saved[0], saved[1]
            if [s.sheet_id for s in self.sheets] != [s.sheet_id for s in originals]:
                self.sheets = [next(c for c in saved[0] if c.sheet_id == o.sheet_id) for o in originals]
            if isinstance(exc, ApiError):
                raise
            raise ApiError(400, f"Invalid request: {exc!r}") from exc
        answer: dict[str, Any] = {"spreadsheetId": self.spreadsheet_id, "replies": replies}
        if payload.get("includeSpreadsheetInResponse"):
            answer["updatedSpreadsheet"] = self.spreadsheet_json(payload.get("responseIncludeGridData", False), [])
        return answer

    def sheet_properties(self, sheet: Sheet) -> dict[str, Any]:
        return sheet_properties(sheet)

    def spreadsheet_json(self, grid_data: bool, ranges: list[str]) -> dict[str, Any]:
        return spreadsheet_json(self, grid_data, ranges)

    def range_text(self, sheet: Sheet, r0: int, r1: int, c0: int, c1: int) -> str:
        return a1_text(sheet.title, r0, r1, c0, c1)

    # -- transports ------------------------------------------------------------------------------
    @contextmanager
    def mock(self) -> Iterator[FakeSheets]:
        """Route requests to this fake's base URL through `responses` for the duration of the block."""
        import requests
        import responses

        def callback(request: Any) -> tuple[int, dict[str, str], str]:
            status, headers, text = self.handle(request.method, request.url, request.body)
            if status == 0:
                raise requests.ConnectionError("Connection reset by the fake")
            return status, {"Content-Type": "application/json", **headers}, text

        with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
            for method in ("GET", "POST", "PUT"):
                rsps.add_callback(method, re.compile(re.escape(self.base) + r"/v4/spreadsheets/.*"), callback=callback)
            yield self

    def session(self) -> Any:
        """A requests.Session whose Sheets requests go straight to this fake (no global patching)."""
        import requests

        session = requests.Session()
        session.mount(self.base, FakeAdapter(self))
        return session


def _loads(body: bytes | str) -> Any:
    """A request body as JSON (orjson; the standard library for what orjson refuses, e.g. NaN)."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        try:
            return json.loads(body)
        except ValueError as exc:
            raise ApiError(400, f"Invalid JSON payload received. {exc}") from exc


def _dumps(answer: Any) -> str:
    """An answer as JSON text (orjson; the standard library for what orjson cannot encode, e.g. huge ints)."""
    try:
        return orjson.dumps(answer).decode()
    except TypeError:
        return json.dumps(answer)


_NO_SHEET_IDS = frozenset({"rows", "cell", "values"})
"""Parts of a request holding cell data only (no sheetId in them): not walked."""


def _sheet_ids(node: Any) -> set[int]:
    """Every sheetId a batchUpdate payload names (the tabs it may change), for a cheap all-or-nothing backup."""
    found: set[int] = set()
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, value in item.items():
                if key in ("sheetId", "objectId") and isinstance(value, int):
                    found.add(value)
                elif key not in _NO_SHEET_IDS:
                    stack.append(value)
        elif isinstance(item, list):
            stack.extend(item)
    return found


def _error(code: int, message: str, status: str | None = None) -> str:
    return json.dumps({"error": {"code": code, "message": message, "status": status or _STATUS.get(code, "UNKNOWN")}})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve a fake Google Sheets API v4 on loopback.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--spreadsheet", default="fake-spreadsheet-0001", help="the only spreadsheet ID it knows")
    parser.add_argument("--timezone", default="UTC", help="the spreadsheet's timezone")
    args = parser.parse_args(argv)
    fake = FakeSheets(args.spreadsheet, timezone=args.timezone)
    serve(fake, args.host, args.port)
    return 0


from fake_sheets_kit import google_kit, make_store  # noqa: E402 - re-exported for tests and conftest

__all__ = ["FakeSheets", "google_kit", "make_store"]

if __name__ == "__main__":
    raise SystemExit(main())
