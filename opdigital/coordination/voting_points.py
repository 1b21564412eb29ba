"""Staff screens for public voting points: list, register, edit, deactivate, new device token.

A device token is shown on the page that answers the POST which made it, and nowhere else: it
is not stored (only its hash), not put in the session and not cached by the browser.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from opdigital.coordination import bp
from opdigital.coordination.common import actor
from opdigital.errors import DomainError
from opdigital.extensions import db
from opdigital.regions.models import Region
from opdigital.voting import points
from opdigital.voting.forms import VotingPointForm
from opdigital.voting.limits import VOTING_POINT_TOKEN_HEADER
from opdigital.voting.models import VotingPoint
from opdigital.web import is_read


def _form(**kwargs) -> VotingPointForm:
    form = VotingPointForm(**kwargs)
    regions = db.session.scalars(sa.select(Region).order_by(Region.name))
    form.region.choices = [("", _("No region"))] + [(str(r.id), r.name) for r in regions]
    return form


def _data(form: VotingPointForm) -> points.VotingPointData:
    return points.VotingPointData(
        name=form.name.data or "", region_id=form.region_id(), addresses=form.addresses.data or ""
    )


def _token_page(issued: points.Issued, created: bool):
    page = render_template(
        "coordination/voting_points_token.html",
        point=issued.point,
        token=issued.token,
        created=created,
        header=VOTING_POINT_TOKEN_HEADER,
    )
    return page, 200, {"Cache-Control": "no-store"}


def _form_page(form: VotingPointForm, point: VotingPoint | None, error=None, status=200):
    page = render_template(
        "coordination/voting_points_form.html", form=form, point=point, error=error
    )
    return page, status


def _prefilled(point: VotingPoint) -> VotingPointForm:
    # Only on GET: a POST is read from what was sent, never silently from the database.
    return _form(
        formdata=None,
        name=point.name,
        region=str(point.region_id) if point.region_id else "",
        addresses=point.ip_addresses,
    )


def _load(point_id: int) -> VotingPoint:
    return db.get_or_404(VotingPoint, point_id)


@bp.get("/voting-points")
def voting_points():
    """Every voting point, active ones first."""
    regions = {r.id: r.name for r in db.session.scalars(sa.select(Region))}
    return render_template(
        "coordination/voting_points.html", points=points.list_voting_points(), regions=regions
    )


@bp.route("/voting-points/new", methods=["GET", "POST"])
def new_voting_point():
    """Register a voting point; its device token, if asked for, is shown on the next page."""
    form = _form()
    if not form.validate_on_submit():
        return _form_page(form, None, status=422 if form.is_submitted() else 200)
    try:
        issued = points.create_voting_point(
            _data(form), actor(), with_token=bool(form.generate_token.data)
        )
    except DomainError as e:
        return _form_page(form, None, str(e), e.status)
    if issued.token:
        return _token_page(issued, created=True)
    flash(_("Voting point registered."), "success")
    return redirect(url_for("coordination.voting_points"), code=303)


@bp.route("/voting-points/<int:point_id>", methods=["GET", "POST"])
def voting_point(point_id: int):
    """Edit a voting point; also deactivate or reactivate it, or replace its device token."""
    point = _load(point_id)
    action = request.form.get("action", "save") if request.method == "POST" else None
    try:
        if action == "deactivate":
            points.set_active(point, False, actor())
            flash(_("Voting point deactivated: its requests get the ordinary limits."), "success")
            return redirect(url_for("coordination.voting_point", point_id=point.id), code=303)
        if action == "activate":
            points.set_active(point, True, actor())
            flash(_("Voting point active again."), "success")
            return redirect(url_for("coordination.voting_point", point_id=point.id), code=303)
        if action == "regenerate":
            return _token_page(points.regenerate_token(point, actor()), created=False)
    except DomainError as e:
        return _form_page(_prefilled(point), point, str(e), e.status)
    if is_read():
        return _form_page(_prefilled(point), point)
    form = _form()
    if not form.validate_on_submit():
        return _form_page(form, point, status=422)
    try:
        points.update_voting_point(point, _data(form), actor())
    except DomainError as e:
        return _form_page(form, _load(point_id), str(e), e.status)
    flash(_("Voting point saved."), "success")
    return redirect(url_for("coordination.voting_points"), code=303)
