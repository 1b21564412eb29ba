"""Fixtures: a throw-away PostgreSQL database per test run, real Redis, app/client/runner.

Beware: while `app_ctx` is active, test-client requests reuse its application context (Flask
does so when one is pushed), hence its `g` and database session. The app forgets the cached
language and user at each request; re-read rows with `db.session.expire_all()` after a request.

The suite needs PostgreSQL and Redis (docs/rationale.md, "Tests against real services"). When
either cannot be reached the run fails at once with a clear message: it never silently skips.
"""

from __future__ import annotations

import importlib
import logging
import os
import uuid

import psycopg
import pytest
import redis
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from opdigital import create_app
from opdigital import settings as settings_module
from opdigital.attempt_limits import forget_store_outage
from opdigital.extensions import db, limiter
from opdigital.phone.services import forget_phone_works
from opdigital.voting.cycle_cache import forget_voting_cycles
from opdigital.voting.limits import forget_voting_points
from opdigital.voting.services import forget_frozen_ballots
from tests.support.production import SETTINGS_VARIABLES
from tests.support.smtp_sink import SmtpSink

BASE_DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql://root@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


def _server_url(url: str):
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    return parsed.set(drivername="postgresql")


@pytest.fixture(scope="session")
def database_url():
    """Create a fresh database for this run on the configured server; drop it afterwards."""
    server = _server_url(BASE_DATABASE_URL)
    if server.get_backend_name() != "postgresql":
        pytest.fail(f"The test suite needs PostgreSQL; DATABASE_URL is {BASE_DATABASE_URL!r}")
    name = f"opdigital_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin_dsn = server.render_as_string(hide_password=False)
    try:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as e:
        pytest.fail(f"PostgreSQL is not reachable at {BASE_DATABASE_URL}: {e}")
    url = server.set(database=name).set(drivername="postgresql+psycopg")
    yield url.render_as_string(hide_password=False)
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def database_dsn(database_url):
    """The test database as libpq names it, for a psycopg connection of a test's own (another
    transaction beside the app's)."""
    return database_url.replace("postgresql+psycopg://", "postgresql://")


@pytest.fixture(scope="session")
def redis_url():
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as e:
        pytest.fail(f"Redis is not reachable at {REDIS_URL}: {e}")
    return REDIS_URL


@pytest.fixture(scope="session")
def app(database_url, redis_url):
    from flask_migrate import upgrade

    run = uuid.uuid4().hex[:8]
    app = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=database_url,
        REDIS_URL=redis_url,
        RATELIMIT_STORAGE_URI=redis_url,
        RATELIMIT_KEY_PREFIX=f"opdigital-test-{run}",
        # The store's own prefix too: `limiter.reset()` deletes every key under it, and test
        # runs in parallel on one Redis must not wipe each other's counters mid-test.
        RATELIMIT_STORAGE_OPTIONS={"key_prefix": f"LIMITS-opdigital-test-{run}"},
        SERVER_NAME="localhost",
    )
    with app.app_context():
        upgrade()  # the real migrations, so the tests check them too
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean_state(request):
    """Empty every table and the rate-limit counters after each test that used the app."""
    yield
    if "app" not in request.fixturenames:
        return
    app = request.getfixturevalue("app")
    with app.app_context():
        db.session.remove()
        tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
        with db.engine.begin() as conn:
            conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        limiter.reset()
    forget_frozen_ballots()
    forget_phone_works()
    forget_store_outage()
    forget_voting_points()
    forget_voting_cycles()


@pytest.fixture
def make_app(app):
    """Build extra apps with other settings, for tests of configuration and failure modes.

    Extension objects are shared by every app in the process, and the rate limiter keeps its
    storage on itself: afterwards it is bound back to the session app's Redis, and the extra
    apps' connection pools are closed.
    """
    made = []

    def make(config_name: str | None = "testing", **overrides):
        other = create_app(config_name, **overrides)
        made.append(other)
        return other

    yield make
    for other in made:
        with other.app_context():
            db.engine.dispose()
    limiter.init_app(app)
    assert type(limiter.storage).__name__ == "RedisStorage"


@pytest.fixture
def environment(monkeypatch):
    """Call with the environment variables a deployment sets (None removes one): the settings
    module reloaded from them. Every settings variable not given is unset; all is restored
    afterwards."""

    def configure(**variables: str | None):
        for name in SETTINGS_VARIABLES:
            monkeypatch.delenv(name, raising=False)
        for name, value in variables.items():
            if value is not None:
                monkeypatch.setenv(name, value)
        return importlib.reload(settings_module)

    yield configure
    monkeypatch.undo()
    importlib.reload(settings_module)


@pytest.fixture
def app_ctx(app):
    with app.app_context():
        yield
        db.session.remove()


