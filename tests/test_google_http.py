"""The Sheets HTTP client: bounded jittered retries, Retry-After, pacing, endpoint override, credentials."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from email.utils import format_datetime

import pytest
import requests
import responses
from fake_sheets_http import FakeTime
from gspread.exceptions import APIError

from sheetsync.config import Config
from sheetsync.stores.base import StoreError
from sheetsync.stores.google_connect import build_client, load_credentials, spreadsheet_id
from sheetsync.stores.google_http import Pacer, RetryPolicy, SheetsHTTPClient, is_loopback, parse_retry_after

URL = "https://sheets.googleapis.com/v4/spreadsheets/abc1234567890"
QUOTA = {"error": {"code": 429, "message": "Quota exceeded", "status": "RESOURCE_EXHAUSTED"}}


def client(clock: FakeTime, **kwargs) -> SheetsHTTPClient:
    return SheetsHTTPClient(None, requests.Session(), sleep=clock.sleep, clock=clock.monotonic,
                            wall_clock=clock.time, rand=lambda: 0.5,
                            pacer=kwargs.pop("pacer", Pacer(per_minute=1e9, burst=1000, clock=clock.monotonic,
                                                            sleep=clock.sleep)), **kwargs)


@pytest.fixture
def clock() -> FakeTime:
    return FakeTime()


@responses.activate
def test_a_429_storm_ends_in_success_within_the_attempt_bound(clock):
    for _ in range(4):
        responses.get(URL, json=QUOTA, status=429)
    responses.get(URL, json={"ok": True})
    http = client(clock)
    assert http.request("get", URL).json() == {"ok": True}
    assert len(responses.calls) == 5 <= RetryPolicy().attempts
    assert clock.sleeps == [1.5, 2.5, 4.5, 8.5]  # 2**n plus jitter (rand 0.5 of 1 s)


@responses.activate
def test_a_permanent_429_gives_up_after_the_bound_with_a_clear_error(clock):
    responses.get(URL, json=QUOTA, status=429)
    http = client(clock)
    with pytest.raises(StoreError, match=r"429 \(quota exceeded.*after 6 attempts over \d+ s.*sync_interval"):
        http.request("get", URL)
    assert len(responses.calls) == 6
    assert len(clock.sleeps) == 5


def test_backoff_is_capped_and_jittered():
    policy = RetryPolicy(cap=64)
    assert [policy.backoff(n, 0.0) for n in range(1, 9)] == [1, 2, 4, 8, 16, 32, 64, 64]
    assert policy.backoff(1, 0.99) == pytest.approx(1.99)


@responses.activate
def test_retry_after_in_seconds_is_honoured(clock):
    responses.get(URL, json=QUOTA, status=429, headers={"Retry-After": "7"})
    responses.get(URL, json={})
    client(clock).request("get", URL)
    assert clock.sleeps == [7.5]


@responses.activate
def test_retry_after_as_an_http_date_is_honoured(clock):
    when = datetime.fromtimestamp(clock.time() + 30, timezone.utc)
    responses.get(URL, status=503, headers={"Retry-After": format_datetime(when, usegmt=True)})
    responses.get(URL, json={})
    client(clock).request("get", URL)
    assert clock.sleeps == [pytest.approx(30.5)]


@responses.activate
def test_a_retry_after_beyond_the_limit_gives_up_at_once(clock):
    responses.get(URL, json=QUOTA, status=429, headers={"Retry-After": "3600"})
    with pytest.raises(StoreError, match="after 1 attempt "):
        client(clock).request("get", URL)
    assert clock.sleeps == []


@pytest.mark.parametrize("status", [400, 401, 403, 404])
@responses.activate
def test_client_errors_are_not_retried(clock, status):
    responses.get(URL, json={"error": {"code": status, "message": "no", "status": "X"}}, status=status)
    with pytest.raises(APIError) as info:
        client(clock).request("get", URL)
    assert info.value.code == status
    assert len(responses.calls) == 1 and clock.sleeps == []


@pytest.mark.parametrize("status", [408, 500, 502, 503, 504])
@responses.activate
def test_timeouts_and_server_errors_are_retried(clock, status):
    responses.get(URL, body="oops", status=status)
    responses.get(URL, json={"ok": 1})
    assert client(clock).request("get", URL).json() == {"ok": 1}


@responses.activate
def test_connection_errors_are_retried_then_reported(clock):
    responses.get(URL, body=requests.ConnectionError("refused"))
    with pytest.raises(StoreError, match="Could not reach the Sheets API at sheets.googleapis.com after 6 attempts"):
        client(clock).request("get", URL)
    assert len(clock.sleeps) == 5


def test_pacing_keeps_every_minute_under_sixty_requests(clock):
    pacer = Pacer(clock=clock.monotonic, sleep=clock.sleep)
    sent = []
    for _ in range(200):
        pacer.wait()
        sent.append(clock.monotonic())
    busiest = max(sum(1 for t in sent if start <= t < start + 60) for start in sent)
    assert busiest < 60
    assert sent[pacer.burst - 1] == sent[0] < sent[pacer.burst]  # a short burst goes out at once, then paced


@responses.activate
def test_the_endpoint_override_rewrites_every_sheets_url(clock):
    responses.get("http://127.0.0.1:8765/v4/spreadsheets/abc1234567890", json={"via": "fake"})
    http = client(clock, endpoint="http://127.0.0.1:8765/")
    assert http.request("get", URL).json() == {"via": "fake"}
    assert http.url("https://www.googleapis.com/drive/v3/files") == "https://www.googleapis.com/drive/v3/files"


@pytest.mark.parametrize(("value", "expected"), [
    ("12", 12.0), ("0", 0.0), ("-3", 0.0), (None, None), ("", None), ("soon", None),
    ("Wed, 21 Oct 2015 07:28:00 GMT", 60.0),
])
def test_parse_retry_after(value, expected):
    now = datetime(2015, 10, 21, 7, 27, tzinfo=timezone.utc).timestamp()
    assert parse_retry_after(value, now) == expected


@pytest.mark.parametrize(("url", "loopback"), [
    ("http://127.0.0.1:8765", True), ("http://localhost:1", True), ("http://[::1]:80", True),
    ("http://127.8.0.1", True), ("https://sheets.googleapis.com", False), ("http://10.0.0.5:8080", False),
])
def test_is_loopback(url, loopback):
    assert is_loopback(url) is loopback


@pytest.mark.parametrize(("value", "expected"), [
    ("1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-xy", "1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-xy"),
    ("https://docs.google.com/spreadsheets/d/1AbCdEfGhIjK_-9/edit#gid=0", "1AbCdEfGhIjK_-9"),
])
def test_spreadsheet_by_id_or_url(value, expected):
    assert spreadsheet_id(value) == expected


@pytest.mark.parametrize(("value", "message"), [
    ("", "set google_spreadsheet"), ("my sheet", "neither a spreadsheet ID nor a Google Sheets URL"),
])
def test_a_bad_spreadsheet_setting_says_what_to_set(value, message):
    with pytest.raises(StoreError, match=message):
        spreadsheet_id(value)


def test_a_loopback_endpoint_needs_no_credentials(tmp_path):
    http, account = build_client(Config(google_api_endpoint="http://127.0.0.1:8765", base_dir=tmp_path))
    assert type(http.session) is requests.Session and http.endpoint == "http://127.0.0.1:8765"
    assert account == "the service account"


@pytest.mark.parametrize(("settings", "message"), [
    ({}, "set google_credentials to the path of the service-account JSON key file"),
    ({"google_api_endpoint": "https://proxy.example.com"}, "No Google credentials are configured"),
    ({"google_credentials": "missing.json"}, r"missing.json does not exist: fix google_credentials"),
    ({"google_credentials_json": "{not json"}, "is not valid JSON"),
    ({"google_credentials_json": '{"type": "authorized_user"}'}, "is not a service-account key"),
])
def test_missing_or_bad_credentials_name_the_setting(tmp_path, settings, message):
    with pytest.raises(StoreError, match=message):
        build_client(Config(base_dir=tmp_path, **settings))


def _service_account_info() -> dict[str, str]:
    rsa = pytest.importorskip("cryptography.hazmat.primitives.asymmetric.rsa")
    serialization = pytest.importorskip("cryptography.hazmat.primitives.serialization")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    return {"type": "service_account", "project_id": "demo", "private_key_id": "k1", "private_key": pem,
            "client_email": "sync-bot@demo.iam.gserviceaccount.com", "client_id": "1",
            "token_uri": "https://oauth2.googleapis.com/token"}


def test_credentials_come_from_a_key_file_or_from_json_in_the_environment(tmp_path):
    info = _service_account_info()
    (tmp_path / "key.json").write_text(json.dumps(info))
    from_file = load_credentials(Config(google_credentials="key.json", base_dir=tmp_path))
    from_env = load_credentials(Config(google_credentials_json=json.dumps(info), base_dir=tmp_path))
    assert from_file.service_account_email == from_env.service_account_email == info["client_email"]
    assert from_file.scopes == ["https://www.googleapis.com/auth/spreadsheets"]


class _BreaksOff(requests.adapters.BaseAdapter):
    """An answer whose body stops part-way, as when the connection drops during a big read."""

    def send(self, request, **kwargs):
        class Body:
            sent = False

            def read(self, amount=None):
                if self.sent:
                    raise requests.exceptions.ChunkedEncodingError("Connection broken: IncompleteRead")
                self.sent = True
                return b'{"valueRanges": ['

            def close(self):
                """Nothing to release."""

        response = requests.Response()
        response.status_code, response.raw, response.url, response.request = 200, Body(), request.url, request
        return response

    def close(self):
        """Nothing to release."""


def test_a_body_read_whole_or_a_broken_one_said_plainly(clock):
    with responses.RequestsMock() as mocked:
        mocked.get(URL, body=b'{"valueRanges": []}' + b" " * 3_000_000)
        assert client(clock).body("get", URL).startswith(b'{"valueRanges": []}')
    session = requests.Session()
    session.mount(URL, _BreaksOff())
    broken = SheetsHTTPClient(None, session, sleep=clock.sleep, clock=clock.monotonic, wall_clock=clock.time)
    with pytest.raises(StoreError, match="broke off after 17 bytes.*the next cycle reads again"):
        broken.body("get", URL)
