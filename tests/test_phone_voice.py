"""The voice line through its real webhooks: TwiML in, TwiML out, signed as the provider signs.

Calls are played by the simulator (`opdigital.phone.simulator.Call`) against the app in
process; the last test runs `opdigital phone call` against gunicorn. Every request is signed
with the test's auth token over the public address (PUBLIC_BASE_URL), as the provider does.
"""

from __future__ import annotations

import re
import wave
import xml.etree.ElementTree as ElementTree
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from opdigital.board import services as board
from opdigital.extensions import db
from opdigital.phone.dialogue import Line
from opdigital.phone.models import PhoneConversation
from opdigital.phone.prompts import recording_name, render
from opdigital.phone.recordings import RECORDING_NAMES
from opdigital.phone.services import forget_phone_works
from opdigital.phone.signatures import SIGNATURE_HEADER, sign
from opdigital.phone.simulator import Call, unspelled_codes
from opdigital.voting.models import Ballot, Participation
from opdigital.voting.receipts import normalise_receipt, receipt_hash
from tests.support import voting as vs
from tests.support.fake_provider import SID, FakeProvider
from tests.support.fake_provider import TOKEN as PROVIDER_TOKEN
from tests.support.live import console_script, gunicorn, phone_line_env
from tests.support.scan import logs_holding, redis_holding, tables_holding

TOKEN = "test-phone-auth-token"
PUBLIC = "https://op.prefeitura.example"
NUMBER = "+5531988887777"
BIRTH_KEYS = vs.BIRTH.strftime("%d%m%Y")


@pytest.fixture
def line(settings):
    """The voice line configured: the provider's token and the public address it calls."""
    settings(
        PHONE_AUTH_TOKEN=TOKEN,
        PUBLIC_BASE_URL=PUBLIC,
        PHONE_AUDIO_DIR="",
        PHONE_ACCOUNT_SID="",
        PHONE_TEXT_NUMBER="",
        PHONE_VOICE="",
    )
    forget_phone_works()  # ids and freeze instants are reused between tests
    yield
    forget_phone_works()


@pytest.fixture
def world(app_ctx, line):
    """An open cycle on the voice line (knapsack: 2 to 3 works within the budget) and a voter."""
    w = vs.voting_cycle(phone_voice=True)
    w.titulo = vs.make_titulo(101)
    vs.register(w.titulo)
    return w


def in_process(client):
    """The simulator's transport through the Flask test client."""

    def post(url: str, form: dict, headers: dict):
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        response = client.post(path, data=form, headers=headers)
        return response.status_code, response.get_data(as_text=True)

    return post


def call(client, world, number: str = NUMBER, **kwargs) -> Call:
    return Call(
        "http://localhost",
        kwargs.pop("token", TOKEN),
        world.slug,
        number,
        public_url=PUBLIC,
        post=in_process(client),
        **kwargs,
    )


def full_vote(titulo: str) -> list[str]:
    """Título, birth date, choose the first two works, the summary, confirm, end."""
    return [titulo, BIRTH_KEYS, "1", "1", "#", "1", "2"]


def said(key: str, **values) -> str:
    """What the line says for a prompt, in Portuguese."""
    with force_locale("pt_BR"):
        return render(Line(key, values), "voice", "pt_BR")


def signed_post(client, path: str, form: dict, *, token: str = TOKEN, signed_for: str = ""):
    """POST `form` to `path` signed as the provider would (for `signed_for`, default the
    public URL of `path`)."""
    url = signed_for or PUBLIC + path
    return client.post(path, data=form, headers={SIGNATURE_HEADER: sign(url, form, token)})


def call_form(call_id: str = "CA" + "1" * 32, **extra) -> dict:
    return {"CallSid": call_id, "From": NUMBER, "To": "+5531800000000"} | extra


def twiml(response) -> ElementTree.Element:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/xml"
    return ElementTree.fromstring(response.get_data())  # noqa: S314 - our own answer


def conversations() -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(PhoneConversation))


def participations(world) -> list[Participation]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Participation).filter_by(cycle_id=world.cycle.id)))


# --- a whole call ------------------------------------------------------------------------------


