"""The imported electoral roll (or school enrolment list) that says who may vote."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from opdigital.extensions import db

# The roll shared by every city-wide cycle; a cycle may instead have a roll of its own.
CITY_SCOPE = "city"


def cycle_scope(cycle_id: int) -> str:
    """The scope of a roll imported for one cycle only."""
    return f"cycle:{cycle_id}"


# A cycle whose roll is its delegates: each entry stands for one delegate code
# (opdigital/delegates; docs/domain.md, "Delegates"). Apart from `cycle:<id>`, so an imported
# roll and delegate codes never mix.
DELEGATE_SCOPE_PREFIX = "delegates:"


def delegate_scope(cycle_id: int) -> str:
    """The scope of a cycle's delegate roll."""
    return f"{DELEGATE_SCOPE_PREFIX}{cycle_id}"


def is_delegate_scope(scope: str | None) -> bool:
    return bool(scope) and scope.startswith(DELEGATE_SCOPE_PREFIX)


class RegistryEntry(db.Model):
    """One eligible person. The registration number itself is never stored: only `voter_key`,
    a keyed hash (HMAC-SHA-256 with the server's pepper) of it (docs/security.md, "One vote per
    citizen")."""

    __tablename__ = "registry_entry"

    id: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True
    )
    scope: Mapped[str] = mapped_column(sa.String(20))
    voter_key: Mapped[str] = mapped_column(sa.String(64))
    birth_date: Mapped[date] = mapped_column(sa.Date)
    # A region's and a school's id, without a foreign key: PostgreSQL would check one row at a
    # time (half of a two-million-row import's database work). A trigger checks all the rows of
    # each INSERT, COPY, UPDATE or MERGE at once, locking the rows they name as a foreign key
    # does, and others refuse to delete or renumber a region or school the roll names
    # (migration 0019). The app never deletes either.
    region_id: Mapped[int | None] = mapped_column()
    school_id: Mapped[int | None] = mapped_column()

    __table_args__ = (sa.UniqueConstraint("scope", "voter_key"),)
