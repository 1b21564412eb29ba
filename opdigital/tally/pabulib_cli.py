"""`opdigital pb`: Pabulib files in and out.

`pb export` reads the database (through the app); `pb outcome` is pure and runs the same code as
`python -m opdigital.counting`. Flask is imported only when `pb export` runs, so that `pb outcome`
starts almost as fast as `python -m opdigital.counting` (tests/test_cli_start.py).
"""

from __future__ import annotations

import sys
from fractions import Fraction

import click

from opdigital.cli_support import with_appcontext
from opdigital.counting.__main__ import FILE_RULES, outcome
from opdigital.counting.pabulib import PabulibError


@click.group("pb")
def pb_group() -> None:
    """Pabulib (.pb) files: export a cycle's ballots, count any approval file."""


@pb_group.command("export")
@click.argument("cycle_slug")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, writable=True), help="File (default: stdout)."
)
@with_appcontext
def export_command(cycle_slug: str, output: str | None) -> None:
    """Write CYCLE_SLUG's anonymised ballots as a Pabulib .pb file."""
    from opdigital.errors import DomainError
    from opdigital.tally.pabulib_export import export_cycle

    try:
        if output is None:
            written = export_cycle(cycle_slug, sys.stdout)
        else:
            with open(output, "w", encoding="utf-8", newline="") as out:
                written = export_cycle(cycle_slug, out)
    except DomainError as e:
        raise click.ClickException(str(e.message)) from e
    if output is not None:
        click.echo(f"Wrote {written} ballots to {output}.", err=True)


@pb_group.command("outcome")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--rule", type=click.Choice(FILE_RULES), required=True)
@click.option(
    "--increment",
    default="1",
    show_default=True,
    help="mes-completed: per-voter budget step, in the file's currency.",
)
def outcome_command(file: str, rule: str, increment: str) -> None:
    """Print the project ids RULE selects in FILE, one per line."""
    try:
        step = Fraction(increment)
    except (ValueError, ZeroDivisionError):
        raise click.BadParameter("not a number", param_hint="--increment") from None
    if step <= 0:
        raise click.BadParameter("must be positive", param_hint="--increment")
    try:
        ids = outcome(file, rule, step)
    except PabulibError as e:
        raise click.ClickException(f"{file}: {e}") from e
    click.echo("".join(f"{pid}\n" for pid in ids), nl=False)
