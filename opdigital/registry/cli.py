"""`opdigital registry import`: load an electoral roll (or an OPCA school roll) from CSV.

Exit status: 0 every row imported (or already there), 1 some rows rejected (the others are
imported), 2 the file is unusable (missing, not UTF-8, wrong header, unknown cycle): nothing is
imported then.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from opdigital.retention.cli import purge_command


@click.group("registry")
def registry_group() -> None:
    """Manage the rolls that say who may vote."""


# `registry purge` lives with the other retention rules (opdigital/retention/cli.py).
registry_group.add_command(purge_command)


@registry_group.command("import")
@click.argument("target", metavar="[CYCLE_SLUG] FILE")
@click.argument("file", required=False, metavar="")
@click.option(
    "--city",
    is_flag=True,
    help="Load the city's roll, shared by every cycle whose registry scope is 'city'.",
)
@with_appcontext
def import_command(target: str, file: str | None, city: bool) -> None:
    """Load FILE into CYCLE_SLUG's own roll, or with --city into the city's roll.

    FILE is UTF-8 CSV with the header titulo,birth_date,region (for OPCA cycles:
    school,enrolment,birth_date). Bad rows are listed on stderr with their line number.

    \b
    Examples:
      opdigital registry import --city eleitores.csv
      opdigital registry import opca-2026 alunos.csv
    """
    from opdigital.registry.importer import UnusableFile, count_lines
    from opdigital.registry.services import import_registry

    if city and file is not None:
        raise click.UsageError("With --city give only FILE (the city's roll has no cycle).")
    if not city and file is None:
        raise click.UsageError("Give CYCLE_SLUG and FILE, or --city FILE.")
    cycle_slug, path = (None, Path(target)) if city else (target, Path(file))

    try:
        if sys.stdout.isatty() and path.is_file():
            total = max(count_lines(path) - 1, 0)
            with click.progressbar(length=total, label="Importing", file=sys.stderr) as bar:
                report = import_registry(
                    path, cycle_slug=cycle_slug, city=city, progress=bar.update
                )
        else:
            report = import_registry(path, cycle_slug=cycle_slug, city=city)
    except UnusableFile as e:
        click.echo(f"Error: {e} Nothing was imported.", err=True)
        click.get_current_context().exit(2)

    for rejection in report.rejected:
        click.echo(f"line {rejection.line}: {rejection.message}", err=True)
    click.echo(
        f"Roll {report.scope}: {report.rows} rows read, {report.inserted} inserted, "
        f"{report.updated} updated, {report.unchanged} unchanged, "
        f"{len(report.rejected)} rejected."
    )
    _warn_unused_scope(cycle_slug, report.scope)
    if report.rejected:
        click.echo(f"{len(report.rejected)} rows rejected (listed above).", err=True)
        click.get_current_context().exit(1)


def _warn_unused_scope(cycle_slug: str | None, scope: str) -> None:
    """A cycle roll is only consulted when the cycle's registry scope points at it: say so."""
    if cycle_slug is None:
        return
    import sqlalchemy as sa

    from opdigital.cycles.models import Cycle
    from opdigital.extensions import db

    in_use = db.session.scalar(sa.select(Cycle.registry_scope).where(Cycle.slug == cycle_slug))
    if in_use != scope:
        click.echo(
            f"Note: cycle {cycle_slug} checks voters against the {in_use!r} roll; set its "
            f"registry scope to {scope!r} to use this one.",
            err=True,
        )
