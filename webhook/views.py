"""The HTTP endpoints: POST /hooks/<source>, GET /healthz and GET /api/status."""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import replace

from flask import Blueprint, current_app, jsonify, request

from sheetsync.ports import IdempotencyConflict, QueueUnavailable

from .errors import Conflict, Unavailable, UnknownSource, UnsupportedType
from .sources import SOURCES
from .sources.base import Context, HookRequest, Ignored

log = logging.getLogger(__name__)

bp = Blueprint("hooks", __name__)


def _state():
    return current_app.extensions["sheetsync"]


def unsigned_warning(source: str) -> str:
    """Return the warning sent while a source has no secret configured."""
    env = "SHEETSYNC_SECRET_" + source.upper().replace("-", "_")
    return (f"Source '{source}' has no secret configured, so anyone can post to it: add one under [secrets] "
            f"in the config or set {env}.")


@bp.post("/hooks/<source>")
def hook(source: str):
    """Verify, parse and queue one submission, answering only after it is on disk."""
    module = SOURCES.get(source)
    if module is None:
        raise UnknownSource(f"There is no source named {source[:40]!r}: post to /hooks/<source> with one of "
                            f"{', '.join(sorted(SOURCES))}.")
    state = _state()
    now = state.clock()
    req = HookRequest(request.get_data(cache=False), request.headers, request.args, request.mimetype)
    secrets = state.config.secrets_for(source)
    fingerprint = module.verify(req, secrets, now.timestamp()) if secrets else None
    if req.mimetype not in module.CONTENT_TYPES:
        raise UnsupportedType(f"/hooks/{source} reads {' or '.join(module.CONTENT_TYPES)}, not "
                              f"{req.mimetype or 'a body without Content-Type'!r}: set the Content-Type header.")
    parsed = module.parse(req, Context(now, state.config.field_map, state.config.template))
    if isinstance(parsed, Ignored):
        log.info("ignored %s event: %s", source, parsed.reason)
        return jsonify({"id": None, "status": "ignored", "warnings": [parsed.reason]}), 200
    if fingerprint and not parsed.delivery_id:
        parsed = replace(parsed, delivery_id=fingerprint)
    if not secrets:
        parsed = replace(parsed, warnings=[*parsed.warnings, unsigned_warning(source)])
    try:
        receipt = state.queue.submit(parsed, now)
    except IdempotencyConflict as exc:
        raise Conflict(str(exc)) from None
    except (QueueUnavailable, sqlite3.Error) as exc:
        log.error("could not store a %s submission: %s", source, exc)
        raise Unavailable("The submission could not be stored right now and was not accepted: send it again "
                          "in a minute.") from None
    response = jsonify(receipt.body)
    response.status_code = receipt.status_code
    if receipt.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


@bp.get("/healthz")
def healthz():
    """Answer that the process is alive."""
    return jsonify({"status": "ok"})


@bp.get("/api/status")
def status():
    """Report the queue, the scheduler and which sources are signed."""
    state = _state()
    config = state.config
    body = {
        "queue": state.queue.stats(state.clock()),
        "sources": {name: ("signed" if config.secrets_for(name) else "unsigned") for name in sorted(SOURCES)},
        "scheduler": state.scheduler_status(),
    }
    if state.outbox is not None:
        body["notifications"] = {**state.outbox.stats(state.clock()), "problems": state.outbox.problems(5)}
    return jsonify(body)