def test_a_full_call_casts_a_vote_found_on_the_board(client, world):
    transcript = call(client, world).run(full_vote(world.titulo))

    assert transcript.error is None and transcript.ended and not transcript.dropped
    assert said("ask_titulo") in transcript.steps[0].heard
    assert transcript.steps[2].heard[0] == said("identified")
    assert said("cast_done") in transcript.text
    # The receipt code is read twice, the same both times, then the line says goodbye.
    codes = transcript.receipts
    assert len(codes) == 2 and codes[0] == codes[1]
    assert re.fullmatch(r"[A-Z2-7]{4}(-[A-Z2-7]{4}){3}", codes[0])
    assert transcript.steps[-1].heard == [said("goodbye")]

    [participation] = participations(world)
    assert participation.channel == "voice"
    assert participation.voter_key == vs.key_of(world.titulo)
    [ballot] = db.session.scalars(sa.select(Ballot).filter_by(cycle_id=world.cycle.id)).all()
    assert ballot.receipt_hash == receipt_hash(transcript.receipt)
    chosen = sorted(ballot.choices)
    assert len(chosen) == 2
    assert board.seal(world.cycle) == 1
    found = board.find_receipt(vs.reload(world.cycle), transcript.receipt)
    assert found.sealed and sorted(found.choices) == chosen
    # The call ended: its conversation is gone (and with it the receipt code).
    assert conversations() == 0


def test_the_twiml_asks_for_each_answer_at_the_public_address(client, world):
    form = call_form()
    first = twiml(signed_post(client, f"/telefone/voz?ciclo={world.slug}", form))
    gather, redirect = list(first)
    assert gather.tag == "Gather" and redirect.tag == "Redirect"
    assert gather.attrib == {
        "input": "dtmf",
        "action": f"{PUBLIC}/telefone/voz/resposta?ciclo={world.slug}",
        "method": "POST",
        "numDigits": "12",
        "finishOnKey": "#",
        "timeout": "12",
    }
    assert {say.get("language") for say in gather} == {"pt-BR"}
    assert [say.text for say in gather][-1] == said("ask_titulo")
    assert redirect.get("method") == "POST"
    assert redirect.text == f"{PUBLIC}/telefone/voz/resposta?ciclo={world.slug}&silencio=1"

    resposta = f"/telefone/voz/resposta?ciclo={world.slug}"
    date = twiml(signed_post(client, resposta, form | {"Digits": world.titulo}))
    assert date[0].get("numDigits") == "8" and date[0].get("finishOnKey") == "#"
    ballot = twiml(signed_post(client, resposta, form | {"Digits": BIRTH_KEYS}))
    # One key per question on the ballot, # and * among them: no key ends the input.
    assert ballot[0].get("numDigits") == "1" and ballot[0].get("finishOnKey") == ""
    assert ballot[0].get("timeout") == "8"


def test_a_line_without_a_cycle_offers_a_menu_and_a_call_that_ends_hangs_up(client, world):
    other = vs.voting_cycle(phone_voice=True)
    vs.voting_cycle(phone_voice=False)  # not on the line: not offered
    menu = twiml(signed_post(client, "/telefone/voz", call_form()))
    assert menu[0].get("numDigits") == "1"
    heard = [say.text for say in menu[0]]
    assert said("choose_cycle") in heard
    names = {world.cycle.title, other.cycle.title}
    assert sum(1 for h in heard if any(n in h for n in names)) == 2

    closed = twiml(signed_post(client, "/telefone/voz?ciclo=no-such-cycle", call_form()))
    assert [verb.tag for verb in closed] == ["Say", "Hangup"]
    assert closed[0].text == said("no_vote_open")


def test_the_receipt_can_be_sent_by_text_message(client, world, settings):
    provider = FakeProvider()
    provider.start()
    try:
        settings(
            PHONE_ACCOUNT_SID=SID,
            PHONE_AUTH_TOKEN=PROVIDER_TOKEN,
            PHONE_API_BASE_URL=provider.base_url,
            PHONE_TEXT_NUMBER="+5531300000000",
        )
        keys = full_vote(world.titulo)[:-1] + ["1"]
        transcript = call(client, world, token=PROVIDER_TOKEN).run(keys)
    finally:
        provider.stop()
    assert said("receipt_menu", can_text=True) in transcript.text
    assert transcript.steps[-1].heard == [said("receipt_texted"), said("goodbye")]
    [sent] = provider.messages
    assert sent.to == NUMBER and transcript.receipt in sent.body


