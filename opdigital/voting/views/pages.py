"""Pages that several steps of the voting flow answer with (no routes here)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _

from opdigital.clock import now
from opdigital.counting.ballot_rules import Problem
from opdigital.cycles.models import Cycle
from opdigital.errors import RateLimited
from opdigital.registry.credentials import EligibleVoter
from opdigital.voting import flow
from opdigital.voting.forms import BallotForm
from opdigital.voting.limits import current_client
from opdigital.voting.services import voting_window
from opdigital.voting.views.presentation import ballot_page_data


def closed(cycle: Cycle):
    """The "voting is not open" page: not yet, no longer, or no voting phase at all."""
    window = voting_window(cycle)
    state = "none" if window.opens_at is None else ("soon" if now() < window.opens_at else "past")
    return render_template("voting/closed.html", cycle=cycle, window=window, state=state), 403


def point_closed(cycle: Cycle):
    """On a kiosk: its voting point is not open for this cycle (no identification, no cast)."""
    flow.forget_voter()
    return render_template("kiosk/point_closed.html", cycle=cycle), 403


def kiosk_start():
    """Back to the kiosk's start screen: after "next voter", nothing of a voter is left to
    show, and the previous voter's pages (the back button) find nothing either."""
    return redirect(url_for("kiosk.start"), code=303)


def already_voted(cycle: Cycle):
    flow.forget_voter()
    return render_template("voting/already_voted.html", cycle=cycle), 409


def too_many(refused: RateLimited):
    retry_at = now() + timedelta(seconds=refused.retry_after)
    page = render_template("voting/too_many.html", message=refused.message, retry_at=retry_at)
    return page, 429, {"Retry-After": str(refused.retry_after)}


def restart(cycle: Cycle):
    """Back to the identification page (no voter in this browser, or it expired); on a kiosk,
    back to its start screen, saying nothing (the next voter may be the one reading)."""
    if current_client().is_kiosk:
        return kiosk_start()
    flash(
        _(
            "Please identify yourself to vote. For your privacy, a vote not finished within "
            "20 minutes is forgotten."
        ),
        "warning",
    )
    return redirect(url_for("voting.identify", slug=cycle.slug), code=303)


def ballot_page(
    cycle: Cycle,
    voter: EligibleVoter,
    choices: Sequence[object],
    *,
    check: bool = False,
    problems: Sequence[Problem] = (),
    status: int = 200,
):
    """The ballot with `choices` checked (see `presentation.ballot_page_data`); 422 when a
    review or a cast refused them."""
    data = ballot_page_data(cycle, voter, choices, check=check, problems=problems)
    page = render_template(
        "voting/ballot.html", cycle=cycle, form=BallotForm(), refused=status == 422, **data
    )
    return page, status
