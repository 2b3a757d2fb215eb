"""Settings: the sheetsync.toml file `init` writes, then SHEETSYNC_* environment overrides."""

from __future__ import annotations

import difflib
import json
import logging
import os
import re
import stat
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .notify import schedule

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

log = logging.getLogger(__name__)

CONFIG_FILE = "sheetsync.toml"
"""The file `init` writes in the current directory; SHEETSYNC_CONFIG points elsewhere."""
ENV_PREFIX = "SHEETSYNC_"
PARENT_ENV = ENV_PREFIX + "PARENT_PID"
"""Set by `serve` (worker_process = true) on the worker it starts: the worker stops when that process is gone."""
SOURCES = ("generic", "google-forms", "jiandaoyun", "typeform", "tally", "followup")
"""Webhook sources; each may have its own secrets."""


class ConfigError(Exception):
    """A setting has a value sheetsync cannot use; the message names the setting and the fix."""


# Value parsers. Each takes the raw value (from TOML: any type; from the environment: a string), returns the
# checked value or raises ConfigError naming the setting. To add a setting, add a Key to KEYS below (and a
# field to Config, and a row to the README's Configuration table).

def _is_number(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _whole_number(value: Any) -> int | None:
    if _is_number(value):
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        return int(value.strip())
    return None


def _int_range(name: str, low: int, high: int, unit: str = "") -> Callable[[Any], int]:
    """A whole number from low to high inclusive (a string of digits from the environment is fine)."""
    def parse(value: Any) -> int:
        number = _whole_number(value)
        if number is None or not low <= number <= high:
            span = f"from {low} to {high}" + (f" {unit}" if unit else "")
            raise ConfigError(f"{name} must be a whole number {span}, not {value!r}.")
        return number
    return parse


def _positive_int(name: str) -> Callable[[Any], int]:
    def parse(value: Any) -> int:
        number = _whole_number(value)
        if number is None or number <= 0:
            raise ConfigError(f"{name} must be a whole number above 0, not {value!r}.")
        return number
    return parse


def _choice(name: str, choices: tuple[str, ...]) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        text = str(value).strip().lower() if isinstance(value, str) else None
        if text not in choices:
            raise ConfigError(f"{name} must be one of {', '.join(choices)}, not {value!r}.")
        return text
    return parse


def _boolean(name: str) -> Callable[[Any], bool]:
    words = {"true": True, "yes": True, "on": True, "1": True, "false": False, "no": False, "off": False, "0": False}

    def parse(value: Any) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in words:
            return words[value.strip().lower()]
        raise ConfigError(f"{name} must be true or false, not {value!r}.")
    return parse


def _timezone(value: Any) -> str:
    try:
        ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"timezone {value!r} is not a known zone: use a name such as Asia/Shanghai, "
                          "Europe/London or UTC.") from exc
    return str(value)


def _share(value: Any) -> float:
    try:
        number = float(str(value).strip())
    except ValueError:
        number = -1.0
    if not 0 <= number <= 1 or isinstance(value, bool):
        raise ConfigError(f"owner_reassign_share must be a number from 0 to 1 (e.g. 0.2 for 20%), not {value!r}.")
    return number


def _text(value: Any) -> str:
    if isinstance(value, (dict, list, tuple, bool)):
        raise ConfigError(f"expected text in quotes, not {value!r}.")
    return str(value).strip()


def _database_url(value: Any) -> str:
    text = _text(value)
    if text and not text.lower().startswith(("postgresql://", "postgres://")):
        shown = text.split("@")[-1] if "@" in text else text
        raise ConfigError(f"database_url must be empty (SQLite files in state_dir) or a PostgreSQL URL such as "
                          f"postgresql://sheetsync@db.internal:5432/sheetsync, not {shown!r}.")
    return text


def _named_text(name: str) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        try:
            return _text(value)
        except ConfigError as exc:
            raise ConfigError(f"{name}: {exc}") from None
    return parse


MIN_TOKEN_LENGTH = 16
"""Shortest api_token accepted: shorter ones are guessable."""


