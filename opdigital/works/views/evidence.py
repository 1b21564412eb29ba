"""Staff screens of a work's execution evidence: department and money, milestones, photos.

One screen shows everything with a form per part; each form posts to its own address and, when
refused, the screen comes back with that form's messages (422) or the service's refusal.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from opdigital.auth import roles_required
from opdigital.clock import today_in_city
from opdigital.errors import DomainError, ValidationFailed
from opdigital.proposals.models import Proposal
from opdigital.proposals.services import can_update_execution, get_proposal
from opdigital.web import is_read, page_or_404
from opdigital.works import evidence as services
from opdigital.works.forms import FiguresForm, MilestoneDoneForm, MilestoneForm, PhotoForm
from opdigital.works.photos import process_upload
from opdigital.works.queries import (
    milestone_of,
    staff_photo_of,
    staff_photos_of,
    work_evidence,
)
from opdigital.works.views import bp

STAFF_ROLES = ("admin", "coordinator")


def _actor():
    return current_user._get_current_object()


def followed_work(view: Callable) -> Callable:
    """Call `view` with the work named by `code` in the address instead of the code: a 404 for
    an unknown code, a page saying why (409) when the work's execution is not followed now."""

    @wraps(view)
    def wrapped(code: str, **kwargs):
        work = page_or_404(get_proposal, code)
        if not can_update_execution(work):
            message = _("Execution is followed only for selected works, once the result is known.")
            return render_template("works/refused.html", proposal=work, message=message), 409
        return view(work, **kwargs)

    return wrapped


def _done_prefix(milestone_id: int) -> str:
    return f"done-{milestone_id}"


def _figures_form(proposal: Proposal) -> FiguresForm:
    return FiguresForm(
        prefix="figures",
        formdata=None,
        department=proposal.department,
        committed=proposal.committed_cents,
        spent=proposal.spent_cents,
    )


def _page(
    proposal: Proposal,
    *,
    status: int = 200,
    error: str | None = None,
    figures: FiguresForm | None = None,
    milestone: MilestoneForm | None = None,
    photo: PhotoForm | None = None,
    done: MilestoneDoneForm | None = None,
    done_id: int | None = None,
):
    """The evidence screen; the forms not given are blank (or show the stored figures)."""
    today = today_in_city()
    evidence = work_evidence(proposal, today)
    # A "done" form for each milestone not done yet, set to today.
    done_forms = {
        view.milestone.id: MilestoneDoneForm(
            prefix=_done_prefix(view.milestone.id), formdata=None, done_on=today
        )
        for view in evidence.milestones
        if view.milestone.done_on is None
    }
    if done is not None and done_id is not None:
        done_forms[done_id] = done
    page = render_template(
        "works/evidence.html",
        proposal=proposal,
        cycle=proposal.cycle,
        evidence=evidence,
        staff_photos=staff_photos_of(proposal),
        figures_form=figures or _figures_form(proposal),
        milestone_form=milestone or MilestoneForm(prefix="milestone", formdata=None),
        photo_form=photo or PhotoForm(prefix="photo", formdata=None),
        done_forms=done_forms,
        error=error,
    )
    return page, status


def _back(proposal: Proposal, anchor: str):
    return redirect(url_for("works.evidence", code=proposal.code, _anchor=anchor))


@bp.get("/staff/works/<code>")
@roles_required(*STAFF_ROLES)
@followed_work
def evidence(work: Proposal):
    return _page(work)


@bp.post("/staff/works/<code>/figures")
@roles_required(*STAFF_ROLES)
@followed_work
def save_figures(work: Proposal):
    form = FiguresForm(prefix="figures")
    if not form.validate_on_submit():
        return _page(work, figures=form, status=422)
    figures = services.Figures(
        department=form.department.data or "",
        committed_cents=form.committed.data,
        spent_cents=form.spent.data,
    )
    try:
        services.update_figures(work, figures, _actor())
    except DomainError as e:
        return _page(work, figures=form, error=str(e), status=e.status)
    flash(_("Department and money figures saved."), "success")
    return _back(work, "figures")


def _milestone_data(form: MilestoneForm) -> services.MilestoneData:
    return services.MilestoneData(
        title=form.title.data or "",
        planned_on=form.planned_on.data,
        done_on=form.done_on.data,
        weight=form.weight.data,
        note=form.note.data or "",
    )


