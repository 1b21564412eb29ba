"""The voice line: TwiML webhooks (Twilio's protocol, also spoken by compatible providers).

The provider POSTs to `/telefone/voz` when a call comes in (`?ciclo=<slug>`: a number that
serves one cycle), to `/telefone/voz/resposta` with the keys of each <Gather> (or, through the
<Redirect> after a <Gather> that heard nothing, with `?silencio=1`), and to `/telefone/voz/fim`
as the call's status callback when it ends. Each answer is TwiML: the dialogue's sentences as
<Say> (or <Play> of a recording, `/telefone/audio/<name>.wav`), inside a <Gather> when a key is
expected, else followed by <Hangup/>.

Every webhook is checked against the provider's signature first. The call is known only by a
keyed hash of its id (`conversations.keyed`), the caller by a keyed hash of their number
(`callers.caller_client`); nothing here logs either, nor the keys pressed.
"""

from __future__ import annotations

import re
from pathlib import Path

from flask import Response, abort, current_app, request, send_from_directory, url_for
from flask_babel import force_locale
from twilio.twiml.voice_response import VoiceResponse

from opdigital.phone import conversations, turns
from opdigital.phone.callers import caller_client
from opdigital.phone.dialogue import TIMEOUT, Expect, Input, Reply
from opdigital.phone.prompts import VOICE, recording_name, render
from opdigital.phone.recordings import RECORDING_NAMES, SLOW_SUFFIX
from opdigital.phone.services import PhoneServices
from opdigital.phone.signatures import require_provider_signature
from opdigital.phone.texting import receipt_texter
from opdigital.phone.views import bp
from opdigital.voting.models import Channel

LANGUAGE = "pt_BR"  # the prompts' locale
SAY_LANGUAGE = "pt-BR"  # the same, as the provider's speech takes it

# Call ids: Twilio's are "CA" and 32 hex digits; other providers send UUIDs. Anything else (or
# nothing) is not a call.
_CALL_ID = re.compile(r"[A-Za-z0-9-]{1,64}")
# What a keypad sends (and a bound well above the 12 digits of a título).
_KEYS = re.compile(r"[0-9#*]{0,32}")
# A key no question accepts: what an answer that is no keypad's becomes (a wrong key, which the
# dialogue counts, rather than an error that drops the caller).
_UNREADABLE = "?"

# The provider's final statuses of a call (the status callback's CallStatus).
_CALL_OVER = {"completed", "busy", "failed", "no-answer", "canceled"}

# What each question collects: one key (# and * included: no key ends it), or a number ended
# by # (or by its last digit).
_GATHER = {
    Expect.KEY: {"num_digits": 1, "finish_on_key": ""},
    Expect.CYCLE: {"num_digits": 1, "finish_on_key": ""},
    Expect.TITULO: {"num_digits": 12, "finish_on_key": "#"},
    Expect.BIRTH_DATE: {"num_digits": 8, "finish_on_key": "#"},
}
# Seconds of silence before a question counts as unanswered: generous, more for long numbers
# (between two digits too) and when the caller asked for slower speech.
_TIMEOUT = {Expect.KEY: 8, Expect.CYCLE: 8, Expect.TITULO: 12, Expect.BIRTH_DATE: 12}
_SLOW_EXTRA_SECONDS = 5


@bp.post("/voz")
def incoming_call():
    """A call comes in: the greeting of a new conversation."""
    require_provider_signature()
    return _turn(None)


@bp.post("/voz/resposta")
def gathered():
    """The keys of a <Gather>, or (`?silencio=1`) nothing heard."""
    require_provider_signature()
    return _turn(TIMEOUT if request.args.get("silencio") else Input(keys=_keys()))


@bp.post("/voz/fim")
def call_status():
    """The status callback: once the call is over (hung up, dropped), forget its conversation.
    The provider's number must have this URL as its status callback (docs/phone.md)."""
    require_provider_signature()
    call = _call_id()
    if request.form.get("CallStatus", "") in _CALL_OVER:
        turns.end(conversations.keyed(Channel.VOICE.value, call))
    return Response(status=204)


