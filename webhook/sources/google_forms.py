"""Google Forms through the shipped Apps Script (templates/google-forms.gs), signed with X-Sheetsync-Signature."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sheetsync.intake.queue import Incoming

from ..errors import BadRequest
from .base import JSON, Context, HookRequest, expect, identifier, load_object, new_lead, verify_ours

NAME = "google-forms"
VENDOR = "the Apps Script's"
CONTENT_TYPES = (JSON,)


def verify(req: HookRequest, secrets: Sequence[str], now: float) -> str:
    """Check X-Sheetsync-Signature as the Apps Script signs it."""
    return verify_ours(req, secrets, now)


def answers(data: dict[str, Any]) -> Iterator[tuple[str, Any, tuple[str, ...]]]:
    """Yield (question title, response, (item id,)); answers may be a list of items or a title -> value object."""
    items = data.get("answers")
    if isinstance(items, dict):
        for title, value in items.items():
            yield title, value, ()
    elif isinstance(items, list):
        for item in items:
            if not isinstance(item, dict) or "title" not in item:
                raise BadRequest("An entry of answers has no title: use templates/google-forms.gs unchanged, "
                                 'which sends {"title": ..., "response": ...} per question.')
            title = expect(item["title"], str, "answers[].title", VENDOR)
            item_id = expect(item.get("id"), (str, int), "answers[].id", VENDOR)
            yield title, item.get("response"), (str(item_id or ""),)
    else:
        raise BadRequest("The body has no answers: use templates/google-forms.gs, which posts the form "
                         "response as {\"response_id\": ..., \"answers\": [...]}.")
    email = expect(data.get("respondent_email"), str, "respondent_email", VENDOR)
    if email:
        yield "Email", email, ()


def parse(req: HookRequest, ctx: Context) -> Incoming:
    """Map a form response to a new opportunity, keyed by its response ID."""
    data = load_object(req, "form response")
    response_id = identifier(data.get("response_id"), "response_id", VENDOR)
    return new_lead(req, ctx, NAME, answers(data), idempotency=response_id)
