"""The `opdigital` command starts without the app: `--help` and `pb outcome` import neither Flask
nor the app's libraries, the listing and options are still FlaskGroup's, and the commands that
need the app (Flask's own among them) still build it."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.cli import FlaskGroup

import opdigital
from benchmarks.count_mes import write_file
from opdigital.cli import FLASK_COMMANDS, PROJECT_COMMANDS, main
from tests.support.live import console_script

SCRIPT = Path(sys.executable).with_name("opdigital")
# What the app imports; none of it may be loaded to print the help or count a file.
APP_LIBRARIES = {
    "flask",
    "werkzeug",
    "jinja2",
    "flask_sqlalchemy",
    "sqlalchemy",
    "twilio",
    "shapely",
    "PIL",
    "opdigital.factory",
}
DEVELOPMENT = {"OPDIGITAL_CONFIG": "development"}


def run_script(*args: str) -> tuple[subprocess.CompletedProcess, set[str]]:
    """Run the installed console script under `-X importtime`: the finished process and every
    module it imported (with each parent package)."""
    done = subprocess.run(  # noqa: S603 - our interpreter and console script
        [sys.executable, "-X", "importtime", str(SCRIPT), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    imported = set()
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and not line.endswith("imported package"):
            name = line.rsplit("|", 1)[1].strip()
            parts = name.split(".")
            imported |= {".".join(parts[: i + 1]) for i in range(len(parts))}
    return done, imported


@pytest.fixture
def pb_file(tmp_path: Path) -> Path:
    path = tmp_path / "vote.pb"
    write_file(path, ballots=2_000, projects=12)
    return path


def test_help_imports_neither_flask_nor_the_apps_libraries():
    done, imported = run_script("--help")
    assert done.returncode == 0, done.stderr
    assert "pb         Pabulib (.pb) files" in done.stdout
    assert "opdigital.cli" in imported  # the probe sees the command's own imports
    assert imported & APP_LIBRARIES == set()
    done, imported = run_script("pb", "outcome", "--help")
    assert done.returncode == 0, done.stderr
    assert "--rule [greedy|mes|mes-completed]" in done.stdout
    assert imported & APP_LIBRARIES == set()


def test_a_command_that_needs_the_app_imports_flask_only_when_it_runs():
    # `users --help` loads the command's module (it uses Flask's `with_appcontext`), not the app.
    done, imported = run_script("users", "--help")
    assert done.returncode == 0, done.stderr
    assert "flask" in imported
    assert {"sqlalchemy", "twilio", "shapely", "PIL", "opdigital.factory"} & imported == set()


def test_building_the_app_leaves_shapely_and_alembic_until_they_are_needed():
    # `routes` builds the whole app (every blueprint, every model): Shapely (0.12 s) is imported
    # only when an outline is first parsed (`geo.shapes`), Flask-Migrate and Alembic (0.2 s)
    # when migrations are first used (`extensions.Migrations`), not by the app's start.
    done, imported = run_script("routes")
    assert done.returncode == 0, done.stderr
    assert "/api/v1/regions" in done.stdout
    assert {"opdigital.factory", "opdigital.geo.locations", "opdigital.geo.svg"} <= imported
    assert {"shapely", "alembic", "flask_migrate"} & imported == set()
    done, imported = run_script("db", "heads")
    assert done.returncode == 0, done.stderr
    assert "(head)" in done.stdout
    assert "alembic" in imported


def test_migrations_bind_flask_migrate_on_first_use(app):
    from flask_migrate import Migrate

    from opdigital.extensions import Migrations

    bare = type(app)("bound-later")
    Migrations().init_app(bare, "the db", directory="somewhere", render_as_batch=True)
    assert type(bare.extensions["migrate"]).__name__ == "_MigrateOnFirstUse"
    assert bare.extensions["migrate"].directory == "somewhere"  # read through: now bound
    bound = bare.extensions["migrate"]
    assert isinstance(bound.migrate, Migrate)
    assert bound.db == "the db" and bound.configure_args["render_as_batch"] is True


def test_pb_outcome_counts_without_flask_as_the_pure_entry_point_does(pb_file):
    done, imported = run_script("pb", "outcome", str(pb_file), "--rule", "mes")
    assert done.returncode == 0, done.stderr
    pure = subprocess.run(  # noqa: S603 - our interpreter
        [sys.executable, "-m", "opdigital.counting", str(pb_file), "--rule", "mes"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout == pure.stdout
    assert len(done.stdout.split()) >= 2
    assert imported & APP_LIBRARIES == set()
    done, _ = run_script("pb", "outcome", str(pb_file), "--rule", "borda")
    assert done.returncode == 2
    assert "'borda' is not one of 'greedy', 'mes', 'mes-completed'" in done.stderr


@pytest.fixture
def counted_app(app, monkeypatch):
    """`opdigital.create_app` (the factory the command loads) counting its calls and giving the
    test app; the app and environment the commands touch are restored afterwards."""
    built: list[object] = []

    def create_app(*args, **kwargs):
        built.append(args)
        return app

    monkeypatch.setattr(opdigital, "create_app", create_app)
    monkeypatch.setitem(app.config, "DEBUG", app.config["DEBUG"])  # ScriptInfo sets app.debug
    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "")  # set by the command: undone afterwards
    return built


def test_pb_outcome_builds_no_app_but_an_app_command_does(counted_app, pb_file):
    runner = CliRunner()
    result = runner.invoke(main, ["pb", "outcome", str(pb_file), "--rule", "greedy"])
    assert result.exit_code == 0, result.output
    assert result.output.split()
    assert counted_app == []
    result = runner.invoke(main, ["routes"])
    assert result.exit_code == 0, result.output
    assert "/api/v1/regions" in result.output
    assert counted_app == [()]


def test_the_help_is_flaskgroups_with_the_apps_commands(app, counted_app):
    flask_group = FlaskGroup(create_app=lambda: app, add_version_option=False, help=main.help)
    runner = CliRunner()
    expected = runner.invoke(flask_group, ["--help"], prog_name="opdigital")
    result = runner.invoke(main, ["--help"], prog_name="opdigital")
    assert result.exit_code == expected.exit_code == 0, result.output
    assert result.output == expected.output


def test_the_table_has_every_command_with_its_own_help(app):
    # The test runner invokes `app.cli`: the project's commands and Flask-Migrate's `db`.
    assert set(app.cli.commands) == set(PROJECT_COMMANDS) | {"db"}
    plugins = {ep.name for ep in entry_points(group="flask.commands")}
    assert plugins | {"run", "shell", "routes", "db"} == set(FLASK_COMMANDS)
    for name, entry in (PROJECT_COMMANDS | FLASK_COMMANDS).items():
        assert entry.load().get_short_help_str(limit=sys.maxsize) == entry.short_help, name


def test_flasks_own_commands_and_env_files_still_work(tmp_path):
    routes = console_script("routes", env=DEVELOPMENT)
    assert routes.returncode == 0, routes.stderr
    assert "/api/v1/regions" in routes.stdout
    heads = console_script("db", "heads", env=DEVELOPMENT)
    assert heads.returncode == 0, heads.stderr
    assert "(head)" in heads.stdout
    typo = console_script("tallly", env=DEVELOPMENT)
    assert typo.returncode == 2
    assert "No such command 'tallly'" in typo.stderr
    # FlaskGroup loads `.flaskenv` from the working directory; `shell` runs in the app context.
    (tmp_path / ".flaskenv").write_text("OPDIGITAL_START_PROBE=from-flaskenv\n")
    shell = subprocess.run(  # noqa: S603 - our console script
        [str(SCRIPT), "shell"],
        input="import os; print(os.environ['OPDIGITAL_START_PROBE'], app.name)\n",
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=os.environ | DEVELOPMENT,
        timeout=60,
        check=False,
    )
    assert shell.returncode == 0, shell.stderr
    assert "from-flaskenv opdigital" in shell.stdout
