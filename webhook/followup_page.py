"""The phone follow-up page: `/f/<token>` lets a rep log a call in under a minute, no HMAC needed.

GET shows a small form (the rep's open deals to pick by customer or ID, channel, a summary box that the
phone keyboard's dictation can fill, next follow-up date). POST queues a follow-up submission exactly
like `/hooks/followup`, so it lands with the next flush. A wrong or expired link gets 403 and a page
saying what to do; nothing is queued.
"""

from __future__ import annotations

import re
import secrets
from datetime import date
from html import escape
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, current_app, request

from sheetsync.core import values
from sheetsync.followup_link import LinkError, read_token
from sheetsync.intake.queue import FOLLOWUP, Incoming
from sheetsync.messages import say

bp = Blueprint("followup_page", __name__)

OPEN_DEALS = "open_deals"
"""State key the sync keeps: each owner's open deals as [id, customer, stage] (read here, never the sheet)."""
_ID = re.compile(r"\bOPP-[0-9A-Z]{4,12}\b", re.IGNORECASE)
_HTML = {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def _app() -> Any:
    return current_app.extensions["sheetsync"]


def _page(language: str, title: str, body: str, status: int = 200) -> tuple[str, int, dict[str, str]]:
    lang = "zh-CN" if language == "zh" else "en"
    html = (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)}</title><style>"
            "body{font:17px/1.4 system-ui,sans-serif;margin:0 auto;max-width:34em;padding:1em}"
            "label{display:block;margin:.9em 0 .2em;font-weight:600}"
            "input,select,textarea,button{font:inherit;width:100%;box-sizing:border-box;padding:.55em}"
            "textarea{min-height:8em}button{margin-top:1.2em;background:#1f6feb;color:#fff;border:0;"
            "border-radius:.4em;padding:.8em}.err{color:#b00020}.ok{color:#1a7f37}</style></head><body>"
            f"<h1>{escape(title)}</h1>{body}</body></html>")
    return html, status, _HTML


def _deals(name: str) -> list[list[str]]:
    state = _app().pipelines[next(iter(_app().pipelines))].state
    every = state.get(OPEN_DEALS, {}) or {}
    return [list(map(str, d)) for d in every.get(name.casefold(), [])]


def _rep(token: str) -> str:
    config = _app().config
    return read_token(config.secrets_for("followup"), token, _app().clock().timestamp())


def _form(language: str, token: str, name: str, deals: list[list[str]], error: str = "",
          kept: dict[str, str] | None = None) -> str:
    kept = kept or {}
    options = "".join(f'<option value="{escape(d[0])} {escape(d[1])}">{escape(d[2])}</option>' for d in deals)
    channels = "".join(f'<option{" selected" if kept.get("channel") == c else ""}>{escape(c)}</option>'
                       for c in say("discipline.page_channels", language).split("|"))
    nonce = secrets.token_urlsafe(12)
    return (f'<p>{escape(say("discipline.page_hello", language, name=name))}</p>'
            + (f'<p class="err">{escape(error)}</p>' if error else "")
            + f'<form method="post" action="/f/{escape(token)}">'
            f'<input type="hidden" name="nonce" value="{nonce}">'
            f'<label for="deal">{escape(say("discipline.page_deal", language))}</label>'
            f'<input id="deal" name="deal" list="deals" required autocomplete="off" '
            f'value="{escape(kept.get("deal", ""))}"><datalist id="deals">{options}</datalist>'
            f'<label for="channel">{escape(say("discipline.page_channel", language))}</label>'
            f'<select id="channel" name="channel">{channels}</select>'
            f'<label for="summary">{escape(say("discipline.page_summary", language))}</label>'
            f'<textarea id="summary" name="summary" required>{escape(kept.get("summary", ""))}</textarea>'
            f'<label for="next">{escape(say("discipline.page_next", language))}</label>'
            f'<input id="next" name="next_follow_up" type="date" value="{escape(kept.get("next_follow_up", ""))}">'
            f'<button type="submit">{escape(say("discipline.page_save", language))}</button></form>')


@bp.get("/f/<token>")
def show(token: str):
    """Show the follow-up form to the rep the link names."""
    language = _app().config.template
    try:
        name = _rep(token)
    except LinkError as exc:
        return _page(language, say("discipline.page_title", language), f'<p class="err">{escape(str(exc))}</p>',
                     403)
    return _page(language, say("discipline.page_title", language), _form(language, token, name, _deals(name)))


def _pick(raw: str, deals: list[list[str]]) -> str | None:
    """The opportunity ID a typed choice means: an OPP-… ID, else one of the rep's deals by customer."""
    found = _ID.search(raw)
    if found:
        return found.group(0).upper()
    folded = raw.strip().casefold()
    hits = [d[0] for d in deals if d[1].casefold() == folded] or [d[0] for d in deals if folded and
                                                                   folded in d[1].casefold()]
    return hits[0] if len(hits) == 1 else None


@bp.post("/f/<token>")
def save(token: str):
    """Queue the rep's follow-up; it lands in Follow-ups (and moves the deal's dates) with the next flush."""
    app = _app()
    language = app.config.template
    title = say("discipline.page_title", language)
    try:
        name = _rep(token)
    except LinkError as exc:
        return _page(language, title, f'<p class="err">{escape(str(exc))}</p>', 403)
    form = {k: request.form.get(k, "").strip() for k in ("deal", "channel", "summary", "next_follow_up", "nonce")}
    deals = _deals(name)
    opp_id = _pick(form["deal"], deals)
    error = ""
    if opp_id is None:
        error = say("discipline.page_pick", language)
    elif not form["summary"]:
        error = say("discipline.page_no_summary", language)
    planned = None
    if not error and form["next_follow_up"]:
        try:
            planned = values.parse_date(form["next_follow_up"])
        except values.ValueProblem:
            error = say("discipline.page_bad_date", language, value=form["next_follow_up"][:20])
    if error:
        return _page(language, title, _form(language, token, name, deals, error, form), 400)
    now = app.clock()
    fields = {"opportunity_id": str(opp_id), "channel": form["channel"][:40], "summary": form["summary"][:4000],
              "by": name, "date": now.astimezone(app.config.tz).date().isoformat()}
    if isinstance(planned, date):
        fields["next_follow_up"] = planned.isoformat()
    raw = urlencode(fields).encode("utf-8")
    key = f"f-{form['nonce'][:40]}" if form["nonce"] else None
    app.queue.submit(Incoming("followup", FOLLOWUP, fields, raw, "application/x-www-form-urlencoded", key,
                              opportunity_id=str(opp_id)), now)
    done = say("discipline.page_saved", language, id=opp_id)
    again = say("discipline.page_again", language)
    return _page(language, title, f'<p class="ok">{escape(done)}</p><p><a href="/f/{escape(token)}">'
                 f"{escape(again)}</a></p>")
