"""Typeform webhooks: Typeform-Signature sha256=<base64 HMAC>, answers matched to questions by id."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sheetsync.intake.queue import Incoming

from ..errors import BadRequest, Unauthorized
from ..signing import SignatureError, verify_base64_hmac
from .base import JSON, SCALAR, Context, HookRequest, Ignored, expect, get_path, identifier, load_object, new_lead

NAME = "typeform"
VENDOR = "Typeform's"
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
    kind = expect(answer.get("type"), str, "form_response.answers[].type", VENDOR)
    value = answer.get(kind) if kind else None
    if kind == "choice" and isinstance(value, dict):
        return expect(value.get("label") or value.get("other"), str, "choice.label", VENDOR)
    if kind == "choices" and isinstance(value, dict):
        labels = expect(value.get("labels"), list, "choices.labels", VENDOR) or []
        other = expect(value.get("other"), str, "choices.other", VENDOR)
        return [expect(v, SCALAR, "choices.labels[]", VENDOR) for v in labels] + ([other] if other else [])
    if kind == "payment" and isinstance(value, dict):
        return {k: expect(value.get(k), SCALAR, f"payment.{k}", VENDOR)
                for k in ("name", "amount", "last4") if value.get(k)}
    return value


def answers(data: dict[str, Any]) -> Iterator[tuple[str, Any, tuple[str, ...]]]:
    """Yield (question title, value, (ref, id, type column)) for every answer and hidden field."""
    response = data.get("form_response")
    if not isinstance(response, dict) or not isinstance(response.get("answers", []), list):
        raise BadRequest("The body has no form_response.answers list: point a Typeform webhook at "
                         "/hooks/typeform, or use /hooks/generic for other senders.")
    definition = expect(response.get("definition"), dict, "form_response.definition", VENDOR) or {}
    questions: dict[str, dict[str, Any]] = {}
    for q in expect(definition.get("fields"), list, "form_response.definition.fields", VENDOR) or []:
        if isinstance(q, dict):
            for key in ("id", "title", "ref"):
                expect(q.get(key), str, f"definition.fields[].{key}", VENDOR)
            questions[q.get("id") or ""] = q
    for answer in response.get("answers") or []:
        if not isinstance(answer, dict) or not isinstance(answer.get("field"), dict):
            raise BadRequest("An entry of form_response.answers is not an answer object: send Typeform's "
                             "payload unchanged.")
        ref = expect(answer["field"].get("ref"), str, "form_response.answers[].field.ref", VENDOR) or ""
        field_id = expect(answer["field"].get("id"), str, "form_response.answers[].field.id", VENDOR) or ""
        question = questions.get(field_id, {})
        title = question.get("title") or ref or field_id
        value = answer_value(answer)
        hint = TYPE_COLUMNS.get(str(answer.get("type")), "")
        yield title, value, (ref or question.get("ref") or "", field_id, hint)
    hidden = expect(response.get("hidden"), dict, "form_response.hidden", VENDOR)
    for name, value in (hidden or {}).items():
        yield name, value, ()


def parse(req: HookRequest, ctx: Context) -> Incoming | Ignored:
    """Map a form_response event to a new opportunity; other events are acknowledged and ignored."""
    data = load_object(req, "Typeform event")
    event_type = expect(data.get("event_type"), str, "event_type", VENDOR)
    if event_type != "form_response":
        return Ignored(f"Typeform event {str(event_type)[:40]!r} carries no form response.")
    event = (identifier(data.get("event_id"), "event_id", VENDOR)
             or identifier(get_path(data, "form_response", "token"), "form_response.token", VENDOR))
    return new_lead(req, ctx, NAME, answers(data), delivery_id=event)
