"""What every source module shares: the request it reads, the context it maps in, and body parsing."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import parse_qsl

from sheetsync.core.clean import unsafe_reason
from sheetsync.core.schema import OPPORTUNITIES
from sheetsync.intake import defaults
from sheetsync.intake.mapping import Mapped, map_answers
from sheetsync.intake.queue import CREATE, Incoming

from ..errors import BadRequest, Unauthorized
from ..signing import HEADER, SignatureError, verify_sheetsync

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


class Headers(Protocol):
    """Request headers as a source reads them: a case-insensitive get (werkzeug's Headers, or a dict in tests)."""

    def get(self, key: str, /) -> str | None: ...


@dataclass(frozen=True)
class HookRequest:
    """The parts of an HTTP request a source reads: raw body bytes, headers, query string, media type."""

    body: bytes
    headers: Headers
    args: Mapping[str, str] = field(default_factory=dict)
    mimetype: str = JSON


@dataclass(frozen=True)
class Context:
    """What mapping needs beyond the request: the time, the config's field_map and the sheet's language."""

    now: datetime
    field_map: Mapping[str, str] = field(default_factory=dict)
    language: str = "en"


@dataclass(frozen=True)
class Ignored:
    """A verified event that carries no submission (a test ping, a deletion); answered 200, not queued."""

    reason: str


def idempotency_key(req: HookRequest) -> str | None:
    """Return the sender's Idempotency-Key header, checked for length and printable ASCII."""
    value = req.headers.get("Idempotency-Key")
    if value is None:
        return None
    value = value.strip()
    if not value or len(value) > defaults.MAX_IDEMPOTENCY_KEY or not value.isascii() or not value.isprintable():
        raise BadRequest(f"Idempotency-Key {value[:40]!r}… must be 1 to {defaults.MAX_IDEMPOTENCY_KEY} printable "
                         "ASCII characters: use a UUID or the form's response ID.")
    return value


def verify_ours(req: HookRequest, secrets: Sequence[str], now: float) -> str:
    """Check our X-Sheetsync-Signature; return a fingerprint that de-duplicates a replayed request."""
    try:
        return "v1:" + verify_sheetsync(req.headers.get(HEADER), req.body, secrets, now)
    except SignatureError as exc:
        raise Unauthorized(str(exc)) from None


def text_body(req: HookRequest) -> str:
    """Return the body as text, refusing bytes that are not UTF-8."""
    try:
        return req.body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"The body is not valid UTF-8 (bad byte at position {exc.start}): send the form data "
                         "encoded as UTF-8.") from None


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def too_deep(data: Any, limit: int = defaults.MAX_DEPTH) -> bool:
    """Return whether objects and lists in `data` nest deeper than `limit` (checked without recursion)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def load_json(req: HookRequest) -> Any:
    """Parse the body as strict JSON (no NaN or Infinity), at most MAX_DEPTH levels deep."""
    text = text_body(req)
    if not text.strip():
        raise BadRequest("The body is empty: send the submission as a JSON object.")
    try:
        data = json.loads(text, parse_constant=_no_constants)
    except RecursionError:
        data = None
        deep = True
    except ValueError as exc:
        raise BadRequest(f"The body is not valid JSON ({str(exc)[:120]}): send one JSON object, e.g. "
                         '{"Customer": "Acme", "Phone": "+86 138 0000 0000"}.') from None
    else:
        deep = too_deep(data)
    if deep:
        raise BadRequest(f"The body nests objects or lists more than {defaults.MAX_DEPTH} levels deep: send each "
                         "answer as text, a number or a short list.")
    return data


JSON_TYPES = {dict: "an object", list: "a list", str: "text", int: "a number", float: "a number",
              bool: "true/false", type(None): "null"}


def json_type(value: Any) -> str:
    """Name a JSON value's type as a sender would: text, a number, an object…"""
    return JSON_TYPES.get(type(value), type(value).__name__)


def expect(value: Any, kinds: type | tuple[type, ...], where: str, vendor: str = "the sender's") -> Any:
    """Return `value` when it is None or of `kinds` (bool is never a number here); otherwise refuse naming `where`."""
    allowed = kinds if isinstance(kinds, tuple) else (kinds,)
    if value is None or (isinstance(value, allowed) and not (isinstance(value, bool) and bool not in allowed)):
        return value
    names = " or ".join(dict.fromkeys(JSON_TYPES.get(k, k.__name__) for k in allowed))
    raise BadRequest(f"{where} must be {names}, not {json_type(value)}: send {vendor} payload unchanged.")


