"""What a purged roll leaves behind: its eligible counts, per region and school."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from opdigital.clock import now
from opdigital.db_types import UTCDateTime
from opdigital.extensions import db


class RollCount(db.Model):
    """How many people a cycle's roll let vote (its ages and region applied), per region of
    residence and school, counted just before the roll was purged. The turnout page reads these
    once the roll is gone; nothing in them names a voter."""

    __tablename__ = "roll_count"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(sa.ForeignKey("cycle.id", ondelete="CASCADE"), index=True)
    region_id: Mapped[int | None] = mapped_column(sa.ForeignKey("region.id"))
    school_id: Mapped[int | None] = mapped_column(sa.ForeignKey("school.id"))
    eligible: Mapped[int] = mapped_column(sa.Integer)
    counted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    __table_args__ = (sa.CheckConstraint("eligible >= 0", name="eligible_not_negative"),)
