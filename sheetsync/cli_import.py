"""`sheetsync import FILE`: the click command over sheetsync.importer and Syncer.import_rows."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import click

from .core.importing import ImportPlan, ImportRow
from .core.schema import OPPORTUNITIES
from .importer import FileProblem, map_columns, parse_maps, read_table, to_rows
from .messages import say

DETAIL_LINES = 20
"""Rows listed per section of the report (-v lists every imported row as well)."""


def _chunks(rows: Sequence[ImportRow], size: int) -> list[Sequence[ImportRow]]:
    return [rows[i:i + size] for i in range(0, len(rows), size)] or [rows]


def _listed(lines: list[str], language: str, limit: int = DETAIL_LINES) -> None:
    for line in lines[:limit]:
        click.echo(line)
    if len(lines) > limit:
        click.echo(say("page.import.more", language, n=len(lines) - limit))


def _report(plans: Sequence[ImportPlan], language: str, verbose: bool) -> None:
    imported = [row for p in plans for row in p.imported]
    merged = [m for p in plans for m in p.merged]
    rejected = sorted(r for p in plans for r in p.rejected)
    flagged = [f for p in plans for f in p.flagged]
    click.echo(say("page.import.summary", language, imported=len(imported), merged=len(merged),
                   rejected=len(rejected)))
    if verbose:
        _listed([say("page.import.imported_line", language, line=line, id=ident, customer=customer,
                     owner=owner or "-") for line, ident, customer, owner in imported], language, len(imported))
    if merged:
        click.echo(say("page.import.merged_head", language))
        _listed([say("page.import.merged_line", language, line=m.line, customer=m.customer, id=m.into,
                     signal=say(f"discipline.signal.{m.signal}", language),
                     filled=say("page.import.filled", language, columns=", ".join(
                         OPPORTUNITIES.column(k).name(language) for k in m.filled)) if m.filled else "")
                 for m in merged], language)
    if flagged:
        click.echo(say("page.import.flagged_head", language))
        _listed([say("page.import.flagged_line", language, line=line, id=ident, note=note)
                 for line, ident, note in flagged], language)
    if rejected:
        click.echo(say("page.import.rejected_head", language))
        _listed([say("page.import.rejected_line", language, line=line, reason=reason) for line, reason in rejected],
                language)


@click.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--map", "maps", multiple=True, metavar="HEADER=COLUMN",
              help="Read a header the mapping does not know as a column, e.g. --map \"Company size=Level\" "
                   "(\"Header=-\" leaves it out). Repeat for several.")
@click.option("--sheet", help="Sheet of an .xlsx file to read (default: the first).")
@click.option("--dry-run", is_flag=True, help="Check, de-duplicate and report, but write nothing.")
@click.option("--batch-size", type=click.IntRange(1, 5000), default=500, show_default=True,
              help="Rows per write.")
@click.pass_context
def import_command(ctx: click.Context, file: Path, maps: tuple[str, ...], sheet: str | None, dry_run: bool,
                   batch_size: int) -> None:
    """Import leads from a CSV or XLSX export: validate, de-duplicate, assign by Rules, report."""
    from .cli import USER_ERRORS, _load, build_syncer

    config = _load(ctx.obj)
    language = config.template
    try:
        table = read_table(file, sheet)
        mapping = map_columns(table.headers, {**config.field_map, **parse_maps(maps)})
    except FileProblem as exc:
        raise click.ClickException(str(exc)) from exc
    if "customer" not in mapping.columns.values():
        raise click.ClickException(say("page.import.no_customer_column", language, file=file.name))
    rows = to_rows(table, mapping)
    used = ", ".join(f"{table.headers[i]} -> {OPPORTUNITIES.column(k).name(language)}"
                     for i, k in mapping.columns.items())
    click.echo(say("page.import.read", language, file=file.name, rows=len(rows), columns=used))
    if mapping.unmatched:
        click.echo(say("page.import.unmatched", language, headers=", ".join(mapping.unmatched)))
    click.echo(say("page.import.dedupe_rules", language))
    source = f"import ({file.name})"
    plans: list[ImportPlan] = []
    try:
        syncer = build_syncer(config, "import")
        if dry_run:
            plans.append(syncer.import_rows(rows, source, dry_run=True))
        else:
            with click.progressbar(length=len(rows), label=say("page.import.progress", language),
                                   file=sys.stderr) as bar:
                for chunk in _chunks(rows, batch_size):
                    plans.append(syncer.import_rows(chunk, source))
                    bar.update(len(chunk))
    except USER_ERRORS as exc:
        if plans:
            _report(plans, language, False)
        raise click.ClickException(say("page.import.stopped", language, error=exc,
                                       done=sum(len(p.imported) + len(p.merged) + len(p.rejected) for p in plans),
                                       total=len(rows))) from exc
    _report(plans, language, bool(ctx.find_root().meta.get("sheetsync.verbose")))
    if dry_run:
        click.echo(say("page.import.dry_run", language))
    else:
        click.echo(say("page.import.done", language, store=syncer.store.describe()))
