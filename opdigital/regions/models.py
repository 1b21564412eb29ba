"""The city's regions (`regionais`) and, for OPCA, its municipal schools."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from opdigital.extensions import db


class Region(db.Model):
    __tablename__ = "region"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name: Mapped[str] = mapped_column(sa.String(80), unique=True)
    population: Mapped[int] = mapped_column(sa.Integer)
    # Need index used by the budget split: higher means more need (e.g. 1 / IQVU, normalised).
    need_index: Mapped[float] = mapped_column(sa.Float, default=1.0)
    # The region's outline: a GeoJSON Polygon or MultiPolygon geometry (WGS 84), imported by
    # `opdigital regions boundaries` (opdigital/geo). Locations in the region must fall inside.
    boundary: Mapped[str | None] = mapped_column(sa.Text)
    # Where the outline comes from, shown under every map (e.g. "approximate outline, demo").
    boundary_source: Mapped[str] = mapped_column(sa.String(200), default="")
    boundary_approximate: Mapped[bool] = mapped_column(sa.Boolean, default=False)

    schools: Mapped[list[School]] = relationship(back_populates="region", order_by="School.name")

    __table_args__ = (
        sa.CheckConstraint("population >= 0", name="population_not_negative"),
        sa.CheckConstraint("need_index > 0", name="need_index_positive"),
    )

    def __repr__(self) -> str:
        return f"<Region {self.slug}>"


class School(db.Model):
    """A municipal school taking part in OPCA."""

    __tablename__ = "school"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(80), unique=True)
    name: Mapped[str] = mapped_column(sa.String(160))
    region_id: Mapped[int] = mapped_column(sa.ForeignKey("region.id"), index=True)
    address: Mapped[str] = mapped_column(sa.String(200), default="")

    region: Mapped[Region] = relationship(back_populates="schools")

    def __repr__(self) -> str:
        return f"<School {self.slug}>"
