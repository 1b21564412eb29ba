"""Limits on repeated attempts: floods from one client, and failed identifications.

Two kinds of limit, kept in the shared rate-limit store (Redis), so every worker and instance
sees the same counts:

- An `AttemptLimit` counts *every* attempt of an identity (a client address or voting point):
  a flood is slowed however well-formed its requests are.
- A `FailureLimit` counts *failed* identifications (a wrong birth date, a wrong password) of an
  identity: a client and the credential it tried, a client alone, or a credential from
  anywhere. No one can be locked out by what others send: the limits that refuse correct
  credentials are those of the client that has itself been failing, and the per-credential
  one, a city-wide ceiling set far above any real person's mistakes (docs/security.md,
  "Failed identifications").

An identification is `begin`-ed before the credentials are checked: in one atomic step (a Lua
script, one round trip) the flood counters are incremented, and if none is over, the failure
counters are checked and, when none is full, incremented too: a *reservation*. So a burst of
parallel guesses cannot all slip past a check made before any of them was counted. When the
credentials turn out right, `succeeded` gives the reservation back (the counters return to what
they were, and a counter the reservation created is deleted; the client's failures with those
credentials are forgotten): a successful identification leaves nothing in the store, in
particular no key whose time-to-live dates a vote. When they
are wrong, `failed` keeps it, and notes credentials under repeated failure for the turnout
screen (counts only).

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
from dataclasses import dataclass, field

from flask import current_app
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage, RedisStorage, Storage

from opdigital.extensions import limiter

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Lock:
    """Refused until `retry_after` seconds from now; `reason` names the limit that is full.

    Reasons: "flood" (too many requests from this client), "client" (this client has failed too
    often, with these credentials or with any), "credential" (the city-wide ceiling of these
    credentials).
    """

    retry_after: int
    reason: str = "flood"


# --- the store -------------------------------------------------------------------------------


class _Store:
    """The shared store, or this process's own while the shared one is unreachable."""

    RETRY_SECONDS = 5.0

    def __init__(self) -> None:
        self.local = MemoryStorage()
        self.local_lock = threading.Lock()  # the local store's check-and-reserve is one step
        self._shared_down_until = float("-inf")
        self._lock = threading.Lock()

    def current(self) -> Storage:
        if time.monotonic() < self._shared_down_until:
            return self.local
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

    def run(self, operation, *args):
        """`operation(storage, *args)` on the shared store, or on the local one if it fails."""
        storage = self.current()
        if storage is not self.local:
            try:
                return storage, operation(storage, *args)
            except Exception:  # the shared store is down or hung up: count here instead
                self.failed()
        return self.local, operation(self.local, *args)


_STORE = _Store()


def forget_store_outage() -> None:
    """Use the shared store again at once, and empty this process's own (tests)."""
    _STORE._shared_down_until = float("-inf")
    _STORE.local.reset()


def enabled() -> bool:
    return bool(limiter.enabled and current_app.config.get("RATELIMIT_ENABLED", True))


@dataclass(frozen=True)
class _Window:
    """One window of a limit setting, with what its counters need on every attempt."""

    item: RateLimitItem
    expiry: int  # seconds
    amount: int
    suffix: str  # the end of `limits`' key for this window: "5/15/minute"


@functools.lru_cache(maxsize=64)
def _windows(setting: str) -> tuple[_Window, ...]:
    """The windows of a setting such as "5 per 15 minutes; 10 per day" (parsed once: settings
    are read on every request, and have few distinct values)."""
    return tuple(
        _Window(
            item,
            item.get_expiry(),
            item.amount,
            f"{item.amount}/{item.multiples}/{item.GRANULARITY.name}",
        )
        for item in parse_many(setting)
    )


@functools.lru_cache(maxsize=4)
def _keyed_hash(secret: str):
    """An HMAC-SHA-256 under `secret`, its key schedule done once (copied for each use)."""
    return hmac.new(secret.encode(), digestmod=hashlib.sha256)


