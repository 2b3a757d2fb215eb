"""The ports module keeps the core light: importing the planner pulls in no adapter, config or web app."""

from __future__ import annotations

import subprocess
import sys

import pytest


def loaded_after(statement: str) -> set[str]:
    """Return the modules a fresh interpreter has loaded after running `statement`."""
    code = f"import sys; {statement}; print('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return set(out.split())


@pytest.mark.parametrize("statement", [
    "import sheetsync.ports",
    "import sheetsync.core.plan, sheetsync.core.intake, sheetsync.core.summary",
])
def test_the_core_and_the_ports_import_no_adapter_or_config(statement):
    loaded = loaded_after(statement)
    heavy = {"sheetsync.config", "tomllib", "zoneinfo", "sheetsync.stores", "openpyxl", "gspread", "sqlite3",
             "psycopg", "flask", "webhook"}
    assert not loaded & heavy


def test_the_scheduler_side_does_not_import_the_web_app():
    assert not {m for m in loaded_after("import sheetsync.runner") if m == "webhook" or m.startswith("webhook.")}


def test_old_store_names_still_import_from_stores_base():
    from sheetsync import ports
    from sheetsync.stores import base

    assert base.WriteBatch is ports.WriteBatch and base.StoreError is ports.StoreError


def test_adapters_implement_the_ports(tmp_path):
    from sheetsync.intake.queue import IntakeQueue
    from sheetsync.ports import Queue, StateStore
    from sheetsync.state import State

    queue, state = IntakeQueue(tmp_path), State(tmp_path)
    try:
        assert isinstance(queue, Queue) and isinstance(state, StateStore)
    finally:
        queue.close()
        state.close()
