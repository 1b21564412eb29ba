"""What other blueprints' templates draw with the maps' help, as template globals: the small
map of a proposal's place (its public page) and the map picker of the proposal form. Globals,
so that those pages include a template of ours without their blueprint importing this one."""

from __future__ import annotations

from markupsafe import Markup

from opdigital.geo.queries import regions_with_outline
from opdigital.geo.views import bp
from opdigital.geo.views.drawing import CITY_CENTRE, light_geometry, location_svg, tiles
from opdigital.proposals.models import Proposal


@bp.app_template_global()
def proposal_location_map(proposal: Proposal) -> Markup | None:
    """The SVG of the proposal's place, or None when it has none."""
    if not proposal.has_location:
        return None
    region = proposal.region
    regions = [region] if region is not None and region.boundary else regions_with_outline()
    return location_svg(proposal, regions)


@bp.app_template_global()
def map_picker_settings() -> dict:
    """For the picker: the tile server, the regions' outlines by id (the region select's values:
    choosing a region shows it) and where to open when nothing is chosen yet."""
    return {
        "tiles": tiles(),
        "data": {
            "regions": {str(r.id): light_geometry(r) for r in regions_with_outline()},
            "centre": list(CITY_CENTRE),
        },
    }
