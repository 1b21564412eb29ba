"""The citizen's voting flow: identify -> ballot -> review -> confirm -> receipt (no JS needed).

Who is voting lives only in the visitor's session cookie, encrypted there by `flow` (Fernet; the
cookie itself is only signed), never in a URL, a flash message or a log line; it is dropped the
moment the vote is cast, and the receipt is shown once.
"""

from __future__ import annotations

from datetime import timedelta
from functools import wraps

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from opdigital.clock import now
from opdigital.counting.ballot_rules import (
    as_id,
    overall_limits,
    region_limits,
    remaining,
    validate_ballot,
)
from opdigital.cycles.models import Cycle, CycleKind
from opdigital.cycles.queries import public_cycle
from opdigital.errors import AlreadyVoted, NotEligible, RateLimited, VotingClosed
from opdigital.public import display
from opdigital.regions.queries import all_schools
from opdigital.registry.credentials import Credentials
from opdigital.registry.services import find_eligible_voter
from opdigital.voting import flow
from opdigital.voting.forms import (
    BallotForm,
    ConfirmForm,
    IdentifyForm,
    SchoolIdentifyForm,
    choices_from_form,
)
from opdigital.voting.identification import count_client_request, identify_with_limits
from opdigital.voting.limits import current_client
from opdigital.voting.presentation import (
    build_groups,
    explain_all,
    proposals_by_id,
    rule_sentences,
)
from opdigital.voting.qr import qr_svg, receipt_lookup_url
from opdigital.voting.services import (
    BallotRefused,
    cast_ballot,
    check_ballot,
    frozen_ballot,
    has_voted,
    voting_window,
)
from opdigital.voting.turnout import running_totals
from opdigital.web import is_read, page_or_404

bp = Blueprint("voting", __name__)


@bp.app_context_processor
def inject_voting_window() -> dict:
    # The public cycle page shows a "Vote" button while `voting_window(cycle).is_open`.
    return {"voting_window": voting_window}


@bp.context_processor
def inject_display_helpers() -> dict:
    return {"window_start": display.window_start, "window_end": display.window_end}


@bp.after_request
def never_cache(response):
    # A shared kiosk's back button or cache must not bring back someone's ballot or receipt.
    response.headers["Cache-Control"] = "no-store"
    return response


def client_limit(view):
    """Count each submission against the client's allowance (per address or voting point);
    over it, the same friendly page as a locked credential."""

    @wraps(view)
    def limited(*args, **kwargs):
        if not is_read():
            try:
                count_client_request(current_client())
            except RateLimited as refused:
                return _too_many(refused)
        return view(*args, **kwargs)

    return limited


# --- pages shared by several steps ---------------------------------------------------------


def _closed(cycle: Cycle):
    window = voting_window(cycle)
    state = "none" if window.opens_at is None else ("soon" if now() < window.opens_at else "past")
    return render_template("voting/closed.html", cycle=cycle, window=window, state=state), 403


def _already_voted(cycle: Cycle):
    flow.forget_voter()
    return render_template("voting/already_voted.html", cycle=cycle), 409


def _too_many(refused: RateLimited):
    retry_at = now() + timedelta(seconds=refused.retry_after)
    page = render_template("voting/too_many.html", message=refused.message, retry_at=retry_at)
    return page, 429, {"Retry-After": str(refused.retry_after)}


def _restart(cycle: Cycle):
    flash(
        _(
            "Please identify yourself to vote. For your privacy, a vote not finished within "
            "20 minutes is forgotten."
        ),
        "warning",
    )
    return redirect(url_for("voting.identify", slug=cycle.slug), code=303)


def _open_cycle(slug: str) -> tuple[Cycle, object | None]:
    """The cycle, and the "voting is not open" page when votes are not accepted now."""
    cycle = page_or_404(public_cycle, slug)
    return cycle, None if voting_window(cycle).is_open else _closed(cycle)


# --- 1. identify ---------------------------------------------------------------------------


def _identify_form(cycle: Cycle):
    if cycle.kind != CycleKind.OPCA:
        return IdentifyForm()
    form = SchoolIdentifyForm()
    form.school.choices = [("", _("Choose your school"))] + [
        (school.slug, school.name) for school in all_schools()
    ]
    return form


def _credentials(cycle: Cycle, form) -> Credentials:
    if isinstance(form, SchoolIdentifyForm):
        return Credentials(
            birth_date=form.birth_date.data, school=form.school.data, enrolment=form.enrolment.data
        )
    return Credentials(birth_date=form.birth_date.data, titulo=form.titulo.data)


def _identify_page(cycle: Cycle, form, status: int, error: str | None = None):
    form.forget_secrets()
    return render_template("voting/identify.html", cycle=cycle, form=form, error=error), status


@bp.route("/ciclos/<slug>/votar", methods=["GET", "POST"])
@client_limit
def identify(slug: str):
    """Who is voting: título and birth date (OPCA: school, enrolment and birth date)."""
    cycle, closed = _open_cycle(slug)
    if closed:
        return closed
    form = _identify_form(cycle)
    if not form.validate_on_submit():
        return _identify_page(cycle, form, 422 if form.is_submitted() else 200)
    credentials = _credentials(cycle, form)
    try:
        voter = identify_with_limits(
            current_client(),
            credentials,
            lambda: find_eligible_voter(cycle, credentials),
            count_request=False,  # `client_limit` counted the request
        )
    except RateLimited as refused:
        return _too_many(refused)
    except NotEligible as e:
        return _identify_page(cycle, form, 403, error=str(e))
    if has_voted(cycle, voter):
        return _already_voted(cycle)
    flow.start(cycle, voter)
    return redirect(url_for("voting.ballot", slug=cycle.slug), code=303)


