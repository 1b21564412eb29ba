"""Voting by text message through the provider's signed webhook (views/text.py), and the receipt
sent by text after a vote by voice (texting.py) against a local fake of the provider's API.

Requests are signed as the provider signs them (signatures.sign) and made without an
application context pushed, as in production; replies are compared with what the dialogue's
prompts say in Brazilian Portuguese, so they hold whatever the translations become.
"""

from __future__ import annotations

import logging
import socket
import uuid
import xml.etree.ElementTree as ET
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from opdigital.cycles.models import Cycle
from opdigital.extensions import db
from opdigital.phone import prompts, texting
from opdigital.phone.dialogue import Line
from opdigital.phone.models import PhoneConversation
from opdigital.phone.services import forget_phone_works, phone_works
from opdigital.phone.signatures import SIGNATURE_HEADER, sign
from opdigital.phone.texting import receipt_texter
from opdigital.phone.words import MESSAGE_CHARS
from opdigital.voting.models import Ballot, Participation
from opdigital.voting.receipts import normalise_receipt, receipt_hash
from tests.support import fake_provider
from tests.support import voting as vs
from tests.support import voting_web as web
from tests.support.live import free_port
from tests.support.scan import redis_holding, tables_holding

TOKEN = "phone-test-auth-token"  # noqa: S105 - a test's
BASE = "https://op.example.org"
PATH = "/telefone/mensagem"
OURS = "+5531300000000"  # the city's text number
VOTER = "+5531999990001"
OTHER = "+5531988880002"
RECEIPT = web.RECEIPT
BIRTH = "17/05/1980"  # vs.BIRTH as people write it
WRONG_BIRTH = "01011990"


# --- fixtures and helpers -----------------------------------------------------------------


@pytest.fixture
def line(settings):
    """The line configured: the provider's auth token, and the address it calls."""
    settings(PHONE_AUTH_TOKEN=TOKEN, PUBLIC_BASE_URL=BASE)


@pytest.fixture(autouse=True)
def _forget_works():
    yield
    forget_phone_works()


def _world(app, *, first: int = 101, **overrides) -> SimpleNamespace:
    """An open cycle taking votes by text (vs.voting_cycle: knapsack, 2 to 3 of 5 works) and
    two títulos on the roll."""
    with app.app_context():
        w = vs.voting_cycle(**({"phone_text": True} | overrides))
        w.cycle_id = w.cycle.id
        w.titulo, w.other = vs.make_titulo(first), vs.make_titulo(first + 1)
        vs.register(w.titulo)
        vs.register(w.other)
        w.works = phone_works(w.cycle)
        db.session.remove()
    return w


@pytest.fixture
def world(app, line):
    return _world(app)


def send(
    client,
    body: str,
    sender: str = VOTER,
    *,
    to: str = OURS,
    token: str = TOKEN,
    message_id: str | None = None,
):
    """POST a message as the provider does, signed with `token` (`message_id`: the provider's
    id of the message, new by default; the same one again is a repeated delivery)."""
    params = {
        "MessageSid": message_id or "SM" + uuid.uuid4().hex,
        "AccountSid": "AC" + "1" * 32,
        "From": sender,
        "To": to,
        "Body": body,
        "NumMedia": "0",
    }
    headers = {SIGNATURE_HEADER: sign(BASE + PATH, params, token)}
    return client.post(PATH, data=params, headers=headers)


def messages(response) -> list[str]:
    """The <Message> bodies of a TwiML answer."""
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "text/xml"
    root = ET.fromstring(response.get_data())  # noqa: S314 - our own answer
    assert root.tag == "Response"
    return [message.text or "" for message in root.findall("Message")]


def reply(response) -> str:
    return "\n".join(messages(response))


def said(app, *lines: Line) -> str:
    """What the dialogue's lines say by text, in Brazilian Portuguese."""
    with app.test_request_context(), force_locale("pt_BR"):
        return "\n".join(prompts.words(lines, prompts.TEXT, "pt_BR"))


def identify(client, titulo: str, sender: str = VOTER, birth: str = BIRTH):
    """Start a conversation, send the título (as printed) and the birth date."""
    send(client, "VOTAR", sender)
    send(client, vs.pretty(titulo), sender)
    return send(client, birth, sender)


def vote(client, world, titulo: str, sender: str = VOTER) -> str:
    """A whole vote by text (the first two works); the receipt code from the reply."""
    identify(client, titulo, sender)
    send(client, "1", sender)
    send(client, "1", sender)
    send(client, "#", sender)
    found = RECEIPT.search(reply(send(client, "1", sender)))
    assert found, "no receipt in the reply"
    return found.group(0)


