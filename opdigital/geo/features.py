"""GeoJSON (RFC 7946) for proposals, works and regions: the API's .geojson answers, the
downloads and the maps all build their features here. Coordinates are [longitude, latitude]."""

from __future__ import annotations

from collections.abc import Iterable

from opdigital.geo.shapes import region_geometry
from opdigital.proposals.models import Proposal
from opdigital.regions.models import Region
from opdigital.works.progress import Money, Progress


def point(latitude: float, longitude: float) -> dict:
    return {"type": "Point", "coordinates": [round(longitude, 6), round(latitude, 6)]}


def proposal_feature(proposal: Proposal, properties: dict | None = None) -> dict | None:
    """A located proposal as a Feature (None when it has no location). The properties are the
    public facts of the proposal, with `properties` (e.g. a work's progress) added."""
    if not proposal.has_location:
        return None
    facts = {
        "code": proposal.code,
        "title": proposal.title,
        "status": proposal.status,
        "region": proposal.region.slug if proposal.region else None,
        "place": proposal.place,
        "cost_cents": proposal.cost_cents,
        "execution_status": proposal.execution_status,
        "cycle": proposal.cycle.slug,
        "edition": proposal.cycle.edition,
    }
    return {
        "type": "Feature",
        "id": proposal.code,
        "geometry": point(proposal.latitude, proposal.longitude),
        "properties": facts | (properties or {}),
    }


def work_properties(progress: Progress, money: Money) -> dict:
    """A work's figures (works/progress.py) as flat properties: GIS tools read flat ones."""
    return {
        "percent_done": progress.percent,
        "late": progress.late,
        "milestones_done": progress.done,
        "milestones_total": progress.total,
        "next_due": progress.next_due.isoformat() if progress.next_due else None,
        "committed_cents": money.committed_cents,
        "spent_cents": money.spent_cents,
        "committed_percent": money.committed_percent,
        "spent_percent": money.spent_percent,
        "over_budget": money.over_budget,
    }


def work_feature(
    proposal: Proposal, progress: Progress, money: Money, properties: dict | None = None
) -> dict | None:
    """A located work as a Feature: the proposal's facts, its department, progress and money
    (None when it has no location)."""
    facts = {"cycle_kind": proposal.cycle.kind, "department": proposal.department or ""}
    return proposal_feature(proposal, facts | work_properties(progress, money) | (properties or {}))


def region_feature(region: Region) -> dict | None:
    geometry = region_geometry(region)
    if geometry is None:
        return None
    return {
        "type": "Feature",
        "id": region.slug,
        "geometry": geometry,
        "properties": {
            "slug": region.slug,
            "name": region.name,
            "source": region.boundary_source,
            "approximate": region.boundary_approximate,
        },
    }


def feature_collection(features: Iterable[dict | None]) -> dict:
    """A FeatureCollection of the features given, leaving out the Nones (things not placed)."""
    return {"type": "FeatureCollection", "features": [f for f in features if f is not None]}
