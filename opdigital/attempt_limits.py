"""Limits on repeated attempts for one identity (an account, a voter's credentials, a client).

Kept in the shared rate-limit store (Redis), so every worker and instance sees the same count.
An attempt is counted before it is checked, in one atomic increment, so a burst of parallel
guesses cannot all pass a check made before any of them was counted; a success may then forget
the count (`clear`), so that only failures add up. While the window is full even a correct
attempt is refused, so guessing cannot go on.

Keys hold an HMAC (with the app's secret key) of the identity under a per-limit scope: the store
never holds an e-mail address, a registration number or a client address, nobody can recover
one by hashing candidates, and the keys cannot be matched with any database column (voter keys
use another secret and no scope).

If the shared store cannot be reached, counting goes on in a store of this process's own (as
Flask-Limiter does for the limits it keeps) and the shared one is tried again a few seconds
later: limits hold per process meanwhile, and nobody is locked out by the outage.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import math
import threading
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass

from flask import current_app, g
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage, RedisStorage, Storage

from opdigital.extensions import limiter

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Lock:
    """The identity's window is full until `retry_after` seconds from now."""

    retry_after: int


class _Store:
    """The shared store, or this process's own while the shared one is unreachable."""

    RETRY_SECONDS = 5.0

    def __init__(self) -> None:
        self._local = MemoryStorage()
        self._shared_down_until = float("-inf")
        self._lock = threading.Lock()

    def current(self) -> Storage:
        if time.monotonic() < self._shared_down_until:
            return self._local
        return limiter.storage

    def failed(self) -> None:
        """The shared store failed: count in this process for a while."""
        with self._lock:
            if time.monotonic() >= self._shared_down_until:
                log.warning(
                    "Rate-limit store unreachable: counting attempts in this process for %.0f s",
                    self.RETRY_SECONDS,
                )
            self._shared_down_until = time.monotonic() + self.RETRY_SECONDS

    def incr_all(self, keys: Sequence[tuple[str, int]]) -> tuple[Storage, list[int]]:
        """Add one to each (key, window seconds) counter; the store used and the new counts."""
        storage = self.current()
        if storage is not self._local:
            try:
                return storage, _incr_all(storage, keys)
            except Exception:  # the shared store is down or hung up: count here instead
                self.failed()
        return self._local, _incr_all(self._local, keys)


# `limits`' own incr script (count, and start the window's clock on the first hit), for several
# keys at once: one command, one round trip, whatever the number of limits a request counts in.
_INCR_EACH = """
local counts = {}
for i, key in ipairs(KEYS) do
    local current = redis.call("incrby", key, 1)
    if current == 1 then
        redis.call("expire", key, ARGV[i])
    end
    counts[i] = current
end
return counts
"""
_scripts: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # storage -> its script


def _incr_all(storage: Storage, keys: Sequence[tuple[str, int]]) -> list[int]:
    if isinstance(storage, RedisStorage):
        script = _scripts.get(storage)
        if script is None:
            script = _scripts[storage] = storage.get_connection().register_script(_INCR_EACH)
        stored = [storage.prefixed_key(key) for key, _ in keys]  # as `limits` names them
        return [int(count) for count in script(keys=stored, args=[expiry for _, expiry in keys])]
    return [storage.incr(key, expiry) for key, expiry in keys]


_STORE = _Store()
# Settings are read on every request; their few distinct values are parsed once.
_parse = functools.lru_cache(maxsize=64)(parse)


def forget_store_outage() -> None:
    """Use the shared store again at once, and empty this process's own (tests)."""
    _STORE._shared_down_until = float("-inf")
    _STORE._local.reset()


class AttemptLimit:
    """At most `$setting` attempts per identity (e.g. "5 per 15 minutes")."""

    def __init__(self, scope: str, setting: str):
        self.scope = scope
        self.setting = setting

    def _item(self) -> RateLimitItem:
        return _parse(current_app.config[self.setting])

    def _key(self, item: RateLimitItem, identity: str) -> str:
        secret = current_app.config["SECRET_KEY"].encode()
        digest = hmac.new(
            secret, f"{self.scope}\x00{identity}".encode(), hashlib.sha256
        ).hexdigest()
        prefix = current_app.config.get("RATELIMIT_KEY_PREFIX") or "opdigital"
        return item.key_for(prefix, self.scope, digest)

    def register_attempt(self, identity: str) -> Lock | None:
        """Count an attempt for `identity`; a Lock when its window was already full."""
        return register_attempts([(self, identity)])[0]

    def clear(self, identity: str) -> None:
        """Forget this identity's attempts after a success.

        When the success was the window's first attempt, the count holds nothing else: it is
        left to expire rather than costing every first-time success a round trip to the store
        (the identity then has one attempt fewer in that window, which a success never needs).
        """
        if not enabled():
            return
        key, count = g.get("attempt_counts", {}).get((self.scope, identity), (None, None))
        if count == 1:
            return
        key = key or self._key(self._item(), identity)
        storage = _STORE.current()
        try:
            storage.clear(key)
        except Exception:  # the shared store is down: nothing to clear there
            _STORE.failed()


def enabled() -> bool:
    return bool(limiter.enabled and current_app.config.get("RATELIMIT_ENABLED", True))


def register_attempts(attempts: Sequence[tuple[AttemptLimit, str]]) -> list[Lock | None]:
    """Count one attempt under each (limit, identity), in one round trip to the store.

    A Lock for each whose window was already full, else None. Every attempt is counted, the
    refused ones too: an attempt made while another limit refuses it is still an attempt.
    """
    if not enabled():
        return [None] * len(attempts)
    items = [limit._item() for limit, _ in attempts]
    keys = [
        limit._key(item, identity) for (limit, identity), item in zip(attempts, items, strict=True)
    ]
    storage, counts = _STORE.incr_all(
        [(key, item.get_expiry()) for key, item in zip(keys, items, strict=True)]
    )
    seen = g.setdefault("attempt_counts", {})
    locks: list[Lock | None] = []
    for (limit, identity), key, item, count in zip(attempts, keys, items, counts, strict=True):
        seen[(limit.scope, identity)] = (key, count)
        locks.append(None if count <= item.amount else _lock(storage, key, item))
    return locks


def _lock(storage: Storage, key: str, item: RateLimitItem) -> Lock:
    try:
        reset_time = storage.get_expiry(key)
    except Exception:  # the store went away meanwhile: a whole window is the longest wait
        reset_time = time.time() + item.get_expiry()
    return Lock(retry_after=max(1, math.ceil(reset_time - time.time())))
