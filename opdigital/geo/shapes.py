"""A region's boundary as a Shapely geometry, parsed once per stored outline."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import TYPE_CHECKING

from opdigital.regions.models import Region

if TYPE_CHECKING:  # Shapely is imported when an outline is first parsed: the app (every
    # worker, every command) starts 0.12 s sooner, and most requests never draw a map.
    from shapely.geometry.base import BaseGeometry


@lru_cache(maxsize=64)
def _parse(boundary: str) -> BaseGeometry:
    # Keyed by the stored text itself: a new import is a new key, so the cache never serves
    # an outline that was replaced.
    from shapely.geometry import shape

    return shape(json.loads(boundary))


def boundary_shape(boundary: str) -> BaseGeometry:
    """A stored outline (GeoJSON geometry text) as a Shapely geometry, parsed once."""
    return _parse(boundary)


def region_shape(region: Region) -> BaseGeometry | None:
    """The region's outline, or None when it has none."""
    return _parse(region.boundary) if region.boundary else None


def region_geometry(region: Region) -> dict | None:
    """The region's outline as a GeoJSON geometry (a dict), or None."""
    return json.loads(region.boundary) if region.boundary else None
