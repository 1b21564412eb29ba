"""Changing the outbox as staff or as the retention rule: each function is one unit of work,
committed with its audit entry (which never holds an address or a text)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from opdigital.audit import services as audit
from opdigital.clock import now
from opdigital.errors import Conflict, NotFound
from opdigital.extensions import db
from opdigital.mail import outbox
from opdigital.mail.models import OutboxMessage, OutboxStatus
from opdigital.mail.queries import ended_at, held

RETRY_ACTION = "mail.retry"
ERASE_ACTION = "mail.outbox_erased"
TEST_KIND = "mail.test"


def retry_now(message_id: int, actor: Any) -> OutboxMessage:
    """Queue a failed (or waiting) message for the sender's next run: one more attempt.

    Its attempts are kept: a message already at MAIL_MAX_ATTEMPTS gets one try, not a new
    series. A sent or erased message cannot be sent again (Conflict).
    """
    # Waits for a sender that holds the row, so that its outcome is not overwritten.
    message = db.session.get(OutboxMessage, message_id, with_for_update=True)
    if message is None:
        raise NotFound(_l("There is no such message in the outbox."))
    if message.erased_at is not None or not message.to_address:
        db.session.rollback()
        raise Conflict(_l("This message was erased: there is nothing left to send."), code="erased")
    if message.status == OutboxStatus.SENT.value:
        db.session.rollback()
        raise Conflict(_l("This message was sent already."), code="already_sent")
    before = {"status": message.status, "attempts": message.attempts}
    message.status = OutboxStatus.QUEUED.value
    message.next_attempt_at = now()
    audit.record(actor, RETRY_ACTION, message, before=before, after={"status": message.status})
    db.session.commit()
    return message


def erase_expired(actor: Any = None, at: datetime | None = None) -> int:
    """Blank the address and the text of messages sent or failed more than
    OUTBOX_RETENTION_DAYS ago; how many (none: nothing written, so it is idempotent)."""
    at = at or now()
    cutoff = at - timedelta(days=int(current_app.config["OUTBOX_RETENTION_DAYS"]))
    try:
        result = db.session.execute(
            sa.update(OutboxMessage)
            .where(held(), ended_at() < cutoff)
            .values(to_address="", body_text="", erased_at=at)
            .execution_options(synchronize_session=False)
        )
        erased = int(result.rowcount or 0)
        if erased:
            audit.record(actor, ERASE_ACTION, None, after={"messages": erased})
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return erased


def queue_test_message(address: str, language: str) -> OutboxMessage:
    """Queue the operator's test message to `address` (`opdigital mail test`)."""
    message = outbox.enqueue(
        kind=TEST_KIND,
        to=address,
        template="test_message",
        language=language,
        server=current_app.config["MAIL_SERVER"],
    )
    db.session.commit()
    return message
