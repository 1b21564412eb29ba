"""Where a proposal or work may be: a point (WGS 84) inside its region's boundary.

The proposal services call `check_location` for a citizen's submission, a staff entry and the
staff's "set location" action. A region without a boundary accepts any point in range; a
city-wide proposal (no region) must fall inside the union of the regions' boundaries once any
region has one. The boundary line itself counts as inside (Shapely's `covers`): a square on the
border between two regions belongs to either.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from opdigital.errors import ValidationFailed
from opdigital.extensions import db
from opdigital.geo.shapes import boundary_shape, region_shape
from opdigital.regions.models import Region

if TYPE_CHECKING:  # Shapely is imported on first use (see `geo.shapes`)
    from shapely.geometry.base import BaseGeometry

# The error codes `check_location` raises: forms show them beside the latitude field.
LOCATION_ERROR_CODES = frozenset(
    {"incomplete_location", "invalid_location", "outside_region", "outside_city"}
)


def check_location(region: Region | None, latitude: float | None, longitude: float | None) -> None:
    """Refuse (ValidationFailed) a location that is half given, out of range, or outside the
    region's boundary (for no region: outside every region's boundary). None, None is fine."""
    if latitude is None and longitude is None:
        return
    if latitude is None or longitude is None:
        raise ValidationFailed(
            _l("Give both the latitude and the longitude of the place, or neither."),
            code="incomplete_location",
        )
    if not in_range(latitude, longitude):
        raise ValidationFailed(
            _l(
                "The latitude must be between -90 and 90 and the longitude between -180 and "
                "180 (decimal degrees)."
            ),
            code="invalid_location",
        )
    from shapely.geometry import Point

    point = Point(longitude, latitude)  # x is the longitude
    if region is not None:
        outline = region_shape(region)
        if outline is not None and not outline.covers(point):
            raise ValidationFailed(
                _l(
                    "The point (%(latitude)s, %(longitude)s) is outside the boundary of the "
                    "region %(region)s. Check the coordinates, or the proposal's region.",
                    latitude=_degrees(latitude),
                    longitude=_degrees(longitude),
                    region=region.name,
                ),
                code="outside_region",
            )
        return
    city = city_shape()
    if city is not None and not city.covers(point):
        raise ValidationFailed(
            _l(
                "The point (%(latitude)s, %(longitude)s) is outside the city: it is in none of "
                "the regions' boundaries.",
                latitude=_degrees(latitude),
                longitude=_degrees(longitude),
            ),
            code="outside_city",
        )


def in_range(latitude: float, longitude: float) -> bool:
    return (
        math.isfinite(latitude)
        and math.isfinite(longitude)
        and -90 <= latitude <= 90
        and -180 <= longitude <= 180
    )


def _degrees(value: float) -> str:
    return f"{value:.6f}".rstrip("0").rstrip(".")


def _boundaries() -> tuple[str, ...]:
    query = sa.select(Region.boundary).where(Region.boundary.is_not(None)).order_by(Region.id)
    return tuple(db.session.scalars(query))


def city_shape() -> BaseGeometry | None:
    """The union of every region's boundary (the city as far as it is mapped), or None when no
    region has one."""
    boundaries = _boundaries()
    return _union(boundaries) if boundaries else None


@lru_cache(maxsize=8)
def _union(boundaries: tuple[str, ...]) -> BaseGeometry:
    # Keyed by the outlines' text: a new import is a new key.
    from shapely import union_all

    return union_all([boundary_shape(text) for text in boundaries])


def region_at(latitude: float, longitude: float) -> Region | None:
    """The region whose boundary covers the point (the first by name on a shared border), or
    None. For suggesting a region from a point placed on a map."""
    if not in_range(latitude, longitude):
        return None
    from shapely.geometry import Point

    point = Point(longitude, latitude)
    regions = db.session.scalars(
        sa.select(Region).where(Region.boundary.is_not(None)).order_by(Region.name)
    )
    return next((r for r in regions if region_shape(r).covers(point)), None)
