"""`GET /healthz`: the load balancer's question, answered from `checks`."""

from __future__ import annotations

from flask import jsonify

from opdigital.health import bp
from opdigital.health.checks import database_status, logging_warnings, redis_status


@bp.get("/healthz")
def healthz():
    components = {"database": database_status(), "redis": redis_status()}
    healthy = "down" not in components.values()
    # Warnings do not make the instance unhealthy: the balancer must keep it in service.
    warnings = logging_warnings() if components["database"] == "ok" else []
    response = jsonify(status="ok" if healthy else "down", **components, warnings=warnings)
    response.status_code = 200 if healthy else 503
    response.headers["Cache-Control"] = "no-store"
    return response
