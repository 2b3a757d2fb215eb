"""Notifications in the running product: queued after writes, sent once, and never in a sync's way."""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import openpyxl
import pytest
import responses
from conftest import NOW, TODAY

from sheetsync.config import Config
from sheetsync.core.intake import CREATE, Submission
from sheetsync.notify.notifier import Notifier
from sheetsync.notify.outbox import Delivery, SqliteOutbox
from sheetsync.notify.send import SendResult
from sheetsync.runner import build_scheduler, sync_job
from sheetsync.state import State
from sheetsync.stores.excel import ExcelStore
from sheetsync.sync import Syncer
from sheetsync.template import load_layout

WECOM = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"
ZH_TEAM = ("陈晓", "王斌", "张卡", "刘丹", "周怡")


def set_im_ids(path, ids, tab="Team", name="Name", im="IM id"):
    """Type IM ids into the Team tab as a manager would."""
    wb = openpyxl.load_workbook(path)
    ws = wb[tab]
    headers = [c.value for c in ws[1]]
    name_col, im_col = headers.index(name) + 1, headers.index(im) + 1
    for row in range(2, ws.max_row + 1):
        name = ws.cell(row, name_col).value
        if name in ids:
            ws.cell(row, im_col).value = ids[name]
    wb.save(path)


class Pipeline:
    """A workbook, its syncer and a notifier sharing one state directory, as serve builds them."""

    def __init__(self, tmp_path, language="en", **settings):
        self.path = tmp_path / "pipeline.xlsx"
        self.config = Config(workbook=str(self.path), state_dir=str(tmp_path / "state"), base_dir=tmp_path,
                             template=language, **settings)
        self.now = NOW
        ExcelStore(self.path).setup(load_layout(language, TODAY))
        if language == "zh":
            set_im_ids(self.path, {name: f"wecombot://key-{i}" for i, name in enumerate(ZH_TEAM)}, "团队", "姓名",
                       "IM账号")
        else:
            set_im_ids(self.path, {name: f"wecombot://key-{name.split()[0].lower()}" for name in
                                   ("Alice Chen", "Bob Wang", "Carol Zhang", "Dan Liu", "Erin Zhou")})
        self.open()

    def open(self):
        """Start (or restart) the process: new syncer, outbox and notifier on the same files."""
        self.state = State(self.config.state_path)
        self.syncer = Syncer(ExcelStore(self.path), self.config, self.state, clock=lambda: self.now)
        self.outbox = SqliteOutbox.for_state_dir(self.config.state_path)
        self.notifier = Notifier(self.config, self.outbox, clock=lambda: self.now)
        self.syncer.after_write.append(self.notifier.on_write)
        self.syncer.after_sync.append(self.notifier.on_sync)
        self.notifier.recover()

    def close(self):
        self.outbox.close()
        self.state.close()


@pytest.fixture
def pipeline(tmp_path):
    p = Pipeline(tmp_path, notify_daily_at="off", notify_weekly_at="off")
    yield p
    p.close()


def sent_messages():
    out = []
    for call in responses.calls:
        key = call.request.url.split("key=")[1]
        out.append((key, json.loads(call.request.body)["text"]["content"]))
    return out


@responses.activate
def test_owners_assigned_by_a_sync_get_a_new_lead_message_once(pipeline):
    responses.post(WECOM, json={"errcode": 0})
    report = pipeline.syncer.run_cycle(NOW)
    assert report.owners > 0
    delivered = pipeline.notifier.deliver()
    assert (delivered.sent, delivered.failed) == (report.owners, 0)
    messages = sent_messages()
    acme = [text for key, text in messages if "Acme Machinery" in text]
    assert len(acme) == 1
    assert "New lead for you: Acme Machinery" in acme[0]
    assert "Phone: 13800138000" in acme[0] and "Need: Automated line quote" in acme[0]
    assert "Why you: " in acme[0]
    pipeline.syncer.run_cycle(NOW + timedelta(minutes=5))
    assert pipeline.notifier.deliver().sent == 0


@responses.activate
def test_a_chinese_workbook_gets_chinese_notices(tmp_path):
    responses.post(WECOM, json={"errcode": 0})
    p = Pipeline(tmp_path, "zh", notify_daily_at="off", notify_weekly_at="off")
    p.syncer.run_cycle(NOW)
    assert p.notifier.deliver().sent > 0
    texts = [text for _, text in sent_messages()]
    jinggong = next(text for text in texts if "上海精工机械有限公司" in text)
    assert "新商机分配给你：上海精工机械有限公司" in jinggong
    assert "需求：自动化产线报价" in jinggong and "电话：13800138000" in jinggong and "分配依据：" in jinggong
    p.close()


