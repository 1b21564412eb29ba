"""The dashboard, cycle creation and editing, and the state button of the control page."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from opdigital.clock import CITY_TZ
from opdigital.cycles.models import Cycle, Event
from opdigital.cycles.phase_templates import TEMPLATES
from opdigital.cycles.states import CycleState, next_state
from opdigital.extensions import db
from tests.support import factories
from tests.support.coordination import (
    audit_count,
    cycle_form,
    event_form,
    phase_form,
    post,
    text,
    world,
)


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


# --- a published cycle's schedule is history ------------------------------------------------


def _published_schedule() -> SimpleNamespace:
    """A published cycle: its proposals phase and first assembly are over, monitoring ahead."""
    now = datetime.now(UTC)
    region = factories.region()
    cycle = factories.cycle(
        slug="op-2025",
        title="OP Digital 2025",
        state="published",
        phases=[
            ("proposals", now - timedelta(days=90), now - timedelta(days=60)),
            ("voting", now - timedelta(days=30), now - timedelta(days=20)),
            ("monitoring", now + timedelta(days=10), now + timedelta(days=400)),
        ],
    )
    past = factories.event(cycle, title="Assembleia de abertura", starts_at=now - timedelta(80))
    ahead = factories.event(cycle, title="Reunião da Comforça", starts_at=now + timedelta(30))
    return SimpleNamespace(
        slug=cycle.slug,
        cycle_id=cycle.id,
        region_id=region.id,
        past_phase=cycle.phases[0].id,
        voting_phase=cycle.phases[1].id,
        future_phase=cycle.phases[2].id,
        past_event=past.id,
        future_event=ahead.id,
    )


def _local(moment: datetime) -> str:
    return moment.astimezone(CITY_TZ).strftime("%Y-%m-%dT%H:%M")


FROZEN_MESSAGE = "it is part of the cycle's history and can no longer be changed or deleted"


def test_past_phases_and_events_of_a_published_cycle_cannot_be_deleted(app, client, coordinator):
    s = _published_schedule()
    for url in (f"/staff/phases/{s.past_phase}/delete", f"/staff/events/{s.past_event}/delete"):
        response = post(app, client, url)
        assert response.status_code == 409, url
        assert FROZEN_MESSAGE in text(response)
    response = post(app, client, f"/staff/phases/{s.voting_phase}/delete")
    assert response.status_code == 409
    assert "The vote has opened with this voting phase" in text(response)
    db.session.expire_all()
    cycle = db.session.get(Cycle, s.cycle_id)
    assert len(cycle.phases) == 3 and len(cycle.events) == 2
    assert audit_count("phase.delete") == audit_count("event.delete") == 0


def test_past_phases_and_events_of_a_published_cycle_cannot_be_edited(app, client, coordinator):
    s = _published_schedule()
    for url in (f"/staff/phases/{s.past_phase}/edit", f"/staff/events/{s.past_event}/edit"):
        assert client.get(url).status_code == 409, url
    response = post(app, client, f"/staff/phases/{s.past_phase}/edit", phase_form(name="Outra"))
    assert response.status_code == 409
    assert FROZEN_MESSAGE in text(response)
    assert db.session.get(Cycle, s.cycle_id).phases[0].name == "Proposals"
    assert audit_count("phase.update") == 0


def test_the_cycle_page_offers_changes_only_for_what_is_ahead(app, client, coordinator):
    s = _published_schedule()
    page = client.get(f"/staff/cycles/{s.slug}").get_data(as_text=True)
    assert f"/staff/phases/{s.past_phase}/edit" not in page
    assert f"/staff/phases/{s.voting_phase}/delete" not in page
    assert f"/staff/events/{s.past_event}/delete" not in page
    assert f"/staff/phases/{s.future_phase}/edit" in page
    assert f"/staff/events/{s.future_event}/delete" in page
    assert "Fixed: part of the record" in page
    assert "This cycle is public" in text(client.get(f"/staff/cycles/{s.slug}"))


def test_future_meetings_may_be_added_moved_and_removed_after_publication(app, client, coordinator):
    s = _published_schedule()
    start = datetime.now(UTC) + timedelta(days=45)
    data = event_form(
        s,
        kind="other",
        title="Reunião extraordinária da Comforça",
        starts_at=_local(start),
        ends_at=_local(start + timedelta(hours=2)),
    )
    assert post(app, client, f"/staff/cycles/{s.slug}/events/new", data).status_code == 302
    moved = data | {"starts_at": _local(start + timedelta(days=2))}
    moved["ends_at"] = _local(start + timedelta(days=2, hours=2))
    assert post(app, client, f"/staff/events/{s.future_event}/edit", moved).status_code == 302
    assert post(app, client, f"/staff/events/{s.future_event}/delete").status_code == 302
    # A meeting said to have happened yesterday is not added to the record after the fact.
    yesterday = datetime.now(UTC) - timedelta(days=1)
    back_dated = data | {
        "starts_at": _local(yesterday),
        "ends_at": _local(yesterday + timedelta(hours=2)),
    }
    response = post(app, client, f"/staff/cycles/{s.slug}/events/new", back_dated)
    assert response.status_code == 409
    assert "only phases and events that start in the future" in text(response)
    db.session.expire_all()
    titles = [e.title for e in db.session.get(Cycle, s.cycle_id).events]
    assert titles == ["Assembleia de abertura", "Reunião extraordinária da Comforça"]
