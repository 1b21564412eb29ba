"""Execution evidence and monitoring: milestones, photos and the Comforça's reports on a work.

A work is a selected proposal (`Proposal` with status `selected`); its execution status, the
department in charge and the money figures are columns of `proposal` (migration 0013).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from opdigital.accounts.models import User
from opdigital.clock import now
from opdigital.db_types import UTCDateTime
from opdigital.extensions import db
from opdigital.proposals.models import Proposal


class WorkMilestone(db.Model):
    """One step of a work's execution, planned for a date and done (or not yet) on another.

    The work's percent done is the weighted share of its milestones done (works/progress.py);
    a milestone past its planned date and not done makes the work late.
    """

    __tablename__ = "work_milestone"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        sa.ForeignKey("proposal.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(sa.Integer, default=0)
    title: Mapped[str] = mapped_column(sa.String(160))
    planned_on: Mapped[date] = mapped_column(sa.Date)
    done_on: Mapped[date | None] = mapped_column(sa.Date)
    # How much of the work this step is, relative to the others (1-100).
    weight: Mapped[int] = mapped_column(sa.Integer, default=1)
    note: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, onupdate=now)

    proposal: Mapped[Proposal] = relationship()

    __table_args__ = (sa.CheckConstraint("weight BETWEEN 1 AND 100", name="weight_in_range"),)


class ReportStatus(StrEnum):
    PENDING = "pending"  # waiting for a coordinator
    APPROVED = "approved"  # published on the work's page
    REJECTED = "rejected"  # not published; the reason goes back to its author


class MonitoringReport(db.Model):
    """A Comforça member's report on a work of their region, published once a coordinator
    approves it. The page shows the author's role, and their name only if they chose so."""

    __tablename__ = "monitoring_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        sa.ForeignKey("proposal.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    body: Mapped[str] = mapped_column(sa.Text)
    show_author_name: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    status: Mapped[str] = mapped_column(sa.String(10), default=ReportStatus.PENDING.value)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    moderated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    moderated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Why a report was not published (seen by its author and staff, never by the public).
    moderation_note: Mapped[str] = mapped_column(sa.Text, default="")

    proposal: Mapped[Proposal] = relationship()
    author: Mapped[User] = relationship(foreign_keys=[author_id])
    moderated_by: Mapped[User | None] = relationship(foreign_keys=[moderated_by_id])
    photos: Mapped[list[WorkPhoto]] = relationship(
        back_populates="report", order_by="WorkPhoto.id", cascade="all, delete-orphan"
    )

    __table_args__ = (
        sa.CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="status_known"),
    )


class WorkPhoto(db.Model):
    """A photo of a work: uploaded by staff (public at once) or with a Comforça report (public
    with its report). Stored in the database, so every app host serves it without a shared
    disk: re-encoded as JPEG without any metadata (no EXIF, no GPS), at most
    PHOTO_MAX_SIDE pixels on its longer side, with a thumbnail."""

    __tablename__ = "work_photo"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        sa.ForeignKey("proposal.id", ondelete="CASCADE"), index=True
    )
    report_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("monitoring_report.id", ondelete="CASCADE"), index=True
    )
    # Random, in the photo's address: ids would let anyone walk through unpublished photos.
    key: Mapped[str] = mapped_column(sa.String(32), unique=True)
    alt_text: Mapped[str] = mapped_column(sa.String(300))
    caption: Mapped[str] = mapped_column(sa.String(300), default="")
    # The day the photo shows, as told by the uploader (never read from the file's metadata).
    taken_on: Mapped[date | None] = mapped_column(sa.Date)
    width: Mapped[int] = mapped_column(sa.Integer)
    height: Mapped[int] = mapped_column(sa.Integer)
    image: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)
    thumbnail: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    proposal: Mapped[Proposal] = relationship()
    report: Mapped[MonitoringReport | None] = relationship(back_populates="photos")

    __table_args__ = (sa.CheckConstraint("width > 0 AND height > 0", name="size_positive"),)
