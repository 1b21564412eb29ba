"""Keeping a phone conversation's dialogue state between webhooks (the `phone_conversation` table).

Keyed by a keyed hash of the provider's call id (voice) or of the texting number (text), so the
table names no number and no call; the state itself is encrypted (secret_box), so a database
dump shows neither the voter key nor the choices nor a receipt code. Each webhook loads its row
locked (`FOR UPDATE` on PostgreSQL: a provider's retry waits for the first delivery) and saves
it in the same transaction; `drop` ends it. An abandoned conversation expires on its own after
`PHONE_CONVERSATION_MINUTES` without a webhook, and expired rows are deleted when conversations
start and by the retention run.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from opdigital.clock import now
from opdigital.extensions import db
from opdigital.phone.dialogue import State
from opdigital.phone.models import PhoneConversation
from opdigital.secret_box import seal, unseal

_PURPOSE = b"opdigital phone conversation"


def keyed(kind: str, identifier: str) -> str:
    """HMAC-SHA-256 (hex) of a call id, a number or a conversation, with a key of its own."""
    secret = hmac.new(
        current_app.config["SECRET_KEY"].encode(), b"opdigital phone keys", hashlib.sha256
    ).digest()
    return hmac.new(secret, f"{kind}\x00{identifier}".encode(), hashlib.sha256).hexdigest()


def load(key: str) -> State | None:
    """The conversation's state, locked until the transaction ends; None when there is none, it
    expired, or it cannot be read (another secret key, an older format)."""
    row = db.session.scalar(
        sa.select(PhoneConversation).where(PhoneConversation.key == key).with_for_update()
    )
    if row is None or row.expires_at <= now():
        return None
    data = unseal(current_app.config["SECRET_KEY"], _PURPOSE, row.state)
    if data is None:
        return None
    try:
        return State.from_dict(data)
    except ValueError:
        return None


def save(key: str, channel: str, state: State) -> None:
    """Store the state (in the caller's transaction) for another idle period."""
    token = seal(current_app.config["SECRET_KEY"], _PURPOSE, state.as_dict())
    expires = now() + timedelta(minutes=current_app.config["PHONE_CONVERSATION_MINUTES"])
    # An upsert: two first messages of one sender at once must not both insert (and one fail).
    values = {"key": key, "channel": channel, "state": token, "expires_at": expires}
    insert = postgresql_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    statement = insert(PhoneConversation).values(**values)
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=["key"], set_={"state": token, "expires_at": expires}
        )
    )


def replayed(key: str, request: str) -> list[str] | None:
    """The reply already given to the request `request` (a keyed hash of the provider's message
    id) if it was the conversation's last one: a delivery repeated by the provider is answered
    the same, not taken as a second answer. None otherwise."""
    row = db.session.get(PhoneConversation, key)
    if row is None or row.last_request != request or row.last_reply is None:
        return None
    data = unseal(current_app.config["SECRET_KEY"], _PURPOSE, row.last_reply)
    said = data.get("said") if data else None
    return [str(s) for s in said] if isinstance(said, list) else None


def remember(key: str, request: str, said: list[str]) -> None:
    """Keep `said` as the reply to `request`, while the conversation lasts (committed)."""
    token = seal(current_app.config["SECRET_KEY"], _PURPOSE, {"said": said})
    db.session.execute(
        sa.update(PhoneConversation)
        .where(PhoneConversation.key == key)
        .values(last_request=request, last_reply=token)
    )
    db.session.commit()


def drop(key: str) -> None:
    """Forget the conversation (it ended)."""
    db.session.execute(sa.delete(PhoneConversation).where(PhoneConversation.key == key))


def count_expired() -> int:
    """How many conversations expired and wait to be deleted."""
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(PhoneConversation)
        .where(PhoneConversation.expires_at <= now())
    )


def purge_expired() -> int:
    """Delete expired conversations; how many."""
    result = db.session.execute(
        sa.delete(PhoneConversation).where(PhoneConversation.expires_at <= now())
    )
    return result.rowcount or 0
