"""Hostile and careless senders: every example from issue #7 gets a JSON 4xx or lands cleanly as text."""

from __future__ import annotations

import http.client
import json
import threading
from dataclasses import replace
from datetime import datetime, timezone

import openpyxl
import pytest
from waitress import wasyncore

from sheetsync.config import Config
from sheetsync.intake import mapping
from sheetsync.intake.flush import flush_once
from sheetsync.sync import Syncer
from webhook import EXTENSION, create_app
from webhook.server import bind
from webhook.signing import base64_hmac, jdy_signature, sheetsync_header

NOW = datetime(2026, 11, 28, 9, 30, tzinfo=timezone.utc)
T = int(NOW.timestamp())
SECRETS = {"generic": ("gen-secret",), "google-forms": ("gf-secret",), "jiandaoyun": ("jdy-secret",),
           "typeform": ("tf-secret",), "tally": ("tally-secret",), "followup": ("fu-secret",)}


def signed(source: str, body: bytes, content_type: str = "application/json") -> tuple[str, dict[str, str]]:
    """The URL and headers that sign `body` for `source` the way its vendor does."""
    headers = {"Content-Type": content_type}
    url = f"/hooks/{source}"
    secret = SECRETS[source][0]
    if source == "jiandaoyun":
        url += f"?nonce=n0nce&timestamp={T}"
        headers["X-JDY-Signature"] = jdy_signature("n0nce", body, secret, str(T))
    elif source == "typeform":
        headers["Typeform-Signature"] = "sha256=" + base64_hmac(secret, body)
    elif source == "tally":
        headers["Tally-Signature"] = base64_hmac(secret, body)
    else:
        headers["X-Sheetsync-Signature"] = sheetsync_header(secret, body, T)
    return url, headers


@pytest.fixture
def app(config):
    app = create_app(Config(**{**config.__dict__, "secrets": SECRETS}))
    app.extensions[EXTENSION].clock = lambda: NOW
    yield app
    app.extensions[EXTENSION].queue.close()


def post(app, source: str, payload: object):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    url, headers = signed(source, body)
    return app.test_client().post(url, data=body, headers=headers)


def flush_and_open(app, excel, config, state, tmp_path):
    queue = app.extensions[EXTENSION].queue
    result = flush_once(queue, Syncer(excel.store, config, state, clock=lambda: NOW), NOW)
    assert result.landed, result
    return openpyxl.load_workbook(tmp_path / "pipeline.xlsx")["Opportunities"]


@pytest.mark.parametrize("bad", ["\uffff", "\ufffe"])
def test_a_noncharacter_in_a_lead_no_longer_bricks_the_workbook(app, excel, config, state, tmp_path, bad):
    body = ('{"Customer":"X \\u' + f"{ord(bad):04x}" + '","Contact":"N","Phone":"1"}').encode()
    r = post(app, "generic", body)
    assert r.status_code == 202, r.json
    sheet = flush_and_open(app, excel, config, state, tmp_path)  # the saved workbook opens again
    assert "X" in [c.value for c in sheet["D"]]
    # and a second save after a restart still works
    assert post(app, "generic", {"Customer": "Next", "Contact": "N", "Phone": "2"}).status_code == 202
    assert "Next" in [c.value for c in flush_and_open(app, excel, config, state, tmp_path)["D"]]


def test_a_lone_surrogate_json_escape_lands_as_clean_text(app, excel, config, state, tmp_path):
    r = post(app, "generic", b'{"Customer":"Acme \\ud800 Ltd","Contact":"N","Phone":"1"}')
    assert r.status_code == 202, r.json
    assert any("removed" in w for w in r.json["warnings"])
    sheet = flush_and_open(app, excel, config, state, tmp_path)
    assert "Acme  Ltd" in [c.value for c in sheet["D"]]


def chain(depth: int) -> object:
    value: object = "leaf"
    for _ in range(depth):
        value = {"k": value}
    return value


