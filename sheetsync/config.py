"""Settings: the sheetsync.toml file `init` writes, then SHEETSYNC_* environment overrides."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

CONFIG_FILE = "sheetsync.toml"
"""The file `init` writes in the current directory; SHEETSYNC_CONFIG points elsewhere."""
ENV_PREFIX = "SHEETSYNC_"
SOURCES = ("generic", "google-forms", "jiandaoyun", "typeform", "tally", "followup")
"""Webhook sources; each may have its own secrets."""


class ConfigError(Exception):
    """A setting has a value sheetsync cannot use; the message names the setting and the fix."""


def _positive_int(name: str) -> Callable[[Any], int]:
    def parse(value: Any) -> int:
        try:
            number = int(str(value).strip())
        except ValueError:
            number = 0
        if number <= 0 or isinstance(value, bool):
            raise ConfigError(f"{name} must be a whole number above 0, not {value!r}.")
        return number
    return parse


def _choice(name: str, choices: tuple[str, ...]) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        text = str(value).strip().lower()
        if text not in choices:
            raise ConfigError(f"{name} must be one of {', '.join(choices)}, not {value!r}.")
        return text
    return parse


def _timezone(value: Any) -> str:
    try:
        ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"timezone {value!r} is not a known zone: use a name such as Asia/Shanghai, "
                          "Europe/London or UTC.") from exc
    return str(value)


def _text(value: Any) -> str:
    return str(value).strip()


@dataclass(frozen=True)
class Key:
    """One setting: its file key, environment variable, parser and meaning."""

    name: str
    parse: Callable[[Any], Any]
    doc: str
    secret: bool = False

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.name.upper()


KEYS: tuple[Key, ...] = (
    Key("store", _choice("store", ("excel", "google")), "Where the pipeline lives: excel (local workbook) or google."),
    Key("workbook", _text, "Path of the local workbook (store = excel), relative to the config file."),
    Key("template", _choice("template", ("en", "zh")), "Workbook language for new tabs and messages: en or zh."),
    Key("timezone", _timezone, "The team's timezone (IANA name); dates in the sheet are read and written in it."),
    Key("state_dir", _text, "Folder for local state (intake queue, round-robin position, last seen values)."),
    Key("sync_interval", _positive_int("sync_interval"), "Seconds between sync cycles in serve/worker."),
    Key("flush_interval", _positive_int("flush_interval"), "Seconds between intake flushes in serve/worker."),
    Key("host", _text, "Address `sheetsync serve` listens on."),
    Key("port", _positive_int("port"), "Port `sheetsync serve` listens on."),
    Key("max_body", _positive_int("max_body"), "Largest webhook body accepted, in bytes (413 beyond)."),
    Key("google_spreadsheet", _text, "Google Sheet ID or full URL (store = google)."),
    Key("google_credentials", _text, "Path of the service-account JSON key file."),
    Key("google_credentials_json", _text, "The service-account JSON itself (for hosts with no files).", secret=True),
    Key("google_api_endpoint", _text,
        "Send Sheets API requests to another base URL (emulator or proxy); loopback needs no credentials."),
)
KEYS_BY_NAME = {k.name: k for k in KEYS}


@dataclass(frozen=True)
class Config:
    """Every setting sheetsync reads, resolved and checked."""

    store: str = "excel"
    workbook: str = "pipeline.xlsx"
    template: str = "en"
    timezone: str = "UTC"
    state_dir: str = ".sheetsync"
    sync_interval: int = 300
    flush_interval: int = 5
    host: str = "127.0.0.1"
    port: int = 8080
    max_body: int = 65536
    google_spreadsheet: str = ""
    google_credentials: str = ""
    google_credentials_json: str = ""
    google_api_endpoint: str = ""
    secrets: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Webhook secrets per source; several per source let a secret be rotated."""
    field_map: Mapping[str, str] = field(default_factory=dict)
    """Extra form field names mapped to Opportunities columns, e.g. {"Company size": "Level"}."""
    base_dir: Path = Path(".")
    """Directory relative paths are resolved against (the config file's folder)."""
    source: Path | None = None
    """The config file read, if any."""

    @property
    def workbook_path(self) -> Path:
        return self._resolve(self.workbook)

    @property
    def state_path(self) -> Path:
        return self._resolve(self.state_dir)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def secrets_for(self, source: str) -> tuple[str, ...]:
        return tuple(self.secrets.get(source, ()))

    def _resolve(self, path: str) -> Path:
        p = Path(path).expanduser()
        return p if p.is_absolute() else self.base_dir / p

    def with_values(self, **values: Any) -> Config:
        """A copy with some settings replaced (each parsed and checked like the file's)."""
        return replace(self, **_parse_values(values, "argument"))


