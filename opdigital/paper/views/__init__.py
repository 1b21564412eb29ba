"""Paper ballots' staff screens, under /staff/paper: printed sheets, the paper list, batches
entered twice, their differences and their sealing (docs/voting-day.md).

Coordinators and admins act for every voting point; a poll worker only for their own point in
their own cycle (checked on every page by `common.point_for_user`, and again by the services).
Route modules import `bp` from here and none of their siblings; what they share is `common`.
"""

from __future__ import annotations

from flask import Blueprint

from opdigital.auth import roles_required
from opdigital.paper.services import PAPER_ROLES
from opdigital.web import never_cache

bp = Blueprint("paper", __name__, url_prefix="/staff/paper")


@bp.before_request
@roles_required(*PAPER_ROLES)
def require_paper_staff():
    """Anonymous visitors go to the sign-in page; auditors get 403."""
    return None


bp.after_request(never_cache)


# The route modules register on `bp`.
from opdigital.paper.views import batches, home, participation, sheets  # noqa: E402, F401
