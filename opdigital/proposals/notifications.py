"""E-mails to a proposer who asked for them: what becomes of their proposal.

The service that makes a change calls `notify` (or `status_changed`) inside its transaction, so
the message is queued in the outbox with the change and exists only if the change commits:
submission (with the consent), the review's decision, the ballot, the result either way, and
every step of the works. Often no request is under way (the tally runs from the command line):
links start with PUBLIC_BASE_URL and each message is written in the proposer's language.
"""

from __future__ import annotations

import sqlalchemy as sa

from opdigital.extensions import db
from opdigital.mail.links import external_url
from opdigital.mail.models import OutboxMessage
from opdigital.mail.outbox import enqueue
from opdigital.proposals.consent import unsubscribe_token
from opdigital.proposals.models import Proposal, ProposalStatus

RECEIVED = "received"
EXECUTION = "execution"
# The status changes a proposer hears about. "Under review" is not news: the decision follows.
STATUS_EVENTS = frozenset(
    {
        ProposalStatus.ACCEPTED,
        ProposalStatus.REJECTED,
        ProposalStatus.ON_BALLOT,
        ProposalStatus.SELECTED,
        ProposalStatus.NOT_SELECTED,
    }
)
EVENTS = frozenset({RECEIVED, EXECUTION, *(status.value for status in STATUS_EVENTS)})


def status_changed(proposal: Proposal, before: str | None, to: ProposalStatus) -> None:
    """Tell the proposer of a new status worth an e-mail (no commit)."""
    if before != to.value and to in STATUS_EVENTS:
        notify(proposal, to.value)


def notify(proposal: Proposal, event: str) -> OutboxMessage | None:
    """Queue the message of `event` about `proposal` if its proposer asked for e-mails (no
    commit); the message, or None."""
    if event not in EVENTS:
        raise ValueError(f"unknown proposal event {event!r}")
    if not _consent_in_force(proposal):
        return None
    language = proposal.notify_language
    # The links open the pages in the message's language, whoever's browser follows them.
    unsubscribe_url = external_url(
        "public.unsubscribe", token=unsubscribe_token(proposal), lang=language
    )
    return enqueue(
        kind=f"proposal.{event}",
        to=proposal.contact,
        template=f"proposal_{event}",
        language=language,
        proposal_id=proposal.id,
        unsubscribe_url=unsubscribe_url,
        proposal=proposal,
        proposal_url=external_url("public.proposal", code=proposal.code, lang=language),
        cycle_url=external_url("public.cycle", slug=proposal.cycle.slug, lang=language),
    )


def _consent_in_force(proposal: Proposal) -> bool:
    if not (proposal.notify_by_email and proposal.contact.strip()):
        return False
    # Read again under the row's lock: a withdrawal committed since the proposal was loaded
    # (the link clicked during a long tally) wins, and one arriving now waits for this
    # transaction, then deletes what it queued (consent.withdraw_consent).
    db.session.flush()
    return bool(
        db.session.scalar(
            sa.select(Proposal.notify_by_email).where(Proposal.id == proposal.id).with_for_update()
        )
    )