def conversations(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(PhoneConversation))


def participations(app, world) -> list[Participation]:
    with app.app_context():
        return db.session.scalars(
            sa.select(Participation).where(Participation.cycle_id == world.cycle_id)
        ).all()


# --- a vote by text -----------------------------------------------------------------------


def test_a_conversation_by_text_casts_a_vote(app, client, world):
    first, second = world.works[0], world.works[1]
    greeting = reply(send(client, "VOTAR"))
    assert said(app, Line("welcome")) in greeting
    assert greeting.endswith(said(app, Line("ask_titulo")))
    assert reply(send(client, vs.pretty(world.titulo))) == said(app, Line("ask_birth_date"))
    ballot = reply(send(client, BIRTH))
    assert said(app, Line("identified")) in ballot and first.title in ballot
    assert second.title not in ballot  # one work at a time

    assert second.title in reply(send(client, "1"))  # work 1 chosen, on to work 2
    assert world.works[2].title in reply(send(client, "SIM"))  # the words work as the keys
    summary = reply(send(client, "resumo"))
    assert first.title in summary and second.title in summary
    assert world.works[2].title not in summary
    cast = reply(send(client, "confirmar"))
    assert said(app, Line("cast_done")) in cast
    code = RECEIPT.search(cast).group(0)

    [participation] = participations(app, world)
    assert participation.channel == "text"
    with app.app_context():
        ballot_row = db.session.scalar(sa.select(Ballot).where(Ballot.cycle_id == world.cycle_id))
        assert ballot_row.receipt_hash == receipt_hash(code)
        assert ballot_row.choices == sorted([first.proposal_id, second.proposal_id])
    # The receipt is on the board, as the public lookup finds it.
    found = client.post(f"/api/v1/cycles/{world.slug}/receipts", json={"receipt": code})
    assert found.status_code == 200
    assert found.get_json()["receipt_hash"] == receipt_hash(code)
    assert found.get_json()["choices"] == sorted([first.proposal_id, second.proposal_id])

    assert RECEIPT.search(reply(send(client, "repetir"))).group(0) == code  # read again
    assert conversations(app) == 1
    assert reply(send(client, "2")) == said(app, Line("goodbye"))
    assert conversations(app) == 0


def test_words_and_digits_lead_the_same_way(app, client, world):
    identify(client, world.titulo, VOTER)
    identify(client, world.other, OTHER)
    steps = [
        ("PRÓXIMA", "2", world.works[1].title),
        ("Voltar", "3", world.works[0].title),
        ("repetir", "0", world.works[0].title),
        ("Escolher", "1", world.works[1].title),
        ("anterior", "3", world.works[0].title),
        ("pular!", "9", said(app, Line("end_of_ballot"))),  # one region: the end of the ballot
        ("mudar", "2", world.works[0].title),
        ("Fim", "#", said(app, Line("summary_menu"))),
        ("não", "2", world.works[0].title),  # no: change the ballot
        ("escolhas", "#", said(app, Line("summary_menu"))),
    ]
    for word, digit, shown in steps:
        by_word, by_digit = reply(send(client, word, VOTER)), reply(send(client, digit, OTHER))
        assert by_word == by_digit, word
        assert shown in by_word, word
    assert said(app, Line("invalid_key")) in reply(send(client, "banana", VOTER))


def test_the_first_message_starts_a_conversation_and_is_not_an_answer(app, client, world):
    # A título sent first greets and asks for it: it is not taken as the título.
    greeting = reply(send(client, vs.pretty(world.titulo)))
    assert greeting.endswith(said(app, Line("ask_titulo")))
    assert said(app, Line("welcome")) in greeting


def test_a_start_word_mid_conversation_starts_over(app, client, world):
    send(client, "oi")
    send(client, world.titulo)
    greeting = reply(send(client, "Olá"))
    assert greeting.endswith(said(app, Line("ask_titulo")))
    # Back at the título: a birth date now is not one.
    assert reply(send(client, BIRTH)).startswith(said(app, Line("titulo_format")))


def test_whatsapp_and_sms_from_the_same_number_are_separate_conversations(app, client, world):
    send(client, "VOTAR", VOTER)
    send(client, world.titulo, VOTER)
    app_sender = f"whatsapp:{VOTER}"
    greeting = reply(send(client, BIRTH, app_sender, to=f"whatsapp:{OURS}"))
    assert greeting.endswith(said(app, Line("ask_titulo")))
    send(client, world.titulo, app_sender, to=f"whatsapp:{OURS}")
    identified = reply(send(client, BIRTH, app_sender, to=f"whatsapp:{OURS}"))
    assert said(app, Line("identified")) in identified
    assert reply(send(client, BIRTH, VOTER)).startswith(said(app, Line("identified")))


