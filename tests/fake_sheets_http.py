"""Ways to reach the fake Sheets API: a requests adapter, a loopback HTTP server, and virtual time."""

from __future__ import annotations

import io
import logging
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests
from requests.adapters import BaseAdapter

log = logging.getLogger(__name__)


class FakeTime:
    """A clock that only moves when someone sleeps; records every sleep."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class FakeAdapter(BaseAdapter):
    """A requests transport adapter that hands each request to the fake instead of the network."""

    def __init__(self, fake: Any) -> None:
        super().__init__()
        self.fake = fake

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        status, headers, text = self.fake.handle(request.method or "GET", request.url or "", request.body)
        if status == 0:
            raise requests.ConnectionError("Connection reset by the fake")
        response = requests.Response()
        response.status_code = status
        response.headers.update({"Content-Type": "application/json", **headers})
        response.raw = io.BytesIO(text.encode("utf-8"))  # read as the body of a real answer is, streamed or not
        response.url = request.url or ""
        response.request = request
        response.encoding = "utf-8"
        return response

    def close(self) -> None:
        """Nothing to release."""


def make_server(fake: Any, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    """An HTTP server answering with the fake (one lock serialises requests, like one spreadsheet)."""

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            url = f"{fake.base}{self.path}"
            status, headers, text = fake.handle(self.command, url, body)
            if status == 0:
                self.close_connection = True
                return
            data = text.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = _answer

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's signature
            log.info("%s %s", self.address_string(), format % args)

    return ThreadingHTTPServer((host, port), Handler)


def serve(fake: Any, host: str, port: int) -> None:
    """Serve the fake over HTTP on loopback until interrupted."""
    server = make_server(fake, host, port)
    print(f"Fake Sheets API on http://{host}:{server.server_port} (spreadsheet ID {fake.spreadsheet_id}, "  # noqa: T201
          f"timezone {fake.timezone}). Ctrl-C stops it.", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
