"""Kiosk mode (issue 12, point 2): enrolling a device, the kiosk as its voting point, the start
screen, voters one after another with nothing of the previous one left, and the idle timeout.

Requests are made without an application context pushed (tests/support/voting_web.py says why).
"""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from itsdangerous import URLSafeSerializer

from opdigital.audit.models import AuditEntry
from opdigital.extensions import db
from opdigital.kiosk import devices
from opdigital.kiosk.models import KioskDevice
from opdigital.polling.models import PointOpening
from opdigital.voting.models import Participation, VotingPoint
from tests.support import factories
from tests.support import voting as vs
from tests.support.client import csrf_token, login_as, post_form
from tests.support.pages import page_problems
from tests.support.voting_web import (
    BIRTH,
    RECEIPT,
    build_world,
    confirm,
    identify,
    post_ballot,
    region_field,
    text,
    url,
)

COOKIE = devices.COOKIE_BASE_NAME
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@pytest.fixture(autouse=True)
def _forget_devices():
    yield
    devices.forget_device()


@pytest.fixture
def world(app, english_by_default):
    return build_world(app, voters=4)


def _point(app, world, *, open_for_cycle: bool = True, name: str = "Escola Estadual Central"):
    with app.app_context():
        point = VotingPoint(name=name)
        db.session.add(point)
        db.session.flush()
        if open_for_cycle:
            db.session.add(
                PointOpening(voting_point_id=point.id, cycle_id=world.cycle_id, is_open=True)
            )
        db.session.commit()
        return point.id


def _set_open(app, point_id: int, cycle_id: int, is_open: bool) -> None:
    with app.app_context():
        row = db.session.get(PointOpening, (point_id, cycle_id))
        if row is None:
            db.session.add(
                PointOpening(voting_point_id=point_id, cycle_id=cycle_id, is_open=is_open)
            )
        else:
            row.is_open = is_open
        db.session.commit()


def _coordinator(app, client=None):
    client = client or app.test_client()
    with app.app_context():
        user = factories.user("coordinator")
        login_as(client, user)
    return client


def _enrol(app, point_id: int, label: str = "Mesa 1"):
    """A browser where a coordinator signed in and enrolled the device; (client, response)."""
    client = _coordinator(app)
    path = f"/staff/voting-points/{point_id}/kiosks"
    response = post_form(client, path, {"label": label})
    return client, response


def _kiosk(app, world, **point_values):
    point_id = _point(app, world, **point_values)
    client, response = _enrol(app, point_id)
    assert response.status_code == 303, text(response)
    return client, point_id


def _session(client) -> dict:
    with client.session_transaction() as session:
        return dict(session)


def _kiosk_vote(client, world, titulo: str, choice: int):
    """One voter on the kiosk from its start screen to the receipt page (its response)."""
    start = client.get("/quiosque")
    assert start.status_code == 200, text(start)
    assert f'href="{url(world)}"' in text(start)  # "Start voting" leads to the identify page
    assert identify(client, world, titulo).status_code == 303
    field = region_field(world.regions[0])
    response = post_ballot(client, world, {field: str(choice)})
    assert response.status_code == 303, text(response)
    assert confirm(client, world).headers["Location"].endswith(url(world, "comprovante"))
    receipt = client.get(url(world, "comprovante"))
    assert receipt.status_code == 200
    return receipt


# --- enrolment -----------------------------------------------------------------------------


def test_enrolment_sets_a_signed_cookie_and_signs_the_coordinator_out(app, world):
    point_id = _point(app, world)
    client, response = _enrol(app, point_id, "Guichê 2")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/quiosque")
    assert response.headers["Cache-Control"] == "no-store"

    set_cookies = response.headers.getlist("Set-Cookie")
    kiosk_cookie = next(c for c in set_cookies if c.startswith(f"{COOKIE}="))
    attributes = [part.strip().lower() for part in kiosk_cookie.split(";")]
    assert "httponly" in attributes and "samesite=strict" in attributes and "path=/" in attributes
    assert any(a.startswith("max-age=") and int(a.split("=")[1]) > 300 * 86400 for a in attributes)
    assert "secure" not in attributes  # the test app runs on http, like its session cookie

    value = client.get_cookie(COOKIE).value
    payload = URLSafeSerializer(app.config["SECRET_KEY"], salt=devices.COOKIE_SALT).loads(value)
    with app.app_context():
        device = db.session.get(KioskDevice, payload["d"])
        assert device.label == "Guichê 2" and device.voting_point_id == point_id
        assert device.secret_hash == hashlib.sha256(payload["s"].encode()).hexdigest()
        assert device.revoked_at is None and device.enrolled_by_id is not None
        entries = db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.action == "kiosk.enrol")
        )
        entry = entries.one()
        assert payload["s"] not in repr((entry.before, entry.after))
        assert device.secret_hash not in repr((entry.before, entry.after))

    # The browser is no longer signed in as staff, and the session holds nothing of it.
    assert "_user_id" not in _session(client)
    assert client.get("/staff/").status_code == 302
    start = client.get("/quiosque")
    assert start.status_code == 200
    assert "Escola Estadual Central" in text(start)
    assert "Start voting" in text(start)
    assert page_problems(text(start)) == []


