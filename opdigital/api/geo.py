"""GeoJSON (RFC 7946, `application/geo+json`): the regions' outlines, a public cycle's located
proposals, and every located work with its progress and money.

Coordinates are [longitude, latitude] (WGS 84). Things without a location are left out, as are
drafts (a draft cycle answers 404 like an unknown one). The features are built by
geo/features.py, the works selected by works/catalogue.py with the same filters as
`/api/v1/works`, so the map, the list and the downloads agree.
"""

from __future__ import annotations

import json

from flask import Response, request, url_for
from flask_babel import gettext as _

from opdigital.api import bp
from opdigital.clock import today_in_city
from opdigital.cycles.queries import public_cycle
from opdigital.errors import DomainError
from opdigital.geo.features import (
    feature_collection,
    proposal_feature,
    region_feature,
    work_feature,
)
from opdigital.proposals.models import ProposalStatus
from opdigital.proposals.queries import public_proposals
from opdigital.regions.queries import all_regions, region_by_slug
from opdigital.works import catalogue

GEOJSON = "application/geo+json"


def _geojson(collection: dict) -> Response:
    body = json.dumps(collection, ensure_ascii=False, separators=(",", ":"))
    return Response(body, mimetype=GEOJSON)


def _page_url(code: str) -> str:
    return url_for("public.proposal", code=code, _external=True)


def _proposal_status() -> str | None:
    status = request.args.get("status", "").strip()
    if status and status not in {s.value for s in ProposalStatus}:
        raise DomainError(
            _("Unknown proposal status %(status)s.", status=status), code="invalid_status"
        )
    return status or None


@bp.get("/regions.geojson")
def regions_geojson():
    """Every region with a boundary, by name; each says where its outline comes from and
    whether it is approximate."""
    return _geojson(feature_collection(region_feature(r) for r in all_regions()))


@bp.get("/cycles/<slug>/proposals.geojson")
def cycle_proposals_geojson(slug: str):
    cycle = public_cycle(slug)
    region = region_by_slug(request.args.get("region", "").strip())
    proposals = public_proposals(cycle, region=region, status=_proposal_status())
    return _geojson(
        feature_collection(proposal_feature(p, {"url": _page_url(p.code)}) for p in proposals)
    )


@bp.get("/works.geojson")
def works_geojson():
    chosen = catalogue.read_filter(request.args, catalogue.API_NAMES)
    works = catalogue.find_works(chosen, today_in_city())
    return _geojson(
        feature_collection(
            work_feature(
                w.proposal,
                w.progress,
                w.money,
                {
                    "execution_status": w.status,
                    # An OPCA work belongs to its school's region.
                    "region": w.region.slug if w.region else None,
                    "url": _page_url(w.proposal.code),
                },
            )
            for w in works
        )
    )
