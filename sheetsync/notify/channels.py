"""Where a person's or the manager's messages go: apprise URLs from the Team tab and the settings (pure)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

EMAIL = re.compile(r"^[^@\s:/]+@[^@\s]+\.[^@\s]+$")
PASTED = (
    (re.compile(r"^https://oapi\.dingtalk\.com/robot/send\?(?:.*&)?access_token=([\w-]+)"), "dingtalk://{}"),
    (re.compile(r"^https://open\.feishu\.cn/open-apis/bot/v2/hook/([\w-]+)/?$"), "feishu://{}"),
    (re.compile(r"^https://open\.larksuite\.com/open-apis/bot/v2/hook/([\w-]+)/?$"), "lark://{}"),
)
"""Robot webhook addresses as the chat tools show them, which apprise does not read itself (unsigned)."""
MAIL_SCHEMES = ("mailto", "mailtos")


@dataclass(frozen=True)
class Contact:
    """A person's contact cells as typed in the Team tab."""

    name: str
    im: str = ""
    email: str = ""


def split_urls(value: str) -> list[str]:
    """The URLs or addresses in one cell or setting: separated by spaces, new lines or commas before a space."""
    return [part.strip().rstrip(",;；") for part in re.split(r"\s+|[,;；]\s", value or "") if part.strip(",;； ")]


def is_url(value: str) -> bool:
    return "://" in value


def as_apprise(value: str) -> str:
    """A pasted DingTalk/Feishu/Lark robot webhook address as its apprise URL; anything else unchanged."""
    for pattern, template in PASTED:
        match = pattern.match(value)
        if match:
            return template.format(match.group(1))
    return value


def mail_to(smtp_url: str, address: str) -> str:
    """The SMTP apprise URL with its recipient set to `address`."""
    parts = urlsplit(smtp_url)
    query = [(k, val) for k, val in parse_qsl(parts.query, keep_blank_values=True) if k != "to"]
    return urlunsplit(parts._replace(query=urlencode([*query, ("to", address)])))


def targets_for(contact: Contact, smtp_url: str) -> tuple[list[str], list[str]]:
    """Return (apprise URLs to send to, problems) for one person; a problem names the cell and the fix."""
    targets: list[str] = []
    problems: list[str] = []
    for value in split_urls(contact.im):
        if is_url(value):
            targets.append(as_apprise(value))
        else:
            problems.append(f"{contact.name}'s IM id '{value}' is not a channel URL: put the robot's apprise URL "
                            "there, e.g. wecombot://KEY, dingtalk://SECRET@TOKEN or feishu://SECRET@TOKEN.")
    for value in split_urls(contact.email):
        if is_url(value):
            targets.append(value)
        elif not EMAIL.match(value):
            problems.append(f"{contact.name}'s Email '{value}' is not an e-mail address: fix the Team cell.")
        elif smtp_url:
            targets.append(mail_to(smtp_url, value))
        else:
            problems.append(f"{contact.name}'s Email {value} cannot be used until notify_smtp is set, e.g. "
                            "notify_smtp = \"mailtos://user:password@smtp.example.com?from=sales@example.com\".")
    return _unique(targets), problems


def manager_targets(setting: str) -> list[str]:
    """The manager channel(s) from the notify_manager setting."""
    return _unique(as_apprise(u) for u in split_urls(setting) if is_url(u))


def describe(target: str) -> str:
    """A target as it may be shown: the kind of channel and a hint, never the token."""
    parts = urlsplit(target)
    scheme = parts.scheme.lower()
    if scheme in MAIL_SCHEMES:
        to = dict(parse_qsl(parts.query)).get("to") or parts.path.strip("/") or "?"
        return f"e-mail to {to} via {parts.hostname or '?'}"
    if scheme in ("http", "https"):
        return f"{scheme}://{parts.hostname or '?'}/…"
    secret = (parts.netloc + parts.path).rstrip("/")
    return f"{scheme}://…{secret[-4:]}" if len(secret) > 8 else f"{scheme}://…"


def _unique(items: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for item in items:
        seen.setdefault(item, None)
    return list(seen)
