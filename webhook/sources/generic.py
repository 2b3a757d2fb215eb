"""Any website or tool posting a flat JSON object or an HTML form, signed with X-Sheetsync-Signature."""

from __future__ import annotations

from collections.abc import Sequence

from sheetsync.core.schema import OPPORTUNITIES
from sheetsync.intake.mapping import map_answers
from sheetsync.intake.queue import CREATE, Incoming

from .base import FORM, JSON, Context, HookRequest, finish, flat_body, idempotency_key, require_fields, verify_ours

NAME = "generic"
CONTENT_TYPES = (JSON, FORM)


def verify(req: HookRequest, secrets: Sequence[str], now: float) -> str:
    """Check X-Sheetsync-Signature and return the replay fingerprint."""
    return verify_ours(req, secrets, now)


def parse(req: HookRequest, ctx: Context) -> Incoming:
    """Map fields named like sheet headers (any language or alias) to a new opportunity."""
    mapped = map_answers(flat_body(req), OPPORTUNITIES, ctx.field_map)
    require_fields(mapped)
    finish(mapped, NAME, ctx)
    return Incoming(NAME, CREATE, mapped.fields, req.body, req.mimetype, idempotency_key(req),
                    warnings=mapped.warnings)
