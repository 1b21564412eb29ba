"""The phone line through its real webhooks on gunicorn, PostgreSQL and Redis (issue 15's "done").

One server for the module; each test builds its own cycle and roll. Calls are the simulator's
(`opdigital.phone.simulator.Call`) over HTTP, signed as the provider signs; the web side is the
real voting pages, driven over HTTP with their CSRF tokens.
"""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
import requests
import sqlalchemy as sa
from flask_babel import force_locale

from opdigital.board import services as board
from opdigital.cycles.models import Cycle
from opdigital.extensions import db
from opdigital.phone.dialogue import Line
from opdigital.phone.models import PhoneConversation
from opdigital.phone.prompts import VOICE, render
from opdigital.phone.signatures import SIGNATURE_HEADER, sign
from opdigital.phone.simulator import Call
from opdigital.voting.models import Participation
from tests.support import voting as vs
from tests.support.live import gunicorn, phone_line_env

TOKEN = "live-test-phone-token"
PUBLIC = "https://op.prefeitura.example"
BIRTH_KEYS = vs.BIRTH.strftime("%d%m%Y")
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
RECEIPT = re.compile(r"\b[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}\b")


@pytest.fixture(scope="module")
def server(app, database_url, redis_url):
    env = phone_line_env(database_url, redis_url, TOKEN, PUBLIC)
    with gunicorn(env, workers=2, threads=4) as base:
        yield base


@pytest.fixture
def world(app, server):
    """A cycle on the voice line and three voters on the roll (plain values)."""
    with app.app_context():
        w = vs.voting_cycle(phone_voice=True)
        voters = [vs.make_titulo(700 + n) for n in range(3)]
        for titulo in voters:
            vs.register(titulo)
        world = SimpleNamespace(slug=w.slug, cycle_id=w.cycle.id, ids=w.ids, voters=voters)
        db.session.remove()
    return world


def call(server, world, number: str = "+5531977776666") -> Call:
    return Call(server, TOKEN, world.slug, number, public_url=PUBLIC)


def vote(titulo: str) -> list[str]:
    """Título, birth date, the first two works, the summary, confirm, end."""
    return [titulo, BIRTH_KEYS, "1", "1", "#", "1", "2"]


def said(app, key: str) -> str:
    with app.test_request_context(), force_locale("pt_BR"):
        return render(Line(key), VOICE, "pt_BR")


def participations(app, world) -> list[str]:
    with app.app_context():
        channels = db.session.scalars(
            sa.select(Participation.channel).filter_by(cycle_id=world.cycle_id)
        ).all()
        db.session.remove()
    return list(channels)


def web_identify(server, world, titulo: str) -> tuple[requests.Session, requests.Response]:
    """The web's identification page, over HTTP with its CSRF token."""
    session = requests.Session()
    page = f"{server}/ciclos/{world.slug}/votar"
    token = CSRF.search(session.get(page, timeout=30).text).group(1)
    form = {"csrf_token": token, "titulo": titulo, "birth_date": vs.BIRTH.isoformat()}
    return session, session.post(page, data=form, allow_redirects=False, timeout=30)


def web_vote(server, world, titulo: str) -> str:
    """A whole vote on the web pages (identify, ballot, review, confirm): the receipt code."""
    session, identified = web_identify(server, world, titulo)
    assert identified.status_code == 303, identified.text[:300]
    ballot = f"{server}/ciclos/{world.slug}/votar/cedula"
    token = CSRF.search(session.get(ballot, timeout=30).text).group(1)
    form = {"csrf_token": token, "action": "review", "choice": [str(i) for i in world.ids[:2]]}
    reviewed = session.post(ballot, data=form, allow_redirects=False, timeout=30)
    assert reviewed.status_code == 303, reviewed.text[:300]
    review = f"{server}/ciclos/{world.slug}/votar/revisao"
    token = CSRF.search(session.get(review, timeout=30).text).group(1)
    receipt = session.post(review, data={"csrf_token": token}, timeout=30)
    assert receipt.status_code == 200, receipt.text[:300]
    return RECEIPT.search(receipt.text).group(0)


def test_a_full_call_casts_a_vote_whose_receipt_is_found_on_the_board(app, server, world):
    transcript = call(server, world).run(vote(world.voters[0]))
    assert transcript.receipt, transcript.sentences[-4:]
    assert participations(app, world) == ["voice"]
    with app.app_context():
        board.seal_all(db.session.get(Cycle, world.cycle_id))
        db.session.remove()
    found = requests.post(
        f"{server}/api/v1/cycles/{world.slug}/receipts",
        json={"receipt": transcript.receipt},
        timeout=30,
    )
    assert found.status_code == 200, found.text
    assert sorted(found.json()["choices"]) == sorted(world.ids[:2])


def test_a_second_call_for_the_same_titulo_hears_already_voted(app, server, world):
    assert call(server, world).run(vote(world.voters[0])).receipt
    again = call(server, world, number="+5531966665555").run(vote(world.voters[0]))
    assert again.receipt is None
    assert said(app, "already_voted") in again.sentences
    assert participations(app, world) == ["voice"]


def test_web_then_phone_and_phone_then_web_are_refused_the_same_way(app, server, world):
    web_voter, phone_voter = world.voters[0], world.voters[1]
    assert web_vote(server, world, web_voter)
    by_phone = call(server, world).run(vote(web_voter))
    assert by_phone.receipt is None and said(app, "already_voted") in by_phone.sentences

    assert call(server, world, number="+5531955554444").run(vote(phone_voter)).receipt
    _, on_the_web = web_identify(server, world, phone_voter)
    assert on_the_web.status_code == 409  # the web's "already voted" page
    assert sorted(participations(app, world)) == ["voice", "web"]


def test_a_wrong_birth_date_and_an_unknown_titulo_sound_the_same(app, server, world):
    wrong_date = call(server, world).run([world.voters[0], "01011970"])
    unknown = call(server, world, number="+5531944443333").run([vs.make_titulo(990), BIRTH_KEYS])
    assert said(app, "not_eligible") in wrong_date.sentences
    assert wrong_date.sentences == unknown.sentences
    assert participations(app, world) == []


@pytest.mark.parametrize("signature", [None, "forged", "other-url"])
def test_unsigned_or_wrongly_signed_requests_are_refused(app, server, world, signature):
    form = {"CallSid": "CA" + "5" * 32, "From": "+5531900001111", "To": "+5531800000000"}
    headers = {}
    if signature == "forged":
        headers[SIGNATURE_HEADER] = sign(PUBLIC + "/telefone/voz", form, "not-the-token")
    elif signature == "other-url":
        headers[SIGNATURE_HEADER] = sign("https://elsewhere.example/telefone/voz", form, TOKEN)
    response = requests.post(f"{server}/telefone/voz", data=form, headers=headers, timeout=30)
    assert response.status_code == 403
    assert "<Response>" not in response.text
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PhoneConversation)) == 0
        db.session.remove()


def test_a_call_dropped_mid_ballot_leaves_no_vote_and_nothing_that_blocks_the_next(
    app, server, world
):
    dropped = call(server, world).run(vote(world.voters[0]), hang_up_after=4)
    assert dropped.receipt is None
    assert participations(app, world) == []
    # The same voter calls again at once, from the same phone: a new call, a whole vote.
    again = call(server, world).run(vote(world.voters[0]))
    assert again.receipt and participations(app, world) == ["voice"]