def _token(value: Any) -> str:
    if not isinstance(value, str):
        raise ConfigError("api_token must be text in quotes.")
    token = value.strip()
    if token and (len(token) < MIN_TOKEN_LENGTH or any(c.isspace() for c in token)):
        raise ConfigError(f"api_token must be at least {MIN_TOKEN_LENGTH} characters without spaces; make one with "
                          "`python3 -c \"import secrets; print(secrets.token_urlsafe(32))\"`.")
    return token


def _suggest(name: str, known: Iterable[str]) -> str:
    """' Did you mean 'x'?' for the closest known name, or the list of known names."""
    known = list(known)
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    if close:
        return f"did you mean '{close[0]}'?"
    return f"known ones are {', '.join(known)}."


def _split(value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, (list, tuple)) else str(value).split(",")
    return tuple(str(s).strip() for s in items if str(s).strip())


def _source_list(name: str) -> Callable[[Any], tuple[str, ...]]:
    """A list of webhook source names (comma-separated in the environment)."""
    def parse(value: Any) -> tuple[str, ...]:
        if not isinstance(value, (str, list, tuple)):
            raise ConfigError(f"{name} must be a list of sources such as [\"tally\"], not {value!r}.")
        sources = _split(value)
        for source in sources:
            if source not in SOURCES:
                raise ConfigError(f"{name} names an unknown source '{source}': {_suggest(source, SOURCES)}")
        return sources
    return parse


def _secrets(value: Any) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, Mapping):
        raise ConfigError("[secrets] must be a table: a line such as generic = [\"...\"] per source.")
    parsed: dict[str, tuple[str, ...]] = {}
    for source, secrets in value.items():
        if source not in SOURCES:
            raise ConfigError(f"[secrets] names an unknown source '{source}': {_suggest(source, SOURCES)}")
        if not isinstance(secrets, (str, list, tuple)) or any(not isinstance(s, str) for s in _as_list(secrets)):
            raise ConfigError(f"[secrets] {source} must be a list of secrets in quotes.")
        parsed[source] = _split(secrets)
    return parsed


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _field_map(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping) or any(not isinstance(v, str) for v in value.values()):
        raise ConfigError("[field_map] must be a table of \"form field\" = \"Column\" lines.")
    return {str(k): str(v) for k, v in value.items()}
def _urls(value: Any) -> str:
    """One or more URLs, as a list in the file or space/comma separated in the environment."""
    items = value if isinstance(value, (list, tuple)) else [value]
    return " ".join(str(item).strip() for item in items if str(item).strip())


