"""What the encarregado does with a verified request: anonymise, correct, withdraw consent, answer.

Each action is one transaction with its audit entry, which names the request by its reference
and the proposals by their codes, never a name or a contact (the log is append-only). The
request's `outcome` gets the same summary, for the queue and the answer.

Anonymising keeps the proposal: it is part of the public record of the programme (it may have
been voted on and built). Its author's name and contact go, and with them the consent and the
messages sent about it.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from opdigital.audit import services as audit
from opdigital.clock import now
from opdigital.errors import Conflict, ValidationFailed
from opdigital.extensions import db
from opdigital.mail.models import OutboxStatus
from opdigital.mail.outbox import enqueue
from opdigital.proposals.consent import stop_notifications
from opdigital.proposals.models import Proposal
from opdigital.subject_requests import contacts
from opdigital.subject_requests.models import (
    ContactKind,
    RequestKind,
    RequestStatus,
    SubjectRequest,
)
from opdigital.subject_requests.queries import matching_proposals, messages_query
from opdigital.subject_requests.services import in_transaction, lock
from opdigital.text_safety import has_control_characters

ANONYMISE_ACTION = "subject_request.anonymise"
CORRECT_ACTION = "subject_request.correct"
CONSENT_ACTION = "subject_request.withdraw_consent"
ANSWER_ACTION = "subject_request.answer"

# Kinds each action serves: the encarregado does what was asked, nothing else. Consent may be
# withdrawn whatever the request (LGPD art. 8, § 5: at any time, by the person's request).
ERASING_KINDS = (RequestKind.ANONYMISATION.value, RequestKind.DELETION.value)
MAX_ANSWER = 20_000
MAX_NAME, MAX_CONTACT = 120, 160


def _open_only(request: SubjectRequest) -> None:
    lock(request)
    if request.status == RequestStatus.ANSWERED:
        raise Conflict(_l("This request was already answered."), code="answered")
    if request.status != RequestStatus.OPEN:
        raise Conflict(
            _l("This request is not confirmed yet: its code has not been entered."),
            code="not_verified",
        )


def _note(request: SubjectRequest, step: dict) -> None:
    # A new list, so SQLAlchemy sees the JSON column change.
    request.outcome = [*(request.outcome or []), step | {"at": now().isoformat()}]


def _commit(actor, action: str, request: SubjectRequest, after: dict) -> None:
    audit.record(actor, action, request, after={"reference": request.reference} | after)
    db.session.commit()


def _withdraw(proposal: Proposal, at) -> bool:
    """Withdraw a proposal's e-mail consent; True when it was given."""
    if not proposal.notify_by_email:
        return False
    stop_notifications(proposal)  # consent off, its queued messages deleted
    proposal.notify_withdrawn_at = at
    return True


@dataclass(frozen=True)
class Erased:
    proposals: list[str]
    messages_erased: int
    messages_deleted: int


def _erase_messages(contact: str, proposal_ids: list[int], at) -> tuple[int, int]:
    """Blank the person's sent messages, delete those not sent yet: (erased, deleted)."""
    erased = deleted = 0
    for message in db.session.scalars(messages_query(contact, proposal_ids)):
        if message.status == OutboxStatus.QUEUED:
            db.session.delete(message)
            deleted += 1
        else:
            message.to_address, message.body_text, message.erased_at = "", "", at
            erased += 1
    return erased, deleted


@in_transaction
def anonymise(request: SubjectRequest, actor) -> Erased:
    """Blank the author's name and contact of every matching proposal, withdraw their consent,
    erase the messages sent to the person. The proposals stay public."""
    _open_only(request)
    if request.kind not in ERASING_KINDS:
        raise Conflict(
            _l("Only anonymisation and deletion requests erase data."), code="wrong_kind"
        )
    at = now()
    proposals = matching_proposals(request.contact)
    for proposal in proposals:
        _withdraw(proposal, at)
        proposal.author_name, proposal.contact = "", ""
    erased, deleted = _erase_messages(request.contact, [p.id for p in proposals], at)
    result = Erased([p.code for p in proposals], erased, deleted)
    step = {
        "action": "anonymised",
        "proposals": result.proposals,
        "messages_erased": erased,
        "messages_deleted": deleted,
    }
    _note(request, step)
    _commit(actor, ANONYMISE_ACTION, request, {k: v for k, v in step.items() if k != "action"})
    return result


