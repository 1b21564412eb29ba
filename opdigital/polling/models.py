"""Whether a voting point is open for a cycle (the times of each opening are in the audit log)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from opdigital.db_types import UTCDateTime
from opdigital.extensions import db


class PointOpening(db.Model):
    """A voting point's state in one cycle: open or closed, and when it last changed.

    No row: the point has not been opened yet in that cycle. Kiosks and poll workers of a point
    take votes only while it is open; the audit log keeps every open and close.
    """

    __tablename__ = "point_opening"

    voting_point_id: Mapped[int] = mapped_column(sa.ForeignKey("voting_point.id"), primary_key=True)
    cycle_id: Mapped[int] = mapped_column(sa.ForeignKey("cycle.id"), primary_key=True)
    is_open: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
