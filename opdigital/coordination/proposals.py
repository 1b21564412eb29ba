"""Staff screens for proposals: the list, staff entry, technical review, result, execution."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from opdigital.coordination import bp
from opdigital.coordination.common import (
    actor,
    can_record_result,
    can_review,
    can_update_execution,
    flash_error,
    load_cycle,
    load_proposal,
    locked_message,
)
from opdigital.coordination.forms import (
    ExecutionForm,
    LocationForm,
    ProposalForm,
    ResultForm,
    ReviewForm,
)
from opdigital.cycles.models import Cycle, CycleKind
from opdigital.errors import DomainError
from opdigital.geo.locations import LOCATION_ERROR_CODES
from opdigital.proposals import services as proposals
from opdigital.proposals.models import Proposal, ProposalStatus
from opdigital.regions.queries import all_regions, all_schools
from opdigital.web import is_read


@bp.get("/cycles/<slug>/proposals")
def list_proposals(slug: str):
    """All of a cycle's proposals, contacts included, optionally filtered by status."""
    cycle = load_cycle(slug)
    status = request.args.get("status", "")
    if status and status not in {s.value for s in ProposalStatus}:
        abort(400)
    items = proposals.list_proposals(cycle)
    if status:
        items = [p for p in items if p.status == status]
    return render_template(
        "coordination/proposals.html",
        cycle=cycle,
        proposals=items,
        status=status,
        statuses=list(ProposalStatus),
    )


def _locked_page(cycle: Cycle, message: str, status: int = 409):
    page = render_template("coordination/refused.html", cycle=cycle, message=message)
    return page, status


def _proposal_form_for(cycle: Cycle) -> ProposalForm:
    return ProposalForm(
        regions=all_regions(),
        schools=all_schools(),
        with_school=cycle.kind == CycleKind.OPCA,
    )


@bp.route("/cycles/<slug>/proposals/new", methods=["GET", "POST"])
def new_proposal(slug: str):
    """Staff enter a proposal chosen at an assembly, sent on paper, by phone..."""
    cycle = load_cycle(slug)
    if cycle.ballot_locked:
        return _locked_page(cycle, locked_message())
    form = _proposal_form_for(cycle)
    if form.validate_on_submit():
        data = proposals.ProposalData(
            title=form.title.data,
            description=form.description.data,
            estimated_cost_cents=form.estimated_cost.data,
            region_id=form.region_id.data,
            school_id=form.school_id.data if "school_id" in form else None,
            place=form.place.data or "",
            latitude=form.latitude.data,
            longitude=form.longitude.data,
            author_name=form.author_name.data or "",
            contact=form.contact.data or "",
        )
        try:
            proposal = proposals.enter_proposal(cycle, data, form.origin.data, actor())
        except DomainError as e:
            if e.code in LOCATION_ERROR_CODES:
                form.latitude.errors.append(str(e))
                return _proposal_form(form, load_cycle(slug), None, e.status)
            return _proposal_form(form, load_cycle(slug), str(e), e.status)
        flash(_("Proposal %(code)s entered.", code=proposal.code), "success")
        return redirect(url_for("coordination.proposal", code=proposal.code))
    return _proposal_form(form, cycle, None, 422 if form.is_submitted() else 200)


def _proposal_form(form, cycle: Cycle, error: str | None, status: int):
    page = render_template("coordination/proposal_form.html", form=form, cycle=cycle, error=error)
    return page, status


def render_proposal_page(proposal: Proposal, status: int = 200):
    """The review page; also rendered with an error status when an action was refused."""
    page = render_template(
        "coordination/proposal.html",
        proposal=proposal,
        cycle=proposal.cycle,
        can_review=can_review(proposal),
        can_record_result=can_record_result(proposal),
        can_update_execution=can_update_execution(proposal),
        result_form=ResultForm(formdata=None),
        location_form=_location_form_of(proposal, formdata=None),
    )
    return page, status


@bp.get("/proposals/<code>")
def proposal(code: str):
    return render_proposal_page(load_proposal(code))


@bp.post("/proposals/<code>/start-review")
def start_review(code: str):
    proposal = load_proposal(code)
    try:
        proposals.start_review(proposal, actor())
    except DomainError as e:
        flash_error(e)
        return render_proposal_page(load_proposal(code), e.status)
    flash(_("Proposal %(code)s is under review.", code=code), "success")
    return redirect(url_for("coordination.proposal", code=code))


