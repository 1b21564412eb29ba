"""GeoJSON API: the regions' outlines, a cycle's located proposals and every located work,
valid GeoJSON (RFC 7946 schema, [longitude, latitude]) and valid against openapi.json; filters;
drafts never public."""

from __future__ import annotations

from datetime import date

import pytest

from opdigital.cycles.models import CycleKind
from opdigital.extensions import db
from opdigital.proposals.models import ExecutionStatus, ProposalStatus
from opdigital.works.models import WorkMilestone
from tests.support import factories
from tests.support.api import SPEC, all_keys, assert_error, assert_matches_spec
from tests.support.geojson_schema import assert_geojson
from tests.support.places import EAST, INSIDE_EAST, INSIDE_WEST, ON_THE_BORDER, WEST, region_with

GEOJSON = "application/geo+json"
TODAY = date(2026, 6, 1)
SECRET = "segredo@example.org"


@pytest.fixture
def places(app_ctx, time_machine):
    """Two regions with outlines (one without), a published cycle, a monitored past edition and
    a draft, with located and unlocated proposals and works."""
    time_machine.move_to(date(2026, 6, 1), tick=False)
    west = region_with(WEST, slug="barreiro", name="Barreiro")
    east = region_with(EAST, slug="centro-sul", name="Centro-Sul")
    bare = region_with(None, slug="leste", name="Leste")
    published = factories.cycle(slug="op-2026", state="published", edition=2026)
    past = factories.cycle(slug="op-2024", state="monitoring", edition=2024)
    regional = factories.cycle(
        slug="opr-2025", state="monitoring", edition=2025, kind=CycleKind.OP_REGIONAL.value
    )
    draft = factories.cycle(slug="op-2027", state="draft", edition=2027)

    def located(cycle, code, region, point, **kw):
        latitude, longitude = point if point else (None, None)
        return factories.proposal(
            cycle,
            code=code,
            region=region,
            latitude=latitude,
            longitude=longitude,
            contact=SECRET,
            **kw,
        )

    located(published, "OPD2026-0001", west, INSIDE_WEST, status="selected", place="Praça A")
    located(published, "OPD2026-0002", east, INSIDE_EAST, status="not_selected")
    located(published, "OPD2026-0003", east, None, status="selected")  # not placed
    # A published cycle's selected works.
    done = located(
        past,
        "OPD2024-0001",
        west,
        INSIDE_WEST,
        status="selected",
        execution_status="done",
        department="Secretaria de Obras",
        committed_cents=1_100_000_00,
        spent_cents=900_000_00,
        estimated_cost_cents=1_000_000_00,
    )
    late = located(
        past, "OPD2024-0002", east, ON_THE_BORDER, status="selected", execution_status="in_works"
    )
    located(past, "OPD2024-0003", east, INSIDE_EAST, status="not_selected")
    located(regional, "OPR2025-0001", east, INSIDE_EAST, status="selected")
    located(draft, "OPD2027-0001", west, INSIDE_WEST, status="selected")  # never public
    db.session.add_all(
        [
            WorkMilestone(
                proposal=late,
                title="Licitação",
                planned_on=date(2025, 1, 1),
                done_on=date(2025, 2, 1),
                weight=1,
            ),
            WorkMilestone(proposal=late, title="Obra", planned_on=date(2026, 1, 1), weight=3),
            WorkMilestone(
                proposal=done, title="Tudo", planned_on=date(2025, 1, 1), done_on=date(2025, 6, 1)
            ),
        ]
    )
    db.session.commit()
    return {"west": west, "east": east, "bare": bare}


def _get(client, url: str, template: str):
    response = client.get(url)
    assert response.mimetype == GEOJSON, response.get_data(as_text=True)
    assert_matches_spec(response, template, "get", 200)
    document = response.get_json(force=True)
    assert_geojson(document)
    return document


def _codes(document) -> list[str]:
    return [f["properties"]["code"] for f in document["features"]]


# --- regions --------------------------------------------------------------------------------


def test_regions_geojson_has_the_outlines(client, places):
    document = _get(client, "/api/v1/regions.geojson", "/api/v1/regions.geojson")
    assert [f["id"] for f in document["features"]] == ["barreiro", "centro-sul"]  # not Leste
    barreiro = document["features"][0]
    assert barreiro["geometry"]["type"] == "Polygon"
    assert barreiro["geometry"]["coordinates"][0][0] == [WEST[0], WEST[1]]  # [lon, lat]
    assert barreiro["properties"] == {
        "slug": "barreiro",
        "name": "Barreiro",
        "source": "test squares",
        "approximate": False,
    }


def test_regions_geojson_with_no_outline_is_an_empty_collection(client, app_ctx):
    region_with(None)
    document = _get(client, "/api/v1/regions.geojson", "/api/v1/regions.geojson")
    assert document == {"type": "FeatureCollection", "features": []}


# --- a cycle's proposals --------------------------------------------------------------------

PROPOSALS = "/api/v1/cycles/{slug}/proposals.geojson"


def test_a_cycles_located_proposals(client, places):
    document = _get(client, "/api/v1/cycles/op-2026/proposals.geojson", PROPOSALS)
    assert _codes(document) == ["OPD2026-0001", "OPD2026-0002"]  # 0003 has no location
    first = document["features"][0]
    assert first["id"] == "OPD2026-0001"
    latitude, longitude = INSIDE_WEST
    assert first["geometry"] == {"type": "Point", "coordinates": [longitude, latitude]}
    assert first["properties"]["region"] == "barreiro"
    assert first["properties"]["place"] == "Praça A"
    assert first["properties"]["url"] == "http://localhost/propostas/OPD2026-0001"
    assert SECRET not in str(document) and "contact" not in all_keys(document)


