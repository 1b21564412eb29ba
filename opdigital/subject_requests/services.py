"""A request's way in: filed on the public form, verified by a code, expired when never verified.

What the public side does is the same whatever the contact: a request is filed and (for an
e-mail) a code mailed without looking at what the city holds, so the form cannot tell anyone
whether a contact is known. Only the verified request is looked up, by the encarregado.

Every step is audited with the request's reference and kind only: the audit log is append-only,
and a contact written there could never be erased.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ParamSpec, TypeVar

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from opdigital import attempt_limits
from opdigital.audit import services as audit
from opdigital.clock import now
from opdigital.errors import Conflict, NotFound, RateLimited, ValidationFailed
from opdigital.extensions import db
from opdigital.mail.links import external_url
from opdigital.mail.outbox import enqueue
from opdigital.subject_requests import codes, contacts
from opdigital.subject_requests.models import (
    ContactKind,
    RequestKind,
    RequestStatus,
    SubjectRequest,
)
from opdigital.text_safety import has_control_characters

P = ParamSpec("P")
R = TypeVar("R")

# A mailed code is valid this long; one read out by phone a day (the person types it in after
# the call, from the page they kept).
EMAIL_CODE_VALID = timedelta(minutes=30)
PHONE_CODE_VALID = timedelta(hours=24)
# Wrong tries against one code; then it is dead and a new one is needed.
MAX_CODE_ATTEMPTS = 5
# Codes per request, the first included: "send a new code" is allowed a few times only.
MAX_CODES = 4
# A request nobody verified is deleted this long after it was filed (opdigital retention run).
# A phone request waits for the encarregado's call, which may take until the legal deadline.
UNVERIFIED_EMAIL_KEPT = timedelta(hours=24)

MAX_CONTACT = 160
MAX_DETAILS = 2000

# The contact limit's scope in the rate-limit store (keys hold an HMAC of the contact's key).
CONTACT_LIMIT = attempt_limits.AttemptLimit(
    "subject-request-contact", "SUBJECT_REQUEST_LIMIT_PER_CONTACT"
)

CREATE_ACTION = "subject_request.create"
CODE_ACTION = "subject_request.code_sent"
PHONE_CODE_ACTION = "subject_request.phone_code"
VERIFY_ACTION = "subject_request.verify"
EXPIRE_ACTION = "subject_request.expired"


@dataclass(frozen=True)
class NewRequest:
    kind: str
    contact: str
    details: str = ""
    language: str = "pt_BR"


@dataclass(frozen=True)
class Filed:
    """A new request and the token of its page (shown once: only its hash is kept)."""

    request: SubjectRequest
    token: str


@contextmanager
def unit_of_work() -> Iterator[None]:
    """One transaction, committed inside by the caller; any error, a refusal included, rolls it
    back (releasing the request's lock)."""
    try:
        yield
    except BaseException:
        db.session.rollback()
        raise


def _summary(request: SubjectRequest) -> dict:
    """What the audit log keeps of a request: never its contact nor its details."""
    return {"kind": request.kind, "contact_kind": request.contact_kind, "status": request.status}


def _check(data: NewRequest) -> None:
    if data.kind not in {k.value for k in RequestKind}:
        raise ValidationFailed(_l("Choose what you are asking for."), code="unknown_kind")
    contact = data.contact.strip()
    if len(contact) > MAX_CONTACT or has_control_characters(contact):
        raise ValidationFailed(_l("Enter an e-mail address or a phone number."), code="contact")
    if not contacts.is_valid(contact):
        raise ValidationFailed(
            _l("Enter an e-mail address or a phone number with area code."), code="contact"
        )
    details = data.details.strip()
    if len(details) > MAX_DETAILS or has_control_characters(details, multiline=True):
        raise ValidationFailed(
            _l("Use at most %(n)d characters, without control characters.", n=MAX_DETAILS),
            code="details",
        )
    if data.kind == RequestKind.CORRECTION and not details:
        raise ValidationFailed(_l("Say what should be corrected, and how."), code="details")


def _count_contact(contact: str) -> None:
    """At most SUBJECT_REQUEST_LIMIT_PER_CONTACT new requests per contact, whoever files them."""
    lock = attempt_limits.count_attempt(CONTACT_LIMIT, contacts.key(contact))
    if lock is not None:
        raise RateLimited(
            _l(
                "Several requests were already made for this contact today. Please try again "
                "tomorrow, or write to the data protection officer."
            ),
            lock.retry_after,
        )


def _insert(data: NewRequest, token: str) -> SubjectRequest:
    """Add the request, drawing another reference in the unlikely event of a clash."""
    contact = data.contact.strip()
    for _attempt in range(5):
        request = SubjectRequest(
            reference=codes.new_reference(),
            token_hash=codes.token_hash(token),
            kind=data.kind,
            contact=contact,
            contact_kind=contacts.kind_of(contact).value,
            details=data.details.strip(),
            language=data.language if data.language in current_app.config["LANGUAGES"] else "pt_BR",
            status=RequestStatus.AWAITING_VERIFICATION.value,
            outcome=[],
        )
        db.session.add(request)
        try:
            with db.session.begin_nested():
                db.session.flush()
        except IntegrityError:
            continue
        return request
    raise Conflict(_l("Could not file the request; please try again."), code="reference_conflict")


def file_request(data: NewRequest) -> Filed:
    """File a request; for an e-mail contact, mail its first code. Raises ValidationFailed for
    bad input, RateLimited when the contact had too many requests today."""
    _check(data)
    _count_contact(data.contact.strip())
    token = codes.new_token()
    with unit_of_work():
        request = _insert(data, token)
        audit.record(None, CREATE_ACTION, request, after=_summary(request))
        if request.contact_kind == ContactKind.EMAIL:
            _mail_code(request, token)
        db.session.commit()
    return Filed(request, token)


def _issue_code(request: SubjectRequest, valid_for: timedelta) -> str:
    if request.codes_sent >= MAX_CODES:
        raise Conflict(
            _l("No more codes can be sent for this request. Please file a new request."),
            code="too_many_codes",
        )
    code = codes.new_code()
    request.code_hash = codes.code_hash(request.reference, code)
    request.code_expires_at = now() + valid_for
    request.code_attempts = 0
    request.codes_sent += 1
    return code


def _mail_code(request: SubjectRequest, token: str) -> None:
    code = _issue_code(request, EMAIL_CODE_VALID)
    enqueue(
        kind="subject_request.code",
        to=request.contact,
        template="subject_request_code",
        language=request.language,
        erase_after_send=True,
        reference=request.reference,
        code=code,
        minutes=int(EMAIL_CODE_VALID.total_seconds() // 60),
        page_url=external_url("subject_requests.status", token=token),
    )
    audit.record(None, CODE_ACTION, request, after={"codes_sent": request.codes_sent})


def in_transaction(action: Callable[P, R]) -> Callable[P, R]:
    """`action` run as one unit of work (it commits when done; any error rolls back)."""

    @functools.wraps(action)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        with unit_of_work():
            return action(*args, **kwargs)

    return run


def lock(request: SubjectRequest) -> None:
    """Read the request again, locked until the transaction ends: two clicks (or two people) at
    once act one after the other, each on what the other left (tries counted, status)."""
    db.session.refresh(request, with_for_update=True)


def _awaiting(request: SubjectRequest) -> None:
    lock(request)
    if not request.awaits_verification:
        raise Conflict(_l("This request is already confirmed."), code="already_verified")


def send_new_code(request: SubjectRequest, token: str) -> None:
    """Mail a new code (e-mail contacts only), replacing the previous one."""
    with unit_of_work():
        _awaiting(request)
        if request.contact_kind != ContactKind.EMAIL:
            raise Conflict(
                _l("The data protection officer will call you to give you the code."),
                code="phone_contact",
            )
        _mail_code(request, token)
        db.session.commit()


def issue_phone_code(request: SubjectRequest, actor) -> str:
    """A code for the encarregado to read out to a phone contact; shown once, kept hashed."""
    with unit_of_work():
        _awaiting(request)
        if request.contact_kind != ContactKind.PHONE:
            raise Conflict(
                _l("Codes for e-mail contacts are sent by e-mail."), code="email_contact"
            )
        code = _issue_code(request, PHONE_CODE_VALID)
        audit.record(actor, PHONE_CODE_ACTION, request, after={"codes_sent": request.codes_sent})
        db.session.commit()
    return code


def _refuse(message, code: str, status: int = 422) -> ValidationFailed:
    return ValidationFailed(message, code=code, status=status)


def _dead_code(request: SubjectRequest, *, wrong: bool = False) -> ValidationFailed:
    if request.contact_kind == ContactKind.PHONE:
        message = (
            _l(
                "Too many wrong codes. This code can no longer be used: the data protection "
                "officer can call you with a new one."
            )
            if wrong
            else _l(
                "This code can no longer be used: the data protection officer can call you "
                "with a new one."
            )
        )
    elif wrong:
        message = _l("Too many wrong codes. This code can no longer be used. Ask for a new code.")
    else:
        message = _l("This code can no longer be used. Ask for a new code.")
    return _refuse(message, "too_many_tries", 429)


def _check_usable(request: SubjectRequest) -> None:
    """Refuse a code check when there is no live code to check against."""
    if not request.code_hash:
        if request.contact_kind == ContactKind.PHONE and request.codes_sent == 0:
            raise _refuse(
                _l("There is no code yet: the data protection officer will call you with it."),
                "no_code",
            )
        raise _dead_code(request)
    if request.code_expires_at is None or request.code_expires_at <= now():
        if request.contact_kind == ContactKind.PHONE:
            message = _l(
                "This code has expired: the data protection officer can call you with a new one."
            )
        else:
            message = _l("This code has expired. Ask for a new code.")
        raise _refuse(message, "code_expired")


def verify(request: SubjectRequest, typed: str) -> None:
    """Check the code typed on the person's page; a right one opens the request and starts
    its deadline. Wrong tries are counted (committed) before refusing."""
    with unit_of_work():
        _awaiting(request)
        _check_usable(request)
        typed = "".join((typed or "").split())
        if codes.code_matches(request.code_hash, request.reference, typed):
            _open(request)
            db.session.commit()
            return
        request.code_attempts += 1
        left = MAX_CODE_ATTEMPTS - request.code_attempts
        if left <= 0:
            request.code_hash = ""  # dead: no further guess can succeed
        refusal = (
            _dead_code(request, wrong=True)
            if left <= 0
            else _refuse(
                _l("The code is not correct. You have %(n)d more tries.", n=left), "wrong_code"
            )
        )
        db.session.commit()
    raise refusal


def _open(request: SubjectRequest) -> None:
    at = now()
    request.status = RequestStatus.OPEN.value
    request.verified_at = at
    request.due_at = at + timedelta(days=int(current_app.config["SUBJECT_REQUEST_DEADLINE_DAYS"]))
    request.code_hash, request.code_expires_at = "", None
    audit.record(None, VERIFY_ACTION, request, after=_summary(request))


# --- loading ---------------------------------------------------------------------------------


def by_token(token: str) -> SubjectRequest:
    """The request whose page token this is (NotFound otherwise, for every wrong token alike)."""
    if not token or len(token) > 100:
        raise NotFound(_l("There is no such request."), code="request_not_found")
    request = db.session.scalar(
        sa.select(SubjectRequest).where(SubjectRequest.token_hash == codes.token_hash(token))
    )
    if request is None:
        raise NotFound(_l("There is no such request."), code="request_not_found")
    return request


def by_reference(reference: str) -> SubjectRequest:
    request = db.session.scalar(
        sa.select(SubjectRequest).where(SubjectRequest.reference == (reference or "")[:20])
    )
    if request is None:
        raise NotFound(_l("There is no such request."), code="request_not_found")
    return request


# --- retention --------------------------------------------------------------------------------


def _unverified_due(at: datetime) -> sa.Select:
    """Requests never verified and past their time: e-mail ones a day after filing, phone ones
    once the encarregado's deadline for the call has passed."""
    phone_kept = timedelta(days=int(current_app.config["SUBJECT_REQUEST_DEADLINE_DAYS"]))
    return sa.select(SubjectRequest).where(
        SubjectRequest.status == RequestStatus.AWAITING_VERIFICATION.value,
        sa.or_(
            sa.and_(
                SubjectRequest.contact_kind == ContactKind.EMAIL.value,
                SubjectRequest.created_at <= at - UNVERIFIED_EMAIL_KEPT,
            ),
            sa.and_(
                SubjectRequest.contact_kind == ContactKind.PHONE.value,
                SubjectRequest.created_at <= at - phone_kept,
            ),
        ),
    )


def count_unverified_due(at: datetime | None = None) -> int:
    query = _unverified_due(at or now()).with_only_columns(sa.func.count())
    return int(db.session.scalar(query) or 0)


def delete_unverified(actor=None, at: datetime | None = None) -> list[str]:
    """Delete the requests never verified in time (idempotent); their references. Each
    deletion is audited by reference; the contact goes with the row."""
    due = list(db.session.scalars(_unverified_due(at or now()).order_by(SubjectRequest.id)))
    references = [request.reference for request in due]
    with unit_of_work():
        for request in due:
            audit.record(actor, EXPIRE_ACTION, request, after={"kind": request.kind})
            db.session.delete(request)
        db.session.commit()
    return references