def test_enrolment_cookie_is_secure_over_https(app, world, settings):
    settings(SESSION_COOKIE_SECURE=True)
    point_id = _point(app, world)
    client = _coordinator(app)
    path = f"/staff/voting-points/{point_id}/kiosks"
    token = csrf_token(client, path)
    response = client.post(path, data={"csrf_token": token, "label": "Mesa"})
    cookie = next(
        c for c in response.headers.getlist("Set-Cookie") if c.startswith("__Host-" + COOKIE)
    )
    assert "Secure" in cookie and "Path=/" in cookie and "Domain" not in cookie


def test_enrolment_refuses_a_bad_label_an_inactive_point_and_other_roles(app, world):
    point_id = _point(app, world)
    client = _coordinator(app)
    path = f"/staff/voting-points/{point_id}/kiosks"
    assert post_form(client, path, {"label": ""}).status_code == 422
    assert post_form(client, path, {"label": "x" * 81}).status_code == 422
    assert post_form(client, path, {"label": "a\x07b"}).status_code == 422
    with app.app_context():
        db.session.get(VotingPoint, point_id).active = False
        db.session.commit()
    refused = post_form(client, path, {"label": "Mesa"})
    assert refused.status_code == 409
    assert client.get_cookie(COOKIE) is None
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(KioskDevice.id))) == 0
    other = app.test_client()
    with app.app_context():
        login_as(other, factories.user("auditor"))
    assert other.get(path).status_code == 403
    assert app.test_client().get("/staff/voting-points/999/kiosks").status_code == 302


def test_voting_points_list_links_to_the_kiosks(app, world):
    point_id = _point(app, world)
    client = _coordinator(app)
    page = text(client.get("/staff/voting-points"))
    assert f"/staff/voting-points/{point_id}/kiosks" in page
    kiosks = client.get(f"/staff/voting-points/{point_id}/kiosks")
    assert kiosks.status_code == 200 and page_problems(text(kiosks)) == []


# --- the kiosk as its voting point ---------------------------------------------------------


def test_a_kiosk_votes_as_its_point(app, world):
    client, point_id = _kiosk(app, world)
    receipt = _kiosk_vote(client, world, world.voters[0], world.proposals[0][0])
    assert RECEIPT.search(text(receipt))
    with app.app_context():
        row = db.session.scalars(sa.select(Participation)).one()
        assert row.voting_point_id == point_id
    # The same browser without its cookie is an ordinary visitor.
    plain = app.test_client()
    assert plain.get("/quiosque").status_code == 403


def test_revoked_and_forged_cookies_are_ignored(app, world):
    client, point_id = _kiosk(app, world)
    with app.app_context():
        device_id = db.session.scalars(sa.select(KioskDevice.id)).one()
    # Forged: a cookie signed with another key, and one signed right but with a wrong secret.
    serializer = URLSafeSerializer(app.config["SECRET_KEY"], salt=devices.COOKIE_SALT)
    for value in (
        URLSafeSerializer("another key", salt=devices.COOKIE_SALT).dumps(
            {"d": device_id, "s": "x"}
        ),
        serializer.dumps({"d": device_id, "s": "not the secret"}),
        serializer.dumps(["garbage"]),
        "no signature at all",
    ):
        forged = app.test_client()
        forged.set_cookie(COOKIE, value)
        page = forged.get("/quiosque")
        assert page.status_code == 403 and "not enrolled" in text(page)
        assert identify(forged, world, world.voters[1]).status_code == 303
        ballot = forged.get(url(world, "cedula"))
        assert 'class="site-header"' in text(ballot)  # the public layout, not the kiosk's

    # Revoked by a coordinator elsewhere: the kiosk stops at once.
    coordinator = _coordinator(app)
    revoke = f"/staff/voting-points/{point_id}/kiosks/{device_id}/revoke"
    response = post_form(
        coordinator, revoke, {}, form_url=f"/staff/voting-points/{point_id}/kiosks"
    )
    assert response.status_code == 303
    page = client.get("/quiosque")
    assert page.status_code == 403 and "not enrolled" in text(page)
    again = post_form(coordinator, revoke, {}, form_url=f"/staff/voting-points/{point_id}/kiosks")
    assert again.status_code == 409  # already revoked
    with app.app_context():
        assert db.session.get(KioskDevice, device_id).revoked_at is not None
        actions = db.session.scalars(sa.select(AuditEntry.action)).all()
        assert "kiosk.revoke" in actions
    # A vote from the revoked device counts as an ordinary visitor's.
    assert identify(client, world, world.voters[2]).status_code == 303
    choice = {region_field(world.regions[0]): str(world.proposals[0][1])}
    assert post_ballot(client, world, choice).status_code == 303
    assert confirm(client, world).status_code == 303
    with app.app_context():
        assert db.session.scalars(sa.select(Participation.voting_point_id)).all() == [None]


