"""`opdigital demo`: load the demo data."""

from __future__ import annotations

import click
from flask.cli import with_appcontext


# `with_appcontext` because these are plain click commands: the test runner invokes them through
# `app.cli` (not a FlaskGroup), which pushes no application context by itself.
@click.command("demo")
@with_appcontext
def demo_command() -> None:
    """Load the demo data: regions, schools, four cycles, one account per role (idempotent).

    Refused (exit status 2) with the production settings: see `ensure_demo_allowed`.
    """
    from opdigital.demo.loader import DemoRefused, load_demo
    from opdigital.errors import DomainError

    try:
        report = load_demo()
    except DemoRefused as e:
        click.echo(f"Error: {e}", err=True)
        raise SystemExit(2) from e
    except DomainError as e:
        raise click.ClickException(f"Could not load the demo data: {e.message}") from e
    for line in report:
        click.echo(line)
