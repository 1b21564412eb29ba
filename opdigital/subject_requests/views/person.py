"""The public side: the request form, and the person's page (its address carries the token)
where the code is entered and the request followed. Works without JavaScript."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from opdigital.errors import DomainError, RateLimited
from opdigital.extensions import limiter
from opdigital.subject_requests import contacts, services
from opdigital.subject_requests.forms import ButtonForm, CodeForm, RequestForm, kind_choices
from opdigital.subject_requests.models import SubjectRequest
from opdigital.subject_requests.views import bp
from opdigital.web import is_read, page_or_404

# The code check and "send a new code" share one limit per client address.
_code_limit = limiter.shared_limit(
    lambda: current_app.config["SUBJECT_REQUEST_CODE_LIMIT_PER_IP"],
    scope="subject-request-code",
)


def _form_page(form: RequestForm, status: int = 200, error: str = ""):
    html = render_template(
        "subject_requests/new.html",
        form=form,
        kinds=kind_choices(),
        error=error,
        deadline_days=current_app.config["SUBJECT_REQUEST_DEADLINE_DAYS"],
    )
    return html, status


@bp.route("/privacidade/pedidos", methods=["GET", "POST"], endpoint="new_request")
@limiter.limit(lambda: current_app.config["SUBJECT_REQUEST_LIMIT_PER_IP"], methods=["POST"])
def new_request():
    """The form; a request filed goes to its page (303), the same whatever the contact."""
    form = RequestForm()
    if is_read():
        return _form_page(form)
    if not form.validate():
        return _form_page(form, 422)
    data = services.NewRequest(
        kind=form.kind.data,
        contact=form.contact.data or "",
        details=form.details.data or "",
        language=str(get_locale()),
    )
    try:
        filed = services.file_request(data)
    except RateLimited as e:
        html, status = _form_page(form, e.status, str(e.message))
        return html, status, {"Retry-After": str(e.retry_after)}
    except DomainError as e:
        return _form_page(form, e.status, str(e.message))
    return redirect(url_for("subject_requests.status", token=filed.token), 303)


def _status_page(
    subject: SubjectRequest,
    token: str,
    code_form: CodeForm | None = None,
    status: int = 200,
    error: str = "",
):
    html = render_template(
        "subject_requests/status.html",
        subject_request=subject,
        token=token,
        code_form=code_form or CodeForm(formdata=None),
        resend_form=ButtonForm(formdata=None),
        masked_contact=contacts.masked(subject.contact) if subject.contact else "",
        codes_left=max(0, services.MAX_CODES - subject.codes_sent),
        code_minutes=int(services.EMAIL_CODE_VALID.total_seconds() // 60),
        error=error,
    )
    return html, status


@bp.get("/privacidade/pedidos/<token>", endpoint="status")
def status(token: str):
    """Where the request stands; the code form while it waits for its code."""
    return _status_page(page_or_404(services.by_token, token), token)


@bp.post("/privacidade/pedidos/<token>/codigo", endpoint="verify")
@_code_limit
def verify(token: str):
    subject = page_or_404(services.by_token, token)
    form = CodeForm()
    if not form.validate():
        return _status_page(subject, token, form, 422)
    try:
        services.verify(subject, form.code.data)
    except DomainError as e:
        return _status_page(subject, token, form, e.status, str(e.message))
    flash(_("Thank you: your request is confirmed."), "success")
    return redirect(url_for("subject_requests.status", token=token), 303)


@bp.post("/privacidade/pedidos/<token>/novo-codigo", endpoint="new_code")
@_code_limit
def new_code(token: str):
    subject = page_or_404(services.by_token, token)
    try:
        services.send_new_code(subject, token)
    except DomainError as e:
        return _status_page(subject, token, status=e.status, error=str(e.message))
    flash(_("A new code was sent. The previous one no longer works."), "success")
    return redirect(url_for("subject_requests.status", token=token), 303)
