"""Step 2: the ballot; "Check my choices" recomputes what is left, "Review" validates."""

from __future__ import annotations

from flask import redirect, request, url_for

from opdigital.cycles.models import Cycle
from opdigital.registry.credentials import EligibleVoter
from opdigital.voting import flow
from opdigital.voting.forms import choices_from_form
from opdigital.voting.services import BallotRefused, check_ballot
from opdigital.voting.views import bp
from opdigital.voting.views.pages import ballot_page
from opdigital.voting.views.steps import voting_step
from opdigital.web import is_read


@bp.route("/ciclos/<slug>/votar/cedula", methods=["GET", "POST"])
@voting_step()
def ballot(cycle: Cycle, voter: EligibleVoter):
    """The ballot; "Check my choices" recomputes what is left, "Review" validates."""
    if is_read():
        return ballot_page(cycle, voter, flow.saved_choices(cycle) or [])
    choices = choices_from_form(request.form)
    if request.form.get("action") != "review":
        return ballot_page(cycle, voter, choices, check=True)
    try:
        chosen = check_ballot(cycle, choices, voter)
    except BallotRefused as e:
        return ballot_page(cycle, voter, choices, problems=e.problems, status=422)
    flow.save_choices(cycle, chosen)
    return redirect(url_for("voting.review", slug=cycle.slug), code=303)
