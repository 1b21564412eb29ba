"""Turnout for coordinators (who voted, counted) and running totals (what, only if allowed)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from opdigital.cycles.models import Cycle
from opdigital.extensions import db
from opdigital.voting.models import Ballot, Participation, TurnoutCount


@dataclass(frozen=True)
class PointCounts:
    """Votes at one voting point (or elsewhere): in all, of which a poll worker identified the
    voter (assisted), of which on a paper ballot. Never who assisted whom, never what."""

    votes: int = 0
    assisted: int = 0
    on_paper: int = 0


@dataclass(frozen=True)
class Turnout:
    total: int
    by_region: dict[int | None, int]
    by_voting_point: dict[int | None, int]
    by_hour: list[tuple[datetime, int]]
    # The same votes per voting point, with the assisted and paper ones (None: not at a point).
    points: dict[int | None, PointCounts] = field(default_factory=dict)
    # The same votes per channel (`Channel` value -> votes; channels without a vote left out).
    by_channel: dict[str, int] = field(default_factory=dict)


def turnout(cycle: Cycle) -> Turnout:
    """Votes so far: in all, per region of residence, per voting point, per hour, per channel."""
    by_region = _count_by(Participation.region_id, cycle)
    by_channel = _count_by(Participation.channel, cycle)
    points = _point_counts(Participation.cycle_id == cycle.id)
    by_point = {point_id: counts.votes for point_id, counts in points.items()}
    hours = db.session.execute(
        sa.select(TurnoutCount.hour, sa.func.sum(TurnoutCount.votes))
        .where(TurnoutCount.cycle_id == cycle.id)
        .group_by(TurnoutCount.hour)
        .order_by(TurnoutCount.hour)
    )
    return Turnout(
        total=sum(by_region.values()),
        by_region=by_region,
        by_voting_point=by_point,
        by_hour=[(hour, int(votes)) for hour, votes in hours],
        points=points,
        by_channel=by_channel,
    )


def point_turnout(cycle_id: int, voting_point_id: int) -> PointCounts:
    """Votes at one voting point in one cycle (the poll worker's dashboard)."""
    counts = _point_counts(
        Participation.cycle_id == cycle_id, Participation.voting_point_id == voting_point_id
    )
    return counts.get(voting_point_id, PointCounts())


def _point_counts(*conditions) -> dict[int | None, PointCounts]:
    """Per voting point: votes, assisted ones, paper ones (one query)."""
    rows = db.session.execute(
        sa.select(
            Participation.voting_point_id,
            sa.func.count(),
            sa.func.count().filter(Participation.assisted.is_(True)),
            sa.func.count().filter(Participation.on_paper.is_(True)),
        )
        .where(*conditions)
        .group_by(Participation.voting_point_id)
    )
    return {
        point_id: PointCounts(int(votes), int(assisted), int(paper))
        for point_id, votes, assisted, paper in rows
    }


def _count_by(column, cycle: Cycle) -> dict:
    rows = db.session.execute(
        sa.select(column, sa.func.count())
        .select_from(Participation)
        .where(Participation.cycle_id == cycle.id)
        .group_by(column)
    )
    return {key: int(n) for key, n in rows}


def running_totals(cycle: Cycle) -> Counter[int]:
    """Votes per proposal id so far. Callers show it only when the cycle allows it."""
    if db.session.get_bind().dialect.name == "postgresql":
        rows = db.session.execute(
            sa.text(
                "SELECT choice::bigint, count(*) FROM ballot, "
                "json_array_elements_text(ballot.choices) AS choice "
                "WHERE ballot.cycle_id = :cycle GROUP BY choice"
            ),
            {"cycle": cycle.id},
        )
        return Counter({int(choice): int(n) for choice, n in rows})
    totals: Counter[int] = Counter()
    for choices in db.session.scalars(sa.select(Ballot.choices).where(Ballot.cycle_id == cycle.id)):
        totals.update(int(c) for c in choices)
    return totals
