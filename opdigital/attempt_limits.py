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
counters are checked, counting the attempts still in flight under a credential's limits as
failures; when none is full, the attempt takes its place in flight (a marker that lives
INFLIGHT_SECONDS). So a burst of parallel guesses at one credential cannot slip past a check
made before any of them was counted. (A client's limit over every credential keeps no marker,
or a busy shared address would be held back by its own successes: a burst there is bounded by
the client's flood limit, which counts every request atomically.) When the credentials turn out
wrong, `failed` counts the failure in every window (a second round trip, on failures only) and
notes credentials under repeated failure for the turnout screen (counts only). When they are
right, `succeeded` writes nothing (except to forget the client's earlier failures with those
credentials, when it had some): a successful identification leaves in the store only its
in-flight markers, gone within INFLIGHT_SECONDS — no counter whose time-to-live dates a vote.

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

import hiredis
from flask import current_app
from limits import parse_many
from limits.storage import MemoryStorage, RedisStorage, Storage
from redis.exceptions import NoScriptError, ResponseError

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

    expiry: int  # seconds
    amount: int
    suffix: str  # the end of `limits`' key for this window: "5/15/minute"


@functools.lru_cache(maxsize=64)
def _windows(setting: str) -> tuple[_Window, ...]:
    """The windows of a setting such as "5 per 15 minutes; 10 per day" (parsed once: settings
    are read on every request, and have few distinct values)."""
    return tuple(
        _Window(
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


def _digest(secret: str, scope: str, identity: str) -> str:
    keyed = _keyed_hash(secret).copy()
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


class _Limit:
    """A limit read from the setting `$setting`, e.g. "5 per 15 minutes; 10 per day"."""

    def __init__(self, scope: str, setting: str, *, per_client: bool = False):
        self.scope = scope
        self.setting = setting
        # The identity is a client (an address, a voting point), which counts here on each of
        # its requests, a busy point hundreds a minute: its keys are worked out once per process
        # for the secret and setting in force, not on every request.
        self.per_client = per_client

    def counters(self, identity: str) -> tuple[_Counter, ...]:
        """One counter per window of the setting, keyed by the identity's HMAC."""
        return self._keyed(identity)[1]

    def _keyed(self, identity: str) -> tuple[str, tuple[_Counter, ...]]:
        """The identity's key base ("LIMITER/prefix/scope/<HMAC>/") and its counters."""
        config = current_app.config
        keyed = _client_keys if self.per_client else _keys
        return keyed(self.scope, identity, config["SECRET_KEY"], _prefix(), config[self.setting])


def _keys(
    scope: str, identity: str, secret: str, prefix: str, setting: str
) -> tuple[str, tuple[_Counter, ...]]:
    """`_Limit._keyed` for the app's `secret`, key `prefix` and the limit's `setting`."""
    digest = _digest(secret, scope, identity)
    base = f"LIMITER/{prefix}/{scope}/{digest}/"
    return base, tuple(
        _Counter(base + window.suffix, window, digest) for window in _windows(setting)
    )


# Clients are far fewer than the credentials they send, and send again: their keys are kept
# (for the last 1,024 clients of the process).
_client_keys = functools.lru_cache(maxsize=1024)(_keys)


class AttemptLimit(_Limit):
    """At most `$setting` attempts per identity, whatever their outcome (floods)."""


class FailureLimit(_Limit):
    """At most `$setting` failed identifications per identity.

    `ceiling`: the limit counts one credential's failures from anywhere (the city-wide ceiling);
    its failures are also noted for the turnout screen, counts only.
    """

    def __init__(
        self,
        scope: str,
        setting: str,
        *,
        ceiling: bool = False,
        forgiven: bool = False,
        in_flight: bool = True,
        per_client: bool = False,
    ):
        super().__init__(scope, setting, per_client=per_client)
        self.ceiling = ceiling
        # Attempts in flight count as failures until settled (or for INFLIGHT_SECONDS): exact
        # against bursts, but right credentials sent many times at once are held back too. Off
        # for a client's limit over every credential, where a busy shared address would be
        # held back by its own successes; a burst there is bounded by the client's flood limit.
        self.in_flight = in_flight
        # A success forgets the earlier failures too (for a client and the credential it has
        # just proved); other limits keep them, or a client could wipe its failures by signing
        # in with credentials of its own now and then.
        self.forgiven = forgiven

    def guard(self, identity: str) -> _Guard:
        base, counters = self._keyed(identity)
        return _Guard(self, counters, base + "inflight" if self.in_flight else None)


@dataclass(frozen=True)
class _Guard:
    """A failure limit's counters for one identity, and the marker of its attempts in flight."""

    limit: FailureLimit
    counters: tuple[_Counter, ...]
    inflight: str | None


# An attempt in flight (counted, its credentials not yet checked) holds a place under each of
# its failure limits for at most this long: an identification takes milliseconds.
INFLIGHT_SECONDS = 5


# --- one identification attempt --------------------------------------------------------------


@dataclass
class Attempt:
    """An identification attempt, counted; `lock` is set when it must be refused."""

    lock: Lock | None = None
    _storage: Storage | None = None
    # Each failure limit's guard with the failures its counters held when the attempt began.
    _guards: list[tuple[_Guard, list[int]]] = field(default_factory=list)

    def succeeded(self) -> None:
        """The credentials were right. Nothing is written, unless this client had failed with
        these credentials before: those failures are forgotten then (one round trip)."""
        guards, self._guards = self._guards, []
        forgiven = [g for g, counts in guards if g.limit.forgiven and any(counts)]
        if forgiven:
            cleared = [c.key for g in forgiven for c in g.counters]
            markers = [g.inflight for g, _ in guards if g.inflight]
            _settle_safely(self._storage, cleared, markers)

    def failed(self) -> None:
        """The credentials were wrong: every window of every failure limit counts it."""
        guards, self._guards = self._guards, []
        if not guards:
            return
        counted = [c for g, _ in guards for c in g.counters]
        markers = [g.inflight for g, _ in guards if g.inflight]
        _settle_safely(self._storage, [], markers, counted)
        for guard, counts in guards:
            if guard.limit.ceiling:
                _WATCH.note(self._storage, guard, [n + 1 for n in counts])


def begin(
    failures: Sequence[tuple[FailureLimit, str]],
    floods: Sequence[tuple[AttemptLimit, str]] = (),
) -> Attempt:
    """Count an identification attempt, in one round trip to the store.

    Every flood counter is incremented. If none is over its limit, the failure counters are
    checked, the attempts in flight under each failure limit counting as failures; when none is
    full the attempt takes its place in flight (an atomic reservation), and the caller checks
    the credentials and calls `succeeded` or `failed`. Otherwise the Attempt carries the Lock
    to answer with, and nothing was reserved.
    """
    if not enabled():
        return Attempt()
    flood_counters = [c for limit, who in floods for c in limit.counters(who)]
    guards = [limit.guard(who) for limit, who in failures]
    storage, (status, counts) = _STORE.run(_check_and_reserve, flood_counters, guards)
    if status == _FLOODED:
        over = [c for c, n in zip(flood_counters, counts, strict=False) if n > c.window.amount]
        return Attempt(lock=_lock(storage, over, "flood"))
    position, seen = len(flood_counters), []
    for guard in guards:
        inflight = counts[position] if guard.inflight else 0
        position += 1 if guard.inflight else 0
        failed = counts[position : position + len(guard.counters)]
        position += len(guard.counters)
        seen.append((guard, failed, inflight))
    if status == _FULL:
        full = [
            (counter, guard.limit)
            for guard, failed, inflight in seen
            for counter, n in zip(guard.counters, failed, strict=True)
            if n + inflight >= counter.window.amount
        ]
        reason = "credential" if all(limit.ceiling for _, limit in full) else "client"
        return Attempt(lock=_lock(storage, [c for c, _ in full], reason))
    return Attempt(_storage=storage, _guards=[(guard, failed) for guard, failed, _ in seen])


def count_attempt(limit: AttemptLimit, identity: str) -> Lock | None:
    """Count one attempt of `identity` under a flood limit; a Lock when its window is full."""
    return begin((), [(limit, identity)]).lock


_RESERVED, _FLOODED, _FULL = 0, 1, 2

# KEYS: the flood counters (always incremented, `limits`' own way: the window's clock starts at
# the first hit); then, for each failure limit, its in-flight marker (if it keeps one) and its
# counters. A limit is full when a counter plus the attempts in flight reaches the counter's
# amount; then nothing is reserved. Otherwise each in-flight marker takes one more attempt, for
# INFLIGHT_SECONDS. ARGV[1]: the number of flood counters; ARGV[2]: one string of numbers (one
# argument to encode, not several a counter): each flood counter's window and amount, then for
# each failure limit 1 or 0 (a marker or not), its number of counters and their amounts;
# ARGV[3]: INFLIGHT_SECONDS.
_CHECK_AND_RESERVE = """
local floods = tonumber(ARGV[1])
local numbers = {}
for n in string.gmatch(ARGV[2], "%d+") do
    numbers[#numbers + 1] = tonumber(n)
end
local counts = {}
local flooded = false
for i = 1, floods do
    local current = redis.call("incrby", KEYS[i], 1)
    if current == 1 then
        redis.call("expire", KEYS[i], numbers[2 * i - 1])
    end
    counts[i] = current
    if current > numbers[2 * i] then
        flooded = true
    end
end
if flooded then
    return {1, counts}
end
local full = false
local markers = {}
local k, p = floods + 1, 2 * floods + 1
while k <= #KEYS do
    local inflight = 0
    if numbers[p] == 1 then
        inflight = tonumber(redis.call("get", KEYS[k]) or "0")
        counts[k] = inflight
        markers[#markers + 1] = KEYS[k]
        k = k + 1
    end
    local n = numbers[p + 1]
    p = p + 2
    for j = 0, n - 1 do
        local current = tonumber(redis.call("get", KEYS[k + j]) or "0")
        counts[k + j] = current
        if current + inflight >= numbers[p] then
            full = true
        end
        p = p + 1
    end
    k = k + n
end
if full then
    return {2, counts}
end
for _, marker in ipairs(markers) do
    redis.call("incrby", marker, 1)
    redis.call("expire", marker, ARGV[3])
end
return {0, counts}
"""

# Settle an attempt. KEYS: counters to delete (forgiven), in-flight markers to decrement
# (deleted when that leaves nothing), counters to increment (a failure). ARGV[1], ARGV[2]: how
# many to delete and to decrement; ARGV[3..]: the windows (seconds) of those to increment.
_SETTLE = """
local cleared, decremented = tonumber(ARGV[1]), tonumber(ARGV[2])
for i, key in ipairs(KEYS) do
    if i <= cleared then
        redis.call("del", key)
    elseif i <= cleared + decremented then
        if redis.call("decr", key) <= 0 then
            redis.call("del", key)
        end
    elseif redis.call("incrby", key, 1) == 1 then
        redis.call("expire", key, ARGV[i - cleared - decremented + 2])
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


def _evalsha(storage: RedisStorage, name: str, source: str, keys: list[str], args: list):
    """The reply of a registered script run on `keys` and `args`.

    Every identification runs the reserving script, so its call is written out: one C call
    (hiredis) packs the command, sent on a pooled connection, where redis-py's own command path
    encodes each of the dozen arguments in Python (25-30 microseconds of CPU a vote). Anything
    but a reply goes to redis-py's `Script` call, as before: a connection that failed is
    dropped, and that call reconnects and retries; a script missing after a Redis restart is
    loaded there. An error reply (a script failing) is raised, as that call raises it.
    """
    script = _script(storage, name, source)
    pool = script.registered_client.connection_pool
    try:
        connection = pool.get_connection()
    except Exception:  # no connection to be had: redis-py's call retries, then raises
        return script(keys=keys, args=args)
    try:
        connection.send_packed_command(
            [hiredis.pack_command(("EVALSHA", script.sha, len(keys), *keys, *args))]
        )
        reply = connection.read_response()
    except ResponseError as error:  # a reply: the connection is in order
        pool.release(connection)
        if not isinstance(error, NoScriptError):
            raise
        return script(keys=keys, args=args)  # loads the script, then runs it
    except Exception:  # no reply: the connection is in no known state, never lent again so
        connection.disconnect()
        pool.release(connection)
        return script(keys=keys, args=args)
    except BaseException:
        connection.disconnect()
        pool.release(connection)
        raise
    pool.release(connection)
    return reply


def _check_and_reserve(
    storage: Storage, floods: Sequence[_Counter], guards: Sequence[_Guard]
) -> tuple[int, list[int]]:
    if isinstance(storage, RedisStorage):
        prefix = storage.key_prefix  # `prefixed_key`, inlined
        keys = [f"{prefix}:{c.key}" for c in floods]
        numbers = [f"{c.window.expiry} {c.window.amount}" for c in floods]
        for guard in guards:
            if guard.inflight:
                keys.append(f"{prefix}:{guard.inflight}")
            keys += [f"{prefix}:{c.key}" for c in guard.counters]
            numbers.append(f"{1 if guard.inflight else 0} {len(guard.counters)}")
            numbers += [str(c.window.amount) for c in guard.counters]
        status, counts = _evalsha(
            storage,
            "reserve",
            _CHECK_AND_RESERVE,
            keys,
            [len(floods), " ".join(numbers), INFLIGHT_SECONDS],
        )
        return int(status), [int(n) for n in counts]
    with _STORE.local_lock:  # the same steps, in this process's own store
        counts = [storage.incr(c.key, c.window.expiry) for c in floods]
        if any(n > c.window.amount for c, n in zip(floods, counts, strict=True)):
            return _FLOODED, counts
        full = False
        for guard in guards:
            inflight = storage.get(guard.inflight) if guard.inflight else 0
            failed = [storage.get(c.key) for c in guard.counters]
            counts += ([inflight] if guard.inflight else []) + failed
            full |= any(
                n + inflight >= c.window.amount for c, n in zip(guard.counters, failed, strict=True)
            )
        if full:
            return _FULL, counts
        for guard in guards:
            if guard.inflight:
                storage.incr(guard.inflight, INFLIGHT_SECONDS)
        return _RESERVED, counts


def _settle(
    storage: Storage,
    cleared: Sequence[str],
    decremented: Sequence[str],
    incremented: Sequence[_Counter] = (),
) -> None:
    if isinstance(storage, RedisStorage):
        keys = [f"{storage.key_prefix}:{k}" for k in [*cleared, *decremented]]
        keys += [f"{storage.key_prefix}:{c.key}" for c in incremented]
        args = [len(cleared), len(decremented), *(c.window.expiry for c in incremented)]
        _script(storage, "settle", _SETTLE)(keys=keys, args=args)
        return
    with _STORE.local_lock:
        for key in cleared:
            storage.clear(key)
        for key in decremented:
            if storage.decr(key) <= 0:
                storage.clear(key)
        for counter in incremented:
            storage.incr(counter.key, counter.window.expiry)


def _settle_safely(storage: Storage | None, *args) -> None:
    if storage is None:
        return
    try:
        _settle(storage, *args)
    except Exception:  # the store went away meanwhile: the counters expire with their windows
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

    def note(self, storage: Storage | None, guard: _Guard, counts: Sequence[int]) -> None:
        """A failure of `guard`'s credential, which brought its counters to `counts`."""
        if not isinstance(storage, RedisStorage):
            return
        windows = sorted(zip(guard.counters, counts, strict=True), key=lambda w: w[0].window.expiry)
        shortest = windows[0][1]  # "repeated": within the ceiling's first (shortest) window
        at_ceiling = [c.window.expiry for c, n in windows if n >= c.window.amount]
        if shortest < REPEATED_FAILURES and not at_ceiling:
            return
        member = guard.counters[0].digest
        repeated, ceiling = self._keys(storage, guard.limit.scope)
        moment = time.time()
        try:
            pipe = storage.get_connection().pipeline(transaction=False)
            if shortest >= REPEATED_FAILURES:
                pipe.zadd(repeated, {member: moment})
                pipe.zremrangebyscore(repeated, "-inf", moment - WATCH_HORIZON_SECONDS)
                pipe.expire(repeated, WATCH_HORIZON_SECONDS)
            if at_ceiling:
                pipe.zadd(ceiling, {member: moment + max(at_ceiling)})
                pipe.zremrangebyscore(ceiling, "-inf", moment)
                pipe.expire(ceiling, max(at_ceiling))
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
