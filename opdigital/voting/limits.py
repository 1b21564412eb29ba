"""Rate limits on voting: floods per client, and failed identifications (docs/security.md).

Every identification and cast counts against its client's allowance (an address, an IPv6
network, or a registered voting point). Failed identifications count three ways: per client and
credential, per client (any credential), and per credential from anywhere (the city-wide
ceiling, which registered voting points neither count towards nor meet: a voter whose título is
paused online can still vote at a staffed point). Correct credentials from a client that has not
itself been failing are accepted, whatever others sent for them, up to that ceiling.

All are kept in the shared rate-limit store (Redis in production), so they hold across workers,
instances and channels (web pages and API count together); if Redis is down they are kept per
process meanwhile, and the database still enforces one vote per citizen.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TypeVar

import sqlalchemy as sa
from flask import current_app, g, request
from flask_babel import lazy_gettext as _l

from opdigital.attempt_limits import (
    Attempt,
    AttemptLimit,
    FailureLimit,
    Lock,
    begin,
    count_attempt,
    failure_watch,
)
from opdigital.errors import NotEligible
from opdigital.extensions import db
from opdigital.kiosk.devices import cookie_name, device_of
from opdigital.networks import address_group
from opdigital.registry.credentials import Credentials
from opdigital.registry.keys import titulo_key
from opdigital.voting.models import VotingPoint

log = logging.getLogger(__name__)

VOTING_POINT_TOKEN_HEADER = "X-Voting-Point-Token"  # noqa: S105 - a header name
# Blueprints where a kiosk's cookie does not make the request a voting point's (the JSON API).
COOKIE_FREE_BLUEPRINTS = frozenset({"api"})

# Every identification and cast counts, whatever its outcome: a flood from one place is slowed
# however well-formed its requests are.
ADDRESS_VOTES = AttemptLimit("vote-address", "VOTE_LIMIT_PER_IP", per_client=True)
POINT_VOTES = AttemptLimit("vote-point", "VOTE_LIMIT_PER_VOTING_POINT", per_client=True)

# Failed identifications only.
FAILURES_PER_CLIENT_AND_CREDENTIAL = FailureLimit(
    "voter-client-credential", "VOTER_FAILURES_PER_CLIENT_AND_CREDENTIAL", forgiven=True
)
FAILURES_PER_ADDRESS = FailureLimit(
    "voter-address-failures", "VOTER_FAILURES_PER_ADDRESS", in_flight=False, per_client=True
)
FAILURES_PER_POINT = FailureLimit(
    "voter-point-failures", "VOTER_FAILURES_PER_VOTING_POINT", in_flight=False, per_client=True
)
FAILURES_PER_CREDENTIAL = FailureLimit(
    "voter-credentials", "VOTER_FAILURES_PER_CREDENTIAL", ceiling=True
)


def token_hash(token: str) -> str:
    """What the database keeps of a voting point's device token."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Client:
    """Where a vote request comes from: a registered voting point, or else an address."""

    address: str
    voting_point_id: int | None = None
    # What per-address limits count: the address, or its IPv6 network (opdigital/networks.py).
    group: str = ""
    # The enrolled kiosk the request comes from (its cookie), which also names the point.
    kiosk_id: int | None = None
    # A phone caller (opdigital/phone): a keyed hash of their number, or of the call when the
    # number is withheld. The provider's address is every caller's, so it counts for nothing.
    caller: str = ""

    @property
    def is_kiosk(self) -> bool:
        """True for a request from an enrolled kiosk of an active point (kiosk mode)."""
        return self.kiosk_id is not None

    @property
    def identity(self) -> str:
        """What the per-client limits count (a point's devices share one allowance)."""
        if self.voting_point_id is not None:
            return f"point:{self.voting_point_id}"
        if self.caller:
            return f"caller:{self.caller}"
        return f"ip:{self.group or self.address}"

    @property
    def limit(self) -> AttemptLimit:
        """The higher allowance of a registered voting point, or an address's."""
        return POINT_VOTES if self.voting_point_id is not None else ADDRESS_VOTES

    @property
    def failure_limit(self) -> FailureLimit:
        return FAILURES_PER_POINT if self.voting_point_id is not None else FAILURES_PER_ADDRESS


def client_of(token: str, address: str) -> Client:
    """The client behind a device token (header) and an address: a voting point if either is
    registered to an active one (the token first), else the address alone."""
    return Client(
        address=address,
        voting_point_id=_voting_point_id(token.strip(), address),
        group=address_group(address, current_app.config["IPV6_PREFIX_LENGTH"]),
    )


def current_client() -> Client:
    """The client of the current Flask request (looked up once per request).

    A valid kiosk cookie (kiosk/devices.py) of an active point makes the request that point's,
    exactly as its token header would, and marks it as a kiosk; a forged, revoked or unknown
    cookie is ignored (the header or the address decide). Not on the JSON API, which trusts no
    cookie (it is exempt from CSRF checks) and whose direct cast layer never reads one."""
    if "vote_client" not in g:
        client = client_of(
            request.headers.get(VOTING_POINT_TOKEN_HEADER, ""), request.remote_addr or ""
        )
        on_pages = request.blueprint not in COOKIE_FREE_BLUEPRINTS
        kiosk = device_of(request.cookies.get(cookie_name())) if on_pages else None
        if kiosk is not None:
            client = replace(client, voting_point_id=kiosk.voting_point_id, kiosk_id=kiosk.id)
        g.vote_client = client
    return g.vote_client


