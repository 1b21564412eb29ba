"""The kiosk's own pages under /quiosque: the start screen for the next voter, "next voter" and
"cancel" (both clear the whole session), and the idle timeout's page.

`bp` and its hooks live here; the route module (`routes`) imports `bp`. A request is a kiosk's
when it carries a valid cookie of an enrolled, unrevoked device of an active voting point
(`voting.limits.current_client`); without one these pages say the device is not enrolled. The
voting flow's own pages (voting/views) render in the kiosk layout on such a device.
"""

from __future__ import annotations

from flask import Blueprint, redirect, url_for
from flask_wtf.csrf import CSRFError

from opdigital.kiosk.layout import layout_context
from opdigital.kiosk.sessions import end_voter_session
from opdigital.voting.limits import current_client
from opdigital.web import never_cache

bp = Blueprint("kiosk", __name__, url_prefix="/quiosque")


@bp.context_processor
def inject_layout() -> dict:
    return layout_context(current_client)


bp.after_request(never_cache)


@bp.errorhandler(CSRFError)
def expired_form(error):
    """The "Next voter" or "Cancel" button of a page whose form has expired (the session it
    belonged to was already cleared, e.g. a page brought back by the back button): back to the
    start, having done no more than /quiosque/tempo-esgotado does for anyone (routes.py)."""
    end_voter_session(current_client().is_kiosk)
    return redirect(url_for("kiosk.start"), code=303)


# The route module registers on `bp`.
from opdigital.kiosk.views import routes  # noqa: E402, F401