# --- the same rules as the web -------------------------------------------------------------------


def test_a_second_call_for_the_same_titulo_hears_already_voted(client, world):
    first = call(client, world).run(full_vote(world.titulo))
    assert first.receipt
    again = call(client, world, number="+5531977776666").run(full_vote(world.titulo))
    assert again.steps[2].heard == [said("already_voted")]
    assert again.ended and again.steps[2].ended
    assert len(participations(world)) == 1


def test_web_then_phone_and_phone_then_web_are_refused_the_same_way(client, world):
    response = vs.post_ballot(client, world.slug, vs.body(world.titulo, world.ids[:2]))
    assert response.status_code == 201
    phone = call(client, world).run(full_vote(world.titulo))
    assert phone.steps[2].heard == [said("already_voted")]

    other = vs.make_titulo(102)
    vs.register(other)
    assert call(client, world, number="+5531966665555").run(full_vote(other)).receipt
    web = vs.post_ballot(client, world.slug, vs.body(other, world.ids[:2]))
    assert web.status_code == 409
    assert web.get_json()["error"]["code"] == "already_voted"
    # The same sentence: what the web answers (in Portuguese by default) is what the line says.
    assert web.get_json()["error"]["message"] == said("already_voted")
    assert [p.channel for p in participations(world)].count("voice") == 1


def test_a_wrong_birth_date_and_an_unknown_titulo_sound_the_same(client, world):
    wrong_date = call(client, world).run([world.titulo, "01011990"])
    unknown = call(client, world, number="+5531955554444").run([vs.make_titulo(999), BIRTH_KEYS])
    assert wrong_date.steps[2].heard == unknown.steps[2].heard
    assert wrong_date.steps[2].heard == [said("not_eligible"), said("ask_titulo")]
    assert wrong_date.steps[2].question == unknown.steps[2].question
    assert participations(world) == []


def test_a_cycle_off_the_line_takes_no_phone_vote(client, world):
    world.cycle.phone_voice = False
    db.session.commit()
    transcript = call(client, world).run(full_vote(world.titulo))
    assert transcript.steps[0].heard == [said("no_vote_open")] and transcript.ended
    assert participations(world) == []


# --- signatures ----------------------------------------------------------------------------------

ROUTES = ("/telefone/voz", "/telefone/voz/resposta", "/telefone/voz/fim")


@pytest.mark.parametrize("path", ROUTES)
def test_requests_without_a_valid_signature_are_refused(client, world, path):
    form = call_form(Digits="1", CallStatus="completed")
    assert client.post(path, data=form).status_code == 403  # unsigned
    assert signed_post(client, path, form, token="another-token").status_code == 403
    # Signed for another address: another path, another query, another host.
    other_path = "/telefone/voz/fim" if path != "/telefone/voz/fim" else "/telefone/voz"
    assert signed_post(client, path, form, signed_for=PUBLIC + other_path).status_code == 403
    assert signed_post(client, path, form, signed_for=PUBLIC + path + "?ciclo=x").status_code == 403
    assert (
        signed_post(client, path, form, signed_for="https://evil.example" + path).status_code == 403
    )
    # Signed for other values than those sent.
    signature = sign(PUBLIC + path, form, TOKEN)
    tampered = form | {"From": "+5511900000000"}
    headers = {SIGNATURE_HEADER: signature}
    assert client.post(path, data=tampered, headers=headers).status_code == 403
    assert conversations() == 0
    # The control: the same request, rightly signed, is taken.
    assert signed_post(client, path, form).status_code in (200, 204)


@pytest.mark.parametrize("path", ROUTES)
def test_an_unconfigured_line_does_not_exist(client, world, settings, path):
    settings(PHONE_AUTH_TOKEN="")
    form = call_form(Digits="1")
    assert signed_post(client, path, form).status_code == 404
    assert signed_post(client, path, form, token="").status_code == 404
    assert conversations() == 0


