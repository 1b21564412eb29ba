"""Enrolled kiosk devices. The device keeps a signed cookie naming its row and a secret; the
database keeps only the secret's hash, so revoking the row stops the device at once."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from opdigital.clock import now
from opdigital.db_types import UTCDateTime
from opdigital.extensions import db


class KioskDevice(db.Model):
    __tablename__ = "kiosk_device"

    id: Mapped[int] = mapped_column(primary_key=True)
    voting_point_id: Mapped[int] = mapped_column(sa.ForeignKey("voting_point.id"), index=True)
    # What the coordinator calls it ("Guichê 2"), to tell devices apart when revoking one.
    label: Mapped[str] = mapped_column(sa.String(80), default="")
    # SHA-256 of the device's secret; the secret itself lives only in the device's cookie.
    secret_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    enrolled_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def active(self) -> bool:
        return self.revoked_at is None