# --- refusals: the same as on the web -------------------------------------------------------


def test_a_message_delivered_twice_is_answered_again_not_taken_twice(app, client, world):
    identify(client, world.titulo)
    first = reply(send(client, "1", message_id="SM" + "7" * 32))  # choose the first work
    again = reply(send(client, "1", message_id="SM" + "7" * 32))  # the provider's retry
    assert again == first
    summary = reply(send(client, "#"))
    assert summary.count(said(app, Line("summary", {"count": 1})).rstrip(":")) == 1
    # A new "1" with a new id is a new answer (it chooses the work now read).
    assert reply(send(client, "1")) != first


def test_a_second_vote_by_text_is_already_voted(app, client, world):
    vote(client, world, world.titulo, VOTER)
    again = reply(identify(client, world.titulo, OTHER))
    assert again == said(app, Line("already_voted"))
    assert len(participations(app, world)) == 1
    # That conversation ended; the next message starts another.
    assert reply(send(client, "1", OTHER)).endswith(said(app, Line("ask_titulo")))


def test_web_then_text_is_already_voted(app, client, world):
    response = web.vote(web.english_client(app), world, world.titulo, world.ids[:2])
    assert response.status_code == 303
    assert reply(identify(client, world.titulo)) == said(app, Line("already_voted"))
    assert [p.channel for p in participations(app, world)] == ["web"]


def test_text_then_web_is_already_voted(app, client, world):
    vote(client, world, world.titulo)
    response = web.identify(web.english_client(app), world, world.titulo)
    assert response.status_code == 409
    assert "You have already voted in this cycle" in web.text(response)
    assert [p.channel for p in participations(app, world)] == ["text"]


def test_a_wrong_birth_date_and_an_unknown_titulo_get_the_same_reply(app, client, world):
    unknown = vs.make_titulo(999)  # valid, not on the roll
    answers = {
        "wrong birth date": reply(identify(client, world.titulo, "+5531900000001", WRONG_BIRTH)),
        "unknown título": reply(identify(client, unknown, "+5531900000002")),
        "wrong check digit": reply(
            identify(client, vs.wrong_check_digit(world.titulo), "+5531900000003")
        ),
    }
    assert set(answers.values()) == {said(app, Line("not_eligible"), Line("ask_titulo"))}, answers
    assert participations(app, world) == []


def test_sair_ends_the_conversation_and_the_next_message_starts_over(app, client, world):
    send(client, "VOTAR")
    send(client, world.titulo)
    assert conversations(app) == 1
    stopped = messages(send(client, "Sair"))
    assert len(stopped) == 1 and 0 < len(stopped[0]) < 160
    assert conversations(app) == 0
    # The birth date now is not taken as one: a new conversation greets and asks the título.
    again = reply(send(client, BIRTH))
    assert again.endswith(said(app, Line("ask_titulo")))
    assert said(app, Line("welcome")) in again


def test_stop_with_no_conversation_is_answered_too(app, client, world):
    assert len(messages(send(client, "STOP"))) == 1
    assert conversations(app) == 0


def test_a_cycle_without_text_votes_is_no_vote_open(app, client, line):
    _world(app, phone_text=False, phone_voice=True)
    assert reply(send(client, "VOTAR")) == said(app, Line("no_vote_open"))
    assert conversations(app) == 0


# --- the limits count the sender's number -------------------------------------------------


def test_the_failure_limit_holds_per_number(app, client, world, settings):
    settings(VOTER_FAILURES_PER_ADDRESS="2 per hour")
    refused = said(app, Line("not_eligible"), Line("ask_titulo"))
    assert reply(identify(client, world.titulo, VOTER, WRONG_BIRTH)) == refused
    send(client, world.titulo, VOTER)
    assert reply(send(client, WRONG_BIRTH, VOTER)) == refused
    send(client, world.titulo, VOTER)
    limited = reply(send(client, BIRTH, VOTER))  # the right date, but from a number held back
    assert limited in {
        said(app, Line("rate_limited", {"minutes": m, "reason": ""})) for m in range(1, 61)
    }
    assert participations(app, world) == []
    # Another number is not held back, even for the same título.
    code = vote(client, world, world.titulo, OTHER)
    assert RECEIPT.fullmatch(code)
    assert [p.channel for p in participations(app, world)] == ["text"]