# --- 2. ballot -----------------------------------------------------------------------------


def _ballot_page(cycle: Cycle, voter_key: str, choices: list, *, problems=(), status=200):
    ballot = frozen_ballot(cycle)
    rule, projects = ballot.rule, ballot.projects
    left = remaining(rule, projects, choices)
    chosen = {i for i in map(as_id, choices) if i is not None}
    return (
        render_template(
            "voting/ballot.html",
            cycle=cycle,
            form=BallotForm(),
            rule=rule,
            rule_sentences=rule_sentences(rule),
            groups=build_groups(cycle, rule, projects, voter_key, chosen, left),
            left=left,
            overall_max=overall_limits(rule)[1],
            region_max=region_limits(rule)[1],
            problems=explain_all(problems, projects),
            refused=status == 422,
        ),
        status,
    )


@bp.route("/ciclos/<slug>/votar/cedula", methods=["GET", "POST"])
def ballot(slug: str):
    """The ballot; "Check my choices" recomputes what is left, "Review" validates."""
    cycle, closed = _open_cycle(slug)
    if closed:
        return closed
    voter = flow.current_voter(cycle)
    if voter is None:
        return _restart(cycle)
    if is_read():
        return _ballot_page(cycle, voter.voter_key, flow.saved_choices(cycle) or [])
    choices = choices_from_form(request.form)
    if request.form.get("action") != "review":
        ballot = frozen_ballot(cycle)
        problems = validate_ballot(ballot.rule, ballot.projects, choices)
        return _ballot_page(cycle, voter.voter_key, choices, problems=problems)
    try:
        chosen = check_ballot(cycle, choices)
    except BallotRefused as e:
        return _ballot_page(cycle, voter.voter_key, choices, problems=e.problems, status=422)
    flow.save_choices(cycle, chosen)
    return redirect(url_for("voting.review", slug=cycle.slug), code=303)


# --- 3. review and confirm -----------------------------------------------------------------


def _chosen_proposals(choices: list[int]) -> list:
    proposals = proposals_by_id(choices).values()
    return sorted(proposals, key=lambda p: (p.region is None, p.region.name if p.region else ""))


@bp.route("/ciclos/<slug>/votar/revisao", methods=["GET", "POST"])
@client_limit
def review(slug: str):
    """The choices once more, with "Confirm my vote" (casts) and "Change" (back to the ballot)."""
    cycle, closed = _open_cycle(slug)
    if closed:
        return closed
    voter = flow.current_voter(cycle)
    if voter is None:
        return _restart(cycle)
    choices = flow.saved_choices(cycle)
    if choices is None:
        return redirect(url_for("voting.ballot", slug=cycle.slug), code=303)
    if request.method == "POST":
        try:
            receipt = cast_ballot(
                cycle, voter, choices, voting_point_id=current_client().voting_point_id
            )
        except AlreadyVoted:
            return _already_voted(cycle)
        except VotingClosed:
            return _closed(cycle)
        except BallotRefused as e:
            return _ballot_page(cycle, voter.voter_key, choices, problems=e.problems, status=422)
        flow.finish(cycle, receipt.code)
        return redirect(url_for("voting.receipt", slug=cycle.slug), code=303)
    return render_template(
        "voting/review.html",
        cycle=cycle,
        form=ConfirmForm(),
        proposals=_chosen_proposals(choices),
    )


# --- 4. receipt ----------------------------------------------------------------------------


def _totals_by_region(cycle: Cycle) -> list[tuple[str | None, list[tuple[object, int]]]]:
    totals = running_totals(cycle)
    proposals = proposals_by_id(p.id for p in frozen_ballot(cycle).projects).values()
    groups: dict[str | None, list] = {}
    for proposal in proposals:
        region = proposal.region.name if proposal.region else None
        groups.setdefault(region, []).append((proposal, totals.get(proposal.id, 0)))
    return [
        (region, sorted(rows, key=lambda row: (-row[1], row[0].title)))
        for region, rows in sorted(groups.items(), key=lambda g: (g[0] is None, g[0] or ""))
    ]


@bp.get("/ciclos/<slug>/votar/comprovante")
def receipt(slug: str):
    """The receipt code and its QR code, shown once (works after voting closed, too)."""
    cycle = page_or_404(public_cycle, slug)
    code = flow.take_receipt(cycle)
    if code is None:
        return render_template("voting/receipt_shown.html", cycle=cycle)
    lookup = receipt_lookup_url(request.host_url, cycle.slug, code)
    return render_template(
        "voting/receipt.html",
        cycle=cycle,
        code=code,
        qr=qr_svg(lookup, title=_("QR code of your receipt %(code)s", code=code)),
        totals=_totals_by_region(cycle) if cycle.show_running_totals else None,
    )
