"""The one way a cycle's state changes: `advance`, and what entering each state does.

The states and the order they come in are `cycles/states.py`'s (pure); this module runs them.
Moving to the next state is a change of `Cycle.state` with a `cycle.transition` audit entry, and
for some states more, written in `STEPS`: freezing puts the accepted proposals on the ballot,
closing seals every waiting ballot onto the board, tallying counts and signs the package,
publishing dates it public. The coordinator's control page and the `opdigital` commands both
come here, so a state is entered the same way whoever asks.

This module sits above the services it orchestrates (cycles, proposals, voting, board, tally);
none of them imports it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from opdigital.audit import services as audit
from opdigital.board import services as board
from opdigital.clock import now
from opdigital.cycles.models import Cycle
from opdigital.cycles.states import CycleState, can_transition
from opdigital.errors import DomainError, IllegalTransition, ValidationFailed
from opdigital.extensions import db
from opdigital.proposals.models import Proposal, ProposalStatus
from opdigital.proposals.services import change_status
from opdigital.tally import services as tallies
from opdigital.tally.models import Tally
from opdigital.voting.services import hold_casts
from opdigital.voting.settings import ensure_voting_configured


@dataclass(frozen=True)
class Outcome:
    """A state change done: the cycle, the state it left and the one it entered, and its tally
    (after tallying or publishing). Callers word the news themselves (flash, command output)."""

    cycle: Cycle
    previous: str
    state: CycleState
    tally: Tally | None = None


@dataclass(frozen=True)
class Step:
    """What entering a state does besides changing `Cycle.state`.

    `prepare(cycle)` runs before the row is locked, in transactions of its own (sealing);
    `enter(cycle, actor)` runs under the lock, in the state change's transaction, and may return
    the tally; `after(cycle)` runs once the state change is committed.
    """

    prepare: Callable[[Cycle], object] | None = None
    enter: Callable[[Cycle, object], Tally | None] | None = None
    after: Callable[[Cycle], object] | None = None


def _freeze_ballot(cycle: Cycle, actor) -> None:
    """Accepted proposals go on the ballot; anything still unreviewed cannot be left pending."""
    proposals = list(db.session.scalars(sa.select(Proposal).where(Proposal.cycle_id == cycle.id)))
    pending = [
        p.code
        for p in proposals
        if p.status in (ProposalStatus.SUBMITTED, ProposalStatus.UNDER_REVIEW)
    ]
    if pending:
        raise IllegalTransition(
            _l(
                "Review every proposal before freezing the ballot. Still pending: %(codes)s",
                codes=", ".join(pending),
            ),
            code="proposals_pending",
        )
    accepted = [p for p in proposals if p.status == ProposalStatus.ACCEPTED]
    if not accepted:
        raise IllegalTransition(
            _l("The ballot needs at least one accepted proposal."), code="empty_ballot"
        )
    for proposal in accepted:
        change_status(proposal, ProposalStatus.ON_BALLOT, note="", actor=actor)
    try:
        # With the proposals now final, the ballot rule must be set and satisfiable by them.
        ensure_voting_configured(cycle)
    except ValidationFailed as e:
        raise IllegalTransition(e.message, code=e.code) from e
    cycle.ballot_frozen_at = now()


def _publish(cycle: Cycle, actor) -> Tally:
    return tallies.mark_published(cycle)


# Every state not listed is entered by the state change alone.
STEPS: dict[CycleState, Step] = {
    CycleState.BALLOT_FROZEN: Step(enter=_freeze_ballot),
    # The close waits for the casts under way and no cast is accepted after it (`_advance`
    # takes the casts' advisory lock alone): sealing then takes every accepted ballot (and
    # fails loudly if one is left, with the vote already closed).
    CycleState.CLOSED: Step(after=board.seal_all),
    CycleState.TALLIED: Step(prepare=tallies.seal_for_count, enter=tallies.count),
    CycleState.PUBLISHED: Step(enter=_publish),
}
NO_STEP = Step()


def _refuse_unless_next(current: str, target: CycleState | str) -> None:
    if not can_transition(current, target):
        raise IllegalTransition(_l("This cycle cannot move to that state from its current state."))


def _locked(cycle: Cycle) -> Cycle:
    """The cycle's row, locked for this transaction and read afresh: two coordinators pressing
    the same button must not both succeed."""
    return db.session.scalar(
        sa.select(Cycle)
        .where(Cycle.id == cycle.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def advance(cycle: Cycle, target: CycleState | str, actor) -> Outcome:
    """Move `cycle` to `target`, its next state, running what entering `target` does.

    Raises a `DomainError` (`IllegalTransition` for a step out of order, a stale page or an
    unknown state) with the session rolled back: nothing half-done is left to commit.
    """
    try:
        return _advance(cycle, target, actor)
    except DomainError:
        db.session.rollback()
        raise


def _advance(cycle: Cycle, target: CycleState | str, actor) -> Outcome:
    _refuse_unless_next(cycle.state, target)  # before any sealing or counting
    target = CycleState(target)
    step = STEPS.get(target, NO_STEP)
    if step.prepare:
        step.prepare(cycle)
    locked = _locked(cycle)
    previous = locked.state
    _refuse_unless_next(previous, target)  # another request may have moved it meanwhile
    if previous == CycleState.VOTING:
        # Casts share an advisory lock on the cycle (not its row, which they leave alone:
        # `voting.services.CAST_LOCK`). Taken after the row, so that a cast inside a transaction
        # holding the row (a paper vote's share lock) cannot deadlock with the close; held to the
        # commit, so every cast under way is in before the state changes, and none after.
        hold_casts(locked)
    record = step.enter(locked, actor) if step.enter else None
    locked.state = target.value
    audit.record(
        actor, "cycle.transition", locked, before={"state": previous}, after={"state": target.value}
    )
    db.session.commit()
    if step.after:
        step.after(locked)
    return Outcome(locked, previous, target, record)