# --- silence, wrong keys, dropped calls -------------------------------------------------------


def test_three_silences_end_the_call_politely(client, world):
    transcript = call(client, world).run(["-", "-", "-"])
    assert [step.keyed for step in transcript.steps] == ["", "", "", None]
    assert transcript.steps[1].heard == [said("no_answer"), said("ask_titulo")]
    assert transcript.steps[3].heard == [said("no_answer"), said("goodbye_failures")]
    assert transcript.ended and transcript.steps[3].question is None
    assert conversations() == 0


def test_a_silence_then_an_answer_goes_on(client, world):
    transcript = call(client, world).run(["-", world.titulo, "-", BIRTH_KEYS, "2"])
    assert transcript.steps[2].heard == [said("ask_birth_date")]
    assert transcript.steps[3].heard == [said("no_answer"), said("ask_birth_date")]
    assert transcript.steps[4].heard[0] == said("identified")


def test_three_wrong_keys_end_the_call_politely_with_no_vote(client, world):
    transcript = call(client, world).run([world.titulo, BIRTH_KEYS, "5", "7", "8"])
    assert transcript.steps[3].heard[0] == said("invalid_key")
    assert transcript.steps[5].heard == [said("invalid_key"), said("goodbye_failures")]
    assert transcript.ended
    assert participations(world) == [] and conversations() == 0


def test_wrong_titulo_formats_are_asked_again(client, world):
    transcript = call(client, world).run(["1234#", world.titulo[:11] + "#"])
    assert transcript.steps[1].heard == [said("titulo_format"), said("ask_titulo")]
    assert transcript.steps[2].heard == [said("titulo_format"), said("ask_titulo")]


def test_a_dropped_call_leaves_no_vote_and_the_next_call_works(client, world):
    dropped = call(client, world).run(full_vote(world.titulo), hang_up_after=5)
    # Dropped as the summary was asked for, with two works chosen: before the confirmation.
    assert dropped.dropped and [step.keyed for step in dropped.steps][-2:] == ["1", "#"]
    assert participations(world) == []
    assert conversations() == 1  # until it expires: the provider never said the call ended

    again = call(client, world).run(full_vote(world.titulo))
    assert again.receipt
    [participation] = participations(world)
    assert participation.channel == "voice"


def test_the_status_callback_deletes_the_conversation(client, world):
    ringing = call(client, world)
    ringing.run([world.titulo], hang_up_after=1)
    assert conversations() == 1
    [row] = db.session.scalars(sa.select(PhoneConversation)).all()
    # Keyed, not the call id; the state sealed, not the título's key in clear.
    assert ringing.call_id not in row.key and vs.key_of(world.titulo) not in row.state
    assert ringing.status_callback("in-progress") == 204
    assert conversations() == 1
    assert ringing.status_callback("completed") == 204
    assert conversations() == 0
    # Another call's callback touches nothing.
    other = call(client, world)
    other.run([world.titulo], hang_up_after=1)
    assert call(client, world).status_callback("no-answer") == 204
    assert conversations() == 1


def test_a_conversation_that_expired_starts_again_on_the_same_cycle(client, world):
    vs.voting_cycle(phone_voice=True)  # two cycles on the line: a menu without ?ciclo=
    form = call_form()
    signed_post(client, f"/telefone/voz?ciclo={world.slug}", form)
    db.session.execute(sa.update(PhoneConversation).values(expires_at=vs.now()))
    db.session.commit()
    answer = twiml(
        signed_post(client, f"/telefone/voz/resposta?ciclo={world.slug}", form | {"Digits": "1"})
    )
    heard = [say.text for say in answer[0]]
    assert heard[0] == said("welcome")
    assert said("cycle_chosen", name=world.cycle.title) in heard
    assert heard[-1] == said("ask_titulo")


def test_a_caller_who_hangs_up_mid_ballot_has_the_conversation_dropped(client, world):
    transcript = call(client, world).run([world.titulo, BIRTH_KEYS, "1"])
    assert transcript.hung_up and not transcript.dropped
    assert conversations() == 0 and participations(world) == []


