"""The delegate roll of a cycle: delegates, substitutes and Comforça members.

LGPD, minimal data: a name, the region (and, in OPCA, the school and the seat the rule needs),
the role, and optionally the assembly that elected them. No document number, no contact, no
birth date. A delegate's code is never stored: only its keyed hash, which is also the voter key
of the delegate's entry in the cycle's delegate roll (docs/domain.md, "Delegates").
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from opdigital.clock import now
from opdigital.cycles.models import Event
from opdigital.db_types import UTCDateTime
from opdigital.extensions import db
from opdigital.regions.models import Region, School


class DelegateRole(StrEnum):
    DELEGATE = "delegate"
    SUBSTITUTE = "substitute"  # suplente
    COMFORCA = "comforca"  # member of the monitoring commission


class Seat(StrEnum):
    """OPCA's seats: one girl and one boy per school (delegates and substitutes alike)."""

    GIRL = "girl"
    BOY = "boy"


# Who may be given a code: Comforça members follow the works, they do not vote at the forum.
VOTING_ROLES = (DelegateRole.DELEGATE.value, DelegateRole.SUBSTITUTE.value)


class Delegate(db.Model):
    __tablename__ = "delegate"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(sa.ForeignKey("cycle.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(160))
    role: Mapped[str] = mapped_column(sa.String(20), default=DelegateRole.DELEGATE.value)
    region_id: Mapped[int] = mapped_column(sa.ForeignKey("region.id"), index=True)
    school_id: Mapped[int | None] = mapped_column(sa.ForeignKey("school.id"))
    seat: Mapped[str | None] = mapped_column(sa.String(10))
    event_id: Mapped[int | None] = mapped_column(sa.ForeignKey("event.id", ondelete="SET NULL"))
    # The keyed hash of the delegate's current code (None: no code issued). The registry entry
    # with this voter key, in the cycle's delegate scope, is what identifies them when voting.
    code_key: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    code_issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    region: Mapped[Region] = relationship()
    school: Mapped[School | None] = relationship()
    event: Mapped[Event | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint("role IN ('delegate', 'substitute', 'comforca')", name="role_known"),
        sa.CheckConstraint("seat IS NULL OR seat IN ('girl', 'boy')", name="seat_known"),
        # OPCA: one girl and one boy per school and role (NULLs never collide elsewhere).
        sa.UniqueConstraint("cycle_id", "role", "school_id", "seat"),
    )

    def __repr__(self) -> str:
        return f"<Delegate {self.id} {self.role}>"
