"""The phone conversations' state between webhooks: keyed, encrypted, short-lived."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from opdigital.clock import now
from opdigital.extensions import db
from opdigital.phone import conversations, turns
from opdigital.phone.dialogue import Stage, State, Voter
from opdigital.phone.models import PhoneConversation
from opdigital.retention import services as retention

CALL_ID = "CA0123456789abcdef0123456789abcdef"
VOTER = Voter("f" * 64, region_id=3)


def test_a_state_comes_back_as_saved_under_a_key_that_names_no_call(app_ctx):
    key = conversations.keyed("voice", CALL_ID)
    state = State(stage=Stage.BALLOT, cycle="op", voter=VOTER, choices=(4, 9), slow=True)
    conversations.save(key, "voice", state)
    db.session.commit()
    assert conversations.load(key) == state
    row = db.session.get(PhoneConversation, key)
    assert CALL_ID not in key and len(key) == 64
    # Encrypted: neither the voter key nor the cycle can be read from the row.
    assert VOTER.voter_key not in row.state and '"op"' not in row.state
    assert conversations.keyed("voice", CALL_ID) == key != conversations.keyed("text", CALL_ID)


def test_an_idle_conversation_expires_and_the_retention_run_deletes_it(
    app_ctx, settings, time_machine
):
    settings(PHONE_CONVERSATION_MINUTES=20)
    key = conversations.keyed("voice", CALL_ID)
    conversations.save(key, "voice", State(stage=Stage.TITULO, cycle="op"))
    db.session.commit()
    time_machine.move_to(now() + timedelta(minutes=19), tick=False)
    assert conversations.load(key) is not None
    db.session.rollback()
    time_machine.move_to(now() + timedelta(minutes=2), tick=False)
    assert conversations.load(key) is None
    db.session.rollback()
    assert retention.run(dry_run=True).phone_conversations_deleted == 1
    assert retention.run().phone_conversations_deleted == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PhoneConversation)) == 0


def test_a_state_sealed_with_another_secret_key_or_tampered_with_is_no_state(app_ctx, settings):
    key = conversations.keyed("text", "+5531999990000")
    conversations.save(key, "text", State(stage=Stage.TITULO, cycle="op"))
    db.session.commit()
    row = db.session.get(PhoneConversation, key)
    row.state = row.state[:-4] + "AAAA"
    db.session.commit()
    assert conversations.load(key) is None


def test_drop_forgets_the_conversation(app_ctx):
    key = conversations.keyed("voice", CALL_ID)
    conversations.save(key, "voice", State(stage=Stage.TITULO, cycle="op"))
    conversations.drop(key)
    db.session.commit()
    assert conversations.load(key) is None


class _BrokenServices:
    """Services whose database went away in the middle of a turn."""

    def cycles(self):
        raise RuntimeError("connection lost")


def test_a_fault_of_ours_mid_turn_apologises_ends_and_keeps_no_state(app_ctx, caplog):
    key = conversations.keyed("voice", CALL_ID)
    state, reply = turns.take_turn(key, "voice", _BrokenServices(), None)
    assert reply.ends and [line.key for line in reply.lines] == ["line_trouble"]
    assert state.stage == Stage.ENDED and conversations.load(key) is None
    assert any(record.message == "phone turn failed" for record in caplog.records)
