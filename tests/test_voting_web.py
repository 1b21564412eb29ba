"""The citizen's voting flow in the browser: identify, ballot, review, confirm, receipt."""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from opdigital.clock import now
from opdigital.extensions import db
from opdigital.voting.limits import token_hash
from opdigital.voting.models import Ballot, Participation, VotingPoint
from opdigital.voting.receipts import normalise_receipt, receipt_hash
from opdigital.voting.views.qr import qr_svg
from tests.support.client import csrf_token
from tests.support.pages import page_problems
from tests.support.voting_web import (
    BIRTH,
    RECEIPT,
    build_world,
    confirm,
    english_client,
    identify,
    post_ballot,
    region_field,
    text,
    titulos,
    url,
    vote,
    without_csrf,
)


@pytest.fixture
def world(app):
    return build_world(app)


@pytest.fixture
def browser(app):
    return english_client(app)


def _rows(app, world):
    with app.app_context():
        parts = db.session.scalars(
            sa.select(Participation).where(Participation.cycle_id == world.cycle_id)
        ).all()
        ballots = db.session.scalars(sa.select(Ballot).where(Ballot.cycle_id == world.cycle_id))
        return [(p.voter_key, p.region_id, p.voting_point_id) for p in parts], list(ballots)


def _choices(world):
    """One proposal in each region: a valid one-per-region ballot."""
    return {region_field(r): str(world.proposals[i][1]) for i, r in enumerate(world.regions)}


# --- the happy path ------------------------------------------------------------------------


def test_public_cycle_page_shows_vote_button_only_while_voting_is_open(app, browser, world):
    assert url(world) in text(browser.get(f"/ciclos/{world.slug}"))
    closed = build_world(app, opens=now() + timedelta(days=1))
    assert url(closed) not in text(browser.get(f"/ciclos/{closed.slug}"))


def test_whole_flow_to_the_receipt(app, browser, world):
    page = browser.get(url(world))
    assert page.status_code == 200
    assert 'name="titulo"' in text(page) and 'name="birth_date"' in text(page)

    response = identify(browser, world, world.voters[0])
    assert response.status_code == 303
    assert response.headers["Location"].endswith(url(world, "cedula"))

    ballot = browser.get(url(world, "cedula"))
    assert ballot.status_code == 200
    html = text(ballot)
    assert html.count('type="radio"') == 2 * 2 + 2  # two per region + "no choice" in each
    assert "You may choose at most one proposal in each region." in html
    for title in world.titles.values():
        assert title in html

    response = post_ballot(browser, world, _choices(world))
    assert response.status_code == 303
    assert response.headers["Location"].endswith(url(world, "revisao"))

    review = text(browser.get(url(world, "revisao")))
    chosen = [world.proposals[0][1], world.proposals[1][1]]
    for pid in chosen:
        assert world.titles[pid] in review
    assert world.titles[world.proposals[0][0]] not in review
    assert "Confirm my vote" in review

    response = confirm(browser, world)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(url(world, "comprovante"))

    receipt = browser.get(url(world, "comprovante"))
    assert receipt.status_code == 200
    html = text(receipt)
    code = RECEIPT.search(html).group(0)
    assert "public ballot board" in html and "Keep it private." in html
    assert "Running totals" not in html
    for pid in chosen:  # the receipt page never shows the choices
        assert world.titles[pid] not in html

    participations, ballots = _rows(app, world)
    assert participations == [(world.keys[world.voters[0]], world.regions[0], None)]
    assert len(ballots) == 1
    assert ballots[0].choices == sorted(chosen)
    assert ballots[0].receipt_hash == receipt_hash(code)
    assert ballots[0].receipt_hash == hashlib.sha256(normalise_receipt(code).encode()).hexdigest()
    assert receipt.headers["Cache-Control"] == "no-store"


def test_receipt_has_the_qr_of_the_lookup_url_and_is_shown_once(app, browser, world):
    vote(browser, world, world.voters[0], _choices(world))
    html = text(browser.get(url(world, "comprovante")))
    code = RECEIPT.search(html).group(0)
    # The code after "#": browsers never send it to the server, so no access log has it.
    lookup = f"http://localhost/ciclos/{world.slug}/comprovante#{code}"
    with app.test_request_context():
        expected = qr_svg(lookup, title="x")
    path = expected.split(' d="', 1)[1].split('"', 1)[0]
    assert '<svg role="img"' in html and path in html
    # Next to the code, under the QR code: it is a secret that shows the choices.
    after_code = html.split(code, 1)[1].split("</p>", 2)[1]
    assert (
        'id="receipt-secret"' in after_code
        and "anyone who has it can see the choices" in after_code
    )

    again = browser.get(url(world, "comprovante"))
    assert again.status_code == 200
    assert "Your receipt was already shown" in text(again)
    assert not RECEIPT.search(text(again))


