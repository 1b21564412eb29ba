"""`POST /api/v1/cycles/{slug}/ballots`: casting a vote from a kiosk or another channel.

Checks run in a fixed order, each with its documented answer: the body (400), the cycle (404),
the voting window (403 voting_closed), the rate limits (429; the per-client limit runs first, in
the `vote_limit` decorator), eligibility (403 not_eligible), the ballot (422 invalid_ballot) and
the cast (409 already_voted). Ballot secrecy (DESIGN.md 4): nothing here logs the body, and the
answer carries the receipt only, never the choices.
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

from flask import after_this_request, jsonify, request
from flask_babel import gettext as _

from opdigital.api.views import _public_cycle, bp
from opdigital.cycles.models import Cycle, CycleKind
from opdigital.errors import AlreadyVoted, DomainError
from opdigital.registry.credentials import Credentials
from opdigital.registry.keys import normalise_enrolment
from opdigital.voting.cycle_cache import voting_cycle
from opdigital.voting.limits import (
    CREDENTIAL_FAILURES,
    credential_identity,
    current_voting_point,
    vote_limit,
)
from opdigital.voting.services import (
    BallotRefused,
    check_ballot,
    ensure_voting_open,
    identify_and_cast,
)

# A ballot is a few hundred bytes; anything much larger is not one (and is not parsed).
MAX_BODY_BYTES = 16 * 1024
# More choices than any ballot holds: refused before the rules look at them.
MAX_CHOICES = 1000
_MAX_TEXT = {"titulo": 32, "school": 80, "enrolment": 32}
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TITULO_FIELDS = frozenset({"titulo", "birth_date"})
_SCHOOL_FIELDS = frozenset({"school", "enrolment", "birth_date"})
# A cast's answers are personal (the receipt is shown once): never cached anywhere.
NO_STORE = "no-store"


class BadBallotRequest(DomainError):
    """The body is not a well-formed ballot request (400 bad_request)."""

    status = 400
    code = "bad_request"


class RateLimited(DomainError):
    """Too many failed identifications with these credentials (429, with Retry-After)."""

    status = 429
    code = "rate_limited"

    def __init__(self, message, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


def _refuse(message: str) -> BadBallotRequest:
    return BadBallotRequest(message)


def _read_json() -> Any:
    if request.mimetype != "application/json":
        raise _refuse(_("Send the ballot as JSON, with the Content-Type application/json."))
    # Checked before reading, so an oversized body is never buffered.
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise _refuse(_("The request body is too large for a ballot."))
    raw = request.stream.read(MAX_BODY_BYTES + 1)
    if len(raw) > MAX_BODY_BYTES:
        raise _refuse(_("The request body is too large for a ballot."))
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):  # deep nesting: RecursionError
        raise _refuse(_("The request body is not valid JSON.")) from None


def _text(credentials: dict, name: str) -> str:
    value = credentials[name]
    if not isinstance(value, str):
        raise _refuse(_("credentials.%(field)s must be a string.", field=name))
    if not value.strip() or len(value) > _MAX_TEXT[name] or "\x00" in value:
        raise _refuse(
            _(
                "credentials.%(field)s must be between 1 and %(max)s characters.",
                field=name,
                max=_MAX_TEXT[name],
            )
        )
    return value


def _birth_date(credentials: dict) -> date:
    value = credentials["birth_date"]
    if isinstance(value, str) and _DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise _refuse(_("credentials.birth_date must be a date written as YYYY-MM-DD."))


def _enrolment(raw: str) -> str:
    # One spelling per pupil ("004521" = "45.21" = "4521"), so that the failed-attempt counter
    # cannot be dodged by retyping the number; the registry judges what cannot be normalised.
    try:
        return normalise_enrolment(raw)
    except ValueError:
        return raw


def _credentials(value: Any) -> Credentials:
    if not isinstance(value, dict):
        raise _refuse(_("credentials must be an object."))
    fields = set(value)
    if "titulo" in fields and "school" in fields:
        raise _refuse(_("Give either credentials.titulo or credentials.school, not both."))
    expected = _SCHOOL_FIELDS if "school" in fields else _TITULO_FIELDS
    missing, extra = expected - fields, fields - expected
    if missing:
        raise _refuse(_("credentials lacks %(fields)s.", fields=", ".join(sorted(missing))))
    if extra:
        raise _refuse(
            _("credentials has unknown fields: %(fields)s.", fields=", ".join(sorted(extra)))
        )
    birth_date = _birth_date(value)
    if expected is _SCHOOL_FIELDS:
        return Credentials(
            birth_date=birth_date,
            school=_text(value, "school").strip().lower(),
            enrolment=_enrolment(_text(value, "enrolment")),
        )
    return Credentials(birth_date=birth_date, titulo=_text(value, "titulo"))


def parse_ballot_request(body: Any) -> tuple[Credentials, list]:
    """The credentials and choices of a request body, or BadBallotRequest saying what is wrong.

    Only the shape is checked here; whether the choices make a valid ballot is the ballot
    rule's business (422 with problem codes).
    """
    if not isinstance(body, dict):
        raise _refuse(_("The body must be a JSON object with credentials and choices."))
    missing = {"credentials", "choices"} - set(body)
    if missing:
        raise _refuse(_("The body lacks %(fields)s.", fields=", ".join(sorted(missing))))
    extra = set(body) - {"credentials", "choices"}
    if extra:
        raise _refuse(
            _("The body has unknown fields: %(fields)s.", fields=", ".join(sorted(extra)))
        )
    choices = body["choices"]
    if not isinstance(choices, list):
        raise _refuse(_("choices must be a list of proposal ids."))
    if len(choices) > MAX_CHOICES:
        raise _refuse(_("choices holds too many entries."))
    return _credentials(body["credentials"]), choices


def _check_kind(cycle: Cycle, credentials: Credentials) -> None:
    school_cycle = cycle.kind == CycleKind.OPCA.value
    if school_cycle and credentials.school is None:
        raise _refuse(_("This cycle identifies voters by school, enrolment and birth date."))
    if not school_cycle and credentials.titulo is None:
        raise _refuse(_("This cycle identifies voters by título and birth date."))


def _no_store(response):
    response.headers["Cache-Control"] = NO_STORE
    return response


@bp.post("/cycles/<slug>/ballots")
@vote_limit
def post_ballot(slug: str):
    """Cast one ballot; 201 with the receipt code (shown once), or a documented error."""
    after_this_request(_no_store)  # error answers included
    credentials, choices = parse_ballot_request(_read_json())
    cycle = voting_cycle(slug, _public_cycle)
    _check_kind(cycle, credentials)
    ensure_voting_open(cycle)
    chosen = check_ballot(cycle, choices)  # first: a wrong ballot is no guess at credentials
    identity = credential_identity(credentials)
    lock = CREDENTIAL_FAILURES.register_attempt(identity)
    if lock is not None:
        raise RateLimited(
            _(
                "Too many failed attempts with these credentials. "
                "Try again in %(minutes)s minute(s).",
                minutes=max(1, -(-lock.retry_after // 60)),
            ),
            retry_after=lock.retry_after,
        )
    point = current_voting_point()
    try:
        receipt = identify_and_cast(
            cycle, credentials, chosen, voting_point_id=point.id if point is not None else None
        )
    except AlreadyVoted:
        CREDENTIAL_FAILURES.clear(identity)  # the credentials were right: not a failure
        raise
    CREDENTIAL_FAILURES.clear(identity)  # only failures add up
    return jsonify(receipt=receipt.code), 201


@bp.errorhandler(BallotRefused)
def _ballot_refused(error: BallotRefused):
    body = {
        "error": {
            "code": error.code,
            "message": str(error.message),
            "problems": [problem.as_dict() for problem in error.problems],
        }
    }
    return jsonify(body), error.status


@bp.errorhandler(RateLimited)
def _rate_limited(error: RateLimited):
    response = jsonify(error={"code": error.code, "message": str(error.message)})
    response.headers["Retry-After"] = str(error.retry_after)
    return response, error.status
