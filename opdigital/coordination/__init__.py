"""Coordinator screens: cycles, calendar, budgets, proposal review, voting settings and points.

The staff blueprint. Each screen is a route module that imports `bp` from here and none of its
siblings (shared helpers live in `common`, `forms` and `messages`); the route modules are
imported at the bottom so `bp` has every route once the package is loaded. Access is checked
once for every route, so no view can forget it.
"""

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


# The route modules register on `bp`.
from opdigital.coordination import (  # noqa: E402, F401
    budgets,
    cycles,
    delegates,
    kiosks,
    phases_events,
    phone,
    poll_workers,
    proposals,
    retention,
    tally_steps,
    turnout,
    voting_points,
    voting_settings,
)