# --- slower speech and recordings ---------------------------------------------------------------


def test_slower_speech_is_toggled_by_the_star_key(client, world):
    steps = []
    call(client, world).run(
        [world.titulo, BIRTH_KEYS, "*", "0", "*"], on_step=lambda step: steps.append(step)
    )
    ballot, slower, repeated, normal = steps[2], steps[3], steps[4], steps[5]
    assert not ballot.slow and ballot.question.timeout == 8
    assert slower.heard[0] == said("slower_on") and slower.slow
    assert slower.question.timeout == 13
    assert repeated.slow  # it stays slow until asked otherwise
    assert normal.heard[0] == said("slower_off") and not normal.slow


def test_slow_speech_is_ssml_prosody(client, world):
    form = call_form()
    signed_post(client, f"/telefone/voz?ciclo={world.slug}", form)
    resposta = f"/telefone/voz/resposta?ciclo={world.slug}"
    signed_post(client, resposta, form | {"Digits": world.titulo})
    signed_post(client, resposta, form | {"Digits": BIRTH_KEYS})
    slow = twiml(signed_post(client, resposta, form | {"Digits": "*"}))
    for say in slow[0]:
        [prosody] = list(say)
        assert prosody.tag == "prosody" and prosody.get("rate") == "slow"
    assert slow[0][0][0].text == said("slower_on")


def _recording(folder, name: str) -> bytes:
    data = b"RIFF" + name.encode() + b"WAVE"
    (folder / f"{name}.wav").write_bytes(data)
    return data


def test_recordings_are_played_where_the_folder_has_them(client, world, settings, tmp_path):
    settings(PHONE_AUDIO_DIR=str(tmp_path))
    for name in ("welcome", "ask_titulo", "slower_on.slow", "work_menu"):
        _recording(tmp_path, name)
    form = call_form()
    first = twiml(signed_post(client, f"/telefone/voz?ciclo={world.slug}", form))
    verbs = [(verb.tag, verb.text) for verb in first[0]]
    assert verbs == [
        ("Play", f"{PUBLIC}/telefone/audio/welcome.wav"),
        ("Say", said("slower_hint")),  # no recording of it in the folder
        ("Say", said("cycle_chosen", name=world.cycle.title)),  # it names a cycle: spoken
        ("Play", f"{PUBLIC}/telefone/audio/ask_titulo.wav"),
    ]
    steps = []
    call(client, world).run(
        [world.titulo, BIRTH_KEYS, "*", "*"], on_step=lambda step: steps.append(step)
    )
    assert "work_menu" in steps[2].recordings
    assert steps[3].heard[0] == "[slower_on.slow]"
    assert "work_menu" not in steps[3].recordings  # no slow recording: spoken slowly
    assert steps[4].heard[0] == said("slower_off")  # no recording at all


def test_recordings_are_served_to_the_provider(client, world, settings, tmp_path):
    data = _recording(tmp_path, "welcome")
    slow = _recording(tmp_path, "welcome.slow")
    (tmp_path / "secret.wav").write_bytes(b"not a prompt")
    assert client.get("/telefone/audio/welcome.wav").status_code == 404  # no folder set
    settings(PHONE_AUDIO_DIR=str(tmp_path))
    response = client.get("/telefone/audio/welcome.wav")  # unsigned: the provider fetches it
    assert response.status_code == 200
    assert response.mimetype == "audio/wav" and response.get_data() == data
    assert response.headers["Cache-Control"] == "public, max-age=3600"
    assert client.get("/telefone/audio/welcome.slow.wav").get_data() == slow
    for path in (
        "/telefone/audio/secret.wav",  # in the folder, but not a prompt's name
        "/telefone/audio/goodbye.wav",  # a prompt's name, not in the folder
        "/telefone/audio/..%2Fsecret.wav",
        "/telefone/audio/%2E%2E/secret.wav",
        "/telefone/audio/welcome.slow.slow.wav",
    ):
        assert client.get(path).status_code == 404, path


