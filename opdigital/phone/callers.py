"""Who is on the line, as the limits and the conversations know them: keyed hashes only.

A caller's number is normalised and reduced to a keyed hash at once (conversations.keyed);
nothing stores or logs the number itself. A withheld number ("anonymous", "restricted",
empty...) cannot be told from another one, so such a caller is counted per call: the three
failures of a call end it, and the city-wide ceiling per título still holds.
"""

from __future__ import annotations

from flask import request

from opdigital.phone.conversations import keyed
from opdigital.voting.limits import Client

# What providers send for a number the caller hides (Twilio's documented values among them).
_WITHHELD = {"", "anonymous", "restricted", "unknown", "unavailable", "private", "+266696687"}


def normalised_number(raw: str) -> str:
    """A number as a comparable string: "+" and digits (a messaging app's "whatsapp:" prefix
    kept apart, as its conversations are separate); "" when withheld."""
    raw = (raw or "").strip()
    prefix = ""
    if ":" in raw:
        prefix, _, raw = raw.partition(":")
        prefix = prefix.lower() + ":"
    if raw.lower() in _WITHHELD:
        return ""
    digits = "".join(ch for ch in raw if ch.isdigit())
    if not digits:
        return ""
    return f"{prefix}+{digits}"


def is_withheld(raw: str) -> bool:
    return normalised_number(raw) == ""


def caller_client(number: str, conversation: str) -> Client:
    """The client the voting limits count for this caller: their number's keyed hash, or the
    conversation's (a call id) when the number is withheld."""
    normalised = normalised_number(number)
    caller = keyed("caller", normalised) if normalised else keyed("call", conversation)
    return Client(address=request.remote_addr or "", caller=caller)
