"""`GET /healthz` for load balancers: is this instance able to reach PostgreSQL and Redis?"""

from __future__ import annotations

import logging

import redis
import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify

from opdigital.extensions import db

log = logging.getLogger(__name__)

bp = Blueprint("health", __name__)

# A health check must answer fast: a hung dependency is reported as down, not waited for.
REDIS_TIMEOUT_SECONDS = 1.0


def database_status() -> str:
    """'ok' when a trivial query succeeds, else 'down'."""
    try:
        db.session.execute(sa.text("SELECT 1"))
    except (sa.exc.SQLAlchemyError, OSError) as e:
        log.warning("Health check: database unreachable: %s", e)
        db.session.rollback()
        return "down"
    return "ok"


def redis_status() -> str:
    """'ok' when Redis answers PING, 'down' when not, 'not_configured' without REDIS_URL."""
    url = current_app.config.get("REDIS_URL")
    if not url:
        return "not_configured"
    client = None
    try:
        client = redis.Redis.from_url(
            url, socket_connect_timeout=REDIS_TIMEOUT_SECONDS, socket_timeout=REDIS_TIMEOUT_SECONDS
        )
        client.ping()
    except (redis.RedisError, OSError, ValueError) as e:
        log.warning("Health check: Redis unreachable: %s", e)
        return "down"
    finally:
        if client is not None:
            client.close()
    return "ok"


@bp.get("/healthz")
def healthz():
    components = {"database": database_status(), "redis": redis_status()}
    healthy = "down" not in components.values()
    response = jsonify(status="ok" if healthy else "down", **components)
    response.status_code = 200 if healthy else 503
    response.headers["Cache-Control"] = "no-store"
    return response
