"""Command groups that import their commands when used, and Flask only for commands using it.

Importing Flask takes about 0.1 s on the project's machine and the whole app about 1 s, while
`opdigital --help` and `opdigital pb outcome` (pure counting) should start at once. So a group
names its commands as "module:attribute" with the one-line help its `--help` lists, and imports
a command only when it runs. Commands that may load the app get Flask's `ScriptInfo`, as
`FlaskGroup` gives them; the app itself is built by their `with_appcontext`, when they run.

Standard library and click only at import time (tests/test_cli_start.py checks it).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import update_wrapper
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class LazyCommand:
    """A command named by where it lives, with the one-line help that `--help` lists for it."""

    target: str  # "package.module:attribute"
    short_help: str  # its first sentence (tests check it against the command's own help)
    flask: bool = True  # may load the app: runs with Flask's ScriptInfo, like FlaskGroup's

    def load(self) -> click.Command:
        module, _, attribute = self.target.partition(":")
        return getattr(importlib.import_module(module), attribute)


class LazyGroup(click.Group):
    """A click group whose `lazy_commands` are imported the first time they are looked up."""

    def __init__(
        self, *args: Any, lazy_commands: Mapping[str, LazyCommand] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands = dict(lazy_commands or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy_commands:
            self.commands[cmd_name] = self.lazy_commands[cmd_name].load()
        return super().get_command(ctx, cmd_name)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        entry = self.lazy_commands.get(name or "")
        if command is not None and entry is not None and entry.flask:
            script_info(ctx)
        return name, command, rest

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """As click's, but a command not imported yet is listed with its table help."""
        listed: list[tuple[str, click.Command]] = []
        for name in self.list_commands(ctx):
            if name in self.commands:
                command: click.Command | None = self.commands[name]
            elif name in self.lazy_commands:
                # A stand-in: click shortens its help exactly as the real command's.
                command = click.Command(name, help=self.lazy_commands[name].short_help)
            else:
                command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                listed.append((name, command))
        if not listed:
            return
        limit = formatter.width - 6 - max(len(name) for name, _ in listed)
        with formatter.section("Commands"):
            formatter.write_dl([(name, cmd.get_short_help_str(limit)) for name, cmd in listed])


def create_app():
    """The app factory the `opdigital` command loads (imported only when a command needs it)."""
    from opdigital import create_app

    return create_app()


def script_info(ctx: click.Context):
    """Flask's ScriptInfo for `ctx`: the one given (the test runner's, an outer command's), or a
    new one loading `create_app` as `FlaskGroup` would. Imports Flask."""
    from flask.cli import ScriptInfo

    info = ctx.find_object(ScriptInfo)
    if info is None:
        os.environ["FLASK_RUN_FROM_CLI"] = "true"  # as FlaskGroup: app.run() becomes a no-op
        info = ctx.obj = ScriptInfo(
            create_app=create_app, set_debug_flag=True, load_dotenv_defaults=True
        )
    return info


def with_appcontext(f: F) -> F:
    """Flask's `with_appcontext`, with Flask imported when the command runs, not when it is
    defined: for a command that shares a module with pure ones (`pb export` beside `pb outcome`).
    """

    def run(*args: Any, **kwargs: Any) -> Any:
        from flask.cli import with_appcontext as flask_with_appcontext

        script_info(click.get_current_context())
        return flask_with_appcontext(f)(*args, **kwargs)

    return update_wrapper(run, f)  # type: ignore[return-value]