def test_every_recording_has_a_prompt(app_ctx):
    from opdigital.phone.prompts import fixed_lines

    assert {recording_name(line) for line in fixed_lines()} == RECORDING_NAMES
    assert {"welcome", "work_menu", "work_menu-chosen", "receipt_menu-can_text"} <= RECORDING_NAMES


# --- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "form",
    [
        {},
        {"CallSid": ""},
        {"CallSid": "CA 123"},
        {"CallSid": "x" * 65},
        {"CallSid": "CA\u00e9"},
        {"CallSid": "<Say>"},
        {"From": NUMBER, "Digits": "1"},
    ],
)
@pytest.mark.parametrize("path", ROUTES)
def test_a_request_without_a_call_id_is_a_400(client, line, path, form):
    response = signed_post(client, path, form)
    assert response.status_code == 400
    assert "CallSid" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "digits", ["abc", "\u00b2" * 12, "1" * 100, "<Hangup/>", "١٢٣٤٥٦٧٨٩٠١٢", " ", "12#3*"]
)
def test_garbage_keys_are_wrong_keys_never_an_error(client, world, digits):
    form = call_form()
    signed_post(client, f"/telefone/voz?ciclo={world.slug}", form)
    answer = twiml(signed_post(client, "/telefone/voz/resposta", form | {"Digits": digits}))
    assert answer[0].tag == "Gather"
    assert [say.text for say in answer[0]] == [said("titulo_format"), said("ask_titulo")]


def test_odd_but_signed_requests_are_answered_without_an_error(client, world):
    form = call_form()
    for path, values in [
        ("/telefone/voz?ciclo=" + "x" * 500, form),
        ("/telefone/voz?ciclo=%C3%A9", form),
        ("/telefone/voz/resposta", form),  # no Digits, no conversation: a new one
        ("/telefone/voz/resposta?silencio=1", form),
        ("/telefone/voz/resposta?silencio=yes&ciclo=", form | {"Digits": ""}),
        ("/telefone/voz/fim", form),  # no CallStatus: nothing to do
        ("/telefone/voz/fim", form | {"CallStatus": "x" * 1000}),
        ("/telefone/voz", form | {"From": "x" * 5000}),
        ("/telefone/voz", form | {"From": "anonymous"}),
    ]:
        response = signed_post(client, path, values)
        assert response.status_code in (200, 204), (path, response.status_code)
    assert client.get("/telefone/voz").status_code == 405
    json = client.post("/telefone/voz", json={"CallSid": "CA1"})
    assert json.status_code == 403  # unsigned, whatever the body
    nul = signed_post(client, "/telefone/voz", form | {"From": "\x00"})
    assert 400 <= nul.status_code < 500


# --- logs -------------------------------------------------------------------------------------


def test_no_log_table_or_redis_key_holds_the_number_titulo_keys_or_call_id(
    app, client, world, redis_url, logs
):
    placed = call(client, world)
    transcript = placed.run(full_vote(world.titulo))
    failed = call(client, world, number="+5531944443333")
    failed.run([vs.make_titulo(998), "31129999"])
    dropped = call(client, world, number="+5531933332222")
    dropped.run([vs.make_titulo(998)], hang_up_after=1)  # its conversation stays a while
    assert any(r.getMessage() == "phone turn" for r in logs.records)  # the logs were on
    stored = [
        world.titulo,
        vs.make_titulo(998),
        NUMBER,
        "+5531944443333",
        "+5531933332222",
        placed.call_id,
        failed.call_id,
        dropped.call_id,
        transcript.receipt,
        normalise_receipt(transcript.receipt),
    ]
    assert tables_holding(app, stored) == []
    assert redis_holding(redis_url, stored) == []
    keyed = [vs.key_of(world.titulo), vs.key_of(vs.make_titulo(998)), "31129999", BIRTH_KEYS]
    assert logs_holding(logs.records, stored + keyed) == []
    # The control: the scans do find what is there.
    assert tables_holding(app, [vs.key_of(world.titulo)])


# --- the spelled receipt code --------------------------------------------------------------------