def test_running_totals_only_when_the_cycle_shows_them(app):
    world = build_world(app, show_totals=True)
    first, second = english_client(app), english_client(app)
    vote(first, world, world.voters[0], _choices(world))
    vote(second, world, world.voters[1], _choices(world))
    html = text(second.get(url(world, "comprovante")))
    assert "Running totals" in html
    chosen = world.titles[world.proposals[0][1]]
    row = html.split(chosen, 1)[1]
    assert '<td class="num">2</td>' in row.split("</tr>", 1)[0]


def test_already_voted_on_a_second_attempt(app, browser, world):
    vote(browser, world, world.voters[0], _choices(world))
    again = english_client(app)
    response = identify(again, world, world.voters[0])
    assert response.status_code == 409
    assert "You have already voted in this cycle" in text(response)


def test_losing_concurrent_attempt_gets_the_already_voted_page(app, world):
    first, second = english_client(app), english_client(app)
    for client in (first, second):
        assert identify(client, world, world.voters[0]).status_code == 303
        assert post_ballot(client, world, _choices(world)).status_code == 303
    assert confirm(first, world).status_code == 303
    response = confirm(second, world)
    assert response.status_code == 409
    assert "You have already voted in this cycle" in text(response)
    participations, ballots = _rows(app, world)
    assert len(participations) == 1 and len(ballots) == 1


# --- identification refused ----------------------------------------------------------------


def test_wrong_birth_date_and_unknown_titulo_give_the_same_page(app, browser, world):
    stranger = next(t for t in titulos(10) if t not in world.voters)
    wrong_date = identify(browser, world, world.voters[0], birth=date(1981, 1, 1))
    unknown = identify(browser, world, stranger, birth=date(1981, 1, 1))
    assert wrong_date.status_code == unknown.status_code == 403
    assert without_csrf(text(wrong_date)) == without_csrf(text(unknown))
    assert "We could not confirm that you can vote" in text(unknown)
    # The number typed is not echoed back.
    assert world.voters[0] not in text(wrong_date) and stranger not in text(unknown)


def test_invalid_form_is_422(browser, world):
    token_page = browser.get(url(world))
    assert token_page.status_code == 200
    response = identify(browser, world, "")
    assert response.status_code == 422
    assert "Type your título number." in text(response)


def test_credential_paused_for_the_failing_address_only(app, browser, world, monkeypatch):
    monkeypatch.setitem(app.config, "VOTER_FAILURES_PER_CLIENT_AND_CREDENTIAL", "3 per 15 minutes")
    for _ in range(3):
        assert identify(browser, world, world.voters[0], birth=date(1999, 1, 1)).status_code == 403
    locked = identify(browser, world, world.voters[0])  # even the right birth date now
    assert locked.status_code == 429
    assert 800 < int(locked.headers["Retry-After"]) <= 900
    assert "Too many failed attempts from this connection" in text(locked)
    assert "15 minute(s)" in text(locked)
    # Another título is not paused...
    assert identify(browser, world, world.voters[1]).status_code == 303
    # ...and the voter, from their own connection, gets in: others cannot keep them out.
    at_home = english_client(app)
    at_home.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    assert identify(at_home, world, world.voters[0]).status_code == 303


def test_success_clears_the_failures(app, browser, world, monkeypatch):
    monkeypatch.setitem(app.config, "VOTER_FAILURES_PER_CLIENT_AND_CREDENTIAL", "3 per 15 minutes")
    for _ in range(2):
        identify(browser, world, world.voters[0], birth=date(1999, 1, 1))
    assert identify(browser, world, world.voters[0]).status_code == 303
    for _ in range(2):
        assert identify(browser, world, world.voters[0], birth=date(1999, 1, 1)).status_code == 403
    assert identify(browser, world, world.voters[0]).status_code == 303


def test_per_address_limit(app, browser, world, monkeypatch):
    monkeypatch.setitem(app.config, "VOTE_LIMIT_PER_IP", "3 per minute")
    statuses = [identify(browser, world, world.voters[i % 4]).status_code for i in range(3)]
    assert statuses == [303, 303, 303]
    blocked = identify(browser, world, world.voters[3])
    assert blocked.status_code == 429
    assert 0 < int(blocked.headers["Retry-After"]) <= 60
    assert "Too many attempts" in text(blocked)
    # Another address is not affected.
    other = identify(browser, world, world.voters[3], environ_base={"REMOTE_ADDR": "192.0.2.9"})
    assert other.status_code == 303


