"""Settings: the file init writes, environment overrides and clear errors for bad values."""

from __future__ import annotations

import re
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
    ({"SHEETSYNC_SYNC_INTERVAL": "0"}, "sync_interval must be a whole number above 0, not '0'"),
    ({"SHEETSYNC_PORT": "http"}, "port must be a whole number above 0, not 'http'"),
])
def test_bad_values_name_the_setting_and_the_fix(tmp_path, monkeypatch, env, message):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(cfg.ConfigError, match=re.escape(message)):
        cfg.load(env=env)


def test_unknown_keys_and_broken_files_are_refused(tmp_path):
    path = tmp_path / "sheetsync.toml"
    path.write_text('workbok = "x.xlsx"\n')
    with pytest.raises(cfg.ConfigError, match="Unknown setting 'workbok'"):
        cfg.load(path, env={})
    path.write_text('workbook = "x.xlsx\n')
    with pytest.raises(cfg.ConfigError, match="is not valid TOML"):
        cfg.load(path, env={})
    with pytest.raises(cfg.ConfigError, match="does not exist"):
        cfg.load(tmp_path / "missing.toml", env={})


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
        assert f"`{key.name}`" in readme and f"`{key.env}`" in readme, key.name
