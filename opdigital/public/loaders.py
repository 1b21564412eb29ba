"""Queries only the public pages make (home, proposals by region, selected works).

Finding a public cycle, proposal, region or school is shared with the API: `cycles.queries`,
`proposals.queries`, `regions.queries` (pages show their NotFound as a 404, `web.page_or_404`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from opdigital.cycles.models import Cycle, Event, Phase, RegionBudget
from opdigital.cycles.queries import IS_PUBLIC, public_cycles
from opdigital.extensions import db
from opdigital.proposals.models import Proposal, ProposalStatus
from opdigital.proposals.services import RESULTS_KNOWN_STATES
from opdigital.regions.models import Region

# Once a result exists, the selected works and their execution are shown on the cycle page.
RESULT_STATES = RESULTS_KNOWN_STATES


def region_budgets(cycle: Cycle) -> list[RegionBudget]:
    """The cycle's budget per region, in region-name order."""
    return sorted(cycle.region_budgets, key=lambda rb: rb.region.name)


# --- home ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CycleSummary:
    """A cycle as the home page shows it: what is under way, or what comes next."""

    cycle: Cycle
    current: list[Phase]
    next_phase: Phase | None

    @property
    def happening_now(self) -> bool:
        return bool(self.current)


def home_summaries(at: datetime) -> list[CycleSummary]:
    """Every public cycle, with its phases under way at `at` or else its next phase."""
    summaries = []
    for cycle in public_cycles(selectinload(Cycle.phases)):
        current = [p for p in cycle.phases if p.is_open(at)]
        upcoming = sorted((p for p in cycle.phases if p.starts_at > at), key=lambda p: p.starts_at)
        summaries.append(CycleSummary(cycle, current, upcoming[0] if upcoming else None))
    return summaries


def upcoming_events(at: datetime, limit: int = 6) -> list[Event]:
    """The next events of public cycles that have not ended yet, soonest first."""
    return list(
        db.session.scalars(
            sa.select(Event)
            .join(Cycle, Event.cycle_id == Cycle.id)
            .where(IS_PUBLIC, Event.ends_at > at)
            .order_by(Event.starts_at, Event.id)
            .limit(limit)
        )
    )


# --- proposals -----------------------------------------------------------------------------


@dataclass
class RegionGroup:
    """Proposals of one region (or of the whole city when `region` is None)."""

    region: Region | None
    budget_cents: int | None
    proposals: list[Proposal] = field(default_factory=list)


def proposals_by_region(cycle: Cycle, region: Region | None = None) -> list[RegionGroup]:
    """The cycle's proposals grouped by region (by name), city-wide ones last."""
    query = (
        sa.select(Proposal)
        .where(Proposal.cycle_id == cycle.id)
        .options(selectinload(Proposal.region), selectinload(Proposal.school))
        .order_by(Proposal.code)
    )
    if region is not None:
        query = query.where(Proposal.region_id == region.id)
    budgets = {rb.region_id: rb.amount_cents for rb in cycle.region_budgets}
    groups: dict[int | None, RegionGroup] = {}
    for proposal in db.session.scalars(query):
        group = groups.get(proposal.region_id)
        if group is None:
            group = groups[proposal.region_id] = RegionGroup(
                proposal.region, budgets.get(proposal.region_id)
            )
        group.proposals.append(proposal)
    return sorted(
        groups.values(), key=lambda g: (g.region is None, g.region.name if g.region else "")
    )


def selected_works(cycle: Cycle) -> list[Proposal]:
    """Works chosen by the vote, to follow their execution."""
    return list(
        db.session.scalars(
            sa.select(Proposal)
            .where(
                Proposal.cycle_id == cycle.id,
                Proposal.status == ProposalStatus.SELECTED.value,
            )
            .options(selectinload(Proposal.region))
            .order_by(Proposal.code)
        )
    )
