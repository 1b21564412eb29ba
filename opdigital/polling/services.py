"""Opening and closing a voting point for a cycle (every change in the audit log)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from opdigital.audit import services as audit
from opdigital.clock import now
from opdigital.errors import IllegalTransition
from opdigital.extensions import db
from opdigital.polling.models import PointOpening
from opdigital.voting.models import VotingPoint


def point_is_open(voting_point_id: int, cycle_id: int) -> bool:
    """True while the point is open for the cycle (opened, and not closed since)."""
    return bool(
        db.session.scalar(
            sa.select(PointOpening.is_open).where(
                PointOpening.voting_point_id == voting_point_id,
                PointOpening.cycle_id == cycle_id,
            )
        )
    )


def opening(voting_point_id: int, cycle_id: int) -> PointOpening | None:
    """The point's opening row in the cycle (None: never opened)."""
    return db.session.get(PointOpening, (voting_point_id, cycle_id))


def set_point_open(voting_point_id: int, cycle_id: int, is_open: bool, actor: Any) -> PointOpening:
    """Open (or close) the point for the cycle; IllegalTransition when it already is."""
    row = opening(voting_point_id, cycle_id)
    if row is None:
        row = PointOpening(voting_point_id=voting_point_id, cycle_id=cycle_id, is_open=False)
        db.session.add(row)
    if row.is_open == is_open:
        message = (
            _l("This voting point is already open.")
            if is_open
            else _l("This voting point is already closed.")
        )
        raise IllegalTransition(message)
    moment = now()
    row.is_open = is_open
    if is_open:
        row.opened_at = moment
    else:
        row.closed_at = moment
    try:
        db.session.flush()
        audit.record(
            actor,
            "voting_point.open" if is_open else "voting_point.close",
            db.session.get(VotingPoint, voting_point_id),  # the entry names the point
            after={
                "voting_point_id": voting_point_id,
                "cycle_id": cycle_id,
                "at": moment.isoformat(),
            },
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return row
