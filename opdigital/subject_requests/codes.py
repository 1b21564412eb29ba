"""The random values of a request: its public reference, the token of the person's page, and the
verification code, with the hashes the database keeps instead of the token and the code."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import current_app

# No 0/O, 1/I/L: a reference is read out over the phone and copied by hand.
_REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_DIGITS = 6


def new_reference() -> str:
    """A reference such as "LGPD-7KQ2-M9XD": 40 random bits, so it reveals no count."""
    chars = "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(8))
    return f"LGPD-{chars[:4]}-{chars[4:]}"


def new_token() -> str:
    """The secret in the person's page address (256 bits)."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What the database keeps of a page token (a plain hash: the token is random and long)."""
    return hashlib.sha256((token or "").encode()).hexdigest()


def new_code() -> str:
    """Six digits, read from a message or over the phone."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def code_hash(reference: str, code: str) -> str:
    """An HMAC of the code with the app's secret key, tied to its request: a million possible
    codes would be found at once from a plain hash."""
    message = f"subject-request-code\x00{reference}\x00{code}".encode()
    return hmac.new(current_app.config["SECRET_KEY"].encode(), message, "sha256").hexdigest()


def code_matches(stored: str, reference: str, typed: str) -> bool:
    """Whether `typed` is the code whose HMAC is `stored` (constant time)."""
    if not stored:
        return False
    return hmac.compare_digest(stored, code_hash(reference, typed))