@responses.activate
def test_a_restart_never_sends_twice(pipeline):
    responses.post(WECOM, json={"errcode": 0})
    pipeline.syncer.run_cycle(NOW)
    first = pipeline.notifier.deliver().sent
    pipeline.close()
    pipeline.open()
    pipeline.syncer.run_cycle(NOW + timedelta(minutes=5))
    assert pipeline.notifier.deliver().sent == 0
    assert len(responses.calls) == first


@responses.activate
def test_a_lead_landing_from_a_form_notifies_its_owner_in_the_same_flush(pipeline):
    responses.post(WECOM, json={"errcode": 0})
    pipeline.syncer.run_cycle(NOW)
    pipeline.notifier.deliver()
    responses.calls.reset()
    form = Submission("k1", CREATE, "OPP-FORM01", {"customer": "Harbor Trading", "contact": "Wu Fang",
                                                  "phone": "13911112222", "region": "East", "need": "Forklifts"}, NOW)
    result = pipeline.syncer.flush([form], NOW)
    assert result.landed == ["k1"]
    assert pipeline.notifier.deliver().sent == 1
    ((key, text),) = sent_messages()
    assert "New lead for you: Harbor Trading" in text and "Forklifts" in text and "13911112222" in text


def wecom_failing_for(keys):
    """Answer WeCom robot posts: 502 for the robot keys in `keys`, success for the others."""
    def answer(request):
        key = request.url.split("key=")[1]
        return (502, {}, "bad gateway") if key in keys else (200, {}, json.dumps({"errcode": 0}))
    responses.add_callback(responses.POST, WECOM, callback=answer)


@responses.activate
def test_a_failing_channel_is_retried_later_and_shown_in_status(pipeline):
    failing = {"key-alice"}
    wecom_failing_for(failing)
    pipeline.syncer.run_cycle(NOW)
    report = pipeline.notifier.deliver()
    assert report.failed >= 1
    stats = pipeline.outbox.stats(NOW)
    assert stats["retrying"] == report.failed
    assert "to Alice Chen" in stats["last_error"] and "key-alice" not in stats["last_error"]
    assert pipeline.notifier.deliver().sent == 0  # not due yet
    failing.clear()
    pipeline.now = NOW + timedelta(minutes=2)
    assert pipeline.notifier.deliver().sent == report.failed


@responses.activate
def test_digests_go_out_once_on_the_first_sync_after_their_time(tmp_path):
    responses.post(WECOM, json={"errcode": 0})
    responses.post("https://hooks.slack.com/services/T1/B1/manager", body="ok")
    p = Pipeline(tmp_path, notify_daily_at="09:00", notify_weekly_at="sat 09:00",
                 notify_manager="slack://T1/B1/manager/")
    p.now = datetime(2026, 11, 28, 0, 55, tzinfo=timezone.utc)  # 00:55 UTC: before 09:00, Saturday
    p.syncer.run_cycle(p.now)
    p.notifier.deliver()
    responses.calls.reset()
    p.now = datetime(2026, 11, 28, 9, 5, tzinfo=timezone.utc)  # Saturday: weekly yes, daily (mon-fri) no
    p.syncer.run_cycle(p.now)
    p.notifier.deliver()
    assert [c.request.url for c in responses.calls] == ["https://hooks.slack.com/services/T1/B1/manager"]
    assert "Weekly pipeline review" in str(responses.calls[0].request.body)
    responses.calls.reset()
    p.config = replace(p.config, notify_workdays="mon-sun")
    p.close()
    p.open()
    p.now += timedelta(minutes=5)
    p.syncer.run_cycle(p.now)
    p.notifier.deliver()
    daily = [json.loads(c.request.body)["text"]["content"] for c in responses.calls]
    assert daily and all("Your pipeline for 2026-11-28" in text for text in daily)
    responses.calls.reset()
    p.close()
    p.open()
    p.now += timedelta(minutes=5)
    p.syncer.run_cycle(p.now)
    p.notifier.deliver()
    assert len(responses.calls) == 0
    p.close()


