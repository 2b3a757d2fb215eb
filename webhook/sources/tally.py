"""Tally webhooks: Tally-Signature base64 HMAC-SHA256, fields matched by label or key."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sheetsync.intake.queue import Incoming

from ..errors import BadRequest, Unauthorized
from ..signing import SignatureError, verify_base64_hmac
from .base import JSON, SCALAR, Context, HookRequest, Ignored, expect, get_path, identifier, load_object, new_lead

NAME = "tally"
VENDOR = "Tally's"
CONTENT_TYPES = (JSON,)
HEADER = "Tally-Signature"
TYPE_COLUMNS = {"INPUT_EMAIL": "email", "INPUT_PHONE_NUMBER": "phone"}
"""Field types that name their column when the label and key do not."""
_CHOICES = {"MULTIPLE_CHOICE", "CHECKBOXES", "DROPDOWN", "MULTI_SELECT", "RANKING"}


def verify(req: HookRequest, secrets: Sequence[str], now: float) -> None:
    """Check Tally-Signature (no timestamp: replays are caught by eventId)."""
    try:
        verify_base64_hmac(req.headers.get(HEADER), req.body, secrets, HEADER)
    except SignatureError as exc:
        raise Unauthorized(str(exc)) from None


def _texts(items: Any, where: str) -> dict[str, Any]:
    texts = {}
    for option in expect(items, list, where, VENDOR) or []:
        if isinstance(option, dict):
            key = expect(option.get("id"), str, f"{where}[].id", VENDOR)
            texts[key or ""] = expect(option.get("text"), SCALAR, f"{where}[].text", VENDOR)
    return texts


def _ids(values: Any, where: str) -> list[str]:
    return [expect(v, str, where, VENDOR) or "" for v in values]


def field_value(item: dict[str, Any]) -> Any:
    """Return a field's value with option IDs turned into their texts and files into their links."""
    value, kind = item.get("value"), expect(item.get("type"), str, "data.fields[].type", VENDOR)
    if kind in _CHOICES and isinstance(value, list):
        options = _texts(item.get("options"), "data.fields[].options")
        return [options.get(v, v) for v in _ids(value, "data.fields[].value[]")]
    if kind == "MATRIX" and isinstance(value, dict):
        rows, columns = _texts(item.get("rows"), "data.fields[].rows"), _texts(item.get("columns"),
                                                                               "data.fields[].columns")
        return [f"{rows.get(r, r)}: {', '.join(str(columns.get(c, c)) for c in _ids(cols, 'MATRIX value'))}"
                for r, cols in value.items() if isinstance(cols, list)]
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return [v.get("url") or v.get("name") or "" for v in value]
    return value


def answers(data: dict[str, Any]) -> Iterator[tuple[str, Any, tuple[str, ...]]]:
    """Yield (label, value, (key, type column)) for every field, skipping the per-option checkbox echoes."""
    fields = get_path(data, "data", "fields")
    if not isinstance(fields, list):
        raise BadRequest("The body has no data.fields list: point a Tally webhook at /hooks/tally, or use "
                         "/hooks/generic for other senders.")
    for item in fields:
        if not isinstance(item, dict):
            raise BadRequest("An entry of data.fields is not a field object: send Tally's payload unchanged.")
        if item.get("type") == "CHECKBOXES" and isinstance(item.get("value"), bool):
            continue
        key = expect(item.get("key"), str, "data.fields[].key", VENDOR) or ""
        label = expect(item.get("label"), str, "data.fields[].label", VENDOR)
        value = field_value(item)
        hint = TYPE_COLUMNS.get(str(item.get("type")), "")
        yield label or key, value, (key, hint)


def parse(req: HookRequest, ctx: Context) -> Incoming | Ignored:
    """Map a FORM_RESPONSE event to a new opportunity; other events are acknowledged and ignored."""
    data = load_object(req, "Tally event")
    event_type = expect(data.get("eventType"), str, "eventType", VENDOR)
    if event_type != "FORM_RESPONSE":
        return Ignored(f"Tally event {str(event_type)[:40]!r} carries no form response.")
    event = (identifier(data.get("eventId"), "eventId", VENDOR)
             or identifier(get_path(data, "data", "responseId"), "data.responseId", VENDOR))
    return new_lead(req, ctx, NAME, answers(data), delivery_id=event)
