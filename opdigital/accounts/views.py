from flask import Blueprint

bp = Blueprint("accounts", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login():
    return ""


@bp.post("/logout")
def logout():
    return ""


@bp.get("/staff/accounts")
def list_users():
    return ""
