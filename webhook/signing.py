"""Check webhook signatures over the raw body, in constant time, against every configured secret."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence

from sheetsync.intake.defaults import SIGNATURE_TOLERANCE

HEADER = "X-Sheetsync-Signature"
"""Our own scheme, for senders we control: t=<unix>,v1=<hex HMAC-SHA256 of "{t}.{raw body}">."""


class SignatureError(Exception):
    """The request is not signed by a configured secret; the message says what the sender must fix."""


def sheetsync_signature(secret: str, body: bytes, timestamp: int) -> str:
    """Return the hex HMAC-SHA256 of "{timestamp}.{body}" under `secret`."""
    return hmac.new(secret.encode("utf-8"), str(timestamp).encode("ascii") + b"." + body, hashlib.sha256).hexdigest()


def sheetsync_header(secret: str, body: bytes, timestamp: int) -> str:
    """Return a complete X-Sheetsync-Signature value for `body` sent at `timestamp`."""
    return f"t={timestamp},v1={sheetsync_signature(secret, body, timestamp)}"


def check_timestamp(value: object, now: float, what: str, tolerance: int = SIGNATURE_TOLERANCE) -> int:
    """Return `value` as Unix seconds if it is within `tolerance` of `now`; raise SignatureError otherwise."""
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 12:
        raise SignatureError(f"The {what} {text[:40]!r} is not a Unix time in seconds: send the time of signing, "
                             "e.g. 1767225600.")
    stamp = int(text)
    if abs(now - stamp) > tolerance:
        raise SignatureError(f"The {what} {stamp} is {abs(int(now) - stamp)} s away from this server's clock "
                             f"(limit {tolerance} s): sign every request when it is sent, and check the "
                             "sender's clock.")
    return stamp


def _any_match(expected: Sequence[str], received: Sequence[str]) -> str | None:
    """Return the received value matching any expected one; every pair is compared in constant time."""
    found = None
    for want in expected:
        for got in received:
            if hmac.compare_digest(want.encode("utf-8"), got.encode("utf-8")):
                found = got
    return found


def verify_sheetsync(header: str | None, body: bytes, secrets: Sequence[str], now: float,
                     tolerance: int = SIGNATURE_TOLERANCE) -> str:
    """Check an X-Sheetsync-Signature header and return the matching v1 value (a replay fingerprint)."""
    if not header:
        raise SignatureError(f"The {HEADER} header is missing: sign the raw body as t=<unix time>,v1=<hex "
                             "HMAC-SHA256 of \"<t>.<body>\"> with this source's secret.")
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        name, sep, value = item.strip().partition("=")
        if sep:
            parts.setdefault(name.strip(), []).append(value.strip())
    if "t" not in parts or "v1" not in parts:
        raise SignatureError(f"The {HEADER} header {header[:80]!r} lacks t= or v1=: send "
                             "t=<unix time>,v1=<hex HMAC-SHA256 of \"<t>.<body>\">.")
    stamp = check_timestamp(parts["t"][0], now, f"{HEADER} timestamp", tolerance)
    expected = [sheetsync_signature(s, body, stamp) for s in secrets]
    match = _any_match(expected, [v.lower() for v in parts["v1"]])
    if match is None:
        raise SignatureError(f"The {HEADER} header does not match the body under any configured secret: sign "
                             "the exact bytes you send (not re-encoded JSON) with this source's secret.")
    return match


def base64_hmac(secret: str, body: bytes) -> str:
    """Return base64(HMAC-SHA256(secret, body)), as Typeform and Tally sign."""
    return base64.b64encode(hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()).decode("ascii")


def verify_base64_hmac(value: str | None, body: bytes, secrets: Sequence[str], header: str,
                       prefix: str = "") -> None:
    """Check a header holding `prefix` + base64(HMAC-SHA256(secret, body)) for any configured secret."""
    if not value:
        raise SignatureError(f"The {header} header is missing: set the same signing secret in the form's "
                             "webhook settings and in sheetsync's [secrets].")
    expected = [prefix + base64_hmac(s, body) for s in secrets]
    if _any_match(expected, [value.strip()]) is None:
        raise SignatureError(f"The {header} header does not match the body under any configured secret: "
                             "copy the webhook's signing secret into sheetsync's [secrets] exactly.")


def jdy_signature(nonce: str, body: bytes, secret: str, timestamp: str) -> str:
    """Return Jiandaoyun's X-JDY-Signature: hex SHA-1 of "{nonce}:{body}:{secret}:{timestamp}"."""
    return hashlib.sha1(b":".join([nonce.encode("utf-8"), body, secret.encode("utf-8"),
                                   timestamp.encode("utf-8")])).hexdigest()


def verify_jdy(signature: str | None, body: bytes, secrets: Sequence[str], nonce: str | None,
               timestamp: str | None, now: float, tolerance: int = SIGNATURE_TOLERANCE) -> None:
    """Check a Jiandaoyun push: signature header, nonce and timestamp from the query string, time window."""
    if not signature:
        raise SignatureError("The X-JDY-Signature header is missing: turn on the push secret (推送密钥) in the "
                             "Jiandaoyun data push settings and put the same secret in sheetsync's [secrets].")
    if not nonce or not timestamp:
        raise SignatureError("The push URL lacks ?nonce=…&timestamp=…: point Jiandaoyun at /hooks/jiandaoyun "
                             "exactly, without rewriting its query string.")
    check_timestamp(timestamp, now, "timestamp query parameter", tolerance)
    expected = [jdy_signature(nonce, body, s, timestamp) for s in secrets]
    if _any_match(expected, [signature.strip().lower()]) is None:
        raise SignatureError("X-JDY-Signature does not match the body under any configured secret: copy the "
                             "push secret from Jiandaoyun into sheetsync's [secrets] exactly.")
