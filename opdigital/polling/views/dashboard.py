"""The poll worker's dashboard: their point, cycle and voting window; open and close the point;
the point's turnout in the cycle; links to the paper ballot pages."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _

from opdigital.errors import DomainError
from opdigital.polling import services
from opdigital.polling.forms import PointActionForm
from opdigital.polling.views import bp
from opdigital.polling.views.common import current_assignment, paper_links, poll_worker
from opdigital.polling.views.shared_device import idle_minutes
from opdigital.voting.services import voting_window
from opdigital.voting.turnout import point_turnout


def _dashboard(error: str | None = None, status: int = 200):
    where = current_assignment()
    page = render_template(
        "polling/dashboard.html",
        point=where.point,
        cycle=where.cycle,
        window=voting_window(where.cycle),
        opening=services.opening(where.point.id, where.cycle.id),
        takes_votes=services.takes_votes(where),
        counts=point_turnout(where.cycle.id, where.point.id),
        paper=paper_links(where),
        form=PointActionForm(),
        idle_minutes=idle_minutes(),
        error=error,
    )
    return page, status


@bp.get("/")
def dashboard():
    """Where the poll worker lands after signing in."""
    return _dashboard()


@bp.post("/abrir")
def open_point():
    """Open the point for the cycle (the time goes to the audit log)."""
    if not PointActionForm().validate_on_submit():
        return _dashboard(_("The form expired. Please send it again."), 400)
    try:
        services.open_point(poll_worker())
    except DomainError as e:
        return _dashboard(str(e), e.status)
    flash(_("The voting point is open."), "success")
    return redirect(url_for("polling.dashboard"), code=303)


@bp.post("/fechar")
def close_point():
    """Close the point for the cycle (the time goes to the audit log)."""
    if not PointActionForm().validate_on_submit():
        return _dashboard(_("The form expired. Please send it again."), 400)
    try:
        services.close_point(poll_worker())
    except DomainError as e:
        return _dashboard(str(e), e.status)
    flash(_("The voting point is closed."), "success")
    return redirect(url_for("polling.dashboard"), code=303)
