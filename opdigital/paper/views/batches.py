"""Batches: made at the close, entered twice, compared, resolved, sealed."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from opdigital.errors import DomainError
from opdigital.paper.entry import (
    EntryRefused,
    agreed_count,
    batches_of_point,
    create_batch,
    differences,
    entries_of,
    issued_serials,
    resolve,
    submit_entry,
)
from opdigital.paper.forms import (
    ActionForm,
    BatchForm,
    resolutions_from_form,
    sheets_from_form,
)
from opdigital.paper.models import BatchStatus
from opdigital.paper.readings import describe, numbered_works, works_of
from opdigital.paper.sealing import paper_count, seal_batch
from opdigital.paper.services import COUNTING_STATES
from opdigital.paper.views import bp
from opdigital.paper.views.common import batch_for_user, cycle_for_user, point_for_user


@bp.route("/<slug>/points/<int:point_id>/batches", methods=["GET", "POST"])
def batches(slug: str, point_id: int):
    """The point's batches, and a new one (its sheets counted by hand)."""
    cycle = cycle_for_user(slug)
    point = point_for_user(cycle, point_id)
    form = BatchForm()
    error, status = None, 200
    if form.validate_on_submit():
        try:
            batch = create_batch(cycle, point.id, form.sheet_count.data, current_user)
        except DomainError as e:
            error, status = str(e), e.status
        else:
            flash(_("Batch %(number)d created.", number=batch.number), "success")
            return redirect(url_for("paper.batch", slug=cycle.slug, batch_id=batch.id), 303)
    elif form.is_submitted():
        status = 422
    return (
        render_template(
            "paper/batches.html",
            cycle=cycle,
            point=point,
            form=form,
            batches=batches_of_point(cycle.id, point.id),
            can_count=cycle.state in COUNTING_STATES,
            error=error,
        ),
        status,
    )


def _described(cycle, found) -> list:
    """Each difference with both entries' readings in words (works by their sheet numbers)."""
    numbers = {w.proposal_id: w.number for w in numbered_works(cycle)}
    return [(d, describe(d.first, numbers), describe(d.second, numbers)) for d in found]


def _batch_page(cycle, batch, point, status: int = 200, error=None):
    entries = entries_of(batch)
    return (
        render_template(
            "paper/batch.html",
            cycle=cycle,
            batch=batch,
            point=point,
            entries=entries,
            entered_by_me=any(e.entered_by_id == current_user.id for e in entries),
            differences=_described(cycle, differences(batch)),
            agreed=agreed_count(batch),
            count=paper_count(batch),
            form=ActionForm(),
            error=error,
            statuses=BatchStatus,
        ),
        status,
    )


@bp.route("/<slug>/batches/<int:batch_id>")
def batch(slug: str, batch_id: int):
    """A batch: its entries, its differences, and sealing once ready."""
    cycle = cycle_for_user(slug)
    batch, point = batch_for_user(cycle, batch_id)
    return _batch_page(cycle, batch, point)


def _entry_works(cycle, point_id: int):
    """The works the entry form lists: those of the regions printed for the point (all of
    them when a run listed the whole ballot)."""
    works = numbered_works(cycle)
    regions = set(issued_serials(cycle.id, point_id).values())
    if not regions or None in regions:
        return works
    return [w for w in works if w.region_id in regions]


@bp.route("/<slug>/batches/<int:batch_id>/entry", methods=["GET", "POST"])
def entry(slug: str, batch_id: int):
    """Type the whole batch, sheet by sheet: serial, works marked, or spoiled. The form never
    shows another entry's values."""
    cycle = cycle_for_user(slug)
    batch, point = batch_for_user(cycle, batch_id)
    form = ActionForm()
    rows = batch.sheet_count
    sheets = sheets_from_form(request.form, rows) if request.method == "POST" else []
    error, problems, status = None, {}, 200
    if batch.status != BatchStatus.ENTERING:
        error, status = _("This batch has been entered twice already."), 409
    elif any(e.entered_by_id == current_user.id for e in entries_of(batch)):
        error = _(
            "You have already entered this batch: the second entry must be made by another "
            "staff member."
        )
        status = 409
    elif form.validate_on_submit():
        try:
            outcome = submit_entry(batch, sheets, current_user)
        except EntryRefused as e:
            error, status = str(e), e.status
            problems = _problems_by_row(e.problems)
        except DomainError as e:
            error, status = str(e), e.status
        else:
            _flash_outcome(outcome)
            return redirect(url_for("paper.batch", slug=cycle.slug, batch_id=batch.id), 303)
    elif form.is_submitted():
        error, status = _("The form expired. Please send it again."), 400
    return (
        render_template(
            "paper/entry.html",
            cycle=cycle,
            batch=batch,
            point=point,
            form=form,
            works=works_of(_entry_works(cycle, point.id)),
            rows=range(1, rows + 1),
            typed={s.row: s for s in sheets},
            problems=problems,
            error=error,
        ),
        status,
    )


