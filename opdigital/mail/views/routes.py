"""Routes of the outbox blueprint (registered on `bp` from the package)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from opdigital.accounts.models import Role
from opdigital.auth import roles_required
from opdigital.errors import DomainError
from opdigital.mail import queries
from opdigital.mail import services as mail
from opdigital.mail.models import OutboxStatus
from opdigital.mail.views import bp

PER_PAGE = 50
STATUSES = tuple(status.value for status in OutboxStatus)


@bp.app_template_filter("masked_address")
def masked_address(address: str) -> str:
    return queries.mask_address(address)


def _page_number() -> int:
    page = request.args.get("page", 1, type=int)  # not a number -> page 1
    return page if page and page > 0 else 1


@bp.get("/")
@roles_required(Role.ADMIN)
def index():
    """Counts per status and the messages, newest first (optionally of one status)."""
    status = request.args.get("status", "")
    if status and status not in STATUSES:
        abort(400, _("Unknown status."))
    pagination = queries.page_of_messages(_page_number(), PER_PAGE, status or None)
    if pagination.page > 1 and pagination.page > pagination.pages:
        abort(404)
    return render_template(
        "mail_outbox/index.html",
        counts=queries.status_counts(),
        pagination=pagination,
        status=status,
        statuses=STATUSES,
    )


@bp.post("/<int:message_id>/retry")
@roles_required(Role.ADMIN)
def retry(message_id: int):
    """Queue a waiting or failed message for the sender's next run."""
    try:
        message = mail.retry_now(message_id, current_user._get_current_object())
    except DomainError as e:
        if e.status == 404:
            abort(404)
        flash(str(e.message), "error")
        return redirect(url_for("outbox.index"), 303)
    flash(_("Message %(id)d will be sent at the next run of the sender.", id=message.id), "success")
    return redirect(url_for("outbox.index"), 303)
