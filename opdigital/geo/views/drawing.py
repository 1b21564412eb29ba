"""One map for a page: the server-drawn SVG, the GeoJSON that static/js/map.js draws with
Leaflet, and the tile server's settings; both drawings from the same items and regions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flask import current_app, url_for
from flask_babel import gettext as _
from markupsafe import Markup

from opdigital.formatting import labels, money
from opdigital.geo.features import feature_collection, proposal_feature, region_feature
from opdigital.geo.queries import MapItem, placed
from opdigital.geo.shapes import region_geometry, region_shape
from opdigital.geo.svg import Outline, Spot, map_svg
from opdigital.regions.models import Region

# Where the form's picker opens when there is no outline to fit: central Belo Horizonte.
CITY_CENTRE = (-19.9191, -43.9386)
# Outlines handed to the script lose detail under about 10 m (in degrees): invisible at the
# zooms the maps open at, and real boundaries would otherwise weigh hundreds of kilobytes on a
# phone. The API's GeoJSON keeps every vertex.
OUTLINE_TOLERANCE = 0.0001


@dataclass(frozen=True)
class PageMap:
    """What templates/maps/_map.html draws."""

    svg: Markup
    data: dict  # {"regions": FeatureCollection, "items": FeatureCollection}
    count: int  # points on the map
    sources: list[str]  # where the outlines come from (shown under the map)
    approximate: bool  # some outline is approximate


def tiles() -> dict[str, str]:
    """The tile server (empty URL: no tiles, the SVG stays the map) and its attribution."""
    config = current_app.config
    return {
        "url": config.get("MAP_TILE_URL") or "",
        "attribution": config.get("MAP_TILE_ATTRIBUTION") or "",
    }


def light_geometry(region: Region) -> dict | None:
    """The region's outline for a map script, simplified to OUTLINE_TOLERANCE."""
    outline = region_shape(region)
    if outline is None:
        return None
    from shapely.geometry import mapping  # on first use: see `geo.shapes`

    return mapping(outline.simplify(OUTLINE_TOLERANCE, preserve_topology=True))


def light_region_feature(region: Region) -> dict | None:
    feature = region_feature(region)
    if feature is not None:
        feature["geometry"] = light_geometry(region)
    return feature


def outlines(regions: Sequence[Region]) -> list[Outline]:
    return [Outline(r.name, region_geometry(r)) for r in regions if r.boundary]


def item_kind(item: MapItem) -> str:
    """The class (and colour) of an item's point: on the results map, selected or not."""
    if item.selected is None:
        return ""
    return "selected" if item.selected else "not-selected"


def item_properties(item: MapItem) -> dict:
    """What a marker's popup says, in the reader's language (the list says the same)."""
    proposal = item.proposal
    names = labels()
    facts = {
        "number": item.number,
        "url": url_for("public.proposal", code=proposal.code),
        "kind": item_kind(item),
        "region_name": item.region.name if item.region else _("Whole city"),
        "status_label": str(names["proposal"].get(proposal.status, proposal.status)),
        "cost_text": money(proposal.cost_cents),
        "cycle_title": proposal.cycle.title,
    }
    if proposal.execution_status:
        facts["execution_label"] = str(names["execution"][proposal.execution_status])
    if item.work is not None:
        facts["progress_text"] = _("%(percent)s%% done", percent=item.work.progress.percent)
        if item.work.progress.late:
            facts["late_label"] = _("Late")
    if item.votes is not None:
        facts["votes_text"] = _("Votes: %(votes)s", votes=item.votes)
    return facts


def page_map(
    svg_id: str,
    title: str,
    items: Sequence[MapItem],
    regions: Sequence[Region],
) -> PageMap:
    """The map of `items` over the outlines of `regions`."""
    on_map = placed(items)
    spots = [
        Spot(i.number, i.proposal.latitude, i.proposal.longitude, i.proposal.title, item_kind(i))
        for i in on_map
    ]
    description = _(
        "%(count)s numbered points over the outlines of the regions. The list below the map "
        "gives every item with the same number, and those not yet placed.",
        count=len(spots),
    )
    svg = map_svg(
        svg_id,
        title,
        description,
        outlines(regions),
        spots,
        empty_text=_("Nothing to show on the map for this selection."),
    )
    data = {
        "regions": feature_collection(light_region_feature(r) for r in regions),
        "items": feature_collection(
            proposal_feature(i.proposal, item_properties(i)) for i in on_map
        ),
    }
    # Without their final full stop: the caption puts its own after the list.
    sources = sorted(
        {r.boundary_source.rstrip(". ") for r in regions if r.boundary and r.boundary_source}
    )
    approximate = any(r.boundary_approximate for r in regions if r.boundary)
    return PageMap(svg, data, len(spots), sources, approximate)


def location_svg(proposal, regions: Sequence[Region]) -> Markup:
    """A small map of one proposal's place: its region's outline (or the city's, for a
    proposal of the whole city or of a region without one) and the point."""
    spot = Spot(0, proposal.latitude, proposal.longitude, proposal.title)
    title = _("Location of %(title)s", title=proposal.title)
    description = _(
        "A point on the outline of %(where)s. The address and the coordinates are given in "
        "words beside the map.",
        where=proposal.region.name if proposal.region else _("the city"),
    )
    return map_svg(
        f"location-{proposal.code}",
        title,
        description,
        outlines(regions),
        [spot],
        width=360,
        max_height=360,
        region_labels=len(regions) > 1,
    )
