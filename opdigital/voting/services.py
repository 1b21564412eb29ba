"""Casting a ballot: one transaction that records who voted and, apart, what was voted.

The database enforces one vote per citizen (participation's primary key); a losing concurrent
attempt becomes `AlreadyVoted`. The receipt is returned only after the commit, so an
acknowledged vote is never lost.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from opdigital.board.services import seal_after_cast
from opdigital.clock import CITY_TZ, now
from opdigital.counting import ballot_rules as rules
from opdigital.counting.ballot_rules import BallotProject, BallotRule, Problem, validate_ballot
from opdigital.cycles.models import Cycle, PhaseKind
from opdigital.cycles.states import CycleState
from opdigital.direct_sql import run_alone
from opdigital.errors import AlreadyVoted, InvalidBallot, VotingClosed
from opdigital.extensions import db
from opdigital.registry.credentials import Credentials, EligibleVoter
from opdigital.registry.services import (
    REGISTERED_VOTER,
    find_eligible_voter,
    not_eligible,
    voter_claim,
)
from opdigital.voting.models import Ballot, Channel, Participation, TurnoutCount
from opdigital.voting.receipts import new_receipt_code, receipt_hash
from opdigital.voting.settings import ballot_projects, ballot_rule_for

log = logging.getLogger(__name__)


def turnout_shard() -> sa.ColumnElement[int]:
    """The turnout row a vote adds to, beside its cycle and hour: on PostgreSQL, the database
    connection's backend process id. Transactions under way at one moment are on distinct
    backends, so two votes never wait for each other on a turnout row (a row is locked from
    the vote's upsert to its commit, fsync included; with 16 rows drawn at random, sampled at
    four concurrent casts, about 2% of the casts' time in PostgreSQL was that wait, and it grows
    with the number of casts at once). An hour has a row per connection that voted in it; its
    turnout is their sum. SQLite (`make run`) has a single writer: one row."""
    if _on_postgresql():
        return sa.func.pg_backend_pid()
    return sa.literal(0)


# The first half of the advisory lock's two-int key that casts share and a close takes alone
# (migration 0017's `cast_gate`; the paper module's namespaces are 120401 and 120402).
CAST_LOCK = 120403


@dataclass(frozen=True)
class CastReceipt:
    """What the voter takes away. `code` exists nowhere else: the board keeps its hash."""

    code: str
    cycle_slug: str


class BallotRefused(InvalidBallot):
    """An invalid ballot, with every problem found, for the page or the API to explain."""

    def __init__(self, problems: Sequence[Problem]):
        codes = {problem.code for problem in problems}
        if codes & {rules.NOT_YOUR_REGION, rules.SEVERAL_REGIONS}:
            message = _l(
                "This ballot lets each voter choose only works of their own region (in OPCA, "
                "of their school)."
            )
        else:
            message = _l("This ballot is not valid: please correct it and try again.")
        super().__init__(message)
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


def voter_home(rule: BallotRule, voter: EligibleVoter) -> int | None:
    """The voter's region (or school) as an own-region rule compares it with projects'."""
    return voter.school_id if rule.own_group == rules.OwnGroup.SCHOOL else voter.region_id


def check_ballot(
    cycle: Cycle, choices: Sequence[object], voter: EligibleVoter | None = None
) -> list[int]:
    """The choices as sorted proposal ids, or `BallotRefused` listing what is wrong. Without
    the `voter`, an own-region rule is checked by the cast (see `HomeCheck`)."""
    ballot = frozen_ballot(cycle)
    home = rules.UNKNOWN_HOME if voter is None else voter_home(ballot.rule, voter)
    problems = validate_ballot(ballot.rule, ballot.projects, choices, home=home)
    if problems:
        raise BallotRefused(problems)
    return sorted(int(choice) for choice in choices)  # type: ignore[call-overload]


@dataclass(frozen=True)
class HomeCheck:
    """What the cast compares with the roll under an own-region rule, before the voter is
    known: the one region or school of the choices (None: nothing to compare), and the
    choices as sent (the refusal names each by its place in them)."""

    region_id: int | None = None
    school_id: int | None = None
    choices: tuple = ()

    def parameters(self) -> dict:
        return {"home_region": self.region_id, "home_school": self.school_id}

    def admits(self, voter: EligibleVoter) -> bool:
        return (self.region_id is None or voter.region_id == self.region_id) and (
            self.school_id is None or voter.school_id == self.school_id
        )


# Nothing to compare: no own-region rule, or no choice.
ANY_HOME = HomeCheck()


def home_check(cycle: Cycle, choices: Sequence[object]) -> HomeCheck:
    """The `HomeCheck` for a ballot `check_ballot` accepted; `BallotRefused` (several_regions)
    when its choices span homes, as no voter may cast that. No query: the ballot is cached."""
    ballot = frozen_ballot(cycle)
    home, problems = rules.choices_home(ballot.rule, ballot.projects, choices)
    if problems:
        raise BallotRefused(problems)
    if home is None:
        return ANY_HOME
    if ballot.rule.own_group == rules.OwnGroup.SCHOOL:
        return HomeCheck(school_id=home, choices=tuple(choices))
    return HomeCheck(region_id=home, choices=tuple(choices))


def _away_from_home(cycle: Cycle, home: HomeCheck) -> BallotRefused:
    """The refusal for a voter whose region (or school) is not their choices': every choice is
    away from them. Worked out only then, off the path of the votes that pass."""
    ballot = frozen_ballot(cycle)
    return BallotRefused(validate_ballot(ballot.rule, ballot.projects, home.choices, home=None))


@dataclass(frozen=True)
class Where:
    """Where a vote was cast, as participation records it: the public voting point (None:
    elsewhere), whether a poll worker identified the voter there, and the channel."""

    voting_point_id: int | None = None
    assisted: bool = False
    channel: str = Channel.WEB.value


def cast_ballot(
    cycle: Cycle,
    voter: EligibleVoter,
    choices: Sequence[object],
    *,
    voting_point_id: int | None = None,
    assisted: bool = False,
    channel: Channel = Channel.WEB,
) -> CastReceipt:
    """Record the vote of a voter identified earlier (the web flow, the phone's dialogue):
    participation, ballot and turnout in one transaction. `assisted`: a poll worker identified
    the voter at the point (recorded for the turnout screen; who assisted is not)."""
    ensure_voting_open(cycle)
    chosen = check_ballot(cycle, choices, voter)
    where = Where(voting_point_id, assisted and voting_point_id is not None, Channel(channel).value)
    if not _on_postgresql():
        return _cast_step_by_step(cycle, voter, chosen, where)
    voter_source = (IDENTIFIED_VOTER, {"region": voter.region_id, "school": voter.school_id})
    return _cast_in_one_statement(cycle, voter.voter_key, voter_source, chosen, where)


def identify_and_cast(
    cycle: Cycle,
    credentials: Credentials,
    chosen: list[int],
    *,
    voting_point_id: int | None = None,
    home: HomeCheck = ANY_HOME,
    channel: Channel = Channel.API,
) -> CastReceipt:
    """Identify the voter by their credentials and record the vote (the API).

    `chosen` is what `check_ballot` returned and `home` what `home_check` did: the caller checks
    the ballot (and that voting is open) first, before counting the attempt against the
    credentials; the cast statement re-checks the voting window itself, and compares the
    voter's region (or school) with `home`. On PostgreSQL the roll lookup is part of that
    statement: one round trip, committed by itself, for the busiest request of the vote.
    NotEligible says nothing about why.
    """
    if not _on_postgresql():
        voter = find_eligible_voter(cycle, credentials)
        if not home.admits(voter):
            raise _away_from_home(cycle, home)
        return _cast_step_by_step(cycle, voter, chosen, Where(voting_point_id, channel=channel))
    claim = voter_claim(cycle, credentials)
    voter_source = (REGISTERED_VOTER, claim.parameters())
    where = Where(voting_point_id, channel=Channel(channel).value)
    return _cast_in_one_statement(cycle, claim.voter_key, voter_source, chosen, where, home)


def _on_postgresql() -> bool:
    return db.engine.dialect.name == "postgresql"


def hold_casts(cycle: Cycle) -> None:
    """Wait for the casts under way in `cycle` and keep new ones waiting until this transaction
    ends (PostgreSQL; SQLite, which `make run` uses, has a single writer). A state change out of
    voting takes it before committing: a cast that waited then finds the cycle closed."""
    if _on_postgresql():
        db.session.execute(
            sa.text("SELECT pg_advisory_xact_lock(:namespace, :cycle)"),
            {"namespace": CAST_LOCK, "cycle": cycle.id},
        )


def _cast_values(cycle: Cycle, voter_key: str, chosen: list[int], where: Where) -> dict:
    moment = now()
    return {
        "cycle": cycle.id,
        "voter_key": voter_key,
        "day": moment.astimezone(CITY_TZ).date(),
        "point": where.voting_point_id,
        "assisted": where.assisted,
        "channel": where.channel,
        "choices": json.dumps(chosen),
        "now": moment,
        "hour": moment.replace(minute=0, second=0, microsecond=0),
    }


def _already_voted() -> AlreadyVoted:
    return AlreadyVoted(_l("A vote with these credentials was already cast in this cycle."))


def _cast_in_one_statement(
    cycle: Cycle,
    voter_key: str,
    voter_source: tuple[str, dict],
    chosen: list[int],
    where: Where,
    home: HomeCheck = ANY_HOME,
) -> CastReceipt:
    """Run the cast statement. On a request that holds no connection yet (the API once its
    caches are warm) it runs in autocommit: one statement is one transaction, so the vote is
    durable when the statement returns, with no separate COMMIT round trip. Otherwise it runs in
    the session's transaction, committed at once."""
    source_sql, source_values = voter_source
    code = new_receipt_code()
    values = _cast_values(cycle, voter_key, chosen, where) | source_values | home.parameters()
    values["receipt_hash"] = receipt_hash(code)
    statement = _cast_statement(source_sql)
    slug = cycle.slug  # read before a commit expires the object
    try:
        if _session_in_transaction():
            eligible, at_home, recorded, ballot_id = db.session.execute(statement, values).one()
            db.session.commit()
        else:
            eligible, at_home, recorded, ballot_id = run_alone(statement, values)
    except IntegrityError as e:
        db.session.rollback()
        raise _already_voted() from e
    if not eligible:
        raise not_eligible(cycle)
    if not at_home:
        raise _away_from_home(cycle, home)
    if not recorded:
        # Voting closed between the check above and the statement: nothing was written.
        raise VotingClosed(_l("Voting is not open in this cycle now."))
    _seal_if_batch_full(cycle, ballot_id)
    return CastReceipt(code=code, cycle_slug=slug)


def _session_in_transaction() -> bool:
    """The request's session holds a transaction. Asked without making a session where the
    request has none (the API's casts, once the caches are warm): one would be built, and
    closed with the request, for nothing."""
    return db.session.registry.has() and db.session().in_transaction()


# One round trip on PostgreSQL. `voter` finds the voter (in the roll, or as identified before);
# `open_cycle` re-checks, atomically, that the cycle is voting and inside its voting phase, by
# `cast_gate` (migration 0017): it takes a shared transaction-level advisory lock on
# (CAST_LOCK, cycle) and only then reads the cycle and its phase, with a snapshot of its own taken
# after the lock. Leaving the voting state takes the exclusive lock before it commits
# (`cycles.lifecycle`), so a coordinator closing the vote waits for casts already under way, and
# any cast after that finds the cycle closed and writes nothing. (The cast used to hold a KEY
# SHARE lock on the cycle row for this, and each foreign key to `cycle` took it again: concurrent
# lockers of one row make PostgreSQL build a MultiXact per locker and log every lock in the WAL:
# 15-25% of the statement's PostgreSQL CPU at four concurrent casts. The advisory lock lives in
# shared memory only; docs/data-model.md, "Casting".) Participation comes before the ballot: a
# second attempt for the same voter fails on its primary key (waiting for the first one's
# commit) before any ballot row exists. `at_home` holds the voter to the one region or school of
# their choices under an own-region rule (`HomeCheck`; both NULL otherwise). The turnout row is
# the connection's own (`turnout_shard`).
_CAST_SQL = """
    WITH voter AS ({voter}),
    at_home AS (
        SELECT voter.region_id FROM voter
        WHERE (CAST(:home_region AS integer) IS NULL
               OR voter.region_id = CAST(:home_region AS integer))
          AND (CAST(:home_school AS integer) IS NULL
               OR voter.school_id = CAST(:home_school AS integer))
    ),
    gate AS (SELECT cast_gate(:cycle, :now) AS id),
    open_cycle AS (SELECT gate.id FROM gate WHERE gate.id IS NOT NULL),
    who AS (
        INSERT INTO participation
            (cycle_id, voter_key, voted_on, region_id, voting_point_id, assisted, channel)
        SELECT open_cycle.id, :voter_key, :day, at_home.region_id, :point, :assisted, :channel
        FROM open_cycle, at_home
        RETURNING cycle_id
    ), what AS (
        INSERT INTO ballot (cycle_id, receipt_hash, choices)
        SELECT cycle_id, :receipt_hash, CAST(:choices AS json) FROM who
        RETURNING cycle_id, id
    ), counted AS (
        INSERT INTO turnout_count (cycle_id, hour, shard, votes)
        SELECT cycle_id, :hour, pg_backend_pid(), 1 FROM what
        ON CONFLICT (cycle_id, hour, shard) DO UPDATE SET votes = turnout_count.votes + 1
        RETURNING 1
    )
    SELECT EXISTS (SELECT 1 FROM voter) AS eligible, EXISTS (SELECT 1 FROM at_home) AS at_home,
        EXISTS (SELECT 1 FROM counted) AS recorded, (SELECT id FROM what) AS ballot_id
"""
# A voter identified earlier: their region (and school) is all the statement needs.
IDENTIFIED_VOTER = (
    "SELECT CAST(:region AS integer) AS region_id, CAST(:school AS integer) AS school_id"
)

_cast_statements: dict[str, sa.TextClause] = {}


def _cast_statement(voter_sql: str) -> sa.TextClause:
    """The cast statement for a voter source (built once: SQLAlchemy caches it compiled)."""
    statement = _cast_statements.get(voter_sql)
    if statement is None:
        statement = _cast_statements[voter_sql] = sa.text(_CAST_SQL.format(voter=voter_sql))
    return statement


def _cast_step_by_step(
    cycle: Cycle, voter: EligibleVoter, chosen: list[int], where: Where
) -> CastReceipt:
    """The same writes for SQLite (`make run`), where the state was checked just before."""
    code = new_receipt_code()
    values = _cast_values(cycle, voter.voter_key, chosen, where)
    slug = cycle.slug  # read before the commit expires the object
    try:
        db.session.execute(
            sa.insert(Participation).values(
                cycle_id=values["cycle"],
                voter_key=voter.voter_key,
                voted_on=values["day"],
                region_id=voter.region_id,
                voting_point_id=where.voting_point_id,
                assisted=where.assisted,
                channel=where.channel,
            )
        )
        ballot_id = db.session.scalar(
            sa.insert(Ballot)
            .values(cycle_id=values["cycle"], receipt_hash=receipt_hash(code), choices=chosen)
            .returning(Ballot.id)
        )
        statement = sqlite_insert(TurnoutCount).values(
            cycle_id=values["cycle"], hour=values["hour"], shard=turnout_shard(), votes=1
        )
        db.session.execute(
            statement.on_conflict_do_update(
                index_elements=["cycle_id", "hour", "shard"],
                set_={"votes": TurnoutCount.votes + 1},
            )
        )
        db.session.commit()
    except IntegrityError as e:
        db.session.rollback()
        raise _already_voted() from e
    _seal_if_batch_full(cycle, ballot_id)
    return CastReceipt(code=code, cycle_slug=slug)


def _seal_if_batch_full(cycle: Cycle, ballot_id: int) -> None:
    """The vote is committed: now, in a transaction of its own, seal a completed batch.

    A failure here must not cost the voter their receipt (the vote is in, and a retry would only
    hear "already voted"): it is logged, and the delay rule seals the batch later.
    """
    try:
        seal_after_cast(cycle, ballot_id)
    except Exception:
        log.exception("Sealing after a cast failed; the board's delay rule will seal later")
        db.session.rollback()


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
