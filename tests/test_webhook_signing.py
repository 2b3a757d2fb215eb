"""Signature checks against the published and computed vectors of every source, and our own scheme."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from webhook.signing import (
    SignatureError,
    base64_hmac,
    jdy_signature,
    sheetsync_header,
    verify_base64_hmac,
    verify_jdy,
    verify_sheetsync,
)

VECTORS = Path(__file__).parent / "vectors"


def vectors(folder: str, name: str) -> list[dict]:
    return json.loads((VECTORS / folder / name).read_text(encoding="utf-8"))["vectors"]


def body(folder: str, v: dict) -> bytes:
    if "raw_body" in v:
        return v["raw_body"].encode("utf-8")
    return (VECTORS / folder / v["raw_body_file"]).read_bytes()


@pytest.mark.parametrize("v", vectors("jiandaoyun", "jdy_signature_vectors.json"), ids=lambda v: v["id"])
def test_jiandaoyun_vectors(v):
    q = v["query"]
    now = float(q["timestamp"]) if q["timestamp"].isdigit() else 0.0
    call = lambda: verify_jdy(v["x_jdy_signature"], body("jiandaoyun", v), [v["secret"]],  # noqa: E731
                              q["nonce"], q["timestamp"], now)
    if v["expect_valid"]:
        call()
        assert jdy_signature(q["nonce"], body("jiandaoyun", v), v["secret"], q["timestamp"]) == v["x_jdy_signature"]
    else:
        with pytest.raises(SignatureError):
            call()


@pytest.mark.parametrize("v", vectors("typeform", "typeform_signature_vectors.json"), ids=lambda v: v["id"])
def test_typeform_vectors(v):
    call = lambda: verify_base64_hmac(v["typeform_signature"], body("typeform", v), [v["secret"]],  # noqa: E731
                                      "Typeform-Signature", prefix="sha256=")
    if v["expect_valid"]:
        call()
    else:
        with pytest.raises(SignatureError):
            call()


@pytest.mark.parametrize("v", vectors("tally", "tally_signature_vectors.json"), ids=lambda v: v["id"])
def test_tally_vectors(v):
    call = lambda: verify_base64_hmac(v["tally_signature"], body("tally", v), [v["secret"]],  # noqa: E731
                                      "Tally-Signature")
    if v["expect_valid"]:
        call()
        assert base64_hmac(v["secret"], body("tally", v)) == v["tally_signature"]
    else:
        with pytest.raises(SignatureError):
            call()


STRIPE_BODY = (b'{\n  "id": "evt_test_webhook",\n  "object": "event",\n  "data": { "object": { "id": "rdr_123", '
               b'"object": "terminal.reader" } }\n}')
STRIPE_HEADER = "t=12345,v1=07b1ede164afb7b5de91267ffa656f568c65d6e0783ce0ac55ee094643578eda"
"""stripe-python's fixture signed at t=12345 (the same "{t}.{body}" HMAC-SHA256 hex scheme as ours)."""


def test_our_scheme_matches_stripes_vector():
    assert verify_sheetsync(STRIPE_HEADER, STRIPE_BODY, ["whsec_test_secret"], now=12345 + 100).endswith("578eda")


def test_our_scheme_round_trips_and_accepts_any_of_several_secrets():
    header = sheetsync_header("new-secret", b'{"a":1}', 1_000_000)
    assert verify_sheetsync(header, b'{"a":1}', ["old-secret", "new-secret"], 1_000_000)


def test_our_scheme_accepts_a_header_with_two_signatures_during_rotation():
    old = sheetsync_header("old", b"x", 500).split("v1=")[1]
    new = sheetsync_header("new", b"x", 500)
    assert verify_sheetsync(f"{new},v1={old}", b"x", ["old"], 500) == old


@pytest.mark.parametrize("header, now, fragment", [
    (None, 1000, "missing"),
    ("", 1000, "missing"),
    ("v1=abc", 1000, "lacks t= or v1="),
    ("t=1000", 1000, "lacks t= or v1="),
    ("t=abc,v1=00", 1000, "not a Unix time"),
    ("t=-5,v1=00", 1000, "not a Unix time"),
    (sheetsync_header("s", b"body", 1000), 1301, "301 s away"),
    (sheetsync_header("s", b"body", 1000), 699, "301 s away"),
    (sheetsync_header("s", b"other body", 1000), 1000, "does not match"),
    (sheetsync_header("wrong", b"body", 1000), 1000, "does not match"),
], ids=["none", "empty", "no-t", "no-v1", "t-not-number", "t-negative", "expired", "future", "tampered",
        "wrong-secret"])
def test_our_scheme_refuses_bad_headers_with_a_message_naming_the_fix(header, now, fragment):
    with pytest.raises(SignatureError, match=fragment):
        verify_sheetsync(header, b"body", ["s"], now)


def test_jiandaoyun_refuses_a_stale_timestamp_even_when_correctly_signed():
    sig = jdy_signature("n", b"{}", "s", "1000")
    verify_jdy(sig, b"{}", ["s"], "n", "1000", 1300)
    with pytest.raises(SignatureError, match="away from this server's clock"):
        verify_jdy(sig, b"{}", ["s"], "n", "1000", 1301)


@pytest.mark.parametrize("signature, nonce, timestamp, fragment", [
    (None, "n", "1000", "X-JDY-Signature header is missing"),
    ("x", None, "1000", "lacks \\?nonce"),
    ("x", "n", None, "lacks \\?nonce"),
])
def test_jiandaoyun_refuses_missing_parts(signature, nonce, timestamp, fragment):
    with pytest.raises(SignatureError, match=fragment):
        verify_jdy(signature, b"{}", ["s"], nonce, timestamp, 1000)
