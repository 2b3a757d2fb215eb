"""Signed by default: a fresh init accepts nothing unsigned, /api/status needs the token, nothing secret leaks."""

from __future__ import annotations

import logging
from datetime import datetime, timezone

import pytest
from click.testing import CliRunner

from sheetsync import config as cfg
from sheetsync.cli import main
from sheetsync.config import Config
from webhook import EXTENSION, create_app
from webhook.auth import bearer_token, scrub, token_matches

NOW = datetime(2026, 11, 28, 9, 30, tzinfo=timezone.utc)
TOKEN = "a-long-enough-api-token-0123"
SHEET_ID = "1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-abcd"
ACCOUNT = "sheetsync-bot@acme-crm-123.iam.gserviceaccount.com"


@pytest.fixture
def fresh(tmp_path, monkeypatch):
    """The config a fresh `sheetsync init` writes, loaded as `serve` loads it."""
    monkeypatch.chdir(tmp_path)
    for var in ("SHEETSYNC_CONFIG", "SHEETSYNC_WORKBOOK", "SHEETSYNC_STORE", "SHEETSYNC_TEMPLATE",
                "SHEETSYNC_API_TOKEN", "SHEETSYNC_ALLOW_UNSIGNED"):
        monkeypatch.delenv(var, raising=False)
    result = CliRunner().invoke(main, ["init"])
    assert result.exit_code == 0, result.output
    return cfg.load(tmp_path / "sheetsync.toml", env={})


def test_a_fresh_init_and_serve_accept_nothing_unsigned(fresh):
    app = create_app(fresh)
    client = app.test_client()
    for source in cfg.SOURCES:
        r = client.post(f"/hooks/{source}", json={"Customer": "Acme", "Contact": "Li", "Phone": "1"})
        assert r.status_code == 401 and r.is_json, source
        assert r.json["message"]
    app.extensions[EXTENSION].queue.close()


def test_serve_with_no_config_refuses_every_unsigned_post(tmp_path):
    app = create_app(Config(state_dir=str(tmp_path / "state"), base_dir=tmp_path))
    for source in cfg.SOURCES:
        r = app.test_client().post(f"/hooks/{source}", json={"Customer": "Acme"})
        assert r.status_code == 401 and r.json["error"] == "no_secret", source
        assert f"SHEETSYNC_SECRET_{source.upper().replace('-', '_')}" in r.json["message"]
    app.extensions[EXTENSION].queue.close()


def test_each_allowed_unsigned_source_is_warned_about_at_start(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="webhook.auth")
    app = create_app(Config(state_dir=str(tmp_path / "state"), base_dir=tmp_path, allow_unsigned=("tally", "generic"),
                            secrets={"typeform": ("x",)}))
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len([w for w in warnings if "accepts unsigned posts" in w]) == 2
    assert any("'tally'" in w for w in warnings) and any("'generic'" in w for w in warnings)
    assert any("'jiandaoyun' has no secret" in r.getMessage() for r in caplog.records)
    app.extensions[EXTENSION].queue.close()


@pytest.fixture
def app(tmp_path):
    app = create_app(Config(state_dir=str(tmp_path / "state"), base_dir=tmp_path, api_token=TOKEN,
                            secrets={"generic": ("s3cret-value",)}, google_spreadsheet=SHEET_ID))
    app.extensions[EXTENSION].clock = lambda: NOW
    yield app
    app.extensions[EXTENSION].queue.close()


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong-token-0123456789"},
                                     {"Authorization": f"Basic {TOKEN}"}, {"Authorization": "Bearer"},
                                     {"Authorization": f"Bearer {TOKEN}x"}],
                         ids=["none", "wrong", "basic", "empty", "longer"])
def test_api_status_without_the_token_is_401(app, headers):
    r = app.test_client().get("/api/status", headers=headers)
    assert r.status_code == 401 and r.json["error"] == "token_required"
    assert "Authorization: Bearer" in r.json["message"]
    assert TOKEN not in r.get_data(as_text=True)


def test_api_status_with_the_token_answers(app):
    r = app.test_client().get("/api/status", headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 200 and r.json["sources"]["generic"] == "signed"
    assert r.json["sources"]["tally"] == "closed (no secret)"


def test_api_status_stays_closed_while_no_token_is_configured(tmp_path):
    app = create_app(Config(state_dir=str(tmp_path / "state"), base_dir=tmp_path))
    r = app.test_client().get("/api/status", headers={"Authorization": "Bearer "})
    assert r.status_code == 401 and "No api_token is configured" in r.json["message"]
    app.extensions[EXTENSION].queue.close()


def test_healthz_is_open_and_says_only_ok(app):
    r = app.test_client().get("/healthz")
    assert r.status_code == 200 and r.json == {"status": "ok"}


def test_api_status_never_shows_the_spreadsheet_id_or_the_service_account(app):
    queue = app.extensions[EXTENSION].queue
    error = (f"403: share https://docs.google.com/spreadsheets/d/{SHEET_ID}/edit with {ACCOUNT} "
             f"(spreadsheet {SHEET_ID}); key -----BEGIN PRIVATE KEY-----\nMII")
    queue.record_flush(NOW, "failed", error=error)
    r = app.test_client().get("/api/status", headers={"Authorization": f"Bearer {TOKEN}"})
    text = r.get_data(as_text=True)
    assert r.status_code == 200 and "[hidden]" in text
    for secret in (SHEET_ID, ACCOUNT, "PRIVATE KEY", "MII", "s3cret-value", TOKEN):
        assert secret not in text


def test_scrub_hides_configured_secrets_wherever_they_appear():
    config = Config(api_token=TOKEN, secrets={"tally": ("tally-signing-secret",)},
                    google_spreadsheet=f"https://docs.google.com/spreadsheets/d/{SHEET_ID}/edit",
                    google_credentials="/etc/sheetsync/service-account.json")
    value = {"a": [f"token {TOKEN}", "tally-signing-secret", f"id {SHEET_ID}", "/etc/sheetsync/service-account.json"],
             "n": 3}
    assert scrub(value, config) == {"a": ["token [hidden]", "[hidden]", "id [hidden]", "[hidden]"], "n": 3}


@pytest.mark.parametrize("header, token", [("Bearer abc", "abc"), ("bearer  abc ", "abc"), ("Basic abc", None),
                                           ("", None), (None, None), ("Bearer", None)])
def test_bearer_token(header, token):
    assert bearer_token(header) == token


def test_token_matches_is_false_without_a_configured_token():
    assert not token_matches(Config(), "")
    assert not token_matches(Config(), "anything")
    assert token_matches(Config(api_token=TOKEN), TOKEN)
    assert not token_matches(Config(api_token=TOKEN), TOKEN.upper())
    assert not token_matches(Config(api_token=TOKEN), "\ud800")