def test_voting_point_by_token_gets_the_higher_limit_and_is_recorded(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "VOTE_LIMIT_PER_IP", "2 per minute")
    with app.app_context():
        point = VotingPoint(name="CRAS Leste", device_token_hash=token_hash("kiosk-token"))
        db.session.add(point)
        db.session.commit()
        point_id = point.id
    kiosk = english_client(app)
    headers = {"X-Voting-Point-Token": "kiosk-token"}
    for i in range(4):
        assert identify(kiosk, world, world.voters[i], headers=headers).status_code == 303
    assert vote(kiosk, world, world.voters[0], _choices(world), headers=headers).status_code == 303
    participations, _ = _rows(app, world)
    assert participations[0][2] == point_id
    # A wrong token is an ordinary client again.
    plain = english_client(app)
    bad = {"X-Voting-Point-Token": "nope"}
    codes = [identify(plain, world, world.voters[1], headers=bad).status_code for _ in range(3)]
    assert codes == [303, 303, 429]


def test_voting_point_by_address(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "VOTE_LIMIT_PER_IP", "2 per minute")
    with app.app_context():
        point = VotingPoint(name="Telecentro", ip_addresses="10.1.2.0/24\n10.9.9.9")
        db.session.add(point)
        db.session.commit()
        point_id = point.id
    kiosk = english_client(app)
    kiosk.environ_base["REMOTE_ADDR"] = "10.1.2.7"
    for i in range(4):
        assert identify(kiosk, world, world.voters[i]).status_code == 303
    assert vote(kiosk, world, world.voters[2], _choices(world)).status_code == 303
    participations, _ = _rows(app, world)
    assert [p[2] for p in participations] == [point_id]


# --- phase edges ---------------------------------------------------------------------------


def test_phase_edges(app, time_machine):
    opens = now().replace(microsecond=0) + timedelta(days=2)
    closes = opens + timedelta(days=3)
    world = build_world(app, opens=opens, closes=closes)
    browser = english_client(app)

    time_machine.move_to(opens - timedelta(seconds=1), tick=False)
    page = browser.get(url(world))
    assert page.status_code == 403 and "Voting has not started yet" in text(page)
    assert browser.post(url(world), data={}).status_code in (400, 403)

    time_machine.move_to(opens, tick=False)
    assert vote(browser, world, world.voters[0], _choices(world)).status_code == 303

    time_machine.move_to(closes - timedelta(seconds=1), tick=False)
    late = english_client(app)
    assert identify(late, world, world.voters[1]).status_code == 303
    assert post_ballot(late, world, _choices(world)).status_code == 303
    token = csrf_token(late, url(world, "revisao"))

    time_machine.move_to(closes, tick=False)
    refused = late.post(url(world, "revisao"), data={"csrf_token": token})
    assert refused.status_code == 403 and "Voting is closed" in text(refused)
    assert late.get(url(world)).status_code == 403
    assert len(_rows(app, world)[0]) == 1

    time_machine.move_to(closes - timedelta(seconds=1), tick=False)
    assert confirm(late, world).status_code == 303
    assert len(_rows(app, world)[0]) == 2


def test_not_open_when_the_cycle_is_not_in_the_voting_state(app, browser):
    world = build_world(app, state="ballot_frozen")
    response = browser.get(url(world))
    assert response.status_code == 403
    assert "Voting" in text(response)


def test_draft_and_unknown_cycles_are_404(app, browser):
    world = build_world(app, state="draft")
    assert browser.get(url(world)).status_code == 404
    assert browser.get("/ciclos/nope/votar").status_code == 404


# --- the session ---------------------------------------------------------------------------


def test_ballot_without_identification_goes_back_to_identify(browser, world):
    for step in ("cedula", "revisao"):
        response = browser.get(url(world, step))
        assert response.status_code == 303
        assert response.headers["Location"].endswith(url(world))
    page = browser.get(url(world))
    assert "Please identify yourself to vote." in text(page)


def test_context_expires(app, browser, world, time_machine):
    time_machine.move_to(now(), tick=False)
    identify(browser, world, world.voters[0])
    assert browser.get(url(world, "cedula")).status_code == 200
    time_machine.move_to(now() + timedelta(minutes=21), tick=False)
    response = browser.get(url(world, "cedula"))
    assert response.status_code == 303 and response.headers["Location"].endswith(url(world))


