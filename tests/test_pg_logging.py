"""PostgreSQL settings that would log a whole vote: named at start and in /healthz.

The rules are checked on plain values first, then against the real server: a role made for the
test gets the settings with ALTER ROLE (and ALTER ROLE ... IN DATABASE), the app connects as
that role, and the warnings appear; the ALTER ROLE lines of docs/deploy.md make them go away.
"""

from __future__ import annotations

import logging
import re
import uuid
from pathlib import Path
from types import SimpleNamespace

import psycopg
import pytest
from sqlalchemy.engine import make_url

from opdigital.extensions import db
from opdigital.health.checks import logging_risks
from tests.support.api import assert_matches_spec

ROOT = Path(__file__).resolve().parent.parent
# PostgreSQL 15's defaults for what the check reads (auto_explain not loaded).
DEFAULTS = {
    "log_statement": "none",
    "log_min_duration_statement": "-1",
    "log_min_duration_sample": "-1",
    "log_statement_sample_rate": "1",
    "log_transaction_sample_rate": "0",
    "log_parameter_max_length": "-1",
    "log_parameter_max_length_on_error": "0",
    "log_min_messages": "warning",
    "debug_print_plan": "off",
}
AUTO_EXPLAIN = {"auto_explain.log_min_duration": "-1", "auto_explain.sample_rate": "1"}


def risky(**changes: str) -> list[str]:
    return [r.setting for r in logging_risks(DEFAULTS | changes)]


# --- the rules --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, []),
        # Statements logged: with their parameters (the default -1 logs them whole).
        ({"log_statement": "all"}, ["log_statement", "log_parameter_max_length"]),
        ({"log_statement": "mod"}, ["log_statement", "log_parameter_max_length"]),
        ({"log_statement": "ddl"}, []),
        (
            {"log_min_duration_statement": "0"},
            ["log_min_duration_statement", "log_parameter_max_length"],
        ),
        (
            {"log_min_duration_statement": "250"},
            ["log_min_duration_statement", "log_parameter_max_length"],
        ),
        (
            {"log_min_duration_statement": "0", "log_parameter_max_length": "0"},
            ["log_min_duration_statement"],
        ),
        (
            {"log_min_duration_sample": "0"},
            ["log_min_duration_sample", "log_parameter_max_length"],
        ),
        ({"log_min_duration_sample": "0", "log_statement_sample_rate": "0"}, []),
        (
            {"log_transaction_sample_rate": "0.01"},
            ["log_transaction_sample_rate", "log_parameter_max_length"],
        ),
        # Parameters logged only matter when statements are.
        ({"log_parameter_max_length": "64"}, []),
        # A duration holds no text; the failing statement's text holds placeholders only.
        ({"log_duration": "on"}, []),
        ({"log_min_error_statement": "debug5"}, []),
        # Parameters added to errors: whenever errors reach the log, log_min_error_statement
        # or not (checked on PostgreSQL 15: the CONTEXT line is part of the error itself).
        ({"log_parameter_max_length_on_error": "-1"}, ["log_parameter_max_length_on_error"]),
        (
            {"log_parameter_max_length_on_error": "64", "log_min_error_statement": "panic"},
            ["log_parameter_max_length_on_error"],
        ),
        ({"log_parameter_max_length_on_error": "-1", "log_min_messages": "fatal"}, []),
        ({"debug_print_plan": "on"}, ["debug_print_plan"]),
        # auto_explain: only when loaded (its settings listed), logging, and sampling.
        ({"auto_explain.log_min_duration": "0"}, ["auto_explain.log_min_duration"]),
        (AUTO_EXPLAIN | {"auto_explain.log_min_duration": "0"}, ["auto_explain.log_min_duration"]),
        (AUTO_EXPLAIN, []),
        (
            AUTO_EXPLAIN | {"auto_explain.log_min_duration": "0", "auto_explain.sample_rate": "0"},
            [],
        ),
    ],
)
def test_which_values_are_dangerous(changes, expected):
    assert risky(**changes) == expected


def test_settings_missing_from_an_older_server_count_as_their_defaults():
    settings = {"log_statement": "all"}  # nothing else known
    assert [r.setting for r in logging_risks(settings)] == [
        "log_statement",
        "log_parameter_max_length",
    ]


# --- against the real server --------------------------------------------------------------


def _admin_dsn(database_url: str) -> str:
    return make_url(database_url).set(drivername="postgresql").render_as_string(False)


@pytest.fixture
def role(database_url):
    """A login role of its own (settings on it touch no other test); dropped afterwards.

    `role.run(sql)` runs SQL written for the role `opdigital` (as in docs/deploy.md) on it.
    """
    name = f"opdigital_logcheck_{uuid.uuid4().hex[:8]}"
    database = make_url(database_url).database
    admin = psycopg.connect(_admin_dsn(database_url), autocommit=True)
    admin.execute(f'CREATE ROLE "{name}" LOGIN')

    def run(sql: str) -> None:
        sql = sql.replace("ALTER ROLE opdigital ", f'ALTER ROLE "{name}" ', 1)
        admin.execute(sql.replace("{database}", database))

    url = make_url(database_url).set(username=name).render_as_string(False)
    yield SimpleNamespace(name=name, url=url, run=run)
    admin.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", [name]
    )
    admin.execute(f'DROP ROLE "{name}"')
    admin.close()


@pytest.fixture
def app_as(make_app, redis_url):
    """Apps connected to `url`; their connections are closed before the role is dropped."""
    made = []

    def build(url: str, **overrides):
        app = make_app(
            "testing",
            SQLALCHEMY_DATABASE_URI=url,
            REDIS_URL=redis_url,
            RATELIMIT_STORAGE_URI="memory://",
            **overrides,
        )
        made.append(app)
        return app

    yield build
    for app in made:
        with app.app_context():
            db.engine.dispose()


