"""JSON schedule: phases and events, filtered by region or school exactly as build_schedule does."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.support.api import assert_matches_spec, build_world

PATH = "/api/v1/cycles/{slug}/schedule"


@pytest.fixture
def world(app_ctx):
    return build_world()


def _titles(response) -> list[str]:
    return [e["title"] for e in response.get_json()["events"]]


def test_schedule_has_every_phase_and_event(client, world):
    response = client.get("/api/v1/cycles/op-2026/schedule")
    assert_matches_spec(response, PATH, "get", 200)
    body = response.get_json()
    assert body["cycle"] == "op-2026"
    assert body["timezone"] == "America/Sao_Paulo"
    assert [p["kind"] for p in body["phases"]] == ["proposals", "review", "voting"]
    assert _titles(response) == [
        "Abertura",
        "Assembleia Norte",
        "Assembleia Barreiro",
        "Assembleia escolar",
    ]
    school_event = body["events"][3]
    assert school_event["id"] == world.at_school.id
    assert school_event["kind"] == "school_assembly"
    assert school_event["school"] == "em-norte"
    assert school_event["region"] == "norte"  # the school's region
    assert school_event["starts_at"] == "2026-09-05T00:15:00-03:00"
    assert datetime.fromisoformat(school_event["ends_at"]) == world.at_school.ends_at
    assert body["events"][0]["region"] is None
    assert response.headers["Cache-Control"] == "public, max-age=60"


def test_region_filter_keeps_city_wide_and_drops_other_regions(client, world):
    response = client.get("/api/v1/cycles/op-2026/schedule?region=barreiro")
    assert_matches_spec(response, PATH, "get", 200)
    assert _titles(response) == ["Abertura", "Assembleia Barreiro"]
    north = client.get("/api/v1/cycles/op-2026/schedule?region=norte")
    assert _titles(north) == ["Abertura", "Assembleia Norte", "Assembleia escolar"]
    # Phases concern everyone: a filter never removes them.
    assert len(north.get_json()["phases"]) == 3


def test_school_filter(client, world):
    response = client.get("/api/v1/cycles/op-2026/schedule?school=em-norte")
    assert_matches_spec(response, PATH, "get", 200)
    assert _titles(response) == ["Abertura", "Assembleia Norte", "Assembleia escolar"]


def test_empty_filters_mean_no_filter(client, world):
    response = client.get("/api/v1/cycles/op-2026/schedule?region=&school=")
    assert len(_titles(response)) == 4


@pytest.mark.parametrize(
    ("query", "code"),
    [("region=atlantida", "region_not_found"), ("school=nada", "school_not_found")],
)
def test_unknown_filter_is_404(client, world, query, code):
    response = client.get(f"/api/v1/cycles/op-2026/schedule?{query}")
    assert_matches_spec(response, PATH, "get", 404)
    assert response.get_json()["error"]["code"] == code


def test_schedule_endpoint_names_are_stable(app):
    with app.test_request_context():
        from flask import url_for

        assert url_for("api.cycle_schedule", slug="x") == "/api/v1/cycles/x/schedule"
        assert url_for("api.cycle_schedule_ics", slug="x") == "/api/v1/cycles/x/schedule.ics"
