"""The dashboard, cycle creation and editing, and the state button of the control page."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from opdigital.cycles.models import Cycle, Event
from opdigital.cycles.phase_templates import TEMPLATES
from opdigital.cycles.states import CycleState, next_state
from opdigital.extensions import db
from tests import factories
from tests.test_coordination_support import (
    audit_count,
    cycle_form,
    event_form,
    phase_form,
    post,
    sign_in,
    text,
    world,
)


@pytest.fixture
def coordinator(client, app_ctx):
    user = factories.user("coordinator")
    sign_in(client, user)
    return user


def _state(slug: str) -> str:
    db.session.expire_all()
    return db.session.scalar(sa.select(Cycle.state).where(Cycle.slug == slug))


def test_dashboard_lists_every_cycle_with_proposal_counts(client, coordinator):
    w = world()
    cycle = db.session.get(Cycle, w.cycle_id)
    factories.proposal(cycle, status="accepted")
    factories.proposal(cycle, status="accepted")
    page = text(client.get("/staff/"))
    assert "OP Digital 2026" in page and "OP Digital 2025" in page
    assert "Draft" in page and "Tallied" in page  # drafts are listed too
    assert "Submitted: 1" in page
    assert "Accepted for the ballot: 2" in page
    assert "Selected: 1" in page and "On the ballot: 1" in page
    assert 'href="/staff/cycles/new"' in client.get("/staff/").get_data(as_text=True)


@pytest.mark.parametrize("kind", ["op-digital", "op-regional", "opca"])
def test_create_cycle_uses_the_template_of_its_kind(app, client, coordinator, kind):
    response = post(app, client, "/staff/cycles/new", cycle_form(kind=kind, slug=f"{kind}-2027"))
    assert response.status_code == 302
    cycle = db.session.scalar(sa.select(Cycle).where(Cycle.slug == f"{kind}-2027"))
    assert cycle.kind == kind
    assert cycle.state == "draft"
    assert [(p.kind, p.name) for p in cycle.phases] == [(t.kind, t.name) for t in TEMPLATES[kind]]
    # The template counts days from the start date, at midnight in Belo Horizonte.
    assert cycle.phases[0].starts_at.isoformat() == "2027-02-01T03:00:00+00:00"
    assert audit_count("cycle.create") == 1


def test_edit_form_is_prefilled_and_keeps_the_kind(app, client, coordinator):
    w = world()
    page = client.get(f"/staff/cycles/{w.slug}/edit").get_data(as_text=True)
    assert 'value="OP Digital 2026"' in page
    assert 'value="50.000.000,00"' in page
    response = post(
        app,
        client,
        f"/staff/cycles/{w.slug}/edit",
        {
            "slug": "op-digital-2026",
            "kind": "opca",  # not a field of the edit form: ignored
            "title": "OP Digital 2026",
            "edition": "2026",
            "total_budget": "55.000.000,00",
            "description": "",
            "min_voter_age": "16",
            "max_voter_age": "",
        },
    )
    assert response.headers["Location"] == "/staff/cycles/op-digital-2026"
    cycle = db.session.get(Cycle, w.cycle_id)
    db.session.refresh(cycle)
    assert (cycle.slug, cycle.kind, cycle.total_budget_cents) == (
        "op-digital-2026",
        "op-digital",
        55_000_000_00,
    )


def test_after_the_freeze_the_budget_cannot_change_but_the_title_can(app, client, coordinator):
    cycle = factories.cycle(slug="op-2024", title="OP 2024", edition=2024, state="voting")
    data = {
        "slug": "op-2024",
        "title": "OP 2024",
        "edition": "2024",
        "total_budget": "1,00",
        "description": "",
        "min_voter_age": "",
        "max_voter_age": "",
    }
    response = post(app, client, "/staff/cycles/op-2024/edit", data)
    assert response.status_code == 409
    assert "The ballot of this cycle is frozen and can no longer change." in text(response)
    assert "total budget" in text(client.get("/staff/cycles/op-2024/edit"))
    db.session.refresh(cycle)
    assert cycle.total_budget_cents == 50_000_000_00
    response = post(
        app,
        client,
        "/staff/cycles/op-2024/edit",
        data | {"total_budget": "50.000.000,00", "title": "OP 2024: resultado"},
    )
    assert response.status_code == 302
    db.session.refresh(cycle)
    assert cycle.title == "OP 2024: resultado"


@pytest.mark.parametrize("state", [s.value for s in CycleState])
def test_control_page_offers_only_the_next_state(client, coordinator, state):
    factories.cycle(slug="c", state=state)
    body = client.get("/staff/cycles/c").get_data(as_text=True)
    targets = re.findall(r'name="target"[^>]*value="([^"]*)"', body)
    following = next_state(CycleState(state))
    if following is None:
        assert targets == []
        assert "This is the last state of a cycle" in text(client.get("/staff/cycles/c"))
    else:
        assert targets == [following.value]


def test_an_illegal_transition_posted_by_hand_is_refused(app, client, coordinator):
    factories.cycle(slug="c", state="draft")
    response = post(app, client, "/staff/cycles/c/transition", {"target": "published"})
    assert response.status_code == 409
    assert "This cycle cannot move to that state from its current state." in text(response)
    assert _state("c") == "draft"
    assert audit_count() == 0


def test_a_second_click_on_a_stale_page_is_refused(app, client, coordinator):
    factories.cycle(slug="c", state="draft")
    assert post(app, client, "/staff/cycles/c/transition", {"target": "open_for_proposals"})
    response = post(app, client, "/staff/cycles/c/transition", {"target": "open_for_proposals"})
    assert response.status_code == 409
    assert _state("c") == "open_for_proposals"
    assert audit_count("cycle.transition") == 1


def test_freezing_an_empty_ballot_is_refused_with_a_message(app, client, coordinator):
    cycle = factories.cycle(slug="c", state="under_review")
    factories.proposal(cycle, status="rejected")
    response = post(app, client, "/staff/cycles/c/transition", {"target": "ballot_frozen"})
    assert response.status_code == 409
    assert "The ballot needs at least one accepted proposal." in text(response)
    assert _state("c") == "under_review"


def test_successful_transition_shows_the_new_state(app, client, coordinator):
    factories.cycle(slug="c", state="draft")
    response = post(
        app,
        client,
        "/staff/cycles/c/transition",
        {"target": "open_for_proposals"},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "The cycle is now: Open for proposals." in text(response)


def test_new_phase_without_position_goes_last(app, client, coordinator):
    w = world()
    response = post(app, client, f"/staff/cycles/{w.slug}/phases/new", phase_form(position=""))
    assert response.status_code == 302
    cycle = db.session.get(Cycle, w.cycle_id)
    db.session.refresh(cycle)
    assert [p.name for p in cycle.phases][-1] == "Análise técnica"
    assert cycle.phases[-1].position == 1


def test_school_select_only_for_opca(app, client, coordinator):
    w = world()
    opca = factories.cycle(slug="opca-2026", kind="opca")
    assert 'name="school_id"' not in client.get(f"/staff/cycles/{w.slug}/events/new").get_data(
        as_text=True
    )
    page = client.get("/staff/cycles/opca-2026/events/new").get_data(as_text=True)
    assert 'name="school_id"' in page
    response = post(
        app,
        client,
        "/staff/cycles/opca-2026/events/new",
        event_form(w, kind="school_assembly", school_id=str(w.school_id)),
    )
    assert response.status_code == 302
    event = db.session.scalar(sa.select(Event).where(Event.cycle_id == opca.id))
    assert (event.kind, event.school_id, event.region_id) == (
        "school_assembly",
        w.school_id,
        w.region_id,
    )
    # The edit form comes back with the school chosen.
    page = client.get(f"/staff/events/{event.id}/edit").get_data(as_text=True)
    assert re.search(
        rf'<option selected value="{w.school_id}"|value="{w.school_id}" selected', page
    )


def test_budget_page_explains_the_formula_and_the_remainder(app, client, coordinator):
    w = world()
    post(
        app,
        client,
        f"/staff/cycles/{w.slug}/budgets",
        {"action": "manual", f"region_{w.region_id}": "20.000.000,00"},
    )
    page = text(client.get(f"/staff/cycles/{w.slug}/budgets"))
    assert "divided equally among all the regions" in page
    assert "population multiplied by its need index" in page
    assert "Not allocated: R$30,000,000.00" in page
    assert "by hand" in page


def test_budget_page_after_the_freeze_says_so(app, client, coordinator):
    cycle = factories.cycle(slug="c", state="ballot_frozen")
    factories.region()
    response = client.get("/staff/cycles/c/budgets")
    assert response.status_code == 200
    assert "frozen" in text(response)
    assert cycle.state == "ballot_frozen"
