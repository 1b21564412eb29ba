"""Shared by the place tests: square outlines, GeoJSON features and files, regions with a
boundary. No tests here.

Two neighbouring squares stand for two regions: WEST is lon -44.06..-44.00 and EAST is
-44.00..-43.94, both lat -20.06..-20.00; they share the line lon = -44.00.
"""

from __future__ import annotations

import json
from pathlib import Path

from opdigital.extensions import db
from opdigital.regions.models import Region
from tests.support import factories

WEST = (-44.06, -20.06, -44.00, -20.00)  # west, south, east, north
EAST = (-44.00, -20.06, -43.94, -20.00)
INSIDE_WEST = (-20.03, -44.03)  # (latitude, longitude)
INSIDE_EAST = (-20.03, -43.97)
ON_THE_BORDER = (-20.03, -44.00)  # on the line both squares share
FAR_AWAY = (-19.80, -43.90)  # in neither


def square(west: float, south: float, east: float, north: float) -> dict:
    """A Polygon geometry, its ring counter-clockwise as RFC 7946 recommends."""
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


def feature(geometry: dict | None, **properties) -> dict:
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def collection(*features: dict) -> dict:
    return {"type": "FeatureCollection", "features": list(features)}


def write(path: Path, document) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def region_with(bounds: tuple[float, float, float, float] | None, **overrides) -> Region:
    """A region whose boundary is the square `bounds` (None: no boundary)."""
    region = factories.region(**overrides)
    if bounds is not None:
        region.boundary = json.dumps(square(*bounds), separators=(",", ":"))
        region.boundary_source = "test squares"
        db.session.commit()
    return region
