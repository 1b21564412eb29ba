"""`POST /api/v1/cycles/{slug}/ballots`: casting a vote from a kiosk or another channel.

Checks run in a fixed order, each with its documented answer: the client's rate limit (429),
the body (400), the cycle (404), a mistyped delegate code (422 invalid_delegate_code),
the voting window (403 voting_closed), the ballot (422
invalid_ballot), the failed-identification limits (429: this client's failures, with these
credentials or any, and the credentials' city-wide ceiling), eligibility (403 not_eligible)
and the cast (409 already_voted). Ballot secrecy (docs/security.md, "Ballot secrecy"): nothing
here logs the body, and the answer carries the receipt only, never the choices.

Most casts never reach the view below: `api.direct_cast` serves the ones that go well with the
same functions, without Flask's per-request machinery, and hands everything else to this view or
to the error handlers here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import after_this_request, jsonify
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from opdigital.api import bp
from opdigital.api.json_body import decode_json, no_store, read_body
from opdigital.cycles.models import Cycle, CycleKind
from opdigital.cycles.queries import public_cycle
from opdigital.delegates import codes as delegate_codes
from opdigital.errors import DomainError, ValidationFailed
from opdigital.registry.credentials import Credentials
from opdigital.registry.keys import normalise_enrolment
from opdigital.registry.models import is_delegate_scope
from opdigital.voting.cycle_cache import voting_cycle
from opdigital.voting.identification import count_client_request, identify_with_limits
from opdigital.voting.limits import Client, current_client
from opdigital.voting.services import (
    BallotRefused,
    HomeCheck,
    check_ballot,
    ensure_voting_open,
    home_check,
    identify_and_cast,
)

# A ballot is a few hundred bytes; anything much larger is not one (and is not parsed).
MAX_BODY_BYTES = 16 * 1024
# More choices than any ballot holds: refused before the rules look at them.
MAX_CHOICES = 1000
_MAX_TEXT = {"titulo": 32, "school": 80, "enrolment": 32, "delegate_code": 32}
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TITULO_FIELDS = frozenset({"titulo", "birth_date"})
_SCHOOL_FIELDS = frozenset({"school", "enrolment", "birth_date"})
_DELEGATE_FIELDS = frozenset({"delegate_code"})


class BadBallotRequest(DomainError):
    """The body is not a well-formed ballot request (400 bad_request)."""

    status = 400
    code = "bad_request"


def _refuse(message: str) -> BadBallotRequest:
    return BadBallotRequest(message)


def _read_body() -> bytes:
    return read_body(
        MAX_BODY_BYTES,
        _refuse,
        wrong_type=_l("Send the ballot as JSON, with the Content-Type application/json."),
        too_large=_l("The request body is too large for a ballot."),
    )


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
    if "delegate_code" in fields:
        extra = fields - _DELEGATE_FIELDS
        if extra:
            raise _refuse(
                _("credentials has unknown fields: %(fields)s.", fields=", ".join(sorted(extra)))
            )
        return Credentials.for_delegate(_text(value, "delegate_code"))
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
    if is_delegate_scope(cycle.registry_scope):
        if credentials.delegate_code is None:
            raise _refuse(_("This cycle identifies its delegates by their delegate code."))
        if not delegate_codes.is_well_formed(credentials.delegate_code):
            # The check character says so without the roll: a typing mistake, not a guess.
            raise ValidationFailed(
                _l("This delegate code is mistyped: it has 10 letters and digits."),
                code="invalid_delegate_code",
            )
        return
    if credentials.delegate_code is not None:
        raise _refuse(_("Delegate codes are accepted only in cycles whose roll is its delegates."))
    school_cycle = cycle.kind == CycleKind.OPCA.value
    if school_cycle and credentials.school is None:
        raise _refuse(_("This cycle identifies voters by school, enrolment and birth date."))
    if not school_cycle and credentials.titulo is None:
        raise _refuse(_("This cycle identifies voters by título and birth date."))


@dataclass(frozen=True)
class CheckedBallot:
    """A request that passed every check the database is not needed for."""

    cycle: Cycle
    credentials: Credentials
    chosen: list[int]
    home: HomeCheck  # an own-region rule: the roll's region or school must be the choices'


def check_ballot_request(slug: str, raw: bytes) -> CheckedBallot:
    """The body (400), the cycle (404), the voting window (403) and the ballot (422), in order.

    The ballot comes before the credentials are counted: a wrong ballot is no guess at them.
    """
    credentials, choices = parse_ballot_request(decode_json(raw, _refuse))
    cycle = voting_cycle(slug, public_cycle)
    _check_kind(cycle, credentials)
    ensure_voting_open(cycle)
    chosen = check_ballot(cycle, choices)
    return CheckedBallot(cycle, credentials, chosen, home_check(cycle, choices))


def cast_checked(checked: CheckedBallot, client: Client, *, count_request: bool) -> str:
    """Identify the voter under the limits and cast (429 rate_limited, 403 not_eligible, 409
    already_voted); the receipt code. `count_request`: see `identify_with_limits`."""
    receipt = identify_with_limits(
        client,
        checked.credentials,
        lambda: identify_and_cast(
            checked.cycle,
            checked.credentials,
            checked.chosen,
            voting_point_id=client.voting_point_id,
            home=checked.home,
        ),
        count_request=count_request,
    )
    return receipt.code


@bp.post("/cycles/<slug>/ballots")
def post_ballot(slug: str):
    """Cast one ballot; 201 with the receipt code (shown once), or a documented error."""
    after_this_request(no_store)  # error answers included
    client = current_client()
    count_client_request(client)  # every request counts, malformed ones too
    checked = check_ballot_request(slug, _read_body())
    return jsonify(receipt=cast_checked(checked, client, count_request=False)), 201


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
