"""Public voting points: registering them, their addresses and device tokens.

A device token is shown once, when it is made: the database keeps only its hash
(`limits.token_hash`), so a lost token is replaced, never recovered. The audit log says that a
token was issued, never the token.
"""

from __future__ import annotations

import ipaddress
import secrets
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from opdigital.audit import services as audit
from opdigital.errors import NotFound, ValidationFailed
from opdigital.extensions import db
from opdigital.kiosk.devices import forget_device
from opdigital.regions.models import Region
from opdigital.voting.limits import forget_voting_points, token_hash
from opdigital.voting.models import VotingPoint

NAME_MAX = 160


@dataclass(frozen=True)
class VotingPointData:
    """What a coordinator types: a name, a region (optional), addresses one per line."""

    name: str
    region_id: int | None = None
    addresses: str = ""


@dataclass(frozen=True)
class Issued:
    """A voting point and, when one was just made, its device token (shown once)."""

    point: VotingPoint
    token: str | None = None


def list_voting_points() -> list[VotingPoint]:
    """Every voting point, active first, by name."""
    return list(
        db.session.scalars(
            sa.select(VotingPoint).order_by(VotingPoint.active.desc(), VotingPoint.name)
        )
    )


def get_voting_point(point_id: int) -> VotingPoint:
    """The voting point with this id, or NotFound."""
    point = db.session.get(VotingPoint, point_id)
    if point is None:
        raise NotFound(_l("There is no such voting point."))
    return point


def normalise_addresses(text: str) -> str:
    """The addresses one per line, or ValidationFailed naming the first one that is not an IP
    address or network. Split as `limits.networks` splits, so every saved line is matched."""
    items = (text or "").replace(",", "\n").split()
    for item in items:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise ValidationFailed(
                _l(
                    "%(address)s is not an IP address or network (such as 200.10.0.5 or "
                    "200.10.0.0/24).",
                    address=item[:60],
                ),
                code="invalid_address",
            ) from None
    return "\n".join(items)


def _check(data: VotingPointData) -> tuple[str, str]:
    name = " ".join((data.name or "").split())
    if not name:
        raise ValidationFailed(_l("Give the voting point a name."), code="name_required")
    if len(name) > NAME_MAX:
        raise ValidationFailed(
            _l("The name can have at most %(max)d characters.", max=NAME_MAX), code="name_too_long"
        )
    if data.region_id is not None and db.session.get(Region, data.region_id) is None:
        raise ValidationFailed(_l("Choose a region from the list."), code="unknown_region")
    return name, normalise_addresses(data.addresses)


def _snapshot(point: VotingPoint) -> dict:
    # Whether a device token exists, never its hash.
    return audit.snapshot(point, ("name", "region_id", "ip_addresses", "active")) | {
        "has_device_token": point.device_token_hash is not None,
    }


def _new_token(point: VotingPoint) -> str:
    token = secrets.token_urlsafe(32)
    point.device_token_hash = token_hash(token)
    return token


def create_voting_point(data: VotingPointData, actor: Any, *, with_token: bool) -> Issued:
    """Register a voting point (with a fresh device token if asked)."""
    name, addresses = _check(data)
    point = VotingPoint(name=name, region_id=data.region_id, ip_addresses=addresses, active=True)
    token = _new_token(point) if with_token else None
    db.session.add(point)
    try:
        db.session.flush()  # the id, for the audit entry
        audit.record(actor, "voting_point.create", point, after=_snapshot(point))
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    forget_voting_points()
    return Issued(point, token)


def update_voting_point(point: VotingPoint, data: VotingPointData, actor: Any) -> VotingPoint:
    """Change a voting point's name, region and addresses."""
    name, addresses = _check(data)
    before = _snapshot(point)
    point.name, point.region_id, point.ip_addresses = name, data.region_id, addresses
    return _save(point, "voting_point.update", before, actor)


def set_active(point: VotingPoint, active: bool, actor: Any) -> VotingPoint:
    """Deactivate a voting point (its requests get the ordinary limits), or reactivate it."""
    before = _snapshot(point)
    point.active = active
    action = "voting_point.activate" if active else "voting_point.deactivate"
    return _save(point, action, before, actor)


def regenerate_token(point: VotingPoint, actor: Any) -> Issued:
    """Replace the device token: the old one stops working at once."""
    before = _snapshot(point)
    token = _new_token(point)
    _save(point, "voting_point.new_token", before, actor)
    return Issued(point, token)


def _save(point: VotingPoint, action: str, before: dict, actor: Any) -> VotingPoint:
    try:
        audit.record(actor, action, point, before=before, after=_snapshot(point))
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    forget_voting_points()
    forget_device()  # kiosks keep their point's state with them
    return point
