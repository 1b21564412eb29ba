"""What the encarregado reads: the queue of requests, and the data held for a request's contact.

The data held about a contact: the proposals whose contact is the same address or number
(compared by `contacts.key`), with their public author name and e-mail consent, and the
messages of the outbox addressed to it or about those proposals and not yet erased.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from opdigital.clock import now, to_city
from opdigital.extensions import db
from opdigital.mail.models import OutboxMessage
from opdigital.proposals.models import Proposal
from opdigital.subject_requests import contacts
from opdigital.subject_requests.models import (
    ContactKind,
    RequestStatus,
    SubjectRequest,
)

# How many answered requests the queue lists below the open ones.
ANSWERED_SHOWN = 50


@dataclass(frozen=True)
class Queue:
    """Open requests by due date, phone requests waiting for their call, the latest answered."""

    at: datetime
    open: list[SubjectRequest] = field(default_factory=list)
    awaiting_call: list[SubjectRequest] = field(default_factory=list)
    answered: list[SubjectRequest] = field(default_factory=list)

    def days_left(self, request: SubjectRequest) -> int | None:
        return days_left(request, self.at)

    def is_overdue(self, request: SubjectRequest) -> bool:
        return is_overdue(request, self.at)

    def on_time(self, request: SubjectRequest) -> bool:
        return answered_on_time(request)


def days_left(request: SubjectRequest, at: datetime | None = None) -> int | None:
    """Days from today to the due date, in the city's calendar: 0 on the due day, negative
    once overdue; None before the request is verified. The deadline is a day, as the law
    counts it: an answer at any hour of the due day is on time."""
    if request.due_at is None:
        return None
    return (to_city(request.due_at).date() - to_city(at or now()).date()).days


def is_overdue(request: SubjectRequest, at: datetime | None = None) -> bool:
    """An open request whose due day has passed."""
    left = days_left(request, at)
    return request.is_open and left is not None and left < 0


def answered_on_time(request: SubjectRequest) -> bool:
    if request.due_at is None or request.answered_at is None:
        return False
    return to_city(request.answered_at).date() <= to_city(request.due_at).date()


def queue(at: datetime | None = None) -> Queue:
    status = SubjectRequest.status
    return Queue(
        at=at or now(),
        open=list(
            db.session.scalars(
                sa.select(SubjectRequest)
                .where(status == RequestStatus.OPEN.value)
                .order_by(SubjectRequest.due_at, SubjectRequest.id)
            )
        ),
        awaiting_call=list(
            db.session.scalars(
                sa.select(SubjectRequest)
                .where(
                    status == RequestStatus.AWAITING_VERIFICATION.value,
                    SubjectRequest.contact_kind == ContactKind.PHONE.value,
                )
                .order_by(SubjectRequest.created_at, SubjectRequest.id)
            )
        ),
        answered=list(
            db.session.scalars(
                sa.select(SubjectRequest)
                .where(status == RequestStatus.ANSWERED.value)
                .order_by(SubjectRequest.answered_at.desc(), SubjectRequest.id.desc())
                .limit(ANSWERED_SHOWN)
            )
        ),
    )


def matching_proposals(contact: str) -> list[Proposal]:
    """The proposals whose contact is `contact`, however either was typed; by code."""
    wanted = contacts.key(contact)
    if not wanted:
        return []
    query = sa.select(Proposal).where(Proposal.contact != "").order_by(Proposal.code)
    if contacts.kind_of(contact) == ContactKind.EMAIL:
        # Exact in SQL: an address is only trimmed and lower-cased.
        query = query.where(sa.func.lower(sa.func.trim(Proposal.contact)) == wanted)
        return list(db.session.scalars(query))
    # Phone numbers are compared by their digits, in Python: the same on PostgreSQL and
    # SQLite (`make run`), and a city's proposals are a few thousand at most.
    candidates = db.session.scalars(query.where(~Proposal.contact.contains("@")))
    return [p for p in candidates if contacts.phone_key(p.contact) == wanted]


def messages_query(contact: str, proposal_ids: list[int]) -> sa.Select:
    """Outbox messages not yet erased, addressed to `contact` (an e-mail) or about one of the
    proposals: the person's own messages, even those sent to an address they had before."""
    conditions = []
    if contacts.kind_of(contact) == ContactKind.EMAIL and contacts.key(contact):
        conditions.append(sa.func.lower(OutboxMessage.to_address) == contacts.key(contact))
    if proposal_ids:
        conditions.append(OutboxMessage.proposal_id.in_(proposal_ids))
    if not conditions:
        return sa.select(OutboxMessage).where(sa.false())
    return sa.select(OutboxMessage).where(OutboxMessage.erased_at.is_(None), sa.or_(*conditions))


@dataclass(frozen=True)
class HeldData:
    """The personal data held for one contact."""

    proposals: list[Proposal]
    messages: int

    @property
    def is_empty(self) -> bool:
        return not self.proposals and not self.messages


def held_for(contact: str) -> HeldData:
    """The proposals and the messages held for `contact`. The requests' own messages (codes,
    answers) are not counted: they are erased as soon as they are sent."""
    proposals = matching_proposals(contact)
    query = messages_query(contact, [p.id for p in proposals]).where(
        ~OutboxMessage.erase_after_send
    )
    count = db.session.scalar(query.with_only_columns(sa.func.count(OutboxMessage.id)))
    return HeldData(proposals, int(count or 0))
