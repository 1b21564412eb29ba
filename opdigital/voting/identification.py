"""Identifying a voter under the limits: the order of checks every channel follows.

The web flow (`voting/views/identify.py`), the API's cast (`api/ballots.post_ballot`) and the direct
cast (`api/direct_cast.py`) all call `identify_with_limits`, so the steps of docs/security.md,
"Failed identifications", are written once:

1. The attempt is counted before the credentials are checked (one round trip to the store,
   the client's flood counter included when the caller has not counted the request yet), so
   parallel guesses cannot slip past the limits.
2. A full limit refuses it (RateLimited, 429, with the message saying which limit and what the
   voter can do); the credentials are then not checked, and count towards nothing.
3. The credentials are checked (the registry lookup and the cycle's eligibility rules), with
   whatever the channel does next in the same step (the API casts in the same statement).
4. Wrong credentials (NotEligible) are counted as a failure; anything else is not.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from opdigital.attempt_limits import Lock
from opdigital.errors import RateLimited
from opdigital.registry.credentials import Credentials
from opdigital.voting.limits import (
    Client,
    begin_identification,
    count_client_attempt,
    credential_identity,
    identify_counted,
    lock_message,
)

Identified = TypeVar("Identified")


def refuse_locked(lock: Lock | None) -> None:
    """RateLimited (429) when a limit refuses the attempt: too many requests from this client,
    too many failures from it, or the credentials' city-wide ceiling (the message says which)."""
    if lock is not None:
        raise RateLimited(lock_message(lock), lock.retry_after)


def count_client_request(client: Client) -> None:
    """Count one identification or cast from `client`; RateLimited when its window is full.

    For channels that count every request before reading it (malformed ones too); they then
    identify with `count_request=False`.
    """
    refuse_locked(count_client_attempt(client))


def identify_with_limits(
    client: Client,
    credentials: Credentials,
    identify: Callable[[], Identified],
    *,
    count_request: bool,
) -> Identified:
    """What `identify()` returns, run under the failed-identification limits (steps above).

    `identify` checks the credentials and raises NotEligible when they are wrong. With
    `count_request`, the request is also counted against the client's allowance, in the same
    round trip to the store. Raises RateLimited when a limit refuses the attempt.
    """
    attempt = begin_identification(
        client, credential_identity(credentials), count_request=count_request
    )
    refuse_locked(attempt.lock)
    return identify_counted(attempt, identify)
