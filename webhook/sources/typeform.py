"""Typeform webhooks: Typeform-Signature sha256=<base64 HMAC>, answers matched to questions by id."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sheetsync.intake.queue import Incoming

from ..errors import BadRequest, Unauthorized
from ..signing import SignatureError, verify_base64_hmac
from .base import JSON, Context, HookRequest, Ignored, get_path, load_object, new_lead

NAME = "typeform"
CONTENT_TYPES = (JSON,)
HEADER = "Typeform-Signature"
TYPE_COLUMNS = {"email": "email", "phone_number": "phone"}
"""Answer types that name their column when the question's title and ref do not."""


def verify(req: HookRequest, secrets: Sequence[str], now: float) -> None:
    """Check Typeform-Signature (no timestamp: replays are caught by event_id)."""
    try:
        verify_base64_hmac(req.headers.get(HEADER), req.body, secrets, HEADER, prefix="sha256=")
    except SignatureError as exc:
        raise Unauthorized(str(exc)) from None


def answer_value(answer: dict[str, Any]) -> Any:
    """Return the value of one answer, whatever its type."""
    kind = answer.get("type")
    value = answer.get(kind) if isinstance(kind, str) else None
    if kind == "choice" and isinstance(value, dict):
        return value.get("label") or value.get("other")
    if kind == "choices" and isinstance(value, dict):
        labels = list(value.get("labels") or [])
        return labels + ([value["other"]] if value.get("other") else [])
    if kind == "payment" and isinstance(value, dict):
        return {k: value.get(k) for k in ("name", "amount", "last4") if value.get(k)}
    return value


def answers(data: dict[str, Any]) -> Iterator[tuple[str, Any, tuple[str, ...]]]:
    """Yield (question title, value, (ref, id, type column)) for every answer and hidden field."""
    response = data.get("form_response")
    if not isinstance(response, dict) or not isinstance(response.get("answers", []), list):
        raise BadRequest("The body has no form_response.answers list: point a Typeform webhook at "
                         "/hooks/typeform, or use /hooks/generic for other senders.")
    questions = {q.get("id"): q for q in get_path(response, "definition", "fields") or [] if isinstance(q, dict)}
    for answer in response.get("answers") or []:
        if not isinstance(answer, dict) or not isinstance(answer.get("field"), dict):
            raise BadRequest("An entry of form_response.answers is not an answer object: send Typeform's "
                             "payload unchanged.")
        ref = answer["field"].get("ref") or ""
        field_id = answer["field"].get("id") or ""
        question = questions.get(field_id, {})
        title = question.get("title") or ref or field_id
        hint = TYPE_COLUMNS.get(str(answer.get("type")), "")
        yield title, answer_value(answer), (ref or question.get("ref") or "", str(field_id), hint)
    hidden = response.get("hidden")
    if isinstance(hidden, dict):
        for name, value in hidden.items():
            yield name, value, ()


def parse(req: HookRequest, ctx: Context) -> Incoming | Ignored:
    """Map a form_response event to a new opportunity; other events are acknowledged and ignored."""
    data = load_object(req, "Typeform event")
    if data.get("event_type") != "form_response":
        return Ignored(f"Typeform event {str(data.get('event_type'))[:40]!r} carries no form response.")
    event = data.get("event_id") or get_path(data, "form_response", "token")
    return new_lead(req, ctx, NAME, answers(data), delivery_id=str(event) if event else None)