@bp.get("/audio/<name>.wav")
def recording(name: str):
    """A recorded prompt, for the provider's <Play> (unsigned: the provider fetches it)."""
    folder = current_app.config.get("PHONE_AUDIO_DIR") or ""
    base = name.removesuffix(SLOW_SUFFIX)
    if not folder or base not in RECORDING_NAMES or not (Path(folder) / f"{name}.wav").is_file():
        abort(404)
    # Recordings change only when they are made again: an hour's cache spares the provider a
    # download per call, and the ETag a full one after that.
    response = send_from_directory(
        Path(folder).resolve(), f"{name}.wav", mimetype="audio/wav", max_age=3600
    )
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


# --- The request ------------------------------------------------------------------------------


def _turn(given: Input | None) -> Response:
    """The call's next step (`given` None: a new call). `?ciclo=` names the one cycle a number
    serves; it is carried in every URL of the call, for a conversation that expired meanwhile."""
    call = _call_id()
    only = request.args.get("ciclo") or None
    key = conversations.keyed(Channel.VOICE.value, call)
    _state, reply = turns.take_turn(
        key, Channel.VOICE.value, _services(call), given, only_cycle=only
    )
    return _twiml(reply, only)


def _call_id() -> str:
    call = request.form.get("CallSid", "")
    if not _CALL_ID.fullmatch(call):
        abort(Response("A call id (CallSid) is required.\n", 400, mimetype="text/plain"))
    return call


def _keys() -> str:
    keys = request.form.get("Digits", "")
    return keys if _KEYS.fullmatch(keys) else _UNREADABLE


def _services(call: str) -> PhoneServices:
    number = request.form.get("From", "")
    return PhoneServices(Channel.VOICE, caller_client(number, call), receipt_texter(number))


# --- The answer -------------------------------------------------------------------------------


def _twiml(reply: Reply, only: str | None) -> Response:
    """The reply as TwiML: its sentences, in a <Gather> when it asks something."""
    twiml = VoiceResponse()
    verbs = twiml
    if reply.expect is not None:
        timeout = _TIMEOUT[reply.expect] + (_SLOW_EXTRA_SECONDS if reply.slow else 0)
        verbs = twiml.gather(
            input="dtmf",
            action=_public_url("phone.gathered", ciclo=only),
            method="POST",
            timeout=timeout,
            **_GATHER[reply.expect],
        )
    with force_locale(LANGUAGE):
        spoken = [(render(line, VOICE, LANGUAGE), recording_name(line)) for line in reply.lines]
    for sentence, name in spoken:
        if not sentence:
            continue
        audio = _recording_url(name, reply.slow)
        if audio:
            verbs.play(audio)
        else:
            _say(verbs, sentence, reply.slow)
    if reply.expect is not None:
        # Reached only when the <Gather> heard nothing: the same question counts a silence.
        twiml.redirect(_public_url("phone.gathered", ciclo=only, silencio=1), method="POST")
    else:
        twiml.hangup()
    return Response(twiml.to_xml(), mimetype="text/xml")


def _say(verbs, sentence: str, slow: bool) -> None:
    voice = current_app.config.get("PHONE_VOICE") or None
    if slow:
        # SSML: the provider's speech, slower (voices that do not take SSML read it as usual).
        verbs.say(language=SAY_LANGUAGE, voice=voice).prosody(sentence, rate="slow")
    else:
        verbs.say(sentence, language=SAY_LANGUAGE, voice=voice)


def _recording_url(name: str | None, slow: bool) -> str | None:
    """The public URL of the line's recording (its slow variant when slow), or None when the
    folder has none: the provider speaks the sentence then."""
    folder = current_app.config.get("PHONE_AUDIO_DIR") or ""
    if not folder or name is None:
        return None
    file_name = f"{name}{SLOW_SUFFIX}" if slow else name
    if not (Path(folder) / f"{file_name}.wav").is_file():
        return None
    return _public_url("phone.recording", name=file_name)


def _public_url(endpoint: str, **values) -> str:
    """An absolute URL at the public address: the one the provider calls and signs."""
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    return base + url_for(endpoint, **{k: v for k, v in values.items() if v is not None})
