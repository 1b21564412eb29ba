"""Staff proposal screens: the list, staff entry, review, result and execution details."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from opdigital.cycles.models import Cycle
from opdigital.extensions import db
from opdigital.proposals.models import Proposal
from tests.support import factories
from tests.support.coordination import audit_count, post, proposal_form, text, world


def _proposal(code: str) -> Proposal:
    db.session.expire_all()
    return db.session.scalar(sa.select(Proposal).where(Proposal.code == code))


def test_list_shows_contacts_and_filters_by_status(client, coordinator):
    w = world()
    cycle = db.session.get(Cycle, w.cycle_id)
    factories.proposal(cycle, code="OPD2026-0002", status="rejected", contact="maria@example.org")
    factories.proposal(cycle, code="OPD2026-0003", status="accepted", contact="joao@example.org")
    page = text(client.get(f"/staff/cycles/{w.slug}/proposals"))
    assert "OPD2026-0001" in page and "OPD2026-0002" in page and "OPD2026-0003" in page
    assert "maria@example.org" in page and "joao@example.org" in page
    page = text(client.get(f"/staff/cycles/{w.slug}/proposals?status=rejected"))
    assert "OPD2026-0002" in page
    assert "OPD2026-0001" not in page and "OPD2026-0003" not in page


@pytest.mark.parametrize("origin", ["assembly", "staff", "citizen"])
def test_staff_entry_records_origin_author_and_contact(app, client, coordinator, origin):
    w = world()
    response = post(
        app, client, f"/staff/cycles/{w.slug}/proposals/new", proposal_form(w, origin=origin)
    )
    assert response.status_code == 302
    proposal = _proposal("OPD2026-0002")
    assert response.headers["Location"] == "/staff/proposals/OPD2026-0002"
    assert proposal.origin == origin
    assert proposal.status == "submitted"
    assert proposal.estimated_cost_cents == 1_500_000_00
    assert (proposal.author_name, proposal.contact) == (
        "Assembleia do Barreiro",
        "barreiro@example.org",
    )
    page = text(client.get("/staff/proposals/OPD2026-0002"))
    assert "barreiro@example.org" in page
    assert "Submitted" in page  # the history's first step


def test_start_review_twice_is_refused(app, client, coordinator):
    w = world()
    assert post(app, client, f"/staff/proposals/{w.code}/start-review").status_code == 302
    response = post(app, client, f"/staff/proposals/{w.code}/start-review")
    assert response.status_code == 409
    assert "Only a submitted proposal can go under review." in text(response)
    assert _proposal(w.code).status == "under_review"
    assert audit_count("proposal.status") == 1


def test_a_decision_can_be_revised_before_the_freeze(app, client, coordinator):
    w = world()
    url = f"/staff/proposals/{w.code}/review"
    post(app, client, url, {"technical_opinion": "Viável.", "decision": "accept"})
    page = client.get(url).get_data(as_text=True)
    assert "Viável." in page  # the form comes back with the opinion
    response = post(
        app,
        client,
        url,
        {
            "technical_opinion": "Reavaliado.",
            "decision": "reject",
            "rejection_reason": "Obra já prevista no plano municipal.",
        },
    )
    assert response.status_code == 302
    proposal = _proposal(w.code)
    assert (proposal.status, proposal.rejection_reason) == (
        "rejected",
        "Obra já prevista no plano municipal.",
    )
    assert [h.to_status for h in proposal.history] == ["submitted", "accepted", "rejected"]


def test_result_is_offered_only_when_voting_has_closed(app, client, coordinator):
    cycle = factories.cycle(slug="c", state="voting")
    proposal = factories.proposal(cycle, code="C-1", status="on_ballot")
    assert "Record the result" not in text(client.get("/staff/proposals/C-1"))
    cycle.state = "closed"
    db.session.commit()
    assert "Record the result" in text(client.get("/staff/proposals/C-1"))
    response = post(app, client, "/staff/proposals/C-1/result", {"selected": "no"})
    assert response.status_code == 302
    db.session.refresh(proposal)
    assert (proposal.status, proposal.execution_status) == ("not_selected", None)


def test_result_for_a_proposal_not_on_the_ballot_is_refused(app, client, coordinator):
    cycle = factories.cycle(slug="c", state="closed")
    factories.proposal(cycle, code="C-1", status="rejected")
    response = post(app, client, "/staff/proposals/C-1/result", {"selected": "yes"})
    assert response.status_code == 409
    assert "Only proposals on the ballot have a result." in text(response)
    assert _proposal("C-1").status == "rejected"


def test_execution_pages_only_for_selected_works(client, coordinator):
    w = world()
    response = client.get(f"/staff/proposals/{w.on_ballot_code}/execution")
    assert response.status_code == 409
    assert "Execution is followed only for selected works" in text(response)
    page = text(client.get(f"/staff/proposals/{w.selected_code}"))
    assert "Update the execution status" in page
    assert "Review: accept or reject" not in page  # the ballot is frozen


def test_execution_history_is_shown(app, client, coordinator):
    w = world()
    url = f"/staff/proposals/{w.selected_code}/execution"
    post(app, client, url, {"status": "tendering", "note": "Edital 12/2026 publicado."})
    page = text(client.get(f"/staff/proposals/{w.selected_code}"))
    assert "Execution: Tendering" in page
    assert "Edital 12/2026 publicado." in page
    form = client.get(url).get_data(as_text=True)
    assert '<option selected value="tendering">' in form or 'value="tendering" selected' in form


def test_review_page_refuses_after_the_freeze(app, client, coordinator):
    w = world()
    response = client.get(f"/staff/proposals/{w.on_ballot_code}/review")
    assert response.status_code == 409
    assert "The ballot of this cycle is frozen and can no longer change." in text(response)
    response = client.get(f"/staff/cycles/{w.tallied_slug}/proposals/new")
    assert response.status_code == 409
    assert "frozen" in text(response)
    response = post(app, client, f"/staff/cycles/{w.tallied_slug}/proposals/new", proposal_form(w))
    assert response.status_code == 409
    assert audit_count() == 0