@pytest.mark.parametrize("depth", [12, 19, 29])
def test_nested_jiandaoyun_values_take_linear_work(app, monkeypatch, depth):
    """The renderer evaluated each nested value twice per level: 2**depth calls (5 s at 19 levels)."""
    calls = []
    real = mapping.to_text

    def counting(value, depth=0):
        calls.append(depth)
        if len(calls) > 10_000:
            raise AssertionError("to_text is not linear in the nesting depth")
        return real(value, depth)

    monkeypatch.setattr(mapping, "to_text", counting)
    record = {"_id": "r1", "客户名称": "Acme", "联系人": "Li", "电话": "1", "widget": chain(depth)}
    r = post(app, "jiandaoyun", {"op": "data_create", "data": record})
    assert r.status_code == 202, r.json
    assert len(calls) < 3 * depth + 20


def test_nesting_deeper_than_32_is_a_400(app):
    r = post(app, "jiandaoyun", {"op": "data_create", "data": {"_id": "r1", "w": chain(40)}})
    assert r.status_code == 400 and "more than 32 levels deep" in r.json["message"]


@pytest.mark.parametrize("depth", [300, 5000, 30_000])
def test_arrays_nested_hundreds_deep_are_a_400_not_a_recursion_error(app, depth):
    body = b"[" * depth + b"]" * depth
    for source in ("generic", "typeform", "tally", "jiandaoyun", "google-forms", "followup"):
        r = post(app, source, b'{"Customer": ' + body + b"}")
        assert r.status_code == 400, (source, r.json)
        assert "levels deep" in r.json["message"] or "not valid JSON" in r.json["message"]


@pytest.mark.parametrize("source, payload, field", [
    ("jiandaoyun", {"op": {"a": 1}, "data": {"_id": "r1"}}, "op must be text, not an object"),
    ("typeform", {"event_type": "form_response", "form_response": {"answers": [
        {"type": "text", "text": "x", "field": {"id": [1], "type": "short_text"}}]}},
     "form_response.answers[].field.id must be text, not a list"),
    ("tally", {"eventType": "FORM_RESPONSE", "data": {"fields": [
        {"key": "q1", "label": "Level", "type": "MULTIPLE_CHOICE", "value": [[1]],
         "options": [{"id": "a", "text": "A"}]}]}}, "data.fields[].value[] must be text, not a list"),
    ("tally", {"eventType": "FORM_RESPONSE", "data": {"fields": [
        {"key": "q1", "label": "Level", "type": "DROPDOWN", "value": ["a"], "options": [{"id": ["a"]}]}]}},
     "data.fields[].options[].id must be text"),
    ("typeform", {"event_type": ["form_response"]}, "event_type must be text"),
    ("tally", {"eventType": "FORM_RESPONSE", "eventId": {"x": 1}, "data": {"fields": []}}, "eventId must be"),
    ("google-forms", {"answers": [{"title": ["Customer"], "response": "x"}]}, "answers[].title must be text"),
    ("google-forms", {"answers": {}, "response_id": [1]}, "response_id must be text or a number"),
])
def test_wrong_json_types_are_a_400_naming_the_field(app, source, payload, field):
    r = post(app, source, payload)
    assert r.status_code == 400, r.json
    assert field in r.json["message"]


@pytest.mark.parametrize("stamp", ["²", "１２３", "1e9", "-1", "9" * 40])
def test_odd_timestamps_are_a_401_not_a_500(app, stamp):
    body = b'{"Customer": "x"}'
    r = app.test_client().post("/hooks/generic", data=body, headers={
        "Content-Type": "application/json", "X-Sheetsync-Signature": f"t={stamp},v1=00"})
    assert r.status_code == 401 and r.is_json


@pytest.fixture
def server(config):
    config = Config(**{**config.__dict__, "secrets": SECRETS, "max_body": 2048})
    app = create_app(config)
    app.extensions[EXTENSION].clock = lambda: NOW
    srv = bind(app, replace(config, host="127.0.0.1", port=0))
    stop = threading.Event()

    def run() -> None:  # poll in small steps so the server is closed by the thread that runs it
        while not stop.is_set():
            wasyncore.loop(timeout=0.05, map=srv._map, count=1)
        wasyncore.close_all(srv._map)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    yield srv.effective_port
    stop.set()
    thread.join(5)
    srv.task_dispatcher.shutdown()
    app.extensions[EXTENSION].queue.close()


