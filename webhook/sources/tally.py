"""Tally webhooks: Tally-Signature base64 HMAC-SHA256, fields matched by label or key."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sheetsync.intake.queue import Incoming

from ..errors import BadRequest, Unauthorized
from ..signing import SignatureError, verify_base64_hmac
from .base import JSON, Context, HookRequest, Ignored, get_path, load_object, new_lead

NAME = "tally"
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


def _texts(items: Any) -> dict[Any, Any]:
    return {o.get("id"): o.get("text") for o in items or [] if isinstance(o, dict)}


def field_value(item: dict[str, Any]) -> Any:
    """Return a field's value with option IDs turned into their texts and files into their links."""
    value, kind = item.get("value"), item.get("type")
    if kind in _CHOICES and isinstance(value, list):
        options = _texts(item.get("options"))
        return [options.get(v, v) for v in value]
    if kind == "MATRIX" and isinstance(value, dict):
        rows, columns = _texts(item.get("rows")), _texts(item.get("columns"))
        return [f"{rows.get(r, r)}: {', '.join(str(columns.get(c, c)) for c in (cols or []))}"
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
        key = str(item.get("key") or "")
        hint = TYPE_COLUMNS.get(str(item.get("type")), "")
        yield item.get("label") or key, field_value(item), (key, hint)


def parse(req: HookRequest, ctx: Context) -> Incoming | Ignored:
    """Map a FORM_RESPONSE event to a new opportunity; other events are acknowledged and ignored."""
    data = load_object(req, "Tally event")
    if data.get("eventType") != "FORM_RESPONSE":
        return Ignored(f"Tally event {str(data.get('eventType'))[:40]!r} carries no form response.")
    event = data.get("eventId") or get_path(data, "data", "responseId")
    return new_lead(req, ctx, NAME, answers(data), delivery_id=str(event) if event else None)
