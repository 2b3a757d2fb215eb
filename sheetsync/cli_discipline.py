"""`sheetsync handover` and `sheetsync followup-link`: thin commands over the discipline features."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import click

from .core.handover import HandoverError
from .messages import say


@click.command()
@click.argument("from_", metavar="FROM")
@click.option("--to", "to", default="", help="Give every open deal to this rep (default: by the Rules tab).")
@click.option("--dry-run", is_flag=True, help="Print the plan and write nothing.")
@click.pass_obj
def handover(config_path: str | None, from_: str, to: str, dry_run: bool) -> None:
    """Hand a leaving rep's open deals to TO, or by the Rules tab without them (离职交接)."""
    from .cli import USER_ERRORS, _load, build_syncer, deliver_now

    config = _load(config_path)
    language = config.template
    try:
        syncer = build_syncer(config, "handover")
        moves = syncer.handover(from_, to, dry_run=dry_run, now=datetime.now(timezone.utc))
    except (*USER_ERRORS, HandoverError) as exc:
        raise click.ClickException(str(exc)) from exc
    mine = [m for m in moves if m.previous.casefold() == from_.casefold()]
    if not mine:
        click.echo(say("discipline.cli_nothing", language, name=from_))
    elif dry_run:
        click.echo(say("discipline.cli_dry_run", language, name=from_, count=len(mine)))
    else:
        click.echo(say("discipline.cli_done", language, name=from_, count=len(mine)))
    for m in moves:
        click.echo(say("discipline.cli_move", language, id=m.id, customer=m.customer, previous=m.previous,
                       owner=m.owner, rule=m.rule))
    if not dry_run:
        deliver_now(syncer, language)


@click.command("followup-link")
@click.argument("name")
@click.option("--days", type=click.IntRange(1, 3650), help="Days the link stays valid (default: followup_link_days).")
@click.pass_obj
def followup_link(config_path: str | None, name: str, days: int | None) -> None:
    """Print NAME's signed link to the phone follow-up page (/f/<token>)."""
    from .cli import _load
    from .followup_link import make_token

    config = _load(config_path)
    language = config.template
    keys = config.secrets_for("followup")
    if not keys:
        raise click.ClickException(say("discipline.cli_no_secret", language))
    until = datetime.now(timezone.utc) + timedelta(days=days or config.followup_link_days)
    base = (config.public_url or f"http://{config.host}:{config.port}").rstrip("/")
    click.echo(say("discipline.cli_link", language, name=name, until=until.astimezone(config.tz).date().isoformat()))
    click.echo(f"  {base}/f/{make_token(keys[0], name, int(until.timestamp()))}")
