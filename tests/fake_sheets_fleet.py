"""Many fake spreadsheets behind one loopback HTTP server, with a log of every request and its fence header.

The failover test and the scale bench point every workspace's `google_api_endpoint` here; the log shows,
per spreadsheet, which lock generation (the `X-Sheetsync-Fence` header) each write came from and when.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from fake_sheets import FakeSheets

_SPREADSHEET = re.compile(r"^/v4/spreadsheets/([^/:?]+)")
READS = ("get", "values.get", "values.batchGet")
"""Request kinds that only read; every other kind changes the spreadsheet."""


@dataclass(frozen=True)
class Logged:
    """One request as the fleet saw it."""

    at: float
    spreadsheet: str
    kind: str
    method: str
    fence: str
    status: int


class Fleet:
    """Fake spreadsheets by ID, served together; `log` lists every request in arrival order."""

    def __init__(self) -> None:
        self.sheets: dict[str, FakeSheets] = {}
        self.log: list[Logged] = []
        self._lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_port}"

    def add(self, spreadsheet_id: str) -> FakeSheets:
        fake = FakeSheets(spreadsheet_id, base=self.url)
        self.sheets[spreadsheet_id] = fake
        return fake

    def writes(self, spreadsheet: str | None = None, since: int = 0) -> list[Logged]:
        """Successful writes from log entry `since` on, in arrival order, optionally of one spreadsheet."""
        with self._lock:
            return [e for e in self.log[since:] if e.status == 200 and e.kind not in READS
                    and (spreadsheet is None or e.spreadsheet == spreadsheet)]

    def requests_per_minute(self) -> float:
        """The busiest 60-second window's request count, over every spreadsheet (the per-account quota)."""
        with self._lock:
            times = sorted(e.at for e in self.log)
        best, start = 0, 0
        for end, moment in enumerate(times):
            while moment - times[start] >= 60:
                start += 1
            best = max(best, end - start + 1)
        return float(best)

    def start(self) -> Fleet:
        fleet = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                match = _SPREADSHEET.match(self.path)
                fake = fleet.sheets.get(match.group(1)) if match else None
                if fake is None:
                    status, headers, text = 404, {}, '{"error": {"code": 404, "message": "Not found"}}'
                    kind = "unknown"
                else:
                    calls = len(fake.calls)
                    status, headers, text = fake.handle(self.command, fake.base + self.path, body)
                    kind = fake.calls[calls].kind if len(fake.calls) > calls else "unknown"
                with fleet._lock:
                    fleet.log.append(Logged(time.time(), match.group(1) if match else "", kind, self.command,
                                            self.headers.get("X-Sheetsync-Fence", ""), status))
                data = text.encode("utf-8")
                self.send_response(status or 500)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                try:
                    self.wfile.write(data)
                except OSError:  # the client was killed mid-answer (the failover test does that)
                    self.close_connection = True

            do_GET = do_POST = do_PUT = _answer

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's signature
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
