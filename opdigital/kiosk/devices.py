"""The kiosk's device credential: a signed cookie naming an enrolled device and its secret.

A browser cannot send the voting point's token header, so an enrolled kiosk carries a cookie
instead: `itsdangerous`-signed (a key derived from SECRET_KEY with a salt of its own) and holding
the device's id and a random secret whose SHA-256 alone is in the database. A cookie counts only
while its row exists, is not revoked and its hash matches; each process keeps what it read of a
device for a few seconds (like `voting.limits`' active points), and forgets it at once when it
revokes the device itself.

Cookie attributes: HttpOnly (no script reads it), Secure when the
session cookie is (`SESSION_COOKIE_SECURE`; the name then takes the `__Host-` prefix, so no
subdomain can set or shadow it), Path=/ (the voting pages are outside /quiosque),
SameSite=Strict (a kiosk is only ever driven from its own pages: no request from another site
should carry it, not even a top-level link), and a Max-Age of 400 days, the longest browsers keep.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from opdigital.extensions import db
from opdigital.kiosk.models import KioskDevice
from opdigital.voting.models import VotingPoint

COOKIE_BASE_NAME = "opdigital-kiosk"
COOKIE_SALT = "opdigital.kiosk.device-cookie"
COOKIE_MAX_AGE = timedelta(days=400)
SECRET_BYTES = 32

# How long a process trusts what it read of a device (a revocation elsewhere counts after this).
DEVICE_REFRESH_SECONDS = 5.0


@dataclass(frozen=True)
class EnrolledDevice:
    """A kiosk the request comes from: its row and its voting point."""

    id: int
    voting_point_id: int


def secret_hash(secret: str) -> str:
    """What the database keeps of a device's secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


def cookie_name() -> str:
    """`__Host-opdigital-kiosk` over HTTPS (Secure, Path=/, no Domain), else without the prefix."""
    secure = bool(current_app.config.get("SESSION_COOKIE_SECURE"))
    return f"__Host-{COOKIE_BASE_NAME}" if secure else COOKIE_BASE_NAME


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=COOKIE_SALT)


def set_device_cookie(response, device_id: int, secret: str) -> None:
    """Put the device's credential on `response` (the enrolment's answer)."""
    value = _serializer().dumps({"d": device_id, "s": secret})
    response.set_cookie(
        cookie_name(),
        value,
        max_age=int(COOKIE_MAX_AGE.total_seconds()),
        path="/",
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
        httponly=True,
        samesite="Strict",
    )


def _read(value: str | None) -> tuple[int, str] | None:
    """(device id, secret) from a cookie value, or None when absent, forged or malformed."""
    if not value or len(value) > 512:
        return None
    try:
        payload = _serializer().loads(value)
    except BadSignature:
        return None
    if not isinstance(payload, dict):
        return None
    device_id, secret = payload.get("d"), payload.get("s")
    if type(device_id) is not int or not 0 < device_id < 2**31 or not isinstance(secret, str):
        return None
    return device_id, secret


# device id -> (when read, secret hash, voting point id, active)
_devices: dict[int, tuple[float, str, int, bool]] = {}


def device_of(cookie_value: str | None) -> EnrolledDevice | None:
    """The enrolled, unrevoked device of an active voting point a cookie value names, or None
    (forged, revoked, unknown, or its point deactivated).

    The point's state is read with the device (not from the voting points' cache of
    `voting.limits`), so a kiosk enrolled on a point made a moment ago works at once in every
    process.
    """
    read = _read(cookie_value)
    if read is None:
        return None
    device_id, secret = read
    wanted = secret_hash(secret)
    kept = _devices.get(device_id)
    fresh = kept is not None and time.monotonic() - kept[0] <= DEVICE_REFRESH_SECONDS
    # A cached row with another hash is read again (a row id may be reused after a restore).
    if not fresh or not hmac.compare_digest(kept[1], wanted):
        row = db.session.execute(
            sa.select(
                KioskDevice.secret_hash,
                KioskDevice.voting_point_id,
                KioskDevice.revoked_at,
                VotingPoint.active,
            )
            .join(VotingPoint, VotingPoint.id == KioskDevice.voting_point_id)
            .where(KioskDevice.id == device_id)
        ).first()
        if row is None:
            _devices.pop(device_id, None)
            return None
        usable = row.revoked_at is None and row.active
        kept = (time.monotonic(), row.secret_hash, row.voting_point_id, usable)
        _devices[device_id] = kept
    _, stored_hash, point_id, active = kept
    if not active or not hmac.compare_digest(stored_hash, wanted):
        return None
    return EnrolledDevice(id=device_id, voting_point_id=point_id)


def forget_device(device_id: int | None = None) -> None:
    """Read the device (every device, with None) from the database on its next request."""
    if device_id is None:
        _devices.clear()
    else:
        _devices.pop(device_id, None)
