"""The staff blueprint. Access is checked once for every route, so no view can forget it."""

from __future__ import annotations

from flask import Blueprint

from opdigital.auth import roles_required

bp = Blueprint("coordination", __name__, url_prefix="/staff")

STAFF_ROLES = ("admin", "coordinator")


@bp.before_request
@roles_required(*STAFF_ROLES)
def require_staff():
    """Anonymous visitors go to the sign-in page; auditors and others get 403."""
    return None
