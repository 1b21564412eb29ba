"""GET /api/v1/works/{work_code}: one work's execution evidence, as the OpenAPI document says."""

from __future__ import annotations

from datetime import timedelta

import pytest

from opdigital.clock import today_in_city
from opdigital.extensions import db
from tests.support import factories
from tests.support import works_evidence as we
from tests.support.api import assert_error, assert_matches_spec

PATH = "/api/v1/works/{work_code}"
TODAY = today_in_city()


def test_a_work_with_everything(client, app_ctx):
    w = we.followed_work(
        department="SUDECAP",
        committed_cents=600_000_00,
        spent_cents=100_000_00,
        latitude=-19.9745,
        longitude=-44.0263,
        place="Praça do Barreiro",
    )
    we.add_milestone(w.work, "Projeto", TODAY - timedelta(days=40), TODAY - timedelta(days=30), 1)
    we.add_milestone(w.work, "Obra", TODAY - timedelta(days=5), None, 3)
    key = we.stored_photo(w.work, alt="A praça antes da obra")
    we.stored_photo(w.work, report=we.report_on(w.work, "pending"))
    approved = we.stored_photo(w.work, report=we.report_on(w.work, "approved"))

    response = client.get(f"/api/v1/works/{w.code}")
    assert_matches_spec(response, PATH, "get", 200)
    body = response.get_json()
    assert (body["code"], body["cycle"], body["region"]) == (w.code, "op-2025", "barreiro")
    assert (body["execution_status"], body["department"]) == ("in_works", "SUDECAP")
    assert body["progress"] == {
        "percent": 25,
        "done": 1,
        "total": 2,
        "late": True,
        "next_due": (TODAY - timedelta(days=5)).isoformat(),
    }
    assert body["money"] == {
        "voted_cents": 1_000_000_00,
        "committed_cents": 600_000_00,
        "spent_cents": 100_000_00,
        "committed_percent": 60,
        "spent_percent": 10,
        "over_budget": False,
    }
    assert [m["title"] for m in body["milestones"]] == ["Projeto", "Obra"]
    assert [m["late"] for m in body["milestones"]] == [False, True]
    # Published photos only: the staff's and the approved report's, not the pending one.
    assert [p["url"] for p in body["photos"]] == [
        f"http://localhost/fotos/{key}.jpg",
        f"http://localhost/fotos/{approved}.jpg",
    ]
    assert [p["source"] for p in body["photos"]] == ["staff", "monitoring_report"]
    photo = body["photos"][0]
    assert (photo["alt_text"], photo["width"], photo["height"]) == (
        "A praça antes da obra",
        120,
        80,
    )
    assert client.get(photo["thumbnail_url"]).status_code == 200
    assert body["location"] == {
        "latitude": -19.9745,
        "longitude": -44.0263,
        "place": "Praça do Barreiro",
    }
    assert body["url"] == f"http://localhost/propostas/{w.code}"


def test_a_new_work_without_evidence(client, app_ctx):
    w = we.followed_work(execution_status="not_started")
    response = client.get(f"/api/v1/works/{w.code}")
    assert_matches_spec(response, PATH, "get", 200)
    body = response.get_json()
    assert body["progress"] == {
        "percent": 0,
        "done": 0,
        "total": 0,
        "late": False,
        "next_due": None,
    }
    assert body["money"]["committed_cents"] is None and body["money"]["committed_percent"] is None
    assert (body["milestones"], body["photos"], body["location"]) == ([], [], None)


@pytest.mark.parametrize("case", ["unknown", "not_selected", "draft", "closed"])
def test_what_is_no_public_work_is_not_found(client, app_ctx, case):
    w = we.followed_work()
    code = {"unknown": "OPD1999-0001"}.get(case, w.code)
    if case == "not_selected":
        w.work.status = "not_selected"
    elif case in ("draft", "closed"):
        w.cycle.state = case  # a result recorded before the tally is not public yet
    db.session.commit()
    response = client.get(f"/api/v1/works/{code}")
    assert_error(response, 404, "work_not_found")
    assert_matches_spec(response, PATH, "get", 404)


def test_a_school_work_of_another_cycle_kind(client, app_ctx):
    region = factories.region(slug="norte", name="Norte")
    cycle = factories.cycle(slug="opca-2025", kind="opca", state="monitoring")
    school = factories.school(region)
    work = factories.proposal(
        cycle, code="OPCA2025-0001", status="selected", execution_status="done", school=school
    )
    response = client.get(f"/api/v1/works/{work.code}")
    assert_matches_spec(response, PATH, "get", 200)
    body = response.get_json()
    assert (body["region"], body["progress"]["percent"]) == ("norte", 100)
