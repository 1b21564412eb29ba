from flask import Blueprint

bp = Blueprint("coordination", __name__, url_prefix="/staff")


@bp.get("/")
def dashboard():
    return ""
