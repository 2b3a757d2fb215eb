"""Hypothesis strategies for hostile webhook requests, and one runner both the quick and the long fuzz use.

Every request is checked the same way: never a 5xx, always JSON, a message on every 4xx, and every value
that reaches the queue is one a spreadsheet can store. The long run also records each request's body size
and CPU time so BENCHMARKS.md can report the slowest request and whether time grows linearly with size.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlencode

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sheetsync.core.clean import unsafe_reason
from webhook.signing import base64_hmac, jdy_signature, sheetsync_header

NOW = datetime(2026, 11, 28, 9, 30, tzinfo=timezone.utc)
T = int(NOW.timestamp())
SECRETS = {"generic": ("gen-secret",), "google-forms": ("gf-secret",), "jiandaoyun": ("jdy-secret",),
           "typeform": ("tf-secret",), "tally": ("tally-secret",), "followup": ("fu-secret",)}
SOURCES = tuple(SECRETS)

# -- values ------------------------------------------------------------------------------------------

NASTY = ["\uffff", "\ufffe", "\ud800", "\udfff", "\ud83d", "\x00", "\x0b", "\x1b[31m", "\u202e", "\u200f", "😀",
         "中文客户", "שלום", "=HYPERLINK(\"http://x\")", "+1", "@SUM(A1)", "\r\n", "\t", "\ufdd0", "\U0010ffff",
         "\U0001fffe", "\x85", "OPP-7K3F9Q", "2026-11-28", "2026年11月28日", "11/28/2026", "¥12,000", "3.5万",
         "+86 138 0013 8000", "0086-10-12345678", "a@b.co", "", " ", "null", "1e999", "NaN"]
"""Values a careless or hostile sender puts in forms: noncharacters, lone surrogates, controls, formulas…"""

def mostly(common: st.SearchStrategy[Any], rare: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """`common` about four times in five, `rare` otherwise, so most requests get past the first checks."""
    return st.integers(0, 4).flatmap(lambda n: rare if n == 4 else common)


any_char = st.characters(codec=None, exclude_categories=())  # surrogates (Cs) included on purpose
texts = st.one_of(st.text(any_char, max_size=30), st.sampled_from(NASTY),
                  st.lists(st.sampled_from(NASTY), min_size=1, max_size=4).map("".join))
long_texts = st.integers(0, 60_000).map(lambda n: "长" * n)
scalars = st.one_of(st.none(), st.booleans(), st.integers(-(10**40), 10**40), st.integers(10**300, 10**500),
                    st.floats(allow_nan=False, allow_infinity=False), texts)


def _deep(depth: int, kind: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = [value] if kind else {"k": value}
    return value


deep = st.builds(_deep, st.integers(20, 60), st.integers(0, 1))
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(texts, inner, max_size=4), max_leaves=12)
anything = mostly(json_values, st.one_of(deep, long_texts))
"""Any JSON value: small trees of nasty scalars, deep chains, or one huge string."""

LABELS = ["Customer", "Company", "客户名称", "Contact", "联系人", "Phone", "电话", "Email", "Region", "Need",
          "Amount", "Stage", "Owner", "ID", "Opportunity ID", "Summary", "Date", "Next follow-up", "Channel"]
labels = mostly(st.sampled_from(LABELS), texts)
filled = st.tuples(st.sampled_from(["Acme 机械", "王伟", "+86 138 0013 8000", "East", "a@b.co", "12000"]),
                   texts).map("".join)
"""A value with something real in it, plus whatever nasty text follows."""
answers = mostly(filled, st.one_of(texts, scalars, st.lists(scalars, max_size=3), anything))
ids = mostly(st.text("0123456789abcdef-", min_size=1, max_size=24), st.one_of(texts, anything))

# -- bodies per source -------------------------------------------------------------------------------

flat = st.dictionaries(labels, st.one_of(scalars, st.lists(scalars, max_size=3)), max_size=8)
lead = st.fixed_dictionaries({"Customer": texts, "Contact": texts, "Phone": texts},
                             optional={label: st.one_of(scalars, st.lists(scalars, max_size=3))
                                       for label in LABELS if label not in ("Customer", "Contact", "Phone")})
generic_body = mostly(st.one_of(lead, flat), st.one_of(st.dictionaries(labels, answers, max_size=6), anything))

google_forms_body = mostly(
    st.fixed_dictionaries({"response_id": ids,
                           "answers": st.one_of(
                               st.lists(st.fixed_dictionaries({"title": st.one_of(labels, anything),
                                                               "response": answers, "id": anything}), max_size=6),
                               st.dictionaries(labels, answers, max_size=6), anything)},
                          optional={"respondent_email": st.one_of(texts, anything)}),
    anything)

jdy_record = mostly(
    st.fixed_dictionaries({"_id": ids},
                          optional={k: mostly(texts, answers)
                                    for k in ("客户名称", "联系人", "电话", "_widget_1", "address")}),
    anything)
jiandaoyun_body = mostly(
    st.fixed_dictionaries({"op": mostly(st.sampled_from(["data_create", "data_update", "data_remove"]), anything),
                           "data": jdy_record}), anything)

TYPEFORM_TYPES = ["text", "email", "phone_number", "number", "boolean", "choice", "choices", "date", "url",
                  "payment", "file_url"]
tf_answer = mostly(
    st.sampled_from(TYPEFORM_TYPES).flatmap(lambda kind: st.fixed_dictionaries({
        "type": st.just(kind), "field": st.fixed_dictionaries({}, optional={"id": st.one_of(texts, anything),
                                                                              "ref": st.one_of(texts, anything)}),
        kind: st.one_of(answers, st.fixed_dictionaries({}, optional={
            "label": answers, "labels": anything, "other": answers, "name": answers, "amount": answers}))})),
    anything)
typeform_body = mostly(
    st.fixed_dictionaries({
        "event_type": mostly(st.just("form_response"), anything), "event_id": ids,
        "form_response": mostly(st.fixed_dictionaries({"answers": mostly(st.lists(tf_answer, max_size=5),
                                                                                 anything)}, optional={
            "definition": st.one_of(st.fixed_dictionaries({"fields": st.one_of(st.lists(st.fixed_dictionaries(
                {}, optional={"id": anything, "title": st.one_of(labels, anything), "ref": anything}), max_size=4),
                anything)}), anything),
            "hidden": anything, "token": anything}), anything)}),
    anything)

TALLY_TYPES = ["INPUT_TEXT", "INPUT_EMAIL", "INPUT_PHONE_NUMBER", "MULTIPLE_CHOICE", "CHECKBOXES", "DROPDOWN",
               "MATRIX", "FILE_UPLOAD", "RANKING"]
tally_option = st.fixed_dictionaries({}, optional={"id": st.one_of(texts, anything), "text": answers})
tally_field = mostly(
    st.fixed_dictionaries({"type": mostly(st.sampled_from(TALLY_TYPES), anything), "label": mostly(labels, anything),
                           "value": answers}, optional={
        "key": st.one_of(texts, anything),
        "options": st.one_of(st.lists(tally_option, max_size=3), anything),
        "rows": st.lists(tally_option, max_size=2), "columns": st.lists(tally_option, max_size=2)}),
    anything)
tally_body = mostly(
    st.fixed_dictionaries({"eventType": mostly(st.just("FORM_RESPONSE"), anything),
                           "eventId": ids,
                           "data": mostly(st.fixed_dictionaries({"fields": mostly(
                               st.lists(tally_field, max_size=6), anything)}), anything)}),
    anything)

followup_body = mostly(
    st.fixed_dictionaries({"Summary": answers, "Phone": answers}, optional={
        "Opportunity ID": answers, "Date": mostly(st.sampled_from(NASTY[23:27]), answers),
        "Next follow-up": answers, "Channel": answers}),
    generic_body)

BODIES = {"generic": generic_body, "google-forms": google_forms_body, "jiandaoyun": jiandaoyun_body,
          "typeform": typeform_body, "tally": tally_body, "followup": followup_body}

# -- requests ----------------------------------------------------------------------------------------

header_text = st.text(st.characters(min_codepoint=32, max_codepoint=255), max_size=60)
CONTENT_TYPES = ["application/json", "application/json; charset=utf-8", "application/x-www-form-urlencoded",
                 "text/plain", "", "multipart/form-data; boundary=x", "application/JSON", "application/json; x=\""]


@dataclass(frozen=True)
class Shape:
    """How one request is sent, apart from its body."""

    content_type: str
    signed: bool
    ascii_json: bool
    as_form: bool
    raw: bytes | None
    headers: dict[str, str]
    query: dict[str, str]


random_shapes = st.builds(
    Shape,
    content_type=st.one_of(st.sampled_from(CONTENT_TYPES), header_text),
    signed=st.booleans(),
    ascii_json=st.booleans(),
    as_form=st.booleans(),
    raw=st.one_of(st.none(), st.binary(max_size=200)),
    headers=st.dictionaries(st.sampled_from(["Idempotency-Key", "X-JDY-DeliverId", "X-Sheetsync-Signature",
                                             "Typeform-Signature", "Tally-Signature", "X-Forwarded-For",
                                             "X-JDY-Signature", "Accept", "Authorization"]),
                            header_text, max_size=3),
    query=st.dictionaries(st.sampled_from(["nonce", "timestamp", "x", "source", ""]), header_text, max_size=2),
)
clean_shapes = st.builds(Shape, content_type=st.just("application/json"), signed=st.just(True),
                         ascii_json=mostly(st.just(True), st.just(False)), as_form=st.just(False), raw=st.none(),
                         headers=st.dictionaries(st.just("X-JDY-DeliverId"), mostly(st.text("0123456789abcdef"),
                                                                                     header_text), max_size=1),
                         query=st.just({}))
shapes = mostly(clean_shapes, random_shapes)
"""Most requests are well-formed and signed, so the body reaches the parser, the queue and the sheet."""


def encode(body: Any, shape: Shape) -> bytes:
    """The body as bytes the way a sender might produce it (lone surrogates survive as raw code units)."""
    if shape.raw is not None:
        return shape.raw
    if shape.as_form and isinstance(body, dict):
        pairs = [(str(k), json.dumps(v) if not isinstance(v, str) else v) for k, v in body.items()]
        return urlencode(pairs, encoding="utf-8", errors="surrogatepass").encode("ascii")
    return json.dumps(body, ensure_ascii=shape.ascii_json).encode("utf-8", "surrogatepass")


def sign(source: str, data: bytes, shape: Shape) -> tuple[str, dict[str, str]]:
    """URL and headers for the request: the extra random headers, then (when signed) a valid signature."""
    headers = {**shape.headers, "Content-Type": shape.content_type}
    query = dict(shape.query)
    if shape.signed:
        secret = SECRETS[source][0]
        if source == "jiandaoyun":
            query.update(nonce="n0nce", timestamp=str(T))
            headers["X-JDY-Signature"] = jdy_signature("n0nce", data, secret, str(T))
        elif source == "typeform":
            headers["Typeform-Signature"] = "sha256=" + base64_hmac(secret, data)
        elif source == "tally":
            headers["Tally-Signature"] = base64_hmac(secret, data)
        else:
            headers["X-Sheetsync-Signature"] = sheetsync_header(secret, data, T)
    url = f"/hooks/{source}" + ("?" + urlencode(query, errors="surrogatepass") if query else "")
    return url, headers


@dataclass
class Record:
    """What a fuzz run saw: answers per status, and (body size, CPU seconds) per request."""

    statuses: dict[int, int] = field(default_factory=dict)
    timings: list[tuple[int, float, str]] = field(default_factory=list)
    slowest: list[tuple[float, str, str, bytes, dict[str, str]]] = field(default_factory=list)
    """The slowest requests (CPU seconds, source, URL, body, headers), kept to be timed again alone."""

    def note(self, spent: float, source: str, url: str, data: bytes, headers: dict[str, str]) -> None:
        self.timings.append((len(data), spent, source))
        if len(self.slowest) < 10 or spent > self.slowest[-1][0]:
            self.slowest = sorted([*self.slowest, (spent, source, url, data, headers)], key=lambda s: -s[0])[:10]

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())


def check_answer(response: Any, queue_items: Callable[[], list[dict[str, Any]]]) -> None:
    """The properties every answer must have."""
    assert response.status_code < 500, (response.status_code, response.get_data(as_text=True)[:300])
    assert response.is_json, response.get_data(as_text=True)[:300]
    body = response.get_json()
    if response.status_code >= 400:
        assert isinstance(body.get("message"), str) and body["message"], body
    if response.status_code == 202 and response.headers.get("Idempotent-Replayed") != "true":
        item = queue_items()[-1]
        for key, value in item["fields"].items():
            assert unsafe_reason(value) is None, (key, value)


def fuzz_source(client: Any, source: str, examples: int, record: Record,
                queue_items: Callable[[], list[dict[str, Any]]], derandomize: bool = True) -> None:
    """Send `examples` generated requests to one source and check every answer (the same ones every run unless
    `derandomize` is False, as in the long run)."""

    @settings(max_examples=examples, deadline=None, database=None, derandomize=derandomize,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example])
    @given(body=BODIES[source], shape=shapes)
    def prop(body: Any, shape: Shape) -> None:
        data = encode(body, shape)
        url, headers = sign(source, data, shape)
        started = time.process_time()
        response = client.post(url, data=data, headers=headers)
        spent = time.process_time() - started
        record.statuses[response.status_code] = record.statuses.get(response.status_code, 0) + 1
        record.note(spent, source, url, data, headers)
        check_answer(response, queue_items)

    prop()
