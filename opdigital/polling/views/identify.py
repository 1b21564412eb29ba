"""Assisted identification: the poll worker types what the voter's document says, then hands the
device to the voter, who chooses alone.

On success the poll worker is signed out of this browser (only: their other devices stay
signed in), the voter's place in the flow is started as assisted with the point, and the
browser goes to the ballot. Nothing about the voter is logged or audited, and nothing links the
poll worker to the vote: participation records only the point and that it was assisted.
"""

from __future__ import annotations

from flask import redirect, render_template, url_for
from flask_babel import gettext as _

from opdigital.errors import DomainError, NotEligible, RateLimited
from opdigital.polling.services import Assignment, ensure_takes_votes
from opdigital.polling.views import bp
from opdigital.polling.views.common import current_assignment
from opdigital.polling.views.shared_device import end_here
from opdigital.registry.services import find_eligible_voter
from opdigital.voting import flow
from opdigital.voting.forms import credentials_of, identify_form
from opdigital.voting.identification import identify_with_limits
from opdigital.voting.limits import client_at_point
from opdigital.voting.services import has_voted


@bp.route("/identificar", methods=["GET", "POST"])
def identify():
    """The voter's título (OPCA: school and enrolment) and birth date, from their document."""
    where = current_assignment()
    try:
        ensure_takes_votes(where)
    except DomainError as e:
        return _refused(where, str(e), e.status)
    form = identify_form(where.cycle, _("Choose the school"))
    if not form.validate_on_submit():
        return _page(where, form, 422 if form.is_submitted() else 200)
    credentials = credentials_of(form)
    try:
        voter = identify_with_limits(
            client_at_point(where.point.id),
            credentials,
            lambda: find_eligible_voter(where.cycle, credentials),
            count_request=True,
        )
    except RateLimited as e:
        return _page(where, form, 429, str(e), {"Retry-After": str(e.retry_after)})
    except NotEligible as e:
        return _page(where, form, 403, str(e))
    if has_voted(where.cycle, voter):
        return _refused(
            where, _("This voter has already voted in this cycle: they cannot vote again."), 409
        )
    slug = where.cycle.slug
    end_here()  # the poll worker leaves this browser to the voter
    flow.start(where.cycle, voter, assisted_at=where.point.id)
    return redirect(url_for("voting.ballot", slug=slug), code=303)


def _page(where: Assignment, form, status: int, error: str | None = None, headers=None):
    form.forget_secrets()
    page = render_template(
        "polling/identify.html", point=where.point, cycle=where.cycle, form=form, error=error
    )
    return page, status, headers or {}


def _refused(where: Assignment, message: str, status: int):
    page = render_template(
        "polling/refused.html", point=where.point, cycle=where.cycle, message=message
    )
    return page, status