def _send(port: int, headers: dict[str, str], body_parts: list[bytes]) -> tuple[int, str, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.putrequest("POST", "/hooks/generic")
    for name, value in headers.items():
        conn.putheader(name, value)
    conn.endheaders()
    try:
        for part in body_parts:
            conn.send(part)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server may answer and close before the whole body is sent
    answer = conn.getresponse()
    data = answer.read()
    conn.close()
    return answer.status, answer.getheader("Content-Type") or "", json.loads(data)


@pytest.mark.parametrize("size", [2048 + 1, 2048 + 1025, 10 * 2048 * 1024])
def test_bodies_far_above_max_body_get_a_json_413(server, size):
    status, content_type, answer = _send(server, {"Content-Type": "application/json", "Content-Length": str(size)},
                                         [b"x" * min(size, 64 * 1024)])
    assert status == 413 and content_type.startswith("application/json")
    assert "max_body = 2048 bytes" in answer["message"]


def test_a_chunked_body_above_max_body_gets_a_json_413(server):
    chunk = b"x" * 1000
    parts = [b"%x\r\n%s\r\n" % (len(chunk), chunk)] * 8 + [b"0\r\n\r\n"]
    status, content_type, answer = _send(server, {"Content-Type": "application/json",
                                                  "Transfer-Encoding": "chunked"}, parts)
    assert status == 413 and content_type.startswith("application/json")
    assert "max_body" in answer["message"]


def test_broken_chunking_gets_a_json_400(server):
    status, content_type, answer = _send(server, {"Content-Type": "application/json",
                                                  "Transfer-Encoding": "chunked"}, [b"zz\r\nnope\r\n0\r\n\r\n"])
    assert status == 400 and content_type.startswith("application/json") and answer["message"]


def test_a_small_chunked_body_is_read_like_any_other(server):
    body = json.dumps({"Customer": "Chunked Co", "Contact": "Li", "Phone": "1"}).encode()
    _, headers = signed("generic", body)
    status, _, answer = _send(server, {**headers, "Transfer-Encoding": "chunked"},
                              [b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)])
    assert status == 202, answer


@pytest.mark.parametrize("source, payload, field", [
    ("jiandaoyun", {"op": "data_create", "data": {"_id": "ab\ud800", "客户名称": "Acme"}}, "data._id"),
    ("tally", {"eventType": "FORM_RESPONSE", "eventId": "e\ud800",
               "data": {"fields": [{"label": "Customer", "type": "INPUT_TEXT", "value": "Acme"}]}}, "eventId"),
    ("typeform", {"event_type": "form_response", "event_id": "\udfff",
                  "form_response": {"answers": [{"type": "text", "text": "Acme", "field": {"ref": "customer"}}]}},
     "event_id"),
    ("google-forms", {"response_id": "r\ud800", "answers": {"Customer": "Acme"}}, "response_id"),
    ("google-forms", {"response_id": "r" * 300, "answers": {"Customer": "Acme"}}, "response_id"),
])
def test_an_event_or_record_id_with_a_lone_surrogate_is_a_400_not_a_500(app, source, payload, field):
    """Found by fuzzing: the ID reached the SQLite queue, whose UTF-8 encoding raised UnicodeEncodeError."""
    r = post(app, source, payload)
    assert r.status_code == 400, r.json
    assert f"{field} must be printable text" in r.json["message"]


def test_a_jiandaoyun_update_whose_id_is_only_whitespace_is_a_400():
    """Found by fuzzing: data._id "\\r" passed the type check, was stripped to nothing and the queue raised (500)."""


@pytest.mark.parametrize("record_id", ["\r", " ", "\t\n"])
def test_a_jiandaoyun_push_whose_id_is_blank_after_trimming_is_a_400(app, record_id):
    """Found by fuzzing: data._id "\\r" passed the type check, was trimmed to nothing and the queue raised (500)."""
    for op in ("data_create", "data_update"):
        r = post(app, "jiandaoyun", {"op": op, "data": {"_id": record_id, "客户名称": "Acme"}})
        assert r.status_code == 400 and "has no data._id" in r.json["message"], r.json