def _digest(scope: str, identity: str) -> str:
    keyed = _keyed_hash(current_app.config["SECRET_KEY"]).copy()
    keyed.update(f"{scope}\x00{identity}".encode())
    return keyed.hexdigest()


def _prefix() -> str:
    return current_app.config.get("RATELIMIT_KEY_PREFIX") or "opdigital"


@dataclass(frozen=True)
class _Counter:
    """One window of one limit for one identity: a key in the store (named as `limits` names
    its own: LIMITER/prefix/scope/identity/amount/multiples/granularity)."""

    key: str
    window: _Window
    digest: str  # the identity's HMAC

    @property
    def item(self) -> RateLimitItem:
        return self.window.item


class _Limit:
    """A limit read from the setting `$setting`, e.g. "5 per 15 minutes; 10 per day"."""

    def __init__(self, scope: str, setting: str):
        self.scope = scope
        self.setting = setting

    def counters(self, identity: str) -> list[_Counter]:
        digest = _digest(self.scope, identity)
        base = f"LIMITER/{_prefix()}/{self.scope}/{digest}/"
        return [
            _Counter(base + window.suffix, window, digest)
            for window in _windows(current_app.config[self.setting])
        ]


class AttemptLimit(_Limit):
    """At most `$setting` attempts per identity, whatever their outcome (floods)."""


class FailureLimit(_Limit):
    """At most `$setting` failed identifications per identity.

    `ceiling`: the limit counts one credential's failures from anywhere (the city-wide ceiling);
    its failures are also noted for the turnout screen, counts only.
    """

    def __init__(self, scope: str, setting: str, *, ceiling: bool = False, forgiven: bool = False):
        super().__init__(scope, setting)
        self.ceiling = ceiling
        # A success forgets the earlier failures too (for a client and the credential it has
        # just proved); other limits only give the success's own reservation back, or a client
        # could wipe its failures by signing in with credentials of its own now and then.
        self.forgiven = forgiven


# --- one identification attempt --------------------------------------------------------------


@dataclass
class Attempt:
    """An identification attempt, counted; `lock` is set when it must be refused."""

    lock: Lock | None = None
    _storage: Storage | None = None
    _reserved: list[_Counter] = field(default_factory=list)
    _forgiven: list[_Counter] = field(default_factory=list)  # cleared on success
    # (scope, counter, its count with this attempt) of the ceiling limits
    _watched: list[tuple[str, _Counter, int]] = field(default_factory=list)

    def succeeded(self) -> None:
        """The credentials were right: give the reservation back (nothing of it remains)."""
        reserved, self._reserved, self._watched = self._reserved, [], []
        if reserved:
            forgiven = [c.key for c in reserved if c in self._forgiven]
            _release(self._storage, forgiven, [c.key for c in reserved if c not in self._forgiven])

    def failed(self) -> None:
        """The credentials were wrong: the reservation stays counted as a failure."""
        watched, self._reserved, self._watched = self._watched, [], []
        for scope, counter, count in watched:
            _WATCH.note(self._storage, scope, counter, count)


def begin(
    failures: Sequence[tuple[FailureLimit, str]],
    floods: Sequence[tuple[AttemptLimit, str]] = (),
) -> Attempt:
    """Count an identification attempt, in one round trip to the store.

    Every flood counter is incremented. If none is over its limit, the failure counters are
    checked, and when none is full all of them are incremented (reserved): the caller then
    checks the credentials and calls `succeeded` or `failed`. Otherwise the Attempt carries the
    Lock to answer with, and nothing was reserved.
    """
    if not enabled():
        return Attempt()
    flood_counters = [c for limit, who in floods for c in limit.counters(who)]
    failure_counters = [(c, limit) for limit, who in failures for c in limit.counters(who)]
    storage, (status, counts) = _STORE.run(
        _check_and_reserve, flood_counters + [c for c, _ in failure_counters], len(flood_counters)
    )
    if status == _FLOODED:
        over = [c for c, n in zip(flood_counters, counts, strict=False) if n > c.window.amount]
        return Attempt(lock=_lock(storage, over, "flood"))
    failure_counts = list(zip(failure_counters, counts[len(flood_counters) :], strict=True))
    if status == _FULL:
        full = [(c, limit) for (c, limit), n in failure_counts if n >= c.window.amount]
        reason = "credential" if all(limit.ceiling for _, limit in full) else "client"
        return Attempt(lock=_lock(storage, [c for c, _ in full], reason))
    return Attempt(
        _storage=storage,
        _reserved=[c for c, _ in failure_counters],
        _forgiven=[c for c, limit in failure_counters if limit.forgiven],
        _watched=[(limit.scope, c, n) for (c, limit), n in failure_counts if limit.ceiling],
    )


