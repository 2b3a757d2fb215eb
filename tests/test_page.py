"""GET / : the status page behind the api_token, with a login form that sets an HttpOnly cookie."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from click.testing import CliRunner

from sheetsync.cli import main
from sheetsync.config import load
from sheetsync.intake.queue import Incoming
from webhook import EXTENSION, create_app
from webhook.page import COOKIE, money, session_value

NOW = datetime(2026, 11, 28, 9, 30, tzinfo=timezone.utc)


@pytest.fixture
def site(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for var in ("SHEETSYNC_CONFIG", "SHEETSYNC_API_TOKEN", "SHEETSYNC_TEMPLATE"):
        monkeypatch.delenv(var, raising=False)
    runner = CliRunner()
    assert runner.invoke(main, ["init"]).exit_code == 0
    assert runner.invoke(main, ["sync"]).exit_code == 0
    return tmp_path


@pytest.fixture
def app(site):
    app = create_app(load())
    yield app
    app.extensions[EXTENSION].queue.close()


def login(client, token):
    return client.post("/login", data={"token": token})


def test_without_login_the_page_is_a_login_form_and_shows_no_numbers(app):
    r = app.test_client().get("/")
    assert r.status_code == 401 and b'name="token"' in r.data and b"funnel-table" not in r.data


def test_a_wrong_token_is_refused_with_what_to_do(app):
    r = login(app.test_client(), "guess")
    assert r.status_code == 401 and "does not match api_token" in r.get_data(as_text=True)
    assert COOKIE not in r.headers.get("Set-Cookie", "")


def test_the_right_token_sets_an_httponly_strict_cookie_that_is_not_the_token(app):
    token = app.extensions[EXTENSION].config.api_token
    client = app.test_client()
    r = login(client, token)
    assert r.status_code == 303 and r.headers["Location"] == "/"
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and token not in cookie
    page = client.get("/")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "funnel-table" in text and page.headers["Cache-Control"] == "no-store"
    assert token not in text
    for secrets in app.extensions[EXTENSION].config.secrets.values():
        assert all(secret not in text for secret in secrets)


def test_a_bearer_header_opens_the_page_too(app):
    token = app.extensions[EXTENSION].config.api_token
    r = app.test_client().get("/", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and "Pipeline status" in r.get_data(as_text=True)


def test_a_forged_or_stale_cookie_is_refused(app):
    client = app.test_client()
    client.set_cookie(COOKIE, session_value("an-old-token-that-was-rotated"))
    assert client.get("/").status_code == 401


def test_logout_forgets_the_cookie(app):
    client = app.test_client()
    login(client, app.extensions[EXTENSION].config.api_token)
    client.post("/logout")
    assert client.get("/").status_code == 401


def test_without_an_api_token_the_page_stays_closed_and_says_how_to_open_it(site, monkeypatch):
    text = (site / "sheetsync.toml").read_text()
    (site / "sheetsync.toml").write_text("\n".join(line for line in text.splitlines()
                                                   if not line.startswith("api_token")))
    app = create_app(load())
    try:
        r = app.test_client().get("/")
        assert r.status_code == 403 and "no api_token is set" in r.get_data(as_text=True)
        assert login(app.test_client(), "").status_code == 403
    finally:
        app.extensions[EXTENSION].queue.close()


def test_the_page_shows_the_queue_and_the_worker_state(app):
    state = app.extensions[EXTENSION]
    state.queue.submit(Incoming("generic", "create", {"customer": "Acme"}, b"x"), state.clock())
    r = app.test_client().get("/", headers={"Authorization": f"Bearer {state.config.api_token}"})
    text = r.get_data(as_text=True)
    assert 'id="queue-depth">1<' in text
    assert "No worker has run yet" in text


def test_a_missing_workbook_is_said_in_plain_words_on_the_page(app, site):
    (site / "pipeline.xlsx").unlink()
    state = app.extensions[EXTENSION]
    r = app.test_client().get("/", headers={"Authorization": f"Bearer {state.config.api_token}"})
    assert r.status_code == 200 and "run `sheetsync init`" in r.get_data(as_text=True)


@pytest.mark.parametrize("amount, language, text", [(120000, "en", "120,000"), (1234.5, "en", "1,234.50"),
                                                    (120000, "zh", "¥120,000")])
def test_money_reads_as_the_team_writes_it(amount, language, text):
    assert money(amount, language) == text
