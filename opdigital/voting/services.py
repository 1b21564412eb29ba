"""Casting a ballot: one transaction that records who voted and, apart, what was voted.

The database enforces one vote per citizen (participation's primary key); a losing concurrent
attempt becomes `AlreadyVoted`. The receipt is returned only after the commit, so an
acknowledged vote is never lost.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from opdigital.clock import CITY_TZ, now
from opdigital.counting.ballot_rules import BallotProject, BallotRule, Problem, validate_ballot
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


@dataclass(frozen=True)
class FrozenBallot:
    """The rule and the projects of a frozen ballot: neither can change any more."""

    rule: BallotRule
    projects: tuple[BallotProject, ...]


# (cycle id, freeze instant) -> ballot. A frozen ballot never changes, so each process reads it
# once instead of on every cast; unfrozen cycles are never cached.
_frozen_ballots: dict[tuple[int, datetime], FrozenBallot] = {}


def frozen_ballot(cycle: Cycle) -> FrozenBallot:
    """The cycle's ballot as voters see it (read once per process once it is frozen)."""
    key = (cycle.id, cycle.ballot_frozen_at) if cycle.ballot_frozen_at else None
    cached = _frozen_ballots.get(key) if key else None
    if cached is None:
        cached = FrozenBallot(ballot_rule_for(cycle), tuple(ballot_projects(cycle)))
        if key:
            _frozen_ballots[key] = cached
    return cached


def forget_frozen_ballots() -> None:
    """Empty the per-process cache (tests reuse ids and freeze instants)."""
    _frozen_ballots.clear()


def check_ballot(cycle: Cycle, choices: Sequence[object]) -> list[int]:
    """The choices as sorted proposal ids, or `BallotRefused` listing what is wrong."""
    ballot = frozen_ballot(cycle)
    problems = validate_ballot(ballot.rule, ballot.projects, choices)
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
    values = {
        "cycle": cycle.id,
        "voter_key": voter.voter_key,
        "day": moment.astimezone(CITY_TZ).date(),
        "region": voter.region_id,
        "point": voting_point_id,
        "receipt_hash": receipt_hash(code),
        "choices": json.dumps(chosen),
        "now": moment,
        "hour": moment.replace(minute=0, second=0, microsecond=0),
        "shard": secrets.randbelow(TURNOUT_SHARDS),
    }
    slug = cycle.slug  # read before the commit expires the object
    try:
        if db.session.get_bind().dialect.name == "postgresql":
            recorded = db.session.execute(_CAST_STATEMENT, values).first() is not None
        else:
            recorded = _cast_step_by_step(values)
        if not recorded:
            # Voting closed between the check above and this transaction: nothing was written.
            db.session.rollback()
            raise VotingClosed(_l("Voting is not open in this cycle now."))
        db.session.commit()
    except IntegrityError as e:
        db.session.rollback()
        raise AlreadyVoted(
            _l("A vote with these credentials was already cast in this cycle.")
        ) from e
    return CastReceipt(code=code, cycle_slug=slug)


# One round trip on PostgreSQL. The first part re-checks, atomically, that the cycle is voting
# and inside its voting phase; it holds a KEY SHARE lock on the cycle row (as the foreign key
# check would anyway), so a coordinator closing the vote waits for casts already under way,
# and any cast after that finds the cycle closed and writes nothing. Participation comes
# before the ballot: a second attempt for the same voter fails on its primary key (waiting
# for the first one's commit) before any ballot row exists.
_CAST_STATEMENT = sa.text(
    """
    WITH open_cycle AS (
        SELECT c.id FROM cycle AS c
        WHERE c.id = :cycle AND c.state = 'voting' AND EXISTS (
            SELECT 1 FROM phase AS p
            WHERE p.cycle_id = c.id AND p.kind = 'voting'
              AND p.starts_at <= :now AND p.ends_at > :now)
        FOR KEY SHARE OF c
    ), who AS (
        INSERT INTO participation (cycle_id, voter_key, voted_on, region_id, voting_point_id)
        SELECT id, :voter_key, :day, :region, :point FROM open_cycle
        RETURNING cycle_id
    ), what AS (
        INSERT INTO ballot (cycle_id, receipt_hash, choices)
        SELECT cycle_id, :receipt_hash, CAST(:choices AS json) FROM who
        RETURNING cycle_id
    )
    INSERT INTO turnout_count (cycle_id, hour, shard, votes)
    SELECT cycle_id, :hour, :shard, 1 FROM what
    ON CONFLICT (cycle_id, hour, shard) DO UPDATE SET votes = turnout_count.votes + 1
    RETURNING 1
    """
)


def _cast_step_by_step(values: dict) -> bool:
    """The same writes for SQLite (`make run`), where the state was checked just before."""
    db.session.execute(
        sa.insert(Participation).values(
            cycle_id=values["cycle"],
            voter_key=values["voter_key"],
            voted_on=values["day"],
            region_id=values["region"],
            voting_point_id=values["point"],
        )
    )
    db.session.execute(
        sa.insert(Ballot).values(
            cycle_id=values["cycle"],
            receipt_hash=values["receipt_hash"],
            choices=json.loads(values["choices"]),
        )
    )
    statement = sqlite_insert(TurnoutCount).values(
        cycle_id=values["cycle"], hour=values["hour"], shard=values["shard"], votes=1
    )
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=["cycle_id", "hour", "shard"],
            set_={"votes": TurnoutCount.votes + 1},
        )
    )
    return True


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