def count_attempt(limit: AttemptLimit, identity: str) -> Lock | None:
    """Count one attempt of `identity` under a flood limit; a Lock when its window is full."""
    return begin((), [(limit, identity)]).lock


_RESERVED, _FLOODED, _FULL = 0, 1, 2

# Flood counters first (always incremented, `limits`' own way: the window's clock starts at the
# first hit), then failure counters (checked, and reserved only if none is full).
# ARGV[1]: the number of flood counters; ARGV[2]: each counter's window (seconds) and amount,
# as one string of numbers (one argument to encode instead of two per counter).
_CHECK_AND_RESERVE = """
local floods = tonumber(ARGV[1])
local limits = {}
for n in string.gmatch(ARGV[2], "%d+") do
    limits[#limits + 1] = n
end
local counts = {}
local flooded = false
for i = 1, floods do
    local current = redis.call("incrby", KEYS[i], 1)
    if current == 1 then
        redis.call("expire", KEYS[i], limits[2 * i - 1])
    end
    counts[i] = current
    if current > tonumber(limits[2 * i]) then
        flooded = true
    end
end
if flooded then
    return {1, counts}
end
local full = false
for i = floods + 1, #KEYS do
    local current = tonumber(redis.call("get", KEYS[i]) or "0")
    counts[i] = current
    if current >= tonumber(limits[2 * i]) then
        full = true
    end
end
if full then
    return {2, counts}
end
for i = floods + 1, #KEYS do
    local current = redis.call("incrby", KEYS[i], 1)
    if current == 1 then
        redis.call("expire", KEYS[i], limits[2 * i - 1])
    end
    counts[i] = current
end
return {0, counts}
"""

# Give a reservation back: the first ARGV[1] counters are deleted (forgiven), the others
# decremented, and deleted with their time-to-live when that leaves nothing.
_RELEASE = """
for i, key in ipairs(KEYS) do
    if i <= tonumber(ARGV[1]) or redis.call("decr", key) <= 0 then
        redis.call("del", key)
    end
end
return 0
"""

_scripts: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # storage -> its scripts


def _script(storage: RedisStorage, name: str, source: str):
    scripts = _scripts.setdefault(storage, {})
    if name not in scripts:
        scripts[name] = storage.get_connection().register_script(source)
    return scripts[name]


def _check_and_reserve(
    storage: Storage, counters: Sequence[_Counter], floods: int
) -> tuple[int, list[int]]:
    if isinstance(storage, RedisStorage):
        limits = " ".join(f"{c.window.expiry} {c.window.amount}" for c in counters)
        keys = [f"{storage.key_prefix}:{c.key}" for c in counters]  # `prefixed_key`, inlined
        status, counts = _script(storage, "reserve", _CHECK_AND_RESERVE)(
            keys=keys, args=[floods, limits]
        )
        return int(status), [int(n) for n in counts]
    with _STORE.local_lock:  # the same steps, in this process's own store
        counts = [storage.incr(c.key, c.window.expiry) for c in counters[:floods]]
        if any(n > c.window.amount for c, n in zip(counters, counts, strict=False)):
            return _FLOODED, counts
        counts += [storage.get(c.key) for c in counters[floods:]]
        failures = zip(counters[floods:], counts[floods:], strict=True)
        if any(n >= c.window.amount for c, n in failures):
            return _FULL, counts
        counts[floods:] = [storage.incr(c.key, c.window.expiry) for c in counters[floods:]]
        return _RESERVED, counts