@pytest.fixture
def settings(app):
    """Patch app settings for one test and restore them afterwards."""
    saved = {}

    def patch(**values):
        for name, value in values.items():
            saved.setdefault(name, app.config[name])
            app.config[name] = value

    yield patch
    app.config.update(saved)


@pytest.fixture(params=["direct", "flask"])
def cast_path(request, settings):
    """Run an API cast test on both paths: the direct WSGI layer (api/direct_cast.py), which
    serves casts in production, and the Flask view it hands the unusual ones to."""
    settings(DIRECT_CAST=request.param == "direct")
    return request.param


@pytest.fixture(params=["in-check", "early"])
def board_reading(request, monkeypatch):
    """Run a tally test both ways its check reads board.jsonl: in the check (small boards, as
    the tests' are), and in a child during the count (`ledger.early_board`, large boards).
    Yields `reads_expected()`: whether the tally's own process read a board line by line as
    that way should (once in the check, never when the child read it)."""
    from unittest import mock

    from opdigital.ledger import early_board, package

    early = request.param == "early"
    if early:
        monkeypatch.setattr(early_board, "MIN_BALLOTS", 1)
    with mock.patch.object(package, "_read_lines", wraps=package._read_lines) as reads:
        yield lambda: reads.call_count == (0 if early else 1)


@pytest.fixture
def signing_key(app, runner, tmp_path):
    """A tally signing key made by `opdigital keys generate` in tmp_path; yields its path."""
    saved = app.config["SIGNING_KEY_PATH"]
    app.config["SIGNING_KEY_PATH"] = str(tmp_path / "keys" / "signing-key.pem")
    result = runner.invoke(args=["keys", "generate"])
    assert result.exit_code == 0, result.output
    yield app.config["SIGNING_KEY_PATH"]
    app.config["SIGNING_KEY_PATH"] = saved


@pytest.fixture(scope="session")
def smtp_sink():
    """The session's local SMTP server (tests/support/smtp_sink.py), started at first use."""
    sink = SmtpSink()
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture
def mail_sink(app, smtp_sink):
    """The app's mail settings pointed at the local SMTP server, emptied for this test: its
    `.messages` (email.message.EmailMessage), `.recipients`, `.clear()`, `.refuse(address)`,
    and `.stop()`/`.start()` to make it unreachable. `opdigital.mail.sender.send_due()`
    delivers the outbox to it."""
    saved = {
        name: app.config[name]
        for name in ("MAIL_SERVER", "MAIL_PORT", "MAIL_USE_TLS", "MAIL_USE_SSL")
    }
    app.config.update(
        MAIL_SERVER=smtp_sink.host, MAIL_PORT=smtp_sink.port, MAIL_USE_TLS=False, MAIL_USE_SSL=False
    )
    smtp_sink.clear()
    yield smtp_sink
    smtp_sink.clear()  # listening again for the next test, whatever this one did
    app.config.update(saved)


@pytest.fixture
def live_logs():
    """Switch the app's loggers (and the twilio package's) back on for one test.

    The migrations' `fileConfig` (run by the session's `upgrade()`) disables every logger that
    existed at the time, the app's included, so a log check would pass on silence alone.
    """
    loggers = [
        logger
        for name, logger in logging.root.manager.loggerDict.items()
        if name.startswith(("opdigital", "twilio")) and isinstance(logger, logging.Logger)
    ]
    disabled = [logger for logger in loggers if logger.disabled]
    for logger in disabled:
        logger.disabled = False
    yield
    for logger in disabled:
        logger.disabled = True


@pytest.fixture
def logs(caplog, live_logs):
    """Every record at DEBUG, the app's loggers on: what the scans of tests/support/scan.py
    read."""
    caplog.set_level(logging.DEBUG)
    return caplog


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def coordinator(client, app_ctx):
    """A coordinator signed in on `client`, reading the English UI (tests.support.coordination)."""
    from tests.support import factories
    from tests.support.coordination import sign_in

    user = factories.user("coordinator")
    sign_in(client, user)
    return user


@pytest.fixture
def english_by_default(app, monkeypatch):
    """English as the app's default locale, for tests that read English text.

    The default locale is switched rather than the session's, because tests that move the clock
    back make a session cookie signed "in the future" invalid.
    """
    monkeypatch.setitem(app.config, "BABEL_DEFAULT_LOCALE", "en")


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def verify(tmp_path, capsys):
    """Run the auditor's verifier (`python -m opdigital.ledger.verify`, in process) on package
    bytes; its exit status and everything it printed."""
    from opdigital.ledger.verify import main

    def _verify(data: bytes, *args: str) -> tuple[int, str]:
        path = tmp_path / "tally.zip"
        path.write_bytes(data)
        code = main([str(path), *args])
        captured = capsys.readouterr()
        return code, captured.out + captured.err

    return _verify