def test_a_spelled_code_reads_back(app_ctx):
    from opdigital.phone.prompts import spelled

    code = "K7Q2-M4XA-9PLD-W3ZT"
    sentence = said("receipt_code", code=code)
    assert unspelled_codes(sentence) == [code]
    assert unspelled_codes(f"Once more: {spelled('ABCD-EFGH', 'pt_BR')}.") == ["ABCD-EFGH"]
    assert unspelled_codes(said("work_menu", chosen=False)) == []


# --- the command line ----------------------------------------------------------------------------


def test_prompts_are_recorded_with_espeak(app, runner, tmp_path):
    out = tmp_path / "audio"
    result = runner.invoke(args=["phone", "prompts", "--out", str(out), "--slow"])
    assert result.exit_code == 0, result.output
    names = {path.name for path in out.iterdir()}
    assert names == {f"{n}.wav" for n in RECORDING_NAMES} | {
        f"{n}.slow.wav" for n in RECORDING_NAMES
    }
    with (
        wave.open(str(out / "welcome.wav")) as normal,
        wave.open(str(out / "welcome.slow.wav")) as slow,
    ):
        assert normal.getnframes() > 0
        assert slow.getnframes() > normal.getnframes()  # the same words, more slowly


def test_prompts_say_clearly_when_espeak_is_missing(app, runner, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    result = runner.invoke(args=["phone", "prompts", "--out", str(tmp_path / "audio")])
    assert result.exit_code == 1
    assert "espeak-ng is not installed" in result.output
    assert not (tmp_path / "audio").exists()


def test_the_call_command_needs_a_token(app, runner, settings):
    settings(PHONE_AUTH_TOKEN="")
    result = runner.invoke(args=["phone", "call", "x", "--keys", "1"])
    assert result.exit_code == 2 and "auth token" in result.output


def test_the_call_command_takes_keys_from_the_terminal(app, client, world, runner, monkeypatch):
    # The command's own HTTP transport replaced by the test client: the rest is as on a terminal.
    monkeypatch.setattr(
        Call, "_http_post", lambda self, url, form, headers: in_process(client)(url, form, headers)
    )
    typed = "\n".join([world.titulo, "", BIRTH_KEYS, "2", "3", ""]) + "\n"  # then end of input
    result = runner.invoke(args=["phone", "call", world.slug], input=typed)
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Calling {PUBLIC} for {world.slug} from +55")
    assert "Keys (12 digits, # ends; empty line: silence): " in result.output
    assert "Keys (one key; empty line: silence): " in result.output
    assert said("no_answer") in result.output  # the empty line
    assert said("first_work") not in result.output and said("identified") in result.output
    assert result.output.rstrip().endswith("You hung up.")
    assert conversations() == 0  # the status callback was sent
    assert participations(world) == []


def test_the_simulator_votes_through_gunicorn(app, database_url, redis_url):
    with app.app_context():
        forget_phone_works()
        w = vs.voting_cycle(phone_voice=True)
        titulo = vs.make_titulo(303)
        vs.register(titulo)
        slug, cycle_id = w.slug, w.cycle.id
        db.session.remove()
    env = phone_line_env(database_url, redis_url, TOKEN, PUBLIC)
    with gunicorn(env, workers=2) as base:
        keys = " ".join(full_vote(titulo))
        args = ["phone", "call", slug, "--url", base, "--public-url", PUBLIC, "--keys", keys]
        result = console_script(*args, env=env | {"OPDIGITAL_CONFIG": "testing"})
        refused = console_script(
            *args[:-2],
            "--keys",
            titulo,
            "--token",
            "wrong",
            env=env | {"OPDIGITAL_CONFIG": "testing"},
        )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "> " + titulo in result.stdout and "The line hung up." in result.stdout
    receipt = re.search(r"Receipt code heard: (\S+)", result.stdout).group(1)
    assert refused.returncode == 1 and "403" in refused.stderr
    with app.app_context():
        [participation] = db.session.scalars(
            sa.select(Participation).filter_by(cycle_id=cycle_id)
        ).all()
        assert participation.channel == "voice"
        digest = db.session.scalar(sa.select(Ballot.receipt_hash).filter_by(cycle_id=cycle_id))
        assert digest == receipt_hash(receipt)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PhoneConversation)) == 0
        db.session.remove()
