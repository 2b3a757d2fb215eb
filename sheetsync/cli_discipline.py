"""`sheetsync handover` and `sheetsync followup-link`: thin commands over the discipline features."""

from __future__ import annotations

from datetime import datetime, timezone

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
