"""Who may read what: the API token guarding /api/status (and the status page), and signed-by-default sources.

`token_matches` is the one check of a presented token against the config's `api_token` (constant time;
always False while no token is configured); the status page's cookie login uses it too. `require_api_token`
refuses a request without `Authorization: Bearer <api_token>`. `scrub` removes what must never be shown over
HTTP (the spreadsheet ID, service-account emails, private keys, secrets and the token) from any answer.
"""

from __future__ import annotations

import hmac
import logging
import re
from typing import Any

from sheetsync.config import Config
from sheetsync.messages import say

from .errors import HookError

log = logging.getLogger(__name__)

_SERVICE_ACCOUNT = re.compile(r"[\w.+-]+@[\w-]+\.iam\.gserviceaccount\.com")
_PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)", re.S)
_SHEET_URL = re.compile(r"https://docs\.google\.com/spreadsheets/d/[\w-]+[^\s\"']*")
_SHEET_ID = re.compile(r"/d/([\w-]+)")
HIDDEN = "[hidden]"


class TokenRequired(HookError):
    """A request for something behind the API token came without the right token."""

    status = 401
    code = "token_required"


class NoSecret(HookError):
    """A post to a source with no secret that is not listed in allow_unsigned."""

    status = 401
    code = "no_secret"


def bearer_token(header: str | None) -> str | None:
    """Return the token of an `Authorization: Bearer <token>` header, or None."""
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def token_matches(config: Config, presented: str | None) -> bool:
    """Whether `presented` is the configured api_token (never true while none is configured)."""
    if not config.api_token or not presented:
        return False
    return hmac.compare_digest(presented.encode("utf-8", "replace"), config.api_token.encode("utf-8"))


def require_api_token(config: Config, authorization: str | None) -> None:
    """Refuse (401) unless the Authorization header carries the configured api_token."""
    if token_matches(config, bearer_token(authorization)):
        return
    key = "hostile.token_required" if config.api_token else "hostile.token_unset"
    raise TokenRequired(say(key, config.template))


def require_signed(config: Config, source: str) -> None:
    """Refuse (401) a post to a source that has no secret, unless the config lists it in allow_unsigned."""
    if config.secrets_for(source) or source in config.allow_unsigned:
        return
    env = "SHEETSYNC_SECRET_" + source.upper().replace("-", "_")
    raise NoSecret(say("hostile.no_secret", config.template, source=source, env=env))


def log_signing(config: Config, sources: list[str]) -> None:
    """Warn at start about each source that accepts unsigned posts; note each that refuses all for want of a secret."""
    for source in sources:
        env = "SHEETSYNC_SECRET_" + source.upper().replace("-", "_")
        if config.secrets_for(source):
            continue
        if source in config.allow_unsigned:
            log.warning("%s", say("hostile.unsigned_allowed", config.template, source=source))
        else:
            log.info("%s", say("hostile.no_secret_start", config.template, source=source, env=env))


def _sensitive(config: Config) -> list[str]:
    values = [config.api_token, config.google_credentials_json, config.google_credentials]
    values += [s for source in config.secrets for s in config.secrets_for(source)]
    sheet = config.google_spreadsheet
    match = _SHEET_ID.search(sheet)
    values += [sheet, match.group(1) if match else ""]
    return sorted((v for v in values if v and len(v) >= 6), key=len, reverse=True)


def scrub(value: Any, config: Config) -> Any:
    """Return `value` (text, or lists and objects of it) with credentials and identifiers replaced by [hidden]."""
    sensitive = _sensitive(config)

    def text(s: str) -> str:
        s = _PRIVATE_KEY.sub(HIDDEN, s)
        s = _SHEET_URL.sub(HIDDEN, s)
        s = _SERVICE_ACCOUNT.sub(HIDDEN, s)
        for secret in sensitive:
            s = s.replace(secret, HIDDEN)
        return s

    def walk(v: Any) -> Any:
        if isinstance(v, str):
            return text(v)
        if isinstance(v, dict):
            return {k: walk(item) for k, item in v.items()}
        if isinstance(v, (list, tuple)):
            return [walk(item) for item in v]
        return v

    return walk(value)
