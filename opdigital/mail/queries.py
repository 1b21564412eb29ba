"""Reading the outbox: for the staff screen and the retention rule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_sqlalchemy.pagination import Pagination

from opdigital.extensions import db
from opdigital.mail.models import OutboxMessage, OutboxStatus

MASK = "\u2022\u2022\u2022"  # •••


def mask_address(address: str) -> str:
    """ "maria@example.org" -> "m•••@example.org": enough for staff to tell messages apart and
    see the domain a server refuses, not enough to read who was written to."""
    local, at, domain = address.rpartition("@")
    if not at:
        return address[:1] + MASK if address else ""
    return local[:1] + MASK + "@" + domain


def status_counts() -> dict[str, int]:
    """Messages per status, every status listed (0 when none)."""
    found = dict(
        db.session.execute(
            sa.select(OutboxMessage.status, sa.func.count()).group_by(OutboxMessage.status)
        ).all()
    )
    return {status.value: int(found.get(status.value, 0)) for status in OutboxStatus}


def page_of_messages(page: int, per_page: int, status: str | None = None) -> Pagination:
    """One page of messages, newest first, optionally of one status."""
    query = sa.select(OutboxMessage).order_by(
        OutboxMessage.created_at.desc(), OutboxMessage.id.desc()
    )
    if status:
        query = query.where(OutboxMessage.status == status)
    return db.paginate(query, page=page, per_page=per_page, error_out=False, count=True)


# --- retention ------------------------------------------------------------------------------


def ended_at():
    """When a message was done with: sent, or (failed) its last attempt, which the sender
    keeps in `next_attempt_at` once there is no next one."""
    return sa.func.coalesce(OutboxMessage.sent_at, OutboxMessage.next_attempt_at)


def held() -> sa.ColumnElement[bool]:
    """Messages done with (sent or failed) whose address and text are still kept."""
    return sa.and_(
        OutboxMessage.status.in_([OutboxStatus.SENT.value, OutboxStatus.FAILED.value]),
        OutboxMessage.erased_at.is_(None),
    )


@dataclass(frozen=True)
class HeldMessages:
    """Sent or failed messages still holding an address and a text, and when they go."""

    messages: int
    due: int  # of them, past their retention already
    next_due_at: datetime | None  # when the first of them is (or was) due; None: none held

    def is_due(self, at: datetime) -> bool:  # `at` as the plan's: `due` was counted at it
        return self.due > 0


def held_messages(at: datetime, grace: timedelta) -> HeldMessages:
    cutoff = at - grace
    messages, due, first = db.session.execute(
        sa.select(
            sa.func.count(),
            sa.func.count().filter(ended_at() < cutoff),
            sa.func.min(ended_at()),
        ).where(held())
    ).one()
    return HeldMessages(int(messages), int(due), first + grace if first is not None else None)
