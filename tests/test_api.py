"""JSON API v1: cycles, proposals, regions and errors, each response checked against the spec."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from opdigital.clock import CITY_TZ
from opdigital.extensions import db
from tests.support import factories
from tests.support.api import (
    SECRET_CONTACT,
    T0,
    all_keys,
    assert_error,
    assert_matches_spec,
    build_world,
)

DURING_REVIEW = T0 + timedelta(days=45)


@pytest.fixture
def world(app_ctx, time_machine):
    time_machine.move_to(DURING_REVIEW, tick=False)
    return build_world()


def test_cycles_lists_public_cycles_with_phases(client, world):
    factories.cycle(slug="rascunho", state="draft")
    response = client.get("/api/v1/cycles")
    assert_matches_spec(response, "/api/v1/cycles", "get", 200)
    cycles = response.get_json()["cycles"]
    assert [c["slug"] for c in cycles] == ["op-2026"]
    cycle = cycles[0]
    assert cycle["kind"] == "op-digital"
    assert cycle["state"] == "voting"
    assert cycle["total_budget_cents"] == world.cycle.total_budget_cents
    assert [(p["kind"], p["position"], p["status"]) for p in cycle["phases"]] == [
        ("proposals", 0, "past"),
        ("review", 1, "current"),
        ("voting", 2, "upcoming"),
    ]
    first = cycle["phases"][0]
    # ISO 8601 with the city's offset, and the same instant as stored.
    assert first["starts_at"] == "2026-09-01T00:00:00-03:00"
    assert datetime.fromisoformat(first["ends_at"]) == world.cycle.phases[0].ends_at


def test_cycles_empty_list(client, app_ctx):
    response = client.get("/api/v1/cycles")
    assert_matches_spec(response, "/api/v1/cycles", "get", 200)
    assert response.get_json() == {"cycles": []}


def test_cycle_detail(client, world):
    response = client.get("/api/v1/cycles/op-2026")
    assert_matches_spec(response, "/api/v1/cycles/{slug}", "get", 200)
    body = response.get_json()
    assert body["description"] == "Votação on-line das obras."
    assert body["region_budgets"] == [
        {"region": "barreiro", "amount_cents": 20_000_000_00},
        {"region": "norte", "amount_cents": 30_000_000_00},
    ]
    assert body["ballot_frozen_at"] is None
    counts = body["proposal_counts"]
    assert counts["accepted"] == 1
    assert counts["rejected"] == 1
    assert counts["submitted"] == 1
    assert counts["on_ballot"] == 0
    assert body["links"] == {
        "self": "http://localhost/api/v1/cycles/op-2026",
        "proposals": "http://localhost/api/v1/cycles/op-2026/proposals",
        "schedule": "http://localhost/api/v1/cycles/op-2026/schedule",
        "schedule_ics": "http://localhost/api/v1/cycles/op-2026/schedule.ics",
    }


def test_cycle_detail_ballot_frozen_at_has_offset(client, world):
    world.cycle.ballot_frozen_at = datetime(2026, 10, 1, 15, 30, tzinfo=CITY_TZ)
    db.session.commit()
    response = client.get("/api/v1/cycles/op-2026")
    assert_matches_spec(response, "/api/v1/cycles/{slug}", "get", 200)
    assert response.get_json()["ballot_frozen_at"] == "2026-10-01T15:30:00-03:00"


def test_proposals(client, world):
    response = client.get("/api/v1/cycles/op-2026/proposals")
    assert_matches_spec(response, "/api/v1/cycles/{slug}/proposals", "get", 200)
    proposals = response.get_json()["proposals"]
    assert [p["code"] for p in proposals] == ["OPD2026-0001", "OPD2026-0002", "OPD2026-0003"]
    accepted, rejected, at_school = proposals
    assert accepted["id"] == world.accepted.id
    assert accepted["region"] == "norte"
    assert accepted["school"] is None
    assert accepted["place"] == "Praça Norte"
    assert accepted["estimated_cost_cents"] == 1_000_000_00
    assert accepted["reviewed_cost_cents"] == 1_200_000_00
    assert accepted["cost_cents"] == 1_200_000_00
    assert accepted["execution_status"] is None
    assert [(h["from_status"], h["to_status"], h["note"]) for h in accepted["history"]] == [
        (None, "accepted", ""),
        ("submitted", "accepted", "Viável."),
    ]
    assert rejected["rejection_reason"] == "Fora da competência municipal."
    assert rejected["cost_cents"] == 1_000_000_00
    assert at_school["school"] == "em-norte"
    assert at_school["region"] is None


def test_proposals_by_region_include_the_regions_schools(client, world):
    response = client.get("/api/v1/cycles/op-2026/proposals?region=norte")
    assert_matches_spec(response, "/api/v1/cycles/{slug}/proposals", "get", 200)
    codes = [p["code"] for p in response.get_json()["proposals"]]
    assert codes == ["OPD2026-0001", "OPD2026-0003"]
    south = client.get("/api/v1/cycles/op-2026/proposals?region=barreiro").get_json()
    assert [p["code"] for p in south["proposals"]] == ["OPD2026-0002"]


def test_proposals_by_status(client, world):
    response = client.get("/api/v1/cycles/op-2026/proposals?status=rejected")
    assert_matches_spec(response, "/api/v1/cycles/{slug}/proposals", "get", 200)
    assert [p["code"] for p in response.get_json()["proposals"]] == ["OPD2026-0002"]
    both = client.get("/api/v1/cycles/op-2026/proposals?status=rejected&region=norte")
    assert both.get_json() == {"proposals": []}
    empty = client.get("/api/v1/cycles/op-2026/proposals?status=&region=")
    assert len(empty.get_json()["proposals"]) == 3


def test_proposals_bad_status_is_400(client, world):
    response = client.get("/api/v1/cycles/op-2026/proposals?status=approved")
    assert_matches_spec(response, "/api/v1/cycles/{slug}/proposals", "get", 400)
    assert response.get_json()["error"]["code"] == "invalid_status"


def test_proposals_unknown_region_is_404(client, world):
    response = client.get("/api/v1/cycles/op-2026/proposals?region=atlantida")
    assert_matches_spec(response, "/api/v1/cycles/{slug}/proposals", "get", 404)
    assert response.get_json()["error"]["code"] == "region_not_found"


def test_regions(client, world):
    response = client.get("/api/v1/regions")
    assert_matches_spec(response, "/api/v1/regions", "get", 200)
    regions = response.get_json()["regions"]
    assert [r["slug"] for r in regions] == ["barreiro", "norte"]
    north = regions[1]
    assert north["population"] == world.north.population
    assert north["need_index"] == 1.0
    assert north["schools"] == [{"slug": "em-norte", "name": "Escola Municipal do Norte"}]
    assert regions[0]["schools"] == []


CYCLE_PATHS = [
    ("/api/v1/cycles/{slug}", ""),
    ("/api/v1/cycles/{slug}/proposals", "/proposals"),
    ("/api/v1/cycles/{slug}/schedule", "/schedule"),
    ("/api/v1/cycles/{slug}/schedule.ics", "/schedule.ics"),
]


@pytest.mark.parametrize(("template", "suffix"), CYCLE_PATHS)
def test_unknown_cycle_is_404_json(client, app_ctx, template, suffix):
    response = client.get(f"/api/v1/cycles/nao-existe{suffix}")
    assert_matches_spec(response, template, "get", 404)
    assert response.get_json()["error"]["code"] == "cycle_not_found"


@pytest.mark.parametrize(("template", "suffix"), CYCLE_PATHS)
def test_draft_cycle_is_404_everywhere(client, world, template, suffix):
    world.cycle.state = "draft"
    db.session.commit()
    response = client.get(f"/api/v1/cycles/op-2026{suffix}")
    assert_matches_spec(response, template, "get", 404)
    assert client.get("/api/v1/cycles").get_json() == {"cycles": []}


@pytest.mark.parametrize(
    "path",
    ["/api/v1/cycles", "/api/v1/cycles/op-2026", "/api/v1/regions", "/api/v1/openapi.json"],
)
def test_wrong_method_is_405_json(client, world, path):
    for method in (client.post, client.put, client.delete):
        response = method(path)
        assert_error(response, 405, "method_not_allowed")
        assert "GET" in response.headers["Allow"]


def test_unknown_route_under_api_is_404_json(client, app_ctx):
    assert_error(client.get("/api/v1/nothing-here"), 404, "not_found")
    assert_error(client.get("/api/v1/cycles/x/y/z"), 404, "not_found")


def test_contact_is_never_in_any_response(client, world):
    paths = [
        "/api/v1/cycles",
        "/api/v1/cycles/op-2026",
        "/api/v1/cycles/op-2026/proposals",
        "/api/v1/cycles/op-2026/proposals?region=norte",
        "/api/v1/cycles/op-2026/schedule",
        "/api/v1/cycles/op-2026/schedule.ics",
        "/api/v1/regions",
    ]
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200
        assert SECRET_CONTACT not in response.get_data(as_text=True), path
        if response.is_json:
            assert "contact" not in all_keys(response.get_json()), path
