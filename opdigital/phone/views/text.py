"""Voting by text message: the provider's incoming-message webhook (SMS, or a messaging app's
"whatsapp:+55..." senders through the same provider), answered with TwiML <Message>s.

Each message is one turn of the dialogue (turns.take_turn): `words.meaning` reads it as the
keys the line would get, or as a request to stop or to start over. The conversation is keyed
by a keyed hash of the sender's and our number (conversations.keyed); the limits count the
sender's number, as a keyed hash too (callers.caller_client). The reply is the dialogue's lines
in Brazilian Portuguese, one per line, cut into several messages when long. Nothing here logs a
number, a título or a message's text.
"""

from __future__ import annotations

import logging

from flask import Response, request
from flask_babel import force_locale
from flask_babel import gettext as _
from twilio.twiml.messaging_response import MessagingResponse

from opdigital.phone import conversations, prompts, turns, words
from opdigital.phone.callers import caller_client, is_withheld, normalised_number
from opdigital.phone.dialogue import Input
from opdigital.phone.services import PhoneServices
from opdigital.phone.signatures import require_provider_signature
from opdigital.phone.views import bp
from opdigital.voting.models import Channel

log = logging.getLogger(__name__)

# The providers' own ceiling for one message (Twilio: 1,600 characters); nothing the dialogue
# asks for comes near it.
MAX_BODY_CHARS = 1600
LANGUAGE = "pt_BR"


@bp.post("/mensagem")
def incoming_message():
    require_provider_signature()
    sender = request.form.get("From", "")
    text = request.form.get("Body", "")
    with force_locale(LANGUAGE):
        return _reply(_answer(sender, text))


def _answer(sender: str, text: str) -> list[str]:
    """The sentences to send back (rendered in the forced locale)."""
    if is_withheld(sender):  # no one to answer, and no number to count the limits by
        log.info("phone text refused", extra={"reason": "withheld"})
        return [_("Votes by text message need a visible number. Please vote on the OP website.")]
    if not text.strip():  # a picture, a sticker, an empty message: not an answer
        log.info("phone text refused", extra={"reason": "empty"})
        return [_("Your message was empty. Reply with a number or a word, or send VOTAR.")]
    if len(text) > MAX_BODY_CHARS:
        log.info("phone text refused", extra={"reason": "too_long"})
        return [_("Your message is too long. Reply with a number or a short word.")]
    ours = normalised_number(request.form.get("To", ""))
    key = conversations.keyed("text", f"{normalised_number(sender)}\x00{ours}")
    said = words.meaning(text)
    if said.stop:
        turns.end(key)
        return [_("This conversation has ended. Send VOTAR to start again at any time.")]
    message = request.form.get("MessageSid", "")
    delivery = conversations.keyed("message", message) if message else None
    if delivery is not None:
        again = conversations.replayed(key, delivery)
        if again is not None:
            return again  # the provider delivered this message twice: the same answer
    client = caller_client(sender, message)
    services = PhoneServices(Channel.TEXT, client, texter=None)
    # A start word begins a new conversation (take_turn's None); any other message with no
    # conversation going begins one too, and is not taken as an answer to anything.
    given = None if said.start else Input(keys=said.keys)
    _state, reply = turns.take_turn(key, Channel.TEXT.value, services, given)
    sentences = prompts.words(reply.lines, prompts.TEXT, LANGUAGE)
    if delivery is not None:
        conversations.remember(key, delivery, sentences)
    return sentences


def _reply(sentences: list[str]) -> Response:
    twiml = MessagingResponse()
    for message in words.messages(sentences):
        twiml.message(message)
    response = Response(str(twiml), mimetype="text/xml")
    response.headers["Cache-Control"] = "no-store"  # it may carry a receipt code
    return response
