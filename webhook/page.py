"""The status page at `/`: server-rendered, behind the api_token, readable on a phone.

The view gathers a snapshot of the sheet (cached for a few seconds), the queue's stats and the worker's
heartbeat, and hands them to the pure `build_overview`; the template only formats what it is given.
A browser logs in once with the token: the cookie then holds an HMAC derived from the token (never the
token itself), HttpOnly and SameSite=Strict, so rotating api_token logs every browser out.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from flask import Blueprint, Response, current_app, redirect, render_template, request
from werkzeug.wrappers import Response as BaseResponse

from sheetsync.core.overview import Overview, StageRow, age_text, build_overview, since, won_lost
from sheetsync.core.workbook import detect_language
from sheetsync.messages import say
from sheetsync.ports import Snapshot, StoreError

from .auth import bearer_token, scrub, token_matches

log = logging.getLogger(__name__)

bp = Blueprint("page", __name__, template_folder="templates")

COOKIE = "sheetsync_page"
"""Name of the login cookie."""
COOKIE_DAYS = 30
"""How long a browser stays logged in."""
SNAPSHOT_SECONDS = 15
"""How long one read of the sheet serves page views (a Google read is one API request)."""
BAR_WIDTH = 300
"""Width of the widest funnel bar in SVG units."""


def _state() -> Any:
    return current_app.extensions["sheetsync"]


def session_value(token: str) -> str:
    """The cookie value for a browser that proved it knows `token`: an HMAC of it, not the token."""
    return hmac.new(token.encode("utf-8"), b"sheetsync status page v1", hashlib.sha256).hexdigest()


def _logged_in(config: Any) -> bool:
    """A Bearer header with the api_token (the shared check), or the cookie a login with it set."""
    if not config.api_token:
        return False
    if token_matches(config, bearer_token(request.headers.get("Authorization"))):
        return True
    cookie = request.cookies.get(COOKIE, "")
    expected = session_value(config.api_token)
    return bool(cookie) and hmac.compare_digest(cookie.encode("utf-8", "replace"), expected.encode("utf-8"))


@dataclass
class _Cache:
    """The last snapshot read for the page, shared by the threads answering page views."""

    lock: threading.Lock
    at: float = 0.0
    snapshot: Snapshot | None = None
    problem: str | None = None
    store: Any = None


def _snapshot(state: Any) -> tuple[Snapshot | None, str | None]:
    from sheetsync.core.overview import PAGE_TABS
    from sheetsync.stores import open_store

    cache = state.__dict__.setdefault("page_cache", _Cache(threading.Lock()))
    with cache.lock:
        if cache.at and time.monotonic() - cache.at < SNAPSHOT_SECONDS:
            return cache.snapshot, cache.problem
        try:
            if cache.store is None:
                cache.store = open_store(state.config)
            cache.snapshot, cache.problem = cache.store.read(PAGE_TABS), None
        except StoreError as exc:
            cache.snapshot, cache.problem = None, str(exc)
        except Exception as exc:  # the page must still show the queue and the worker
            log.warning("status page could not read the sheet: %s", exc)
            cache.snapshot, cache.problem = None, f"{type(exc).__name__}: {exc}"
        cache.at = time.monotonic()
        return cache.snapshot, cache.problem


def gather(state: Any) -> Overview:
    """Read the sheet, queue and worker state, and build the page's data."""
    config = state.config
    now = state.clock()
    snapshot, problem = _snapshot(state)
    language = detect_language(snapshot, config.template) if snapshot is not None else config.template
    attention_of = getattr(state.queue, "needs_attention", None)
    attention = attention_of(limit=20) if attention_of is not None else []
    return build_overview(snapshot, now=now, today=now.astimezone(config.tz).date(), language=language,
                          queue_stats=state.queue.stats(now), attention=attention, worker=state.scheduler_status(),
                          unknown_label=say("page.web.unknown_stage", language), problem=problem)


