"""A proposer's consent to e-mails about their proposal (LGPD art. 7, I and art. 8, § 5).

Given at submission, apart from it and never pre-ticked, only with an e-mail contact; withdrawn
at any time by the link in every message, without signing in. The link carries a token signed
with SECRET_KEY (and a salt of its own) that names the proposal: whoever holds a message may
stop the messages about that proposal, and nothing else. The token has no expiry, since a
message read a year later must still let its reader stop the next ones (changing SECRET_KEY
voids every link sent before).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer

from opdigital.audit import services as audit
from opdigital.clock import now
from opdigital.errors import NotFound
from opdigital.extensions import db
from opdigital.mail.models import OutboxMessage, OutboxStatus
from opdigital.proposals.models import Proposal

LINK_SALT = "opdigital.proposals.unsubscribe"
# Far longer than any token this module makes: longer ones are refused before any check.
MAX_TOKEN_LENGTH = 200

CONSENT_ACTION = "proposal.notify_consent"
WITHDRAW_ACTION = "proposal.notify_withdrawn"


def is_email_address(text: str) -> bool:
    """True when `text` is an e-mail address (its syntax only: no DNS look-up)."""
    try:
        validate_email((text or "").strip(), check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=LINK_SALT)


def unsubscribe_token(proposal: Proposal) -> str:
    """The token of `proposal`'s unsubscribe link."""
    return _serializer().dumps(proposal.id)


def proposal_of_token(token: str) -> Proposal:
    """The proposal a token names; NotFound for a forged, damaged or stale token."""
    proposal = None
    if len(token) <= MAX_TOKEN_LENGTH:
        try:
            proposal_id = _serializer().loads(token)
        except BadSignature:
            proposal_id = None
        if type(proposal_id) is int and 0 < proposal_id < 2**31:
            proposal = db.session.get(Proposal, proposal_id)
    if proposal is None:
        raise NotFound(
            _l("This link is not valid. Copy the whole link from the e-mail and try again."),
            code="invalid_unsubscribe_link",
        )
    return proposal


def record_consent(proposal: Proposal, language: str) -> None:
    """Note the consent just given with the submission (no commit). The audit entry keeps the
    language, never the address."""
    if language not in current_app.config["LANGUAGES"]:
        language = "pt_BR"
    proposal.notify_by_email = True
    proposal.notify_consent_at = now()
    proposal.notify_language = language
    audit.record(None, CONSENT_ACTION, proposal, after={"language": language})


def stop_notifications(proposal: Proposal) -> None:
    """No more messages about `proposal`: consent off and its queued messages deleted (no
    commit, no audit: the caller says why, e.g. a withdrawal or the contact's erasure)."""
    proposal.notify_by_email = False
    db.session.execute(
        sa.delete(OutboxMessage).where(
            OutboxMessage.proposal_id == proposal.id,
            OutboxMessage.status == OutboxStatus.QUEUED.value,
        )
    )


def withdraw_consent(proposal: Proposal, actor: Any = None) -> bool:
    """The proposer withdraws their consent (the link, or a data-subject request by staff).
    False when no consent was in force: withdrawing twice changes nothing."""
    # Locked, so a withdrawal and a message being queued for this proposal do not interleave.
    db.session.refresh(proposal, with_for_update=True)
    if not proposal.notify_by_email:
        db.session.rollback()
        return False
    stop_notifications(proposal)
    proposal.notify_withdrawn_at = now()
    audit.record(actor, WITHDRAW_ACTION, proposal)
    db.session.commit()
    return True
