"""Settings: the file init writes, environment overrides and clear errors for bad values."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest

from sheetsync import config as cfg


def test_defaults_without_a_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = cfg.load(env={})
    assert (config.store, config.template, config.timezone, config.sync_interval) == ("excel", "en", "UTC", 300)
    assert config.workbook_path == tmp_path / "pipeline.xlsx"


def test_the_file_is_read_and_relative_paths_follow_it(tmp_path):
    path = tmp_path / "conf" / "sheetsync.toml"
    path.parent.mkdir()
    path.write_text('workbook = "data/team.xlsx"\ntimezone = "Asia/Shanghai"\n[secrets]\ngeneric = ["a", "b"]\n')
    config = cfg.load(path, env={})
    assert config.workbook_path == path.parent / "data" / "team.xlsx"
    assert config.tz.key == "Asia/Shanghai"
    assert config.secrets_for("generic") == ("a", "b")


def test_environment_overrides_the_file(tmp_path):
    path = tmp_path / "sheetsync.toml"
    path.write_text('store = "excel"\nport = 8080\n')
    env = {"SHEETSYNC_STORE": "google", "SHEETSYNC_PORT": "9000", "SHEETSYNC_SECRET_GOOGLE_FORMS": "new,old"}
    config = cfg.load(path, env=env)
    assert (config.store, config.port) == ("google", 9000)
    assert config.secrets_for("google-forms") == ("new", "old")


@pytest.mark.parametrize(("env", "message"), [
    ({"SHEETSYNC_STORE": "dropbox"}, "store must be one of excel, google, not 'dropbox'. (from SHEETSYNC_STORE)"),
    ({"SHEETSYNC_TIMEZONE": "Beijing"}, "timezone 'Beijing' is not a known zone"),
    ({"SHEETSYNC_SYNC_INTERVAL": "0"}, "sync_interval must be a whole number from 5 to 86400 seconds, not '0'"),
    ({"SHEETSYNC_PORT": "http"}, "port must be a whole number from 1 to 65535, not 'http'"),
    ({"SHEETSYNC_PORT": "99999"}, "port must be a whole number from 1 to 65535, not '99999'"),
    ({"SHEETSYNC_FLUSH_INTERVAL": "-5"}, "flush_interval must be a whole number from 1 to 3600 seconds"),
    ({"SHEETSYNC_MAX_BODY": "10"}, "max_body must be a whole number from 1024 to 16777216 bytes, not '10'"),
    ({"SHEETSYNC_ALLOW_UNSIGNED": "talley"}, "allow_unsigned names an unknown source 'talley': did you mean 'tally'?"),
])
def test_bad_values_name_the_setting_and_the_fix(tmp_path, monkeypatch, env, message):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(cfg.ConfigError, match=re.escape(message)):
        cfg.load(env=env)


@pytest.mark.parametrize(("text", "message"), [
    ('sync_intervall = 60\n', "Unknown setting 'sync_intervall' in {file}: did you mean 'sync_interval'?"),
    ('workbok = "x.xlsx"\n', "Unknown setting 'workbok' in {file}: did you mean 'workbook'?"),
    ('colour = "red"\n', "Unknown setting 'colour' in {file}: known ones are store, workbook,"),
    ('[secret]\ngeneric = ["x"]\n', "Unknown setting 'secret' in {file}: did you mean 'secrets'?"),
    ('[secrets]\ntypefrom = ["x"]\n', "[secrets] names an unknown source 'typefrom': did you mean 'typeform'?"),
    ('port = 99999\n', "port must be a whole number from 1 to 65535, not 99999. (from {file})"),
    ('port = 80.5\n', "port must be a whole number from 1 to 65535, not 80.5."),
    ('port = true\n', "port must be a whole number from 1 to 65535, not True."),
    ('max_body = 100_000_000\n', "max_body must be a whole number from 1024 to 16777216 bytes"),
    ('workbook = ["a.xlsx"]\n', "workbook: expected text in quotes"),
    ('allow_unsigned = "generic,tallly"\n', "unknown source 'tallly': did you mean 'tally'?"),
    ('[secrets]\ngeneric = [1]\n', "[secrets] generic must be a list of secrets in quotes."),
])
def test_typos_and_out_of_range_values_stop_with_a_suggestion(tmp_path, text, message):
    path = tmp_path / "sheetsync.toml"
    path.write_text(text)
    with pytest.raises(cfg.ConfigError, match=re.escape(message.format(file=path))):
        cfg.load(path, env={})


def test_a_toml_syntax_error_names_the_line_and_never_suggests_regenerating_secrets(tmp_path):
    path = tmp_path / "sheetsync.toml"
    path.write_text('store = "excel"\nport = 8080\nworkbook = "x.xlsx\n[secrets]\ngeneric = ["keep-me"]\n')
    with pytest.raises(cfg.ConfigError) as caught:
        cfg.load(path, env={})
    message = str(caught.value)
    assert "syntax error at line 3" in message and "closing quote" in message
    assert "init" not in message and "delete" not in message
    assert "keep-me" not in message


def test_a_file_that_is_not_utf8_is_refused_without_advice_to_regenerate(tmp_path):
    path = tmp_path / "sheetsync.toml"
    path.write_bytes('workbook = "商机.xlsx"\n'.encode("gbk"))
    with pytest.raises(cfg.ConfigError, match="is not UTF-8 text") as caught:
        cfg.load(path, env={})
    assert "init" not in str(caught.value)


def test_a_missing_explicit_file_is_refused(tmp_path):
    with pytest.raises(cfg.ConfigError, match="does not exist"):
        cfg.load(tmp_path / "missing.toml", env={})


def test_a_short_api_token_is_refused_without_echoing_it(tmp_path):
    with pytest.raises(cfg.ConfigError, match="api_token must be at least 16 characters") as caught:
        cfg.load(None, env={"SHEETSYNC_API_TOKEN": "hunter2"})
    assert "hunter2" not in str(caught.value)


def test_api_token_and_allow_unsigned_come_from_file_or_environment(tmp_path):
    path = tmp_path / "sheetsync.toml"
    path.write_text('api_token = "0123456789abcdef0123"\nallow_unsigned = ["tally"]\n')
    config = cfg.load(path, env={})
    assert (config.api_token, config.allow_unsigned) == ("0123456789abcdef0123", ("tally",))
    config = cfg.load(path, env={"SHEETSYNC_ALLOW_UNSIGNED": "generic, typeform", "SHEETSYNC_API_TOKEN": "t" * 20})
    assert (config.api_token, config.allow_unsigned) == ("t" * 20, ("generic", "typeform"))


def test_an_unknown_environment_variable_is_warned_about(tmp_path, monkeypatch, caplog):
    monkeypatch.chdir(tmp_path)
    cfg.load(env={"SHEETSYNC_SYNC_INTERVALL": "60"})
    assert "SHEETSYNC_SYNC_INTERVALL is not a sheetsync setting" in caplog.text
    assert "did you mean 'SHEETSYNC_SYNC_INTERVAL'?" in caplog.text


def test_the_worker_serve_starts_hears_no_warning_about_its_parent_variable(tmp_path, monkeypatch, caplog):
    monkeypatch.chdir(tmp_path)
    cfg.load(env={cfg.PARENT_ENV: "4242"})
    assert "not a sheetsync setting" not in caplog.text


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_the_file_is_written_0600_and_a_readable_one_is_warned_about(tmp_path, caplog):
    path = tmp_path / "sheetsync.toml"
    path.write_text("port = 8080\n")
    path.chmod(0o644)
    cfg.load(path, env={})
    assert "other users of this machine can read it (mode 644)" in caplog.text
    assert f"chmod 600 {path}" in caplog.text
    cfg.write_file(path, "port = 8081\n")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    fresh = tmp_path / "new.toml"
    cfg.write_file(fresh, "port = 8081\n")
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o600
    caplog.clear()
    cfg.load(path, env={})
    assert "can read it" not in caplog.text


def test_render_round_trips_and_never_writes_credentials_json(tmp_path):
    config = cfg.Config(template="zh", timezone="Asia/Shanghai", secrets={"generic": ("s3cret",)},
                        field_map={"Company size": "Level"}, google_credentials_json='{"private_key": "x"}')
    path = tmp_path / "sheetsync.toml"
    path.write_text(cfg.render(config))
    again = cfg.load(path, env={})
    assert (again.template, again.timezone, again.secrets_for("generic")) == ("zh", "Asia/Shanghai", ("s3cret",))
    assert again.field_map == {"Company size": "Level"}
    assert "private_key" not in path.read_text()


def test_every_setting_is_documented_in_the_readme():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    for key in cfg.KEYS:
        if key.table:
            assert f"`[{key.name}]`" in readme, key.name
        else:
            assert f"`{key.name}`" in readme and f"`{key.env}`" in readme, key.name
