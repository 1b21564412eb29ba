"""The paper list: the poll worker records that a voter signed it and takes a paper sheet."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from opdigital.errors import AlreadyVoted, DomainError, NotEligible
from opdigital.paper.participation import ensure_may_record, record_paper_participation
from opdigital.paper.services import is_bound_to
from opdigital.paper.views import bp
from opdigital.paper.views.common import cycle_for_user, point_for_user
from opdigital.registry.services import find_eligible_voter
from opdigital.voting.forms import credentials_of, identify_form
from opdigital.voting.identification import identify_with_limits
from opdigital.voting.limits import client_at_point


@bp.route("/<slug>/points/<int:point_id>/participation", methods=["GET", "POST"])
def participation(slug: str, point_id: int):
    """Identify the voter from their document (título or school and enrolment, and birth
    date) under the same limits as every identification, then record the paper vote."""
    cycle = cycle_for_user(slug)
    point = point_for_user(cycle, point_id)
    if not is_bound_to(current_user, cycle.id, point.id):
        abort(403)  # the paper list is the point's poll workers' alone
    form = identify_form(cycle, _("Choose the school"))
    try:
        ensure_may_record(current_user, cycle, point.id)
    except DomainError as e:
        return _page(cycle, point, form, e.status, error=str(e), closed=True)
    if not form.validate_on_submit():
        return _page(cycle, point, form, 422 if form.is_submitted() else 200)
    credentials = credentials_of(form)
    try:
        voter = identify_with_limits(
            client_at_point(point.id),
            credentials,
            lambda: find_eligible_voter(cycle, credentials),
            count_request=True,
        )
        record_paper_participation(cycle, point.id, voter, current_user)
    except AlreadyVoted as e:
        return _page(cycle, point, form, 409, error=str(e), already=True)
    except NotEligible as e:
        return _page(cycle, point, form, 403, error=str(e))
    except DomainError as e:
        return _page(cycle, point, form, e.status, error=str(e))
    flash(_("Recorded on the paper list. Hand the voter one blank sheet."), "success")
    return redirect(url_for("paper.participation", slug=cycle.slug, point_id=point.id), 303)


def _page(cycle, point, form, status: int, *, error=None, already=False, closed=False):
    form.forget_secrets()  # a shared device: never echo a registration number
    return (
        render_template(
            "paper/participation.html",
            cycle=cycle,
            point=point,
            form=form,
            error=error,
            already=already,
            closed=closed,
        ),
        status,
    )
