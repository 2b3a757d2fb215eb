"""Several pipelines in one deployment: [workspaces.<name>] sections, their own hooks, status and syncs."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from datetime import datetime, timezone

import openpyxl
import pytest
from click.testing import CliRunner

from sheetsync.backends import SqliteBackend
from sheetsync.cli import main
from sheetsync.config import ConfigError, load
from sheetsync.pipelines import open_pipelines
from sheetsync.runner import _guarded_flush
from webhook import EXTENSION, create_app
from webhook.signing import sheetsync_header

CONFIG = """
workbook = "default.xlsx"
state_dir = "state"
[secrets]
generic = ["top-secret"]
[workspaces.east]
workbook = "east.xlsx"
template = "zh"
timezone = "Asia/Shanghai"
[workspaces.east.secrets]
generic = ["east-secret"]
[workspaces.west]
workbook = "west.xlsx"
"""


@pytest.fixture
def config(tmp_path, monkeypatch):
    for var in ("SHEETSYNC_CONFIG", "SHEETSYNC_WORKBOOK", "SHEETSYNC_STORE", "SHEETSYNC_TEMPLATE",
                "SHEETSYNC_DATABASE_URL", "SHEETSYNC_STATE_DIR"):
        monkeypatch.delenv(var, raising=False)
    path = tmp_path / "sheetsync.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return load(path)


def test_a_workspace_overrides_the_top_level_and_keeps_the_rest(config, tmp_path):
    assert config.workspace_names() == ("east", "west")
    east, west = config.workspace("east"), config.workspace("west")
    assert (east.template, east.timezone, east.workbook_path) == ("zh", "Asia/Shanghai", tmp_path / "east.xlsx")
    assert east.secrets_for("generic") == ("east-secret",) and west.secrets_for("generic") == ("top-secret",)
    assert west.template == "en" and west.state_path == tmp_path / "state"
    with pytest.raises(ConfigError, match="no workspace named 'north'.*east, west"):
        config.workspace("north")


@pytest.mark.parametrize("section, message", [
    ('[workspaces.east]\ndatabase_url = "postgresql://x@y/z"', "belong to the whole deployment"),
    ('[workspaces."East Branch"]\nworkbook = "e.xlsx"', "cannot be used in a URL"),
    ('[workspaces.east]\nstore = "paper"', r"store must be one of excel, google.*\[workspaces.east\]"),
])
def test_a_bad_workspace_section_is_refused_with_the_fix(tmp_path, section, message):
    path = tmp_path / "sheetsync.toml"
    path.write_text(section, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load(path, env={})


def post(client, path, secret, payload):
    body = json.dumps(payload).encode()
    headers = {"X-Sheetsync-Signature": sheetsync_header(secret, body, int(time.time())),
               "Content-Type": "application/json"}
    return client.post(path, data=body, headers=headers)


def test_each_workspace_has_its_own_hook_queue_secret_and_status(config):
    app = create_app(replace(config, api_token="workspace-status-token"))
    client = app.test_client()
    state = app.extensions[EXTENSION]
    try:
        assert post(client, "/hooks/east/generic", "east-secret", {"Customer": "East Co"}).status_code == 202
        assert post(client, "/hooks/west/generic", "top-secret", {"Customer": "West Co"}).status_code == 202
        assert post(client, "/hooks/east/generic", "top-secret", {"Customer": "Wrong"}).status_code == 401
        unknown = post(client, "/hooks/north/generic", "top-secret", {"Customer": "N"})
        assert unknown.status_code == 404 and "east, west" in unknown.json["message"]
        bare = post(client, "/hooks/generic", "top-secret", {"Customer": "N"})
        assert bare.status_code == 404 and "/hooks/<workspace>/generic" in bare.json["message"]
        east = state.pipelines["east"].queue.items()
        assert [i["fields"]["customer"] for i in east] == ["East Co"]
        assert len(state.pipelines["west"].queue.items()) == 1
        status = client.get("/api/status", headers={"Authorization": "Bearer workspace-status-token"}).json
        assert set(status["workspaces"]) == {"east", "west"}
        assert status["workspaces"]["east"]["queue"]["depth"] == 1
    finally:
        state.close()


def test_a_broken_workspace_never_stops_another(config, tmp_path):
    runner = CliRunner()
    for name in ("east", "west"):
        assert runner.invoke(main, ["--config", str(tmp_path / "sheetsync.toml"), "init"],
                             env={"SHEETSYNC_WORKBOOK": f"{name}.xlsx"}).exit_code == 0
    (tmp_path / "east.xlsx").write_text("not a workbook")
    backend = SqliteBackend(config.state_path)
    pipelines = {p.name: p for p in open_pipelines(config, backend)}
    now = datetime.now(timezone.utc)
    from sheetsync.ports import Incoming

    for p in pipelines.values():
        p.queue.submit(Incoming("generic", "create", {"customer": f"{p.name} lead"}, p.name.encode()), now)
        assert p.lock.acquire()
    assert _guarded_flush(pipelines["east"], lambda: now) is not None  # tried, failed, recorded
    result = _guarded_flush(pipelines["west"], lambda: now)
    assert result is not None and len(result.landed) == 1
    assert pipelines["east"].queue.stats(now)["last_error"]
    for p in pipelines.values():
        p.close()


def test_sync_one_workspace_by_name(config, tmp_path):
    runner = CliRunner()
    cfg = str(tmp_path / "sheetsync.toml")
    for name in ("east", "west"):
        runner.invoke(main, ["--config", cfg, "init"], env={"SHEETSYNC_WORKBOOK": f"{name}.xlsx"})
    result = runner.invoke(main, ["--config", cfg, "sync", "--workspace", "west"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("[west] Synced workbook") and "east" not in result.output
    assert openpyxl.load_workbook(tmp_path / "west.xlsx")["Opportunities"]["A2"].value.startswith("OPP-")
    every = runner.invoke(main, ["--config", cfg, "sync"])
    assert "[east] 已同步" in every.output and "[west] Synced" in every.output  # east is a zh workspace
    wrong = runner.invoke(main, ["--config", cfg, "sync", "--workspace", "north"])
    assert wrong.exit_code != 0 and "no workspace named 'north'" in wrong.output
