"""The `sheetsync` command: a thin layer over the library, turning its errors into plain messages."""

from __future__ import annotations

import logging
import secrets
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import click

from . import config as cfg
from .core.schema import LayoutError
from .ports import StoreError
from .state import State
from .stores import open_store
from .sync import Syncer
from .template import load_layout

USER_ERRORS = (cfg.ConfigError, LayoutError, StoreError)


def _load(config_path: str | None) -> cfg.Config:
    try:
        return cfg.load(config_path)
    except cfg.ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


def build_syncer(config: cfg.Config) -> Syncer:
    """A Syncer for the configured store and state directory."""
    return Syncer(open_store(config), config, State(config.state_path))


@click.group()
@click.option("--config", "config_path", envvar="SHEETSYNC_CONFIG", type=click.Path(dir_okay=False),
              help="Config file to use (default: ./sheetsync.toml).")
@click.option("-v", "--verbose", is_flag=True, help="Log what each cycle does.")
@click.pass_context
def main(ctx: click.Context, config_path: str | None, verbose: bool) -> None:
    """Run a sales pipeline inside the spreadsheet your team already shares."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    ctx.obj = config_path


@main.command()
@click.option("--template", type=click.Choice(["en", "zh"]), help="Workbook language (default: en).")
@click.option("--workbook", type=click.Path(dir_okay=False), help="Workbook path (default: pipeline.xlsx).")
@click.option("--store", type=click.Choice(["excel", "google"]), help="Where the pipeline lives.")
@click.pass_obj
def init(config_path: str | None, template: str | None, workbook: str | None, store: str | None) -> None:
    """Create or complete the opportunity workbook and write sheetsync.toml."""
    config = _load(config_path)
    first_time = config.source is None
    overrides = {k: val for k, val in (("template", template), ("workbook", workbook), ("store", store)) if val}
    language = overrides.get("template", config.template)
    try:
        if first_time:
            overrides.setdefault("timezone", load_layout(language, datetime.now().date()).timezone)
        config = config.with_values(**overrides)
        layout = load_layout(config.template, datetime.now(config.tz).date())
        new_secret = None
        if not config.secrets_for("generic"):
            new_secret = secrets.token_urlsafe(32)
            config = replace(config, secrets={**config.secrets, "generic": (new_secret,),
                                                  "google-forms": (new_secret,), "followup": (new_secret,)})
        changes = open_store(config).setup(layout)
    except USER_ERRORS as exc:
        raise click.ClickException(str(exc)) from exc
    target = Path(config_path) if config_path else (config.source or Path(cfg.CONFIG_FILE))
    if first_time or overrides or new_secret:
        target.write_text(cfg.render(config), encoding="utf-8")
        click.echo(f"Wrote settings to {target}")
    for line in changes or ["The workbook already has every tab and column; nothing to add."]:
        click.echo(f"  {line}")
    if new_secret:
        click.echo("\nWebhook secret (shown once; it is stored in the config file's [secrets]):")
        click.echo(f"  {new_secret}")
    click.echo("\nNext: type a few rows into Opportunities, then run `sheetsync sync`.")


@main.command()
@click.pass_obj
def sync(config_path: str | None) -> None:
    """Run one sync cycle: IDs, owners, checks, reminders, history and the Summary tab."""
    config = _load(config_path)
    try:
        report = build_syncer(config).run_cycle(datetime.now(timezone.utc))
    except USER_ERRORS as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Synced {open_store(config).describe()}: {report.line()}.")


@main.command()
@click.option("--host", help="Address to listen on (default: the config's host, 127.0.0.1).")
@click.option("--port", type=int, help="Port to listen on (default: the config's port, 8080).")
@click.pass_obj
def serve(config_path: str | None, host: str | None, port: int | None) -> None:
    """Serve the webhook and run the flush and sync jobs in this one process."""
    from webhook.server import serve as run_server

    config = _load(config_path)
    try:
        syncer = build_syncer(config)
        click.echo(f"sheetsync: webhook on http://{host or config.host}:{port or config.port}/hooks/<source>, "
                   f"store {syncer.store.describe()}, sync every {config.sync_interval} s. Ctrl+C stops.")
        run_server(config, syncer, host, port)
    except USER_ERRORS as exc:
        raise click.ClickException(str(exc)) from exc


@main.command()
@click.pass_obj
def worker(config_path: str | None) -> None:
    """Run only the flush and sync jobs (when gunicorn serves the webhook)."""
    from .runner import worker as run_worker

    config = _load(config_path)
    try:
        run_worker(config, build_syncer(config))
    except USER_ERRORS as exc:
        raise click.ClickException(str(exc)) from exc
