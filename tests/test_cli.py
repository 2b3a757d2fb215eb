"""The sheetsync command as a new user runs it."""

from __future__ import annotations

import os
import stat

import openpyxl

from sheetsync import config as cfg
from sheetsync.cli import main


def test_every_command_has_help(runner):
    for name, command in main.commands.items():
        assert command.help, name
        assert runner.invoke(main, [name, "--help"]).exit_code == 0


def test_init_then_sync_fills_the_workbook(runner, tmp_path):
    first = runner.invoke(main, ["init"])
    assert first.exit_code == 0, first.output
    assert "Webhook secrets, one per source (shown once" in first.output
    assert (tmp_path / "sheetsync.toml").exists()
    result = runner.invoke(main, ["sync"])
    assert result.exit_code == 0, result.output
    assert "10 new IDs" in result.output
    ws = openpyxl.load_workbook(tmp_path / "pipeline.xlsx")["Opportunities"]
    assert all(ws.cell(row=r, column=1).value.startswith("OPP-") for r in range(2, 8))


def test_init_again_keeps_data_and_the_secret(runner, tmp_path):
    runner.invoke(main, ["init"])
    runner.invoke(main, ["sync"])
    config_text = (tmp_path / "sheetsync.toml").read_text()
    ids = [c.value for c in openpyxl.load_workbook(tmp_path / "pipeline.xlsx")["Opportunities"]["A"]]
    again = runner.invoke(main, ["init"])
    assert again.exit_code == 0, again.output
    assert "nothing to add" in again.output
    assert "Webhook secret" not in again.output and "API token" not in again.output
    assert (tmp_path / "sheetsync.toml").read_text() == config_text
    assert [c.value for c in openpyxl.load_workbook(tmp_path / "pipeline.xlsx")["Opportunities"]["A"]] == ids


def test_chinese_template(runner, tmp_path):
    assert runner.invoke(main, ["init", "--template", "zh"]).exit_code == 0
    wb = openpyxl.load_workbook(tmp_path / "pipeline.xlsx")
    assert wb.sheetnames == ["商机", "跟进记录", "团队", "分配规则", "阶段", "提醒", "汇总", "变更记录", "趋势", "客户"]
    assert 'timezone = "Asia/Shanghai"' in (tmp_path / "sheetsync.toml").read_text()


def test_sync_without_a_workbook_says_to_run_init(runner):
    result = runner.invoke(main, ["sync"])
    assert result.exit_code == 1
    assert "run `sheetsync init`" in result.output


def test_a_bad_setting_is_a_clear_error_not_a_traceback(runner, monkeypatch):
    monkeypatch.setenv("SHEETSYNC_TIMEZONE", "Mars/Olympus")
    result = runner.invoke(main, ["sync"])
    assert result.exit_code == 1
    assert "timezone 'Mars/Olympus' is not a known zone" in result.output
    assert "Traceback" not in result.output


def test_init_gives_every_source_its_own_secret_and_an_api_token_in_a_private_file(runner, tmp_path):
    result = runner.invoke(main, ["init"])
    assert result.exit_code == 0, result.output
    config = cfg.load(tmp_path / "sheetsync.toml", env={})
    secrets = [config.secrets_for(source) for source in cfg.SOURCES]
    assert all(len(s) == 1 and len(s[0]) >= 32 for s in secrets)
    assert len({s[0] for s in secrets}) == len(cfg.SOURCES)
    assert len(config.api_token) >= 32 and config.api_token in result.output
    for source, (secret,) in zip(cfg.SOURCES, secrets, strict=True):
        assert secret in result.output and source in result.output
    assert "Script properties > SHEETSYNC_SECRET" in result.output and "数据推送" in result.output
    if os.name == "posix":
        assert stat.S_IMODE((tmp_path / "sheetsync.toml").stat().st_mode) == 0o600


def test_init_adds_secrets_only_for_sources_that_lack_one(runner, tmp_path):
    (tmp_path / "sheetsync.toml").write_text('allow_unsigned = ["tally"]\n[secrets]\ngeneric = ["mine-0123456789"]\n')
    result = runner.invoke(main, ["init"])
    assert result.exit_code == 0, result.output
    config = cfg.load(tmp_path / "sheetsync.toml", env={})
    assert config.secrets_for("generic") == ("mine-0123456789",)
    assert config.secrets_for("tally") == ()
    assert config.secrets_for("typeform") and "typeform" in result.output