def _schedule(parse: Callable[[str, str], Any], name: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        try:
            parse(str(value), name)
        except schedule.ScheduleError as exc:
            raise ConfigError(str(exc)) from None
        return str(value).strip()
    return check


@dataclass(frozen=True)
class Key:
    """One setting: its file key, parser and meaning; every top-level name in the file must be one of these."""

    name: str
    parse: Callable[[Any], Any]
    doc: str
    secret: bool = False
    """Sensitive: never shown in an HTTP answer or a log line."""
    written: bool = True
    """Written to the file by `init` (False: environment only, e.g. credentials JSON)."""
    table: bool = False
    """A [section] of the file rather than one value."""
    env_name: str = ""
    """Environment variable when it is not SHEETSYNC_<NAME> (e.g. one per source)."""

    @property
    def env(self) -> str:
        return self.env_name or ENV_PREFIX + self.name.upper()


def _region(value: Any) -> str:
    text = str(value).strip().upper()
    if len(text) != 2 or not text.isalpha():
        raise ConfigError(f"phone_region must be a two-letter country code such as CN, US or GB, not {value!r}.")
    return text


KEYS: tuple[Key, ...] = (
    Key("store", _choice("store", ("excel", "google")), "Where the pipeline lives: excel (local workbook) or google."),
    Key("workbook", _named_text("workbook"),
        "Path of the local workbook (store = excel), relative to the config file."),
    Key("template", _choice("template", ("en", "zh")), "Workbook language for new tabs and messages: en or zh."),
    Key("timezone", _timezone, "The team's timezone (IANA name); dates in the sheet are read and written in it."),
    Key("state_dir", _named_text("state_dir"),
        "Folder for local state (intake queue, round-robin position, last seen values)."),
    Key("database_url", _database_url,
        "Empty: queue and state in SQLite files in state_dir. postgresql://...: in that database, shared by every "
        "web process and worker."),
    Key("takeover_interval", _int_range("takeover_interval", 1, 3_600, "seconds"),
        "Seconds between a standby worker's tries to take over a workspace whose worker stopped (1 to 3600)."),
    Key("sync_interval", _int_range("sync_interval", 5, 86_400, "seconds"),
        "Seconds between sync cycles in serve/worker (5 to 86400)."),
    Key("flush_interval", _int_range("flush_interval", 1, 3_600, "seconds"),
        "Seconds between intake flushes in serve/worker (1 to 3600)."),
    Key("worker_process", _boolean("worker_process"),
        "true (default): `serve` runs the flush and sync jobs in a second process it starts and stops, so a busy "
        "webhook keeps its speed while the sheet is written; false: one process does both."),
    Key("host", _named_text("host"), "Address `sheetsync serve` listens on."),
    Key("port", _int_range("port", 1, 65_535), "Port `sheetsync serve` listens on (1 to 65535)."),
    Key("max_body", _int_range("max_body", 1_024, 16_777_216, "bytes"),
        "Largest webhook body accepted, in bytes (1024 to 16777216; 413 beyond)."),
    Key("api_token", _token, "Token for /api/status and the status page (`Authorization: Bearer <token>`).",
        secret=True),
    Key("allow_unsigned", _source_list("allow_unsigned"),
        "Sources that may post without a signature (each one is warned about at start); empty = none."),
    Key("intake_max_attempts", _int_range("intake_max_attempts", 1, 1_000),
        "Tries before a submission the sheet keeps refusing is listed as needing attention (1 to 1000)."),
    Key("intake_max_age_hours", _int_range("intake_max_age_hours", 1, 8_760, "hours"),
        "Hours a submission the sheet keeps refusing may wait before it is listed as needing attention."),
    Key("owner_reassign_share", _share,
        "Largest share (0 to 1) of deals that had an owner at the last sync one sync may assign again."),
    Key("opportunities_tab", _named_text("opportunities_tab"),
        "Title of the Opportunities tab when it has another name (e.g. 商机列表); set by `init --tab`."),
    Key("google_spreadsheet", _named_text("google_spreadsheet"), "Google Sheet ID or full URL (store = google)."),
    Key("google_credentials", _named_text("google_credentials"), "Path of the service-account JSON key file."),
    Key("google_credentials_json", _named_text("google_credentials_json"),
        "The service-account JSON itself (for hosts with no files).", secret=True, written=False),
    Key("google_requests_per_minute", _int_range("google_requests_per_minute", 1, 100_000),
        "Sheets requests per minute one Google account may make, shared by every process on the same database "
        "(Google's default quota is 60)."),
    Key("google_api_endpoint", _named_text("google_api_endpoint"),
        "Send Sheets API requests to another base URL (emulator or proxy); loopback needs no credentials."),
    # discipline (撞单, reclaim, phone follow-up links)
    Key("phone_region", _region, "Country assumed for phone numbers typed without a country code (CN, US, GB …)."),
    Key("duplicates", _choice("duplicates", ("flag", "merge")),
        "A form lead for a customer someone already has: flag (new row, routed to that owner) or merge (a "
        "follow-up note on the existing deal)."),
    Key("duplicate_protection_days", _int_range("duplicate_protection_days", 0, 3650, "days"),
        "Days after a deal closes during which its customer still routes to its owner."),
    Key("public_url", _named_text("public_url"),
        "Address people reach the app at (e.g. https://sales.example.com), for the links it prints."),
    Key("followup_link_days", _int_range("followup_link_days", 1, 3650, "days"),
        "Days a phone follow-up link from `sheetsync followup-link` stays valid."),
    Key("reclaim_to", _named_text("reclaim_to"),
        "Owner of reclaimed deals (e.g. a pool name); blank = by the Rules tab."),
    Key("secrets", _secrets, "Webhook secrets per source (a list lets you rotate: add the new one, then drop "
        "the old).", secret=True, table=True, env_name=ENV_PREFIX + "SECRET_<SOURCE>"),
    Key("field_map", _field_map, "Extra form field names mapped to Opportunities columns.", table=True,
        env_name="-"),
    Key("workdays", _choice("workdays", ("auto", "every-day", "mon-fri", "cn")),
        "Days proposed follow-ups may fall on: cn (weekends and Chinese holidays off), mon-fri, every-day, or "
        "auto (cn for zh workbooks, every-day otherwise)."),
    Key("trend_period", _choice("trend_period", ("day", "week", "month")),
        "How often the Trends tab gets a row: day, week or month."),
    Key("history_exclude", _split,
        "Opportunities columns History does not log, by header name (e.g. [\"Need\", \"Next step\"])."),
    Key("notify_manager", _urls, "The manager's channel(s) for the weekly digest: apprise URLs, e.g. wecombot://KEY."),
    Key("notify_smtp", _text, "SMTP apprise URL for people whose Email is a plain address, e.g. "
        "mailtos://user:password@smtp.example.com?from=sales@example.com."),
    Key("notify_daily_at", _schedule(schedule.parse_time, "notify_daily_at"),
        "Local time of each owner's daily digest on workdays (\"09:00\"), or \"off\"."),
    Key("notify_weekly_at", _schedule(schedule.parse_weekly, "notify_weekly_at"),
        "Day and local time of the manager's weekly digest (\"mon 09:00\"), or \"off\"."),
    Key("notify_workdays", _schedule(schedule.parse_days, "notify_workdays"),
        "Days daily digests are sent: \"auto\" (the workdays calendar, at most Mon-Fri) or days like \"mon-fri\"."),
)
KEYS_BY_NAME = {k.name: k for k in KEYS}
DEPLOYMENT_KEYS = frozenset({"database_url", "state_dir", "host", "port", "max_body", "takeover_interval",
                             "api_token"})
"""Settings of the whole deployment; every other setting may be set per workspace."""
_WORKSPACE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


@dataclass(frozen=True)
class Config:
    """Every setting sheetsync reads, resolved and checked."""

    store: str = "excel"
    workbook: str = "pipeline.xlsx"
    template: str = "en"
    timezone: str = "UTC"
    state_dir: str = ".sheetsync"
    database_url: str = ""
    takeover_interval: int = 5
    sync_interval: int = 300
    flush_interval: int = 5
    worker_process: bool = True
    """`serve` runs the scheduler (flush, sync) in a child `sheetsync worker` process, not beside the web threads."""
    host: str = "127.0.0.1"
    port: int = 8080
    max_body: int = 65536
    api_token: str = ""
    """Bearer token guarding /api/status (and the status page); empty = those stay closed."""
    allow_unsigned: tuple[str, ...] = ()
    """Sources that accept posts without a signature; every other source needs a secret."""
    intake_max_attempts: int = 8
    intake_max_age_hours: int = 24
    owner_reassign_share: float = 0.2
    """A sync that would assign owners again to more than this share of deals that had one stops instead."""
    opportunities_tab: str = ""
    """The pipeline tab's title when it is not Opportunities/商机 or an alias (adopted by `init --tab`)."""
    google_spreadsheet: str = ""
    google_credentials: str = ""
    google_credentials_json: str = ""
    google_api_endpoint: str = ""
    google_requests_per_minute: int = 50
    history_exclude: tuple[str, ...] = ()
    phone_region: str = "CN"
    duplicates: str = "flag"
    duplicate_protection_days: int = 0
    reclaim_to: str = ""
    public_url: str = ""
    followup_link_days: int = 90
    notify_manager: str = ""
    notify_smtp: str = ""
    notify_daily_at: str = "09:00"
    notify_weekly_at: str = "mon 09:00"
    notify_workdays: str = "auto"
    workdays: str = "auto"
    trend_period: str = "week"
    secrets: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Webhook secrets per source; several per source let a secret be rotated."""
    field_map: Mapping[str, str] = field(default_factory=dict)
    """Extra form field names mapped to Opportunities columns, e.g. {"Company size": "Level"}."""
    workspaces: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """[workspaces.<name>] sections as read: each a pipeline of its own (store, sheet, template, secrets ...)."""
    workspace_name: str = ""
    """The workspace this config was resolved for ("" for a config without workspaces)."""
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

    def workspace_names(self) -> tuple[str, ...]:
        """The pipelines this deployment serves: the [workspaces] names, or ("",) without sections."""
        return tuple(sorted(self.workspaces)) or ("",)

    def workspace(self, name: str) -> Config:
        """The settings of one workspace: the file's top level, overridden by its [workspaces.<name>] section."""
        if not name and not self.workspaces:
            return self
        if name not in self.workspaces:
            known = ", ".join(sorted(self.workspaces)) or "none are configured"
            raise ConfigError(f"There is no workspace named {name!r}: use one of the [workspaces.<name>] sections "
                              f"in the config ({known}).")
        values = _parse_values(self.workspaces[name], f"[workspaces.{name}]")
        secrets = values.pop("secrets", None) or self.secrets
        field_map = {**self.field_map, **values.pop("field_map", {})}
        return replace(self, **values, secrets=secrets, field_map=field_map, workspace_name=name)

    def with_values(self, **values: Any) -> Config:
        """A copy with some settings replaced (each parsed and checked like the file's)."""
        return replace(self, **_parse_values(values, "argument"))


def _parse_values(values: Mapping[str, Any], origin: str) -> dict[str, Any]:
    parsed: dict[str, Any] = {}
    for name, raw in values.items():
        key = KEYS_BY_NAME.get(name)
        if key is None:
            names = [k.name for k in KEYS]
            raise ConfigError(f"Unknown setting '{name}' in {origin}: {_suggest(name, names)} "
                              "Every setting is listed in the README's Configuration table.")
        try:
            parsed[name] = key.parse(raw)
        except ConfigError as exc:
            raise ConfigError(f"{exc} (from {origin})") from None
    return parsed


def _read_toml(file: Path) -> dict[str, Any]:
    """The file's settings, or a ConfigError naming the line to fix (never advice to regenerate secrets)."""
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{file} is not UTF-8 text (byte {exc.start}): save it as UTF-8 in your editor; "
                          "the settings and secrets in it stay as they are.") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        reason = str(exc)
        match = re.search(r"\(at line (\d+), column (\d+)\)", reason)
        where = f"line {match.group(1)}, column {match.group(2)}" if match else "the line named below"
        reason = re.sub(r"\s*\(at line \d+, column \d+\)", "", reason).rstrip(".")
        unclosed = "string" in reason.lower() or "'\\n'" in reason
        hint = " (is a text value missing its closing quote?)" if unclosed else ""
        raise ConfigError(f"{file} has a TOML syntax error at {where}: {reason}{hint}. Fix that line in a text "
                          "editor; keep the rest of the file, including the [secrets] your forms are set up "
                          "with.") from None


