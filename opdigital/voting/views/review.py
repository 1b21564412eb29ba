"""Step 3: the choices once more; "Confirm my vote" casts, "Change" goes back to the ballot."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for

from opdigital.cycles.models import Cycle
from opdigital.errors import AlreadyVoted, VotingClosed
from opdigital.registry.credentials import EligibleVoter
from opdigital.voting import flow
from opdigital.voting.forms import ConfirmForm
from opdigital.voting.limits import current_client
from opdigital.voting.services import BallotRefused, cast_ballot
from opdigital.voting.views import bp
from opdigital.voting.views.pages import already_voted, ballot_page, closed
from opdigital.voting.views.presentation import proposals_by_id
from opdigital.voting.views.steps import voting_step


@bp.route("/ciclos/<slug>/votar/revisao", methods=["GET", "POST"])
@voting_step(counted=True, needs_choices=True)
def review(cycle: Cycle, voter: EligibleVoter, choices: list[int]):
    """The choices once more, with "Confirm my vote" (casts) and "Change" (back to the ballot)."""
    if request.method == "POST":
        assisted_at = flow.assisted_point(cycle)
        try:
            receipt = cast_ballot(
                cycle,
                voter,
                choices,
                voting_point_id=assisted_at or current_client().voting_point_id,
                assisted=assisted_at is not None,
            )
        except AlreadyVoted:
            return already_voted(cycle)
        except VotingClosed:
            return closed(cycle)
        except BallotRefused as e:
            return ballot_page(cycle, voter, choices, problems=e.problems, status=422)
        flow.finish(cycle, receipt.code)
        return redirect(url_for("voting.receipt", slug=cycle.slug), code=303)
    return render_template(
        "voting/review.html",
        cycle=cycle,
        form=ConfirmForm(),
        proposals=_chosen_proposals(choices),
    )


def _chosen_proposals(choices: list[int]) -> list:
    proposals = proposals_by_id(choices).values()
    return sorted(proposals, key=lambda p: (p.region is None, p.region.name if p.region else ""))
