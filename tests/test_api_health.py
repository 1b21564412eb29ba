"""/healthz: 200 when PostgreSQL and Redis answer, 503 naming the component that does not.

Its `warnings` (PostgreSQL logging settings) are tested in test_pg_logging.py.
"""

from __future__ import annotations

import pytest

from tests.support.api import assert_error, assert_matches_spec

UNREACHABLE_DB = "postgresql+psycopg://root@127.0.0.1:1/nowhere"
UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"


@pytest.fixture
def app_for(make_app):
    """An app whose database and Redis are the given URLs (unreachable ones fail fast)."""

    def build(database_url: str, redis_url: str | None):
        return make_app(
            "testing",
            SQLALCHEMY_DATABASE_URI=database_url,
            SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"connect_timeout": 2}},
            REDIS_URL=redis_url,
            RATELIMIT_STORAGE_URI="memory://",
        )

    return build


# (database, redis: what each is, as /healthz names it; the status code and overall status)
COMPONENTS = [
    ("ok", "down", 503, "down"),
    ("down", "ok", 503, "down"),
    ("down", "down", 503, "down"),
    ("ok", "not_configured", 200, "ok"),  # no Redis configured is not a failure
]


@pytest.mark.parametrize(("database", "redis", "code", "overall"), COMPONENTS)
def test_healthz_names_the_component_that_does_not_answer(
    app_for, database_url, redis_url, database, redis, code, overall
):
    database_urls = {"ok": database_url, "down": UNREACHABLE_DB}
    redis_urls = {"ok": redis_url, "down": UNREACHABLE_REDIS, "not_configured": None}
    app = app_for(database_urls[database], redis_urls[redis])
    response = app.test_client().get("/healthz")
    assert_matches_spec(response, "/healthz", "get", code)
    assert response.get_json() == {
        "status": overall,
        "database": database,
        "redis": redis,
        "warnings": [],
    }


def test_healthz_wrong_method_is_json_405(client):
    assert_error(client.post("/healthz"), 405, "method_not_allowed")