def _warn_if_readable(file: Path) -> None:
    if os.name != "posix":
        return
    mode = stat.S_IMODE(file.stat().st_mode)
    if mode & 0o077:
        log.warning("%s holds webhook secrets and the API token but other users of this machine can read it "
                    "(mode %o): run `chmod 600 %s`.", file, mode, file)


def write_file(path: str | Path, text: str) -> None:
    """Write the config file readable by its owner only (mode 0600), whatever the umask."""
    target = Path(path)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        if os.name == "posix":
            os.fchmod(fd, 0o600)
        os.write(fd, text.encode("utf-8"))
    finally:
        os.close(fd)


def load(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Read the config file (if present) and apply SHEETSYNC_* overrides from `env`."""
    env = os.environ if env is None else env
    explicit = path or env.get(ENV_PREFIX + "CONFIG")
    file = Path(explicit or CONFIG_FILE).expanduser()
    data: dict[str, Any] = {}
    if file.exists():
        data = _read_toml(file)
        _warn_if_readable(file)
    elif explicit:
        raise ConfigError(f"Config file {file} does not exist: run `sheetsync init` or fix SHEETSYNC_CONFIG.")
    workspaces = _workspaces(data.pop("workspaces", {}), file)
    values = _parse_values(data, str(file))
    for key in KEYS:
        if not key.table and key.env in env:
            values.update(_parse_values({key.name: env[key.env]}, key.env))
    secrets = dict(values.pop("secrets", {}))
    for source in SOURCES:
        var = ENV_PREFIX + "SECRET_" + source.upper().replace("-", "_")
        if env.get(var):
            secrets[source] = _split(env[var])
    _warn_unknown_environment(env)
    base = file.resolve().parent if file.exists() else Path.cwd()
    config = Config(**values, secrets=secrets, workspaces=workspaces, base_dir=base,
                    source=file if file.exists() else None)
    for name in workspaces:
        config.workspace(name)  # every section is checked now, not when its first submission arrives
    return config


def _workspaces(raw: Any, file: Path) -> dict[str, dict[str, Any]]:
    if not isinstance(raw, dict):
        raise ConfigError(f"workspaces in {file} must be sections such as [workspaces.east], not {raw!r}.")
    sections: dict[str, dict[str, Any]] = {}
    for name, section in raw.items():
        if not _WORKSPACE_NAME.match(str(name)):
            raise ConfigError(f"Workspace name {name!r} in {file} cannot be used in a URL: use lower-case letters, "
                              "digits, - and _ (at most 40), e.g. [workspaces.east-branch].")
        if not isinstance(section, dict):
            raise ConfigError(f"[workspaces.{name}] in {file} must be a section of settings, not {section!r}.")
        shared = sorted(DEPLOYMENT_KEYS & set(section))
        if shared:
            raise ConfigError(f"[workspaces.{name}] in {file} sets {', '.join(shared)}, which belong to the whole "
                              "deployment: move them to the top of the file.")
        sections[str(name)] = dict(section)
    return sections


def _warn_unknown_environment(env: Mapping[str, str]) -> None:
    known = {k.env for k in KEYS} | {ENV_PREFIX + "CONFIG", PARENT_ENV}
    known |= {ENV_PREFIX + "SECRET_" + s.upper().replace("-", "_") for s in SOURCES}
    for var in env:
        if var.startswith(ENV_PREFIX) and var not in known and not var.startswith(ENV_PREFIX + "TEST"):
            log.warning("Environment variable %s is not a sheetsync setting and is ignored: %s", var,
                        _suggest(var, sorted(known)))


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)


def render(config: Config) -> str:
    """The config as a commented TOML file, secrets included (the file stays on this machine, mode 0600)."""
    lines = ["# sheetsync settings. Every key can be overridden by SHEETSYNC_<KEY> in the environment.", ""]
    for key in KEYS:
        if key.written and not key.table:
            lines.append(f"# {key.doc}")
            lines.append(f"{key.name} = {_toml_value(getattr(config, key.name))}")
    for key in KEYS:
        if key.written and key.table:
            lines += ["", f"# {key.doc}", f"[{key.name}]"]
            for name, value in sorted(dict(getattr(config, key.name)).items()):
                lines.append(f"{_toml_value(name)} = {_toml_value(value)}")
    for ws, section in sorted(config.workspaces.items()):
        lines += ["", f"[workspaces.{ws}]"]
        tables = {k: v for k, v in section.items() if isinstance(v, Mapping)}
        lines += [f"{name} = {_toml_value(value)}" for name, value in section.items() if name not in tables]
        for table, entries in tables.items():
            lines += [f"[workspaces.{ws}.{table}]"]
            lines += [f"{_toml_value(k)} = {_toml_value(v)}" for k, v in entries.items()]
    return "\n".join(lines) + "\n"
