"""The citizen's proposal form, open only while the cycle's submission phase runs."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from opdigital.cycles.models import CycleKind, PhaseKind
from opdigital.cycles.queries import public_cycle
from opdigital.errors import DomainError, PhaseClosed
from opdigital.extensions import db, limiter
from opdigital.geo.locations import LOCATION_ERROR_CODES
from opdigital.proposals.services import ProposalData, accepts_citizen_proposals, submit_proposal
from opdigital.public import bp
from opdigital.public.forms import build_proposal_form
from opdigital.regions.models import School
from opdigital.regions.queries import all_regions, all_schools
from opdigital.web import is_read, page_or_404


def _closed(cycle, status: int):
    return (
        render_template(
            "public/submit_closed.html",
            cycle=cycle,
            phase=cycle.phase_of_kind(PhaseKind.PROPOSALS),
        ),
        status,
    )


def _data_from(form, cycle) -> ProposalData:
    school_id = form.school.data if cycle.kind == CycleKind.OPCA else None
    region_id = form.region.data if cycle.kind != CycleKind.OPCA else None
    if school_id is not None:
        # Pupils choose their school; its region is the proposal's region.
        school = db.session.get(School, school_id)
        region_id = school.region_id if school is not None else None
    return ProposalData(
        title=form.title.data or "",
        description=form.description.data or "",
        estimated_cost_cents=form.estimated_cost.data,
        region_id=region_id,
        school_id=school_id,
        place=form.place.data or "",
        latitude=form.latitude.data,
        longitude=form.longitude.data,
        author_name=form.author_name.data or "",
        contact=form.contact.data or "",
        notify_by_email=bool(form.notify_by_email.data),
        # The language the proposer reads the site in: their e-mails will be written in it.
        notify_language=str(get_locale()),
    )


@bp.route("/ciclos/<slug>/propostas/nova", methods=["GET", "POST"], endpoint="submit_proposal")
@limiter.limit(lambda: current_app.config["PROPOSAL_SUBMIT_LIMIT_PER_IP"], methods=["POST"])
def submit_proposal_form(slug: str):
    """Show the form, or take a proposal and send the citizen to its public page."""
    cycle = page_or_404(public_cycle, slug)
    if not accepts_citizen_proposals(cycle):
        return _closed(cycle, 200 if is_read() else 403)
    regions = all_regions()
    schools = all_schools() if cycle.kind == CycleKind.OPCA else []
    form = build_proposal_form(cycle, regions, schools)
    error = None
    if form.validate_on_submit():
        try:
            proposal = submit_proposal(cycle, _data_from(form, cycle))
        except PhaseClosed:
            # The phase ended between the page load and the click.
            return _closed(cycle, 403)
        except DomainError as e:
            if e.code in LOCATION_ERROR_CODES:
                # About the point: shown beside the coordinates, where it can be corrected.
                form.latitude.errors.append(str(e.message))
            else:
                error = str(e.message)
        else:
            flash(
                _(
                    "Thank you! Your proposal was received with the code %(code)s.",
                    code=proposal.code,
                ),
                "success",
            )
            return redirect(url_for("public.proposal", code=proposal.code), code=303)
    status = 422 if (form.is_submitted() and (form.errors or error)) else 200
    return render_template("public/submit.html", cycle=cycle, form=form, error=error), status
