"""Limits on repeated attempts for one identity (an account, a voter's credentials).

Kept in the shared rate-limit store (Redis), so every worker and instance sees the same count.
An attempt is counted before it is checked, in one atomic increment, so a burst of parallel
guesses cannot all pass a check made before any of them was counted; a success then forgets
the count (`clear`), so in effect only failures add up. While the window is full even a
correct attempt is refused, so guessing cannot go on.

Keys hold an HMAC (with the app's secret key) of the identity under a per-limit scope: the store
never holds an e-mail address or a registration number, nobody can recover one by hashing
candidates, and the keys cannot be matched with any database column (voter keys use another
secret and no scope).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import time
from dataclasses import dataclass

from flask import current_app, g
from limits import RateLimitItem, parse

from opdigital.extensions import limiter

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Lock:
    """The identity's window is full until `retry_after` seconds from now."""

    retry_after: int


class AttemptLimit:
    """At most `$setting` attempts per identity (e.g. "5 per 15 minutes")."""

    def __init__(self, scope: str, setting: str):
        self.scope = scope
        self.setting = setting

    def _item(self) -> RateLimitItem:
        return parse(current_app.config[self.setting])

    def _keys(self, identity: str) -> tuple[str, str, str]:
        secret = current_app.config["SECRET_KEY"].encode()
        digest = hmac.new(
            secret, f"{self.scope}\x00{identity}".encode(), hashlib.sha256
        ).hexdigest()
        prefix = current_app.config.get("RATELIMIT_KEY_PREFIX") or "opdigital"
        return (prefix, self.scope, digest)

    @staticmethod
    def _enabled() -> bool:
        return bool(limiter.enabled and current_app.config.get("RATELIMIT_ENABLED", True))

    def register_attempt(self, identity: str) -> Lock | None:
        """Count an attempt for `identity`; a Lock when its window was already full."""
        if not self._enabled():
            return None
        item = self._item()
        key = item.key_for(*self._keys(identity))
        try:
            storage = limiter.limiter.storage
            count = storage.incr(key, item.get_expiry())  # a fixed window, as `limits` keeps it
            if count <= item.amount:
                g.setdefault("attempt_counts", {})[key] = count
                return None
            reset_time = storage.get_expiry(key)
        except Exception:  # the store is down: fail open like the rest of Flask-Limiter
            log.warning("Rate-limit store unavailable; %s limit not checked", self.scope)
            return None
        return Lock(retry_after=max(1, math.ceil(reset_time - time.time())))

    def clear(self, identity: str) -> None:
        """Forget this identity's attempts after a success.

        When the success was the window's first attempt, the count holds nothing else: it is
        left to expire rather than costing every first-time success a round trip to the store
        (the identity then has one attempt fewer in that window, which a success never needs).
        """
        if not self._enabled():
            return
        key = self._item().key_for(*self._keys(identity))
        if g.get("attempt_counts", {}).get(key) == 1:
            return
        try:
            limiter.limiter.storage.clear(key)
        except Exception:  # the store is down: nothing to clear there
            log.warning("Rate-limit store unavailable; %s attempts not cleared", self.scope)
