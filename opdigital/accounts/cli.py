"""`opdigital users create`: staff accounts from the command line."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext


# `with_appcontext`: the test runner invokes these through `app.cli` (not a FlaskGroup), which
# pushes no application context by itself.
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
