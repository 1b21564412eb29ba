"""Casting a ballot: one transaction that records who voted and, apart, what was voted.

The database enforces one vote per citizen (participation's primary key); a losing concurrent
attempt becomes `AlreadyVoted`. The receipt is returned only after the commit, so an
acknowledged vote is never lost.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from opdigital.clock import CITY_TZ, now
from opdigital.counting.ballot_rules import Problem, validate_ballot
from opdigital.cycles.models import Cycle, PhaseKind
from opdigital.cycles.states import CycleState
from opdigital.errors import AlreadyVoted, InvalidBallot, VotingClosed
from opdigital.extensions import db
from opdigital.registry.credentials import EligibleVoter
from opdigital.voting.models import Ballot, Participation, TurnoutCount
from opdigital.voting.receipts import new_receipt_code, receipt_hash
from opdigital.voting.settings import ballot_projects, ballot_rule_for

# Concurrent casts add to one of these rows at random, so they rarely wait on each other.
TURNOUT_SHARDS = 16


@dataclass(frozen=True)
class CastReceipt:
    """What the voter takes away. `code` exists nowhere else: the board keeps its hash."""

    code: str
    cycle_slug: str


class BallotRefused(InvalidBallot):
    """An invalid ballot, with every problem found, for the page or the API to explain."""

    def __init__(self, problems: Sequence[Problem]):
        super().__init__(_l("This ballot is not valid: please correct it and try again."))
        self.problems: list[Problem] = list(problems)


@dataclass(frozen=True)
class VotingWindow:
    opens_at: datetime | None
    closes_at: datetime | None
    is_open: bool = field(default=False)


def voting_window(cycle: Cycle, at: datetime | None = None) -> VotingWindow:
    """When this cycle's voting phase runs, and whether votes are accepted at `at` (now)."""
    at = at or now()
    phase = cycle.phase_of_kind(PhaseKind.VOTING)
    if phase is None:
        return VotingWindow(None, None, False)
    open_now = cycle.state == CycleState.VOTING and phase.is_open(at)
    return VotingWindow(phase.starts_at, phase.ends_at, open_now)


def ensure_voting_open(cycle: Cycle) -> None:
    """Refuse unless the cycle is in the voting state and inside its voting phase."""
    if not voting_window(cycle).is_open:
        raise VotingClosed(_l("Voting is not open in this cycle now."))


def check_ballot(cycle: Cycle, choices: Sequence[object]) -> list[int]:
    """The choices as sorted proposal ids, or `BallotRefused` listing what is wrong."""
    problems = validate_ballot(ballot_rule_for(cycle), ballot_projects(cycle), choices)
    if problems:
        raise BallotRefused(problems)
    return sorted(int(choice) for choice in choices)  # type: ignore[call-overload]


def cast_ballot(
    cycle: Cycle,
    voter: EligibleVoter,
    choices: Sequence[object],
    *,
    voting_point_id: int | None = None,
) -> CastReceipt:
    """Record one vote: participation, ballot and turnout in a single transaction."""
    ensure_voting_open(cycle)
    chosen = check_ballot(cycle, choices)
    code = new_receipt_code()
    moment = now()
    try:
        # Participation first: a second attempt for the same voter fails here, before any
        # ballot row is written (on PostgreSQL it waits for the first one's commit, then fails).
        db.session.execute(
            sa.insert(Participation).values(
                cycle_id=cycle.id,
                voter_key=voter.voter_key,
                voted_on=moment.astimezone(CITY_TZ).date(),
                region_id=voter.region_id,
                voting_point_id=voting_point_id,
            )
        )
        db.session.execute(
            sa.insert(Ballot).values(
                cycle_id=cycle.id, receipt_hash=receipt_hash(code), choices=chosen
            )
        )
        _count_turnout(cycle.id, moment)
        db.session.commit()
    except IntegrityError as e:
        db.session.rollback()
        raise AlreadyVoted(
            _l("A vote with these credentials was already cast in this cycle.")
        ) from e
    return CastReceipt(code=code, cycle_slug=cycle.slug)


def has_voted(cycle: Cycle, voter: EligibleVoter) -> bool:
    """True when this voter's participation is recorded (never says what they chose)."""
    return (
        db.session.scalar(
            sa.select(sa.literal(True)).where(
                Participation.cycle_id == cycle.id, Participation.voter_key == voter.voter_key
            )
        )
        is not None
    )


def _count_turnout(cycle_id: int, moment: datetime) -> None:
    hour = moment.replace(minute=0, second=0, microsecond=0)
    values = {
        "cycle_id": cycle_id,
        "hour": hour,
        "shard": secrets.randbelow(TURNOUT_SHARDS),
        "votes": 1,
    }
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(TurnoutCount).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=["cycle_id", "hour", "shard"],
        set_={"votes": TurnoutCount.votes + 1},
    )
    db.session.execute(statement)
