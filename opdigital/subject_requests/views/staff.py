"""The encarregado's queue: requests by due date, one request with the data held for its contact,
and the actions on it (POST with CSRF; each audited by the service)."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from opdigital.accounts.models import Role
from opdigital.auth import roles_required
from opdigital.errors import DomainError
from opdigital.subject_requests import answers, handling, queries, services
from opdigital.subject_requests.forms import AnswerForm, ButtonForm, CorrectionForm, choice
from opdigital.subject_requests.models import SubjectRequest
from opdigital.subject_requests.views import bp
from opdigital.web import page_or_404

PRIVACY_ROLES = (Role.PRIVACY_OFFICER, Role.ADMIN)
PREFIX = "/staff/privacy/requests"


def _actor():
    return current_user._get_current_object()


@bp.get(PREFIX, endpoint="queue")
@roles_required(*PRIVACY_ROLES)
def queue():
    """Open requests by due date (overdue first), phone requests waiting for their call, and
    the latest answered."""
    return render_template("subject_requests/queue.html", queue=queries.queue())


def _correction_form(subject: SubjectRequest, held, formdata: bool = False) -> CorrectionForm:
    form = CorrectionForm(prefix="fix", **({} if formdata else {"formdata": None}))
    form.proposal.choices = [choice(p.code, f"{p.code}: {p.title}") for p in held.proposals]
    return form


def _request_page(
    subject: SubjectRequest,
    *,
    answer_form: AnswerForm | None = None,
    correction_form: CorrectionForm | None = None,
    status: int = 200,
    error: str = "",
):
    held = queries.held_for(subject.contact) if subject.is_open else None
    if answer_form is None and held is not None:
        answer_form = AnswerForm(prefix="answer", formdata=None)
        answer_form.answer.data = answers.draft(subject, held)
    if correction_form is None and held is not None:
        correction_form = _correction_form(subject, held)
    html = render_template(
        "subject_requests/request.html",
        subject=subject,
        held=held,
        days_left=queries.days_left(subject),
        overdue=queries.is_overdue(subject),
        button=ButtonForm(formdata=None),
        answer_form=answer_form,
        correction_form=correction_form,
        erasing_kinds=handling.ERASING_KINDS,
        error=error,
    )
    return html, status


def _load(reference: str) -> SubjectRequest:
    return page_or_404(services.by_reference, reference)


@bp.get(f"{PREFIX}/<reference>", endpoint="request_page")
@roles_required(*PRIVACY_ROLES)
def request_page(reference: str):
    """The request, the data held for its contact (once verified) and the actions."""
    return _request_page(_load(reference))


def _done(subject: SubjectRequest, message: str):
    flash(message, "success")
    return redirect(url_for("subject_requests.request_page", reference=subject.reference), 303)


@bp.post(f"{PREFIX}/<reference>/phone-code", endpoint="phone_code")
@roles_required(*PRIVACY_ROLES)
def phone_code(reference: str):
    """A new code to read out to the person; shown on this answer only (never stored)."""
    subject = _load(reference)
    try:
        code = services.issue_phone_code(subject, _actor())
    except DomainError as e:
        return _request_page(subject, status=e.status, error=str(e.message))
    return render_template(
        "subject_requests/phone_code.html",
        subject=subject,
        code=f"{code[:3]} {code[3:]}",
        valid_hours=int(services.PHONE_CODE_VALID.total_seconds() // 3600),
        tries=services.MAX_CODE_ATTEMPTS,
    )


@bp.post(f"{PREFIX}/<reference>/anonymise", endpoint="anonymise")
@roles_required(*PRIVACY_ROLES)
def anonymise(reference: str):
    subject = _load(reference)
    try:
        erased = handling.anonymise(subject, _actor())
    except DomainError as e:
        return _request_page(subject, status=e.status, error=str(e.message))
    return _done(
        subject,
        _(
            "Erased: the name and contact of %(n)d proposals, %(m)d e-mails.",
            n=len(erased.proposals),
            m=erased.messages_erased + erased.messages_deleted,
        ),
    )


@bp.post(f"{PREFIX}/<reference>/consent", endpoint="withdraw_consent")
@roles_required(*PRIVACY_ROLES)
def withdraw_consent(reference: str):
    subject = _load(reference)
    try:
        changed = handling.withdraw_consent(subject, _actor())
    except DomainError as e:
        return _request_page(subject, status=e.status, error=str(e.message))
    return _done(subject, _("Consent to e-mails withdrawn on %(n)d proposals.", n=len(changed)))


@bp.post(f"{PREFIX}/<reference>/correct", endpoint="correct")
@roles_required(*PRIVACY_ROLES)
def correct(reference: str):
    subject = _load(reference)
    held = queries.held_for(subject.contact) if subject.is_open else queries.HeldData([], 0)
    form = _correction_form(subject, held, formdata=True)
    if not form.validate():
        return _request_page(subject, correction_form=form, status=422)
    name = "" if form.remove_name.data else (form.author_name.data or "").strip() or None
    change = handling.Correction(
        proposal_code=form.proposal.data,
        author_name=name,
        contact=(form.contact.data or "").strip() or None,
    )
    try:
        fields = handling.correct(subject, change, _actor())
    except DomainError as e:
        return _request_page(subject, correction_form=form, status=e.status, error=str(e.message))
    if not fields:
        return _done(subject, _("Nothing changed: the proposal already held these values."))
    return _done(subject, _("Proposal %(code)s corrected.", code=change.proposal_code))


@bp.post(f"{PREFIX}/<reference>/answer", endpoint="answer")
@roles_required(*PRIVACY_ROLES)
def answer(reference: str):
    subject = _load(reference)
    form = AnswerForm(prefix="answer")
    if not form.validate():
        return _request_page(subject, answer_form=form, status=422)
    by_phone = subject.is_phone
    try:
        handling.answer(subject, form.answer.data, _actor())
    except DomainError as e:
        return _request_page(subject, answer_form=form, status=e.status, error=str(e.message))
    if by_phone:
        message = _("The answer given by phone is recorded; the request is closed.")
    else:
        message = _("The answer is on its way by e-mail; the request is closed.")
    flash(message, "success")
    return redirect(url_for("subject_requests.queue"), 303)
