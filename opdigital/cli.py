"""The `opdigital` command: Flask's own commands (run, db, shell) plus the project's."""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import FlaskGroup, with_appcontext

from opdigital.geo.cli import regions_group
from opdigital.mail.cli import mail_group
from opdigital.phone.cli import phone_group
from opdigital.privacy.cli import privacy_group
from opdigital.registry.cli import registry_group
from opdigital.retention.cli import retention_group
from opdigital.tally.cli import COMMANDS as TALLY_COMMANDS
from opdigital.tally.pabulib_cli import pb_group


def _create_app():
    from opdigital import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False)
def main() -> None:
    """OP Digital: participatory-budget cycles, proposals, votes and tallies."""


def register_commands(app: Flask) -> None:
    """Add the project's commands to the app's `flask`/`opdigital` command group."""
    app.cli.add_command(demo_command)
    app.cli.add_command(users_group)
    app.cli.add_command(registry_group)
    app.cli.add_command(privacy_group)
    app.cli.add_command(retention_group)
    app.cli.add_command(mail_group)
    app.cli.add_command(pb_group)
    app.cli.add_command(regions_group)
    app.cli.add_command(phone_group)
    for command in TALLY_COMMANDS:
        app.cli.add_command(command)


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


@click.group("users")
def users_group() -> None:
    """Manage staff accounts."""


@users_group.command("create")
@click.argument("email")
@click.option(
    "--role",
    # Poll workers are bound to a point and a cycle: the coordination screens create them.
    type=click.Choice(["admin", "coordinator", "auditor", "privacy_officer", "monitor"]),
    required=True,
    help=(
        "What the account may do (privacy_officer: the encarregado's request queue; monitor: a "
        "Comforça member's reports on the works of their region, with --region)."
    ),
)
@click.option("--name", default="", help="Full name shown in the audit log.")
@click.option(
    "--region",
    "region",
    default="",
    metavar="SLUG",
    help="The region a monitor follows (required with --role monitor, refused otherwise).",
)
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from the first line of stdin."
)
@with_appcontext
def create_user_command(
    email: str, role: str, name: str, region: str, password_stdin: bool
) -> None:
    """Create a staff account EMAIL with ROLE; asks for the password unless --password-stdin."""
    from opdigital.accounts.services import NewUser, create_user
    from opdigital.errors import DomainError

    if role == "monitor" and not region:
        raise click.UsageError("--role monitor needs --region SLUG (the region they follow).")
    if region and role != "monitor":
        raise click.UsageError("--region is only for --role monitor.")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = create_user(
            NewUser(email=email, password=password, role=role, name=name, region=region)
        )
    except DomainError as e:
        raise click.ClickException(e.message) from e
    click.echo(f"Created {user.role} account {user.email}.")
