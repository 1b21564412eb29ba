"""A cycle's tally: the signed package (docs/tally-format.md) and its result, kept as built.

The package bytes are stored, not rebuilt on download: what auditors fetch is exactly what was
signed. The result is a copy of the package's result.json, for the results page.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from opdigital.clock import now
from opdigital.db_types import UTCDateTime
from opdigital.extensions import db


class Tally(db.Model):
    __tablename__ = "tally"

    cycle_id: Mapped[int] = mapped_column(sa.ForeignKey("cycle.id"), primary_key=True)
    # Stored uncompressed on PostgreSQL (a zip gains nothing from another try: migration 0016).
    package: Mapped[bytes] = mapped_column(sa.LargeBinary)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    key_fingerprint: Mapped[str] = mapped_column(sa.String(64))
    result: Mapped[dict] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
