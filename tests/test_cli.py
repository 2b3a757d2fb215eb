"""The sheetsync command as a new user runs it."""

from __future__ import annotations

import openpyxl
import pytest
from click.testing import CliRunner

from sheetsync.cli import main


@pytest.fixture
def runner(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for var in ("SHEETSYNC_CONFIG", "SHEETSYNC_WORKBOOK", "SHEETSYNC_STORE", "SHEETSYNC_TEMPLATE"):
        monkeypatch.delenv(var, raising=False)
    return CliRunner()


def test_every_command_has_help(runner):
    for name, command in main.commands.items():
        assert command.help, name
        assert runner.invoke(main, [name, "--help"]).exit_code == 0


def test_init_then_sync_fills_the_workbook(runner, tmp_path):
    first = runner.invoke(main, ["init"])
    assert first.exit_code == 0, first.output
    assert "Webhook secret (shown once" in first.output
    assert (tmp_path / "sheetsync.toml").exists()
    result = runner.invoke(main, ["sync"])
    assert result.exit_code == 0, result.output
    assert "6 new IDs" in result.output
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
    assert "Webhook secret" not in again.output
    assert (tmp_path / "sheetsync.toml").read_text() == config_text
    assert [c.value for c in openpyxl.load_workbook(tmp_path / "pipeline.xlsx")["Opportunities"]["A"]] == ids


def test_chinese_template(runner, tmp_path):
    assert runner.invoke(main, ["init", "--template", "zh"]).exit_code == 0
    wb = openpyxl.load_workbook(tmp_path / "pipeline.xlsx")
    assert wb.sheetnames == ["商机", "跟进记录", "团队", "分配规则", "阶段", "提醒", "汇总", "变更记录"]
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
