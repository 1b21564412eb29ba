from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.get("/openapi.json")
def openapi():
    return {}


@bp.get("/cycles/<slug>/schedule")
def cycle_schedule(slug):
    return {}


@bp.get("/cycles/<slug>/schedule.ics")
def cycle_schedule_ics(slug):
    return ""
