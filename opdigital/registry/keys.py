"""Voter keys: the keyed hash that stands in for a registration number everywhere.

The raw number is never stored nor logged: only HMAC-SHA-256(pepper, normalised number). Without
the pepper the 10^12 possible títulos cannot be brute-forced back from the keys
(docs/security.md, "One vote per citizen").
"""

from __future__ import annotations

import hashlib
import hmac

from opdigital.registry import titulo

_ENROLMENT_SEPARATORS = str.maketrans("", "", " .-/\t")


def keyer(pepper: str):
    """A fast function normalised-number -> voter key, for hashing millions of rows.

    Copying a prepared HMAC object skips re-deriving the inner and outer key pads per row.
    """
    base = hmac.new(pepper.encode("utf-8"), digestmod=hashlib.sha256)
    copy = base.copy

    def key(normalised: str) -> str:
        h = copy()
        h.update(normalised.encode("utf-8"))
        return h.hexdigest()

    return key


def voter_key(number: str, pepper: str) -> str:
    """HMAC-SHA-256 hex of an already normalised identifier (título or school number)."""
    return hmac.new(
        pepper.encode("utf-8"), number.encode("utf-8"), digestmod=hashlib.sha256
    ).hexdigest()


def titulo_key(raw: str, pepper: str) -> str:
    """Voter key of a typed título (ValueError unless 12 digits)."""
    return voter_key(titulo.normalise(raw), pepper)


def normalise_enrolment(raw: str) -> str:
    """An enrolment number's digits without separators or leading zeros; ValueError if none.

    Leading zeros go so that "00123" on the school's list and "123" typed by the pupil match.
    """
    digits = raw.translate(_ENROLMENT_SEPARATORS)
    if not digits or len(digits) > 20 or not digits.isascii() or not digits.isdigit():
        raise ValueError("an enrolment number has 1 to 20 digits")
    return digits.lstrip("0") or "0"


def school_number(school_slug: str, enrolment: str) -> str:
    """The OPCA identifier "slug:enrolment-digits" that is hashed into a voter key."""
    return f"{school_slug.strip().lower()}:{normalise_enrolment(enrolment)}"
