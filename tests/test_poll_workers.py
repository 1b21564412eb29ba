"""Poll workers: created by coordinators (one at a time and from CSV files), signed in on a shared
device, bound to their point and cycle, refused every other staff screen; they open and close
their point and see its turnout."""

from __future__ import annotations

import io
import json
import logging
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from flask import url_for

from opdigital.accounts.models import User
from opdigital.clock import now
from opdigital.extensions import db
from opdigital.polling.services import point_is_open
from opdigital.voting.models import Participation, VotingPoint
from tests.support import factories
from tests.support import polling as ps
from tests.support import voting as vs
from tests.support.client import english_client, login_as
from tests.support.coordination import sign_in, text, token
from tests.support.pages import PageAudit
from tests.support.staff_routes import refused_everywhere_but


@pytest.fixture
def day(app):
    """A cycle in its vote, two voting points, a coordinator (signed in on `coordinator`)."""
    with app.app_context():
        cycle = vs.voting_cycle().cycle
        first, second = ps.point("CRAS Barreiro"), ps.point("Escola Estadual Central")
        staff = factories.user("coordinator")
        w = SimpleNamespace(
            cycle_id=cycle.id,
            slug=cycle.slug,
            point_id=first.id,
            other_point_id=second.id,
            coordinator=SimpleNamespace(id=staff.id, email=staff.email),
        )
    w.coordinator_client = english_client(app)
    sign_in(w.coordinator_client, w.coordinator)
    return w


def _post(app, client, url, data=None, **kwargs):
    return client.post(url, data={"csrf_token": token(app, client), **(data or {})}, **kwargs)


def _upload(app, client, url, content: bytes, cycle_id: int):
    data = {
        "csrf_token": token(app, client),
        "csv-csrf_token": token(app, client),
        "csv-cycle": str(cycle_id),
        "csv-file": (io.BytesIO(content), "mesarios.csv"),
    }
    return client.post(url, data=data, content_type="multipart/form-data")


def _poll_workers(app) -> list[User]:
    with app.app_context():
        users = list(db.session.scalars(sa.select(User).where(User.role == "poll_worker")))
        db.session.expunge_all()
        return users


# --- creation -------------------------------------------------------------------------------


def test_one_poll_worker_gets_a_password_shown_once(app, day, caplog):
    caplog.set_level(logging.DEBUG)
    client = day.coordinator_client
    page = client.get(f"/staff/voting-points/{day.point_id}/poll-workers")
    assert page.status_code == 200 and "Add a poll worker" in text(page)
    data = {"name": "Maria da Silva", "email": "Maria.Silva@pbh.gov.br", "cycle": day.cycle_id}
    response = _post(app, client, f"/staff/voting-points/{day.point_id}/poll-workers", data)
    assert response.status_code == 200, text(response)
    assert response.headers["Cache-Control"] == "no-store"
    passwords = ps.PASSWORD.findall(response.get_data(as_text=True))
    assert len(passwords) == 1
    password = passwords[0]
    [worker] = _poll_workers(app)
    assert (worker.email, worker.name) == ("maria.silva@pbh.gov.br", "Maria da Silva")
    assert (worker.voting_point_id, worker.cycle_id, worker.active) == (
        day.point_id,
        day.cycle_id,
        True,
    )
    # Never again: not on the list, not in the audit log, not in the logs.
    again = client.get(f"/staff/voting-points/{day.point_id}/poll-workers")
    assert "maria.silva@pbh.gov.br" in text(again) and password not in again.get_data(as_text=True)
    [entry] = ps.audit_entries(app, "user.create")
    assert entry.after == {
        "email": "maria.silva@pbh.gov.br",
        "role": "poll_worker",
        "voting_point_id": day.point_id,
        "cycle_id": day.cycle_id,
    }
    assert password not in json.dumps([entry.before, entry.after])
    assert password not in caplog.text
    # The password works: the poll worker signs in and lands on their dashboard.
    browser = english_client(app)
    response = browser.post(
        "/login",
        data={
            "csrf_token": token(app, browser),
            "email": worker.email,
            "password": password,
        },
    )
    assert response.status_code == 302 and response.headers["Location"] == "/mesario/"
    assert "CRAS Barreiro" in text(browser.get("/mesario/"))