def healthz_warnings(app) -> list[str]:
    """Names in /healthz's warnings, on fresh connections (role settings apply at connect)."""
    with app.app_context():
        db.engine.dispose()
    response = app.test_client().get("/healthz")
    assert_matches_spec(response, "/healthz", "get", 200)  # a warning is not a failure
    assert response.get_json()["status"] == "ok"
    return [w["setting"] for w in response.get_json()["warnings"]]


def deploy_doc_lines() -> list[str]:
    """The ALTER ROLE lines that docs/deploy.md gives to turn the settings off."""
    text = (ROOT / "docs" / "deploy.md").read_text()
    section = text.split("## PostgreSQL logging and ballot secrecy", 1)[1].split("\n## ", 1)[0]
    lines = re.findall(r"^ALTER ROLE opdigital SET .+;$", section, flags=re.MULTILINE)
    assert len(lines) >= 6
    return lines


def test_healthz_names_settings_of_the_apps_role_until_the_documented_lines_run(role, app_as):
    app = app_as(role.url)
    assert healthz_warnings(app) == []

    role.run("ALTER ROLE opdigital SET log_statement = 'all'")
    role.run("ALTER ROLE opdigital SET log_min_duration_statement = 0")
    # Given to the role in this database only: the strongest override of all.
    role.run(
        'ALTER ROLE opdigital IN DATABASE "{database}" SET log_parameter_max_length_on_error = -1'
    )
    response = app.test_client().get("/healthz")  # the pooled connection predates them
    assert response.get_json()["warnings"] == []
    assert healthz_warnings(app) == [
        "log_statement",
        "log_min_duration_statement",
        "log_parameter_max_length",
        "log_parameter_max_length_on_error",
    ]
    body = app.test_client().get("/healthz").get_json()
    assert {"setting": "log_statement", "value": "all"} in body["warnings"]

    for line in deploy_doc_lines():
        role.run(line)
    # As the docs say: a setting given to the role in one database wins over the role's own.
    assert healthz_warnings(app) == ["log_parameter_max_length_on_error"]
    role.run(
        'ALTER ROLE opdigital IN DATABASE "{database}" RESET log_parameter_max_length_on_error'
    )
    assert healthz_warnings(app) == []


def test_auto_explain_loaded_for_the_role_is_named(role, app_as):
    app = app_as(role.url)
    # Set without the module loaded: a placeholder, nothing is logged, nothing to say.
    role.run("ALTER ROLE opdigital SET auto_explain.log_min_duration = 0")
    assert healthz_warnings(app) == []
    role.run("ALTER ROLE opdigital SET session_preload_libraries = 'auto_explain'")
    assert healthz_warnings(app) == ["auto_explain.log_min_duration"]
    for line in deploy_doc_lines():
        role.run(line)
    assert healthz_warnings(app) == []


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (
            "-c log_transaction_sample_rate=0.5",
            ["log_transaction_sample_rate", "log_parameter_max_length"],
        ),
        ("-c log_min_duration_sample=0 -c log_parameter_max_length=0", ["log_min_duration_sample"]),
        ("-c debug_print_plan=on", ["debug_print_plan"]),
        ("-c log_duration=on -c log_min_error_statement=debug5", []),
        ("-c log_parameter_max_length_on_error=-1 -c log_min_messages=fatal", []),
    ],
)
def test_settings_of_the_apps_own_sessions_count_too(app_as, database_url, options, expected):
    # Given at connection, as a client could (`options` in DATABASE_URL, PGOPTIONS); the test
    # server's own role may set the superuser-only ones.
    app = app_as(database_url, SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"options": options}})
    assert healthz_warnings(app) == expected


def _warnings(caplog) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and r.name == "opdigital.health.checks"
    ]


def test_start_check_warns_once_per_process_at_the_first_request(role, app_as, caplog):
    role.run("ALTER ROLE opdigital SET log_statement = 'mod'")
    caplog.set_level(logging.WARNING, logger="opdigital.health.checks")
    app = app_as(role.url, CHECK_DATABASE_LOGGING=True)
    # Building the app connects to nothing (docs/rationale.md, "The app factory").
    with app.app_context():
        assert db.engine.pool.checkedin() == 0 and db.engine.pool.checkedout() == 0
    assert _warnings(caplog) == []

    client = app.test_client()
    client.get("/healthz")
    first, second = _warnings(caplog)
    assert "log_statement = mod" in first and "docs/deploy.md" in first
    assert "log_parameter_max_length = -1" in second
    client.get("/healthz")
    client.get("/static/css/site.css")
    assert len(_warnings(caplog)) == 2  # once per process, not per request


def test_start_check_is_silent_on_a_safe_role_and_off_in_tests(role, app_as, caplog):
    caplog.set_level(logging.WARNING, logger="opdigital.health.checks")
    app_as(role.url, CHECK_DATABASE_LOGGING=True).test_client().get("/healthz")
    role.run("ALTER ROLE opdigital SET log_statement = 'all'")
    app_as(role.url).test_client().get("/healthz")  # the testing settings leave it off
    assert _warnings(caplog) == []


def test_start_check_survives_an_unreachable_database(app_as, caplog):
    caplog.set_level(logging.WARNING, logger="opdigital.health.checks")
    app = app_as(
        "postgresql+psycopg://root@127.0.0.1:1/nowhere",
        CHECK_DATABASE_LOGGING=True,
        SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"connect_timeout": 2}},
    )
    response = app.test_client().get("/healthz")
    assert response.status_code == 503  # /healthz's own answer, not a failure of the check
    assert any("Could not check PostgreSQL" in m for m in _warnings(caplog))
