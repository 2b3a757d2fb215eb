"""HTTP errors as JSON with a message that tells the sender what to fix."""

from __future__ import annotations

import logging

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from sheetsync.intake.mapping import MappingError

log = logging.getLogger(__name__)


class HookError(Exception):
    """A request we refuse; `status` and `code` go into the JSON answer with the message."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(HookError):
    """The body cannot be read as a submission."""


class Unauthorized(HookError):
    """The request is not signed by a configured secret."""

    status = 401
    code = "bad_signature"


class UnknownSource(HookError):
    """No source of that name exists."""

    status = 404
    code = "unknown_source"


class Conflict(HookError):
    """An idempotency key was reused for a different body."""

    status = 409
    code = "idempotency_conflict"


class UnsupportedType(HookError):
    """The content type is not one the source reads."""

    status = 415
    code = "unsupported_content_type"


class Unavailable(HookError):
    """The queue could not store the submission; the sender should retry."""

    status = 503
    code = "unavailable"


HTTP_MESSAGES = {
    404: "There is nothing at this address: post submissions to /hooks/<source>.",
    405: "This address does not take that method: POST submissions to /hooks/<source>, GET /healthz or "
         "/api/status.",
    413: "The body is larger than this server accepts (max_body = {max_body} bytes): send fewer or shorter "
         "fields, or raise max_body in the config.",
}


def error_response(status: int, code: str, message: str):
    """Return the JSON answer for an error."""
    response = jsonify({"error": code, "message": message})
    response.status_code = status
    if status == 503:
        response.headers["Retry-After"] = "30"
    return response


def register(app: Flask) -> None:
    """Answer every error, expected or not, with JSON."""

    @app.errorhandler(HookError)
    def hook_error(exc: HookError):
        log.info("refused %s: %s", exc.status, exc.message)
        return error_response(exc.status, exc.code, exc.message)

    @app.errorhandler(MappingError)
    def mapping_error(exc: MappingError):
        log.info("refused 400: %s", exc)
        return error_response(400, "bad_request", str(exc))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        status = exc.code or 500
        template = HTTP_MESSAGES.get(status, f"{exc.name}: {exc.description}")
        message = template.format(max_body=app.config.get("MAX_CONTENT_LENGTH"))
        code = (exc.name or "error").lower().replace(" ", "_")
        return error_response(status, code, message)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unexpected error while handling a webhook request")
        return error_response(500, "internal_error", "sheetsync hit an unexpected error and did not store this "
                              "submission: retry later, and report the server log if it keeps happening.")
