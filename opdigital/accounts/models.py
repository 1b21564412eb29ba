"""Staff accounts: admins, coordinators, auditors, poll workers and the encarregado (privacy
officer). Citizens never log in."""

from __future__ import annotations

import secrets
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from opdigital.clock import now
from opdigital.db_types import UTCDateTime
from opdigital.extensions import db
from opdigital.regions.models import Region


class Role(StrEnum):
    ADMIN = "admin"
    COORDINATOR = "coordinator"
    AUDITOR = "auditor"
    # A mesário: bound to one voting point and one cycle, sees only that point's screens.
    POLL_WORKER = "poll_worker"
    # The encarregado (data protection officer, LGPD art. 41): sees only the queue of
    # data-subject requests, and handles them.
    PRIVACY_OFFICER = "privacy_officer"
    # A member of a region's Comforça (monitoring commission): posts reports on the works of
    # their region, published after a coordinator approves them.
    MONITOR = "monitor"


def new_session_token() -> str:
    """A random value naming the current generation of an account's sessions."""
    return secrets.token_urlsafe(32)


class User(UserMixin, db.Model):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120), default="")
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[str] = mapped_column(sa.String(20))
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Every signed-in session carries this value (see `get_id`); replacing it ends them all.
    session_token: Mapped[str] = mapped_column(sa.String(64), default=new_session_token)
    # A poll worker's point and cycle (both set for poll workers, neither for other roles).
    voting_point_id: Mapped[int | None] = mapped_column(sa.ForeignKey("voting_point.id"))
    cycle_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cycle.id"))
    # A Comforça member's region (set for monitors and only for them).
    region_id: Mapped[int | None] = mapped_column(sa.ForeignKey("region.id"))

    region: Mapped[Region | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint(
            "role IN ('admin', 'coordinator', 'auditor', 'poll_worker', 'privacy_officer', "
            "'monitor')",
            name="role_known",
        ),
        sa.CheckConstraint("(role = 'monitor') = (region_id IS NOT NULL)", name="monitor_bound"),
        sa.CheckConstraint(
            "(role = 'poll_worker') = (voting_point_id IS NOT NULL AND cycle_id IS NOT NULL)"
            " AND (voting_point_id IS NULL) = (cycle_id IS NULL)",
            name="poll_worker_bound",
        ),
    )

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.active

    def get_id(self) -> str:
        """What Flask-Login keeps in the session cookie: the id and the session token.

        Flask-Login's "alternative tokens": the user loader accepts a cookie only while its
        token is still the account's, so rotating the token signs out every browser at once,
        including copies of a cookie made before (the cookie is signed, not stored).
        """
        return f"{self.id}:{self.session_token}"

    def end_sessions(self) -> None:
        """Make every session signed in so far invalid (the caller commits)."""
        self.session_token = new_session_token()

    def has_role(self, *roles: str) -> bool:
        return self.role in roles

    @property
    def is_poll_worker(self) -> bool:
        return self.role == Role.POLL_WORKER

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"
