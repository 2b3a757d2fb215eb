"""The thin sending adapter: one message to one apprise URL, with timeouts; it logs and never raises."""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from typing import Any

with warnings.catch_warnings():  # apprise's e-mail plugin imports imghdr, deprecated since Python 3.11
    warnings.simplefilter("ignore", DeprecationWarning)
    try:
        import imghdr  # noqa: F401
    except ImportError:  # Python 3.13+: apprise brings its own stand-in
        pass
    import apprise

from . import defaults
from .channels import describe
from .feishu import SignedFeishu, parse_signed

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SendResult:
    """Whether the channel took the message, and if not, why in plain words."""

    ok: bool
    error: str = ""


def plugin_for(target: str) -> Any:
    """The apprise plugin object for a URL, or None when apprise does not know the URL."""
    signed = parse_signed(target)
    if signed is not None:
        return SignedFeishu(*signed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return apprise.Apprise.instantiate(target)


def check(target: str) -> str:
    """Return "" when apprise can send to `target`, else the problem and the fix."""
    try:
        plugin = plugin_for(target)
    except Exception as exc:  # a malformed URL must not stop doctor
        return f"{describe(target)} is not a usable channel URL ({exc})."
    if plugin is None:
        return (f"'{describe(target)}' is not a channel URL apprise understands: check the spelling against "
                "the README's notification examples (wecombot://KEY, dingtalk://SECRET@TOKEN, "
                "feishu://SECRET@TOKEN, slack://A/B/C, mailtos://user:password@host?to=…).")
    return ""


def send(target: str, title: str, body: str, connect_timeout: float = defaults.CONNECT_TIMEOUT,
         read_timeout: float = defaults.READ_TIMEOUT) -> SendResult:
    """Send one message; return what happened. Never raises, whatever the channel does."""
    where = describe(target)
    try:
        problem = check(target)
        if problem:
            return SendResult(False, problem)
        plugin = plugin_for(target)
        plugin.socket_connect_timeout = connect_timeout
        plugin.socket_read_timeout = read_timeout
        plugin.request_rate_per_sec = 0
        with apprise.LogCapture(level=logging.WARNING, fmt="%(message)s") as captured:
            ok = bool(plugin.notify(body=body, title=title))
        if ok:
            log.debug("sent %r to %s", title, where)
            return SendResult(True)
        lines = [line.strip() for line in captured.getvalue().splitlines() if line.strip()]
        reason = lines[-1] if lines else "the channel refused it"
        log.warning("could not send %r to %s: %s", title, where, reason)
        return SendResult(False, f"{where}: {reason}")
    except Exception as exc:  # the sender must never take the scheduler down
        log.warning("could not send %r to %s: %s", title, where, exc)
        return SendResult(False, f"{where}: {exc}")
