"""The outbox: every e-mail the app sends, queued in the database first.

A request (or a command) only adds a row, in the same transaction as the change it reports, so
a message is sent exactly when that change is committed and no request waits on SMTP.
`opdigital mail send` delivers due rows and retries failures with growing delays.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from opdigital.clock import now
from opdigital.db_types import UTCDateTime
from opdigital.extensions import db


class OutboxStatus(StrEnum):
    QUEUED = "queued"  # waiting for its first delivery or for a retry
    SENT = "sent"  # accepted by the SMTP server
    FAILED = "failed"  # given up after MAIL_MAX_ATTEMPTS, or refused for good by the server


class OutboxMessage(db.Model):
    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    # What the message is, e.g. "proposal.accepted" or "subject_request.code".
    kind: Mapped[str] = mapped_column(sa.String(40))
    # The recipient and the text: personal data, blanked (and `erased_at` set) once the message
    # is sent and its retention has passed, or at once for `erase_after_send` messages.
    to_address: Mapped[str] = mapped_column(sa.String(254))
    subject: Mapped[str] = mapped_column(sa.String(200))
    body_text: Mapped[str] = mapped_column(sa.Text)
    language: Mapped[str] = mapped_column(sa.String(8), default="pt_BR")
    status: Mapped[str] = mapped_column(sa.String(10), default=OutboxStatus.QUEUED.value)
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    # The SMTP server's last refusal or the connection error, for the outbox screen.
    last_error: Mapped[str] = mapped_column(sa.String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A data-subject request's messages: the person asked for their data to go, so nothing of
    # the address or the text stays once the message has left.
    erase_after_send: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    # A proposer's one-click unsubscribe address (RFC 8058): the sender puts it in the
    # List-Unsubscribe header, so mail clients offer it beside the message.
    unsubscribe_url: Mapped[str] = mapped_column(sa.String(500), default="")
    # What the message is about, for the outbox screen and for finding a person's messages.
    proposal_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("proposal.id", ondelete="SET NULL"), index=True
    )

    __table_args__ = (
        sa.CheckConstraint("status IN ('queued', 'sent', 'failed')", name="status_known"),
        sa.CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        # The sender's query: due queued messages, oldest first.
        sa.Index("ix_outbox_message_due", "status", "next_attempt_at"),
    )

    def __repr__(self) -> str:
        return f"<OutboxMessage {self.id} {self.kind} {self.status}>"
