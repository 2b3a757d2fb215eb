"""`sheetsync doctor`: check everything a working setup needs, one line each, with the exact fix."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from . import config as cfg
from .backends import open_backend
from .core.schema import LayoutError
from .core.workbook import SYNC_TABS, detect_language, read_workbook
from .messages import say
from .notify import channels
from .notify.build import MANAGER, channel_test_message
from .notify.leads import team_contacts
from .notify.send import SendResult, check, send
from .ports import Queue, Snapshot, StoreError
from .stores import open_store

PASS, FAIL, INFO = "pass", "fail", "info"
STUCK_QUEUE = timedelta(minutes=10)
"""A submission waiting longer than this means no flush is running."""
CLOCK_SLACK = timedelta(minutes=5)
"""How far behind the last recorded sync the clock may be before it counts as wrong."""


@dataclass(frozen=True)
class Check:
    """One line of the doctor's report: what was checked, whether it passed, and the fix when it did not."""

    name: str
    result: str
    text: str
    fix: str = ""

    @property
    def failed(self) -> bool:
        return self.result == FAIL


def check_config(config: cfg.Config, lang: str) -> Check:
    """The settings file exists and is private."""
    if config.source is None:
        return Check("config", FAIL, say("notify.doctor.config_missing", lang, where=os.getcwd()),
                     say("notify.doctor.config_missing_fix", lang))
    mode = config.source.stat().st_mode
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        return Check("config", FAIL, say("notify.doctor.config_open", lang, path=config.source, mode=oct(mode & 0o777)),
                     say("notify.doctor.config_open_fix", lang, path=config.source))
    return Check("config", PASS, say("notify.doctor.config_ok", lang, path=config.source, store=config.store,
                                     template=config.template))


def check_credentials(config: cfg.Config, lang: str) -> tuple[Check, str]:
    """Google credentials load (and whose they are); a local workbook needs none."""
    if config.store != "google":
        return Check("credentials", PASS, say("notify.doctor.credentials_none", lang)), ""
    from .stores.google_connect import is_loopback, load_credentials

    try:
        credentials = load_credentials(config)
    except StoreError as exc:
        return Check("credentials", FAIL, str(exc), say("notify.doctor.credentials_fix", lang)), ""
    if credentials is None:
        if config.google_api_endpoint and is_loopback(config.google_api_endpoint):
            return Check("credentials", PASS, say("notify.doctor.credentials_loopback", lang,
                                                  endpoint=config.google_api_endpoint)), ""
        return Check("credentials", FAIL, say("notify.doctor.credentials_missing", lang),
                     say("notify.doctor.credentials_fix", lang)), ""
    email = credentials.service_account_email
    return Check("credentials", PASS, say("notify.doctor.credentials_ok", lang, email=email)), email


def check_store(config: cfg.Config, lang: str, account: str) -> tuple[Check, Snapshot | None]:
    """The spreadsheet can be opened and read (and, for Google, is shared with the service account)."""
    if config.store != "google":
        path = config.workbook_path
        if not path.exists():
            return Check("spreadsheet", FAIL, say("notify.doctor.workbook_missing", lang, path=path),
                         say("notify.doctor.workbook_missing_fix", lang)), None
        if not os.access(path, os.W_OK) or not os.access(path.parent, os.W_OK):
            return Check("spreadsheet", FAIL, say("notify.doctor.workbook_readonly", lang, path=path),
                         say("notify.doctor.workbook_readonly_fix", lang, path=path)), None
    try:
        store = open_store(config)
        snapshot = store.read(SYNC_TABS)
    except (StoreError, LayoutError, cfg.ConfigError) as exc:
        fix = (say("notify.doctor.share_fix", lang, email=account) if account and "share" in str(exc).lower()
               else say("notify.doctor.store_fix", lang))
        return Check("spreadsheet", FAIL, str(exc), fix), None
    where = store.describe()
    if config.store == "google":
        return Check("spreadsheet", PASS, say("notify.doctor.shared_ok", lang, where=where,
                                              email=account or "the service account")), snapshot
    return Check("spreadsheet", PASS, say("notify.doctor.workbook_ok", lang, where=where)), snapshot


