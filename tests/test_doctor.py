"""`sheetsync doctor`: every check fails once, with its message and fix; `status` and `digest --preview`."""

from __future__ import annotations

import json
import os
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from sheetsync import config as cfg
from sheetsync import doctor as doc
from sheetsync.cli import main
from sheetsync.core.workbook import SYNC_TABS
from sheetsync.intake.queue import Incoming, IntakeQueue
from sheetsync.notify.send import SendResult
from sheetsync.ports import Snapshot, StoreError
from sheetsync.state import State

NOW = datetime(2026, 11, 28, 9, 30, tzinfo=timezone.utc)


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A folder where `sheetsync init` and one sync ran, with no SHEETSYNC_* variables around."""
    monkeypatch.chdir(tmp_path)
    for var in [v for v in os.environ if v.startswith("SHEETSYNC_")]:
        monkeypatch.delenv(var)
    runner = CliRunner()
    assert runner.invoke(main, ["init"]).exit_code == 0
    return tmp_path


def load(home: Path, **env: str):
    return lambda: cfg.load(home / "sheetsync.toml", env=env)


def run(home: Path, send_test=False, sender=None, **env: str) -> dict[str, doc.Check]:
    kwargs = {"sender": sender} if sender else {}
    checks = doc.diagnose(load(home, **env), send_test=send_test, now=NOW, **kwargs)
    return {c.name: c for c in checks}


def set_team(home: Path, column: str, values: dict[str, str]) -> None:
    wb = openpyxl.load_workbook(home / "pipeline.xlsx")
    ws = wb["Team"]
    headers = [c.value for c in ws[1]]
    for row in range(2, ws.max_row + 1):
        name = ws.cell(row, headers.index("Name") + 1).value
        if name in values:
            ws.cell(row, headers.index(column) + 1).value = values[name]
    wb.save(home / "pipeline.xlsx")


def test_a_fresh_setup_passes_and_says_notifications_are_off(home):
    checks = run(home)
    assert not [c for c in checks.values() if c.failed]
    assert checks["notifications"].result == doc.INFO
    assert "IM id" in checks["notifications"].fix
    result = CliRunner().invoke(main, ["doctor"])
    assert result.exit_code == 0, result.output
    assert f"PASS  Tabs and headers: all {len(SYNC_TABS)} tabs found" in result.output
    assert result.output.strip().endswith("checks passed.")


def test_no_config_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (check, *_) = doc.diagnose(lambda: cfg.load(None, env={}), now=NOW)
    assert check.failed and "no sheetsync.toml in" in check.text
    assert "Run `sheetsync init` here" in check.fix


def test_a_bad_setting(home):
    (check,) = doc.diagnose(load(home, SHEETSYNC_NOTIFY_DAILY_AT="9 o'clock"), now=NOW)
    assert check.failed and "notify_daily_at must be a time of day" in check.text
    assert "SHEETSYNC_" in check.fix


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_a_config_file_others_can_read(home):
    (home / "sheetsync.toml").chmod(0o644)
    check = run(home)["config"]
    assert check.failed and "can be read by other users (mode 0o644)" in check.text
    assert check.fix == f"Run `chmod 600 {home / 'sheetsync.toml'}`."


def test_google_credentials_file_missing(home):
    check = run(home, SHEETSYNC_STORE="google", SHEETSYNC_GOOGLE_SPREADSHEET="abc",
                SHEETSYNC_GOOGLE_CREDENTIALS="missing.json")["credentials"]
    assert check.failed and "missing.json does not exist" in check.text
    assert "google_credentials" in check.fix


def test_google_credentials_not_configured(home):
    check = run(home, SHEETSYNC_STORE="google", SHEETSYNC_GOOGLE_SPREADSHEET="abc")["credentials"]
    assert check.failed and check.text == "Credentials: no Google service-account key is configured."


def test_the_workbook_is_missing(home):
    (home / "pipeline.xlsx").unlink()
    checks = run(home)
    assert checks["spreadsheet"].failed and "pipeline.xlsx does not exist" in checks["spreadsheet"].text
    assert checks["spreadsheet"].fix.startswith("Run `sheetsync init`")
    assert checks["tabs"].failed and checks["tabs"].fix == "Fix the spreadsheet line above first."


def test_the_workbook_is_read_only(home, monkeypatch):
    monkeypatch.setattr(doc.os, "access", lambda path, mode: False)  # the suite may run as root
    check = run(home)["spreadsheet"]
    assert check.failed and "is read-only" in check.text and "writable" in check.fix


def test_a_spreadsheet_not_shared_with_the_service_account_names_the_email(home, monkeypatch):
    class Refused:
        def read(self, tabs=None):
            raise StoreError("Google refused access to spreadsheet abc: share the spreadsheet with "
                             "bot@proj.iam.gserviceaccount.com (Editor) using the Share button.")

        def describe(self):
            return "Google Sheet abc"

    monkeypatch.setattr(doc, "open_store", lambda config: Refused())
    config = cfg.load(home / "sheetsync.toml", env={"SHEETSYNC_STORE": "google"})
    check, snapshot = doc.check_store(config, "en", "bot@proj.iam.gserviceaccount.com")
    assert check.failed and snapshot is None
    assert check.fix == "Open the spreadsheet, press Share and add bot@proj.iam.gserviceaccount.com as Editor."


def test_a_missing_header(home):
    wb = openpyxl.load_workbook(home / "pipeline.xlsx")
    ws = wb["Opportunities"]
    for cell in ws[1]:
        if cell.value == "Owner":
            cell.value = "Rep name"
    wb.save(home / "pipeline.xlsx")
    check = run(home)["tabs"]
    assert check.failed and "Column 'Owner' (负责人) is missing from 'Opportunities'" in check.text
    assert "sheetsync init" in check.fix


def submit(home: Path, received: datetime) -> Path:
    config = cfg.load(home / "sheetsync.toml", env={})
    queue = IntakeQueue.for_config(config)
    queue.submit(Incoming(source="generic", kind="create", fields={"customer": "Acme"}, raw=b"{}",
                          content_type="application/json"), received)
    queue.close()
    return next(config.state_path.glob("intake*.db"))


def test_queue_items_needing_attention(home):
    db = sqlite3.connect(submit(home, NOW))
    with db:
        db.execute("UPDATE items SET status = 'attention', last_error = 'Customer is required.', attention_at = ?",
                   (NOW.timestamp(),))
    db.close()
    check = run(home)["queue"]
    assert check.failed and "1 form submissions need attention" in check.text
    assert "`sheetsync queue list`" in check.fix


def test_a_queue_nobody_flushes(home):
    submit(home, NOW - timedelta(minutes=30))
    check = run(home)["queue"]
    assert check.failed and "the oldest for 30 minutes: no flush is running" in check.text
    assert "sheetsync serve" in check.fix


def test_a_source_without_a_secret(home):
    text = (home / "sheetsync.toml").read_text()
    lines = [line for line in text.splitlines() if not line.startswith('"tally" ')]
    (home / "sheetsync.toml").write_text("\n".join(lines) + "\n")
    (home / "sheetsync.toml").chmod(0o600)
    checks = run(home)
    assert checks["secret tally"].failed
    assert "every post to /hooks/tally is refused" in checks["secret tally"].text
    assert "Run `sheetsync init`" in checks["secret tally"].fix
    assert not checks["secret generic"].failed


def test_a_clock_behind_the_last_sync(home):
    state = State(cfg.load(home / "sheetsync.toml", env={}).state_path)
    state.save(last_sync=(NOW + timedelta(hours=2)).isoformat())
    state.close()
    check = run(home)["clock"]
    assert check.failed and "earlier than the last sync it recorded" in check.text
    assert "NTP" in check.fix


def test_a_spreadsheet_in_another_timezone(home):
    config = cfg.load(home / "sheetsync.toml", env={})
    check = doc.check_clock(config, "en", NOW, Snapshot({}, timezone="Asia/Shanghai"))
    assert check.failed and "the spreadsheet's timezone is Asia/Shanghai but sheetsync uses UTC" in check.text
    assert check.fix.startswith('Set timezone = "Asia/Shanghai"')


def test_a_bad_channel_and_a_missing_manager(home):
    set_team(home, "IM id", {"Alice Chen": "alice_wechat", "Bob Wang": "wecombot://bob-robot-key"})
    checks = run(home)
    alice = checks["channel Alice Chen"]
    assert alice.failed and "Alice Chen's IM id 'alice_wechat' is not a channel URL" in alice.text
    assert "README: Notifications" in alice.fix
    assert checks["channel Bob Wang"].failed  # his plain Email needs notify_smtp
    assert "notify_smtp" in checks["channel Bob Wang"].text
    assert checks["channel manager"].result == doc.INFO
    assert "notify_manager" in checks["channel manager"].fix


def test_send_test_reports_each_channel(home):
    set_team(home, "IM id", {"Alice Chen": "wecombot://alice-robot-key", "Bob Wang": "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ"})
    set_team(home, "Email", {name: "" for name in ("Alice Chen", "Bob Wang", "Carol Zhang", "Dan Liu", "Erin Zhou")})
    sent = []

    def sender(target, title, body):
        sent.append((target, title))
        return SendResult(False, "slack://…i7FQ: HTTP 404") if "slack" in target else SendResult(True)

    checks = run(home, send_test=True, sender=sender, SHEETSYNC_NOTIFY_MANAGER="wecombot://manager-robot")
    assert checks["channel Alice Chen"].result == doc.PASS
    assert "test message sent to wecombot://…-key" in checks["channel Alice Chen"].text
    bob = checks["channel Bob Wang"]
    assert bob.failed and "the test message failed: slack://…i7FQ: HTTP 404" in bob.text
    assert "SECRET@TOKEN" in bob.fix
    assert checks["channel manager"].result == doc.PASS
    assert {t for t, _ in sent} == {"wecombot://alice-robot-key", "wecombot://manager-robot",
                                    "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ"}
    assert all(title == "sheetsync test message" for _, title in sent)


def test_doctor_exits_non_zero_and_prints_the_fix(home):
    (home / "pipeline.xlsx").unlink()
    result = CliRunner().invoke(main, ["doctor"])
    assert result.exit_code == 1
    assert "FAIL  Spreadsheet: the workbook" in result.output
    assert "      Fix: Run `sheetsync init` to create it" in result.output
    assert "2 of 14 checks failed" in result.output or "checks failed" in result.output
    as_json = CliRunner().invoke(main, ["doctor", "--json"])
    assert {"name": "tabs", "result": "fail"}.items() <= json.loads(as_json.output)[3].items()


def test_status_shows_queue_sync_notifications_and_funnel(home):
    runner = CliRunner()
    assert runner.invoke(main, ["sync"]).exit_code == 0
    result = runner.invoke(main, ["status"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "Queue: 0 waiting, 0 need attention, oldest -."
    assert any(line.startswith("Last sync: ") and "10 opportunities" in line for line in lines)
    assert "Notifications: 0 waiting (0 retrying), 0 sent, 0 failed." in lines
    funnel = lines[lines.index(next(line for line in lines if line.startswith("Funnel"))) + 1:]
    assert [line.split()[0] for line in funnel] == ["Lead", "Qualified", "Quote", "Negotiation", "Won", "Lost"]
    assert funnel[1].split()[1:] == ["2", "198,000"]


def test_digest_preview_prints_what_would_be_sent(home):
    runner = CliRunner()
    set_team(home, "IM id", {"Carol Zhang": "wecombot://carol-robot-key"})
    assert runner.invoke(main, ["sync"]).exit_code == 0
    result = runner.invoke(main, ["digest", "--preview", "--to", "carol zhang"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "=== To Carol Zhang via wecombot://…-key"
    assert "    (!) Carol Zhang's Email carol@example.com cannot be used until notify_smtp is set" in lines[1]
    assert lines[2].startswith("Your pipeline for ") and lines[2].endswith(": 1 to do")
    assert lines[4:6] == ["Due today (1)", lines[5]] and "Blue Sky Retail: Follow-up due today" in lines[5]
    manager = runner.invoke(main, ["digest", "--preview", "--to", "manager"])
    assert "Weekly pipeline review" in manager.output and "no channel (would not be sent)" in manager.output
    assert runner.invoke(main, ["digest", "--preview", "--to", "Nobody"]).exit_code == 1
    assert "digest --preview" in runner.invoke(main, ["digest"]).output
