"""The `opdigital` command: Flask's own commands (run, db, shell) plus the project's.

It starts in a few hundredths of a second: only click is imported until a command runs, each
command is imported when used (the table below, with the one-line help that `--help` lists), and
Flask's app is built only by the commands that need it (`with_appcontext`), never for `--help`
or `pb outcome`. The options and the listing are FlaskGroup's (tests/test_cli_start.py compares
them with a real FlaskGroup's).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import click
from click.core import ParameterSource

from opdigital.cli_support import LazyCommand, LazyGroup, create_app, script_info

if TYPE_CHECKING:
    from flask import Flask

# The project's commands, also registered on `app.cli` (Flask's test runner invokes those).
PROJECT_COMMANDS = {
    "demo": LazyCommand(
        "opdigital.demo.cli:demo_command",
        "Load the demo data: regions, schools, four cycles, one account per role (idempotent).",
    ),
    "users": LazyCommand("opdigital.accounts.cli:users_group", "Manage staff accounts."),
    "registry": LazyCommand(
        "opdigital.registry.cli:registry_group", "Manage the rolls that say who may vote."
    ),
    "privacy": LazyCommand(
        "opdigital.privacy.cli:privacy_group", "The privacy notice's record of processing."
    ),
    "retention": LazyCommand(
        "opdigital.retention.cli:retention_group",
        'Apply the retention rules (docs/data-model.md, "Retention").',
    ),
    "mail": LazyCommand(
        "opdigital.mail.cli:mail_group", "Send the outbox's e-mails; check the mail settings."
    ),
    # Not Flask's: `pb outcome` is pure counting; `pb export` asks for the app itself.
    "pb": LazyCommand(
        "opdigital.tally.pabulib_cli:pb_group",
        "Pabulib (.pb) files: export a cycle's ballots, count any approval file.",
        flask=False,
    ),
    "regions": LazyCommand("opdigital.geo.cli:regions_group", "Manage the city's regions."),
    "phone": LazyCommand(
        "opdigital.phone.cli:phone_group",
        "The voice line: recorded prompts and a simulated caller (docs/phone.md).",
    ),
    "keys": LazyCommand(
        "opdigital.tally.cli:keys_group", "The Ed25519 key that signs tally packages."
    ),
    "board": LazyCommand("opdigital.tally.cli:board_group", "The ballot board."),
    "cycle": LazyCommand(
        "opdigital.tally.cli:cycle_group", "A cycle's vote: close it, publish its results."
    ),
    "tally": LazyCommand(
        "opdigital.tally.cli:tally_command",
        "Count CYCLE (closed) into its signed tally package and write it to --out.",
    ),
    "verify": LazyCommand(
        "opdigital.tally.cli:verify_command",
        "Verify a tally package (same as `python -m opdigital.ledger.verify`).",
        flask=False,
    ),
}

# What FlaskGroup adds: its own commands, Flask-Migrate's `db` (registered on `app.cli` by
# `Migrate.init_app`) and the `flask.commands` plugins installed with the app (Flask-Limiter's).
FLASK_COMMANDS = {
    "run": LazyCommand("flask.cli:run_command", "Run a development server."),
    "shell": LazyCommand("flask.cli:shell_command", "Run a shell in the app context."),
    "routes": LazyCommand("flask.cli:routes_command", "Show the routes for the app."),
    "db": LazyCommand("flask_migrate.cli:db", "Perform database migrations."),
    "limiter": LazyCommand(
        "flask_limiter.commands:cli", "Flask-Limiter maintenance & utility commands"
    ),
}


def _default_env_files() -> bool:
    """Whether a `.env` or `.flaskenv` is in the working directory or above (where Flask's
    `load_dotenv` looks)."""
    here = Path.cwd()
    return any(
        (d / name).is_file() for d in (here, *here.parents) for name in (".env", ".flaskenv")
    )


def _load_env_files(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """FlaskGroup's `--env-file`: that file, and `.env` and `.flaskenv`; Flask imported only
    when there is one."""
    if value is None and not _default_env_files():
        return None
    from flask.cli import load_dotenv

    try:
        import dotenv  # noqa: F401
    except ImportError:
        if value is not None:
            raise click.BadParameter(
                "python-dotenv must be installed to load an env file.", ctx=ctx, param=param
            ) from None
    load_dotenv(value, load_defaults=script_info(ctx).load_dotenv_defaults)
    return value


def _set_app(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """FlaskGroup's `--app`: another app to load instead of ours."""
    if value is not None:
        script_info(ctx).app_import_path = value
    return value


def _set_debug(ctx: click.Context, param: click.Parameter, value: bool) -> bool | None:
    """FlaskGroup's `--debug/--no-debug`: only when given (or FLASK_DEBUG is set), through the
    environment so that the app factory sees it."""
    source = ctx.get_parameter_source(param.name or "")
    if source is None or source in (
        ParameterSource.DEFAULT,
        ParameterSource.DEFAULT_MAP,
    ):
        return None
    os.environ["FLASK_DEBUG"] = "1" if value else "0"
    return value


# FlaskGroup's options, declared here so that `--help` needs no Flask (same words: the test
# compares the help with FlaskGroup's). `--env-file` first: it is processed before `--app`.
FLASK_OPTIONS = [
    click.Option(
        ["-e", "--env-file"],
        type=click.Path(exists=True, dir_okay=False),
        help=(
            "Load environment variables from this file, taking precedence over"
            " those set by '.env' and '.flaskenv'. Variables set directly in the"
            " environment take highest precedence. python-dotenv must be installed."
        ),
        is_eager=True,
        expose_value=False,
        callback=_load_env_files,
    ),
    click.Option(
        ["-A", "--app"],
        metavar="IMPORT",
        help=(
            "The Flask application or factory function to load, in the form 'module:name'."
            " Module can be a dotted import or file path. Name is not required if it is"
            " 'app', 'application', 'create_app', or 'make_app', and can be 'name(args)' to"
            " pass arguments."
        ),
        is_eager=True,
        expose_value=False,
        callback=_set_app,
    ),
    click.Option(
        ["--debug/--no-debug"], help="Set debug mode.", expose_value=False, callback=_set_debug
    ),
]


class OpdigitalGroup(LazyGroup):
    """The table's commands, and FlaskGroup's lookup for any other name (a plugin's command,
    one the app registers; a typo then builds the app before saying there is no such command)."""

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None:
            from flask.cli import FlaskGroup

            script_info(ctx)
            command = FlaskGroup(create_app=create_app, add_version_option=False).get_command(
                ctx, cmd_name
            )
        return command


@click.group(
    cls=OpdigitalGroup,
    lazy_commands=PROJECT_COMMANDS | FLASK_COMMANDS,
    params=FLASK_OPTIONS,
    context_settings={"auto_envvar_prefix": "FLASK"},
)
def main() -> None:
    """OP Digital: participatory-budget cycles, proposals, votes and tallies."""


def register_commands(app: Flask) -> None:
    """Add the project's commands to the app's `flask`/`opdigital` command group."""
    for name, command in PROJECT_COMMANDS.items():
        app.cli.add_command(command.load(), name)
