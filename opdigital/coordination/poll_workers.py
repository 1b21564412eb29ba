"""Coordinator screens for poll workers: a voting point's poll workers, created one at a time or
from a CSV file (on the point's page, or for several points at once), and deactivated.

New passwords are shown on the page answering the POST that made them, and nowhere else: they
are not stored (only their hashes), not put in the session, not logged, and not cached by the
browser (`Cache-Control: no-store`). The page is made to be printed and handed out.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _

from opdigital.coordination import bp
from opdigital.coordination.common import actor
from opdigital.cycles.services import list_cycles
from opdigital.errors import DomainError
from opdigital.extensions import db
from opdigital.polling import accounts
from opdigital.polling.forms import NewPollWorkerForm, PointActionForm, PollWorkerUploadForm
from opdigital.voting.models import VotingPoint
from opdigital.web import is_read

NO_STORE = {"Cache-Control": "no-store"}


def _cycle_choices() -> list[tuple[str, str]]:
    cycles = accounts.cycles_for_poll_workers()
    return [("", _("Choose the cycle"))] + [(str(c.id), c.title) for c in cycles]


def _forms(*, single_data=True, upload_data=True):
    choices = _cycle_choices()
    single = NewPollWorkerForm(**({} if single_data else {"formdata": None}))
    upload = PollWorkerUploadForm(prefix="csv", **({} if upload_data else {"formdata": None}))
    single.cycle.choices = upload.cycle.choices = choices
    return single, upload


def _load(point_id: int) -> VotingPoint:
    return db.get_or_404(VotingPoint, point_id)


def _point_page(point: VotingPoint, single, upload, *, error=None, rows=(), status=200):
    page = render_template(
        "coordination/poll_workers.html",
        point=point,
        workers=accounts.poll_workers_of(point.id),
        cycle_titles=_cycle_titles(),
        single=single,
        upload=upload,
        action_form=PointActionForm(),
        error=error,
        rows=rows,
        max_rows=accounts.MAX_CSV_ROWS,
        max_kb=accounts.MAX_CSV_BYTES // 1024,
    )
    return page, status


def _cycle_titles() -> dict[int, str]:
    return {cycle.id: cycle.title for cycle in list_cycles()}


def _created_page(created: list[accounts.Created], point: VotingPoint | None):
    page = render_template("coordination/poll_workers_created.html", created=created, point=point)
    return page, 200, NO_STORE


@bp.get("/voting-points/<int:point_id>/poll-workers")
def poll_workers(point_id: int):
    """A voting point's poll workers, and the forms that create them."""
    point = _load(point_id)
    single, upload = _forms(single_data=False, upload_data=False)
    return _point_page(point, single, upload)


@bp.post("/voting-points/<int:point_id>/poll-workers")
def new_poll_worker(point_id: int):
    """Create one poll worker for this point; their password is shown on the answer, once."""
    point = _load(point_id)
    single, upload = _forms(upload_data=False)
    if not single.validate():
        return _point_page(point, single, upload, status=422)
    person = accounts.NewPollWorker(
        name=single.name.data, email=single.email.data, voting_point_id=point.id
    )
    try:
        created = accounts.create_poll_workers([person], int(single.cycle.data), actor())
    except DomainError as e:
        return _point_page(point, single, upload, error=str(e), status=e.status)
    return _created_page(created, point)


@bp.post("/voting-points/<int:point_id>/poll-workers/import")
def import_point_poll_workers(point_id: int):
    """Create this point's poll workers from a CSV file: all of them, or none."""
    point = _load(point_id)
    single, upload = _forms(single_data=False)
    if not upload.validate():
        return _point_page(point, single, upload, status=422)
    try:
        people = accounts.parse_poll_worker_csv(_read(upload), point)
        created = accounts.create_poll_workers(people, int(upload.cycle.data), actor())
    except DomainError as e:
        rows = accounts.refusal_errors(e)
        return _point_page(point, single, upload, error=str(e), rows=rows, status=e.status)
    return _created_page(created, point)


@bp.post("/voting-points/<int:point_id>/poll-workers/<int:user_id>/active")
def poll_worker_active(point_id: int, user_id: int):
    """Deactivate a poll worker (signed out everywhere at once), or reactivate them."""
    point = _load(point_id)
    form = PointActionForm()
    if not form.validate_on_submit():
        flash(_("The form expired. Please send it again."), "error")
        return redirect(url_for("coordination.poll_workers", point_id=point.id), code=303)
    try:
        worker = accounts.get_poll_worker(user_id, point.id)
    except DomainError:
        return redirect(url_for("coordination.poll_workers", point_id=point.id), code=303)
    active = not worker.active
    accounts.set_poll_worker_active(worker, active, actor())
    message = (
        _("%(email)s can sign in again.", email=worker.email)
        if active
        else _("%(email)s was deactivated and signed out.", email=worker.email)
    )
    flash(message, "success")
    return redirect(url_for("coordination.poll_workers", point_id=point.id), code=303)


@bp.route("/poll-workers/import", methods=["GET", "POST"])
def import_poll_workers():
    """Create poll workers of several points from one CSV file (a `voting_point` column)."""
    upload = PollWorkerUploadForm(prefix="csv")
    upload.cycle.choices = _cycle_choices()
    if is_read():
        return _import_page(upload)
    if not upload.validate():
        return _import_page(upload, status=422)
    try:
        people = accounts.parse_poll_worker_csv(_read(upload), None)
        created = accounts.create_poll_workers(people, int(upload.cycle.data), actor())
    except DomainError as e:
        rows = accounts.refusal_errors(e)
        return _import_page(upload, error=str(e), rows=rows, status=e.status)
    return _created_page(created, None)


def _read(upload: PollWorkerUploadForm) -> bytes:
    # One byte over the cap is enough to refuse the file as too large.
    return upload.file.data.read(accounts.MAX_CSV_BYTES + 1)


def _import_page(upload, *, error=None, rows=(), status=200):
    page = render_template(
        "coordination/poll_workers_import.html",
        upload=upload,
        error=error,
        rows=rows,
        max_rows=accounts.MAX_CSV_ROWS,
        max_kb=accounts.MAX_CSV_BYTES // 1024,
    )
    return page, status
