"""The voter's place in the web flow, kept in the signed session cookie of their own browser.

What is kept is short-lived and never leaves the cookie: no URL, flash message or log line holds
it. The voter context (who is voting) and the receipt (what they take away) are never in the
cookie together: casting drops the first before it stores the second, and the receipt is
forgotten as soon as it has been shown once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from flask import session

from opdigital.clock import now
from opdigital.cycles.models import Cycle
from opdigital.registry.credentials import EligibleVoter

VOTER_CONTEXT = "voting.voter"
RECEIPT = "voting.receipt"
# Long enough to read a ballot of 36 works on a phone, short enough for a shared kiosk.
CONTEXT_LIFETIME = timedelta(minutes=20)


def start(cycle: Cycle, voter: EligibleVoter) -> None:
    """Remember, for a few minutes, that this browser identified `voter` for `cycle`."""
    session.pop(RECEIPT, None)
    session[VOTER_CONTEXT] = {
        "cycle_id": cycle.id,
        "voter_key": voter.voter_key,
        "region_id": voter.region_id,
        "school_id": voter.school_id,
        "expires": (now() + CONTEXT_LIFETIME).timestamp(),
        "choices": None,
    }


def _context(cycle: Cycle) -> dict | None:
    context = session.get(VOTER_CONTEXT)
    if not isinstance(context, dict):
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
    context = session.get(VOTER_CONTEXT)
    return isinstance(context, dict) and context.get("cycle_id") != cycle.id


def save_choices(cycle: Cycle, choices: Sequence[int]) -> None:
    """Keep the validated choices until the voter confirms them on the review page."""
    context = _context(cycle)
    if context is not None:
        session[VOTER_CONTEXT] = context | {"choices": [int(c) for c in choices]}


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
    session[RECEIPT] = {"cycle_id": cycle.id, "code": receipt_code}


def take_receipt(cycle: Cycle) -> str | None:
    """The receipt code to show now, once; None when it was already shown (or never existed)."""
    stored = session.get(RECEIPT)
    if not isinstance(stored, dict) or stored.get("cycle_id") != cycle.id:
        return None
    session.pop(RECEIPT, None)
    code = stored.get("code")
    return code if isinstance(code, str) else None