class Stuck(BaseHTTPRequestHandler):
    """A chat tool that accepts the request and then answers only when the test lets it."""

    entered = threading.Event()
    release = threading.Event()

    def do_POST(self):  # noqa: N802 - http.server's naming
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        Stuck.entered.set()
        Stuck.release.wait(30)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_a_stuck_channel_never_holds_up_a_sync(pipeline):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Stuck)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    pipeline.outbox.add([Delivery("test:stuck", "test", "Alice Chen", f"json://127.0.0.1:{port}/", "t", "b")],
                        NOW)
    pipeline.syncer.notifier = pipeline.notifier
    scheduler = build_scheduler(pipeline.config, pipeline.syncer, queue=_NoQueue(), blocking=False,
                                clock=lambda: NOW)
    for job in ("flush", "sync"):
        scheduler.remove_job(job)
    scheduler.start()
    try:
        assert Stuck.entered.wait(10), "the send job never reached the channel"
        sync_job(pipeline.syncer, lambda: NOW)  # the sync runs to the end while the send is still stuck
        assert pipeline.state.get("last_sync") == NOW.isoformat()
        assert not Stuck.release.is_set()
        assert pipeline.outbox.stats(NOW)["pending"] > 1  # the sync queued its notices meanwhile
    finally:
        Stuck.release.set()
        scheduler.shutdown(wait=True)
        server.shutdown()
        server.server_close()


class _NoQueue:
    """The flush job is removed in the test above; the scheduler only needs something to hold."""


def test_unreachable_people_are_logged_not_fatal(tmp_path, caplog):
    p = Pipeline(tmp_path, notify_daily_at="off", notify_weekly_at="off")
    set_im_ids(p.path, {"Alice Chen": "alice_wechat", "Bob Wang": "", "Carol Zhang": "", "Dan Liu": "",
                        "Erin Zhou": ""})
    caplog.set_level("INFO", logger="sheetsync.notify")
    report = p.syncer.run_cycle(NOW)
    assert report.owners > 0
    assert p.outbox.stats(NOW)["pending"] == 0
    assert "is not a channel URL" in caplog.text or "has no IM id or Email" in caplog.text
    p.close()



def test_api_status_shows_notification_failures_without_tokens(tmp_path):
    from webhook import EXTENSION, create_app

    app = create_app(Config(state_dir=str(tmp_path / "state"), base_dir=tmp_path, api_token="0123456789abcdef-token"))
    state = app.extensions[EXTENSION]
    state.clock = lambda: NOW
    state.outbox.add([Delivery("assign:OPP-1:Alice:2026-11-28", "assignment", "Alice Chen",
                               "wecombot://secret-robot-key", "New lead", "body")], NOW)
    ((item, attempt),) = state.outbox.claim(NOW, 5)
    state.outbox.mark_failed(item, NOW, "wecombot://…-key: HTTP 502", NOW + timedelta(minutes=1))
    auth = {"Authorization": "Bearer 0123456789abcdef-token"}
    notifications = app.test_client().get("/api/status", headers=auth).json["notifications"]
    assert notifications["retrying"] == 1
    assert notifications["last_error"] == "assignment to Alice Chen: wecombot://…-key: HTTP 502"
    assert notifications["problems"][0]["next_try"] == "2026-11-28T09:31:00+00:00"
    assert "secret-robot-key" not in json.dumps(notifications)


def test_a_sync_that_queues_notices_wakes_the_send_job(pipeline, monkeypatch):
    from sheetsync.notify import defaults

    monkeypatch.setattr(defaults, "SEND_INTERVAL", 3600)  # only the wake-up can run it again within the test
    delivered = threading.Event()

    def sender(target, title, body):
        delivered.set()
        return SendResult(True)

    pipeline.notifier.sender = sender
    pipeline.syncer.notifier = pipeline.notifier
    scheduler = build_scheduler(pipeline.config, pipeline.syncer, queue=_NoQueue(), blocking=False,
                                clock=lambda: NOW)
    for job in ("flush", "sync"):
        scheduler.remove_job(job)
    scheduler.start()
    try:
        sync_job(pipeline.syncer, lambda: NOW)
        assert delivered.wait(30), "the send job was not woken after the sync queued notices"
    finally:
        scheduler.shutdown(wait=True)


@responses.activate
def test_a_handover_tells_the_new_owner_whose_deals_they_inherit(pipeline):
    responses.post(WECOM, json={"errcode": 0})
    pipeline.syncer.run_cycle(NOW)
    pipeline.notifier.deliver()
    responses.calls.reset()
    moves = pipeline.syncer.handover("Alice Chen", "Bob Wang", now=NOW + timedelta(minutes=1))
    assert moves
    assert pipeline.notifier.deliver().sent == 1
    ((key, text),) = sent_messages()
    assert key == "key-bob"
    assert "Why you: Handover from Alice Chen" in text or f"{len(moves)} new leads for you" in text