def test_a_device_of_another_point_cannot_be_revoked_through_this_one(app, world):
    _client, point_id = _kiosk(app, world)
    other_point = _point(app, world, name="Outro ponto")
    with app.app_context():
        device_id = db.session.scalars(sa.select(KioskDevice.id)).one()
    coordinator = _coordinator(app)
    response = post_form(
        coordinator,
        f"/staff/voting-points/{other_point}/kiosks/{device_id}/revoke",
        {},
        form_url=f"/staff/voting-points/{other_point}/kiosks",
    )
    assert response.status_code == 404
    with app.app_context():
        assert db.session.get(KioskDevice, device_id).revoked_at is None


def test_a_kiosk_of_an_inactive_point_is_not_a_kiosk(app, world):
    from opdigital.voting.limits import forget_voting_points

    client, point_id = _kiosk(app, world)
    with app.app_context():
        db.session.get(VotingPoint, point_id).active = False
        db.session.commit()
    forget_voting_points()
    assert client.get("/quiosque").status_code == 403


# --- a closed point ------------------------------------------------------------------------


def test_a_closed_point_takes_no_vote(app, world):
    client, point_id = _kiosk(app, world, open_for_cycle=False)
    start = client.get("/quiosque")
    assert start.status_code == 200 and "This voting point is closed" in text(start)
    assert f'href="{url(world)}"' not in text(start)
    page = client.get(url(world))
    assert page.status_code == 403 and "This voting point is closed" in text(page)
    assert identify(client, world, world.voters[0]).status_code == 403

    # Opened: the voter identifies and fills the ballot; closed before the cast: refused.
    _set_open(app, point_id, world.cycle_id, True)
    assert identify(client, world, world.voters[0]).status_code == 303
    choice = {region_field(world.regions[0]): str(world.proposals[0][0])}
    assert post_ballot(client, world, choice).status_code == 303
    token = csrf_token(client, url(world, "revisao"))
    _set_open(app, point_id, world.cycle_id, False)
    refused = client.post(url(world, "revisao"), data={"csrf_token": token})
    assert refused.status_code == 403 and "This voting point is closed" in text(refused)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Participation)) == 0


# --- voters one after another --------------------------------------------------------------


def test_three_voters_one_after_another_leave_nothing_behind(app, world):
    client, point_id = _kiosk(app, world)
    codes: list[str] = []
    for number, titulo in enumerate(world.voters[:3]):
        choice = world.proposals[0][number % 2]
        receipt = _kiosk_vote(client, world, titulo, choice)
        page = text(receipt)
        code = RECEIPT.search(page).group(0)
        assert code not in codes
        codes.append(code)
        assert "data-kiosk-print" in page and 'action="/quiosque/proximo"' in page
        assert 'data-kiosk-idle="60"' in page  # the receipt's shorter timeout
        assert 'class="site-header"' not in page and "/api/" not in page
        assert '<svg role="img" class="qr"' in page

        token = CSRF.search(page).group(1)
        finish = client.post("/quiosque/proximo", data={"csrf_token": token})
        assert finish.status_code == 303 and finish.headers["Location"].endswith("/quiosque")
        assert _session(client) == {}

        # The back button: every previous page is asked again and finds no voter.
        for step in ("comprovante", "revisao", "cedula"):
            again = client.get(url(world, step))
            assert again.status_code == 303, step
            assert again.headers["Location"].endswith("/quiosque"), step
            assert "flash" not in str(_session(client))
        start = client.get("/quiosque")
        for earlier in codes:
            assert earlier not in text(start)
        assert world.titles[choice] not in text(start)

    with app.app_context():
        points = db.session.scalars(sa.select(Participation.voting_point_id)).all()
    assert points == [point_id] * 3