@in_transaction
def withdraw_consent(request: SubjectRequest, actor) -> list[str]:
    """Withdraw the e-mail consent of every matching proposal; the codes of those changed."""
    _open_only(request)
    at = now()
    changed = [p.code for p in matching_proposals(request.contact) if _withdraw(p, at)]
    _note(request, {"action": "consent_withdrawn", "proposals": changed})
    _commit(actor, CONSENT_ACTION, request, {"proposals": changed})
    return changed


@dataclass(frozen=True)
class Correction:
    proposal_code: str
    author_name: str | None = None  # None: unchanged; "" removes the name
    contact: str | None = None  # None: unchanged


def _check_correction(change: Correction) -> None:
    if change.author_name is None and change.contact is None:
        raise ValidationFailed(_l("Give the new name or the new contact."), code="nothing")
    name = change.author_name
    if name is not None and (len(name) > MAX_NAME or has_control_characters(name)):
        raise ValidationFailed(
            _l("The name must be one line of at most %(n)d characters.", n=MAX_NAME),
            code="author_name",
        )
    contact = change.contact
    if contact is not None and (
        len(contact) > MAX_CONTACT
        or has_control_characters(contact)
        or not contacts.is_valid(contact)
    ):
        raise ValidationFailed(
            _l("Enter an e-mail address or a phone number with area code."), code="contact"
        )


@in_transaction
def correct(request: SubjectRequest, change: Correction, actor) -> list[str]:
    """Change one matching proposal's author name or contact as the person asked; the names of
    the fields changed. A new contact that is not an e-mail address ends the e-mail consent."""
    _open_only(request)
    if request.kind != RequestKind.CORRECTION:
        raise Conflict(_l("Only correction requests change data."), code="wrong_kind")
    change = Correction(
        change.proposal_code,
        None if change.author_name is None else change.author_name.strip(),
        None if change.contact is None else change.contact.strip(),
    )
    _check_correction(change)
    proposal = next(
        (p for p in matching_proposals(request.contact) if p.code == change.proposal_code), None
    )
    if proposal is None:
        raise ValidationFailed(
            _l("Choose one of the proposals held for this contact."), code="proposal"
        )
    fields = []
    if change.author_name is not None and change.author_name != proposal.author_name:
        proposal.author_name = change.author_name
        fields.append("author_name")
    if change.contact is not None and change.contact != proposal.contact:
        proposal.contact = change.contact
        fields.append("contact")
        if contacts.kind_of(change.contact) != ContactKind.EMAIL:
            _withdraw(proposal, now())
    _note(request, {"action": "corrected", "proposals": [proposal.code], "fields": fields})
    _commit(actor, CORRECT_ACTION, request, {"proposals": [proposal.code], "fields": fields})
    return fields


@in_transaction
def answer(request: SubjectRequest, text: str, actor) -> None:
    """Send the answer (by e-mail, or record that it was given by phone), close the request and
    blank its contact and details at once. The answer's text is not kept: a mailed one is erased
    from the outbox as soon as it is sent."""
    _open_only(request)
    text = (text or "").strip()
    if not text or len(text) > MAX_ANSWER or has_control_characters(text, multiline=True):
        raise ValidationFailed(
            _l("Write the answer (at most %(n)d characters).", n=MAX_ANSWER), code="answer"
        )
    by = request.contact_kind
    if by == ContactKind.EMAIL:
        enqueue(
            kind="subject_request.answer",
            to=request.contact,
            template="subject_request_answer",
            language=request.language,
            erase_after_send=True,
            reference=request.reference,
            answer=text,
        )
    at = now()
    request.status = RequestStatus.ANSWERED.value
    request.answered_at = at
    request.handled_by_id = getattr(actor, "id", None)
    request.contact, request.details = "", ""
    request.code_hash, request.code_expires_at = "", None
    _note(request, {"action": "answered", "by": by})
    _commit(actor, ANSWER_ACTION, request, {"kind": request.kind, "by": by})
