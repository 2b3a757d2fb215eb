"""简道云 Jiandaoyun data push: SHA-1 signature with query-string nonce and timestamp, DeliverId de-dup."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sheetsync.core.schema import OPPORTUNITIES
from sheetsync.intake.mapping import map_answers
from sheetsync.intake.queue import CREATE, UPDATE, Incoming

from ..errors import BadRequest, Unauthorized
from ..signing import SignatureError, verify_jdy
from .base import (
    JSON,
    Context,
    HookRequest,
    Ignored,
    expect,
    finish,
    idempotency_key,
    identifier,
    load_object,
    require_fields,
)

NAME = "jiandaoyun"
VENDOR = "Jiandaoyun's"
CONTENT_TYPES = (JSON,)
OPS = {"data_create": CREATE, "data_update": UPDATE}
"""Pushes that carry a record; data_remove, data_recover, form_update and data_test are acknowledged only."""
SYSTEM_KEYS = frozenset({"_id", "appId", "entryId", "formName", "creator", "updater", "deleter", "createTime",
                         "updateTime", "deleteTime", "flowState"})
"""Record metadata Jiandaoyun adds to every push; never form answers."""


def verify(req: HookRequest, secrets: Sequence[str], now: float) -> None:
    """Check X-JDY-Signature over nonce, raw body, secret and timestamp, within the time window."""
    try:
        verify_jdy(req.headers.get("X-JDY-Signature"), req.body, secrets, req.args.get("nonce"),
                   req.args.get("timestamp"), now)
    except SignatureError as exc:
        raise Unauthorized(str(exc)) from None


def answers(record: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """Yield (field alias or _widget_ id, value) for every form field of a record."""
    for name, value in record.items():
        if name not in SYSTEM_KEYS:
            yield name, value


def parse(req: HookRequest, ctx: Context) -> Incoming | Ignored:
    """Map data_create to a new opportunity and data_update to the one its record created."""
    data = load_object(req, "Jiandaoyun push")
    op = expect(data.get("op"), str, "op", VENDOR)
    if op not in OPS:
        return Ignored(f"Jiandaoyun push {str(op)[:40]!r} is not synced: only data_create and data_update "
                       "reach the sheet.")
    record = expect(data.get("data"), dict, "data", VENDOR)
    if not isinstance(record, dict) or not isinstance(record.get("_id"), str) or not record["_id"]:
        raise BadRequest(f"The {op} push has no data._id: send Jiandaoyun's payload unchanged.")
    record_id = identifier(record["_id"], "data._id", VENDOR)
    if record_id is None:
        raise BadRequest(f"The {op} push has no data._id: send Jiandaoyun's payload unchanged.")
    deliver = identifier(req.headers.get("X-JDY-DeliverId"), "X-JDY-DeliverId", VENDOR)
    mapped = map_answers(answers(record), OPPORTUNITIES, ctx.field_map)
    if OPS[op] == CREATE:
        require_fields(mapped)
    finish(mapped, NAME, ctx, check=OPS[op] == CREATE)
    return Incoming(NAME, OPS[op], mapped.fields, req.body, req.mimetype, idempotency_key(req),
                    delivery_id=deliver, external_id=record_id, warnings=mapped.warnings)
