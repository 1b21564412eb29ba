"""A cycle's anonymised ballots as a Pabulib `.pb` file.

The app side of the format: this module reads the database, the pure `counting.pabulib.write_pb`
writes the file.

Anonymised: no receipt hash, no ballot id, no time. Voters are numbered 1..n in a random order
(not the order the ballots were cast or stored), so a voter id says nothing about when or where
someone voted. Costs and the budget are written in reais (exact decimals); each proposal's
region is its `district`, as Pabulib does for district-level projects.

`date_begin` is the first day of the voting phase; `date_end` the day voting actually stopped:
the close recorded in the audit log, or the phase's planned end when that came first (no ballot
is accepted after it) or the vote was never closed.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from fractions import Fraction
from typing import TextIO

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from opdigital.audit.models import AuditEntry
from opdigital.board.models import BoardEntry
from opdigital.clock import to_city
from opdigital.counting.instance import Instance, Project
from opdigital.counting.pabulib import write_pb
from opdigital.counting.rules import PABULIB_RULE_NAMES
from opdigital.cycles.models import Cycle, Phase, PhaseKind
from opdigital.cycles.states import CycleState
from opdigital.errors import NotFound, ValidationFailed
from opdigital.extensions import db
from opdigital.proposals.models import BALLOT_STATUSES, Proposal
from opdigital.regions.models import Region
from opdigital.voting.models import Ballot


def _reais(cents: int) -> Fraction:
    return Fraction(cents, 100)


def closed_at(cycle: Cycle) -> datetime | None:
    """When the vote was closed: the audit log's transition of the cycle to "closed", or None.

    The log is append-only and written in the transition's own transaction. Its entries name a
    cycle by slug, which is fixed from the ballot's freeze on, long before any close.
    """
    entries = db.session.execute(
        sa.select(AuditEntry.at, AuditEntry.after)
        .where(
            AuditEntry.action == "cycle.transition",
            AuditEntry.object_type == "cycle",
            AuditEntry.object_id == cycle.slug,
        )
        .order_by(AuditEntry.id)
    )
    closes = [at for at, after in entries if (after or {}).get("state") == CycleState.CLOSED]
    return closes[0] if closes else None


def _voting_stopped_at(cycle: Cycle, voting: Phase) -> datetime:
    """The instant after which no ballot was accepted (an excluded instant, like `ends_at`)."""
    closed = closed_at(cycle)
    return voting.ends_at if closed is None else min(closed, voting.ends_at)


def _meta(cycle: Cycle, num_projects: int, num_votes: int) -> dict[str, object]:
    meta: dict[str, object] = {
        "description": cycle.title,
        "country": "Brazil",
        "unit": "Belo Horizonte",
        "instance": cycle.edition,
        "num_projects": num_projects,
        "num_votes": num_votes,
        "budget": "",  # filled by the writer
        "vote_type": "approval",
        "rule": PABULIB_RULE_NAMES.get(cycle.counting_rule or "", cycle.counting_rule or ""),
    }
    voting = cycle.phase_of_kind(PhaseKind.VOTING.value)
    if voting is not None:
        # Voting stops at an excluded instant: the last day is the one just before it.
        stopped = _voting_stopped_at(cycle, voting)
        meta["date_begin"] = to_city(voting.starts_at).strftime("%d.%m.%Y")
        meta["date_end"] = to_city(stopped - timedelta(microseconds=1)).strftime("%d.%m.%Y")
    meta |= {
        "edition": cycle.edition,
        "language": "pt",
        "currency": "BRL",
        "cycle": cycle.slug,
        "comment": "Anonymised: voter ids are sequential numbers in random order.",
    }
    return meta


def export_cycle(cycle_slug: str, out: TextIO, rng: random.Random | None = None) -> int:
    """Write the cycle's `.pb` file to `out`; returns the number of ballots written.

    `rng` exists for tests only; by default the order comes from the system's secure source.
    """
    cycle = db.session.scalar(sa.select(Cycle).where(Cycle.slug == cycle_slug))
    if cycle is None:
        raise NotFound(_l("No cycle with this identifier."), code="unknown_cycle")
    rows = db.session.execute(
        sa.select(Proposal, Region.name)
        .outerjoin(Region, Region.id == Proposal.region_id)
        .where(Proposal.cycle_id == cycle.id, Proposal.status.in_(BALLOT_STATUSES))
        .order_by(Proposal.id)
    ).all()
    projects = [Project(p.id, _reais(p.cost_cents), region) for p, region in rows]
    fields = {p.id: {"name": p.title} for p, _ in rows}
    known = set(fields)
    # Every accepted ballot: those sealed onto the board and those still waiting to be.
    sealed = sa.select(BoardEntry.choices).where(BoardEntry.cycle_id == cycle.id)
    waiting = sa.select(Ballot.choices).where(Ballot.cycle_id == cycle.id)
    ballots = [tuple(choices) for choices in db.session.scalars(sealed)]
    ballots += [tuple(choices) for choices in db.session.scalars(waiting)]
    for choices in ballots:
        if not known.issuperset(choices):
            raise ValidationFailed(
                _l("A ballot of this cycle names a proposal that is not on its ballot."),
                code="ballot_unknown_proposal",
            )
    # Random order, so that a voter's number does not tell when they voted.
    (rng or random.SystemRandom()).shuffle(ballots)
    instance = Instance(tuple(projects), _reais(cycle.total_budget_cents))
    write_pb(out, instance, ballots, _meta(cycle, len(projects), len(ballots)), fields)
    return len(ballots)