@bp.route("/proposals/<code>/review", methods=["GET", "POST"])
def review(code: str):
    proposal = load_proposal(code)
    if proposal.cycle.ballot_locked:
        return _locked_page(proposal.cycle, locked_message())
    if not can_review(proposal):
        return _locked_page(proposal.cycle, _("This proposal cannot be reviewed now."))
    if is_read():
        form = ReviewForm(
            technical_opinion=proposal.technical_opinion,
            reviewed_cost=proposal.reviewed_cost_cents,
            rejection_reason=proposal.rejection_reason,
        )
    else:
        form = ReviewForm()
    if form.validate_on_submit():
        decision = proposals.ReviewDecision(
            accept=form.decision.data == "accept",
            technical_opinion=form.technical_opinion.data,
            reviewed_cost_cents=form.reviewed_cost.data,
            rejection_reason=form.rejection_reason.data or "",
        )
        try:
            proposals.review_proposal(proposal, decision, actor())
        except DomainError as e:
            return _work_form("review_form", form, load_proposal(code), str(e), e.status)
        flash(_("Review of %(code)s saved.", code=code), "success")
        return redirect(url_for("coordination.proposal", code=code))
    return _work_form("review_form", form, proposal, None, 422 if form.is_submitted() else 200)


def _work_form(template: str, form, proposal: Proposal, error: str | None, status: int):
    """A form about one proposal (review, execution), with the service's refusal if any."""
    page = render_template(
        f"coordination/{template}.html",
        form=form,
        proposal=proposal,
        cycle=proposal.cycle,
        error=error,
    )
    return page, status


@bp.post("/proposals/<code>/result")
def record_result(code: str):
    proposal = load_proposal(code)
    form = ResultForm()
    if not form.validate():
        flash(_("Choose selected or not selected."), "error")
        return render_proposal_page(proposal, 422)
    try:
        proposals.record_result(proposal, form.selected.data == "yes", actor())
    except DomainError as e:
        flash_error(e)
        return render_proposal_page(load_proposal(code), e.status)
    flash(_("Result of %(code)s recorded.", code=code), "success")
    return redirect(url_for("coordination.proposal", code=code))


@bp.route("/proposals/<code>/execution", methods=["GET", "POST"])
def execution(code: str):
    proposal = load_proposal(code)
    if not can_update_execution(proposal):
        return _locked_page(
            proposal.cycle,
            _("Execution is followed only for selected works, once the result is known."),
        )
    if is_read():
        form = ExecutionForm(status=proposal.execution_status, note=proposal.execution_note)
    else:
        form = ExecutionForm()
    if form.validate_on_submit():
        try:
            proposals.update_execution(proposal, form.status.data, form.note.data or "", actor())
        except DomainError as e:
            return _work_form("execution_form", form, load_proposal(code), str(e), e.status)
        flash(_("Execution status of %(code)s updated.", code=code), "success")
        return redirect(url_for("coordination.proposal", code=code))
    return _work_form("execution_form", form, proposal, None, 422 if form.is_submitted() else 200)


def _location_form_of(proposal: Proposal, **kwargs) -> LocationForm:
    return LocationForm(
        latitude=proposal.latitude, longitude=proposal.longitude, place=proposal.place, **kwargs
    )


@bp.route("/proposals/<code>/location", methods=["GET", "POST"])
def location(code: str):
    """Place a proposal or work on the map (or take it off), with its address in words."""
    proposal = load_proposal(code)
    form = _location_form_of(proposal) if is_read() else LocationForm()
    if form.validate_on_submit():
        try:
            proposals.set_location(
                proposal, form.latitude.data, form.longitude.data, form.place.data or "", actor()
            )
        except DomainError as e:
            if e.code in LOCATION_ERROR_CODES:
                form.latitude.errors.append(str(e))
                return _work_form("location_form", form, load_proposal(code), None, e.status)
            return _work_form("location_form", form, load_proposal(code), str(e), e.status)
        message = (
            _("Location of %(code)s saved.", code=code)
            if proposal.has_location
            else _("%(code)s has no location now.", code=code)
        )
        flash(message, "success")
        return redirect(url_for("coordination.proposal", code=code))
    return _work_form("location_form", form, proposal, None, 422 if form.is_submitted() else 200)
