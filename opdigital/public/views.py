from flask import Blueprint

bp = Blueprint("public", __name__)


@bp.get("/")
def home():
    return "OP Digital"


@bp.get("/lang/<code>")
def set_language(code):
    return ""
