"""Every work chosen in every public cycle, on a map and in a list: the "Obras do OP" list
(/obras, the works blueprint) drawn on a map, with the same filters under the same names."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import render_template, request
from flask_babel import gettext as _

from opdigital.clock import today_in_city
from opdigital.cycles.models import CycleKind
from opdigital.formatting import labels
from opdigital.geo import queries
from opdigital.geo.views import bp
from opdigital.geo.views.drawing import page_map, tiles
from opdigital.regions.queries import all_regions
from opdigital.web import page_or_404
from opdigital.works import catalogue

# The list is the works blueprint's page: linked by its address, as no blueprint imports another.
LIST_PATH = "/obras"


@bp.get("/obras/mapa")
def works_map():
    """`?regiao=`, `?situacao=` (execution status), `?atrasadas=` (true or false), `?edicao=`
    (a year) and `?tipo=` (the kind of cycle) filter the works, as on the list."""
    chosen = page_or_404(catalogue.read_filter, request.args, catalogue.PAGE_NAMES)
    items = queries.work_items(chosen, today_in_city())
    names = labels()
    args = catalogue.filter_args(chosen, catalogue.PAGE_NAMES)
    drawn = page_map(
        "works-map-drawing",
        _("Map of the works of the participatory budget"),
        items,
        queries.regions_with_outline(chosen.region),
    )
    return render_template(
        "maps/works.html",
        chosen=chosen,
        regions=all_regions(),
        executions=[(s, names["execution"][s]) for s in catalogue.STATUSES],
        lateness=[("true", _("Late only")), ("false", _("Not late"))],
        late="" if chosen.late is None else ("true" if chosen.late else "false"),
        editions=[(year, year) for year in catalogue.editions()],
        kinds=[(k.value, names["kind"][k.value]) for k in CycleKind],
        items=items,
        map=drawn,
        tiles=tiles(),
        list_url=f"{LIST_PATH}?{urlencode(args)}" if args else LIST_PATH,
    )
