"""Commands for looking at a running setup: `doctor`, `status` and `digest --preview` (thin, read-only)."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import click

from . import config as cfg
from . import doctor as doc
from .backends import open_backend
from .core.schema import LayoutError, normalize
from .core.workbook import SYNC_TABS, detect_language, read_workbook
from .messages import say
from .notify.build import MANAGER, money, stage_totals
from .notify.channels import describe
from .notify.notifier import Notifier
from .pipelines import Pipeline
from .ports import StoreError
from .stores import open_store

READ_ERRORS = (cfg.ConfigError, LayoutError, StoreError)


def _load(config_path: str | None) -> cfg.Config:
    try:
        return cfg.load(config_path)
    except cfg.ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


@click.command()
@click.option("--send-test", is_flag=True, help="Also send a test message to every notification channel.")
@click.option("--json", "as_json", is_flag=True, help="Print the checks as JSON.")
@click.pass_obj
def doctor(config_path: str | None, send_test: bool, as_json: bool) -> None:
    """Check config, credentials, spreadsheet, tabs, queue, secrets, clock and channels; exit 1 on a failure."""
    checks = doc.diagnose(lambda: cfg.load(config_path), send_test=send_test)
    try:
        language = cfg.load(config_path).template
    except cfg.ConfigError:
        language = "en"
    if as_json:
        click.echo(json.dumps([doc.as_dict(c) for c in checks], ensure_ascii=False, indent=2))
    else:
        for check in checks:
            click.echo(doc.render(check, language))
        click.echo(doc.summary(checks, language))
    if any(c.failed for c in checks):
        raise SystemExit(1)


@click.command()
@click.pass_obj
def status(config_path: str | None) -> None:
    """Show the queue, the last sync and flush, notifications and the funnel."""
    config = _load(config_path)
    lang = config.template
    now = datetime.now(timezone.utc)
    backend = open_backend(config)
    queue, state, outbox = (backend.queue(config.workspace_name), backend.state(config.workspace_name),
                            backend.outbox(config.workspace_name))
    try:
        q = queue.stats(now)
        attention = len(queue.needs_attention())
        values = {k: state.get(k) for k in ("last_sync", "last_sync_report", "last_sync_error", "last_sync_error_at")}
        n = outbox.stats(now)
    finally:
        for part in (queue, state, outbox, backend):
            part.close()
    oldest = q.get("oldest_pending_age_seconds")
    click.echo(say("notify.status.queue", lang, depth=q["depth"], attention=attention,
                   oldest="-" if oldest is None else f"{int(oldest)} s"))
    click.echo(say("notify.status.flush", lang, at=q.get("last_flush_at") or "-",
                   result=q.get("last_flush_result") or "-"))
    click.echo(say("notify.status.sync", lang, at=values["last_sync"] or "-", result=values["last_sync_report"] or "-"))
    if values["last_sync_error"]:
        click.echo(say("notify.status.sync_error", lang, at=values["last_sync_error_at"] or "-",
                       error=values["last_sync_error"]))
    click.echo(say("notify.status.notifications", lang, pending=n["pending"], retrying=n["retrying"], sent=n["sent"],
                   failed=n["failed"] + n["unsure"]))
    if n["last_error"]:
        click.echo(say("notify.status.notify_error", lang, at=n["last_error_at"], error=n["last_error"]))
    try:
        store = open_store(config)
        snapshot = store.read(SYNC_TABS)
        wb = read_workbook(snapshot, detect_language(snapshot, config.template), SYNC_TABS)
    except READ_ERRORS as exc:
        click.echo(say("notify.status.funnel_unreadable", lang, error=exc))
        raise SystemExit(1) from None
    click.echo(say("notify.status.funnel", lang, where=store.describe()))
    width = max((len(stage.name) for stage in wb.pipeline.stages), default=5)
    for name, count, amount in stage_totals(wb.opportunities, wb.pipeline):
        click.echo(f"  {name:<{width}}  {count:>5}  {money(amount):>14}")


@click.command()
@click.option("--preview", is_flag=True, help="Print the digests instead of sending them.")
@click.option("--to", "to", metavar="NAME", help="Only the digest for this person (or 'manager').")
@click.pass_obj
def digest(config_path: str | None, preview: bool, to: str | None) -> None:
    """Print today's daily digests and the weekly manager digest exactly as they would be sent."""
    config = _load(config_path)
    if not preview:
        raise click.ClickException(say("notify.digest.use_preview", config.template))
    now = datetime.now(timezone.utc)
    backend = open_backend(config)
    pipeline = Pipeline(config.workspace_name, config, backend, "sync")
    try:
        syncer = pipeline.syncer()
        plan = syncer.preview(now)
        notifier = syncer.notifier or Notifier(config, backend.outbox(config.workspace_name))
        addressed = notifier.digests(plan, now.astimezone(config.tz).date())
    except READ_ERRORS as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        pipeline.close()
        backend.close()
    lang = plan.workbook.language if plan.workbook else config.template
    if to:
        wanted = normalize(to)
        manager_words = {normalize(MANAGER), normalize(say("notify.doctor.manager", lang))}
        addressed = [a for a in addressed if normalize(a.message.recipient) == wanted
                     or (a.message.recipient == MANAGER and wanted in manager_words)]
        if not addressed:
            raise click.ClickException(say("notify.digest.nobody", lang, name=to))
    if not addressed:
        click.echo(say("notify.digest.none", lang))
        return
    for item in addressed:
        who = say("notify.doctor.manager", lang) if item.message.recipient == MANAGER else item.message.recipient
        where = ", ".join(describe(t) for t in item.targets) or say("notify.digest.nowhere", lang)
        click.echo(say("notify.digest.header", lang, name=who, where=where))
        for problem in item.problems:
            click.echo(say("notify.digest.problem", lang, problem=problem))
        click.echo(item.message.title)
        click.echo("")
        click.echo(item.message.body)
        click.echo("")


COMMANDS = (doctor, status, digest)