def test_one_poll_worker_refusals(app, day):
    client = day.coordinator_client
    url = f"/staff/voting-points/{day.point_id}/poll-workers"
    ps.poll_worker(app, day.point_id, day.cycle_id, email="ana@pbh.gov.br")
    taken = {"name": "Ana", "email": "ANA@pbh.gov.br", "cycle": day.cycle_id}
    response = _post(app, client, url, taken)
    assert response.status_code == 409
    assert "already exists" in text(response)
    bad = _post(app, client, url, {"name": "", "email": "not-an-email", "cycle": ""})
    assert bad.status_code == 422
    assert "Enter a valid e-mail address." in text(bad) and "Choose the cycle." in text(bad)
    assert len(_poll_workers(app)) == 1
    # A closed cycle is not offered; posting its id anyway is refused.
    with app.app_context():
        closed = factories.cycle(state="closed").id
    response = _post(app, client, url, {"name": "Bia", "email": "bia@pbh.gov.br", "cycle": closed})
    assert response.status_code == 422
    assert len(_poll_workers(app)) == 1


def test_csv_on_a_point_page_with_semicolons_and_a_bom(app, day):
    content = (
        "\ufeffnome;e-mail\r\nMaria da Silva;maria@pbh.gov.br\r\n;\r\n"
        "João Souza;joao@pbh.gov.br\r\n"
    ).encode()
    url = f"/staff/voting-points/{day.point_id}/poll-workers/import"
    response = _upload(app, day.coordinator_client, url, content, day.cycle_id)
    assert response.status_code == 200, text(response)
    assert response.headers["Cache-Control"] == "no-store"
    assert len(ps.PASSWORD.findall(response.get_data(as_text=True))) == 2
    workers = sorted(_poll_workers(app), key=lambda u: u.email)
    assert [(u.name, u.email, u.voting_point_id) for u in workers] == [
        ("João Souza", "joao@pbh.gov.br", day.point_id),
        ("Maria da Silva", "maria@pbh.gov.br", day.point_id),
    ]
    assert len(ps.audit_entries(app, "user.create")) == 2


def test_csv_in_windows_1252_for_several_points(app, day):
    content = (
        f"name,email,voting_point\nJoão Souza,joao@pbh.gov.br,{day.point_id}\n"
        "Zé Lima,ze@pbh.gov.br,escola estadual central\n"
    ).encode("cp1252")
    client = day.coordinator_client
    assert client.get("/staff/poll-workers/import").status_code == 200
    response = _upload(app, client, "/staff/poll-workers/import", content, day.cycle_id)
    assert response.status_code == 200, text(response)
    points = {u.name: u.voting_point_id for u in _poll_workers(app)}
    assert points == {"João Souza": day.point_id, "Zé Lima": day.other_point_id}