def test_cancel_clears_the_session_on_any_step(app, world):
    client, _ = _kiosk(app, world)
    assert identify(client, world, world.voters[0]).status_code == 303
    ballot = client.get(url(world, "cedula"))
    assert 'action="/quiosque/cancelar"' in text(ballot)
    response = post_form(client, "/quiosque/cancelar", {}, form_url=url(world, "cedula"))
    assert response.status_code == 303 and response.headers["Location"].endswith("/quiosque")
    assert set(_session(client)) <= {"_flashes"}
    assert client.get(url(world, "cedula")).headers["Location"].endswith("/quiosque")
    assert "nothing was recorded" in text(client.get("/quiosque"))


def test_an_expired_finish_form_still_resets_the_kiosk(app, world):
    client, _ = _kiosk(app, world)
    assert identify(client, world, world.voters[0]).status_code == 303
    response = client.post("/quiosque/proximo", data={"csrf_token": "stale"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/quiosque")
    assert _session(client) == {}


# --- idle timeout --------------------------------------------------------------------------


def test_timeout_page_clears_the_kiosk_session(app, world):
    client, _ = _kiosk(app, world)
    assert identify(client, world, world.voters[0]).status_code == 303
    ballot = text(client.get(url(world, "cedula")))
    refresh = re.search(r'<noscript><meta http-equiv="refresh" content="(\d+);url=([^"]+)"', ballot)
    assert refresh and refresh.group(2) == "/quiosque/tempo-esgotado"
    assert refresh.group(1) == "480"  # the ballot's, without JavaScript
    assert 'data-kiosk-idle="120"' in ballot and 'role="alertdialog"' in ballot
    page = client.get("/quiosque/tempo-esgotado")
    assert page.status_code == 200 and "nothing was recorded" in text(page)
    assert _session(client) == {}
    assert client.get(url(world, "cedula")).headers["Location"].endswith("/quiosque")
    assert page_problems(text(page)) == []


def test_timeout_page_elsewhere_forgets_only_the_vote(app, world):
    client = _coordinator(app)
    assert identify(client, world, world.voters[0]).status_code == 303
    client.get("/quiosque/tempo-esgotado")
    session = _session(client)
    assert "_user_id" in session and "voting.voter" not in session


def test_a_kiosk_voter_is_forgotten_sooner(app, world, time_machine):
    client, _ = _kiosk(app, world)
    world_now = _now()
    time_machine.move_to(world_now, tick=False)
    assert identify(client, world, world.voters[0]).status_code == 303
    time_machine.move_to(world_now + timedelta(minutes=9), tick=False)
    assert client.get(url(world, "cedula")).status_code == 200
    time_machine.move_to(world_now + timedelta(minutes=10, seconds=1), tick=False)
    late = client.get(url(world, "cedula"))
    assert late.status_code == 303 and late.headers["Location"].endswith("/quiosque")


def _now():
    from opdigital.clock import now

    return now()


# --- the pages themselves ------------------------------------------------------------------


def test_kiosk_pages_are_never_cached_and_keep_to_the_vote(app, world):
    client, _ = _kiosk(app, world)
    seen = [client.get("/quiosque"), client.get(url(world))]
    identify_page = text(seen[-1])
    assert 'autocomplete="off"' in identify_page
    birth_date = re.search(r'<input[^>]*id="birth_date"[^>]*>', identify_page).group(0)
    assert 'autocomplete="off"' in birth_date
    assert "bday" not in identify_page
    hrefs = re.findall(r'href="([^"]+)"', identify_page)
    # The privacy notice (LGPD: linked from every form that takes personal data) keeps to the
    # kiosk's layout; nothing else leaves the vote.
    assert all(h.startswith(("/static/", "/lang/", "#", "/privacidade")) for h in hrefs), hrefs
    notice = text(client.get("/privacidade"))
    assert "kiosk-main" in notice and "main-nav" not in notice
    assert identify(client, world, world.voters[0]).status_code == 303
    seen += [client.get(url(world, "cedula")), client.get("/quiosque/tempo-esgotado")]
    for response in seen:
        assert response.headers["Cache-Control"] == "no-store"
        assert page_problems(text(response)) == []


def test_several_open_cycles_are_offered_to_choose(app, world):
    second = build_world(app, voters=1)
    client, point_id = _kiosk(app, world)
    _set_open(app, point_id, second.cycle_id, True)
    start = text(client.get("/quiosque"))
    assert f'href="{url(world)}"' in start and f'href="{url(second)}"' in start
    assert "Poll worker" in start


def test_the_api_ignores_the_kiosk_cookie(app, world, cast_path):
    """The JSON API trusts no cookie: on either cast path a kiosk's request is an address's."""
    client, _ = _kiosk(app, world)
    payload = vs.body(world.voters[0], [world.proposals[0][0]], BIRTH)
    response = vs.post_ballot(client, world.slug, payload)
    assert response.status_code == 201, response.get_json()
    with app.app_context():
        assert db.session.scalars(sa.select(Participation.voting_point_id)).all() == [None]
