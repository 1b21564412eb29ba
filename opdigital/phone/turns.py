"""One turn of a phone conversation, whatever the channel: load the state, run the dialogue,
save or drop the state. The adapters (views/voice.py, views/text.py) only translate the
provider's request into an `Input` and the `Reply` into TwiML.
"""

from __future__ import annotations

import logging

from opdigital.extensions import db
from opdigital.phone import conversations, dialogue
from opdigital.phone.dialogue import Input, Line, Reply, Stage, State

log = logging.getLogger(__name__)


def take_turn(
    key: str,
    channel: str,
    services: dialogue.Services,
    given: Input | None,
    *,
    only_cycle: str | None = None,
) -> tuple[State, Reply]:
    """The reply to `given` in the conversation `key` (a keyed hash), or, when there is no live
    conversation (or `given` is None: a call just came in), the greeting of a new one.

    The state is saved in the request's transaction and committed here; a conversation that
    ended is deleted. A cast commits on its own before this (voting/services.py): a failure
    to save afterwards loses the conversation, never the vote."""
    state = conversations.load(key) if given is not None else None
    try:
        if state is None:
            conversations.purge_expired()
            state, reply = dialogue.begin(services, only=only_cycle)
        else:
            state, reply = dialogue.answer(state, given, services)
    except Exception:
        # A fault of ours (the database gone, a cycle unpublished mid-call): the caller hears an
        # apology from us rather than the provider's error message, and the conversation ends.
        # A vote cast before the fault stays cast (its own transaction committed).
        log.exception("phone turn failed", extra={"channel": channel})
        db.session.rollback()
        state, reply = State(stage=Stage.ENDED), Reply((Line("line_trouble"),), None)
    if reply.ends or state.stage == Stage.ENDED:
        conversations.drop(key)
    else:
        conversations.save(key, channel, state)
    db.session.commit()
    log.info("phone turn", extra={"channel": channel, "stage": state.stage.value})
    return state, reply


def end(key: str) -> None:
    """The provider says the call is over (hung up, dropped): forget its conversation."""
    conversations.drop(key)
    db.session.commit()
