"""The `sheetsync` command: a thin layer over the library, turning its errors into plain messages."""

from __future__ import annotations

import logging
import re
import secrets
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import click

from . import config as cfg
from .backends import open_backend
from .core.schema import LayoutError
from .lock import WAIT_SECONDS, WriterBusy, busy_message, pipeline_lock
from .messages import say
from .pipelines import Pipeline, open_pipelines
from .ports import Queue, QueueUnavailable, StoreError
from .stores import lock_target, named_tabs, open_store
from .sync import Syncer
from .template import load_layout

USER_ERRORS = (cfg.ConfigError, LayoutError, StoreError, QueueUnavailable)
VERBOSE_FLAGS = re.compile(r"^(-v+|--verbose)$")
SERVICES = ("serve", "worker")
"""Commands that run until stopped; they log one line per cycle without -v."""


class _Lines(logging.Formatter):
    """One line per event: time, the level when it is a warning or worse, the message."""

    def __init__(self, detailed: bool) -> None:
        super().__init__(datefmt="%H:%M:%S")
        self.detailed = detailed

    def format(self, record: logging.LogRecord) -> str:
        text = record.getMessage()
        if record.exc_info and self.detailed:
            text += "\n" + self.formatException(record.exc_info)
        level = f"{record.levelname}: " if record.levelno >= logging.WARNING else ""
        where = f"[{record.name}] " if self.detailed else ""
        return f"{self.formatTime(record, self.datefmt)} {level}{where}{text}"


def setup_logging(verbose: int, service: bool) -> None:
    """Services say one line per cycle; -v adds each step, -vv everything (libraries included)."""
    handler = logging.StreamHandler()
    handler.setFormatter(_Lines(detailed=verbose > 0))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING)
    ours = logging.DEBUG if verbose else logging.INFO if service else logging.WARNING
    for name in ("sheetsync", "webhook"):
        logging.getLogger(name).setLevel(ours)


