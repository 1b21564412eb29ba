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


def test_redis_down(app_for, database_url):
    response = app_for(database_url, UNREACHABLE_REDIS).test_client().get("/healthz")
    assert_matches_spec(response, "/healthz", "get", 503)
    assert response.get_json() == {
        "status": "down",
        "database": "ok",
        "redis": "down",
        "warnings": [],
    }


def test_database_down(app_for, redis_url):
    response = app_for(UNREACHABLE_DB, redis_url).test_client().get("/healthz")
    assert_matches_spec(response, "/healthz", "get", 503)
    assert response.get_json() == {
        "status": "down",
        "database": "down",
        "redis": "ok",
        "warnings": [],
    }


def test_both_down(app_for):
    response = app_for(UNREACHABLE_DB, UNREACHABLE_REDIS).test_client().get("/healthz")
    assert_matches_spec(response, "/healthz", "get", 503)
    assert response.get_json() == {
        "status": "down",
        "database": "down",
        "redis": "down",
        "warnings": [],
    }


def test_redis_not_configured_is_not_a_failure(app_for, database_url):
    response = app_for(database_url, None).test_client().get("/healthz")
    assert_matches_spec(response, "/healthz", "get", 200)
    assert response.get_json() == {
        "status": "ok",
        "database": "ok",
        "redis": "not_configured",
        "warnings": [],
    }


def test_healthz_wrong_method_is_json_405(client):
    assert_error(client.post("/healthz"), 405, "method_not_allowed")