def test_tampered_or_foreign_context_is_ignored(app, browser, world):
    other = build_world(app)
    identify(browser, world, world.voters[0])
    # Another cycle's context does not open this one's ballot...
    response = browser.get(url(other, "cedula"))
    assert response.status_code == 303 and response.headers["Location"].endswith(url(other))
    # ...and is kept for its own cycle.
    assert browser.get(url(world, "cedula")).status_code == 200
    with browser.session_transaction() as session:
        session["voting.voter"] = {"cycle_id": world.cycle_id, "voter_key": "x", "expires": "y"}
    assert browser.get(url(world, "cedula")).status_code == 303
    # A forged cookie (bad signature) is no session at all.
    browser.set_cookie("session", "forged.value.signature", domain="localhost")
    assert browser.get(url(world, "cedula")).status_code == 303


def _stored_session(app, browser) -> str:
    """The session cookie as Flask decodes it (signed, readable by whoever holds it)."""
    raw = browser.get_cookie("session").value
    return json.dumps(app.session_interface.get_signing_serializer(app).loads(raw))


def test_the_flow_state_in_the_cookie_is_encrypted(app, browser, world):
    titulo = world.voters[0]
    identify(browser, world, titulo)
    post_ballot(browser, world, _choices(world))
    readable = _stored_session(app, browser)
    assert world.keys[titulo] not in readable
    assert "voter_key" not in readable and "choices" not in readable
    assert browser.get(url(world, "revisao")).status_code == 200  # and it still works
    confirmed = confirm(browser, world)
    holding_the_receipt = _stored_session(app, browser)
    code = RECEIPT.search(text(browser.get(confirmed.headers["Location"]))).group(0)
    assert code not in holding_the_receipt and "voting.receipt" in holding_the_receipt
    # A value the server did not encrypt (or encrypted under another secret) means nothing.
    identify(browser, world, world.voters[1])
    with browser.session_transaction() as session:
        session["voting.voter"] = session["voting.voter"][:-4] + "AAAA"
    assert browser.get(url(world, "cedula")).status_code == 303


def test_csrf_on_every_voting_post(browser, world):
    assert (
        browser.post(url(world), data={"titulo": "1", "birth_date": "1980-01-01"}).status_code
        == 400
    )
    identify(browser, world, world.voters[0])
    assert browser.post(url(world, "cedula"), data={"action": "review"}).status_code == 400
    post_ballot(browser, world, _choices(world))
    assert browser.post(url(world, "revisao"), data={}).status_code == 400


def test_nothing_identifying_leaks_into_pages_urls_or_logs(app, browser, world, caplog):
    caplog.set_level(logging.DEBUG)
    titulo, key = world.voters[0], world.keys[world.voters[0]]
    responses = [browser.get(url(world)), identify(browser, world, titulo)]
    responses += [browser.get(url(world, "cedula"))]
    responses += [post_ballot(browser, world, _choices(world)), browser.get(url(world, "revisao"))]
    responses += [confirm(browser, world), browser.get(url(world, "comprovante"))]
    code = RECEIPT.search(text(responses[-1])).group(0)
    responses += [browser.get(url(world, "comprovante")), browser.get(f"/ciclos/{world.slug}")]
    steps = {""} | {url(world, step) for step in ("", "cedula", "revisao", "comprovante")}
    for response in responses:
        body = text(response)
        assert titulo not in body and key not in body
        location = response.headers.get("Location", "")
        for secret in (titulo, key, code):
            assert secret not in location
        # Redirects only ever go to the bare step URLs: no query string carrying choices.
        assert location in steps
    for record in caplog.records:
        message = record.getMessage()
        for secret in (titulo, key, code):
            assert secret not in message
    with browser.session_transaction() as session:
        assert "voting.voter" not in session and "voting.receipt" not in session
        assert key not in repr(dict(session))
    assert BIRTH.isoformat() not in text(responses[-1])


def test_every_step_is_accessible(app, browser, world):
    pages = {"identify": browser.get(url(world))}
    pages["refused"] = identify(browser, world, world.voters[0], birth=date(1999, 1, 1))
    identify(browser, world, world.voters[0])
    pages["ballot"] = browser.get(url(world, "cedula"))
    pages["ballot-422"] = post_ballot(browser, world, {})
    post_ballot(browser, world, _choices(world))
    pages["review"] = browser.get(url(world, "revisao"))
    confirm(browser, world)
    pages["receipt"] = browser.get(url(world, "comprovante"))
    pages["receipt-shown"] = browser.get(url(world, "comprovante"))
    pages["already-voted"] = identify(english_client(app), world, world.voters[0])
    closed = build_world(app, opens=now() + timedelta(days=1))
    pages["closed"] = browser.get(url(closed))
    for name, response in pages.items():
        assert page_problems(text(response)) == [], name