def money(amount: Decimal | float | int, language: str) -> str:
    """An amount as the team reads it: 120,000 (en) or ¥120,000 (zh); cents only when there are any."""
    value = Decimal(str(amount))
    text = f"{value:,.2f}" if value != value.to_integral_value() else f"{value:,.0f}"
    return f"¥{text}" if language == "zh" else text


def bars(rows: tuple[StageRow, ...], measure: str) -> list[dict[str, Any]]:
    """Centred funnel bars for the open stages, widths proportional to count or amount (a sliver for zero)."""
    values = [float(getattr(r, measure)) for r in rows]
    top = max(values, default=0.0) or 1.0
    out = []
    for i, (row, value) in enumerate(zip(rows, values, strict=True)):
        width = max(4.0, BAR_WIDTH * value / top)
        out.append({"row": row, "x": (BAR_WIDTH - width) / 2, "y": i * 34, "width": width, "value": value})
    return out


def _helpers(overview: Overview, config: Any) -> dict[str, Any]:
    language = overview.language

    def t(key: str, **fields: Any) -> str:
        return say("page.web." + key, language, **fields)

    def local(moment: datetime | None) -> str:
        if moment is None:
            return t("never")
        if moment.tzinfo is not None:
            moment = moment.astimezone(config.tz)
        return moment.strftime("%Y-%m-%d %H:%M")

    def ago(moment: datetime | None) -> str:
        if moment is None:
            return t("never")
        n, unit = age_text(since(moment, overview.now))
        if unit == "none":
            return local(moment)
        return t("ago", when=local(moment), n=n, unit=t("unit_" + unit))

    def age(seconds: float | None) -> str:
        n, unit = age_text(seconds)
        return "—" if unit == "none" else f"{n} {t('unit_' + unit)}"

    won, lost = won_lost(overview)
    return {"o": overview, "t": t, "local": local, "ago": ago, "age": age,
            "money": lambda amount: money(amount, language), "won": won, "lost": lost,
            "amount_bars": bars(overview.open_stages, "amount"), "count_bars": bars(overview.open_stages, "count"),
            "bar_width": BAR_WIDTH, "zone": config.timezone, "lang": "zh-CN" if language == "zh" else "en"}


def _login_page(language: str, message: str | None, status: int) -> Response:
    t = lambda key, **fields: say("page.web." + key, language, **fields)  # noqa: E731
    html = render_template("login.html", t=t, message=message, lang="zh-CN" if language == "zh" else "en")
    response = Response(html, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/")
def index() -> Response:
    """The status page, or the login form when the browser has not logged in."""
    state = _state()
    config = state.config
    if not config.api_token:
        return _login_page(config.template, say("page.web.login_unset", config.template), 403)
    if not _logged_in(config):
        return _login_page(config.template, None, 401)
    overview = gather(state)
    html = render_template("status.html", **_helpers(overview, config))
    response = Response(scrub(html, config), mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; " \
                                                  "form-action 'self'; frame-ancestors 'none'"
    return response


@bp.post("/login")
def login() -> BaseResponse:
    """Check the token typed into the form; on a match set the login cookie and show the page."""
    config = _state().config
    if not config.api_token:
        return _login_page(config.template, say("page.web.login_unset", config.template), 403)
    typed = (request.form.get("token") or "").strip()
    if not token_matches(config, typed):
        log.info("status page login refused from %s", request.remote_addr)
        return _login_page(config.template, say("page.web.login_wrong", config.template), 401)
    response = redirect("/", code=303)
    response.set_cookie(COOKIE, session_value(config.api_token), max_age=COOKIE_DAYS * 86400, httponly=True,
                        samesite="Strict", secure=request.is_secure, path="/")
    return response


@bp.post("/logout")
def logout() -> BaseResponse:
    """Forget the login cookie."""
    response = redirect("/", code=303)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="Strict")
    return response