class VerboseAnywhere(click.Group):
    """A group whose -v/--verbose may come before or after the subcommand (`sheetsync sync -v`)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        head, tail = list(args), []
        if "--" in head:
            cut = head.index("--")
            head, tail = head[:cut], head[cut:]
        flags = [a for a in head if VERBOSE_FLAGS.match(a)]
        rest = [a for a in head if not VERBOSE_FLAGS.match(a)]
        return super().parse_args(ctx, flags + rest + tail)



def _load(config_path: str | None) -> cfg.Config:
    try:
        return cfg.load(config_path)
    except cfg.ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


def build_syncer(config: cfg.Config, role: str = "sync") -> Syncer:
    """A Syncer for the configured store, its state where database_url says, holding the writer lock as `role`."""
    return Pipeline(config.workspace_name, config, open_backend(config), role).syncer()


def _add_missing_secrets(config: cfg.Config) -> tuple[cfg.Config, dict[str, str], str]:
    """Give every source that has no secret (and is not in allow_unsigned) its own random one, and an api_token."""
    new = {source: secrets.token_urlsafe(32) for source in cfg.SOURCES
           if not config.secrets_for(source) and source not in config.allow_unsigned}
    token = "" if config.api_token else secrets.token_urlsafe(32)
    all_secrets = {**config.secrets, **{source: (secret,) for source, secret in new.items()}}
    return replace(config, secrets=all_secrets, api_token=config.api_token or token), new, token


@click.group(cls=VerboseAnywhere)
@click.option("--config", "config_path", envvar="SHEETSYNC_CONFIG", type=click.Path(dir_okay=False),
              help="Config file to use (default: ./sheetsync.toml).")
@click.option("-v", "--verbose", count=True,
              help="Say what each step does (-vv: every detail). Works before or after the command.")
@click.pass_context
def main(ctx: click.Context, config_path: str | None, verbose: int) -> None:
    """Run a sales pipeline inside the spreadsheet your team already shares."""
    setup_logging(verbose, service=ctx.invoked_subcommand in SERVICES)
    ctx.meta["sheetsync.verbose"] = verbose
    ctx.obj = config_path


def _check_tab_exists(config: cfg.Config) -> None:
    """Refuse `init --tab NAME` on an existing workbook without that tab (a typo would add a second pipeline)."""
    if config.store != "excel" or not config.workbook_path.exists():
        return
    titles = open_store(config).read(()).titles
    if config.opportunities_tab not in titles:
        raise click.ClickException(say("page.init_no_tab", config.template, tab=config.opportunities_tab,
                                       workbook=config.workbook_path, titles=", ".join(titles)))


@main.command()
@click.option("--template", type=click.Choice(["en", "zh"]), help="Workbook language (default: en).")
@click.option("--workbook", type=click.Path(dir_okay=False), help="Workbook path (default: pipeline.xlsx).")
@click.option("--store", type=click.Choice(["excel", "google"]), help="Where the pipeline lives.")
@click.option("--tab", "tab", metavar="NAME",
              help="Use the existing tab NAME (e.g. 商机列表) as the Opportunities tab instead of adding one.")
@click.option("--no-examples", is_flag=True, help="Leave out the example deals, follow-ups, reps and rules.")
@click.pass_obj
def init(config_path: str | None, template: str | None, workbook: str | None, store: str | None,
         tab: str | None, no_examples: bool) -> None:
    """Create or complete the opportunity workbook and write sheetsync.toml."""
    config = _load(config_path)
    first_time = config.source is None
    overrides = {k: val for k, val in (("template", template), ("workbook", workbook), ("store", store),
                                       ("opportunities_tab", tab and tab.strip())) if val}
    language = overrides.get("template", config.template)
    try:
        if first_time:
            overrides.setdefault("timezone", load_layout(language, datetime.now().date()).timezone)
        config = config.with_values(**overrides)
        if tab:
            _check_tab_exists(config)
        layout = load_layout(config.template, datetime.now(config.tz).date(), examples=not no_examples,
                             titles=named_tabs(config))
        config, new_secrets, new_token = _add_missing_secrets(config)
        lock = pipeline_lock(config.state_path, lock_target(config), "init")
        if not lock.acquire(WAIT_SECONDS):
            raise WriterBusy(busy_message(lock.holder(), lock_target(config), config.template))
        try:
            changes = open_store(config).setup(layout)
        finally:
            lock.release()
    except USER_ERRORS as exc:
        raise click.ClickException(str(exc)) from exc
    target = Path(config_path) if config_path else (config.source or Path(cfg.CONFIG_FILE))
    if first_time or overrides or new_secrets or new_token:
        cfg.write_file(target, cfg.render(config))
        click.echo(f"Wrote settings to {target}")
    for line in changes or ["The workbook already has every tab and column; nothing to add."]:
        click.echo(f"  {line}")
    if new_secrets:
        click.echo("\n" + say("hostile.init_secrets", config.template, path=target))
        for source, secret in new_secrets.items():
            click.echo(f"  {source:<13} {secret}\n  {'':<13} -> {say('hostile.paste.' + source, config.template)}")
    if new_token:
        click.echo("\n" + say("hostile.init_token", config.template, token=new_token))
    click.echo("\nNext: type a few rows into Opportunities, then run `sheetsync sync`.")


@main.command()
@click.option("--wait", type=click.FloatRange(min=0), default=WAIT_SECONDS, show_default=True,
              help="Seconds to wait for another sheetsync process (serve, worker) to finish its cycle.")
@click.option("--workspace", "workspace", help="Sync only this workspace (default: every workspace).")
@click.pass_obj
def sync(config_path: str | None, wait: float, workspace: str | None) -> None:
    """Run one sync cycle: IDs, owners, checks, reminders, history and the Summary tab."""
    config = _load(config_path)
    language = config.template
    if workspace is not None or config.workspaces:
        _sync_workspaces(config, wait, workspace)
        return
    try:
        syncer = build_syncer(config)
        syncer.lock_wait = wait
        if click.get_current_context().meta.get("sheetsync.verbose") or _is_terminal():
            syncer.progress = _progress_printer(syncer.store.describe(), language)
        report = syncer.run_cycle(datetime.now(timezone.utc))
    except USER_ERRORS as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(say("page.synced", language, store=syncer.store.describe(), report=report.line(language)))
    deliver_now(syncer, language)


def deliver_now(syncer: Syncer, language: str) -> None:
    """Send the notifications a one-off command just queued, and say how many went (failures are retried later)."""
    if syncer.notifier is not None:
        sent = syncer.notifier.deliver()
        if sent.sent or sent.failed:
            click.echo(say("notify.cli_sent", language, sent=sent.sent, failed=sent.failed))


def _sync_workspaces(config: cfg.Config, wait: float, workspace: str | None) -> None:
    """Sync one named workspace or every workspace; one failing never stops the others."""
    try:
        backend = open_backend(config)
        pipelines = open_pipelines(config, backend, workspace, role="sync")
    except USER_ERRORS as exc:
        raise click.ClickException(str(exc)) from exc
    failed = []
    for pipeline in pipelines:
        try:
            if not pipeline.lock.acquire(timeout=wait):
                raise WriterBusy(busy_message(pipeline.lock.holder(), f"workspace {pipeline.label}",
                                              pipeline.config.template))
            syncer = pipeline.syncer()
            syncer.lock_wait = wait
            report = syncer.run_cycle(datetime.now(timezone.utc))
            words = pipeline.config.template
            click.echo(f"[{pipeline.label}] " + say("page.synced", words, store=syncer.store.describe(),
                                                    report=report.line(words)))
        except USER_ERRORS as exc:
            if len(pipelines) == 1:
                raise click.ClickException(str(exc)) from exc
            failed.append(pipeline.label)
            click.echo(f"[{pipeline.label}] Error: {exc}", err=True)
        finally:
            pipeline.close()
    backend.close()
    if failed:
        raise click.ClickException(f"Workspace(s) {', '.join(failed)} did not sync; the others did.")


def _is_terminal() -> bool:
    return sys.stderr.isatty()


def _progress_printer(store: str, language: str) -> Callable[[str, dict[str, object]], None]:
    """Print each step of a long cycle on stderr, so a 10,000-row sync is never silent."""
    def show(step: str, numbers: dict[str, object]) -> None:
        click.echo(say(f"page.step_{step}", language, store=store, **numbers), err=True)
    return show


def _notice(text: str) -> None:
    click.echo(text, err=True)


@main.command()
@click.option("--host", help="Address to listen on (default: the config's host, 127.0.0.1).")
@click.option("--port", type=int, help="Port to listen on (default: the config's port, 8080).")
@click.pass_obj
def serve(config_path: str | None, host: str | None, port: int | None) -> None:
    """Serve the webhook; the flush and sync jobs run in a worker process it starts and stops."""
    from webhook.server import ServeError
    from webhook.server import serve as run_server

    config = _load(config_path)
    try:
        config = config.with_values(**{k: v for k, v in (("host", host), ("port", port)) if v is not None})
        syncer = None if config.workspaces else build_syncer(config, "serve")
        where = syncer.store.describe() if syncer else "workspaces " + ", ".join(config.workspace_names())

        def ready(url: str) -> None:
            click.echo(say("page.serving", config.template, url=url, store=where,
                           interval=config.sync_interval), err=True)

        run_server(config, syncer, on_ready=ready, notice=_notice)
    except (*USER_ERRORS, ServeError) as exc:
        raise click.ClickException(str(exc)) from exc


@main.command()
@click.pass_obj
def worker(config_path: str | None) -> None:
    """Run only the flush and sync jobs (when gunicorn serves the webhook)."""
    from .runner import worker as run_worker

    config = _load(config_path)
    try:
        syncer = None if config.workspaces else build_syncer(config, "worker")
        where = syncer.store.describe() if syncer else "workspaces " + ", ".join(config.workspace_names())

        def ready() -> None:
            click.echo(say("page.worker_started", config.template, store=where,
                           flush=config.flush_interval, interval=config.sync_interval), err=True)

        run_worker(config, syncer, on_ready=ready, notice=_notice)
    except USER_ERRORS as exc:
        raise click.ClickException(str(exc)) from exc


@main.group()
def queue() -> None:
    """Show the intake queue and act on submissions that need attention."""


def _open_queue(config_path: str | None) -> Queue:
    config = _load(config_path)
    try:
        return open_backend(config).queue(config.workspace_name)
    except USER_ERRORS as exc:
        raise click.ClickException(str(exc)) from exc


@queue.command("list")
@click.pass_obj
def queue_list(config_path: str | None) -> None:
    """List submissions waiting to land and those needing attention, with the reason."""
    q = _open_queue(config_path)
    try:
        waiting = q.items("pending") + q.items("leased")
        attention = q.needs_attention()
    finally:
        q.close()
    if not waiting and not attention:
        click.echo("The queue is empty: every submission has landed.")
        return
    for title, items in (("Waiting to land", waiting), ("Needs attention", attention)):
        if not items:
            continue
        click.echo(f"{title} ({len(items)}):")
        for item in sorted(items, key=lambda i: i["seq"]):
            target = item["opportunity_id"] or "-"
            reason = item["last_error"] or "not tried yet"
            click.echo(f"  {item['key']}  {item['kind']:<8} {target:<11} from {item['source']}, "
                       f"{item['attempts']} tries: {reason}")
    if attention:
        click.echo("Fix the cause, then `sheetsync queue retry ID` (or `sheetsync queue drop ID` to give up on it).")


@queue.command("retry")
@click.argument("key")
@click.pass_obj
def queue_retry(config_path: str | None, key: str) -> None:
    """Send a submission back to the queue now, with fresh tries."""
    q = _open_queue(config_path)
    try:
        if not q.retry(key.strip(), datetime.now(timezone.utc)):
            raise click.ClickException(_not_waiting(q, key))
    finally:
        q.close()
    click.echo(f"{key} is queued again; the next flush tries it.")


@queue.command("drop")
@click.argument("key")
@click.pass_obj
def queue_drop(config_path: str | None, key: str) -> None:
    """Give up on a submission: it never lands, and repeats of it stay ignored."""
    q = _open_queue(config_path)
    try:
        if not q.drop(key.strip(), datetime.now(timezone.utc)):
            raise click.ClickException(_not_waiting(q, key))
    finally:
        q.close()
    click.echo(f"{key} is dropped; it will not be written to the sheet.")


def _not_waiting(q: Queue, key: str) -> str:
    item = q.get(key.strip())
    if item is None:
        return f"No queued submission has the ID {key!r}: `sheetsync queue list` shows the IDs (IN-…)."
    if item["status"] == "leased":
        return f"{key} is being written right now; run `sheetsync queue list` again in a moment."
    return f"{key} has already {item['outcome'] or 'landed'}; there is nothing to retry or drop."


def _add_operations() -> None:
    """Register doctor, status, digest and import, which live in their own modules."""
    from .cli_import import import_command
    from .cli_ops import COMMANDS

    for command in (*COMMANDS, import_command):
        main.add_command(command)


_add_operations()


def _register_discipline_commands() -> None:
    from .cli_discipline import followup_link, handover

    main.add_command(handover)
    main.add_command(followup_link)


_register_discipline_commands()
