"""Assisted identification: a poll worker identifies a voter from a document at an open point, is
signed out of that browser, and the voter chooses alone; the vote records the point and that it
was assisted, never who assisted."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest
import sqlalchemy as sa

from opdigital.audit.models import AuditEntry
from opdigital.clock import now
from opdigital.extensions import db
from opdigital.polling.services import set_point_open
from opdigital.voting.models import Participation
from tests.support import polling as ps
from tests.support.client import english_client
from tests.support.coordination import text, token
from tests.support.voting_web import BIRTH, build_world, confirm, post_ballot, region_field

IDENTIFY = "/mesario/identificar"


@pytest.fixture
def world(app):
    """An open vote, a voting point (opened) and its poll worker."""
    w = build_world(app)
    with app.app_context():
        w.point_id = ps.point("CRAS Venda Nova").id
        set_point_open(w.point_id, w.cycle_id, True, actor=None)
    w.person = ps.poll_worker(app, w.point_id, w.cycle_id)
    return w


def _choices(world):
    return {region_field(r): str(world.proposals[i][0]) for i, r in enumerate(world.regions)}


def _identify(app, browser, titulo: str, birth=BIRTH):
    data = {"csrf_token": token(app, browser), "titulo": titulo, "birth_date": birth.isoformat()}
    return browser.post(IDENTIFY, data=data)


def _participations(app, world) -> list[tuple]:
    with app.app_context():
        rows = db.session.scalars(
            sa.select(Participation).where(Participation.cycle_id == world.cycle_id)
        )
        return [(p.voter_key, p.voting_point_id, p.assisted, p.on_paper) for p in rows]


def _audit(app) -> list[AuditEntry]:
    with app.app_context():
        entries = list(db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)))
        db.session.expunge_all()
        return entries


def test_assisted_vote_records_the_point_and_signs_the_poll_worker_out(app, world, caplog):
    caplog.set_level(logging.DEBUG)
    browser = ps.signed_in(app, world.person)
    other_device = ps.signed_in(app, world.person)
    audit_before = len(_audit(app))
    form = browser.get(IDENTIFY)
    assert form.status_code == 200 and "Hand over to the voter" in text(form)
    voter = world.voters[0]
    response = _identify(app, browser, voter)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/ciclos/{world.slug}/votar/cedula"
    # The poll worker is signed out of this browser only.
    assert browser.get("/mesario/").status_code == 302
    assert other_device.get("/mesario/").status_code == 200
    # The voter chooses alone, and casts.
    ballot = browser.get(f"/ciclos/{world.slug}/votar/cedula")
    assert ballot.status_code == 200
    assert post_ballot(browser, world, _choices(world)).status_code == 303
    assert confirm(browser, world).status_code == 303
    assert _participations(app, world) == [(world.keys[voter], world.point_id, True, False)]
    # Nothing per voter in the audit log (not even that someone was assisted), no voter data
    # in the logs; nothing links the poll worker to the participation.
    new_entries = _audit(app)[audit_before:]
    assert [e.action for e in new_entries if e.action != "user.login"] == []
    dumped = json.dumps([(e.before, e.after, e.object_id) for e in _audit(app)])
    assert world.keys[voter] not in dumped and voter not in dumped
    assert voter not in caplog.text and world.keys[voter] not in caplog.text
    with app.app_context():
        columns = {c.name for c in Participation.__table__.columns}
    assert not any("user" in c or "actor" in c or "worker" in c for c in columns)


def test_an_unassisted_vote_on_the_same_device_records_no_point(app, world):
    """After the hand-over nothing of the assisted context is left for the next voter."""
    browser = ps.signed_in(app, world.person)
    assert _identify(app, browser, world.voters[0]).status_code == 303
    assert post_ballot(browser, world, _choices(world)).status_code == 303
    assert confirm(browser, world).status_code == 303
    identify_url = f"/ciclos/{world.slug}/votar"
    data = {
        "csrf_token": token(app, browser),
        "titulo": world.voters[1],
        "birth_date": BIRTH.isoformat(),
    }
    assert browser.post(identify_url, data=data).status_code == 303
    assert post_ballot(browser, world, _choices(world)).status_code == 303
    assert confirm(browser, world).status_code == 303
    rows = {key: (point, assisted) for key, point, assisted, _ in _participations(app, world)}
    assert rows[world.keys[world.voters[1]]] == (None, False)


def test_a_voter_who_already_voted_is_refused_clearly(app, world):
    browser = ps.signed_in(app, world.person)
    assert _identify(app, browser, world.voters[0]).status_code == 303
    assert post_ballot(browser, world, _choices(world)).status_code == 303
    assert confirm(browser, world).status_code == 303
    again = ps.signed_in(app, world.person)
    response = _identify(app, again, world.voters[0])
    assert response.status_code == 409
    assert "already voted" in text(response)
    assert again.get("/mesario/").status_code == 200  # still signed in
    assert len(_participations(app, world)) == 1


def test_wrong_details_are_refused_and_the_poll_worker_stays(app, world):
    browser = ps.signed_in(app, world.person)
    response = _identify(app, browser, world.voters[0], birth=BIRTH.replace(year=1990))
    assert response.status_code == 403
    assert world.voters[0] not in response.get_data(as_text=True)  # not echoed on the page
    assert browser.get("/mesario/").status_code == 200
    bad = browser.post(IDENTIFY, data={"csrf_token": token(app, browser), "titulo": "abc"})
    assert bad.status_code == 422


def test_no_identification_while_the_point_is_closed(app, world):
    with app.app_context():
        set_point_open(world.point_id, world.cycle_id, False, actor=None)
    browser = ps.signed_in(app, world.person)
    assert "Identify a voter" not in text(browser.get("/mesario/"))
    assert browser.get(IDENTIFY).status_code == 403
    response = _identify(app, browser, world.voters[0])
    assert response.status_code == 403
    assert "Open the voting point" in text(response)
    assert _participations(app, world) == []


def test_no_identification_while_voting_is_closed(app):
    world = build_world(app, opens=now() + timedelta(days=1))
    with app.app_context():
        point_id = ps.point().id
        set_point_open(point_id, world.cycle_id, True, actor=None)
    person = ps.poll_worker(app, point_id, world.cycle_id)
    browser = ps.signed_in(app, person)
    response = _identify(app, browser, world.voters[0])
    assert response.status_code == 403
    assert "Voting is not open" in text(response)


def test_a_poll_worker_of_another_point_or_cycle_identifies_only_for_their_own(app, world):
    """The point and cycle come from the account: another cycle's poll worker cannot start a
    vote in this one, whatever the form says."""
    other = build_world(app)
    with app.app_context():
        set_point_open(world.point_id, other.cycle_id, True, actor=None)
    person = ps.poll_worker(app, world.point_id, other.cycle_id)
    browser = ps.signed_in(app, person)
    # Both cycles read the city roll: the voter is identified for the poll worker's cycle only.
    response = _identify(app, browser, world.voters[0])
    assert response.status_code == 303
    assert response.headers["Location"] == f"/ciclos/{other.slug}/votar/cedula"
    assert browser.get(f"/ciclos/{world.slug}/votar/cedula").status_code == 303  # not here


def test_anonymous_and_plain_visitors_cannot_identify(app, world):
    anonymous = english_client(app)
    assert anonymous.get(IDENTIFY).status_code == 302
    response = anonymous.post(IDENTIFY, data={"csrf_token": token(app, anonymous)})
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_delegate_is_identified_by_the_code_on_their_slip(app, world):
    """A cycle whose roll is its delegates (the Regional Forum): the poll worker types the
    delegate's code, with no birth date, and the delegate votes as any assisted voter."""
    from opdigital.cycles.models import Cycle
    from opdigital.delegates.models import Delegate
    from opdigital.delegates.services import issue_code
    from opdigital.registry.models import delegate_scope

    with app.app_context():
        cycle = db.session.get(Cycle, world.cycle_id)
        cycle.registry_scope = delegate_scope(cycle.id)
        delegate = Delegate(cycle_id=cycle.id, name="Rosa Delegada", region_id=world.regions[0])
        db.session.add(delegate)
        db.session.commit()
        code = issue_code(delegate, None).printed
    browser = ps.signed_in(app, world.person)
    form = browser.get(IDENTIFY).get_data(as_text=True)
    assert 'name="code"' in form and 'name="birth_date"' not in form
    answer = browser.post(IDENTIFY, data={"csrf_token": token(app, browser), "code": code})
    assert answer.status_code == 303, text(answer)
    assert answer.headers["Location"].endswith("/votar/cedula")
    own_region = {region_field(world.regions[0]): str(world.proposals[0][0])}
    assert post_ballot(browser, world, own_region).status_code == 303
    assert confirm(browser, world).status_code == 303
    [(_, point, assisted, on_paper)] = _participations(app, world)
    assert (point, assisted, on_paper) == (world.point_id, True, False)
