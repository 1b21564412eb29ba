"""Every coordination route: who may use it (302/403/200), CSRF, and unknown objects (404)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from opdigital.audit.models import AuditEntry
from opdigital.extensions import db
from tests.support import factories
from tests.support.client import login_as
from tests.support.coordination import (
    audit_count,
    cycle_form,
    edit_cycle_form,
    event_form,
    phase_form,
    post,
    proposal_form,
    sign_in,
    world,
)

GET_ROUTES = {
    "dashboard": lambda w: "/staff/",
    "new_cycle": lambda w: "/staff/cycles/new",
    "cycle": lambda w: f"/staff/cycles/{w.slug}",
    "edit_cycle": lambda w: f"/staff/cycles/{w.slug}/edit",
    "new_phase": lambda w: f"/staff/cycles/{w.slug}/phases/new",
    "edit_phase": lambda w: f"/staff/phases/{w.phase_id}/edit",
    "new_event": lambda w: f"/staff/cycles/{w.slug}/events/new",
    "edit_event": lambda w: f"/staff/events/{w.event_id}/edit",
    "budgets": lambda w: f"/staff/cycles/{w.slug}/budgets",
    "proposals": lambda w: f"/staff/cycles/{w.slug}/proposals",
    "new_proposal": lambda w: f"/staff/cycles/{w.slug}/proposals/new",
    "proposal": lambda w: f"/staff/proposals/{w.code}",
    "review": lambda w: f"/staff/proposals/{w.code}/review",
    "execution": lambda w: f"/staff/proposals/{w.selected_code}/execution",
    "phone_settings": lambda w: f"/staff/cycles/{w.slug}/phone",
}

# Each POST route with data that succeeds in the world of test_coordination_support.world().
POST_ROUTES = {
    "new_cycle": (lambda w: "/staff/cycles/new", lambda w: cycle_form()),
    "edit_cycle": (lambda w: f"/staff/cycles/{w.slug}/edit", lambda w: edit_cycle_form(w.slug)),
    "transition": (
        lambda w: f"/staff/cycles/{w.slug}/transition",
        lambda w: {"target": "open_for_proposals"},
    ),
    "new_phase": (lambda w: f"/staff/cycles/{w.slug}/phases/new", lambda w: phase_form()),
    "edit_phase": (lambda w: f"/staff/phases/{w.phase_id}/edit", lambda w: phase_form()),
    "delete_phase": (lambda w: f"/staff/phases/{w.phase_id}/delete", lambda w: {}),
    "new_event": (lambda w: f"/staff/cycles/{w.slug}/events/new", lambda w: event_form(w)),
    "edit_event": (lambda w: f"/staff/events/{w.event_id}/edit", lambda w: event_form(w)),
    "delete_event": (lambda w: f"/staff/events/{w.event_id}/delete", lambda w: {}),
    "budgets_manual": (
        lambda w: f"/staff/cycles/{w.slug}/budgets",
        lambda w: {"action": "manual", f"region_{w.region_id}": "1.000.000,00"},
    ),
    "budgets_formula": (
        lambda w: f"/staff/cycles/{w.slug}/budgets",
        lambda w: {"action": "formula", "equal_share_percent": "50"},
    ),
    "new_proposal": (
        lambda w: f"/staff/cycles/{w.slug}/proposals/new",
        lambda w: proposal_form(w),
    ),
    "start_review": (lambda w: f"/staff/proposals/{w.code}/start-review", lambda w: {}),
    "review": (
        lambda w: f"/staff/proposals/{w.code}/review",
        lambda w: {"technical_opinion": "Viável.", "decision": "accept", "reviewed_cost": ""},
    ),
    "result": (
        lambda w: f"/staff/proposals/{w.on_ballot_code}/result",
        lambda w: {"selected": "yes"},
    ),
    "execution": (
        lambda w: f"/staff/proposals/{w.selected_code}/execution",
        lambda w: {"status": "tendering", "note": "Edital publicado."},
    ),
    "phone_settings": (lambda w: f"/staff/cycles/{w.slug}/phone", lambda w: {"voice": "y"}),
}


AUDIT_ACTION = {
    "new_cycle": "cycle.create",
    "edit_cycle": "cycle.update",
    "transition": "cycle.transition",
    "new_phase": "phase.create",
    "edit_phase": "phase.update",
    "delete_phase": "phase.delete",
    "new_event": "event.create",
    "edit_event": "event.update",
    "delete_event": "event.delete",
    "budgets_manual": "cycle.budgets",
    "budgets_formula": "cycle.budgets",
    "new_proposal": "proposal.create",
    "start_review": "proposal.status",
    "review": "proposal.review",
    "result": "proposal.status",
    "execution": "proposal.execution",
    "phone_settings": "cycle.phone",
}


@pytest.fixture
def w(app_ctx):
    return world()


# --- anonymous -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", GET_ROUTES)
def test_anonymous_get_goes_to_sign_in(client, w, name):
    response = client.get(GET_ROUTES[name](w))
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("name", POST_ROUTES)
def test_anonymous_post_goes_to_sign_in_and_changes_nothing(app, client, w, name):
    url, data = POST_ROUTES[name]
    response = post(app, client, url(w), data(w))
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    assert audit_count() == 0


# --- auditor ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", GET_ROUTES)
def test_auditor_get_is_forbidden(client, w, name):
    sign_in(client, factories.user("auditor"))
    assert client.get(GET_ROUTES[name](w)).status_code == 403


@pytest.mark.parametrize("name", POST_ROUTES)
def test_auditor_post_is_forbidden_and_changes_nothing(app, client, w, name):
    sign_in(client, factories.user("auditor"))
    url, data = POST_ROUTES[name]
    assert post(app, client, url(w), data(w)).status_code == 403
    assert audit_count() == 0


# --- coordinators and admins -----------------------------------------------------------------


@pytest.mark.parametrize("role", ["coordinator", "admin"])
@pytest.mark.parametrize("name", GET_ROUTES)
def test_staff_get_pages(client, w, name, role):
    sign_in(client, factories.user(role))
    response = client.get(GET_ROUTES[name](w))
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert body.count("<h1") == 1


@pytest.mark.parametrize("role", ["coordinator", "admin"])
@pytest.mark.parametrize("name", POST_ROUTES)
def test_staff_post_redirects_and_is_audited(app, client, w, name, role):
    user = factories.user(role)
    sign_in(client, user)
    url, data = POST_ROUTES[name]
    response = post(app, client, url(w), data(w))
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"].startswith("/staff/")
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == AUDIT_ACTION[name]))
    assert entry is not None, "every staff action leaves an audit entry"
    assert entry.actor_email == user.email


@pytest.mark.parametrize("name", POST_ROUTES)
def test_post_without_csrf_token_is_refused(client, w, name):
    sign_in(client, factories.user("coordinator"))
    url, data = POST_ROUTES[name]
    response = client.post(url(w), data=data(w))
    assert response.status_code == 400
    assert audit_count() == 0


@pytest.mark.parametrize("name", POST_ROUTES)
def test_post_with_a_forged_csrf_token_is_refused(client, w, name):
    sign_in(client, factories.user("coordinator"))
    url, data = POST_ROUTES[name]
    response = client.post(url(w), data={"csrf_token": "forged", **data(w)})
    assert response.status_code == 400
    assert audit_count() == 0


# --- unknown objects -------------------------------------------------------------------------

UNKNOWN_GET = [
    "/staff/cycles/no-such-cycle",
    "/staff/cycles/no-such-cycle/edit",
    "/staff/cycles/no-such-cycle/phases/new",
    "/staff/cycles/no-such-cycle/events/new",
    "/staff/cycles/no-such-cycle/budgets",
    "/staff/cycles/no-such-cycle/proposals",
    "/staff/cycles/no-such-cycle/proposals/new",
    "/staff/cycles/no-such-cycle/phone",
    "/staff/phases/999999/edit",
    "/staff/phases/abc/edit",
    "/staff/phases/-1/edit",
    "/staff/events/999999/edit",
    "/staff/events/1.5/edit",
    "/staff/proposals/NOPE-0001",
    "/staff/proposals/NOPE-0001/review",
    "/staff/proposals/NOPE-0001/execution",
    # Beyond what the database can hold: still a plain 404, not a database error.
    "/staff/phases/2147483648/edit",
    "/staff/events/99999999999999999999/edit",
    "/staff/cycles/" + "a" * 300,
    "/staff/proposals/" + "X" * 300,
]
UNKNOWN_POST = [
    "/staff/cycles/no-such-cycle/transition",
    "/staff/cycles/no-such-cycle/edit",
    "/staff/cycles/no-such-cycle/budgets",
    "/staff/cycles/no-such-cycle/phone",
    "/staff/phases/999999/delete",
    "/staff/phases/x/delete",
    "/staff/events/999999/delete",
    "/staff/events/x/delete",
    "/staff/phases/999999/edit",
    "/staff/proposals/NOPE-0001/start-review",
    "/staff/proposals/NOPE-0001/review",
    "/staff/proposals/NOPE-0001/result",
    "/staff/proposals/NOPE-0001/execution",
    "/staff/phases/2147483648/delete",
    "/staff/events/99999999999999999999/delete",
    "/staff/proposals/" + "X" * 300 + "/result",
]


@pytest.mark.parametrize("url", UNKNOWN_GET)
def test_unknown_objects_are_404(client, w, url):
    sign_in(client, factories.user("coordinator"))
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("url", UNKNOWN_POST)
def test_posts_to_unknown_objects_are_404(app, client, w, url):
    sign_in(client, factories.user("coordinator"))
    assert post(app, client, url, {"target": "open_for_proposals"}).status_code == 404
    assert audit_count() == 0


@pytest.mark.parametrize("name", GET_ROUTES)
def test_pages_render_in_portuguese_by_default(client, w, name):
    login_as(client, factories.user("coordinator"))  # no language chosen: pt_BR
    response = client.get(GET_ROUTES[name](w))
    assert response.status_code == 200
    assert '<html lang="pt-BR">' in response.get_data(as_text=True)


@pytest.mark.parametrize("url", ["/staff/cycles/%00", "/staff/proposals/A%00B"])
def test_nul_bytes_in_urls_are_a_bad_request(client, w, url):
    sign_in(client, factories.user("coordinator"))
    assert client.get(url).status_code == 400
