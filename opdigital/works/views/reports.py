"""The Comforça's reports on the web: a member's page and report form (monitors only), the
coordinators' moderation queue, and the approved reports on a work's public page.

Monitors see `/comforca` and nothing else of the staff side: every other staff route checks
its own roles, none of which is `monitor`.
"""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from opdigital.accounts.models import Role
from opdigital.auth import roles_required
from opdigital.errors import DomainError
from opdigital.web import is_read
from opdigital.works import reports
from opdigital.works.photos import ProcessedPhoto, process_upload
from opdigital.works.report_forms import RejectForm, ReportForm
from opdigital.works.views import bp

MODERATORS = (Role.ADMIN, Role.COORDINATOR)


def _actor():
    return current_user._get_current_object()


# --- the public work page ------------------------------------------------------------------


@bp.app_template_global("work_reports")
def work_reports(proposal) -> list:
    """The approved reports of a work, for templates/works/_reports.html (included by the
    public proposal page, which belongs to another blueprint)."""
    return reports.published_for(proposal)


@bp.app_template_global("report_signature")
def report_signature(report) -> str:
    return reports.signature(report)


# --- a Comforça member's pages -------------------------------------------------------------


@bp.get("/comforca", endpoint="comforca_home")
@roles_required(Role.MONITOR)
def comforca_home():
    """The works chosen in the member's region, and the member's reports with their status."""
    monitor = _actor()
    return render_template(
        "works/reports_home.html",
        region=reports.region_of(monitor),
        works=reports.region_works(monitor),
        own=reports.own_reports(monitor),
    )


def _report_page(work, form: ReportForm, status: int = 200, error: str = ""):
    html = render_template(
        "works/reports_form.html",
        work=work,
        region=reports.work_region(work),
        form=form,
        error=error,
        body_min=reports.BODY_MIN,
        body_max=reports.BODY_MAX,
        photo_max_mb=current_app.config["PHOTO_MAX_UPLOAD_MB"],
    )
    return html, status


@bp.route("/comforca/obras/<code>/relatorio", methods=["GET", "POST"], endpoint="comforca_report")
@roles_required(Role.MONITOR)
def comforca_report(code: str):
    """Write a report on a work of the member's region; it waits for a coordinator."""
    monitor = _actor()
    work = reports.work_for_monitor(monitor, code)  # 404 unknown, 403 another region's
    form = ReportForm()
    if is_read():
        return _report_page(work, form)
    if not form.validate():
        return _report_page(work, form, 422)
    photos = _processed_photos(form)
    if photos is None:
        return _report_page(work, form, 422)
    try:
        reports.submit_report(
            monitor,
            work,
            body=form.body.data,
            show_author_name=form.show_author_name.data,
            photos=photos,
        )
    except DomainError as e:
        return _report_page(work, form, e.status, str(e.message))
    flash(
        _("Thank you: your report was sent. A coordinator reviews it before it is published."),
        "success",
    )
    return redirect(url_for("works.comforca_home"), 303)


def _processed_photos(form: ReportForm) -> list[tuple[ProcessedPhoto, str]] | None:
    """Each photo sent, re-encoded without metadata, with its alt text; None when one could
    not be read (the reason is shown next to it)."""
    photos, refused = [], False
    for entry in form.photos:
        if not entry.form.has_photo:
            continue
        try:
            processed = process_upload(
                entry.image.data.stream, max_side=current_app.config["PHOTO_MAX_SIDE"]
            )
        except DomainError as e:
            entry.image.errors = [*entry.image.errors, str(e.message)]
            refused = True
            continue
        photos.append((processed, entry.alt_text.data))
    return None if refused else photos


# --- moderation ----------------------------------------------------------------------------


def _queue_page(failed: dict | None = None, status: int = 200, error: str = ""):
    pending = reports.pending_reports()
    failed = failed or {}
    reject_forms = {
        r.id: failed.get(r.id) or RejectForm(prefix=f"reject-{r.id}", formdata=None)
        for r in pending
    }
    html = render_template(
        "works/reports_queue.html",
        pending=pending,
        recent=reports.recently_moderated(),
        reject_forms=reject_forms,
        error=error,
    )
    return html, status


def _refused(error: DomainError):
    """A decision that cannot be taken: an unknown report is a 404 page; one already decided
    (by someone else in the meantime) shows the queue again with the reason."""
    if error.status == 404:
        raise error
    return _queue_page(status=error.status, error=str(error.message))


@bp.get("/staff/reports", endpoint="report_queue")
@roles_required(*MODERATORS)
def report_queue():
    """Reports waiting for moderation, with their photos, and the latest decisions."""
    return _queue_page()


@bp.post("/staff/reports/<int:report_id>/approve", endpoint="approve_report")
@roles_required(*MODERATORS)
def approve_report(report_id: int):
    """Publish the report (the CSRF token is checked before any view runs)."""
    try:
        report = reports.approve(report_id, _actor())
    except DomainError as e:
        return _refused(e)
    flash(_("The report on %(code)s is published.", code=report.proposal.code), "success")
    return redirect(url_for("works.report_queue"), 303)


@bp.post("/staff/reports/<int:report_id>/reject", endpoint="reject_report")
@roles_required(*MODERATORS)
def reject_report(report_id: int):
    """Refuse the report with a note for its author (required)."""
    form = RejectForm(prefix=f"reject-{report_id}")
    if not form.validate():
        return _queue_page({report_id: form}, 422)
    try:
        report = reports.reject(report_id, _actor(), form.note.data)
    except DomainError as e:
        if e.status == 422:
            form.note.errors = [*form.note.errors, str(e.message)]
            return _queue_page({report_id: form}, 422)
        return _refused(e)
    flash(_("The report on %(code)s was rejected.", code=report.proposal.code), "success")
    return redirect(url_for("works.report_queue"), 303)
