"""Any website or tool posting a flat JSON object or an HTML form, signed with X-Sheetsync-Signature."""

from __future__ import annotations

from collections.abc import Sequence

from sheetsync.intake.queue import Incoming

from .base import FORM, JSON, Context, HookRequest, flat_body, new_lead, verify_ours

NAME = "generic"
CONTENT_TYPES = (JSON, FORM)


def verify(req: HookRequest, secrets: Sequence[str], now: float) -> str:
    """Check X-Sheetsync-Signature and return the replay fingerprint."""
    return verify_ours(req, secrets, now)


def parse(req: HookRequest, ctx: Context) -> Incoming:
    """Map fields named like sheet headers (any language or alias) to a new opportunity."""
    return new_lead(req, ctx, NAME, flat_body(req))
