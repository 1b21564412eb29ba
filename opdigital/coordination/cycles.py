"""Coordinator dashboard and the cycle control page: create, edit and move a cycle along."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from opdigital.coordination import bp
from opdigital.coordination.common import actor, flash_error, load_cycle, status_counts
from opdigital.coordination.forms import CycleCreateForm, CycleEditForm, TransitionForm
from opdigital.coordination.messages import step_message
from opdigital.cycles import lifecycle
from opdigital.cycles import services as cycles
from opdigital.cycles.models import Cycle
from opdigital.cycles.schedule import build_schedule
from opdigital.cycles.states import CycleState, next_state
from opdigital.errors import DomainError
from opdigital.extensions import db
from opdigital.proposals.models import ProposalStatus
from opdigital.proposals.services import list_proposals
from opdigital.tally.summary import board_state, tally_summary
from opdigital.web import is_read

# What moving to each state means, shown beside the one button that moves the cycle on.
NEXT_STATE_HELP = {
    CycleState.OPEN_FOR_PROPOSALS: _l(
        "The cycle becomes public and citizens can send proposals during its submission phase."
    ),
    CycleState.UNDER_REVIEW: _l(
        "Submissions stop; staff review each proposal's feasibility and cost and accept or "
        "reject it with a public reason."
    ),
    CycleState.BALLOT_FROZEN: _l(
        "Accepted proposals go on the ballot, which can no longer change: no new proposals, "
        "reviews, budgets or eligibility changes. Every proposal must be reviewed first."
    ),
    CycleState.VOTING: _l("Voting opens for the eligible citizens."),
    CycleState.CLOSED: _l(
        "Voting closes: no further ballots are accepted, and every ballot still waiting is "
        "sealed onto the board."
    ),
    CycleState.TALLIED: _l(
        "The board is counted with the cycle's counting rule, each proposal is marked selected "
        "or not, and the signed tally package is stored. It stays private to staff until the "
        "results are published."
    ),
    CycleState.PUBLISHED: _l(
        "The results and the signed tally package are published for everyone to see and check."
    ),
    CycleState.MONITORING: _l(
        "The selected works are followed until they are done; their execution status is public."
    ),
}

TRANSITION_BUTTON = {
    CycleState.OPEN_FOR_PROPOSALS: _l("Open for proposals"),
    CycleState.UNDER_REVIEW: _l("Start the technical review"),
    CycleState.BALLOT_FROZEN: _l("Freeze the ballot"),
    CycleState.VOTING: _l("Open voting"),
    CycleState.CLOSED: _l("Close voting"),
    CycleState.TALLIED: _l("Count the votes and sign the package"),
    CycleState.PUBLISHED: _l("Publish the results"),
    CycleState.MONITORING: _l("Start monitoring execution"),
}


@bp.get("/")
def dashboard():
    """Every cycle, drafts included, with its proposals counted by status."""
    all_cycles = cycles.list_cycles()
    counts = status_counts([c.id for c in all_cycles])
    return render_template(
        "coordination/dashboard.html",
        cycles=all_cycles,
        counts=counts,
        statuses=list(ProposalStatus),
    )


def _cycle_data(form: CycleEditForm, kind: str) -> cycles.CycleData:
    return cycles.CycleData(
        slug=form.slug.data.strip(),
        kind=kind,
        title=form.title.data.strip(),
        edition=form.edition.data,
        total_budget_cents=form.total_budget.data,
        description=(form.description.data or "").strip(),
        min_voter_age=form.min_voter_age.data,
        max_voter_age=form.max_voter_age.data,
    )


@bp.route("/cycles/new", methods=["GET", "POST"])
def new_cycle():
    form = CycleCreateForm()
    if form.validate_on_submit():
        try:
            cycle = cycles.create_cycle(_cycle_data(form, form.kind.data), form.start.data, actor())
        except DomainError as e:
            return _cycle_form(form, None, str(e), e.status)
        flash(_("Cycle created with the phases of its kind's template."), "success")
        return redirect(url_for("coordination.cycle", slug=cycle.slug))
    return _cycle_form(form, None, None, 422 if form.is_submitted() else 200)


@bp.route("/cycles/<slug>/edit", methods=["GET", "POST"])
def edit_cycle(slug: str):
    cycle = load_cycle(slug)
    # Pre-fill from the cycle only on GET, so a field left out of a POST is not silently kept.
    if is_read():
        form = CycleEditForm(obj=cycle, total_budget=cycle.total_budget_cents)
    else:
        form = CycleEditForm()
    if form.validate_on_submit():
        try:
            cycle = cycles.update_cycle(cycle, _cycle_data(form, cycle.kind), actor())
        except DomainError as e:
            return _cycle_form(form, load_cycle(slug), str(e), e.status)
        flash(_("Cycle updated."), "success")
        return redirect(url_for("coordination.cycle", slug=cycle.slug))
    return _cycle_form(form, cycle, None, 422 if form.is_submitted() else 200)


def _cycle_form(form, cycle: Cycle | None, error: str | None, status: int):
    return (
        render_template("coordination/cycle_form.html", form=form, cycle=cycle, error=error),
        status,
    )


def render_cycle_page(cycle: Cycle, status: int = 200):
    """The control page; also rendered with an error status when an action was refused."""
    proposals = list_proposals(cycle)
    counts = status_counts([cycle.id]).get(cycle.id, {})
    target = next_state(CycleState(cycle.state))
    budgets = sorted(cycle.region_budgets, key=lambda rb: rb.region.name)
    allocated = sum(rb.amount_cents for rb in budgets)
    return (
        render_template(
            "coordination/cycle.html",
            cycle=cycle,
            schedule=build_schedule(cycle),
            proposals=proposals,
            counts=counts,
            statuses=list(ProposalStatus),
            target=target,
            target_help=NEXT_STATE_HELP.get(target) if target else None,
            target_button=TRANSITION_BUTTON.get(target) if target else None,
            transition_form=TransitionForm(formdata=None, target=target.value if target else ""),
            budgets=budgets,
            allocated=allocated,
            board=board_state(cycle),
            tally=tally_summary(cycle),
        ),
        status,
    )


@bp.get("/cycles/<slug>")
def cycle(slug: str):
    return render_cycle_page(load_cycle(slug))


@bp.post("/cycles/<slug>/transition")
def transition(slug: str):
    """Move the cycle to the state posted; refusals are shown on the page with a 409.

    Every step goes through `cycles.lifecycle.advance` (closing seals the board, tallying
    counts and signs, publishing opens the package); what it did is flashed on success.
    """
    cycle = load_cycle(slug)
    form = TransitionForm()
    if not form.validate():
        flash(_("Choose the state to move the cycle to."), "error")
        return render_cycle_page(cycle, 422)
    try:
        outcome = lifecycle.advance(cycle, form.target.data, actor())
    except DomainError as e:
        db.session.rollback()  # nothing half-done may be committed by the page shown next
        flash_error(e)
        return render_cycle_page(load_cycle(slug), e.status)
    flash(step_message(outcome), "success")
    return redirect(url_for("coordination.cycle", slug=slug))
