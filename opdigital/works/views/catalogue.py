"""The public "Obras do OP" list (`/obras`), its CSV download and its Atom feed.

Filters travel as GET arguments under Portuguese names (regiao, situacao, atrasadas, edicao,
tipo, pagina), so the form works without JavaScript and every selection has its own address.
The feed takes `regiao` only: one feed for the city, one per region.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Response, render_template, request, url_for

from opdigital.clock import today_in_city
from opdigital.cycles.models import CycleKind
from opdigital.regions.queries import all_regions, region_by_slug
from opdigital.works import catalogue, catalogue_csv, feeds
from opdigital.works.views import bp

# Built by other parts of the works (the GeoJSON download in the API, the map page): linked by
# address, as no blueprint may import another's endpoints.
GEOJSON_PATH = "/api/v1/works.geojson"
MAP_PATH = "/obras/mapa"


def _with_query(path: str, args: dict[str, str]) -> str:
    return f"{path}?{urlencode(args)}" if args else path


def _feed_links(flt: catalogue.WorkFilter) -> list[dict]:
    """The city's feed, and the region's when the list shows one region."""
    links = [{"title": None, "href": url_for("works.feed")}]
    if flt.region is not None:
        links.append(
            {"title": flt.region.name, "href": url_for("works.feed", regiao=flt.region.slug)}
        )
    return links


@bp.get("/obras", endpoint="catalogue")
def catalogue_page():
    """Every work chosen in every edition, filtered, a page at a time, with the summary."""
    flt = catalogue.read_filter(request.args, catalogue.PAGE_NAMES)
    number = catalogue.parse_positive(request.args.get("pagina"), 1)
    found = catalogue.build_catalogue(flt, today_in_city())
    page = catalogue.page_of(found.works, number)
    args = catalogue.filter_args(flt, catalogue.PAGE_NAMES)
    return render_template(
        "works/catalogue.html",
        flt=flt,
        found=found,
        page=page,
        args=args,
        regions=all_regions(),
        statuses=catalogue.STATUSES,
        kinds=[k.value for k in CycleKind],
        editions=catalogue.editions(),
        feeds=_feed_links(flt),
        downloads={
            "csv": url_for("works.catalogue_csv", **args),
            "json": url_for("api.works", **catalogue.filter_args(flt, catalogue.API_NAMES)),
            "geojson": _with_query(GEOJSON_PATH, catalogue.filter_args(flt, catalogue.API_NAMES)),
            "map": _with_query(MAP_PATH, args),
        },
    )


@bp.get("/obras.csv", endpoint="catalogue_csv")
def catalogue_csv_download():
    """The works of the same filters as CSV (UTF-8 with a BOM, so spreadsheets read accents)."""
    flt = catalogue.read_filter(request.args, catalogue.PAGE_NAMES)
    found = catalogue.build_catalogue(flt, today_in_city())
    response = Response("\ufeff" + catalogue_csv.csv_text(found.works), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = 'attachment; filename="obras-do-op.csv"'
    return response


@bp.get("/obras/feed.atom")
def feed():
    """News of the works' execution, newest first; `?regiao=` for one region's."""
    region = region_by_slug(request.args.get("regiao", "").strip())
    body = feeds.atom_feed(feeds.execution_updates(region), region)
    response = Response(body, mimetype=feeds.MIMETYPE)
    response.headers["Content-Type"] = f"{feeds.MIMETYPE}; charset=utf-8"
    return response