def test_csv_with_bad_rows_creates_nobody_and_lists_every_row(app, day):
    ps.poll_worker(app, day.point_id, day.cycle_id, email="taken@pbh.gov.br")
    content = (
        "name,email,voting_point\n"
        "Maria,maria@pbh.gov.br,\n"  # line 2: fine
        ",nameless@pbh.gov.br,\n"  # line 3: no name
        "Bad Mail,not-an-address,\n"  # line 4
        "Again,MARIA@pbh.gov.br,\n"  # line 5: twice in the file
        "Taken,taken@pbh.gov.br,\n"  # line 6: an account exists
        f"Elsewhere,else@pbh.gov.br,{day.other_point_id}\n"  # line 7: another point
    ).encode()
    url = f"/staff/voting-points/{day.point_id}/poll-workers/import"
    response = _upload(app, day.coordinator_client, url, content, day.cycle_id)
    assert response.status_code == 422
    page = text(response)
    assert "Nobody was created" in page
    assert "Line 3: Give the poll worker's name." in page
    assert "Line 4: Enter a valid e-mail address." in page
    assert "Line 5: This e-mail address is also on line 2." in page
    assert "Line 6: An account with this e-mail already exists." in page
    assert "Line 7: This row names another voting point" in page
    assert "Line 2" not in page
    assert len(_poll_workers(app)) == 1  # only the one made before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty."),
        (b"name,phone\nAna,123\n", "phone is not one of them"),
        (b"name,email\n", "no poll worker under its header"),
        (b"name,email\n" + b"Ana,a@pbh.gov.br\n" * 101, "at most 100 at a time"),
        (b"name,email\nAna," + b"a" * 70_000 + b"\n", "The file is too large"),
    ],
)
def test_csv_refused_as_a_whole(app, day, content, message):
    url = f"/staff/voting-points/{day.point_id}/poll-workers/import"
    response = _upload(app, day.coordinator_client, url, content, day.cycle_id)
    assert response.status_code == 422
    assert message in text(response)
    assert _poll_workers(app) == []


def test_city_wide_csv_needs_known_points(app, day):
    content = b"name,email,voting_point\nAna,ana@pbh.gov.br,999\nBia,bia@pbh.gov.br,Nowhere\n"
    response = _upload(
        app, day.coordinator_client, "/staff/poll-workers/import", content, day.cycle_id
    )
    assert response.status_code == 422
    page = text(response)
    assert "Line 2: There is no voting point number 999." in page
    assert "Line 3: There is no voting point named Nowhere." in page
    missing = _upload(
        app, day.coordinator_client, "/staff/poll-workers/import", b"name,email\nA,a@b.br\n", 1
    )
    assert missing.status_code == 422 and "missing: voting_point" in text(missing)


def test_deactivation_signs_the_poll_worker_out(app, day):
    person = ps.poll_worker(app, day.point_id, day.cycle_id)
    browser = ps.signed_in(app, person)
    assert browser.get("/mesario/").status_code == 200
    url = f"/staff/voting-points/{day.point_id}/poll-workers/{person.id}/active"
    response = _post(app, day.coordinator_client, url)
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(User, person.id).active is False
    assert browser.get("/mesario/").status_code == 302  # to the sign-in page
    refused = browser.post(
        "/login",
        data={"csrf_token": token(app, browser), "email": person.email, "password": "x" * 12},
    )
    assert refused.status_code == 401
    # Another point's URL cannot reach this point's poll worker.
    _post(app, day.coordinator_client, url.replace(str(day.point_id), str(day.other_point_id)))
    with app.app_context():
        assert db.session.get(User, person.id).active is False


def test_the_account_screen_sends_poll_workers_to_their_point(app, day):
    """A poll worker's role and binding are not edited as an account's: the admin screen sends
    to the point's page (GET and POST), and nothing changes."""
    person = ps.poll_worker(app, day.point_id, day.cycle_id)
    with app.app_context():
        staff = factories.user("admin")
        admin = ps.signed_in(app, SimpleNamespace(email=staff.email))
    url = f"/staff/accounts/{person.id}"
    target = f"/staff/voting-points/{day.point_id}/poll-workers"
    assert admin.get(url).headers["Location"] == target
    changed = admin.post(url, data={"csrf_token": token(app, admin), "role": "admin"})
    assert (changed.status_code, changed.headers["Location"]) == (303, target)
    with app.app_context():
        assert db.session.get(User, person.id).role == "poll_worker"


# --- the shared device ----------------------------------------------------------------------


