"""Data-subject requests (LGPD art. 18): a person asks what the city holds about them, or for it
to be corrected, anonymised or deleted.

A request names a contact (the e-mail or phone the person gave on a proposal). It is verified
by a code sent to that contact, then handled by the encarregado within the legal deadline and
answered. Once answered, the request keeps no personal data: its contact and details are
blanked at once, and `outcome` only says what was done (proposal codes and counts).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from opdigital.accounts.models import User
from opdigital.clock import now
from opdigital.db_types import UTCDateTime
from opdigital.extensions import db


class RequestKind(StrEnum):
    ACCESS = "access"  # what data is held (LGPD art. 18, I and II)
    CORRECTION = "correction"  # art. 18, III
    ANONYMISATION = "anonymisation"  # art. 18, IV
    DELETION = "deletion"  # art. 18, VI


class RequestStatus(StrEnum):
    AWAITING_VERIFICATION = "awaiting_verification"  # the code has not been entered yet
    OPEN = "open"  # verified: the encarregado's deadline runs
    ANSWERED = "answered"


class ContactKind(StrEnum):
    EMAIL = "email"
    PHONE = "phone"


class SubjectRequest(db.Model):
    __tablename__ = "subject_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    # What the person and the encarregado quote, e.g. "LGPD-7KQ2-M9XD": random, not a count of
    # requests, so it says nothing about how many there are.
    reference: Mapped[str] = mapped_column(sa.String(20), unique=True)
    # SHA-256 of the token in the person's page address: whoever holds the address sees the
    # request's state and may enter its code; the database alone cannot rebuild the address.
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    # The e-mail or phone as the person typed it, and which of the two it is. Blanked when the
    # request is answered.
    contact: Mapped[str] = mapped_column(sa.String(160), default="")
    contact_kind: Mapped[str] = mapped_column(sa.String(10))
    # What the person asks, in their words (required for a correction). Blanked when answered.
    details: Mapped[str] = mapped_column(sa.Text, default="")
    # The language the person used: the code and the answer are written in it.
    language: Mapped[str] = mapped_column(sa.String(8), default="pt_BR")
    status: Mapped[str] = mapped_column(
        sa.String(24), default=RequestStatus.AWAITING_VERIFICATION.value
    )
    # The current verification code: an HMAC of it (with the app's secret key), when it stops
    # being valid, and the wrong tries made against it.
    code_hash: Mapped[str] = mapped_column(sa.String(64), default="")
    code_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    code_attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    # How many codes were issued (mailed or read out by phone): new codes are limited, so a
    # request cannot be used to flood someone's mailbox.
    codes_sent: Mapped[int] = mapped_column(sa.Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # verified_at + SUBJECT_REQUEST_DEADLINE_DAYS: when the answer is due.
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    handled_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    # What was done, step by step: [{"action": "anonymised", "proposals": [codes], ...}].
    # Proposal codes and counts only, never a name, a contact or the answer's text.
    outcome: Mapped[list] = mapped_column(sa.JSON, default=list)

    handled_by: Mapped[User | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint(
            "kind IN ('access', 'correction', 'anonymisation', 'deletion')", name="kind_known"
        ),
        sa.CheckConstraint(
            "status IN ('awaiting_verification', 'open', 'answered')", name="status_known"
        ),
        sa.CheckConstraint("contact_kind IN ('email', 'phone')", name="contact_kind_known"),
        sa.CheckConstraint("code_attempts >= 0 AND codes_sent >= 0", name="counts_not_negative"),
        sa.Index("ix_subject_request_status_created", "status", "created_at"),
    )

    @property
    def code(self) -> str:
        """The audit log names an object by its `code`: for a request, its public reference
        (never the verification code, which is not kept)."""
        return self.reference

    @property
    def is_phone(self) -> bool:
        return self.contact_kind == ContactKind.PHONE

    @property
    def is_open(self) -> bool:
        return self.status == RequestStatus.OPEN

    @property
    def is_answered(self) -> bool:
        return self.status == RequestStatus.ANSWERED

    @property
    def awaits_verification(self) -> bool:
        return self.status == RequestStatus.AWAITING_VERIFICATION

    def __repr__(self) -> str:
        return f"<SubjectRequest {self.reference} {self.kind} {self.status}>"
