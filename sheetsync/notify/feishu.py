"""Feishu (飞书) and Lark bots with signature verification (签名校验), which apprise's own plugins lack.

A bot with a signing secret refuses messages without `timestamp` and `sign` in the body, where sign is
base64(HMAC-SHA256 keyed with "{timestamp}\\n{secret}" over an empty message). URLs:
`feishu://SECRET@TOKEN` and `lark://SECRET@TOKEN`; without a secret apprise's own plugins are used.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import unquote, urlsplit

import requests
from apprise import NotifyBase

HOOKS = {
    "feishu": "https://open.feishu.cn/open-apis/bot/v2/hook/{token}",
    "lark": "https://open.larksuite.com/open-apis/bot/v2/hook/{token}",
}


def feishu_sign(secret: str, timestamp: int) -> str:
    """The `sign` field of a signed Feishu/Lark bot message."""
    key = f"{timestamp}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", digestmod=hashlib.sha256).digest()).decode()


def parse_signed(url: str) -> tuple[str, str, str] | None:
    """(scheme, token, secret) for feishu://SECRET@TOKEN or lark://SECRET@TOKEN, else None."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in HOOKS or "@" not in parts.netloc:
        return None
    secret, host = parts.netloc.rsplit("@", 1)
    token = (host + parts.path).strip("/")
    return (scheme, unquote(token), unquote(secret)) if token and secret else None


class SignedFeishu(NotifyBase):  # type: ignore[misc]
    """Send a text message to a Feishu or Lark custom bot that checks signatures."""

    service_name = "Feishu/Lark (signed)"  # type: ignore[assignment]
    secure_protocol = ("feishu", "lark")  # type: ignore[assignment]
    request_rate_per_sec = 0
    body_maxlen = 19985
    title_maxlen = 0

    def __init__(self, scheme: str, token: str, secret: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scheme, self.token, self.secret = scheme, token, secret
        self.clock = time.time

    def url(self, *args: Any, **kwargs: Any) -> str:
        return f"{self.scheme}://****@{self.token[:4]}…"

    def send(self, body: str, title: str = "", notify_type: Any = None, **kwargs: Any) -> bool:
        timestamp = int(self.clock())
        payload = {"timestamp": str(timestamp), "sign": feishu_sign(self.secret, timestamp), "msg_type": "text",
                   "content": {"text": f"{title}\n{body}" if title else body}}
        try:
            response = requests.post(HOOKS[self.scheme].format(token=self.token),
                                     data=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
                                     headers={"Content-Type": "application/json; charset=utf-8"},
                                     timeout=self.request_timeout)
        except requests.RequestException as exc:
            self.logger.warning("Could not reach the %s bot: %s", self.scheme, exc)
            return False
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        code = answer.get("code", answer.get("StatusCode", 0)) if isinstance(answer, dict) else 0
        if response.status_code != 200 or code:
            message = answer.get("msg", answer.get("StatusMessage", "")) if isinstance(answer, dict) else ""
            self.logger.warning("The %s bot refused the message: HTTP %s, code %s %s", self.scheme,
                                response.status_code, code, message)
            return False
        return True
