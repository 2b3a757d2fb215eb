"""Per-rep signed links to the phone follow-up page (`/f/<token>`): no HMAC to compute on a phone.

A token names one rep and an expiry, signed with HMAC-SHA256 under a key derived from the `followup`
source's secret, so rotating that secret (or the link days) retires old links. Pure functions of the
secret, the name and the time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Sequence
from typing import Any

_PURPOSE = b"sheetsync follow-up link v1"


class LinkError(ValueError):
    """A follow-up link is malformed, signed with another secret, or expired; the message says which."""


def _key(secret: str) -> bytes:
    return hmac.new(secret.encode("utf-8"), _PURPOSE, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def make_token(secret: str, name: str, expires: int) -> str:
    """A link token for rep `name`, valid until the Unix time `expires`."""
    payload = _b64(json.dumps({"n": name, "e": int(expires)}, ensure_ascii=False, separators=(",", ":"))
                   .encode("utf-8"))
    signature = _b64(hmac.new(_key(secret), payload.encode("ascii"), hashlib.sha256).digest())
    return f"{payload}.{signature}"


def read_token(secrets: Sequence[str], token: str, now: float) -> str:
    """The rep a token names; raise LinkError when it is not signed by one of `secrets` or has expired."""
    payload, _, signature = token.partition(".")
    if not payload or not signature or len(token) > 2048:
        raise LinkError("This link is incomplete: open the whole link you were sent.")
    good = any(hmac.compare_digest(_b64(hmac.new(_key(s), payload.encode("ascii", "replace"),
                                                  hashlib.sha256).digest()), signature) for s in secrets if s)
    if not good:
        raise LinkError("This link is not valid (it was changed, or the secret was rotated): "
                        "ask your manager for a new one.")
    try:
        data = json.loads(_unb64(payload))
        name, expires = str(data["n"]), int(data["e"])
    except (ValueError, KeyError, TypeError) as exc:
        raise LinkError("This link is not valid: ask your manager for a new one.") from exc
    if now > expires:
        raise LinkError("This link has expired: ask your manager for a new one (sheetsync followup-link).")
    return name


def open_deals_by_owner(opportunities: Sequence[Any], pipeline: Any) -> dict[str, list[list[str]]]:
    """Each owner's open deals as [ID, customer, label] (owner case-folded): what the phone page offers."""
    out: dict[str, list[list[str]]] = {}
    for opp in opportunities:
        stage = pipeline.find(opp.cells.get("stage"))
        if not opp.id or not opp.owner or (stage is not None and not stage.is_open):
            continue
        label = f"{opp.text('customer')} · {stage.name if stage is not None else opp.text('stage')}"
        out.setdefault(opp.owner.casefold(), []).append([opp.id, opp.text("customer"), label])
    return out