def identifier(value: Any, where: str, vendor: str = "the sender's") -> str | None:
    """Return an event, record or response ID as text, refusing one a database or a sheet cannot hold."""
    value = expect(value, (str, int), where, vendor)
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    if len(text) > defaults.MAX_IDEMPOTENCY_KEY or unsafe_reason(text) is not None or not text.isprintable():
        raise BadRequest(f"{where} must be printable text of at most {defaults.MAX_IDEMPOTENCY_KEY} characters: "
                         f"send {vendor} payload unchanged.")
    return text


SCALAR = (str, int, float, bool)
"""JSON types a single answer may have."""


def load_object(req: HookRequest, what: str = "submission") -> dict[str, Any]:
    """Parse the body as a JSON object."""
    data = load_json(req)
    if not isinstance(data, dict):
        raise BadRequest(f"The body is a JSON {type(data).__name__}, not an object: send the {what} as "
                         '{"field": "value", ...}.')
    return data


def load_form(req: HookRequest) -> list[tuple[str, str]]:
    """Parse a form-encoded body into (name, value) pairs in order."""
    try:
        return parse_qsl(text_body(req), keep_blank_values=True, strict_parsing=False,
                         max_num_fields=defaults.MAX_FORM_FIELDS, errors="strict")
    except ValueError as exc:
        raise BadRequest(f"The form body cannot be read ({exc}): send at most {defaults.MAX_FORM_FIELDS} "
                         "fields, URL-encoded as UTF-8.") from None


def get_path(data: Any, *path: str) -> Any:
    """Return data[path[0]][path[1]]…, or None when a step is missing or not an object."""
    for step in path:
        if not isinstance(data, dict):
            return None
        data = data.get(step)
    return data


def flat_answers(data: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    """Yield (label, value) from a flat object; a value that is itself an object is refused."""
    for label, value in data.items():
        if isinstance(value, dict) or (isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value)):
            raise BadRequest(f"Field {label[:80]!r} holds a nested object or list: send each answer as its own "
                             "field whose value is text, a number, true/false or a list of those.")
        yield label, value


def flat_body(req: HookRequest) -> list[tuple[str, Any]]:
    """Read a flat JSON object or form-encoded body as (label, value) pairs; repeated form names are joined."""
    if req.mimetype == FORM:
        joined: dict[str, list[str]] = {}
        for name, value in load_form(req):
            joined.setdefault(name, []).append(value)
        return [(k, v[0] if len(v) == 1 else v) for k, v in joined.items()]
    return list(flat_answers(load_object(req)))


SOURCE_LABELS = {
    "generic": ("Web form", "网站表单"),
    "google-forms": ("Google Forms", "谷歌表单"),
    "jiandaoyun": ("Jiandaoyun", "简道云"),
    "typeform": ("Typeform", "Typeform"),
    "tally": ("Tally", "Tally"),
}


def finish(mapped: Mapped, source: str, ctx: Context, check: bool = True) -> Mapped:
    """Default the Source column to the form platform and (with `check`) warn about missing registration fields."""
    en, zh = SOURCE_LABELS.get(source, (source, source))
    mapped.fields.setdefault("source", zh if ctx.language == "zh" else en)
    if not check:
        return mapped
    missing = [name for key, name in (("customer", "Customer"), ("contact", "Contact")) if not mapped.fields.get(key)]
    if not (mapped.fields.get("phone") or mapped.fields.get("email")):
        missing.append("Phone or Email")
    if missing:
        mapped.warnings.append(f"No {', '.join(missing)} given: the row is added but its Status will ask for "
                               "them; add those fields to the form.")
    return mapped


def require_fields(mapped: Mapped) -> None:
    """Refuse a submission in which nothing could be read."""
    if not mapped.fields:
        raise BadRequest("The submission has no non-empty fields: send at least Customer, Contact and Phone "
                         "(or their 中文 names).")


def new_lead(req: HookRequest, ctx: Context, source: str, answers: Any, *, idempotency: str | None = None,
             delivery_id: str | None = None) -> Incoming:
    """Map a form's answers to a new opportunity: refuse an empty one, name the source, warn about gaps."""
    mapped = map_answers(answers, OPPORTUNITIES, ctx.field_map)
    require_fields(mapped)
    finish(mapped, source, ctx)
    return Incoming(source, CREATE, mapped.fields, req.body, req.mimetype, idempotency_key(req) or idempotency,
                    delivery_id=delivery_id, warnings=mapped.warnings)
