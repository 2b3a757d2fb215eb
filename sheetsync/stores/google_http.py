"""Talk to the Sheets API politely: paced requests, bounded jittered retries, an overridable base URL.

gspread's own BackOffHTTPClient retries forever without jitter and ignores Retry-After. This client
retries only what can succeed later (408, 429, 5xx, connection errors), waits with jittered exponential
backoff or as long as the server asks, gives up after a fixed number of attempts with a StoreError that
says what to do, and paces every request through a token bucket so one worker stays under the
per-user quota of 60 requests a minute.
"""

from __future__ import annotations

import ipaddress
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from google.auth.exceptions import TransportError
from gspread.exceptions import APIError
from gspread.http_client import HTTPClient

from ..ports import StoreError

log = logging.getLogger(__name__)

GOOGLE_SHEETS_BASE = "https://sheets.googleapis.com"
"""The base URL gspread builds every Sheets API request on."""
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
"""Statuses worth another try; any other 5xx is retried as well."""
_LOOPBACK_NAMES = {"localhost", "localhost.localdomain"}
BODY_PIECE = 1 << 20
"""Bytes read at a time from a big answer."""


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry a request that may succeed later."""

    attempts: int = 6
    """Tries per request, the first one included."""
    base: float = 1.0
    """Seconds before the first retry; doubled on every further retry."""
    cap: float = 64.0
    """Longest backoff between two tries, in seconds."""
    jitter: float = 1.0
    """Up to this many random seconds added to every wait, so workers do not retry in step."""
    max_retry_after: float = 300.0
    """Longest Retry-After honoured; a longer one gives up at once."""

    def backoff(self, retry: int, rand: float) -> float:
        """Seconds to wait before retry number `retry` (1 for the first) without a Retry-After."""
        return min(self.cap, self.base * 2 ** (retry - 1) + rand * self.jitter)


class Pacer:
    """Keep requests under a per-minute rate with a token bucket (thread-safe; waits outside the lock)."""

    def __init__(self, per_minute: float = 50, burst: int = 8, *,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> None:
        if per_minute <= 0 or burst < 1:
            raise ValueError("per_minute must be above 0 and burst at least 1")
        self.rate = per_minute / 60.0
        self.burst = burst
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(burst)
        self._updated = clock()
        self._lock = threading.Lock()

    def wait(self) -> float:
        """Take one token, sleeping until it is available; return the seconds slept."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
            self._updated = now
            self._tokens -= 1
            delay = -self._tokens / self.rate if self._tokens < 0 else 0.0
        if delay > 0:
            log.debug("Pacing Sheets requests: waiting %.2f s", delay)
            self._sleep(delay)
        return delay


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds a Retry-After header asks for (delta seconds or an HTTP date), None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.fromtimestamp(now, timezone.utc)).total_seconds())


def is_loopback(url: str) -> bool:
    """Whether a base URL points at this machine (127.0.0.0/8, ::1 or localhost)."""
    host = (urlsplit(url).hostname or "").lower()
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _retryable(status: int) -> bool:
    return status in RETRY_STATUSES or status >= 500


def _describe_status(response: requests.Response) -> str:
    try:
        error = response.json().get("error", {})
        detail = error.get("message") or error.get("status") or ""
    except ValueError:
        detail = response.text[:200]
    return f"HTTP {response.status_code}" + (f" ({detail})" if detail else "")


class Transient(StoreError):
    """One try failed in a way a later try may not (quota, a 5xx, no answer); `delay` is the wait to take."""

    def __init__(self, problem: str, status: int, delay: float) -> None:
        super().__init__(problem)
        self.status = status
        self.delay = delay


