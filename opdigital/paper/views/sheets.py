"""Printing blank ballot sheets for a point (one per page, each with its own serial)."""

from __future__ import annotations

from flask import redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from opdigital.errors import DomainError
from opdigital.extensions import db
from opdigital.paper.forms import PrintForm
from opdigital.paper.printing import (
    SheetChoice,
    print_sheets,
    run_of,
    sheet_scope,
)
from opdigital.paper.readings import budget_of, instructions, numbered_works, works_of
from opdigital.paper.services import PRINTING_STATES
from opdigital.paper.views import bp
from opdigital.paper.views.common import cycle_for_user, point_for_user
from opdigital.regions.models import Region, School
from opdigital.voting.services import frozen_ballot
from opdigital.web import page_or_404


def _print_form(cycle) -> tuple[PrintForm, str]:
    form = PrintForm()
    scope = sheet_scope(cycle) if cycle.state in PRINTING_STATES else "all"
    works = numbered_works(cycle) if cycle.state in PRINTING_STATES else []
    regions = {w.region_id: w.region_name for w in works if w.region_id is not None}
    if scope == "region-optional":
        form.region.choices = [("", _("All regions on one sheet"))]
    else:
        form.region.choices = [("", _("Choose a region"))]
    form.region.choices += [
        (str(i), name) for i, name in sorted(regions.items(), key=lambda item: item[1])
    ]
    school_ids = {w.school_id for w in works if w.school_id is not None}
    schools = [db.session.get(School, i) for i in school_ids]
    form.school.choices = [("", _("Choose a school"))] + [
        (str(s.id), s.name) for s in sorted(schools, key=lambda s: s.name)
    ]
    return form, scope


@bp.route("/<slug>/points/<int:point_id>/sheets", methods=["GET", "POST"])
def sheets(slug: str, point_id: int):
    """Print N blank sheets for the point (new serials each time)."""
    cycle = cycle_for_user(slug)
    point = point_for_user(cycle, point_id)
    form, scope = _print_form(cycle)
    error, status = None, 200
    if cycle.state not in PRINTING_STATES:
        error = _("Sheets can be printed once the ballot is frozen, until the vote closes.")
        status = 409
    elif form.validate_on_submit():
        choice = SheetChoice(
            region_id=form.chosen_id(form.region) if scope != "school" else None,
            school_id=form.chosen_id(form.school) if scope == "school" else None,
        )
        try:
            run = print_sheets(cycle, point.id, form.count.data, choice, current_user)
        except DomainError as e:
            error, status = str(e), e.status
        else:
            return redirect(url_for("paper.sheet_run", slug=cycle.slug, run_id=run.id), code=303)
    elif form.is_submitted():
        status = 422
    return (
        render_template(
            "paper/sheets_form.html",
            cycle=cycle,
            point=point,
            form=form,
            scope=scope,
            error=error,
            blocked=cycle.state not in PRINTING_STATES,
        ),
        status,
    )


@bp.route("/<slug>/runs/<int:run_id>")
def sheet_run(slug: str, run_id: int):
    """The run's sheets as a page to print: one sheet per printed page."""
    cycle = cycle_for_user(slug)
    run = page_or_404(run_of, cycle, run_id)
    point = point_for_user(cycle, run.voting_point_id)
    rule = frozen_ballot(cycle).rule
    school_id = run.school_id
    works = works_of(numbered_works(cycle), run.region_id, school_id)
    return render_template(
        "paper/sheets_print.html",
        cycle=cycle,
        point=point,
        run=run,
        serials=range(run.first_serial, run.first_serial + run.count),
        works=works,
        region=db.session.get(Region, run.region_id) if run.region_id else None,
        school=db.session.get(School, school_id) if school_id else None,
        instructions=instructions(rule),
        budget_cents=budget_of(rule, run.region_id),
    )
