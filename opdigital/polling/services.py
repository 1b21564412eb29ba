"""Opening and closing a voting point for a cycle (every change in the audit log)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from opdigital.audit import services as audit
from opdigital.clock import now
from opdigital.cycles.models import Cycle
from opdigital.cycles.states import CycleState
from opdigital.errors import Conflict, IllegalTransition, NotFound, PhaseClosed, VotingClosed
from opdigital.extensions import db
from opdigital.polling.models import PointOpening
from opdigital.voting.models import VotingPoint
from opdigital.voting.services import voting_window

# A point may be opened until the cycle's vote is over.
VOTE_NOT_OVER = frozenset(
    {
        CycleState.DRAFT,
        CycleState.OPEN_FOR_PROPOSALS,
        CycleState.UNDER_REVIEW,
        CycleState.BALLOT_FROZEN,
        CycleState.VOTING,
    }
)


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


# --- a poll worker's point and cycle --------------------------------------------------------


@dataclass(frozen=True)
class Assignment:
    """Where a poll worker serves: their voting point and cycle (both from their account, never
    from the request, so no URL or form field can point them elsewhere)."""

    point: VotingPoint
    cycle: Cycle


def assignment_of(user: Any) -> Assignment:
    """The poll worker's point and cycle; NotFound for any other account (or a broken one)."""
    point_id = getattr(user, "voting_point_id", None)
    cycle_id = getattr(user, "cycle_id", None)
    point = db.session.get(VotingPoint, point_id) if point_id else None
    cycle = db.session.get(Cycle, cycle_id) if cycle_id else None
    if point is None or cycle is None:
        raise NotFound(_l("This account serves no voting point."))
    return Assignment(point, cycle)


def open_point(user: Any) -> PointOpening:
    """The poll worker opens their point for their cycle (audited with the time).

    Refused for an inactive point and once the cycle's vote is over; opening before the voting
    phase starts is allowed (the point is set up in the morning), but no vote is taken before.
    """
    where = assignment_of(user)
    if not where.point.active:
        raise Conflict(
            _l("This voting point has been deactivated: it cannot be opened."),
            code="point_inactive",
        )
    if where.cycle.state not in VOTE_NOT_OVER:
        raise Conflict(
            _l("The vote of this cycle is over: the point cannot be opened."), code="vote_over"
        )
    return set_point_open(where.point.id, where.cycle.id, True, user)


def close_point(user: Any) -> PointOpening:
    """The poll worker closes their point for their cycle (audited with the time)."""
    where = assignment_of(user)
    return set_point_open(where.point.id, where.cycle.id, False, user)


def takes_votes(where: Assignment) -> bool:
    """True while the point is open and the cycle's vote is open: a poll worker may then
    identify voters there."""
    return point_is_open(where.point.id, where.cycle.id) and voting_window(where.cycle).is_open


def ensure_takes_votes(where: Assignment) -> None:
    """Refuse (403) an assisted identification while the point or the vote is closed."""
    if not point_is_open(where.point.id, where.cycle.id):
        raise PhaseClosed(
            _l("Open the voting point before identifying voters."), code="point_closed"
        )
    if not voting_window(where.cycle).is_open:
        raise VotingClosed(_l("Voting is not open in this cycle now."))
