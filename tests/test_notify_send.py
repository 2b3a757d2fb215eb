"""Each chat tool gets the payload it expects, signed where it checks signatures; e-mail reaches SMTP."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
from email import message_from_bytes, policy
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import responses

from sheetsync.notify.channels import Contact, describe, mail_to, targets_for
from sheetsync.notify.feishu import feishu_sign
from sheetsync.notify.send import check, send

TITLE, BODY = "New lead for you: Acme", "Customer: Acme\nPhone: 13800138000\n需求：报价"


@responses.activate
def test_wecom_robot_gets_a_text_message_with_title_and_body():
    responses.post("https://qyapi.weixin.qq.com/cgi-bin/webhook/send", json={"errcode": 0, "errmsg": "ok"})
    result = send("wecombot://0123456789abcdef-key", TITLE, BODY)
    assert result.ok, result.error
    call = responses.calls[0]
    assert parse_qs(urlsplit(call.request.url).query)["key"] == ["0123456789abcdef-key"]
    payload = json.loads(call.request.body)
    assert payload["msgtype"] == "text"
    assert TITLE in payload["text"]["content"] and "13800138000" in payload["text"]["content"]


@responses.activate
def test_dingtalk_robot_is_signed_with_its_secret():
    secret, token = "SECabc123secret", "a1b2c3d4e5f6"
    responses.post("https://oapi.dingtalk.com/robot/send", json={"errcode": 0, "errmsg": "ok"})
    assert send(f"dingtalk://{secret}@{token}", TITLE, BODY).ok
    request = responses.calls[0].request
    query = parse_qs(urlsplit(request.url).query)
    assert query["access_token"] == [token]
    timestamp = query["timestamp"][0]
    expected = base64.b64encode(hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(),
                                         hashlib.sha256).digest()).decode()
    assert unquote(query["sign"][0]) == expected
    payload = json.loads(request.body)
    assert payload["msgtype"] == "text" and "Acme" in payload["text"]["content"]


@pytest.mark.parametrize("scheme, host", [("feishu", "open.feishu.cn"), ("lark", "open.larksuite.com")])
@responses.activate
def test_feishu_and_lark_bots_carry_timestamp_and_signature_in_the_body(scheme, host):
    secret, token = "f3ishuS3cret", "9a8b7c6d-0000-1111-2222-333344445555"
    responses.post(f"https://{host}/open-apis/bot/v2/hook/{token}", json={"code": 0, "msg": "success"})
    assert send(f"{scheme}://{secret}@{token}", TITLE, BODY).ok
    payload = json.loads(responses.calls[0].request.body)
    key = f"{payload['timestamp']}\n{secret}".encode()
    assert payload["sign"] == base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
    assert payload["sign"] == feishu_sign(secret, int(payload["timestamp"]))
    assert payload["msg_type"] == "text"
    assert payload["content"]["text"].replace("\r\n", "\n") == f"{TITLE}\n{BODY}"


@responses.activate
def test_a_feishu_refusal_is_a_failure_with_the_reason():
    responses.post("https://open.feishu.cn/open-apis/bot/v2/hook/tok-123456",
                   json={"code": 19021, "msg": "sign match fail or timestamp is not within one hour from current time"})
    result = send("feishu://wrong@tok-123456", TITLE, BODY)
    assert not result.ok
    assert "19021" in result.error and "tok-123456" not in result.error


@responses.activate
def test_unsigned_feishu_uses_apprise_plugin():
    responses.post("https://open.feishu.cn/open-apis/bot/v2/hook/tok-abcdef/", json={"code": 0})
    assert send("feishu://tok-abcdef", TITLE, BODY).ok
    assert "sign" not in json.loads(responses.calls[0].request.body)


@responses.activate
def test_slack_webhook_gets_the_message():
    responses.post("https://hooks.slack.com/services/T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ", body="ok")
    assert send("slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/", TITLE, BODY).ok
    payload = json.loads(responses.calls[0].request.body)
    text = json.dumps(payload, ensure_ascii=False)
    assert "New lead for you: Acme" in text and "13800138000" in text


@pytest.fixture
def smtp_server():
    """A local SMTP server on a free port, collecting what it receives."""
    from aiosmtpd.controller import Controller

    received = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            received.append(envelope)
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    yield port, received
    controller.stop()


def test_a_plain_email_goes_through_the_configured_smtp_server(smtp_server):
    port, received = smtp_server
    smtp = f"mailto://127.0.0.1:{port}?from=sheetsync@example.com&mode=insecure"
    targets, problems = targets_for(Contact("Alice Chen", email="alice@example.com"), smtp)
    assert problems == [] and targets == [mail_to(smtp, "alice@example.com")]
    assert describe(targets[0]) == "e-mail to alice@example.com via 127.0.0.1"
    assert send(targets[0], TITLE, BODY).ok
    (envelope,) = received
    assert envelope.rcpt_tos == ["alice@example.com"]
    mail = message_from_bytes(envelope.content, policy=policy.default)
    assert mail["Subject"] == TITLE
    text = mail.get_body(("plain",)).get_content()
    assert "13800138000" in text and "需求：报价" in text


def test_a_dead_endpoint_never_raises():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = send(f"json://127.0.0.1:{port}/hook", TITLE, BODY, connect_timeout=1, read_timeout=1)
    assert not result.ok and result.error


def test_unknown_channels_and_cells_are_explained():
    assert "not a channel URL apprise understands" in check("nosuchtool://abc")
    assert not send("nosuchtool://abc", TITLE, BODY).ok
    targets, problems = targets_for(Contact("Bob", im="bob_wechat", email="bob@example.com"), "")
    assert targets == []
    assert "Bob's IM id 'bob_wechat' is not a channel URL" in problems[0]
    assert "notify_smtp" in problems[1]


def test_a_described_target_never_shows_the_token():
    assert describe("wecombot://0123456789abcdef-key") == "wecombot://…-key"
    assert "SECabc" not in describe("dingtalk://SECabc123secret@a1b2c3d4e5f6")


@pytest.mark.parametrize("pasted, url", [
    ("https://oapi.dingtalk.com/robot/send?access_token=a1b2c3", "dingtalk://a1b2c3"),
    ("https://open.feishu.cn/open-apis/bot/v2/hook/9a8b-7c6d", "feishu://9a8b-7c6d"),
    ("https://open.larksuite.com/open-apis/bot/v2/hook/9a8b-7c6d/", "lark://9a8b-7c6d"),
    ("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc"),
])
def test_robot_addresses_pasted_from_the_chat_tool_work_too(pasted, url):
    targets, problems = targets_for(Contact("Alice", im=pasted), "")
    assert (targets, problems) == ([url], [])
    assert check(url) == ""
