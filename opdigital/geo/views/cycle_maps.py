"""A cycle's map of proposals, and the map of its published result."""

from __future__ import annotations

from flask import render_template, request
from flask_babel import gettext as _

from opdigital.cycles.queries import public_cycle
from opdigital.errors import NotFound
from opdigital.formatting import labels
from opdigital.geo import queries
from opdigital.geo.views import bp
from opdigital.geo.views.drawing import page_map, tiles
from opdigital.proposals.models import ProposalStatus
from opdigital.regions.queries import all_regions, region_by_slug
from opdigital.tally import services as tallies
from opdigital.web import page_or_404


@bp.get("/ciclos/<slug>/mapa")
def cycle_map(slug: str):
    """The cycle's proposals on a map and in a list; `?regiao=` and `?situacao=` filter them
    (while the ballot is frozen or voted on, only the ballot unless `situacao=todas`)."""
    cycle = page_or_404(public_cycle, slug)
    region = page_or_404(region_by_slug, request.args.get("regiao"))
    status = queries.proposal_status(cycle, request.args.get("situacao"))
    items = queries.cycle_items(cycle, region, status)
    title = _("Map of the proposals of %(cycle)s", cycle=cycle.title)
    return render_template(
        "maps/cycle.html",
        cycle=cycle,
        region=region,
        regions=all_regions(),
        status=status or queries.ALL,
        statuses=[(s.value, labels()["proposal"][s.value]) for s in ProposalStatus],
        all_statuses=queries.ALL,
        items=items,
        map=page_map("cycle-map-drawing", title, items, queries.regions_with_outline(region)),
        tiles=tiles(),
    )


@bp.get("/ciclos/<slug>/resultados/mapa")
def results_map(slug: str):
    """The works of a published result on a map, selected and not; `?regiao=` and
    `?resultado=` (selected or not_selected) filter them. Nothing before publication."""
    cycle = page_or_404(public_cycle, slug)
    try:
        record = tallies.published_tally(cycle)
    except NotFound:
        return render_template("results/not_published.html", cycle=cycle), 404
    region = page_or_404(region_by_slug, request.args.get("regiao"))
    outcome = queries.choice(
        request.args.get("resultado"),
        (queries.SELECTED, queries.NOT_SELECTED),
        _("Choose the selected works or the others."),
    )
    items = queries.result_items(cycle, record, region, outcome)
    title = _("Map of the results of %(cycle)s", cycle=cycle.title)
    return render_template(
        "maps/results.html",
        cycle=cycle,
        region=region,
        regions=all_regions(),
        outcome=outcome or "",
        items=items,
        map=page_map("results-map-drawing", title, items, queries.regions_with_outline(region)),
        tiles=tiles(),
    )