def check_layout(snapshot: Snapshot | None, config: cfg.Config, lang: str) -> Check:
    """Every tab is there with every header a cycle needs."""
    if snapshot is None:
        return Check("tabs", FAIL, say("notify.doctor.not_checked", lang), say("notify.doctor.fix_above", lang))
    try:
        read_workbook(snapshot, detect_language(snapshot, config.template), SYNC_TABS)
    except LayoutError as exc:
        return Check("tabs", FAIL, str(exc), say("notify.doctor.layout_fix", lang))
    return Check("tabs", PASS, say("notify.doctor.layout_ok", lang, count=len(SYNC_TABS)))


def check_queue(queue: Queue, lang: str, now: datetime) -> Check:
    """Nothing in the intake queue needs attention or waits for a flush that never comes."""
    stats = queue.stats(now)
    attention = queue.needs_attention()
    if attention:
        return Check("queue", FAIL, say("notify.doctor.queue_attention", lang, count=len(attention)),
                     say("notify.doctor.queue_attention_fix", lang))
    age = stats.get("oldest_pending_age_seconds")
    if age is not None and age > STUCK_QUEUE.total_seconds():
        return Check("queue", FAIL, say("notify.doctor.queue_stuck", lang, count=stats["depth"],
                                        minutes=int(age // 60)), say("notify.doctor.queue_stuck_fix", lang))
    return Check("queue", PASS, say("notify.doctor.queue_ok", lang, count=stats["depth"]))


def check_secrets(config: cfg.Config, lang: str) -> list[Check]:
    """Each webhook source is signed, or deliberately allowed unsigned."""
    out = []
    for source in cfg.SOURCES:
        count = len(config.secrets_for(source))
        if count:
            out.append(Check(f"secret {source}", PASS, say("notify.doctor.secret_ok", lang, source=source,
                                                           count=count)))
        elif source in getattr(config, "allow_unsigned", ()):
            out.append(Check(f"secret {source}", INFO, say("notify.doctor.secret_unsigned", lang, source=source)))
        else:
            out.append(Check(f"secret {source}", FAIL, say("notify.doctor.secret_missing", lang, source=source),
                             say("notify.doctor.secret_fix", lang, source=source)))
    return out


def check_clock(config: cfg.Config, lang: str, now: datetime, snapshot: Snapshot | None,
                last: object = None) -> Check:
    """The clock is not behind the last sync recorded (`last`), and the sheet agrees on the timezone."""
    local = now.astimezone(config.tz)
    try:
        last_at = datetime.fromisoformat(str(last)) if last else None
    except ValueError:
        last_at = None
    if last_at is not None and last_at.tzinfo is not None and now < last_at - CLOCK_SLACK:
        return Check("clock", FAIL, say("notify.doctor.clock_behind", lang, now=now.isoformat(timespec="seconds"),
                                        last=last_at.isoformat(timespec="seconds")),
                     say("notify.doctor.clock_fix", lang))
    sheet_zone = snapshot.timezone if snapshot is not None else None
    if sheet_zone and sheet_zone != config.timezone:
        return Check("clock", FAIL, say("notify.doctor.zone_differs", lang, sheet=sheet_zone, zone=config.timezone),
                     say("notify.doctor.zone_fix", lang, sheet=sheet_zone))
    return Check("clock", PASS, say("notify.doctor.clock_ok", lang, local=local.strftime("%Y-%m-%d %H:%M"),
                                    zone=config.timezone, offset=local.strftime("%z")))


def check_channels(config: cfg.Config, lang: str, snapshot: Snapshot | None, send_test: bool,
                   sender: Callable[[str, str, str], SendResult] = send, now: datetime | None = None) -> list[Check]:
    """Every person's and the manager's channels are usable; with send_test, each gets a test message."""
    contacts = team_contacts(snapshot) if snapshot is not None else {}
    people: list[tuple[str, list[str], list[str]]] = []
    for contact in contacts.values():
        targets, problems = channels.targets_for(contact, config.notify_smtp)
        people.append((contact.name, targets, problems))
    manager = channels.manager_targets(config.notify_manager)
    people.append((MANAGER, manager, []))
    if not config.notify_smtp and not manager and not any(t for _, t, _ in people):
        return [Check("notifications", INFO, say("notify.doctor.channels_off", lang),
                      say("notify.doctor.channels_off_fix", lang))]
    out: list[Check] = []
    for name, targets, problems in people:
        label = say("notify.doctor.manager", lang) if name == MANAGER else name
        problems = problems + [p for p in (check(t) for t in targets) if p]
        if name == MANAGER and not targets:
            out.append(Check(f"channel {name}", INFO, say("notify.doctor.manager_missing", lang),
                             say("notify.doctor.manager_fix", lang)))
            continue
        if problems:
            out.append(Check(f"channel {name}", FAIL, say("notify.doctor.channel_bad", lang, name=label,
                                                          problems=" ".join(problems)),
                             say("notify.doctor.channel_fix", lang)))
            continue
        where = ", ".join(channels.describe(t) for t in targets)
        if not send_test:
            out.append(Check(f"channel {name}", PASS, say("notify.doctor.channel_ok", lang, name=label, where=where)))
            continue
        stamp = (now or datetime.now(timezone.utc)).isoformat(timespec="seconds")
        message = channel_test_message(label, lang, stamp)
        for target in targets:
            result = sender(target, message.title, message.body)
            if result.ok:
                out.append(Check(f"channel {name}", PASS, say("notify.doctor.test_sent", lang, name=label,
                                                              where=channels.describe(target))))
            else:
                out.append(Check(f"channel {name}", FAIL, say("notify.doctor.test_failed", lang, name=label,
                                                              error=result.error),
                                 say("notify.doctor.test_fix", lang)))
    return out


def diagnose(load: Callable[[], cfg.Config], *, send_test: bool = False, now: datetime | None = None,
             sender: Callable[[str, str, str], SendResult] = send) -> list[Check]:
    """Run every check in order; a check that cannot run because an earlier one failed says so."""
    now = now or datetime.now(timezone.utc)
    try:
        config = load()
    except cfg.ConfigError as exc:
        return [Check("config", FAIL, str(exc), say("notify.doctor.config_bad_fix", "en"))]
    lang = config.template
    checks = [check_config(config, lang)]
    credentials, account = check_credentials(config, lang)
    checks.append(credentials)
    store, snapshot = check_store(config, lang, account)
    checks += [store, check_layout(snapshot, config, lang)]
    last_sync = None
    try:
        backend = open_backend(config)
    except Exception as exc:  # e.g. PostgreSQL unreachable: say so and go on with the other checks
        checks.append(Check("queue", FAIL, say("notify.doctor.backend_down", lang, error=exc),
                            say("notify.doctor.backend_fix", lang)))
    else:
        queue, state = backend.queue(config.workspace_name), backend.state(config.workspace_name)
        try:
            checks.append(check_queue(queue, lang, now))
            last_sync = state.get("last_sync")
        finally:
            queue.close()
            state.close()
            backend.close()
    checks += check_secrets(config, lang)
    checks.append(check_clock(config, lang, now, snapshot, last_sync))
    checks += check_channels(config, lang, snapshot, send_test, sender, now)
    return checks


def render(check: Check, lang: str = "en") -> str:
    """One report line: PASS/FAIL/INFO, what was found, and the fix on the next line."""
    mark = {PASS: "PASS", FAIL: "FAIL", INFO: "INFO"}[check.result]
    line = f"{mark}  {check.text}"
    if check.fix and check.result != PASS:
        line += "\n      " + say("notify.doctor.fix", lang, fix=check.fix)
    return line


def summary(checks: list[Check], lang: str = "en") -> str:
    failed = sum(1 for c in checks if c.failed)
    if failed:
        return say("notify.doctor.summary_failed", lang, failed=failed, total=len(checks))
    return say("notify.doctor.summary_ok", lang, total=len(checks))


def as_dict(check: Check) -> dict[str, Any]:
    return {"name": check.name, "result": check.result, "text": check.text, "fix": check.fix}
