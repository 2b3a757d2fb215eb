"""The HTTP endpoints: POST /hooks/<source>, GET /healthz and GET /api/status."""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import replace
from typing import Any

from flask import Blueprint, current_app, jsonify, request

from sheetsync.messages import say
from sheetsync.ports import IdempotencyConflict, QueueUnavailable

from .auth import require_api_token, require_signed, scrub
from .errors import Conflict, Unavailable, UnknownSource, UnsupportedType
from .sources import SOURCES
from .sources.base import Context, HookRequest, Ignored

log = logging.getLogger(__name__)

bp = Blueprint("hooks", __name__)


def _state():
    return current_app.extensions["sheetsync"]


def unsigned_warning(source: str, language: str = "en") -> str:
    """Return the warning sent with every post to a source listed in allow_unsigned."""
    env = "SHEETSYNC_SECRET_" + source.upper().replace("-", "_")
    return say("hostile.unsigned_warning", language, source=source, env=env)


@bp.post("/hooks/<source>")
def hook(source: str):
    """Verify, parse and queue one submission for the only workspace, answering only after it is stored."""
    state = _state()
    if "" not in state.pipelines:
        names = ", ".join(sorted(state.pipelines))
        raise UnknownSource(f"This deployment has several workspaces: post to /hooks/<workspace>/{source[:40]} "
                            f"with one of {names}.")
    return _accept(state.pipelines[""], source)


@bp.post("/hooks/<workspace>/<source>")
def workspace_hook(workspace: str, source: str):
    """Verify, parse and queue one submission for a named workspace, answering only after it is stored."""
    state = _state()
    pipeline = state.pipeline(workspace) if workspace else None
    if pipeline is None:
        names = ", ".join(sorted(n for n in state.pipelines if n)) or "none are configured"
        raise UnknownSource(f"There is no workspace named {workspace[:40]!r}: post to /hooks/<workspace>/<source> "
                            f"with one of the [workspaces.<name>] in the config ({names}).")
    return _accept(pipeline, source)


def _accept(pipeline, source: str):
    module = SOURCES.get(source)
    if module is None:
        prefix = f"/hooks/{pipeline.name}/" if pipeline.name else "/hooks/"
        raise UnknownSource(f"There is no source named {source[:40]!r}: post to {prefix}<source> with one of "
                            f"{', '.join(sorted(SOURCES))}.")
    state = _state()
    config = state.config.workspace(pipeline.name)
    now = state.clock()
    req = HookRequest(request.get_data(cache=False), request.headers, request.args, request.mimetype)
    secrets = config.secrets_for(source)
    require_signed(config, source)
    fingerprint = module.verify(req, secrets, now.timestamp()) if secrets else None
    if req.mimetype not in module.CONTENT_TYPES:
        raise UnsupportedType(f"/hooks/{source} reads {' or '.join(module.CONTENT_TYPES)}, not "
                              f"{req.mimetype or 'a body without Content-Type'!r}: set the Content-Type header.")
    parsed = module.parse(req, Context(now, config.field_map, config.template))
    if isinstance(parsed, Ignored):
        log.info("ignored %s event: %s", source, parsed.reason)
        return jsonify({"id": None, "status": "ignored", "warnings": [parsed.reason]}), 200
    if fingerprint and not parsed.delivery_id:
        parsed = replace(parsed, delivery_id=fingerprint)
    if not secrets:
        parsed = replace(parsed, warnings=[*parsed.warnings, unsigned_warning(source, config.template)])
    try:
        receipt = pipeline.queue.submit(parsed, now)
    except IdempotencyConflict as exc:
        raise Conflict(str(exc)) from None
    except (QueueUnavailable, sqlite3.Error) as exc:
        log.error("could not store a %s submission for workspace %s: %s", source, pipeline.label, exc)
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
    """Report the queue, the scheduler and which sources are signed, per workspace when there are several."""
    state = _state()
    require_api_token(state.config, request.headers.get("Authorization"))
    now = state.clock()
    body: dict[str, Any] = {}
    if "" in state.pipelines:
        body.update(_pipeline_status(state.pipelines[""], state.config, now))
    else:
        body["workspaces"] = {name: _pipeline_status(p, state.config.workspace(name), now)
                              for name, p in sorted(state.pipelines.items())}
    body["scheduler"] = state.scheduler_status()
    if state.outbox is not None:
        body["notifications"] = {**state.outbox.stats(state.clock()), "problems": state.outbox.problems(5)}
    for name in state.pipelines:  # each workspace may name its own spreadsheet and secrets
        body = scrub(body, state.config.workspace(name))
    return jsonify(scrub(body, state.config))


def _pipeline_status(pipeline, config, now) -> dict[str, Any]:
    try:
        queue = pipeline.queue.stats(now)
    except (QueueUnavailable, sqlite3.Error) as exc:
        queue = {"error": str(exc)}
    return {
        "queue": queue,
        "sources": {name: _signing(config, name) for name in sorted(SOURCES)},
    }


def _signing(config, source: str) -> str:
    if config.secrets_for(source):
        return "signed"
    return "unsigned (allowed)" if source in config.allow_unsigned else "closed (no secret)"