def _release(storage: Storage | None, cleared: list[str], decremented: list[str]) -> None:
    if storage is None:
        return
    try:
        if isinstance(storage, RedisStorage):
            keys = [f"{storage.key_prefix}:{k}" for k in cleared + decremented]
            _script(storage, "release", _RELEASE)(keys=keys, args=[len(cleared)])
            return
        with _STORE.local_lock:
            for key in cleared:
                storage.clear(key)
            for key in decremented:
                if storage.decr(key) <= 0:
                    storage.clear(key)
    except Exception:  # the store went away meanwhile: the reservation expires with its window
        _STORE.failed()


def _lock(storage: Storage, counters: Sequence[_Counter], reason: str) -> Lock:
    """Refused until every full window of `counters` has ended."""
    waits = []
    for counter in counters:
        try:
            reset_time = storage.get_expiry(counter.key)
        except Exception:  # the store went away meanwhile: a whole window is the longest wait
            reset_time = time.time() + counter.window.expiry
        waits.append(reset_time - time.time())
    return Lock(retry_after=max(1, math.ceil(max(waits, default=1))), reason=reason)


# --- credentials under repeated failure (counts for the turnout screen) ----------------------

# A credential is "under repeated failure" from this many failures in its ceiling's first window.
REPEATED_FAILURES = 5
WATCH_HORIZON_SECONDS = 24 * 3600


class _Watch:
    """Two sorted sets per watched scope in the shared store, members the credentials' HMACs:
    those with REPEATED_FAILURES or more (scored by the time of the failure), and those at their
    ceiling (scored by the time the ceiling's window ends). Only failures are written here,
    never a success; while the store is unreachable nothing is noted."""

    def _keys(self, storage: RedisStorage, scope: str) -> tuple[str, str]:
        base = f"{_prefix()}/{scope}"
        return storage.prefixed_key(f"{base}/repeated"), storage.prefixed_key(f"{base}/ceiling")

    def note(self, storage: Storage | None, scope: str, counter: _Counter, count: int) -> None:
        if not isinstance(storage, RedisStorage) or count < REPEATED_FAILURES:
            return
        member = counter.digest
        repeated, ceiling = self._keys(storage, scope)
        moment = time.time()
        try:
            pipe = storage.get_connection().pipeline(transaction=False)
            pipe.zadd(repeated, {member: moment})
            pipe.zremrangebyscore(repeated, "-inf", moment - WATCH_HORIZON_SECONDS)
            pipe.expire(repeated, WATCH_HORIZON_SECONDS)
            if count >= counter.window.amount:
                pipe.zadd(ceiling, {member: moment + counter.window.expiry})
                pipe.zremrangebyscore(ceiling, "-inf", moment)
                pipe.expire(ceiling, counter.window.expiry)
            pipe.execute()
        except Exception:
            _STORE.failed()

    def counts(self, scope: str) -> tuple[int, int] | None:
        """(credentials under repeated failure in the last 24 hours, at their ceiling now), or
        None when the shared store cannot be read."""
        storage = limiter.storage
        if not isinstance(storage, RedisStorage):
            return None
        repeated, ceiling = self._keys(storage, scope)
        moment = time.time()
        try:
            pipe = storage.get_connection().pipeline(transaction=False)
            pipe.zcount(repeated, moment - WATCH_HORIZON_SECONDS, "+inf")
            pipe.zcount(ceiling, moment, "+inf")
            under, at_ceiling = pipe.execute()
        except Exception:
            return None
        return int(under), int(at_ceiling)


_WATCH = _Watch()


def failure_watch(limit: FailureLimit) -> tuple[int, int] | None:
    """How many credentials of `limit` are under repeated failure and at their ceiling."""
    if not enabled():
        return (0, 0)
    return _WATCH.counts(limit.scope)