@bp.post("/staff/works/<code>/milestones")
@roles_required(*STAFF_ROLES)
@followed_work
def add_milestone(work: Proposal):
    form = MilestoneForm(prefix="milestone")
    if not form.validate_on_submit():
        return _page(work, milestone=form, status=422)
    try:
        services.add_milestone(work, _milestone_data(form), _actor())
    except DomainError as e:
        return _page(work, milestone=form, error=str(e), status=e.status)
    flash(_("Milestone added."), "success")
    return _back(work, "milestones")


def _milestone_page(work: Proposal, form: MilestoneForm, error: str | None, status: int):
    page = render_template(
        "works/milestone_form.html", proposal=work, form=form, error=error, milestone_id=None
    )
    return page, status


@bp.route("/staff/works/<code>/milestones/<int:milestone_id>", methods=["GET", "POST"])
@roles_required(*STAFF_ROLES)
@followed_work
def edit_milestone(work: Proposal, milestone_id: int):
    milestone = page_or_404(milestone_of, work, milestone_id)
    if is_read():
        form = MilestoneForm(prefix="milestone", obj=milestone)
    else:
        form = MilestoneForm(prefix="milestone")
    if form.validate_on_submit():
        try:
            services.update_milestone(milestone, _milestone_data(form), _actor())
        except DomainError as e:
            return _milestone_page(work, form, str(e), e.status)
        flash(_("Milestone saved."), "success")
        return _back(work, "milestones")
    return _milestone_page(work, form, None, 422 if form.is_submitted() else 200)


@bp.post("/staff/works/<code>/milestones/<int:milestone_id>/done")
@roles_required(*STAFF_ROLES)
@followed_work
def milestone_done(work: Proposal, milestone_id: int):
    milestone = page_or_404(milestone_of, work, milestone_id)
    form = MilestoneDoneForm(prefix=_done_prefix(milestone_id))
    if not form.validate_on_submit():
        return _page(work, done=form, done_id=milestone_id, status=422)
    try:
        services.mark_done(milestone, form.done_on.data, _actor())
    except DomainError as e:
        return _page(work, done=form, done_id=milestone_id, error=str(e), status=e.status)
    flash(_("Milestone marked as done."), "success")
    return _back(work, "milestones")


@bp.post("/staff/works/<code>/milestones/<int:milestone_id>/delete")
@roles_required(*STAFF_ROLES)
@followed_work
def delete_milestone(work: Proposal, milestone_id: int):
    milestone = page_or_404(milestone_of, work, milestone_id)
    try:
        services.delete_milestone(milestone, _actor())
    except DomainError as e:
        return _page(work, error=str(e), status=e.status)
    flash(_("Milestone deleted."), "success")
    return _back(work, "milestones")


@bp.post("/staff/works/<code>/photos")
@roles_required(*STAFF_ROLES)
@followed_work
def upload_photo(work: Proposal):
    """A staff photo: decoded and re-encoded without metadata before anything is stored."""
    form = PhotoForm(prefix="photo")
    if not form.validate_on_submit():
        return _page(work, photo=form, status=422)
    try:
        processed = process_upload(
            form.photo.data.stream, max_side=current_app.config["PHOTO_MAX_SIDE"]
        )
    except ValidationFailed as e:
        form.photo.errors.append(str(e))
        return _page(work, photo=form, status=e.status)
    try:
        services.upload_photo(
            work,
            processed,
            alt_text=form.alt_text.data or "",
            caption=form.caption.data or "",
            taken_on=form.taken_on.data,
            actor=_actor(),
        )
    except DomainError as e:
        return _page(work, photo=form, error=str(e), status=e.status)
    flash(_("Photo added."), "success")
    return _back(work, "photos")


@bp.post("/staff/works/<code>/photos/<key>/delete")
@roles_required(*STAFF_ROLES)
@followed_work
def delete_photo(work: Proposal, key: str):
    photo = page_or_404(staff_photo_of, work, key)
    try:
        services.delete_photo(photo, _actor())
    except DomainError as e:
        return _page(work, error=str(e), status=e.status)
    flash(_("Photo deleted."), "success")
    return _back(work, "photos")
