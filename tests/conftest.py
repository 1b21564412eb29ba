"""Fixtures: a throw-away PostgreSQL database per test run, real Redis, app/client/runner.

The suite needs PostgreSQL and Redis (DESIGN.md section 6). When either cannot be reached the
run fails at once with a clear message: it never silently skips.
"""

from __future__ import annotations

import os
import uuid

import psycopg
import pytest
import redis
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from opdigital import create_app
from opdigital.extensions import db, limiter

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


@pytest.fixture
def app_ctx(app):
    with app.app_context():
        yield
        db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()