def _problems_by_row(problems) -> dict:
    by_row: dict = {}
    for row, message in problems:
        by_row.setdefault(row or 0, []).append(str(message))
    return by_row


def _flash_outcome(outcome) -> None:
    flash(_("Entry %(round)d saved.", round=outcome.round), "success")
    if outcome.read_as_spoiled:
        serials = ", ".join(str(s) for s in outcome.read_as_spoiled)
        flash(
            ngettext(
                "%(num)d sheet was recorded as spoiled, as its marking breaks the ballot's "
                "rule: %(serials)s.",
                "%(num)d sheets were recorded as spoiled, as their marking breaks the ballot's "
                "rule: %(serials)s.",
                len(outcome.read_as_spoiled),
                serials=serials,
            ),
            "info",
        )
    if outcome.round == 2 and outcome.differences:
        flash(
            ngettext(
                "The two entries differ on %(num)d sheet: resolve it against the paper.",
                "The two entries differ on %(num)d sheets: resolve them against the paper.",
                outcome.differences,
            ),
            "info",
        )
    elif outcome.round == 2:
        flash(_("The two entries agree: the batch is ready to be sealed."), "success")


@bp.route("/<slug>/batches/<int:batch_id>/resolve", methods=["GET", "POST"])
def resolve_batch(slug: str, batch_id: int):
    """Settle each difference against the physical sheet: entry 1, entry 2, or typed anew."""
    cycle = cycle_for_user(slug)
    batch, point = batch_for_user(cycle, batch_id)
    form = ActionForm()
    found = differences(batch)
    error, status = None, 200
    if batch.status != BatchStatus.RESOLVING:
        error, status = _("This batch has no differences to resolve."), 409
    elif form.validate_on_submit():
        choices = resolutions_from_form(request.form, [d.serial for d in found])
        try:
            resolve(batch, choices, current_user)
        except DomainError as e:
            error, status = str(e), e.status
        else:
            flash(_("Every difference is resolved: the batch is ready to be sealed."), "success")
            return redirect(url_for("paper.batch", slug=cycle.slug, batch_id=batch.id), 303)
    elif form.is_submitted():
        error, status = _("The form expired. Please send it again."), 400
    return (
        render_template(
            "paper/resolve.html",
            cycle=cycle,
            batch=batch,
            point=point,
            form=form,
            works=_entry_works(cycle, point.id),
            differences=_described(cycle, found),
            posted=request.form,
            error=error,
        ),
        status,
    )


@bp.route("/<slug>/batches/<int:batch_id>/seal", methods=["POST"])
def seal(slug: str, batch_id: int):
    """Put the ready batch's ballots in the queue the board seals from."""
    cycle = cycle_for_user(slug)
    batch, point = batch_for_user(cycle, batch_id)
    form = ActionForm()
    if not form.validate_on_submit():
        return _batch_page(cycle, batch, point, 400, _("The form expired. Please send it again."))
    try:
        sealed = seal_batch(batch, current_user)
    except DomainError as e:
        return _batch_page(cycle, batch, point, e.status, str(e))
    flash(
        ngettext(
            "Batch sealed: %(num)d paper ballot will go onto the board.",
            "Batch sealed: %(num)d paper ballots will go onto the board.",
            sealed,
        ),
        "success",
    )
    return redirect(url_for("paper.batch", slug=cycle.slug, batch_id=batch.id), 303)
