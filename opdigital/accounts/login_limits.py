"""Per-account limit on failed sign-ins, kept in the shared rate-limit store (Redis).

The counter is keyed by a SHA-256 of the normalised e-mail, so the store never holds addresses
and the key looks the same whether or not an account exists. Successful sign-ins are forgotten,
so only failures add up; while the counter is full, even the right password is refused, so
guessing cannot go on.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from dataclasses import dataclass

from flask import current_app
from limits import RateLimitItem, parse

from opdigital.accounts.services import normalise_email
from opdigital.extensions import limiter

log = logging.getLogger(__name__)

_SCOPE = "login-account"


@dataclass(frozen=True)
class Lock:
    """An account's failed-attempt window is full until `retry_after` seconds from now."""

    retry_after: int


def _item() -> RateLimitItem:
    return parse(current_app.config["LOGIN_LIMIT_PER_ACCOUNT"])


def _keys(email: str) -> tuple[str, str, str]:
    digest = hashlib.sha256(normalise_email(email).encode("utf-8")).hexdigest()
    return (current_app.config.get("RATELIMIT_KEY_PREFIX") or "opdigital", _SCOPE, digest)


def _enabled() -> bool:
    return bool(limiter.enabled and current_app.config.get("RATELIMIT_ENABLED", True))


def register_attempt(email: str) -> Lock | None:
    """Count a sign-in attempt for this e-mail; a Lock when its window is already full.

    The attempt is counted before the password is checked, in one atomic increment, so a burst
    of parallel guesses cannot all pass a check made before any of them was counted. A
    successful sign-in then forgets the count (`clear`), so in effect only failures add up.
    """
    if not _enabled():
        return None
    item, keys = _item(), _keys(email)
    try:
        if limiter.limiter.hit(item, *keys):
            return None
        reset_time, _remaining = limiter.limiter.get_window_stats(item, *keys)
    except Exception:  # the store is down: fail open like the rest of Flask-Limiter
        log.warning("Rate-limit store unavailable; per-account login limit not checked")
        return None
    return Lock(retry_after=max(1, math.ceil(reset_time - time.time())))


def clear(email: str) -> None:
    """Forget this e-mail's failures after a successful sign-in."""
    if not _enabled():
        return
    try:
        limiter.limiter.clear(_item(), *_keys(email))
    except Exception:  # the store is down: nothing to clear there
        log.warning("Rate-limit store unavailable; failed logins not cleared")