# --- what the webhook refuses -------------------------------------------------------------


def _params(body: str = "VOTAR") -> dict[str, str]:
    return {"MessageSid": "SM" + "2" * 32, "From": VOTER, "To": OURS, "Body": body}


def test_unsigned_or_wrongly_signed_messages_are_refused(app, client, world):
    params = _params()
    forged = {
        "no signature": {},
        "another token": {SIGNATURE_HEADER: sign(BASE + PATH, params, "not-the-token")},
        "another address": {SIGNATURE_HEADER: sign(BASE + "/telefone/voz", params, TOKEN)},
        "another body": {SIGNATURE_HEADER: sign(BASE + PATH, _params("SAIR"), TOKEN)},
    }
    for label, headers in forged.items():
        assert client.post(PATH, data=params, headers=headers).status_code == 403, label
    assert conversations(app) == 0
    # Control: the same message, signed as the provider signs it.
    signed = {SIGNATURE_HEADER: sign(BASE + PATH, params, TOKEN)}
    assert client.post(PATH, data=params, headers=signed).status_code == 200
    assert conversations(app) == 1


def test_the_webhook_does_not_exist_without_the_auth_token(app, client, world, settings):
    settings(PHONE_AUTH_TOKEN="")
    assert send(client, "VOTAR").status_code == 404
    assert conversations(app) == 0


def test_empty_and_long_messages_get_a_short_reply_and_change_nothing(app, client, world):
    send(client, "VOTAR")
    send(client, world.titulo)  # now waiting for the birth date
    for body in ("", "   ", "x" * 1601):
        answer = messages(send(client, body))
        assert len(answer) == 1 and 0 < len(answer[0]) < 160, body[:10]
    # The conversation is where it was: the birth date is taken.
    assert said(app, Line("identified")) in reply(send(client, BIRTH))


@pytest.mark.parametrize(
    ("body", "sender", "to"),
    [
        ("\x01\x7f", VOTER, OURS),
        ("🙂" * 10, "whatsapp:+55 31 9", ""),
        ("1" * 1600, VOTER, OURS),
        ("#*#", VOTER, "not a number"),
        ("\u202e1", "+55 (31) 99999-0001", "+5531"),
    ],
)
def test_odd_messages_are_answered_never_a_500(app, client, world, body, sender, to):
    assert len(messages(send(client, body, sender, to=to))) >= 1
    assert len(messages(send(client, body, sender, to=to))) >= 1  # and again, mid-conversation


def test_a_nul_character_is_refused_by_the_apps_input_guard(client, world):
    assert send(client, "1\x00").status_code == 400


def test_a_body_too_large_for_a_request_is_refused_cleanly(client, world):
    response = send(client, "x" * (3 * 1024 * 1024))
    assert response.status_code == 413
    assert "Traceback" not in response.get_data(as_text=True)


@pytest.mark.parametrize("sender", ["anonymous", "", "Restricted"])
def test_a_hidden_sender_gets_a_short_reply_and_no_conversation(app, client, world, sender):
    answer = messages(send(client, "VOTAR", sender))
    assert len(answer) == 1 and 0 < len(answer[0]) < 160
    assert conversations(app) == 0


def test_a_long_reply_is_cut_into_messages_between_sentences(app, client, line):
    w = _world(
        app,
        first=300,
        costs=(100_00,) * 8,
        ballot_rule_params={"min_choices": 1, "max_choices": 8},
    )
    with app.app_context():
        for n, pid in enumerate(w.ids):
            db.session.execute(
                sa.text("UPDATE proposal SET title = :t WHERE id = :id"),
                {"t": f"Obra longa {n} " + "reforma da praça " * 8, "id": pid},
            )
        db.session.commit()
        forget_phone_works()
        titles = [work.title for work in phone_works(db.session.get(Cycle, w.cycle_id))]
    identify(client, w.titulo)
    for _ in range(7):
        send(client, "1")
    summary = messages(send(client, "1"))  # the eighth: the ballot is full, the summary shown
    assert len(summary) > 1
    assert all(len(message) <= MESSAGE_CHARS for message in summary)
    for title in titles:  # each work's line whole in one message
        assert sum(title in message for message in summary) == 1, title


# --- nothing logged -----------------------------------------------------------------------


def _logged(caplog) -> str:
    return "\n".join(
        f"{record.getMessage()} {record.args!r} {record.__dict__!r}" for record in caplog.records
    )


