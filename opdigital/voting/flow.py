"""The voter's place in the web flow, kept in the session cookie of their own browser.

What is kept is short-lived and never leaves the cookie: no URL, flash message or log line holds
it. The voter context (who is voting) and the receipt (what they take away) are never in the
cookie together: casting drops the first before it stores the second, and the receipt is
forgotten as soon as it has been shown once.

Flask's session cookie is signed, not encrypted: anyone holding it could read it. So both are
stored encrypted (Fernet, with a key derived from the app's secret key): a copied cookie, a
browser profile on a shared kiosk or a log that records cookies shows neither the voter key nor
the choices waiting for confirmation nor the receipt code.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from flask import current_app, session

from opdigital.clock import now
from opdigital.cycles.models import Cycle
from opdigital.registry.credentials import EligibleVoter
from opdigital.secret_box import seal, unseal
from opdigital.voting.limits import current_client

VOTER_CONTEXT = "voting.voter"
RECEIPT = "voting.receipt"
# Long enough to read a ballot of 36 works on a phone, short enough for a shared kiosk.
CONTEXT_LIFETIME = timedelta(minutes=20)
# On an enrolled kiosk (kiosk mode) the next voter may be right behind: a vote left unfinished
# is forgotten sooner. The kiosk's pages also time an idle voter out (kiosk/timeouts.py).
KIOSK_CONTEXT_LIFETIME = timedelta(minutes=10)


# A key of its own for this purpose, derived from the secret key (which also signs cookies).
_PURPOSE = b"opdigital voting flow"


def _store(name: str, value: dict) -> None:
    session[name] = seal(current_app.config["SECRET_KEY"], _PURPOSE, value)


def _load(name: str) -> dict | None:
    """The stored value, or None when absent, forged, from another secret key, or not a dict."""
    token = session.get(name)
    if not isinstance(token, str):
        return None
    return unseal(current_app.config["SECRET_KEY"], _PURPOSE, token)


def start(
    cycle: Cycle,
    voter: EligibleVoter,
    *,
    assisted_at: int | None = None,
    lifetime: timedelta | None = None,
) -> None:
    """Remember, for a few minutes, that this browser identified `voter` for `cycle`.

    `assisted_at`: the voting point of a poll worker who identified the voter from a document
    and handed them the device; the cast records the point and that the vote was assisted (who
    assisted is kept nowhere), even when the device itself is not known as that point.
    `lifetime`: how long the context lasts (default: KIOSK_CONTEXT_LIFETIME on a kiosk, else
    CONTEXT_LIFETIME)."""
    if lifetime is None:
        lifetime = KIOSK_CONTEXT_LIFETIME if current_client().is_kiosk else CONTEXT_LIFETIME
    session.pop(RECEIPT, None)
    _store(
        VOTER_CONTEXT,
        {
            "cycle_id": cycle.id,
            "voter_key": voter.voter_key,
            "region_id": voter.region_id,
            "school_id": voter.school_id,
            "expires": (now() + lifetime).timestamp(),
            "choices": None,
            "assisted_at": assisted_at,
        },
    )


def _context(cycle: Cycle) -> dict | None:
    context = _load(VOTER_CONTEXT)
    if context is None:
        return None
    try:
        valid = (
            context["cycle_id"] == cycle.id
            and isinstance(context["voter_key"], str)
            and len(context["voter_key"]) == 64
            and float(context["expires"]) > now().timestamp()
        )
    except (KeyError, TypeError, ValueError):
        valid = False
    return context if valid else None


def current_voter(cycle: Cycle) -> EligibleVoter | None:
    """The voter identified in this browser for `cycle`, unless missing, expired or another
    cycle's (an expired context is dropped)."""
    context = _context(cycle)
    if context is None:
        if VOTER_CONTEXT in session and not _is_other_cycle(cycle):
            session.pop(VOTER_CONTEXT, None)
        return None
    region_id, school_id = context.get("region_id"), context.get("school_id")
    return EligibleVoter(
        voter_key=context["voter_key"],
        region_id=region_id if isinstance(region_id, int) else None,
        school_id=school_id if isinstance(school_id, int) else None,
    )


def _is_other_cycle(cycle: Cycle) -> bool:
    # Another cycle's live context is left alone: the voter may have two tabs open.
    context = _load(VOTER_CONTEXT)
    return context is not None and context.get("cycle_id") != cycle.id


def assisted_point(cycle: Cycle) -> int | None:
    """The voting point of the poll worker who identified the voter now voting in this browser
    for `cycle` (None: the voter identified themselves)."""
    context = _context(cycle)
    point = context.get("assisted_at") if context else None
    return point if isinstance(point, int) and not isinstance(point, bool) else None


def save_choices(cycle: Cycle, choices: Sequence[int]) -> None:
    """Keep the validated choices until the voter confirms them on the review page."""
    context = _context(cycle)
    if context is not None:
        _store(VOTER_CONTEXT, context | {"choices": [int(c) for c in choices]})


def saved_choices(cycle: Cycle) -> list[int] | None:
    """The choices waiting for confirmation, or None when the ballot was not reviewed yet."""
    context = _context(cycle)
    choices = context.get("choices") if context else None
    if not isinstance(choices, list) or not all(isinstance(c, int) for c in choices):
        return None
    return choices


def forget_voter() -> None:
    """Drop the voter context (after a vote, or when the voter cannot vote any more)."""
    session.pop(VOTER_CONTEXT, None)


def finish(cycle: Cycle, receipt_code: str) -> None:
    """After a cast: forget who voted and keep only the receipt, for one display."""
    forget_voter()
    _store(RECEIPT, {"cycle_id": cycle.id, "code": receipt_code})


def take_receipt(cycle: Cycle) -> str | None:
    """The receipt code to show now, once; None when it was already shown (or never existed)."""
    stored = _load(RECEIPT)
    if stored is None or stored.get("cycle_id") != cycle.id:
        return None
    session.pop(RECEIPT, None)
    code = stored.get("code")
    return code if isinstance(code, str) else None
