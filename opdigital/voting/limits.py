"""Rate limits on voting: per client address or voting point, and per credential.

Everything lives in the shared rate-limit store (Redis in production), so the limits hold across
workers and instances; if Redis is down Flask-Limiter falls back to a per-process store and the
database still enforces one vote per citizen.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import time

import sqlalchemy as sa
from flask import current_app, g, request

from opdigital.attempt_limits import AttemptLimit
from opdigital.extensions import db, limiter
from opdigital.registry.credentials import Credentials
from opdigital.voting.models import VotingPoint

log = logging.getLogger(__name__)

VOTING_POINT_TOKEN_HEADER = "X-Voting-Point-Token"  # noqa: S105 - a header name

CREDENTIAL_FAILURES = AttemptLimit("voter-credentials", "VOTER_FAILED_IDENTIFICATION_LIMIT")


def token_hash(token: str) -> str:
    """What the database keeps of a voting point's device token."""
    return hashlib.sha256(token.encode()).hexdigest()


def current_voting_point() -> VotingPoint | None:
    """The active voting point this request comes from (by device token or address), if any."""
    if "voting_point" not in g:
        g.voting_point = _find_voting_point()
    return g.voting_point


def _find_voting_point() -> VotingPoint | None:
    token = request.headers.get(VOTING_POINT_TOKEN_HEADER, "").strip()
    if token:
        return db.session.scalar(
            sa.select(VotingPoint).where(
                VotingPoint.device_token_hash == token_hash(token), VotingPoint.active.is_(True)
            )
        )
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return None
    for point_id, point_networks in _points_by_address():
        if any(address in network for network in point_networks):
            return db.session.get(VotingPoint, point_id)
    return None


# Every request asks "is this a voting point?": the addresses are read at most every few
# seconds per process, not on each request. A point added or deactivated counts after that.
POINTS_REFRESH_SECONDS = 10.0
_points_cache: dict[str, object] = {"at": float("-inf"), "points": []}


def _points_by_address() -> list[tuple[int, list]]:
    if time.monotonic() - _points_cache["at"] > POINTS_REFRESH_SECONDS:
        rows = db.session.execute(
            sa.select(VotingPoint.id, VotingPoint.ip_addresses).where(
                VotingPoint.active.is_(True), VotingPoint.ip_addresses != ""
            )
        )
        _points_cache["points"] = [(point_id, networks(text)) for point_id, text in rows]
        _points_cache["at"] = time.monotonic()
    return _points_cache["points"]


def forget_voting_points() -> None:
    """Read the points' addresses again on the next request (after a change, and in tests)."""
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


def client_key() -> str:
    """Who the per-client limit counts: the voting point, else the client's address."""
    point = current_voting_point()
    return f"point:{point.id}" if point else f"ip:{request.remote_addr}"


def client_limit() -> str:
    """The limit for this client: higher for a registered voting point."""
    setting = "VOTE_LIMIT_PER_VOTING_POINT" if current_voting_point() else "VOTE_LIMIT_PER_IP"
    return current_app.config[setting]


# Decorate identification and casting views with this (POST requests only count).
vote_limit = limiter.limit(client_limit, key_func=client_key, methods=["POST"])


def credential_identity(credentials: Credentials) -> str:
    """The identity a failed-identification counter is kept for (hashed by AttemptLimit)."""
    if credentials.titulo is not None:
        digits = "".join(ch for ch in credentials.titulo if ch.isdigit())
        return f"titulo:{digits}"
    enrolment = "".join(ch for ch in (credentials.enrolment or "") if ch.isalnum())
    return f"school:{credentials.school}:{enrolment}"
