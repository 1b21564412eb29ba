"""Demo data: approximate outlines of the nine regions, and a place on the map for each demo
proposal, inside its region.

The outlines (data/regions.geojson, also usable with `opdigital regions boundaries`) are drawn
by hand on a grid over the city's rough extent; they tile it without gaps or overlaps and are
stored as approximate, with a source that says so. The proposals' points are picked
deterministically inside the stored outline of their region, away from its edges: the same
demo gives the same map every time.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import sqlalchemy as sa
from shapely.geometry import Point

from opdigital.cycles.models import Cycle
from opdigital.extensions import db
from opdigital.geo.boundaries import import_boundaries
from opdigital.geo.shapes import boundary_shape
from opdigital.proposals import services as proposals
from opdigital.proposals.models import Proposal
from opdigital.regions.models import Region

BOUNDARIES_FILE = Path(__file__).resolve().parent / "data" / "regions.geojson"
# Shown under every map: the demo's outlines must never pass for the official ones.
SOURCE = (
    "Contornos aproximados, desenhados à mão para a demonstração do OP Digital: não são os "
    "limites oficiais das regionais."
)
# How far inside its region's outline a demo point stays (in degrees, about 400 m).
INSET = 0.004
_CANDIDATES = 64


def demo_boundaries() -> dict:
    """The demo's FeatureCollection."""
    return json.loads(BOUNDARIES_FILE.read_text(encoding="utf-8"))


def load_boundaries(actor) -> str:
    """Give the demo outline to each region that has none; an outline already there (the
    demo's, or an imported official one) is left alone."""
    bare = set(db.session.scalars(sa.select(Region.slug).where(Region.boundary.is_(None))))
    collection = demo_boundaries()
    missing = [f for f in collection["features"] if f["properties"]["slug"] in bare]
    if not missing:
        return "Region boundaries: already present (left untouched)."
    report = import_boundaries(
        collection | {"features": missing}, source=SOURCE, approximate=True, actor=actor
    )
    return (
        f"Region boundaries: {len(report.updated)} approximate demonstration outlines "
        f"imported, {len(collection['features']) - len(missing)} already present."
    )


def _halton(index: int, base: int) -> float:
    """The index-th number of the Halton sequence in `base`: evenly spread, deterministic."""
    result, fraction = 0.0, 1.0
    while index:
        fraction /= base
        index, digit = divmod(index, base)
        result += digit * fraction
    return result


@lru_cache(maxsize=32)
def _candidates(boundary: str) -> tuple[tuple[float, float], ...]:
    """Points (latitude, longitude) well inside the outline, spread over it."""
    outline = boundary_shape(boundary)
    inner = outline.buffer(-INSET)
    if inner.is_empty:  # a sliver of a region: any point inside will do
        inner = outline
    west, south, east, north = inner.bounds
    points: list[tuple[float, float]] = []
    index = 1
    while len(points) < _CANDIDATES and index < 100 * _CANDIDATES:
        longitude = round(west + (east - west) * _halton(index, 2), 6)
        latitude = round(south + (north - south) * _halton(index, 3), 6)
        if inner.contains(Point(longitude, latitude)):
            points.append((latitude, longitude))
        index += 1
    return tuple(points) or ((outline.representative_point().y, outline.representative_point().x),)


def demo_location(region: Region | None, number: int) -> tuple[float, float] | None:
    """The `number`-th demo point (from 0) inside the region's stored outline, as (latitude,
    longitude); None for no region or a region without an outline."""
    if region is None or not region.boundary:
        return None
    candidates = _candidates(region.boundary)
    return candidates[number % len(candidates)]


def place_proposals(cycle_slug: str, actor) -> str:
    """Place the cycle's proposals, each inside its region (a school's: its school's region),
    numbered in code order within their region, as a coordinator would."""
    cycle = db.session.scalar(sa.select(Cycle).where(Cycle.slug == cycle_slug))
    rows = db.session.scalars(
        sa.select(Proposal).where(Proposal.cycle_id == cycle.id).order_by(Proposal.code)
    ).all()
    numbers: dict[int, int] = {}
    placed = 0
    for proposal in rows:
        region = proposals.proposal_region(proposal)
        if region is None or proposal.has_location:
            continue
        number = numbers.get(region.id, 0)
        numbers[region.id] = number + 1
        location = demo_location(region, number)
        if location is None:
            continue
        proposals.set_location(proposal, *location, proposal.place, actor)
        placed += 1
    return f"{placed} placed on the map"