class SheetsHTTPClient(HTTPClient):
    """A gspread HTTP client with pacing, bounded jittered retries and a base-URL override."""

    def __init__(self, auth: Any, session: requests.Session | None = None, *, endpoint: str = "",
                 policy: RetryPolicy | None = None, pacer: Pacer | None = None,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic,
                 wall_clock: Callable[[], float] = time.time, rand: Callable[[], float] = random.random,
                 timeout: float | tuple[float, float] | None = (10.0, 180.0)) -> None:
        super().__init__(auth, session)
        self.endpoint = endpoint.rstrip("/")
        self.policy = policy or RetryPolicy()
        self.pacer = pacer or Pacer(clock=clock, sleep=sleep)
        self._sleep = sleep
        self._clock = clock
        self._wall_clock = wall_clock
        self._rand = rand
        self.timeout = timeout
        self.sent = 0
        """Requests sent over the wire, retries included."""
        self.sent_bytes = 0
        """Bytes of the request bodies sent (the writes), retries included."""

    def url(self, url: str) -> str:
        """The URL a request really goes to once the base-URL override is applied."""
        if self.endpoint and url.startswith(GOOGLE_SHEETS_BASE):
            return self.endpoint + url[len(GOOGLE_SHEETS_BASE):]
        return url

    def request(self, method: str, endpoint: str, params: Any = None, data: bytes | None = None,
                json: Mapping[str, Any] | None = None, files: Any = None,
                headers: Any = None, stream: bool = False) -> requests.Response:
        """Send one request, retrying transient failures within the policy; raise APIError on other errors.

        `stream`: the answer's body is left to the caller to read (see `body`), not read into memory here.
        """
        url = self.url(endpoint)
        started = self._clock()
        problem = ""
        status = 0
        for attempt in range(1, self.policy.attempts + 1):
            self.pacer.wait()
            self.sent += 1
            self.sent_bytes += len(data or b"")
            try:
                response = self.session.request(method=method, url=url, json=json, params=params, data=data,
                                                files=files, headers=headers, timeout=self.timeout, stream=stream)
            except (requests.ConnectionError, requests.Timeout, TransportError) as exc:
                problem, status = f"no answer ({exc.__class__.__name__}: {exc})", 0
                delay: float | None = self.policy.backoff(attempt, self._rand())
            else:
                if response.ok:
                    return response
                if not _retryable(response.status_code):
                    raise APIError(response)
                problem, status = _describe_status(response), response.status_code
                delay = self._delay(attempt, response)
            if delay is None or attempt == self.policy.attempts:
                break
            log.warning("Sheets API %s %s: %s; retry %s of %s in %.1f s", method.upper(), urlsplit(url).path,
                        problem, attempt, self.policy.attempts - 1, delay)
            self._sleep(delay)
        raise StoreError(self._give_up_message(url, status, problem, attempt, self._clock() - started))

    def body(self, method: str, endpoint: str, params: Any = None) -> bytearray:
        """The body of an answer, read in large pieces into one buffer (no second copy of a big answer)."""
        response = self.request(method, endpoint, params=params, stream=True)
        buffer = bytearray()
        try:
            for piece in response.iter_content(BODY_PIECE):
                buffer += piece
        except requests.RequestException as exc:
            raise StoreError(f"The answer from {urlsplit(self.url(endpoint)).netloc} broke off after {len(buffer):,} "
                             f"bytes ({exc.__class__.__name__}); nothing was written, the next cycle reads again. If "
                             "it keeps happening, check the network connection.") from exc
        finally:
            response.close()
        return buffer

    def send_once(self, method: str, endpoint: str, attempt: int = 1, **kwargs: Any) -> requests.Response:
        """Send one paced try and no retry; raise Transient (with the wait to take) when it may succeed later.

        For writes whose caller must re-check the sheet before each retry (see GoogleStore.write).
        """
        url = self.url(endpoint)
        self.pacer.wait()
        self.sent += 1
        self.sent_bytes += len(kwargs.get("data") or b"")
        try:
            response = self.session.request(method=method, url=url, timeout=self.timeout, **kwargs)
        except (requests.ConnectionError, requests.Timeout, TransportError) as exc:
            raise Transient(f"no answer ({exc.__class__.__name__}: {exc})", 0,
                            self.policy.backoff(attempt, self._rand())) from exc
        if response.ok:
            return response
        if not _retryable(response.status_code):
            raise APIError(response)
        delay = self._delay(attempt, response)
        raise Transient(_describe_status(response), response.status_code,
                        self.policy.max_retry_after if delay is None else delay)

    def wait(self, seconds: float) -> None:
        """Sleep on this client's clock (virtual in tests)."""
        self._sleep(seconds)

    def now(self) -> float:
        """Seconds on this client's monotonic clock."""
        return self._clock()

    def _delay(self, attempt: int, response: requests.Response) -> float | None:
        asked = parse_retry_after(response.headers.get("Retry-After"), self._wall_clock())
        if asked is None:
            return self.policy.backoff(attempt, self._rand())
        if asked > self.policy.max_retry_after:
            return None
        return asked + self._rand() * self.policy.jitter

    def _give_up_message(self, url: str, status: int, problem: str, attempts: int, elapsed: float) -> str:
        where = urlsplit(url).netloc
        tried = f"after {attempts} attempt{'s' if attempts != 1 else ''} over {elapsed:.0f} s"
        if status == 429:
            return (f"Google Sheets kept refusing requests with 429 (quota exceeded: about 60 requests a minute "
                    f"per user) {tried}. Wait a minute and try again; if it keeps happening, raise "
                    f"sync_interval or stop other tools that use the same service account.")
        if status:
            return (f"Google Sheets ({where}) kept failing with {problem} {tried}. This is usually on Google's "
                    f"side: try again in a few minutes.")
        return (f"Could not reach the Sheets API at {where} {tried}: {problem}. Check the network connection "
                f"(and google_api_endpoint if you set one).")