def client_at_point(voting_point_id: int) -> Client:
    """The current request's client as a staffed point's: a poll worker identifying a voter
    counts against their point's limits wherever their device is (so a staffed point neither
    counts towards nor meets a credential's city-wide ceiling, as on its kiosks)."""
    client = current_client()
    if client.voting_point_id is None:
        client = replace(client, voting_point_id=voting_point_id)
    return client


def count_client_attempt(client: Client) -> Lock | None:
    """Count one identification or cast from `client`; a Lock when its window is full."""
    return count_attempt(client.limit, client.identity)


def begin_identification(client: Client, credential: str, *, count_request: bool) -> Attempt:
    """Count an identification with `credential` (see `credential_identity`) from `client`.

    With `count_request`, the request also counts against the client's allowance, in the same
    round trip to the store. The caller checks the credentials only when `attempt.lock` is None,
    through `identify_counted`: channels do both through `identification.identify_with_limits`.
    """
    failures = [
        (FAILURES_PER_CLIENT_AND_CREDENTIAL, f"{client.identity}\x00{credential}"),
        (client.failure_limit, client.identity),
    ]
    if client.voting_point_id is None:  # staffed points neither count towards it nor meet it
        failures.append((FAILURES_PER_CREDENTIAL, credential))
    floods = [(client.limit, client.identity)] if count_request else []
    return begin(failures, floods)


Identified = TypeVar("Identified")


def identify_counted(attempt: Attempt, identify: Callable[[], Identified]) -> Identified:
    """Run `identify` (which raises NotEligible for wrong credentials) under a counted attempt.

    Wrong credentials are counted as a failure; anything else (right credentials, already
    voted, voting closed, the database unreachable) is not.
    """
    try:
        identified = identify()
    except NotEligible:
        attempt.failed()
        raise
    except BaseException:
        attempt.succeeded()
        raise
    attempt.succeeded()
    return identified


def lock_message(lock: Lock):
    """What a refused voter reads: why, and what they can do (lazily translated)."""
    minutes = max(1, -(-lock.retry_after // 60))
    if lock.reason == "credential":
        return _l(
            "Too many failed attempts were made with these details, from several places. To "
            "protect your vote they are paused online for %(minutes)s minute(s); you can still "
            "vote now at a public voting point.",
            minutes=minutes,
        )
    if lock.reason == "client":
        return _l(
            "Too many failed attempts from this connection. Try again in %(minutes)s minute(s).",
            minutes=minutes,
        )
    return _l("Too many attempts. Please wait and try again.")


def failures_under_watch() -> tuple[int, int] | None:
    """(credentials under repeated failure in the last 24 hours, paused at the ceiling now), city
    wide, counts only; None when the store cannot be read."""
    return failure_watch(FAILURES_PER_CREDENTIAL)


def _voting_point_id(token: str, address: str) -> int | None:
    points = _active_points()
    if token:
        return points.by_token.get(token_hash(token))
    if not points.by_address:
        return None
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return None
    for point_id, point_networks in points.by_address:
        if any(parsed in network for network in point_networks):
            return point_id
    return None


@dataclass(frozen=True)
class _ActivePoints:
    by_token: dict[str, int]
    by_address: list[tuple[int, list]]


# Every vote request asks "is this a voting point?": the active points are read at most every
# few seconds per process, not on each request. A point added, edited or deactivated counts
# after that everywhere (at once in the process that changed it).
POINTS_REFRESH_SECONDS = 10.0
_points_cache: dict[str, object] = {"at": float("-inf"), "points": _ActivePoints({}, [])}


def _active_points() -> _ActivePoints:
    if time.monotonic() - _points_cache["at"] > POINTS_REFRESH_SECONDS:
        columns = (VotingPoint.id, VotingPoint.device_token_hash, VotingPoint.ip_addresses)
        rows = db.session.execute(sa.select(*columns).where(VotingPoint.active.is_(True))).all()
        _points_cache["points"] = _ActivePoints(
            by_token={row.device_token_hash: row.id for row in rows if row.device_token_hash},
            by_address=[(row.id, networks(row.ip_addresses)) for row in rows if row.ip_addresses],
        )
        _points_cache["at"] = time.monotonic()
    return _points_cache["points"]


def forget_voting_points() -> None:
    """Read the points again on the next request (after a change, and in tests)."""
    _points_cache["at"] = float("-inf")


def networks(text: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """The addresses or CIDR networks of a voting point, one per line or comma-separated."""
    found = []
    for item in text.replace(",", "\n").split():
        try:
            found.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            log.warning("Ignoring a malformed voting point address: %r", item)
    return found


def credential_identity(credentials: Credentials) -> str:
    """The identity a failed-identification counter is kept for (hashed by AttemptLimit)."""
    if credentials.delegate_code is not None:
        code = "".join(ch for ch in credentials.delegate_code if ch.isalnum()).upper()
        return f"delegate:{code}"
    if credentials.titulo_key is not None:
        return f"titulo:{credentials.titulo_key}"
    if credentials.titulo is not None:
        # The same identity whether the título is typed (web, API) or keyed in by phone, which
        # keeps only its voter key: one ceiling per título across every channel.
        try:
            key = titulo_key(credentials.titulo, current_app.config["VOTER_KEY_PEPPER"])
        except ValueError:
            digits = "".join(ch for ch in credentials.titulo if ch.isdigit())
            return f"titulo-malformed:{digits}"
        return f"titulo:{key}"
    enrolment = "".join(ch for ch in (credentials.enrolment or "") if ch.isalnum())
    return f"school:{credentials.school}:{enrolment}"
