"""The phone follow-up page: a signed per-rep link, a form, and a queued follow-up; wrong or expired links refused."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from sheetsync.config import Config
from sheetsync.followup_link import LinkError, make_token, read_token
from webhook import EXTENSION, create_app

SECRET = "s3cret-for-followups"
NOW = datetime(2026, 11, 28, 9, 30, tzinfo=timezone.utc)


def test_a_token_names_its_rep_until_it_expires():
    token = make_token(SECRET, "陈晓", int(NOW.timestamp()) + 60)
    assert read_token([SECRET], token, NOW.timestamp()) == "陈晓"
    with pytest.raises(LinkError, match="expired"):
        read_token([SECRET], token, NOW.timestamp() + 61)
    with pytest.raises(LinkError, match="not valid"):
        read_token(["another secret"], token, NOW.timestamp())
    payload, _, signature = token.partition(".")
    forged = make_token(SECRET, "Mallory", int(NOW.timestamp()) + 60).partition(".")[0] + "." + signature
    with pytest.raises(LinkError, match="not valid"):
        read_token([SECRET], forged, NOW.timestamp())


@pytest.fixture
def app(tmp_path):
    config = Config(workbook=str(tmp_path / "pipeline.xlsx"), state_dir=str(tmp_path / "state"), timezone="UTC",
                    base_dir=tmp_path, secrets={"followup": (SECRET,)})
    app = create_app(config)
    state = app.extensions[EXTENSION]
    state.clock = lambda: NOW
    pipeline = state.pipelines[next(iter(state.pipelines))]
    pipeline.state.save(open_deals={"alice chen": [["OPP-7K3F9Q", "Acme Machinery", "Acme Machinery · Quote"],
                                                   ["OPP-2B2B2B", "Pearl Software", "Pearl Software · Lead"]]})
    yield app
    state.close()


def link(name="Alice Chen", days=30):
    return "/f/" + make_token(SECRET, name, int((NOW + timedelta(days=days)).timestamp()))


def test_the_page_lists_the_reps_open_deals(app):
    page = app.test_client().get(link())
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Acme Machinery" in html and "OPP-7K3F9Q" in html and 'name="summary"' in html


@pytest.mark.parametrize("url", ["/f/garbage", "/f/" + make_token("wrong secret", "Alice Chen", 2_000_000_000)])
def test_a_wrong_link_is_refused(app, url):
    client = app.test_client()
    assert client.get(url).status_code == 403
    assert client.post(url, data={"deal": "OPP-7K3F9Q", "summary": "x"}).status_code == 403
    assert app.extensions[EXTENSION].queue.claim(10, 60, NOW) == []  # nothing queued


def test_an_expired_link_is_refused(app):
    expired = "/f/" + make_token(SECRET, "Alice Chen", int(NOW.timestamp()) - 1)
    answer = app.test_client().get(expired)
    assert answer.status_code == 403 and "expired" in answer.get_data(as_text=True)


def test_posting_queues_a_follow_up_for_the_chosen_deal(app):
    client = app.test_client()
    answer = client.post(link(), data={"deal": "Acme Machinery", "channel": "Phone", "summary": "Called, wants a demo",
                                       "next_follow_up": "2026-12-03", "nonce": "n1"})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert "OPP-7K3F9Q" in answer.get_data(as_text=True)
    queue = app.extensions[EXTENSION].queue
    items = queue.claim(10, 60, NOW)
    assert len(items) == 1
    item = items[0]
    assert item.kind == "followup" and item.opportunity_id == "OPP-7K3F9Q"
    assert dict(item.fields) == {"opportunity_id": "OPP-7K3F9Q", "channel": "Phone",
                                 "summary": "Called, wants a demo", "by": "Alice Chen", "date": "2026-11-28",
                                 "next_follow_up": "2026-12-03"}


def test_a_deal_that_is_not_the_reps_is_asked_again(app):
    answer = app.test_client().post(link(), data={"deal": "Someone Else", "summary": "x", "nonce": "n2"})
    assert answer.status_code == 400
    assert "Pick one of your deals" in answer.get_data(as_text=True)


def test_cli_prints_a_link_that_opens_the_reps_page_after_a_sync(tmp_path, runner):
    from sheetsync import config as cfg
    from sheetsync.cli import main

    assert runner.invoke(main, ["init"]).exit_code == 0
    assert runner.invoke(main, ["sync"]).exit_code == 0
    printed = runner.invoke(main, ["followup-link", "Alice Chen", "--days", "7"])
    assert printed.exit_code == 0, printed.output
    url = printed.output.strip().splitlines()[-1].strip()
    assert url.startswith("http://127.0.0.1:8080/f/")
    app = create_app(cfg.load())
    try:
        page = app.test_client().get(url.removeprefix("http://127.0.0.1:8080"))
        assert page.status_code == 200
        assert "Acme Machinery" in page.get_data(as_text=True)
    finally:
        app.extensions[EXTENSION].close()
