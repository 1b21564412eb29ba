"""Proposals (`demandas`, `empreendimentos`): from submission to the ballot to execution."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from opdigital.clock import now
from opdigital.cycles.models import Cycle
from opdigital.db_types import UTCDateTime
from opdigital.extensions import db
from opdigital.regions.models import Region, School


class ProposalStatus(StrEnum):
    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    ON_BALLOT = "on_ballot"
    SELECTED = "selected"
    NOT_SELECTED = "not_selected"


# The proposals that were on the ballot: selected or not, a proposal stays a ballot project after
# the tally (what the count, the tally and the Pabulib export read).
BALLOT_STATUSES = (
    ProposalStatus.ON_BALLOT.value,
    ProposalStatus.SELECTED.value,
    ProposalStatus.NOT_SELECTED.value,
)


class ProposalOrigin(StrEnum):
    CITIZEN = "citizen"  # submitted through the public form
    ASSEMBLY = "assembly"  # chosen at an assembly or school, entered by staff
    STAFF = "staff"  # entered by staff for another reason (paper form, phone...)


class ExecutionStatus(StrEnum):
    NOT_STARTED = "not_started"
    TENDERING = "tendering"
    IN_WORKS = "in_works"
    DONE = "done"
    CANCELLED = "cancelled"


class HistoryTrack(StrEnum):
    REVIEW = "review"  # submission, review and ballot
    EXECUTION = "execution"  # after the result: the works themselves


class Proposal(db.Model):
    __tablename__ = "proposal"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(sa.ForeignKey("cycle.id", ondelete="CASCADE"), index=True)
    # Public code, e.g. "OPD2025-0007": printed on leaflets and quoted at assemblies.
    code: Mapped[str] = mapped_column(sa.String(30), unique=True)
    title: Mapped[str] = mapped_column(sa.String(160))
    description: Mapped[str] = mapped_column(sa.Text)
    region_id: Mapped[int | None] = mapped_column(sa.ForeignKey("region.id"), index=True)
    school_id: Mapped[int | None] = mapped_column(sa.ForeignKey("school.id"), index=True)
    place: Mapped[str] = mapped_column(sa.String(200), default="")
    estimated_cost_cents: Mapped[int] = mapped_column(sa.BigInteger)
    # Set by the technical review; the ballot and counting use it when present.
    reviewed_cost_cents: Mapped[int | None] = mapped_column(sa.BigInteger)
    technical_opinion: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[str] = mapped_column(sa.String(20), default=ProposalStatus.SUBMITTED.value)
    rejection_reason: Mapped[str] = mapped_column(sa.Text, default="")
    origin: Mapped[str] = mapped_column(sa.String(20), default=ProposalOrigin.CITIZEN.value)
    # Who proposed it: the name is public, the contact is for staff only.
    author_name: Mapped[str] = mapped_column(sa.String(120), default="")
    contact: Mapped[str] = mapped_column(sa.String(160), default="")
    # The proposer's consent to e-mails about this proposal (LGPD art. 7, I): asked for apart
    # from the submission, never pre-ticked, withdrawn by the link in every message or by a
    # data-subject request. Only with an e-mail contact.
    notify_by_email: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    notify_consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notify_withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The language the proposer used the site in: their e-mails are written in it.
    notify_language: Mapped[str] = mapped_column(sa.String(8), default="pt_BR")
    execution_status: Mapped[str | None] = mapped_column(sa.String(20))
    execution_note: Mapped[str] = mapped_column(sa.Text, default="")
    # Where it is (WGS 84), inside its region's boundary when the region has one (opdigital/geo);
    # `place` is the address or landmark in words.
    latitude: Mapped[float | None] = mapped_column(sa.Float)
    longitude: Mapped[float | None] = mapped_column(sa.Float)
    # A selected work's execution (opdigital/works): the department in charge, and the money
    # committed (empenhado) and spent (pago) so far, against the voted cost.
    department: Mapped[str] = mapped_column(sa.String(160), default="")
    committed_cents: Mapped[int | None] = mapped_column(sa.BigInteger)
    spent_cents: Mapped[int | None] = mapped_column(sa.BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, onupdate=now)

    cycle: Mapped[Cycle] = relationship()
    region: Mapped[Region | None] = relationship()
    school: Mapped[School | None] = relationship()
    history: Mapped[list[ProposalHistory]] = relationship(
        back_populates="proposal",
        order_by="ProposalHistory.id",
        cascade="all, delete-orphan",
    )

    __table_args__ = (
        sa.CheckConstraint("estimated_cost_cents > 0", name="estimated_cost_positive"),
        sa.CheckConstraint(
            "reviewed_cost_cents IS NULL OR reviewed_cost_cents > 0", name="reviewed_cost_positive"
        ),
        sa.CheckConstraint(
            "(latitude IS NULL) = (longitude IS NULL) AND (latitude IS NULL OR "
            "(latitude BETWEEN -90 AND 90 AND longitude BETWEEN -180 AND 180))",
            name="location_valid",
        ),
        sa.CheckConstraint(
            "(committed_cents IS NULL OR committed_cents >= 0) AND "
            "(spent_cents IS NULL OR spent_cents >= 0)",
            name="money_not_negative",
        ),
    )

    @property
    def has_location(self) -> bool:
        return self.latitude is not None and self.longitude is not None

    @property
    def cost_cents(self) -> int:
        """The cost that counts: the reviewed one when the review set it."""
        return self.reviewed_cost_cents or self.estimated_cost_cents

    def __repr__(self) -> str:
        return f"<Proposal {self.code} {self.status}>"


class ProposalHistory(db.Model):
    """One public step in a proposal's life; the full who/what is in the audit log."""

    __tablename__ = "proposal_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        sa.ForeignKey("proposal.id", ondelete="CASCADE"), index=True
    )
    track: Mapped[str] = mapped_column(sa.String(12), default=HistoryTrack.REVIEW.value)
    from_status: Mapped[str | None] = mapped_column(sa.String(20))
    to_status: Mapped[str] = mapped_column(sa.String(20))
    note: Mapped[str] = mapped_column(sa.Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    proposal: Mapped[Proposal] = relationship(back_populates="history")
