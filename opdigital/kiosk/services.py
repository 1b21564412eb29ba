"""Enrolling and revoking kiosk devices (every change in the audit log, never the secret)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from opdigital.audit import services as audit
from opdigital.clock import now
from opdigital.cycles.models import Cycle
from opdigital.cycles.states import CycleState
from opdigital.errors import IllegalTransition, NotFound, ValidationFailed
from opdigital.extensions import db
from opdigital.kiosk.devices import SECRET_BYTES, forget_device, secret_hash
from opdigital.kiosk.models import KioskDevice
from opdigital.text_safety import has_control_characters
from opdigital.voting.models import VotingPoint
from opdigital.voting.services import voting_window

LABEL_MAX = 80


@dataclass(frozen=True)
class Enrolled:
    """A device just enrolled and its secret, which exists nowhere else (it goes in the cookie)."""

    device: KioskDevice
    secret: str


def devices_of_point(voting_point_id: int) -> list[KioskDevice]:
    """The point's devices, active ones first, then the newest."""
    return list(
        db.session.scalars(
            sa.select(KioskDevice)
            .where(KioskDevice.voting_point_id == voting_point_id)
            .order_by(KioskDevice.revoked_at.is_not(None), KioskDevice.enrolled_at.desc())
        )
    )


def get_device(voting_point_id: int, device_id: int) -> KioskDevice:
    """The point's device with this id, or NotFound."""
    device = db.session.get(KioskDevice, device_id)
    if device is None or device.voting_point_id != voting_point_id:
        raise NotFound(_l("There is no such kiosk at this voting point."))
    return device


def enrol_device(
    point: VotingPoint, label: str, actor: Any, *, replacing: int | None = None
) -> Enrolled:
    """A new kiosk of `point`, called `label`, with a fresh secret (only its hash is stored).

    `replacing`: the device this browser was enrolled as before, revoked in the same
    transaction (a device re-enrolled keeps one live credential, not two)."""
    label = (label or "").strip()
    if not label or len(label) > LABEL_MAX or has_control_characters(label):
        raise ValidationFailed(
            _l("Give the device a name of up to %(max)d characters.", max=LABEL_MAX),
            code="invalid_label",
        )
    if not point.active:
        raise IllegalTransition(
            _l("This voting point is inactive: activate it before enrolling a kiosk."),
            code="point_inactive",
        )
    secret = secrets.token_urlsafe(SECRET_BYTES)
    device = KioskDevice(
        voting_point_id=point.id,
        label=label,
        secret_hash=secret_hash(secret),
        enrolled_at=now(),
        enrolled_by_id=getattr(actor, "id", None),
    )
    try:
        db.session.add(device)
        db.session.flush()
        audit.record(actor, "kiosk.enrol", device, after=_snapshot(device))
        old = db.session.get(KioskDevice, replacing) if replacing else None
        if old is not None and old.revoked_at is None and old.id != device.id:
            _revoke(old, actor, replaced_by=device.id)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    if replacing:
        forget_device(replacing)
    return Enrolled(device, secret)


def revoke_device(device: KioskDevice, actor: Any) -> KioskDevice:
    """Stop the device's cookie from working, at once in this process and within
    `devices.DEVICE_REFRESH_SECONDS` in the others."""
    if device.revoked_at is not None:
        raise IllegalTransition(_l("This kiosk was already revoked."), code="already_revoked")
    try:
        _revoke(device, actor)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    forget_device(device.id)
    return device


def _revoke(device: KioskDevice, actor: Any, replaced_by: int | None = None) -> None:
    before = _snapshot(device)
    device.revoked_at = now()
    db.session.flush()
    after = _snapshot(device) | ({"replaced_by": replaced_by} if replaced_by else {})
    audit.record(actor, "kiosk.revoke", device, before=before, after=after)


def _snapshot(device: KioskDevice) -> dict:
    return {
        "voting_point_id": device.voting_point_id,
        "label": device.label,
        "revoked_at": device.revoked_at.isoformat() if device.revoked_at else None,
    }


def cycles_voting_now() -> list[Cycle]:
    """The public cycles whose vote is open now (what a kiosk offers), by title."""
    cycles = db.session.scalars(
        sa.select(Cycle)
        .where(Cycle.state == CycleState.VOTING.value)
        .options(selectinload(Cycle.phases))
        .order_by(Cycle.title, Cycle.id)
    )
    return [cycle for cycle in cycles if voting_window(cycle).is_open]
