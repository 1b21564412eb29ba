"""Where a phone conversation stands between two webhooks: kept here, by a keyed hash of the call
(or of the texting number), encrypted, for a few minutes.

The state holds the dialogue's step, the voter key once identified (never the título, never the
caller's number) and the choices so far; after the vote, for a few minutes, the receipt code so
that it can be read again. Rows expire (`expires_at`) and are deleted at the end of the call,
when a new conversation starts, and by the retention run.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from opdigital.db_types import UTCDateTime
from opdigital.extensions import db


class PhoneConversation(db.Model):
    __tablename__ = "phone_conversation"

    # HMAC of the provider's call id (voice) or of the texting number (text).
    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    # "voice" or "text" (voting.models.Channel).
    channel: Mapped[str] = mapped_column(sa.String(8))
    # The dialogue's state, Fernet-encrypted JSON (key derived from SECRET_KEY).
    state: Mapped[str] = mapped_column(sa.Text)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # Text messages: a keyed hash of the last message handled and the reply it got (encrypted),
    # so that a message the provider delivers twice is answered again, not taken twice.
    last_request: Mapped[str | None] = mapped_column(sa.String(64))
    last_reply: Mapped[str | None] = mapped_column(sa.Text)
