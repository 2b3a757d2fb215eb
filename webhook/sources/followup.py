"""Follow-ups logged from a phone form: appended to Follow-ups, moving Last contact and Next follow-up."""

from __future__ import annotations

from collections.abc import Sequence

from sheetsync.core import values
from sheetsync.core.schema import FOLLOWUPS
from sheetsync.intake.mapping import map_answers
from sheetsync.intake.queue import FOLLOWUP, Incoming

from ..errors import BadRequest
from .base import FORM, JSON, Context, HookRequest, flat_body, idempotency_key, verify_ours

NAME = "followup"
CONTENT_TYPES = (JSON, FORM)


def verify(req: HookRequest, secrets: Sequence[str], now: float) -> str:
    """Check X-Sheetsync-Signature and return the replay fingerprint."""
    return verify_ours(req, secrets, now)


def parse(req: HookRequest, ctx: Context) -> Incoming:
    """Map a follow-up (opportunity ID or phone, channel, summary, next follow-up) to Follow-ups columns."""
    mapped = map_answers(flat_body(req), FOLLOWUPS, ctx.field_map)
    fields = mapped.fields
    if fields.get("opportunity_id"):
        fields["opportunity_id"] = fields["opportunity_id"].strip().upper()
    if not fields.get("summary"):
        raise BadRequest("The follow-up has no Summary: send what was discussed in a field named Summary "
                         "(or 内容 / Notes).")
    if not (fields.get("opportunity_id") or fields.get("phone")):
        raise BadRequest("The follow-up names no opportunity: send its Opportunity ID (e.g. OPP-7K3F9Q) or the "
                         "customer's Phone.")
    for key in ("date", "next_follow_up"):
        if fields.get(key):
            try:
                parsed = values.parse_date(fields[key])
            except values.ValueProblem as exc:
                name = FOLLOWUPS.column(key).en
                raise BadRequest(f"{name} {fields[key][:40]!r} is not a date ({exc}): send it as "
                                 "YYYY-MM-DD, e.g. 2026-12-01.") from None
            if parsed is not None:
                fields[key] = parsed.isoformat()
    return Incoming(NAME, FOLLOWUP, fields, req.body, req.mimetype, idempotency_key(req),
                    opportunity_id=fields.get("opportunity_id") or None, warnings=mapped.warnings)
