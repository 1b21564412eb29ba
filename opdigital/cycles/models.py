"""Ballot cycles, their phases and events, and the budget of each region."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from opdigital.clock import now
from opdigital.cycles.states import BALLOT_LOCKED, CycleState
from opdigital.db_types import UTCDateTime
from opdigital.extensions import db
from opdigital.regions.models import Region, School


class CycleKind(StrEnum):
    OP_DIGITAL = "op-digital"
    OP_REGIONAL = "op-regional"
    OPCA = "opca"


class BudgetSplit(StrEnum):
    MANUAL = "manual"
    FORMULA = "formula"


class PhaseKind(StrEnum):
    PROPOSALS = "proposals"
    ASSEMBLIES = "assemblies"
    REVIEW = "review"
    CARAVANS = "caravans"
    VOTING = "voting"
    TALLY = "tally"
    RESULTS = "results"
    MONITORING = "monitoring"


class EventKind(StrEnum):
    ASSEMBLY = "assembly"
    CARAVAN = "caravan"
    REGIONAL_FORUM = "regional_forum"
    COMFORCA_ELECTION = "comforca_election"
    SCHOOL_ASSEMBLY = "school_assembly"
    DELEGATES_MEETING = "delegates_meeting"
    VOTING_POINT = "voting_point"
    OTHER = "other"


class Cycle(db.Model):
    __tablename__ = "cycle"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(60), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    title: Mapped[str] = mapped_column(sa.String(160))
    edition: Mapped[int] = mapped_column(sa.Integer)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    state: Mapped[str] = mapped_column(sa.String(30), default=CycleState.DRAFT.value)
    total_budget_cents: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    budget_split: Mapped[str] = mapped_column(sa.String(10), default=BudgetSplit.MANUAL.value)
    # Formula split: this share (percent) is divided equally, the rest by population x need.
    equal_share_percent: Mapped[int] = mapped_column(sa.Integer, default=50)
    # The rules (docs/domain.md, "Ballot rules", "Counting rules"), chosen before the freeze.
    ballot_rule: Mapped[str | None] = mapped_column(sa.String(40))
    ballot_rule_params: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    counting_rule: Mapped[str | None] = mapped_column(sa.String(40))
    min_voter_age: Mapped[int | None] = mapped_column(sa.Integer)
    max_voter_age: Mapped[int | None] = mapped_column(sa.Integer)
    # Ages are reckoned on this date; by default the first day of the voting phase.
    age_reference_date: Mapped[date | None] = mapped_column(sa.Date)
    # A regional ballot: only residents of this region may vote.
    restrict_region_id: Mapped[int | None] = mapped_column(sa.ForeignKey("region.id"))
    # Which imported roll says who may vote: "city" (shared) or "cycle:<id>" (this cycle's own).
    registry_scope: Mapped[str] = mapped_column(
        sa.String(20), default="city", server_default="city"
    )
    # Stanford PB shuffles the ballot for each voter, so position favours no proposal.
    shuffle_ballot: Mapped[bool] = mapped_column(sa.Boolean, default=True, server_default=sa.true())
    # BH 2006 showed running totals after voting; off unless the coordinator turns it on.
    show_running_totals: Mapped[bool] = mapped_column(
        sa.Boolean, default=False, server_default=sa.false()
    )
    # Voting by phone (opdigital/phone): the toll-free voice line and text messages. Switched by
    # coordinators at any time, also during the vote (unlike the frozen voting settings).
    phone_voice: Mapped[bool] = mapped_column(sa.Boolean, default=False, server_default=sa.false())
    phone_text: Mapped[bool] = mapped_column(sa.Boolean, default=False, server_default=sa.false())
    ballot_frozen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, onupdate=now)

    phases: Mapped[list[Phase]] = relationship(
        back_populates="cycle",
        order_by="(Phase.position, Phase.starts_at)",
        cascade="all, delete-orphan",
    )
    events: Mapped[list[Event]] = relationship(
        back_populates="cycle", order_by="Event.starts_at", cascade="all, delete-orphan"
    )
    region_budgets: Mapped[list[RegionBudget]] = relationship(
        back_populates="cycle", cascade="all, delete-orphan"
    )

    __table_args__ = (
        sa.CheckConstraint("total_budget_cents >= 0", name="budget_not_negative"),
        sa.CheckConstraint(
            "equal_share_percent >= 0 AND equal_share_percent <= 100", name="equal_share_range"
        ),
        sa.CheckConstraint("kind IN ('op-digital', 'op-regional', 'opca')", name="kind_known"),
    )

    @property
    def ballot_locked(self) -> bool:
        """True once the ballot is frozen: proposals on it can no longer change."""
        return CycleState(self.state) in BALLOT_LOCKED

    def current_phases(self, at: datetime | None = None) -> list[Phase]:
        """Phases whose window contains `at` (default: now)."""
        at = at or now()
        return [phase for phase in self.phases if phase.is_open(at)]

    def phase_of_kind(self, kind: str) -> Phase | None:
        return next((p for p in self.phases if p.kind == kind), None)

    def __repr__(self) -> str:
        return f"<Cycle {self.slug} {self.state}>"


class _Window:
    """What phases and events share: a time from `starts_at` (included) to `ends_at` (excluded)."""

    def status(self, at: datetime | None = None) -> str:
        """'upcoming', 'current' or 'past' relative to `at` (default: now)."""
        at = at or now()
        if at < self.starts_at:
            return "upcoming"
        return "current" if at < self.ends_at else "past"


class Phase(_Window, db.Model):
    """A stretch of a cycle's calendar, open from `starts_at` (included) to `ends_at` (excluded)."""

    __tablename__ = "phase"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(sa.ForeignKey("cycle.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    name: Mapped[str] = mapped_column(sa.String(120))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    position: Mapped[int] = mapped_column(sa.Integer, default=0)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)

    cycle: Mapped[Cycle] = relationship(back_populates="phases")

    __table_args__ = (sa.CheckConstraint("ends_at > starts_at", name="ends_after_start"),)

    def is_open(self, at: datetime) -> bool:
        return self.starts_at <= at < self.ends_at


class Event(_Window, db.Model):
    """A dated happening of a cycle: an assembly, a caravan, a forum, an election..."""

    __tablename__ = "event"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(sa.ForeignKey("cycle.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(30))
    title: Mapped[str] = mapped_column(sa.String(160))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    place: Mapped[str] = mapped_column(sa.String(200), default="")
    region_id: Mapped[int | None] = mapped_column(sa.ForeignKey("region.id"), index=True)
    school_id: Mapped[int | None] = mapped_column(sa.ForeignKey("school.id"), index=True)

    cycle: Mapped[Cycle] = relationship(back_populates="events")
    region: Mapped[Region | None] = relationship()
    school: Mapped[School | None] = relationship()

    __table_args__ = (sa.CheckConstraint("ends_at > starts_at", name="ends_after_start"),)


class RegionBudget(db.Model):
    """The part of a cycle's budget reserved for one region."""

    __tablename__ = "region_budget"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(sa.ForeignKey("cycle.id", ondelete="CASCADE"))
    region_id: Mapped[int] = mapped_column(sa.ForeignKey("region.id"))
    amount_cents: Mapped[int] = mapped_column(sa.BigInteger)

    cycle: Mapped[Cycle] = relationship(back_populates="region_budgets")
    region: Mapped[Region] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("cycle_id", "region_id"),
        sa.CheckConstraint("amount_cents >= 0", name="amount_not_negative"),
    )
