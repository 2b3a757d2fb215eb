"""Local state kept next to the workbook: round-robin cursors and how each row looked last cycle."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .ports import StateStore

_SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS seen (id TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class State(StateStore):
    """A small SQLite file (state.db) in the state directory; every save is one transaction."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / "state.db"
        self._db = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)

    def get(self, name: str, default: Any = None) -> Any:
        row = self._db.execute("SELECT value FROM kv WHERE name = ?", (name,)).fetchone()
        return default if row is None else json.loads(row[0])

    def seen(self) -> dict[str, dict[str, Any]]:
        """Each opportunity ID's tracked values as of the last successful cycle."""
        return {k: json.loads(val) for k, val in self._db.execute("SELECT id, value FROM seen")}

    def save(self, *, cursors: Mapping[str, Any] | None = None, seen: Mapping[str, Mapping[str, Any]] | None = None,
             **values: Any) -> None:
        """Store the given parts in one transaction; `seen` replaces the whole table."""
        with self._db:
            if cursors is not None:
                values["cursors"] = dict(cursors)
            for name, value in values.items():
                self._db.execute("INSERT INTO kv (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE "
                                 "SET value = excluded.value", (name, json.dumps(value, default=str)))
            if seen is not None:
                self._db.execute("DELETE FROM seen")
                self._db.executemany("INSERT INTO seen (id, value) VALUES (?, ?)",
                                     ((k, json.dumps(val, default=str)) for k, val in seen.items()))

    def close(self) -> None:
        self._db.close()
