"""The dialogue's port on the app: the web's own eligibility, limits, ballot rules and cast.

`PhoneServices` is what `dialogue.answer` calls for one webhook. Nothing here is phone-specific
policy: a phone voter is identified by `identify_with_limits` and `find_eligible_voter`, checked
by `has_voted`, and casts through `cast_ballot`, exactly as on the web (voting/views), with the
caller (a keyed hash of their number) as the client whose attempts are counted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from flask import current_app

from opdigital.counting import ballot_rules as rules
from opdigital.cycles.models import Cycle, CycleKind
from opdigital.cycles.queries import IS_PUBLIC, public_cycle
from opdigital.cycles.states import CycleState
from opdigital.errors import AlreadyVoted, NotEligible, NotFound, RateLimited, VotingClosed
from opdigital.extensions import db
from opdigital.phone.dialogue import CycleOption, Outcome, PhoneBallot, Result, Voter, Work
from opdigital.proposals.models import Proposal
from opdigital.regions.models import Region
from opdigital.registry.credentials import Credentials, EligibleVoter
from opdigital.registry.keys import voter_key
from opdigital.registry.models import is_delegate_scope
from opdigital.registry.services import find_eligible_voter
from opdigital.voting.identification import count_client_request, identify_with_limits
from opdigital.voting.limits import Client
from opdigital.voting.models import Channel
from opdigital.voting.services import (
    BallotRefused,
    cast_ballot,
    frozen_ballot,
    has_voted,
    voter_home,
    voting_window,
)


def takes_phone_votes(cycle: Cycle) -> bool:
    """True for cycles a caller can identify in by keypad: a título and a birth date. OPCA
    (school and enrolment) and delegate forums (a printed code) vote on the web and on paper."""
    return cycle.kind != CycleKind.OPCA.value and not is_delegate_scope(cycle.registry_scope)


def phone_cycles(channel: Channel) -> list[Cycle]:
    """Cycles open for a vote now on this phone channel, in a stable order."""
    switch = Cycle.phone_voice if channel == Channel.VOICE else Cycle.phone_text
    cycles = db.session.scalars(
        sa.select(Cycle)
        .where(IS_PUBLIC, Cycle.state == CycleState.VOTING.value, switch.is_(True))
        .order_by(Cycle.edition.desc(), Cycle.title, Cycle.id)
    )
    return [c for c in cycles if takes_phone_votes(c) and voting_window(c).is_open]


@dataclass(frozen=True)
class _Readable:
    """A frozen ballot's works in the line's fixed order, with their titles and regions."""

    works: tuple[Work, ...]


# (cycle id, freeze instant) -> works: a frozen ballot never changes (as voting/services.py).
_readable: dict[tuple[int, datetime], _Readable] = {}


def phone_works(cycle: Cycle) -> tuple[Work, ...]:
    """Every work of the cycle's ballot, numbered in the line's order: by region, city-wide
    works last (the same order on every call, so printed lists and the web's phone page match;
    shuffling the ballot applies on screens only)."""
    key = (cycle.id, cycle.ballot_frozen_at) if cycle.ballot_frozen_at else None
    cached = _readable.get(key) if key else None
    if cached is None:
        projects = rules.ordered(frozen_ballot(cycle).projects)
        rows = db.session.execute(
            sa.select(Proposal.id, Proposal.title, Region.name)
            .outerjoin(Region, Region.id == Proposal.region_id)
            .where(Proposal.id.in_([p.id for p in projects]))
        )
        named = {pid: (title, region or "") for pid, title, region in rows}
        cached = _Readable(
            tuple(
                Work(n, p.id, named[p.id][0], p.cost_cents, p.region_id, named[p.id][1])
                for n, p in enumerate(projects, 1)
                if p.id in named
            )
        )
        if key:
            _readable[key] = cached
    return cached.works


def forget_phone_works() -> None:
    """Empty the per-process cache (tests reuse ids and freeze instants)."""
    _readable.clear()


class PhoneServices:
    """The services one webhook's dialogue step may use.

    `client`: the caller as the limits count them; `channel`: voice or text, for the cycles
    offered and the participation recorded; `texter`: sends the receipt code to the caller by
    text message (None: not offered, e.g. a withheld number or no text number configured).
    """

    def __init__(
        self,
        channel: Channel,
        client: Client,
        texter: Callable[[str], bool] | None = None,
    ):
        self.channel = channel
        self.client = client
        self.texter = texter

    def cycles(self) -> list[CycleOption]:
        return [CycleOption(c.slug, c.title) for c in phone_cycles(self.channel)]

    def titulo_key(self, digits: str) -> str:
        return voter_key(digits, current_app.config["VOTER_KEY_PEPPER"])

    def _cycle(self, slug: str) -> Cycle | None:
        try:
            cycle = public_cycle(slug)
        except NotFound:
            return None
        switched_on = cycle.phone_voice if self.channel == Channel.VOICE else cycle.phone_text
        if not (switched_on and takes_phone_votes(cycle) and voting_window(cycle).is_open):
            return None
        return cycle

    def identify(self, slug: str, titulo_key: str, birth_date: date) -> Result:
        cycle = self._cycle(slug)
        if cycle is None:
            return Result(Outcome.CLOSED)
        credentials = Credentials.for_titulo_key(titulo_key, birth_date)
        try:
            voter = identify_with_limits(
                self.client,
                credentials,
                lambda: find_eligible_voter(cycle, credentials),
                count_request=True,
            )
        except RateLimited as refused:
            return _rate_limited(refused)
        except NotEligible:
            return Result(Outcome.NOT_ELIGIBLE)
        if has_voted(cycle, voter):
            return Result(Outcome.ALREADY_VOTED)
        return Result(
            Outcome.IDENTIFIED, voter=Voter(voter.voter_key, voter.region_id, voter.school_id)
        )

    def ballot(self, slug: str, voter: Voter) -> PhoneBallot:
        cycle = public_cycle(slug)
        ballot = frozen_ballot(cycle)
        home = voter_home(ballot.rule, _eligible(voter))
        reachable = {p.id for p in rules.at_home(ballot.rule, ballot.projects, home)}
        works = tuple(w for w in phone_works(cycle) if w.proposal_id in reachable)
        return PhoneBallot(ballot.rule, ballot.projects, works, home)

    def cast(self, slug: str, voter: Voter, choices: Sequence[int]) -> Result:
        cycle = self._cycle(slug)
        if cycle is None:
            return Result(Outcome.CLOSED)
        try:
            count_client_request(self.client)
            receipt = cast_ballot(cycle, _eligible(voter), list(choices), channel=self.channel)
        except RateLimited as refused:
            return _rate_limited(refused)
        except AlreadyVoted:
            return Result(Outcome.ALREADY_VOTED)
        except VotingClosed:
            return Result(Outcome.CLOSED)
        except BallotRefused as refused:
            return Result(Outcome.REFUSED, problems=tuple(refused.problems))
        return Result(Outcome.CAST, receipt=receipt.code)

    def can_text_receipt(self) -> bool:
        return self.texter is not None

    def text_receipt(self, code: str) -> bool:
        return self.texter is not None and self.texter(code)


def _eligible(voter: Voter) -> EligibleVoter:
    return EligibleVoter(voter.voter_key, voter.region_id, voter.school_id)


def _rate_limited(refused: RateLimited) -> Result:
    minutes = max(1, -(-refused.retry_after // 60))
    return Result(Outcome.RATE_LIMITED, minutes=minutes)
