"""Step 1: who is voting (título and birth date; OPCA: school, enrolment and birth date; a
cycle whose roll is its delegates: the delegate code)."""

from __future__ import annotations

from flask import redirect, render_template, url_for
from flask_babel import gettext as _

from opdigital.cycles.models import Cycle
from opdigital.errors import NotEligible, RateLimited
from opdigital.registry.services import find_eligible_voter
from opdigital.voting import flow
from opdigital.voting.forms import credentials_of, identify_form
from opdigital.voting.identification import identify_with_limits
from opdigital.voting.limits import current_client
from opdigital.voting.services import has_voted
from opdigital.voting.views import bp
from opdigital.voting.views.pages import already_voted, too_many
from opdigital.voting.views.steps import voting_step


@bp.route("/ciclos/<slug>/votar", methods=["GET", "POST"])
@voting_step(counted=True, needs_voter=False)
def identify(cycle: Cycle):
    """Who is voting: título and birth date (OPCA: school, enrolment and birth date)."""
    form = _identify_form(cycle)
    if not form.validate_on_submit():
        return _identify_page(cycle, form, 422 if form.is_submitted() else 200)
    credentials = credentials_of(form)
    try:
        voter = identify_with_limits(
            current_client(),
            credentials,
            lambda: find_eligible_voter(cycle, credentials),
            count_request=False,  # `voting_step(counted=True)` counted the request
        )
    except RateLimited as refused:
        return too_many(refused)
    except NotEligible as e:
        return _identify_page(cycle, form, 403, error=str(e))
    if has_voted(cycle, voter):
        return already_voted(cycle)
    flow.start(cycle, voter)
    return redirect(url_for("voting.ballot", slug=cycle.slug), code=303)


def _identify_form(cycle: Cycle):
    form = identify_form(cycle, _("Choose your school"))
    if current_client().is_kiosk and "birth_date" in form:
        # A shared device must not offer the previous voter's birth date to the next one.
        form.birth_date.render_kw = {**(form.birth_date.render_kw or {}), "autocomplete": "off"}
    return form


def _identify_page(cycle: Cycle, form, status: int, error: str | None = None):
    form.forget_secrets()
    return render_template("voting/identify.html", cycle=cycle, form=form, error=error), status
