"""Paper ballots: the sheets printed for a point, the batches entered twice, the agreed sheets.

Nothing here names a voter. A voter who votes on paper has a participation row flagged
`on_paper` at the point (voting.models); the sheet they filled is one of the point's printed
serials, and nothing records which.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from opdigital.clock import now
from opdigital.db_types import UTCDateTime
from opdigital.extensions import db


class PaperSheetRun(db.Model):
    """A print run of blank ballot sheets for one point: serials first..first+count-1.

    Serials are numbered per cycle, so no two sheets of a cycle share one anywhere in the city.
    `region_id`: the region whose works the sheets list, when the rule is per region.
    """

    __tablename__ = "paper_sheet_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(sa.ForeignKey("cycle.id"), index=True)
    voting_point_id: Mapped[int] = mapped_column(sa.ForeignKey("voting_point.id"))
    region_id: Mapped[int | None] = mapped_column(sa.ForeignKey("region.id"))
    # OPCA with an own-school rule: the school whose works the sheets list.
    school_id: Mapped[int | None] = mapped_column(sa.ForeignKey("school.id"))
    first_serial: Mapped[int] = mapped_column(sa.Integer)
    count: Mapped[int] = mapped_column(sa.Integer)
    printed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    printed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))

    __table_args__ = (
        sa.CheckConstraint("first_serial >= 1 AND count >= 1", name="serials_positive"),
    )


class BatchStatus:
    ENTERING = "entering"  # waiting for its two entries
    RESOLVING = "resolving"  # both entered, differences to resolve against the sheets
    READY = "ready"  # every sheet agreed or resolved: can be sealed
    SEALED = "sealed"  # its ballots are on their way to the board


class PaperBatch(db.Model):
    """A bundle of filled sheets from one point, entered twice by different staff."""

    __tablename__ = "paper_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(sa.ForeignKey("cycle.id"), index=True)
    voting_point_id: Mapped[int] = mapped_column(sa.ForeignKey("voting_point.id"))
    # Numbered per point and cycle (1, 2, ...), as written on the bundle's envelope.
    number: Mapped[int] = mapped_column(sa.Integer)
    # How many sheets the bundle holds, counted by hand when it is made.
    sheet_count: Mapped[int] = mapped_column(sa.Integer)
    status: Mapped[str] = mapped_column(sa.String(20), default=BatchStatus.ENTERING)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    sealed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        sa.UniqueConstraint("cycle_id", "voting_point_id", "number"),
        sa.CheckConstraint("sheet_count >= 1", name="sheet_count_positive"),
        sa.CheckConstraint(
            "status IN ('entering', 'resolving', 'ready', 'sealed')", name="status_known"
        ),
    )


class PaperEntry(db.Model):
    """One staff member's typing of a whole batch (round 1 or 2). The two rounds of a batch are
    by different people: the unique (batch, entered_by) says so to the database."""

    __tablename__ = "paper_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(sa.ForeignKey("paper_batch.id"))
    round: Mapped[int] = mapped_column(sa.SmallInteger)
    entered_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    __table_args__ = (
        sa.UniqueConstraint("batch_id", "round"),
        sa.UniqueConstraint("batch_id", "entered_by_id"),
        sa.CheckConstraint("round IN (1, 2)", name="round_known"),
    )


class PaperEntrySheet(db.Model):
    """One sheet as one entry read it: its serial and the works marked (or spoiled)."""

    __tablename__ = "paper_entry_sheet"

    entry_id: Mapped[int] = mapped_column(sa.ForeignKey("paper_entry.id"), primary_key=True)
    serial: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    # Proposal ids, sorted ascending; empty for a blank sheet.
    choices: Mapped[list] = mapped_column(sa.JSON)
    # Marked so that no valid ballot can be read from it (too many works, unreadable).
    spoiled: Mapped[bool] = mapped_column(sa.Boolean, default=False)


class PaperSheet(db.Model):
    """A sheet's agreed reading (both entries agreed, or a resolution against the sheet).

    The primary key makes each serial count once in the cycle, whatever batch it turns up in.
    """

    __tablename__ = "paper_sheet"

    cycle_id: Mapped[int] = mapped_column(sa.ForeignKey("cycle.id"), primary_key=True)
    serial: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    batch_id: Mapped[int] = mapped_column(sa.ForeignKey("paper_batch.id"), index=True)
    choices: Mapped[list] = mapped_column(sa.JSON)
    spoiled: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    # True when the two entries differed and a staff member read the sheet to settle it.
    resolved: Mapped[bool] = mapped_column(sa.Boolean, default=False)
