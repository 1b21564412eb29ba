"""What the map pages list: a cycle's proposals, a published result's works, every selected work.

Each page shows the same items twice, on the map and in the list beside it, so both take them
from here: `MapItem`s in list order, the placed ones numbered 1, 2, 3... (the number on the map
is the number in the list). A bad filter value in the address is refused with a clear message
(400); the works map reads its filters as the "Obras do OP" list does (works/catalogue.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from opdigital.cycles.models import Cycle
from opdigital.cycles.states import CycleState
from opdigital.errors import DomainError
from opdigital.extensions import db
from opdigital.proposals.models import Proposal, ProposalStatus
from opdigital.proposals.queries import public_proposals
from opdigital.regions.models import Region
from opdigital.tally.models import Tally
from opdigital.tally.results import build_results
from opdigital.works.catalogue import Work, WorkFilter, find_works, work_region

# While the ballot is frozen and during the vote, a cycle's map shows the ballot unless asked
# for more: what a voter wants to see on the way to vote.
BALLOT_STATES = frozenset({CycleState.BALLOT_FROZEN, CycleState.VOTING, CycleState.CLOSED})
ALL = "todas"  # the filter value that asks for every status

# The results map's filter: the works the vote chose, or the others.
SELECTED = ProposalStatus.SELECTED.value
NOT_SELECTED = ProposalStatus.NOT_SELECTED.value


@dataclass(frozen=True)
class MapItem:
    """One proposal or work of a map page; `number` is its point on the map, None while it has
    no location. On the results map, `votes` and `selected` come from the published result; on
    the works map, `work` has the figures of the "Obras do OP" list."""

    proposal: Proposal
    number: int | None
    votes: int | None = None
    selected: bool | None = None
    work: Work | None = None  # on the works map: the work's execution figures

    @property
    def region(self) -> Region | None:
        """Its region, or its school's (an OPCA proposal belongs to its school's region)."""
        return work_region(self.proposal)


def numbered(rows: Iterable[tuple[Proposal, dict]]) -> list[MapItem]:
    """Items of (proposal, MapItem fields) in the given order, the located ones numbered from 1
    in that order."""
    items, number = [], 0
    for proposal, fields in rows:
        if proposal.has_location:
            number += 1
        items.append(MapItem(proposal, number if proposal.has_location else None, **fields))
    return items


def placed(items: Iterable[MapItem]) -> list[MapItem]:
    """The items on the map (those with a number)."""
    return [item for item in items if item.number is not None]


# --- filters ---------------------------------------------------------------------------------


def _bad_filter(message) -> DomainError:
    return DomainError(message, code="invalid_filter", status=400)


def choice(value: str | None, allowed: Iterable[str], message) -> str | None:
    """`value` when it is one of `allowed`; None when absent; 400 with `message` otherwise."""
    if not value:
        return None
    if value not in set(allowed):
        raise _bad_filter(message)
    return value


def proposal_status(cycle: Cycle, value: str | None) -> str | None:
    """The status a cycle's map shows: the one asked for, ALL, or by default the ballot while
    the ballot is frozen or voted on (and everything otherwise). None means every status."""
    if not value:
        return ProposalStatus.ON_BALLOT.value if cycle.state in BALLOT_STATES else None
    if value == ALL:
        return None
    return choice(value, list(ProposalStatus), _l("There is no proposal status %(s)s.", s=value))


# --- the pages' items ------------------------------------------------------------------------


def in_region(proposal: Proposal, region: Region | None) -> bool:
    if region is None:
        return True
    school_region = proposal.school.region_id if proposal.school else None
    return region.id in (proposal.region_id, school_region)


def cycle_items(cycle: Cycle, region: Region | None, status: str | None) -> list[MapItem]:
    """A public cycle's proposals by code, of `region` and in `status` when given."""
    return numbered((p, {}) for p in public_proposals(cycle, region=region, status=status))


def result_items(
    cycle: Cycle, record: Tally, region: Region | None, outcome: str | None
) -> list[MapItem]:
    """The proposals of a published result, as its page groups them (most votes first in each
    group), with their votes and whether the vote selected them. `outcome` (SELECTED or
    NOT_SELECTED) keeps one kind only."""
    results = build_results(cycle, record)
    rows = [row for group in results.groups for row in group.proposals]
    # Every proposal of the result even if the page's groups miss one (they go by region).
    grouped = {row.proposal.id for row in rows}
    rows += [row for row in results.rows if row.proposal.id not in grouped]
    return numbered(
        (row.proposal, {"votes": row.votes, "selected": row.selected})
        for row in rows
        if in_region(row.proposal, region)
        and (outcome is None or row.selected == (outcome == SELECTED))
    )


def work_items(chosen: WorkFilter, today: date) -> list[MapItem]:
    """The works of the "Obras do OP" list that `chosen` selects (works/catalogue.py: one filter
    means the same on the list, its downloads and the map), in the list's order."""
    return numbered((work.proposal, {"work": work}) for work in find_works(chosen, today))


def regions_with_outline(region: Region | None = None) -> list[Region]:
    """The regions to draw: `region` alone when one is chosen, else every region with an
    outline, by name."""
    if region is not None:
        return [region] if region.boundary else []
    query = sa.select(Region).where(Region.boundary.is_not(None)).order_by(Region.name)
    return list(db.session.scalars(query))
