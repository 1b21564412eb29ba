"""Live turnout for coordinators: who has voted, counted (never what, unless the cycle shows
running totals)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import render_template
from flask_babel import lazy_gettext as _l

from opdigital.attempt_limits import REPEATED_FAILURES
from opdigital.coordination import bp
from opdigital.coordination.common import load_cycle
from opdigital.cycles.models import Cycle
from opdigital.extensions import db
from opdigital.proposals.models import Proposal
from opdigital.regions.models import Region
from opdigital.voting.limits import failures_under_watch
from opdigital.voting.models import Channel, VotingPoint
from opdigital.voting.services import voting_window
from opdigital.voting.turnout import PointCounts, running_totals, turnout


@dataclass(frozen=True)
class Row:
    label: str | None  # None: "no region" / "not at a voting point"
    votes: int
    eligible: int | None = None

    @property
    def percent(self) -> float | None:
        return 100 * self.votes / self.eligible if self.eligible else None


def _eligible_by_region(cycle: Cycle) -> tuple[int | None, dict[int | None, int]]:
    try:
        from opdigital.registry.services import registry_counts
    except ImportError:  # the registry may not be installed in every deployment
        return None, {}
    counts = registry_counts(cycle)
    return counts.eligible, {(r.id if r else None): n for r, n in counts.by_region}


def _region_rows(cycle: Cycle, by_region: dict[int | None, int], eligible: dict) -> list[Row]:
    names = {r.id: r.name for r in db.session.scalars(sa.select(Region))}
    keys = set(by_region) | set(eligible)
    rows = [Row(names.get(k) if k else None, by_region.get(k, 0), eligible.get(k)) for k in keys]
    return sorted(rows, key=lambda r: (r.label is None, r.label or ""))


@dataclass(frozen=True)
class PointRow:
    label: str | None  # None: not at a voting point
    votes: int
    assisted: int
    on_paper: int


def _point_rows(points: dict[int | None, PointCounts]) -> list[PointRow]:
    ids = [k for k in points if k is not None]
    query = sa.select(VotingPoint.id, VotingPoint.name).where(VotingPoint.id.in_(ids))
    names = {point_id: name for point_id, name in db.session.execute(query)}
    rows = [
        PointRow(names.get(k, f"#{k}") if k else None, c.votes, c.assisted, c.on_paper)
        for k, c in points.items()
    ]
    return sorted(rows, key=lambda r: (r.label is None, -r.votes, r.label or ""))


# Every channel a vote can come by, in this order on the screen (with its zeros).
CHANNEL_LABELS = {
    Channel.WEB: _l("Web (also kiosks and poll workers)"),
    Channel.API: _l("API"),
    Channel.PAPER: _l("Paper"),
    Channel.VOICE: _l("Phone call"),
    Channel.TEXT: _l("Text message"),
}


def _channel_rows(by_channel: dict[str, int]) -> list[Row]:
    return [
        Row(str(label), by_channel.get(channel.value, 0))
        for channel, label in CHANNEL_LABELS.items()
    ]


def _running_rows(cycle: Cycle) -> list[tuple[Proposal, int]]:
    totals = running_totals(cycle)
    proposals = db.session.scalars(
        sa.select(Proposal).where(Proposal.cycle_id == cycle.id, Proposal.id.in_(list(totals)))
    )
    return sorted(((p, totals[p.id]) for p in proposals), key=lambda row: (-row[1], row[0].code))


@bp.get("/cycles/<slug>/turnout")
def turnout_page(slug: str):
    """Votes so far: in all, per region (against the roll), per hour, per voting point (with
    the assisted and paper ones) and per channel (web, API, paper, phone, text); and
    how many credentials are under repeated failed identification (counts, never which)."""
    cycle = load_cycle(slug)
    counts = turnout(cycle)
    eligible_total, eligible = _eligible_by_region(cycle)
    return render_template(
        "coordination/turnout.html",
        cycle=cycle,
        window=voting_window(cycle),
        total=Row(None, counts.total, eligible_total),
        regions=_region_rows(cycle, counts.by_region, eligible),
        hours=counts.by_hour,
        peak=max((n for _, n in counts.by_hour), default=0),
        points=_point_rows(counts.points),
        channels=_channel_rows(counts.by_channel),
        running=_running_rows(cycle) if cycle.show_running_totals else None,
        failures=failures_under_watch(),
        repeated_failures=REPEATED_FAILURES,
    )