def test_sign_in_is_for_this_browser_session_and_ends_when_idle(app, day, time_machine):
    time_machine.move_to(now(), tick=False)
    person = ps.poll_worker(app, day.point_id, day.cycle_id)
    browser = english_client(app)
    response = browser.post(
        "/login?next=/staff/",
        data={
            "csrf_token": token(app, browser),
            "email": person.email,
            "password": factories.PASSWORD,
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/mesario/"  # never another staff screen
    cookies = response.headers.getlist("Set-Cookie")
    session_cookie = next(c for c in cookies if c.startswith("session="))
    assert "Expires" not in session_cookie and "Max-Age" not in session_cookie
    assert not any(c.startswith("remember_token=") for c in cookies)
    page = browser.get("/mesario/")
    assert "Sign out" in text(page) and "15 minutes without activity" in text(page)
    other_device = ps.signed_in(app, person)

    time_machine.shift(timedelta(minutes=14))
    assert browser.get("/mesario/").status_code == 200  # activity restarts the clock
    time_machine.shift(timedelta(minutes=14))
    assert browser.get("/mesario/").status_code == 200
    time_machine.shift(timedelta(minutes=15, seconds=1))
    response = browser.get("/mesario/")
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/login")
    assert "without activity" in text(browser.get(response.headers["Location"]))
    assert browser.get("/mesario/").status_code == 302  # signed out here ...
    time_machine.shift(timedelta(minutes=-30))
    assert other_device.get("/mesario/").status_code == 200  # ... only


def test_a_session_without_the_idle_clock_is_not_accepted(app, day):
    """A cookie naming a poll worker but not made by the sign-in (no idle clock) is refused."""
    person = ps.poll_worker(app, day.point_id, day.cycle_id)
    browser = english_client(app)
    login_as(browser, person)
    response = browser.get("/mesario/")
    assert response.status_code == 303 and response.headers["Location"].startswith("/login")


# Endpoints a poll worker may use: their own pages, signing in and out, and the paper ballot
# pages of their point (that feature's own tests check what they allow).
POLL_WORKER_PAGES = ("polling.", "paper.", "accounts.login", "accounts.logout")


def test_a_poll_worker_is_refused_every_other_staff_screen(app, day):
    person = ps.poll_worker(app, day.point_id, day.cycle_id)
    browser = ps.signed_in(app, person)
    refused, endpoints = refused_everywhere_but(
        app,
        browser,
        POLL_WORKER_PAGES,
        # Refused, or sent back to their own point's page.
        lambda got: (
            got.status_code == 403
            or (got.status_code in (302, 303) and got.headers["Location"].startswith("/mesario"))
        ),
    )
    assert refused == []
    assert {
        "coordination.dashboard",
        "coordination.turnout_page",
        "coordination.poll_workers",
        "accounts.list_users",
        "audit.log",
        "coordination.tally_package",
    } <= endpoints
    # Still signed in throughout: refusals, not sign-outs.
    assert browser.get("/mesario/").status_code == 200


def test_other_roles_have_no_poll_worker_screens(app, day):
    for role in ("admin", "coordinator", "auditor"):
        with app.app_context():
            user = SimpleNamespace(id=factories.user(role).id)
        browser = english_client(app)
        login_as(browser, user)
        assert browser.get("/mesario/").status_code == 403, role
        assert browser.get("/mesario/identificar").status_code == 403, role
    assert english_client(app).get("/mesario/").status_code == 302


# --- the dashboard: open, close, turnout ----------------------------------------------------


def test_open_and_close_the_point_with_audit_entries(app, day):
    person = ps.poll_worker(app, day.point_id, day.cycle_id)
    other = ps.poll_worker(app, day.other_point_id, day.cycle_id)
    browser = ps.signed_in(app, person)
    page = browser.get("/mesario/")
    assert "Open the point" in text(page) and "Closed" in text(page)
    # A field naming another point is ignored: the point is the account's.
    response = _post(app, browser, "/mesario/abrir", {"voting_point_id": day.other_point_id})
    assert response.status_code == 303
    with app.app_context():
        assert point_is_open(day.point_id, day.cycle_id)
        assert not point_is_open(day.other_point_id, day.cycle_id)
    assert "Close the point" in text(browser.get("/mesario/"))
    assert _post(app, browser, "/mesario/abrir").status_code == 409  # already open
    assert _post(app, browser, "/mesario/fechar").status_code == 303
    with app.app_context():
        assert not point_is_open(day.point_id, day.cycle_id)
    opened = ps.audit_entries(app, "voting_point.open")
    closed = ps.audit_entries(app, "voting_point.close")
    assert [(e.actor_id, e.after["voting_point_id"]) for e in opened + closed] == [
        (person.id, day.point_id),
        (person.id, day.point_id),
    ]
    assert "at" in opened[0].after and "at" in closed[0].after
    # No URL reaches another point, and a POST without its CSRF token does nothing.
    assert browser.get(f"/mesario/{day.other_point_id}").status_code == 404
    assert browser.post("/mesario/abrir").status_code == 400
    other_browser = ps.signed_in(app, other)
    assert "Open the point" in text(other_browser.get("/mesario/"))


def test_an_inactive_point_cannot_be_opened(app, day):
    person = ps.poll_worker(app, day.point_id, day.cycle_id)
    browser = ps.signed_in(app, person)
    with app.app_context():
        db.session.get(VotingPoint, day.point_id).active = False
        db.session.commit()
    assert _post(app, browser, "/mesario/abrir").status_code == 409
    with app.app_context():
        assert not point_is_open(day.point_id, day.cycle_id)


def test_turnout_on_the_dashboard_and_the_coordination_screen(app, day):
    with app.app_context():
        rows = [
            (day.point_id, True, False),
            (day.point_id, True, False),
            (day.point_id, False, True),
            (day.point_id, False, False),
            (day.other_point_id, True, False),
            (None, False, False),
        ]
        db.session.add_all(
            Participation(
                cycle_id=day.cycle_id,
                voter_key=f"{n:064d}",
                voted_on=date.today(),
                voting_point_id=point_id,
                assisted=assisted,
                on_paper=paper,
            )
            for n, (point_id, assisted, paper) in enumerate(rows)
        )
        db.session.commit()
    person = ps.poll_worker(app, day.point_id, day.cycle_id)
    page = text(ps.signed_in(app, person).get("/mesario/"))
    assert "Votes at this point 4" in page
    assert "of which assisted by a poll worker 2" in page
    assert "of which on paper 1" in page
    turnout = day.coordinator_client.get(f"/staff/cycles/{day.slug}/turnout")
    assert turnout.status_code == 200
    screen = text(turnout)
    assert "CRAS Barreiro 4 2 1" in screen
    assert "Escola Estadual Central 1 1 0" in screen
    assert "Online, not at a voting point 1 0 0" in screen


def test_new_pages_pass_the_page_audit(app, day):
    """Landmarks, one h1, a label on every field (tests/support/pages.py)."""
    person = ps.poll_worker(app, day.point_id, day.cycle_id)
    browser = ps.signed_in(app, person)
    _post(app, browser, "/mesario/abrir")
    pages = [(browser, "/mesario/"), (browser, "/mesario/identificar")]
    staff = day.coordinator_client
    pages += [
        (staff, f"/staff/voting-points/{day.point_id}/poll-workers"),
        (staff, "/staff/poll-workers/import"),
        (staff, "/staff/voting-points"),
    ]
    for client, url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        audit = PageAudit()
        audit.feed(response.get_data(as_text=True))
        assert audit.problems() == [], url
    data = {"name": "Ana", "email": "ana@pbh.gov.br", "cycle": day.cycle_id}
    created = _post(app, staff, f"/staff/voting-points/{day.point_id}/poll-workers", data)
    audit = PageAudit()
    audit.feed(created.get_data(as_text=True))
    assert audit.problems() == []


def test_the_dashboard_links_to_the_paper_pages_of_its_point(app, day):
    person = ps.poll_worker(app, day.point_id, day.cycle_id)
    page = ps.signed_in(app, person).get("/mesario/").get_data(as_text=True)
    for endpoint in ("paper.participation", "paper.sheets", "paper.batches"):
        if endpoint in app.view_functions:
            with app.test_request_context():
                assert url_for(endpoint, slug=day.slug, point_id=day.point_id) in page
