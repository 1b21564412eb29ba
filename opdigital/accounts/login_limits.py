"""Per-account limit on failed sign-ins (see `opdigital.attempt_limits` for how it counts)."""

from __future__ import annotations

from opdigital.accounts.services import normalise_email
from opdigital.attempt_limits import AttemptLimit, Lock

__all__ = ["Lock", "clear", "register_attempt"]

_ACCOUNT = AttemptLimit("login-account", "LOGIN_LIMIT_PER_ACCOUNT")


def register_attempt(email: str) -> Lock | None:
    """Count a sign-in attempt for this e-mail; a Lock when its window is already full."""
    return _ACCOUNT.register_attempt(normalise_email(email))


def clear(email: str) -> None:
    """Forget this e-mail's failures after a successful sign-in."""
    _ACCOUNT.clear(normalise_email(email))