def test_proposal_filters(client, places):
    by_region = _get(
        client, "/api/v1/cycles/op-2026/proposals.geojson?region=centro-sul", PROPOSALS
    )
    assert _codes(by_region) == ["OPD2026-0002"]
    by_status = _get(client, "/api/v1/cycles/op-2026/proposals.geojson?status=selected", PROPOSALS)
    assert _codes(by_status) == ["OPD2026-0001"]
    empty = _get(client, "/api/v1/cycles/op-2026/proposals.geojson?region=leste", PROPOSALS)
    assert empty["features"] == []


def test_proposal_filter_errors_and_drafts(client, places):
    response = client.get("/api/v1/cycles/op-2026/proposals.geojson?status=built")
    assert_matches_spec(response, PROPOSALS, "get", 400)
    assert_error(response, 400, "invalid_status")
    response = client.get("/api/v1/cycles/op-2026/proposals.geojson?region=atlantida")
    assert_matches_spec(response, PROPOSALS, "get", 404)
    for slug in ("op-2027", "nao-existe"):  # a draft answers as an unknown cycle
        response = client.get(f"/api/v1/cycles/{slug}/proposals.geojson")
        assert_matches_spec(response, PROPOSALS, "get", 404)
        assert_error(response, 404, "cycle_not_found")


# --- works ----------------------------------------------------------------------------------

WORKS = "/api/v1/works.geojson"


def test_every_located_work_of_every_public_cycle(client, places):
    document = _get(client, WORKS, WORKS)
    # Selected and located, in public cycles whose result is known; latest edition first.
    assert _codes(document) == ["OPD2026-0001", "OPR2025-0001", "OPD2024-0001", "OPD2024-0002"]
    assert "OPD2027-0001" not in str(document)  # the draft's
    assert SECRET not in str(document)


def test_work_properties_carry_progress_and_money(client, places):
    document = _get(client, WORKS, WORKS)
    works = {f["id"]: f for f in document["features"]}
    late = works["OPD2024-0002"]
    assert late["geometry"]["coordinates"] == [ON_THE_BORDER[1], ON_THE_BORDER[0]]
    assert {
        key: late["properties"][key]
        for key in ("percent_done", "late", "milestones_done", "milestones_total", "next_due")
    } == {
        "percent_done": 25,  # 1 of 4 weight units done
        "late": True,  # "Obra" was due on 2026-01-01
        "milestones_done": 1,
        "milestones_total": 2,
        "next_due": "2026-01-01",
    }
    done = works["OPD2024-0001"]["properties"]
    assert done["execution_status"] == "done" and done["percent_done"] == 100
    assert done["department"] == "Secretaria de Obras"
    assert (done["cost_cents"], done["committed_cents"], done["spent_cents"]) == (
        1_000_000_00,
        1_100_000_00,
        900_000_00,
    )
    assert (done["committed_percent"], done["spent_percent"], done["over_budget"]) == (
        110,
        90,
        True,
    )
    fresh = works["OPR2025-0001"]["properties"]
    assert fresh["execution_status"] == "not_started"  # no news yet
    assert fresh["committed_cents"] is None and fresh["committed_percent"] is None
    assert fresh["cycle_kind"] == "op-regional" and fresh["edition"] == 2025


@pytest.mark.parametrize(
    ("query", "codes"),
    [
        ("region=barreiro", ["OPD2026-0001", "OPD2024-0001"]),
        ("execution_status=in_works", ["OPD2024-0002"]),
        ("edition=2024", ["OPD2024-0001", "OPD2024-0002"]),
        ("kind=op-regional", ["OPR2025-0001"]),
        ("late=true", ["OPD2024-0002"]),
        ("region=centro-sul&edition=2024", ["OPD2024-0002"]),
        ("region=leste", []),
    ],
)
def test_work_filters(client, places, query, codes):
    assert _codes(_get(client, f"{WORKS}?{query}", WORKS)) == codes


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ("execution_status=built", 400, "invalid_status"),
        ("edition=twenty", 400, "invalid_edition"),
        ("kind=op-mundial", 400, "invalid_kind"),
        ("region=atlantida", 404, "region_not_found"),
    ],
)
def test_work_filter_errors(client, places, query, status, code):
    response = client.get(f"{WORKS}?{query}")
    assert_matches_spec(response, WORKS, "get", status)
    assert_error(response, status, code)


# --- the document ---------------------------------------------------------------------------


def test_the_document_lists_the_codes_enums():
    schemas = SPEC["components"]["schemas"]
    proposal = schemas["ProposalFeatureProperties"]["properties"]
    assert proposal["status"]["enum"] == [s.value for s in ProposalStatus]
    assert proposal["execution_status"]["enum"] == [*(s.value for s in ExecutionStatus), None]
    work = schemas["WorkFeatureProperties"]["properties"]
    assert work["execution_status"]["enum"] == [s.value for s in ExecutionStatus]
    assert work["cycle_kind"]["enum"] == [k.value for k in CycleKind]
    position = schemas["GeoPosition"]["prefixItems"]
    assert (position[0]["maximum"], position[1]["maximum"]) == (180, 90)  # longitude first
