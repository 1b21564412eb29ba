"""The poll worker's screens under /mesario: their point's dashboard (open, close, turnout) and
the assisted identification. Nothing else of the staff screens is theirs.

`bp` and its hooks live here; the route modules (`dashboard`, `identify`) import `bp` and none
of each other. What they share is in `common` (no routes). `shared_device` holds the app-wide
rules of a poll worker's session on a shared device (not remembered, signed out when idle),
which this package registers.
"""

from __future__ import annotations

from flask import Blueprint
from flask_login import user_logged_in

from opdigital.accounts.models import Role
from opdigital.auth import roles_required
from opdigital.polling.views import shared_device
from opdigital.web import never_cache

bp = Blueprint("polling", __name__, url_prefix="/mesario")

bp.before_app_request(shared_device.sign_out_when_idle)
user_logged_in.connect(shared_device.start_the_idle_clock)


@bp.before_request
@roles_required(Role.POLL_WORKER)
def require_poll_worker():
    """Anonymous visitors go to the sign-in page; every other role gets 403."""
    return None


bp.after_request(never_cache)


# The route modules register on `bp`.
from opdigital.polling.views import dashboard, identify  # noqa: E402, F401
