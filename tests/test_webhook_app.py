"""The webhook app end to end: every source signed right, wrong, not at all, replayed or late; bad input."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import pytest

from sheetsync.config import Config, ConfigError
from webhook import EXTENSION, create_app
from webhook.signing import base64_hmac, jdy_signature, sheetsync_header

VECTORS = Path(__file__).parent / "vectors"
NOW = datetime(2026, 11, 28, 9, 30, tzinfo=timezone.utc)
T = int(NOW.timestamp())
SECRETS = {"generic": ("gen-old", "gen-new"), "google-forms": ("gf-secret",), "jiandaoyun": ("test-secret",),
           "typeform": ("abc123",), "tally": ("YOUR_SIGNING_SECRET",), "followup": ("fu-secret",)}
JSON = "application/json"
TOKEN = "status-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SOURCES_ALL = ("generic", "google-forms", "jiandaoyun", "typeform", "tally", "followup")


def make_app(tmp_path, **overrides):
    values = {"state_dir": str(tmp_path / "state"), "base_dir": tmp_path, "secrets": SECRETS, "api_token": TOKEN,
              **overrides}
    app = create_app(Config(**values))
    app.extensions[EXTENSION].clock = lambda: NOW
    return app


@pytest.fixture
def app(tmp_path):
    app = make_app(tmp_path)
    yield app
    app.extensions[EXTENSION].queue.close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def queue(app):
    return app.extensions[EXTENSION].queue


def at(app, moment: int) -> None:
    app.extensions[EXTENSION].clock = lambda: datetime.fromtimestamp(moment, timezone.utc)


def ours(body: bytes, secret: str, t: int = T, **headers) -> dict:
    return {"X-Sheetsync-Signature": sheetsync_header(secret, body, t), "Content-Type": JSON, **headers}


def post_generic(client, payload, secret="gen-new", t=T, **headers):
    body = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
    return client.post("/hooks/generic", data=body, headers=ours(body, secret, t, **headers))


LEAD = {"Company": "Acme Machinery", "联系人": "王伟", "Phone": "+86 138 0000 1111", "Region": "East",
        "How did you hear about us?": "Trade fair"}

def test_every_configurable_source_has_an_endpoint():
    from sheetsync.config import SOURCES as CONFIGURED
    from webhook.sources import SOURCES

    assert set(SOURCES) == set(CONFIGURED)


# -- generic -------------------------------------------------------------------------------------


def test_generic_signed_lead_is_queued_with_columns_and_extras_in_need(client, queue):
    r = post_generic(client, LEAD)
    assert r.status_code == 202
    assert r.json["status"] == "queued" and r.json["id"].startswith("OPP-")
    assert r.json["warnings"] == ["Field 'How did you hear about us?' matches no column and went to Need: name a "
                                  "field like a column header (e.g. Customer, Phone, Region) or map it under "
                                  "[field_map] in the config."]
    [item] = queue.items()
    assert item["fields"] == {"customer": "Acme Machinery", "contact": "王伟", "phone": "+86 138 0000 1111",
                              "region": "East", "need": "How did you hear about us?: Trade fair",
                              "source": "Web form"}
    assert item["opportunity_id"] == r.json["id"]


def test_generic_accepts_an_html_form_post(client, queue):
    body = b"Customer=Acme&Contact=Li&Email=li%40acme.cn&Interest=A&Interest=B"
    r = client.post("/hooks/generic", data=body,
                    headers={**ours(body, "gen-old"), "Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 202
    assert queue.items()[0]["fields"]["need"] == "Interest: A, B"
    assert queue.items()[0]["fields"]["email"] == "li@acme.cn"


def test_generic_accepts_either_rotated_secret(client, queue):
    assert post_generic(client, LEAD, secret="gen-old").status_code == 202
    assert post_generic(client, {**LEAD, "Company": "B"}, secret="gen-new").status_code == 202
    assert len(queue.items()) == 2


@pytest.mark.parametrize("headers", [
    {"Content-Type": JSON},
    {"Content-Type": JSON, "X-Sheetsync-Signature": "t=1,v1=00"},
    {"Content-Type": JSON, "X-Sheetsync-Signature": "garbage"},
], ids=["unsigned", "wrong", "garbage"])
def test_generic_refuses_unsigned_or_wrongly_signed_requests(client, queue, headers):
    r = client.post("/hooks/generic", data=json.dumps(LEAD), headers=headers)
    assert r.status_code == 401 and r.json["error"] == "bad_signature"
    assert "X-Sheetsync-Signature" in r.json["message"]
    assert queue.items() == []


def test_generic_refuses_a_body_signed_with_a_wrong_secret(client, queue):
    r = post_generic(client, LEAD, secret="not-it")
    assert r.status_code == 401 and "does not match" in r.json["message"]


@pytest.mark.parametrize("offset", [-301, 301])
def test_generic_refuses_a_timestamp_outside_five_minutes(client, queue, offset):
    r = post_generic(client, LEAD, t=T + offset)
    assert r.status_code == 401 and "301 s away" in r.json["message"]
    assert queue.items() == []


def test_a_replayed_signed_request_gets_the_first_answer_and_adds_nothing(client, queue):
    body = json.dumps(LEAD).encode()
    headers = ours(body, "gen-new")
    first = client.post("/hooks/generic", data=body, headers=headers)
    again = client.post("/hooks/generic", data=body, headers=headers)
    assert again.status_code == 202 and again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(queue.items()) == 1


def test_a_sender_retry_with_the_same_idempotency_key_gets_the_first_answer(client, app, queue):
    first = post_generic(client, LEAD, **{"Idempotency-Key": "order-17"})
    at(app, T + 100)
    again = post_generic(client, LEAD, t=T + 100, **{"Idempotency-Key": "order-17"})
    assert again.json == first.json and len(queue.items()) == 1


def test_the_same_idempotency_key_with_another_body_is_409(client, queue):
    post_generic(client, LEAD, **{"Idempotency-Key": "order-17"})
    r = post_generic(client, {**LEAD, "Company": "Other"}, **{"Idempotency-Key": "order-17"})
    assert r.status_code == 409 and r.json["error"] == "idempotency_conflict"
    assert "'order-17' was already used for a different request" in r.json["message"]


def test_a_source_without_a_secret_refuses_unsigned_posts_saying_how_to_set_one(tmp_path):
    app = make_app(tmp_path, secrets={})
    r = app.test_client().post("/hooks/generic", json=LEAD)
    assert r.status_code == 401 and r.json["error"] == "no_secret"
    assert "has no secret configured" in r.json["message"] and "SHEETSYNC_SECRET_GENERIC" in r.json["message"]
    assert "allow_unsigned" in r.json["message"]
    app.extensions[EXTENSION].queue.close()


def test_a_source_in_allow_unsigned_accepts_unsigned_posts_with_a_warning(tmp_path):
    app = make_app(tmp_path, secrets={}, allow_unsigned=("generic",))
    r = app.test_client().post("/hooks/generic", json=LEAD)
    assert r.status_code == 202
    assert "allow_unsigned" in r.json["warnings"][-1] and "SHEETSYNC_SECRET_GENERIC" in r.json["warnings"][-1]
    assert app.test_client().post("/hooks/tally", json={}).status_code == 401
    app.extensions[EXTENSION].queue.close()


def test_formula_text_is_queued_exactly_as_typed(client, queue):
    evil = {"Customer": '=HYPERLINK("http://evil.example","Click")', "Contact": "+SUM(1,2)", "Phone": "-1",
            "Need": "@cmd|' /C calc'!A0", "Region": "\t=1+1"}
    assert post_generic(client, evil).status_code == 202
    fields = queue.items()[0]["fields"]
    assert fields["customer"] == '=HYPERLINK("http://evil.example","Click")'
    assert fields["contact"] == "+SUM(1,2)" and fields["phone"] == "-1"
    assert fields["need"] == "@cmd|' /C calc'!A0"
    assert fields["region"] == "=1+1"  # the leading tab is a control character and is stripped


def test_huge_fields_are_cut_with_a_warning(client, queue):
    r = post_generic(client, {"Customer": "Acme", "Need": "x" * 30000})
    assert r.status_code == 202 and "longer than 2000 characters" in r.json["warnings"][0]
    assert len(queue.items()[0]["fields"]["need"]) == 2000


def test_numbers_booleans_and_lists_become_text(client, queue):
    post_generic(client, {"Customer": "Acme", "Amount": 12000.5, "Level": 3, "Need": ["a", "b"], "VIP": True})
    fields = queue.items()[0]["fields"]
    assert (fields["amount"], fields["level"], fields["need"]) == ("12000.5", "3", "a, b\nVIP: Yes")


BAD_BODIES = [
    (b'{"Customer": "Acme"', 400, "not valid JSON"),
    (b"", 400, "empty"),
    (b'["Acme"]', 400, "JSON list, not an object"),
    (b'"Acme"', 400, "JSON str, not an object"),
    (b"null", 400, "JSON NoneType, not an object"),
    (b'{"Customer": {"name": "Acme"}}', 400, "nested object"),
    (b'{"Customer": [{"name": "Acme"}]}', 400, "nested object"),
    (b'{"Customer": NaN}', 400, "not valid JSON"),
    (b'{"Customer": "\xff\xfe"}', 400, "not valid UTF-8"),
    (b"[" * 100000, 413, "larger than this server accepts"),
    (b'{"a":' * 5000 + b"1" + b"}" * 5000, 400, "more than 32 levels deep"),
    (b'{"Customer": ' + b"9" * 5000 + b"}", 400, "not valid JSON"),
    (b"{}", 400, "no non-empty fields"),
    (b'{"Customer": "", "Phone": null}', 400, "no non-empty fields"),
]


@pytest.mark.parametrize("body, status, fragment", BAD_BODIES, ids=[
    "truncated", "empty", "list", "string", "null", "nested-object", "list-of-objects", "nan", "not-utf8",
    "too-large", "deeply-nested", "huge-int", "no-fields", "blank-fields"])
def test_bad_bodies_get_a_4xx_with_a_fix_it_message_never_a_500(client, queue, body, status, fragment):
    r = client.post("/hooks/generic", data=body, headers=ours(body, "gen-new"))
    assert r.status_code == status, r.json
    assert fragment in r.json["message"]
    assert set(r.json) == {"error", "message"}
    assert queue.items() == []


def test_bad_form_bodies_get_a_400(client):
    body = b"Customer=%FF%FE"
    r = client.post("/hooks/generic", data=body,
                    headers={**ours(body, "gen-new"), "Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 400


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "multipart/form-data; boundary=x", None])
def test_a_content_type_the_source_does_not_read_is_415(client, content_type):
    body = json.dumps(LEAD).encode()
    headers = ours(body, "gen-new")
    del headers["Content-Type"]
    if content_type:
        headers["Content-Type"] = content_type
    r = client.post("/hooks/generic", data=body, headers=headers)
    assert r.status_code == 415 and "set the Content-Type header" in r.json["message"]


def test_an_idempotency_key_that_is_too_long_is_400(client):
    r = post_generic(client, LEAD, **{"Idempotency-Key": "k" * 256})
    assert r.status_code == 400 and "Idempotency-Key" in r.json["message"]


def test_unknown_source_is_404_and_names_the_real_ones(client):
    r = client.post("/hooks/hubspot", json=LEAD)
    assert r.status_code == 404 and "generic, google-forms, jiandaoyun, tally, typeform" in r.json["message"]


@pytest.mark.parametrize("method, path, status", [
    ("get", "/hooks/generic", 405), ("get", "/nowhere", 404), ("put", "/healthz", 405)])
def test_http_errors_are_json(client, method, path, status):
    r = getattr(client, method)(path)
    assert r.status_code == status and r.is_json and r.json["message"]


def test_a_store_failure_while_queueing_is_503_not_500(client, queue, monkeypatch):
    import sqlite3

    def locked(*args, **kwargs):
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(queue, "submit", locked)
    r = post_generic(client, LEAD)
    assert r.status_code == 503 and r.headers["Retry-After"] and "send it again" in r.json["message"]


def test_a_genuine_bug_is_a_json_500_and_logged(client, queue, monkeypatch, caplog):
    monkeypatch.setattr(queue, "submit", lambda *a, **k: 1 / 0)
    r = post_generic(client, LEAD)
    assert r.status_code == 500 and r.json["error"] == "internal_error"
    assert "unexpected error" in caplog.text


def test_a_field_map_naming_no_column_stops_the_app_from_starting(tmp_path):
    with pytest.raises(ConfigError, match="'Foo' to 'Bar'"):
        make_app(tmp_path, field_map={"Foo": "Bar"})


def test_healthz_and_status(client, app):
    assert client.get("/healthz").json == {"status": "ok"}
    post_generic(client, LEAD)
    status = client.get("/api/status", headers=AUTH).json
    assert status["queue"]["depth"] == 1 and status["queue"]["oldest_pending_age_seconds"] == 0
    assert status["sources"]["generic"] == "signed"
    assert status["scheduler"]["running"] is False


# -- google forms --------------------------------------------------------------------------------

GF_BODY = {"form_id": "1234567890abcdefghijklmnopqrstuvwxyz", "form_title": "Sales lead",
           "response_id": "2_ABaOnud-opaque", "submitted_at": "2026-11-28T09:29:50.000Z",
           "respondent_email": "amin@example.com",
           "answers": [{"id": 1111111111, "title": "公司名称", "type": "TEXT", "response": "Acme"},
                       {"id": 1111111112, "title": "Name", "type": "TEXT", "response": "Jane Doe"},
                       {"id": 1111111113, "title": "Interested in", "type": "CHECKBOX",
                        "response": ["Option A", "Option B"]},
                       {"id": 1111111114, "title": "Rate us", "type": "GRID", "response": ["5", ""]}]}


def post_gf(client, payload=GF_BODY, secret="gf-secret", t=T, key="2_ABaOnud-opaque"):
    body = json.dumps(payload).encode()
    headers = ours(body, secret, t)
    if key:
        headers["Idempotency-Key"] = key
    return client.post("/hooks/google-forms", data=body, headers=headers)


def test_google_forms_response_is_queued_with_respondent_email(client, queue):
    r = post_gf(client)
    assert r.status_code == 202
    [item] = queue.items()
    assert item["fields"] == {"customer": "Acme", "contact": "Jane Doe", "email": "amin@example.com",
                              "need": "Interested in: Option A, Option B\nRate us: 5", "source": "Google Forms"}
    assert item["idempotency_key"] == "2_ABaOnud-opaque"


def test_google_forms_retry_with_a_fresh_signature_is_recognised_by_response_id(client, app, queue):
    first = post_gf(client)
    at(app, T + 120)
    again = post_gf(client, t=T + 120)
    assert again.json == first.json and len(queue.items()) == 1


def test_google_forms_without_an_idempotency_header_uses_the_response_id(client, queue):
    post_gf(client, key=None)
    assert queue.items()[0]["idempotency_key"] == "2_ABaOnud-opaque"


def test_google_forms_accepts_answers_as_a_title_to_value_object(client, queue):
    payload = {"response_id": "r2", "answers": {"Company": "Acme", "Phone": "123"}}
    assert post_gf(client, payload, key="r2").status_code == 202
    assert queue.items()[0]["fields"]["phone"] == "123"


@pytest.mark.parametrize("kwargs, status", [
    ({"secret": "wrong"}, 401), ({"t": T - 400}, 401), ({"payload": {"response_id": "x"}}, 400),
    ({"payload": {"answers": [{"response": "no title"}]}}, 400)],
    ids=["wrong-secret", "expired", "no-answers", "answer-without-title"])
def test_google_forms_refusals(client, queue, kwargs, status):
    assert post_gf(client, **kwargs).status_code == status
    assert queue.items() == []


def test_google_forms_unsigned_is_401(client):
    r = client.post("/hooks/google-forms", json=GF_BODY)
    assert r.status_code == 401


# -- jiandaoyun ----------------------------------------------------------------------------------

JDY_VECTORS = {v["id"]: v for v in json.loads((VECTORS / "jiandaoyun" / "jdy_signature_vectors.json")
                                               .read_text(encoding="utf-8"))["vectors"]}


def post_jdy(client, body: bytes, signature: str, nonce: str, timestamp: str, deliver: str | None = "d-1"):
    headers = {"Content-Type": JSON, "X-JDY-Signature": signature}
    if deliver:
        headers["X-JDY-DeliverId"] = deliver
    return client.post(f"/hooks/jiandaoyun?nonce={nonce}&timestamp={timestamp}", data=body, headers=headers)


def post_jdy_payload(client, app, payload: dict, deliver: str, secret="test-secret", t=T):
    body = json.dumps(payload, ensure_ascii=False).encode()
    at(app, t)
    return post_jdy(client, body, jdy_signature("n0", body, secret, str(t)), "n0", str(t), deliver)


def test_jiandaoyun_console_sample_vector_is_accepted_with_widgets_kept_in_need(client, app, queue):
    v = JDY_VECTORS["jdy-02"]
    at(app, int(v["query"]["timestamp"]) + 10)
    r = post_jdy(client, v["raw_body"].encode(), v["x_jdy_signature"], **v["query"])
    assert r.status_code == 202
    [item] = queue.items()
    assert item["external_id"] == "5acd21b714c0ae71e9271630" and item["delivery_id"] == "d-1"
    assert item["fields"]["need"].startswith("_widget_1515400344910: 2018-04-10T06:25:13.146Z\n")
    assert "_widget_1515400344933: -930.3609" in item["fields"]["need"]
    assert "creator" not in item["fields"]["need"] and item["fields"]["source"] == "Jiandaoyun"


def test_jiandaoyun_field_map_maps_widget_ids(tmp_path):
    app = make_app(tmp_path, field_map={"_widget_1515400344920": "Customer", "_widget_1516347713330": "Level"})
    v = JDY_VECTORS["jdy-02"]
    at(app, int(v["query"]["timestamp"]))
    r = post_jdy(app.test_client(), v["raw_body"].encode(), v["x_jdy_signature"], **v["query"])
    fields = app.extensions[EXTENSION].queue.items()[0]["fields"]
    assert r.status_code == 202 and fields["customer"] == "这着向几" and fields["level"] == "党权划"
    app.extensions[EXTENSION].queue.close()


def test_jiandaoyun_update_vector_with_aliases_creates_when_no_create_was_seen(client, app, queue):
    v = JDY_VECTORS["jdy-03"]
    at(app, int(v["query"]["timestamp"]))
    r = post_jdy(client, v["raw_body"].encode(), v["x_jdy_signature"], **v["query"])
    assert r.status_code == 202 and "creates a new opportunity" in r.json["warnings"][-1]
    assert queue.items()[0]["fields"] == {"contact": "260阿萨德", "need": "code: 啊实打实大所", "source": "Jiandaoyun"}


def test_jiandaoyun_update_targets_the_opportunity_its_create_made(client, app, queue):
    record = {"_id": "rec-1", "customer": "Acme", "contact": "Li", "phone": "13800000000"}
    created = post_jdy_payload(client, app, {"op": "data_create", "data": record}, "d-1")
    updated = post_jdy_payload(client, app, {"op": "data_update", "data": {**record, "region": "华东"}}, "d-2",
                               t=T + 3600)
    assert created.status_code == updated.status_code == 202
    assert updated.json["id"] == created.json["id"]
    assert [(i["kind"], i["opportunity_id"]) for i in queue.items()] == [("create", created.json["id"]),
                                                                          ("update", created.json["id"])]


def test_jiandaoyun_redelivery_with_the_same_deliver_id_adds_nothing(client, app, queue):
    payload = {"op": "data_create", "data": {"_id": "r", "customer": "Acme"}}
    first = post_jdy_payload(client, app, payload, "d-1")
    again = post_jdy_payload(client, app, payload, "d-1", t=T + 30)
    assert again.json == first.json and len(queue.items()) == 1


@pytest.mark.parametrize("vector", ["jdy-neg-01", "jdy-neg-02", "jdy-neg-03"])
def test_jiandaoyun_negative_vectors_are_401(client, app, queue, vector):
    v = JDY_VECTORS[vector]
    state = app.extensions[EXTENSION]
    state.config = replace(state.config, secrets={"jiandaoyun": (v["secret"],)})
    at(app, 1635575734)
    r = post_jdy(client, v["raw_body"].encode(), v["x_jdy_signature"], **v["query"])
    assert r.status_code == 401 and queue.items() == []


def test_jiandaoyun_unsigned_and_expired_are_401(client, app):
    v = JDY_VECTORS["jdy-01"]
    r = client.post("/hooks/jiandaoyun?nonce=0f5ade&timestamp=1498586609", data=v["raw_body"],
                    headers={"Content-Type": JSON})
    assert r.status_code == 401 and "X-JDY-Signature" in r.json["message"]
    at(app, 1498586609 + 301)
    r = post_jdy(client, v["raw_body"].encode(), v["x_jdy_signature"], **v["query"])
    assert r.status_code == 401 and "away from this server's clock" in r.json["message"]


@pytest.mark.parametrize("op", ["data_remove", "data_recover", "form_update", "data_test", None])
def test_jiandaoyun_other_pushes_are_acknowledged_and_ignored(client, app, queue, op):
    r = post_jdy_payload(client, app, {"op": op, "data": {"_id": "x"}}, "d-9")
    assert r.status_code == 200 and r.json["status"] == "ignored" and queue.items() == []


@pytest.mark.parametrize("payload", [{"op": "data_create"}, {"op": "data_create", "data": []},
                                     {"op": "data_create", "data": {"customer": "no id"}}])
def test_jiandaoyun_records_without_an_id_are_400(client, app, payload):
    assert post_jdy_payload(client, app, payload, "d-5").status_code == 400


# -- typeform ------------------------------------------------------------------------------------

TF_BODY = (VECTORS / "typeform" / "typeform_example_payload_official.min.json").read_bytes()
TF_SIGNATURE = "sha256=6cCzNAKQTnTBz0vkS4UOCki3wpkL6Fq2NhSuJi+/N7o="


def test_typeform_official_example_is_accepted_and_mapped(client, queue):
    r = client.post("/hooks/typeform", data=TF_BODY, headers={"Content-Type": JSON, "Typeform-Signature": TF_SIGNATURE})
    assert r.status_code == 202
    [item] = queue.items()
    fields = item["fields"]
    assert fields["email"] == "laura@example.com" and item["delivery_id"] == "LtWXD3crgy"
    need = fields["need"].split("\n")
    assert "What is your first name?: Laura" in need
    assert "Which pictures do you like? You can choose as many as you like.: London, Sydney" in need
    assert "Which of these cities is your favorite?: London" in need
    assert "Do you have a favorite city we haven't listed?: No" in need
    assert "No Customer, Contact given" in r.json["warnings"][-1]


def test_typeform_maps_by_question_ref(client, queue):
    payload = {"event_id": "e1", "event_type": "form_response", "form_response": {
        "definition": {"fields": [{"id": "f1", "title": "Who are you with?", "ref": "company"}]},
        "answers": [{"type": "text", "text": "Acme", "field": {"id": "f1", "type": "short_text"}},
                    {"type": "phone_number", "phone_number": "+15550001111",
                     "field": {"id": "f2", "type": "phone_number", "ref": "phone"}}],
        "hidden": {"utm_source": "ads"}}}
    body = json.dumps(payload).encode()
    r = client.post("/hooks/typeform", data=body,
                    headers={"Content-Type": JSON, "Typeform-Signature": "sha256=" + base64_hmac("abc123", body)})
    assert r.status_code == 202
    assert queue.items()[0]["fields"] == {"customer": "Acme", "phone": "+15550001111", "need": "utm_source: ads",
                                          "source": "Typeform"}


@pytest.mark.parametrize("signature", [None, "sha256=tpceH674tX4nhoHSDRkfV4/WGakns3OkNWpJ7GGZMko=",
                                       "6cCzNAKQTnTBz0vkS4UOCki3wpkL6Fq2NhSuJi+/N7o="],
                         ids=["unsigned", "other-body", "no-prefix"])
def test_typeform_bad_signatures_are_401(client, queue, signature):
    headers = {"Content-Type": JSON} | ({"Typeform-Signature": signature} if signature else {})
    assert client.post("/hooks/typeform", data=TF_BODY, headers=headers).status_code == 401
    assert queue.items() == []


def test_typeform_redelivery_of_the_same_event_days_later_adds_nothing(client, app, queue):
    headers = {"Content-Type": JSON, "Typeform-Signature": TF_SIGNATURE}
    first = client.post("/hooks/typeform", data=TF_BODY, headers=headers)
    at(app, T + 3 * 86400)
    again = client.post("/hooks/typeform", data=TF_BODY, headers=headers)
    assert again.json == first.json and len(queue.items()) == 1


def test_typeform_other_events_are_ignored_and_bad_shapes_are_400(client):
    for payload, status in (({"event_type": "form_partial"}, 200), ({"event_type": "form_response"}, 400),
                            ({"event_type": "form_response", "form_response": {"answers": [1]}}, 400)):
        body = json.dumps(payload).encode()
        headers = {"Content-Type": JSON, "Typeform-Signature": "sha256=" + base64_hmac("abc123", body)}
        assert client.post("/hooks/typeform", data=body, headers=headers).status_code == status


# -- tally ---------------------------------------------------------------------------------------

TALLY_BODY = (VECTORS / "tally" / "tally_example_payload_official.min.json").read_bytes()
TALLY_SIGNATURE = "J0nda+1ywE0Ks7kXg6jRiDyvyjqjHSlXMBVJrGg/16Q="


def test_tally_official_example_is_accepted_with_options_resolved(client, queue):
    r = client.post("/hooks/tally", data=TALLY_BODY, headers={"Content-Type": JSON, "Tally-Signature": TALLY_SIGNATURE})
    assert r.status_code == 202
    [item] = queue.items()
    fields = item["fields"]
    assert fields["email"] == "alice@example.com" and fields["phone"] == "+32491223344"
    assert item["delivery_id"] == "a4cb511e-d513-4fa5-baee-b815d718dfd1"
    need = fields["need"].split("\n")
    assert "Checkboxes: Swimming, Skiing" in need and "Multi-select: Surf, Golf" in need
    assert "Matrix: Quality: Satisfied, Speed: Neutral" in need
    assert "utm_campaign: newsletter" in need
    assert not any(line.startswith("Checkboxes (") for line in need)
    assert any("Tally_Icon.png" in line for line in need)


def test_tally_second_signature_vector_maps_a_lead(client, queue):
    v = json.loads((VECTORS / "tally" / "tally_signature_vectors.json").read_text())["vectors"][1]
    r = client.post("/hooks/tally", data=v["raw_body"].encode(),
                    headers={"Content-Type": JSON, "Tally-Signature": v["tally_signature"]})
    assert r.status_code == 202
    assert queue.items()[0]["fields"] == {"email": "alice@example.com", "phone": "+32491223344",
                                          "need": "Text: Hello", "source": "Tally"}


@pytest.mark.parametrize("signature", [None, "sha256=" + TALLY_SIGNATURE, "deadbeef"])
def test_tally_bad_signatures_are_401(client, signature):
    headers = {"Content-Type": JSON} | ({"Tally-Signature": signature} if signature else {})
    assert client.post("/hooks/tally", data=TALLY_BODY, headers=headers).status_code == 401


def test_tally_redelivery_adds_nothing(client, queue):
    headers = {"Content-Type": JSON, "Tally-Signature": TALLY_SIGNATURE}
    first = client.post("/hooks/tally", data=TALLY_BODY, headers=headers)
    assert client.post("/hooks/tally", data=TALLY_BODY, headers=headers).json == first.json
    assert len(queue.items()) == 1


# -- followup ------------------------------------------------------------------------------------


def post_followup(client, payload, secret="fu-secret"):
    body = json.dumps(payload, ensure_ascii=False).encode()
    return client.post("/hooks/followup", data=body, headers=ours(body, secret))


def test_followup_is_queued_with_follow_up_columns(client, queue):
    r = post_followup(client, {"商机编号": "opp-7k3f9q", "跟进方式": "电话", "内容": "客户要报价",
                               "下次跟进": "2026/12/01", "By": "Alice"})
    assert r.status_code == 202 and r.json["opportunity_id"] == "OPP-7K3F9Q" and r.json["id"].startswith("IN-")
    [item] = queue.items()
    assert item["kind"] == "followup" and item["opportunity_id"] == "OPP-7K3F9Q"
    assert item["fields"] == {"opportunity_id": "OPP-7K3F9Q", "channel": "电话", "summary": "客户要报价",
                              "next_follow_up": "2026-12-01", "by": "Alice"}


def test_followup_by_phone_is_accepted(client, queue):
    assert post_followup(client, {"Phone": "13800000000", "Summary": "Visited"}).status_code == 202
    assert queue.items()[0]["opportunity_id"] is None


@pytest.mark.parametrize("payload, fragment", [
    ({"Opportunity ID": "OPP-7K3F9Q"}, "no Summary"),
    ({"Summary": "Called"}, "names no opportunity"),
    ({"Phone": "1", "Summary": "x", "Next follow-up": "someday"}, "is not a date"),
    ({"Phone": "1", "Summary": "x", "Date": "2026-13-45"}, "is not a date"),
])
def test_followup_refusals_say_what_is_missing(client, queue, payload, fragment):
    r = post_followup(client, payload)
    assert r.status_code == 400 and fragment in r.json["message"]


def test_followup_unsigned_is_401(client):
    assert client.post("/hooks/followup", json={"Phone": "1", "Summary": "x"}).status_code == 401


# -- no input gives a 500 --------------------------------------------------------------------------

JUNK = [b"", b"{}", b"[]", b"null", b"0", b'"x"', b"\xff", b'{"op": "data_create", "data": {"_id": 1}}',
        b'{"event_type": "form_response", "form_response": {"answers": {"a": 1}}}',
        b'{"eventType": "FORM_RESPONSE", "data": {"fields": [{"type": "MATRIX", "value": {"r": 5}}]}}',
        b'{"eventType": "FORM_RESPONSE", "data": {"fields": [{"type": "CHECKBOXES", "value": [1, null]}]}}',
        b'{"answers": [{"title": {"x": 1}, "response": [[1, 2], ["a"]]}]}',
        b'{"Summary": "x", "Phone": "1", "Date": 45000}',
        b'{"event_type": "form_response", "form_response": {"answers": [{"type": 5, "field": {"id": []}}]}}']


@pytest.mark.parametrize("source", ["generic", "google-forms", "jiandaoyun", "typeform", "tally", "followup"])
def test_no_signed_junk_body_gives_a_500(tmp_path, source):
    app = make_app(tmp_path, secrets={}, allow_unsigned=tuple(SOURCES_ALL))  # every body reaches the parser
    client = app.test_client()
    for body in JUNK:
        for content_type in (JSON, "application/x-www-form-urlencoded", "text/plain"):
            r = client.post(f"/hooks/{source}?nonce=a&timestamp=b", data=body, headers={"Content-Type": content_type})
            assert r.status_code < 500, (source, body, content_type, r.json)
            assert r.is_json and (r.status_code < 400 or r.json["message"])
    app.extensions[EXTENSION].queue.close()