def _parse_values(values: Mapping[str, Any], origin: str) -> dict[str, Any]:
    parsed: dict[str, Any] = {}
    for name, raw in values.items():
        key = KEYS_BY_NAME.get(name)
        if key is None:
            known = ", ".join(k.name for k in KEYS)
            raise ConfigError(f"Unknown setting '{name}' in {origin}: known settings are {known}, "
                              "[secrets] and [field_map].")
        try:
            parsed[name] = key.parse(raw)
        except ConfigError as exc:
            raise ConfigError(f"{exc} (from {origin})") from None
    return parsed


def _split(value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, (list, tuple)) else str(value).split(",")
    return tuple(str(s).strip() for s in items if str(s).strip())


def load(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Read the config file (if present) and apply SHEETSYNC_* overrides from `env`."""
    env = os.environ if env is None else env
    explicit = path or env.get(ENV_PREFIX + "CONFIG")
    file = Path(explicit or CONFIG_FILE).expanduser()
    data: dict[str, Any] = {}
    if file.exists():
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{file} is not valid TOML ({exc}): fix the line it names or delete the file "
                              "and run `sheetsync init` again.") from exc
    elif explicit:
        raise ConfigError(f"Config file {file} does not exist: run `sheetsync init` or fix SHEETSYNC_CONFIG.")
    secrets = {k: _split(v) for k, v in dict(data.pop("secrets", {})).items()}
    field_map = {str(k): str(v) for k, v in dict(data.pop("field_map", {})).items()}
    values = _parse_values(data, str(file))
    for key in KEYS:
        if key.env in env:
            values.update(_parse_values({key.name: env[key.env]}, key.env))
    for source in SOURCES:
        var = ENV_PREFIX + "SECRET_" + source.upper().replace("-", "_")
        if env.get(var):
            secrets[source] = _split(env[var])
    unknown = set(secrets) - set(SOURCES)
    if unknown:
        raise ConfigError(f"[secrets] in {file} names unknown source(s) {', '.join(sorted(unknown))}: "
                          f"use {', '.join(SOURCES)}.")
    base = file.resolve().parent if file.exists() else Path.cwd()
    return Config(**values, secrets=secrets, field_map=field_map, base_dir=base,
                  source=file if file.exists() else None)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def render(config: Config) -> str:
    """The config as a commented TOML file, secrets included (the file stays on this machine)."""
    lines = ["# sheetsync settings. Every key can be overridden by SHEETSYNC_<KEY> in the environment.", ""]
    for key in KEYS:
        if key.secret:
            continue
        lines.append(f"# {key.doc}")
        lines.append(f"{key.name} = {_toml_value(getattr(config, key.name))}")
    lines += ["", "# Webhook secrets per source (a list lets you rotate: add the new one, then drop the old).",
              "[secrets]"]
    for source, values in sorted(config.secrets.items()):
        lines.append(f"{_toml_value(source)} = {_toml_value(list(values))}")
    lines += ["", "# Extra form field names mapped to Opportunities columns.", "[field_map]"]
    for name, column in sorted(config.field_map.items()):
        lines.append(f"{_toml_value(name)} = {_toml_value(column)}")
    return "\n".join(lines) + "\n"
