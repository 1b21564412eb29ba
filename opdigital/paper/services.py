"""What every paper-ballot step shares: who may act for a point, the locks, and the states of a
cycle each step needs. The steps themselves are one module each (docs/voting-day.md):

- `printing`: blank sheets with serial numbers, printed for a point;
- `participation`: a voter signs the point's paper list (one vote per citizen, as online);
- `entry`: batches of filled sheets, entered twice, compared, resolved against the sheets;
- `sealing`: a ready batch's sheets become pending ballots, sealed onto the board like any.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from opdigital.accounts.models import Role
from opdigital.cycles.models import Cycle
from opdigital.cycles.states import CycleState
from opdigital.errors import Conflict, DomainError
from opdigital.extensions import db

# Coordinators and admins act for every point; a poll worker for their own point and cycle.
STAFF_ROLES = (Role.ADMIN.value, Role.COORDINATOR.value)
PAPER_ROLES = (*STAFF_ROLES, Role.POLL_WORKER.value)

# Namespaces of the transaction-level advisory locks (the first half of the two-int key).
PRINT_LOCK = 120401  # per cycle: serial numbers are allocated one run at a time
POINT_LOCK = 120402  # per point: batch numbers, and the paper count checked at sealing

# Sheets are printed once the ballot is frozen, until the vote closes.
PRINTING_STATES = (CycleState.BALLOT_FROZEN.value, CycleState.VOTING.value)
# Batches are made, entered and sealed during the vote and after it closes, until the tally.
COUNTING_STATES = (CycleState.VOTING.value, CycleState.CLOSED.value)


class NotAllowed(DomainError):
    """A staff member acting for a voting point that is not theirs."""

    status = 403
    code = "forbidden"


def is_bound_to(user: Any, cycle_id: int, voting_point_id: int) -> bool:
    """True when `user` is a poll worker of this point in this cycle."""
    return (
        getattr(user, "role", None) == Role.POLL_WORKER.value
        and user.cycle_id == cycle_id
        and user.voting_point_id == voting_point_id
    )


def may_act_for(user: Any, cycle_id: int, voting_point_id: int) -> bool:
    """Coordinators and admins for any point; a poll worker for their own point and cycle."""
    return getattr(user, "role", None) in STAFF_ROLES or is_bound_to(
        user, cycle_id, voting_point_id
    )


def ensure_may_act(user: Any, cycle_id: int, voting_point_id: int) -> None:
    if not may_act_for(user, cycle_id, voting_point_id):
        raise NotAllowed(_l("You can act only for your own voting point in your own cycle."))


def ensure_state(cycle: Cycle, states: tuple[str, ...], message) -> None:
    """Conflict (409) unless the cycle is in one of `states`."""
    if cycle.state not in states:
        raise Conflict(message, code="wrong_cycle_state")


def advisory_lock(namespace: int, key: int) -> None:
    """Hold a lock on (namespace, key) until the transaction ends (PostgreSQL; SQLite, which
    `make run` uses, has a single writer anyway)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(
            sa.text("SELECT pg_advisory_xact_lock(:namespace, :key)"),
            {"namespace": namespace, "key": key},
        )


def share_lock_cycle(cycle: Cycle) -> str:
    """Lock the cycle row FOR SHARE and return its state as committed: a state change (which
    locks the row FOR UPDATE) waits for this transaction, and this one for a change under way."""
    return db.session.scalar(
        sa.select(Cycle.state).where(Cycle.id == cycle.id).with_for_update(read=True)
    )
