"""The security matrix: every route × every kind of visitor, and the protections around them.

The table below has one entry per rule of `app.url_map`; a route added without an entry fails
`test_the_table_covers_every_route`. Each entry builds a real URL from seeded data and says what
each visitor gets: the public, a citizen in the middle of voting, and each staff role.

The rest checks what surrounds the routes: security headers on every answer (HSTS and secure
cookies in production), a new session at sign-in, `next` kept on this site, error pages without
stack traces or secrets, and no voter data or password in the logs. Parts already covered
elsewhere are not repeated: per-form CSRF and staff POSTs (test_coordination_access.py), the
basic header set (test_security_headers.py), the usual unsafe `next` values
(test_accounts_login.py), the voting flow's pages and logs (test_voting_web.py) and the API's
(test_ballot_secrecy.py).
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from types import SimpleNamespace

import pytest

from opdigital import settings as settings_module
from opdigital.cycles.lifecycle import advance
from opdigital.cycles.states import CycleState
from opdigital.extensions import db
from opdigital.proposals.consent import unsubscribe_token
from opdigital.proposals.services import get_proposal
from opdigital.subject_requests import services as subject_requests
from tests.support import factories
from tests.support import voting as vs
from tests.support.client import login_as
from tests.support.coordination import token
from tests.support.coordination import world as coordination_world
from tests.support.production import PRIVACY, PUBLIC_SITE
from tests.support.works_evidence import stored_photo

ROLES = ("anonymous", "citizen", "auditor", "coordinator", "admin")
LOGIN = "login"  # expected outcome: a redirect to the sign-in page
ALLOWED = "allowed"  # expected outcome of a staff action: done or refused on its merits


@dataclass(frozen=True)
class Access:
    """What each kind of visitor gets: a status code, LOGIN or ALLOWED."""

    anonymous: int | str
    citizen: int | str
    auditor: int | str
    coordinator: int | str
    admin: int | str

    def of(self, role: str) -> int | str:
        return getattr(self, role)


PUBLIC = Access(200, 200, 200, 200, 200)
STAFF = Access(LOGIN, LOGIN, 403, 200, 200)
ADMIN = Access(LOGIN, LOGIN, 403, 403, 200)
AUDIT = Access(LOGIN, LOGIN, 200, 403, 200)
NO_BALLOT = Access(400, 400, 400, 400, 400)
REDIRECT = Access(302, 302, 302, 302, 302)
TO_IDENTIFY = Access(303, 303, 303, 303, 303)
TO_LOOKUP_FORM = Access(303, 303, 303, 303, 303)
NO_CODE = Access(422, 422, 422, 422, 422)
NO_RECEIPT = Access(400, 400, 400, 400, 400)
GONE = Access(410, 410, 410, 410, 410)
STAFF_ACTION = Access(LOGIN, LOGIN, 403, ALLOWED, ALLOWED)
# The encarregado's queue: privacy officers (tested in test_subject_requests_staff.py, with
# their refusal everywhere else) and admins; none of the matrix's other visitors.
PRIVACY_STAFF = Access(LOGIN, LOGIN, 403, 403, 200)
PRIVACY_ACTION = Access(LOGIN, LOGIN, 403, 403, ALLOWED)
ADMIN_ACTION = Access(LOGIN, LOGIN, 403, 403, ALLOWED)
# A Comforça member's pages (tested in test_works_reports.py, with their refusal everywhere
# else): none of the matrix's visitors is a monitor, so staff get 403.
MONITOR_ONLY = Access(LOGIN, LOGIN, 403, 403, 403)


@dataclass(frozen=True)
class Route:
    template: str  # filled in from the seeded world: "/ciclos/{w.voting_slug}/votar"
    access: Access
    method: str = "GET"
    json: bool = False  # the API: JSON answers only

    def url(self, w: SimpleNamespace) -> str:
        return self.template.format(w=w)


R = Route
TABLE: dict[str, Route] = {
    # The public site.
    "public.home": R("/", PUBLIC),
    "public.cycle": R("/ciclos/{w.published_slug}", PUBLIC),
    "public.proposals": R("/ciclos/{w.published_slug}/propostas", PUBLIC),
    "public.submit_proposal": R("/ciclos/{w.open_slug}/propostas/nova", PUBLIC),
    "public.proposal": R("/propostas/{w.selected_code}", PUBLIC),
    "public.set_language": R("/lang/en", REDIRECT),
    "public.privacy": R("/privacidade", PUBLIC),
    "public.privacy_json": R("/privacidade.json", PUBLIC),
    # Voting by phone: the help page with the numbers, the keys and the ballot as a list.
    "public.phone_help": R("/ciclos/{w.voting_slug}/votar-por-telefone", PUBLIC),
    # A proposer's e-mails are stopped by the signed link in each message, without signing in
    # and without a CSRF token (one click from the mail client); a second POST says "already".
    "public.unsubscribe": R("/avisos/cancelar/{w.unsubscribe_token}", PUBLIC),
    "public.unsubscribe_confirm": R("/avisos/cancelar/{w.unsubscribe_token}", PUBLIC, "POST"),
    # Data-subject requests: the form, and the person's page (its token in the address). The
    # world's request is by phone, waiting for its call: no code to check (422), none to mail.
    "subject_requests.new_request": R("/privacidade/pedidos", PUBLIC),
    "subject_requests.status": R("/privacidade/pedidos/{w.subject_token}", PUBLIC),
    "subject_requests.verify": R("/privacidade/pedidos/{w.subject_token}/codigo", NO_CODE, "POST"),
    "subject_requests.new_code": R(
        "/privacidade/pedidos/{w.subject_token}/novo-codigo",
        Access(409, 409, 409, 409, 409),
        "POST",
    ),
    "static": R("/static/css/site.css", PUBLIC),
    "board.board_page": R("/ciclos/{w.published_slug}/quadro", PUBLIC),
    # Receipt codes never in a URL: the lookup form is POSTed (without a code: 422); old links
    # with the code in the path look nothing up and lead to the form.
    "board.receipt_lookup": R("/ciclos/{w.published_slug}/comprovante", PUBLIC),
    "board.receipt": R("/ciclos/{w.published_slug}/comprovante", NO_CODE, "POST"),
    "board.old_receipt_link": R(
        "/ciclos/{w.published_slug}/comprovante/{w.receipt}", TO_LOOKUP_FORM
    ),
    "results.results_page": R("/ciclos/{w.published_slug}/resultados", PUBLIC),
    "results.results_csv": R("/ciclos/{w.published_slug}/resultados.csv", PUBLIC),
    "results.results_pb": R("/ciclos/{w.published_slug}/resultados.pb", PUBLIC),
    # The maps: a cycle's proposals, a published result (a 404 before publication: tested in
    # test_maps.py), every work; public like the pages they draw.
    "maps.cycle_map": R("/ciclos/{w.published_slug}/mapa", PUBLIC),
    "maps.results_map": R("/ciclos/{w.published_slug}/resultados/mapa", PUBLIC),
    "maps.works_map": R("/obras/mapa", PUBLIC),
    # "Obras do OP": every work chosen, its CSV and its Atom feed (the city's; ?regiao= a region's).
    "works.catalogue": R("/obras", PUBLIC),
    "works.catalogue_csv": R("/obras.csv", PUBLIC),
    "works.feed": R("/obras/feed.atom", PUBLIC),
    # The voting flow: only the citizen mid-flow gets the ballot; the others are sent back to
    # identify themselves (303), as is the citizen from a review with nothing chosen yet. The
    # receipt page only says "already shown" to whoever has no receipt waiting.
    "voting.identify": R("/ciclos/{w.voting_slug}/votar", PUBLIC),
    "voting.ballot": R("/ciclos/{w.voting_slug}/votar/cedula", Access(303, 200, 303, 303, 303)),
    "voting.review": R("/ciclos/{w.voting_slug}/votar/revisao", TO_IDENTIFY),
    "voting.receipt": R("/ciclos/{w.voting_slug}/votar/comprovante", PUBLIC),
    # Sign-in and out.
    "accounts.login": R("/login", Access(200, 200, 302, 302, 302)),
    "accounts.logout": R("/logout", REDIRECT, "POST"),
    # Staff: coordination (admins and coordinators).
    "coordination.dashboard": R("/staff/", STAFF),
    "coordination.new_cycle": R("/staff/cycles/new", STAFF),
    "coordination.cycle": R("/staff/cycles/{w.slug}", STAFF),
    "coordination.edit_cycle": R("/staff/cycles/{w.slug}/edit", STAFF),
    "coordination.budgets": R("/staff/cycles/{w.slug}/budgets", STAFF),
    "coordination.new_event": R("/staff/cycles/{w.slug}/events/new", STAFF),
    "coordination.new_phase": R("/staff/cycles/{w.slug}/phases/new", STAFF),
    "coordination.list_proposals": R("/staff/cycles/{w.slug}/proposals", STAFF),
    "coordination.new_proposal": R("/staff/cycles/{w.slug}/proposals/new", STAFF),
    "coordination.tally_package": R("/staff/cycles/{w.published_slug}/tally.zip", STAFF),
    "coordination.turnout_page": R("/staff/cycles/{w.voting_slug}/turnout", STAFF),
    "coordination.voting_settings": R("/staff/cycles/{w.slug}/voting-settings", STAFF),
    "coordination.phone_settings": R("/staff/cycles/{w.slug}/phone", STAFF),
    "coordination.edit_event": R("/staff/events/{w.event_id}/edit", STAFF),
    "coordination.edit_phase": R("/staff/phases/{w.phase_id}/edit", STAFF),
    "coordination.proposal": R("/staff/proposals/{w.code}", STAFF),
    "coordination.execution": R("/staff/proposals/{w.selected_code}/execution", STAFF),
    "coordination.location": R("/staff/proposals/{w.selected_code}/location", STAFF),
    "coordination.review": R("/staff/proposals/{w.code}/review", STAFF),
    "coordination.voting_points": R("/staff/voting-points", STAFF),
    "coordination.retention_page": R("/staff/retention", STAFF),
    "coordination.voting_point": R("/staff/voting-points/{w.point_id}", STAFF),
    "coordination.new_voting_point": R("/staff/voting-points/new", STAFF),
    "coordination.transition": R("/staff/cycles/{w.slug}/transition", STAFF_ACTION, "POST"),
    "coordination.delete_event": R("/staff/events/{w.event_id}/delete", STAFF_ACTION, "POST"),
    "coordination.delete_phase": R("/staff/phases/{w.phase_id}/delete", STAFF_ACTION, "POST"),
    "coordination.record_result": R(
        "/staff/proposals/{w.on_ballot_code}/result", STAFF_ACTION, "POST"
    ),
    "coordination.start_review": R("/staff/proposals/{w.code}/start-review", STAFF_ACTION, "POST"),
    # Poll workers (a poll worker's own screens are tested in test_poll_workers.py, including
    # their refusal everywhere else): none of the matrix's visitors is one, so staff get 403.
    "polling.dashboard": R("/mesario/", Access(LOGIN, LOGIN, 403, 403, 403)),
    "polling.identify": R("/mesario/identificar", Access(LOGIN, LOGIN, 403, 403, 403)),
    "polling.open_point": R("/mesario/abrir", Access(LOGIN, LOGIN, 403, 403, 403), "POST"),
    "polling.close_point": R("/mesario/fechar", Access(LOGIN, LOGIN, 403, 403, 403), "POST"),
    "coordination.poll_workers": R("/staff/voting-points/{w.point_id}/poll-workers", STAFF),
    "coordination.new_poll_worker": R(
        "/staff/voting-points/{w.point_id}/poll-workers", STAFF_ACTION, "POST"
    ),
    "coordination.import_point_poll_workers": R(
        "/staff/voting-points/{w.point_id}/poll-workers/import", STAFF_ACTION, "POST"
    ),
    "coordination.import_poll_workers": R("/staff/poll-workers/import", STAFF),
    "coordination.poll_worker_active": R(
        "/staff/voting-points/{w.point_id}/poll-workers/999999/active", STAFF_ACTION, "POST"
    ),
    # Kiosks: enrolled by staff on the device; no visitor of the matrix is a kiosk.
    "coordination.kiosks_of_point": R("/staff/voting-points/{w.point_id}/kiosks", STAFF),
    "coordination.revoke_kiosk": R(
        "/staff/voting-points/{w.point_id}/kiosks/999999/revoke", STAFF_ACTION, "POST"
    ),
    "kiosk.start": R("/quiosque", Access(403, 403, 403, 403, 403)),
    "kiosk.timed_out": R("/quiosque/tempo-esgotado", PUBLIC),
    "kiosk.next_voter": R("/quiosque/proximo", Access(303, 303, 303, 303, 303), "POST"),
    "kiosk.cancel": R("/quiosque/cancelar", Access(303, 303, 303, 303, 303), "POST"),
    # Paper ballots (a poll worker's access to their own point: test_paper_*.py).
    "paper.index": R("/staff/paper/", STAFF),
    "paper.point": R("/staff/paper/{w.voting_slug}/points/{w.point_id}", STAFF),
    "paper.sheets": R("/staff/paper/{w.voting_slug}/points/{w.point_id}/sheets", STAFF),
    "paper.sheet_run": R(
        "/staff/paper/{w.voting_slug}/runs/999999", Access(LOGIN, LOGIN, 403, 404, 404)
    ),
    "paper.participation": R(
        "/staff/paper/{w.voting_slug}/points/{w.point_id}/participation",
        Access(LOGIN, LOGIN, 403, 403, 403),
    ),
    "paper.batches": R("/staff/paper/{w.voting_slug}/points/{w.point_id}/batches", STAFF),
    "paper.batch": R(
        "/staff/paper/{w.voting_slug}/batches/999999", Access(LOGIN, LOGIN, 403, 404, 404)
    ),
    "paper.entry": R(
        "/staff/paper/{w.voting_slug}/batches/999999/entry", Access(LOGIN, LOGIN, 403, 404, 404)
    ),
    "paper.resolve_batch": R(
        "/staff/paper/{w.voting_slug}/batches/999999/resolve",
        Access(LOGIN, LOGIN, 403, 404, 404),
    ),
    "paper.seal": R("/staff/paper/{w.voting_slug}/batches/999999/seal", STAFF_ACTION, "POST"),
    # The delegate roll (no delegate in the world: a staff member gets the 404 of an unknown one).
    "coordination.delegates": R("/staff/cycles/{w.slug}/delegates", STAFF),
    "coordination.new_delegate": R("/staff/cycles/{w.slug}/delegates/new", STAFF),
    "coordination.edit_delegate": R(
        "/staff/cycles/{w.slug}/delegates/999999/edit", Access(LOGIN, LOGIN, 403, 404, 404)
    ),
    "coordination.delete_delegate": R(
        "/staff/cycles/{w.slug}/delegates/999999/delete", STAFF_ACTION, "POST"
    ),
    "coordination.import_delegates": R(
        "/staff/cycles/{w.slug}/delegates/import", STAFF_ACTION, "POST"
    ),
    "coordination.issue_codes": R("/staff/cycles/{w.slug}/delegates/codes", STAFF_ACTION, "POST"),
    "coordination.issue_code": R(
        "/staff/cycles/{w.slug}/delegates/999999/code", STAFF_ACTION, "POST"
    ),
    # Staff: accounts (admins only).
    "accounts.list_users": R("/staff/accounts", ADMIN),
    "accounts.create_user": R("/staff/accounts/new", ADMIN),
    "accounts.edit_user": R("/staff/accounts/{w.other_user_id}", ADMIN),
    "accounts.set_password": R("/staff/accounts/{w.other_user_id}/password", ADMIN_ACTION, "POST"),
    # Staff: the e-mail outbox (admins only; no message in the world: an admin's retry is a 404).
    "outbox.index": R("/staff/outbox/", ADMIN),
    "outbox.retry": R("/staff/outbox/999999/retry", ADMIN_ACTION, "POST"),
    # The encarregado's queue of data-subject requests.
    "subject_requests.queue": R("/staff/privacy/requests", PRIVACY_STAFF),
    "subject_requests.request_page": R(
        "/staff/privacy/requests/{w.subject_reference}", PRIVACY_STAFF
    ),
    "subject_requests.phone_code": R(
        "/staff/privacy/requests/{w.subject_reference}/phone-code", PRIVACY_ACTION, "POST"
    ),
    "subject_requests.anonymise": R(
        "/staff/privacy/requests/{w.subject_reference}/anonymise", PRIVACY_ACTION, "POST"
    ),
    "subject_requests.withdraw_consent": R(
        "/staff/privacy/requests/{w.subject_reference}/consent", PRIVACY_ACTION, "POST"
    ),
    "subject_requests.correct": R(
        "/staff/privacy/requests/{w.subject_reference}/correct", PRIVACY_ACTION, "POST"
    ),
    "subject_requests.answer": R(
        "/staff/privacy/requests/{w.subject_reference}/answer", PRIVACY_ACTION, "POST"
    ),
    # The Comforça's reports: a member's pages, and the coordinators' moderation queue (no
    # report in the world: a decision on an unknown one is a 404).
    "works.comforca_home": R("/comforca", MONITOR_ONLY),
    "works.comforca_report": R("/comforca/obras/{w.selected_code}/relatorio", MONITOR_ONLY),
    "works.report_queue": R("/staff/reports", STAFF),
    "works.approve_report": R("/staff/reports/999999/approve", STAFF_ACTION, "POST"),
    "works.reject_report": R("/staff/reports/999999/reject", STAFF_ACTION, "POST"),
    # A work's execution evidence (staff), and its photos (public once published: the world's
    # is a staff photo; unpublished ones are tested in test_works_photos.py). No milestone in
    # the world: an edit or a decision on an unknown one is a 404; an empty form a 422.
    "works.evidence": R("/staff/works/{w.selected_code}", STAFF),
    "works.edit_milestone": R(
        "/staff/works/{w.selected_code}/milestones/999999", Access(LOGIN, LOGIN, 403, 404, 404)
    ),
    "works.save_figures": R("/staff/works/{w.selected_code}/figures", STAFF_ACTION, "POST"),
    "works.add_milestone": R("/staff/works/{w.selected_code}/milestones", STAFF_ACTION, "POST"),
    "works.milestone_done": R(
        "/staff/works/{w.selected_code}/milestones/999999/done", STAFF_ACTION, "POST"
    ),
    "works.delete_milestone": R(
        "/staff/works/{w.selected_code}/milestones/999999/delete", STAFF_ACTION, "POST"
    ),
    "works.upload_photo": R("/staff/works/{w.selected_code}/photos", STAFF_ACTION, "POST"),
    "works.delete_photo": R(
        "/staff/works/{w.selected_code}/photos/no-such-photo/delete", STAFF_ACTION, "POST"
    ),
    "works.photo": R("/fotos/{w.photo_key}.jpg", PUBLIC),
    "works.photo_thumbnail": R("/fotos/{w.photo_key}/miniatura.jpg", PUBLIC),
    # Audit (auditors and admins).
    "audit.log": R("/audit/", AUDIT),
    "audit.export_csv": R("/audit/export.csv", AUDIT),
    "audit.export_json": R("/audit/export.json", AUDIT),
    "audit.tallies": R("/audit/tallies", AUDIT),
    "audit.tally_package": R("/audit/tallies/{w.published_slug}/tally.zip", AUDIT),
    # The JSON API and the health check: open to all, JSON whoever asks.
    "api.cycles": R("/api/v1/cycles", PUBLIC, json=True),
    "api.cycle_detail": R("/api/v1/cycles/{w.published_slug}", PUBLIC, json=True),
    "api.cycle_proposals": R("/api/v1/cycles/{w.published_slug}/proposals", PUBLIC, json=True),
    "api.cycle_schedule": R("/api/v1/cycles/{w.published_slug}/schedule", PUBLIC, json=True),
    "api.cycle_schedule_ics": R("/api/v1/cycles/{w.published_slug}/schedule.ics", PUBLIC),
    "api.board_head": R("/api/v1/cycles/{w.published_slug}/board/head", PUBLIC, json=True),
    "api.lookup_receipt": R(
        "/api/v1/cycles/{w.published_slug}/receipts", NO_RECEIPT, "POST", json=True
    ),
    "api.receipt_code_in_path": R(
        "/api/v1/cycles/{w.published_slug}/receipts/{w.receipt}", GONE, json=True
    ),
    "api.results": R("/api/v1/cycles/{w.published_slug}/results", PUBLIC, json=True),
    "api.tally_package": R("/api/v1/cycles/{w.published_slug}/tally.zip", PUBLIC),
    "api.signing_keys": R("/api/v1/keys", PUBLIC, json=True),
    "api.openapi": R("/api/v1/openapi.json", PUBLIC, json=True),
    "api.regions": R("/api/v1/regions", PUBLIC, json=True),
    "api.works": R("/api/v1/works", PUBLIC, json=True),
    "api.work_detail": R("/api/v1/works/{w.selected_code}", PUBLIC, json=True),
    # GeoJSON (application/geo+json, hence not `json`): public like the rest of the open data.
    "api.regions_geojson": R("/api/v1/regions.geojson", PUBLIC),
    "api.cycle_proposals_geojson": R("/api/v1/cycles/{w.published_slug}/proposals.geojson", PUBLIC),
    "api.works_geojson": R("/api/v1/works.geojson", PUBLIC),
    # An empty body is no ballot, whoever sends it (the API trusts no session cookie).
    "api.post_ballot": R("/api/v1/cycles/{w.voting_slug}/ballots", NO_BALLOT, "POST", json=True),
    "health.healthz": R("/healthz", PUBLIC, json=True),
    # The telephony provider's webhooks answer only requests it signed; without its auth token
    # set (as here) the line does not exist: 404 for everyone (signed requests: test_phone_*).
    "phone.incoming_message": R("/telefone/mensagem", Access(404, 404, 404, 404, 404), "POST"),
    "phone.incoming_call": R("/telefone/voz", Access(404, 404, 404, 404, 404), "POST"),
    "phone.gathered": R("/telefone/voz/resposta", Access(404, 404, 404, 404, 404), "POST"),
    "phone.call_status": R("/telefone/voz/fim", Access(404, 404, 404, 404, 404), "POST"),
    # Recorded prompts are public (the provider fetches them unsigned); none in the world.
    "phone.recording": R("/telefone/audio/welcome.wav", Access(404, 404, 404, 404, 404)),
}

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
# Stricter values some pages set (receipt pages send no Referer at all).
STRICTER_HEADERS = {"Referrer-Policy": {"no-referrer"}}


# --- the world ---------------------------------------------------------------------------


@pytest.fixture
def world(app, client, signing_key):
    """Cycles in every public state, staff of each role, and one citizen in mid-vote."""
    with app.app_context():
        w = coordination_world()
        w.users = {role: factories.user(role).id for role in ("auditor", "coordinator", "admin")}
        w.other_user_id = factories.user("coordinator").id
        opened = factories.cycle(
            state="open_for_proposals",
            phases=[
                ("proposals", vs.now() - vs.timedelta(days=1), vs.now() + vs.timedelta(days=9))
            ],
        )
        w.open_slug = opened.slug
        published = vs.voting_cycle()
        w.receipt = vs.cast_all(client, published, [published.ids[:2]], first=500)[0]
        for target in (CycleState.CLOSED, CycleState.TALLIED, CycleState.PUBLISHED):
            advance(published.cycle, target, actor=None)
        w.published_slug = published.slug
        voting = vs.voting_cycle()
        w.voting_slug, w.voting_ids = voting.slug, voting.ids
        w.citizen_titulo = vs.make_titulo(42)
        vs.register(w.citizen_titulo)
        w.point_id = vs.voting_point("matrix-token").id
        w.unsubscribe_token = unsubscribe_token(get_proposal(w.code))
        w.photo_key = stored_photo(get_proposal(w.selected_code))
        request = subject_requests.NewRequest(kind="access", contact="(31) 3277-4000")
        filed = subject_requests.file_request(request)
        w.subject_token, w.subject_reference = filed.token, filed.request.reference
        db.session.remove()
    return w


def visitor(app, w: SimpleNamespace, role: str):
    """A browser for `role`: staff signed in, the citizen identified at the voting step."""
    client = app.test_client()
    if role in w.users:
        login_as(client, SimpleNamespace(id=w.users[role]))
    elif role == "citizen":
        data = {
            "csrf_token": token(app, client),
            "titulo": w.citizen_titulo,
            "birth_date": vs.BIRTH.strftime("%d/%m/%Y"),
        }
        response = client.post(f"/ciclos/{w.voting_slug}/votar", data=data)
        assert response.status_code == 303, "the citizen could not identify"
    return client


def request_route(app, client, route: Route, w: SimpleNamespace):
    url = route.url(w)
    if route.method == "GET":
        return client.get(url)
    if route.json:
        return client.post(url, json={})
    return client.post(url, data={"csrf_token": token(app, client)})


def outcome_matches(expected: int | str, response) -> bool:
    location = response.headers.get("Location", "")
    if expected == LOGIN:
        return response.status_code == 302 and location.startswith("/login?next=")
    if expected == ALLOWED:
        # Done, or refused on its merits (a 4xx about the data or state): never "who are you".
        return (
            response.status_code < 500
            and response.status_code not in (401, 403)
            and (not location.startswith("/login"))
        )
    return response.status_code == expected


def assert_safe_answer(app, response, label: str) -> None:
    """Headers every answer carries, and nothing an attacker could learn from a body."""
    for name, value in SECURITY_HEADERS.items():
        allowed = {value, *STRICTER_HEADERS.get(name, ())}
        assert response.headers.get(name) in allowed, f"{label}: {name}"
    policy = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, label
    assert "frame-ancestors 'none'" in policy, label
    body = response.get_data()
    for secret in (app.config["SECRET_KEY"], app.config["VOTER_KEY_PEPPER"], "Traceback"):
        assert secret.encode() not in body, f"{label} shows {secret!r}"


# --- the matrix --------------------------------------------------------------------------


def test_the_table_covers_every_route(app):
    rules = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert set(TABLE) == rules, {
        "routes without an entry": sorted(rules - set(TABLE)),
        "entries without a route": sorted(set(TABLE) - rules),
    }
    for rule in app.url_map.iter_rules():
        assert TABLE[rule.endpoint].method in rule.methods, rule.endpoint


def test_every_route_for_every_visitor(app, world):
    # Pages first, then actions: an action (a deletion) must not change what a page shows.
    mismatches = []
    clients = {role: visitor(app, world, role) for role in ROLES}
    for method in ("GET", "POST"):
        for role in ROLES:
            mismatches += _visit(app, world, clients, role, method)
    assert mismatches == [], "\n".join(mismatches)


def _visit(app, world, clients: dict, role: str, method: str) -> list[str]:
    mismatches = []
    client = clients[role]
    for endpoint, route in TABLE.items():
        if route.method == method:
            response = request_route(app, client, route, world)
            label = f"{route.method} {route.url(world)} as {role}"
            expected = route.access.of(role)
            if not outcome_matches(expected, response):
                mismatches.append(f"{label}: expected {expected}, got {response.status_code}")
            assert_safe_answer(app, response, label)
            if route.json:
                assert response.mimetype == "application/json", label
            response.close()  # ends a streamed answer (the audit export) inside its request
            if endpoint == "accounts.logout":
                client = clients[role] = visitor(app, world, role)  # back in, for the rest
    return mismatches


@pytest.mark.parametrize("role", ROLES)
def test_no_way_around_the_checks_with_another_method(app, world, role):
    """HEAD answers as GET does (refused wherever GET is); methods a route lacks are 405."""
    client = visitor(app, world, role)
    for route in TABLE.values():
        if route.method != "GET":
            continue
        url = route.url(world)
        get, head = client.get(url), client.head(url)
        if get.status_code in (302, 403) and get.headers.get("Location", "/").startswith("/login"):
            assert (head.status_code, head.headers.get("Location")) == (
                get.status_code,
                get.headers.get("Location"),
            ), (url, role)
        assert head.status_code == get.status_code, (url, role)
        deleted = client.delete(url)
        assert deleted.status_code == 405, (url, role)
        for response in (get, head, deleted):
            response.close()


# --- production settings -------------------------------------------------------------------


@pytest.fixture
def production_app(make_app, database_url, redis_url, monkeypatch):
    """The production settings with the secrets they demand, on the test database."""
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "")  # the production default, whatever is set
    importlib.reload(settings_module)
    try:
        settings = (
            {
                "SECRET_KEY": "s" * 48,
                "VOTER_KEY_PEPPER": "p" * 32,
                "SQLALCHEMY_DATABASE_URI": settings_module._sqlalchemy_url(database_url),
                "REDIS_URL": redis_url,
                "RATELIMIT_STORAGE_URI": redis_url,
            }
            | PRIVACY
            | PUBLIC_SITE
        )
        secured = type("SecuredProduction", (settings_module.Production,), settings)
        secured.validate()  # what `create_app("production")` checks first
        yield make_app(secured)
    finally:
        monkeypatch.delenv("SESSION_COOKIE_SECURE")
        importlib.reload(settings_module)


def test_production_sends_hsts_and_secure_session_cookies(production_app):
    client = production_app.test_client()
    response = client.get("/lang/en", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    max_age = int(response.headers["Strict-Transport-Security"].split("=")[1].split(";")[0])
    assert max_age >= 180 * 24 * 3600
    cookie = client.get_cookie("session", domain="localhost")
    assert cookie is not None
    assert cookie.secure and cookie.http_only and cookie.same_site == "Lax"
    policy = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy


def test_hsts_is_not_sent_where_cookies_are_not_secure(client):
    # Control for the test above: development over plain HTTP must not pin HTTPS.
    assert "Strict-Transport-Security" not in client.get("/").headers


# --- sign-in: a new session, and `next` kept on this site ----------------------------------


def _sign_in(app, client, email: str, next_url: str | None = None):
    data = {"csrf_token": token(app, client), "email": email, "password": factories.PASSWORD}
    return client.post("/login", data=data, query_string={"next": next_url} if next_url else {})


def test_sign_in_starts_a_new_session(app, app_ctx):
    user = factories.user("coordinator")
    client = app.test_client()
    with client.session_transaction() as session:
        # What someone could have planted in the browser before the staff member signs in.
        session["planted"] = "by an attacker"
        session["voting.voter"] = {"cycle_id": 1, "voter_key": "k" * 64}
        session["lang"] = "en"
    before = client.get_cookie("session").value
    response = _sign_in(app, client, user.email)
    assert response.status_code == 302
    with client.session_transaction() as session:
        assert session["_user_id"] == user.get_id()
        assert "planted" not in session and "voting.voter" not in session
        assert session.get("lang") == "en"  # the language chosen is kept
    assert client.get_cookie("session").value != before


@pytest.mark.parametrize(
    "target",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "\\\\evil.example",
        "/\\/evil.example",
        "\\/evil.example",
        "///evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        "/\r\n/evil.example",
        " //evil.example",
        "http:evil.example",
        "data:text/html,<script>alert(1)</script>",
        "mailto:someone@evil.example",
    ],
)
def test_next_never_leaves_the_site(app, app_ctx, target):
    user = factories.user("coordinator")
    response = _sign_in(app, app.test_client(), user.email, target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/staff/"


def test_next_on_this_site_is_kept(app, app_ctx):
    # Control for the test above: a plain local path is honoured.
    user = factories.user("coordinator")
    response = _sign_in(app, app.test_client(), user.email, "/staff/voting-points")
    assert response.headers["Location"] == "/staff/voting-points"


# --- error pages ---------------------------------------------------------------------------


@pytest.fixture
def failing_app(make_app, database_url):
    app = make_app("testing", SQLALCHEMY_DATABASE_URI=database_url)

    @app.get("/_boom")
    @app.get("/api/v1/_boom")
    def boom():
        raise RuntimeError(f"internal detail {app.config['SECRET_KEY']} at /srv/opdigital")

    return app


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/_boom", 500),
        ("/api/v1/_boom", 500),
        ("/nao-existe", 404),
        ("/api/v1/nao-existe", 404),
        ("/ciclos/%00", 400),
        ("/api/v1/cycles/%00", 400),
    ],
)
def test_error_answers_show_no_stack_trace_or_secret(failing_app, url, status, caplog, live_logs):
    response = failing_app.test_client().get(url)
    assert response.status_code == status
    body = response.get_data(as_text=True)
    for leak in ("Traceback", "RuntimeError", "internal detail", "/srv/", ".py", 'File "'):
        assert leak not in body, leak
    for secret in (failing_app.config["SECRET_KEY"], failing_app.config["VOTER_KEY_PEPPER"]):
        assert secret not in body
    if url.startswith("/api/"):
        assert set(response.get_json()["error"]) == {"code", "message"}
    if status == 500:  # the detail is for the operators, in the log
        assert any("internal detail" in str(r.exc_info) for r in caplog.records)


def test_an_oversized_request_is_a_clean_413(client):
    response = client.post("/login", data={"email": "x" * (3 * 1024 * 1024)})
    assert response.status_code == 413
    assert "Traceback" not in response.get_data(as_text=True)


# --- logs ----------------------------------------------------------------------------------


def test_failed_sign_ins_and_identifications_log_no_password_or_voter_data(
    app, app_ctx, caplog, live_logs
):
    caplog.set_level(logging.DEBUG)
    logging.getLogger("tests").debug("capture-control")
    user = factories.user("coordinator")
    world = vs.voting_cycle()
    titulo = vs.make_titulo(77)
    vs.register(titulo)
    client = app.test_client()
    password = "a wrong password 7e1f"
    data = {"csrf_token": token(app, client), "email": user.email, "password": password}
    assert client.post("/login", data=data).status_code == 401
    for birth in ("01/01/1999", "17/05/1980"):  # the wrong date, then the right one
        data = {"csrf_token": token(app, client), "titulo": titulo, "birth_date": birth}
        assert client.post(f"/ciclos/{world.slug}/votar", data=data).status_code in (403, 303)
    assert any(r.getMessage() == "capture-control" for r in caplog.records)
    secrets = [password, factories.PASSWORD, titulo, vs.pretty(titulo), vs.key_of(titulo)]
    for record in caplog.records:
        text = f"{record.getMessage()} {record.args!r}"
        for secret in secrets:
            assert secret not in text, f"{record.name}: {text[:200]}"