def test_no_number_titulo_body_or_receipt_in_the_logs_tables_or_redis(
    app, client, world, caplog, live_logs, redis_url
):
    caplog.set_level(logging.DEBUG)
    identify(client, world.titulo, VOTER, WRONG_BIRTH)
    send(client, "")
    send(client, "palavra-secreta-xyz")
    code = vote(client, world, world.titulo)
    assert any(record.getMessage() == "phone turn" for record in caplog.records)
    logged = _logged(caplog)
    secrets = [
        VOTER,
        VOTER.lstrip("+"),
        world.titulo,
        vs.pretty(world.titulo),
        "palavra-secreta-xyz",
        WRONG_BIRTH,
        code,
    ]
    # The tables and Redis too (the voter key is rightly in participation, so not scanned for).
    stored = [VOTER, world.titulo, "palavra-secreta-xyz", code, normalise_receipt(code)]
    assert tables_holding(app, stored) == []
    assert redis_holding(redis_url, stored) == []
    assert tables_holding(app, [VOTER.lstrip("+")[-8:]]) == []  # not even the number's end
    with app.app_context():
        secrets.append(vs.key_of(world.titulo))
    for secret in secrets:
        assert secret not in logged, secret


# --- the receipt by text after a vote by voice ---------------------------------------------


@pytest.fixture(scope="module")
def provider_server():
    server = fake_provider.FakeProvider()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def provider(provider_server, settings):
    """The fake provider, empty, and the app's provider settings pointing at it."""
    provider_server.clear()
    settings(
        PHONE_ACCOUNT_SID=fake_provider.SID,
        PHONE_AUTH_TOKEN=fake_provider.TOKEN,
        PHONE_TEXT_NUMBER=OURS,
        PHONE_API_BASE_URL=provider_server.base_url,
    )
    yield provider_server
    provider_server.clear()


CODE = "K7Q2-M4XA-9PLD-W3ZT"


def test_the_receipt_is_texted_through_the_providers_api(app, provider):
    with app.test_request_context(), force_locale("pt_BR"):
        texter = receipt_texter("+55 (31) 99999-0001")
        assert texter is not None
        assert texter(CODE) is True
    [sent] = provider.messages
    assert (sent.account, sent.to, sent.sender) == (fake_provider.SID, VOTER, OURS)
    assert CODE in sent.body and sent.body.startswith("OP")


def test_the_receipt_code_is_stored_nowhere(app, provider):
    with app.app_context():
        assert receipt_texter(VOTER)(CODE) is True
        for table in db.metadata.sorted_tables:
            for row in db.session.execute(sa.select(table)):
                assert CODE not in repr(tuple(row)), table.name
                assert VOTER not in repr(tuple(row)), table.name


@pytest.mark.parametrize("failure", ["server down", "refused", "wrong token", "no answer"])
def test_a_failed_text_is_false_and_logs_neither_number_nor_code(
    app, provider, settings, monkeypatch, caplog, live_logs, failure
):
    caplog.set_level(logging.DEBUG)
    listener = None
    if failure == "server down":
        settings(PHONE_API_BASE_URL=f"http://127.0.0.1:{free_port()}")
    elif failure == "refused":
        provider.fail_with = 400
    elif failure == "wrong token":
        settings(PHONE_AUTH_TOKEN="not-the-token")
    else:  # a server that takes the connection and never answers
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        settings(PHONE_API_BASE_URL=f"http://127.0.0.1:{listener.getsockname()[1]}")
        monkeypatch.setattr(texting, "TIMEOUT_SECONDS", 0.5)
    try:
        with app.app_context():
            assert receipt_texter(VOTER)(CODE) is False
    finally:
        if listener is not None:
            listener.close()
    assert provider.messages == []
    assert any(record.getMessage() == "receipt text not sent" for record in caplog.records)
    logged = _logged(caplog)
    for secret in (CODE, VOTER, VOTER.lstrip("+")):
        assert secret not in logged, secret


@pytest.mark.parametrize("number", ["anonymous", "", "restricted", "+266696687"])
def test_no_texter_for_a_hidden_number(app, provider, number):
    with app.app_context():
        assert receipt_texter(number) is None


@pytest.mark.parametrize("unset", ["PHONE_ACCOUNT_SID", "PHONE_AUTH_TOKEN", "PHONE_TEXT_NUMBER"])
def test_no_texter_without_the_providers_settings(app, provider, settings, unset):
    settings(**{unset: ""})
    with app.app_context():
        assert receipt_texter(VOTER) is None
