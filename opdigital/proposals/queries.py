"""Reading proposals as citizens may see them: only those of public cycles (never drafts')."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from opdigital.cycles.models import Cycle
from opdigital.cycles.queries import IS_PUBLIC
from opdigital.errors import NotFound
from opdigital.extensions import db
from opdigital.proposals.models import Proposal
from opdigital.regions.models import Region, School


def public_proposal(code: str) -> Proposal:
    """The proposal with public code `code`, with its history; NotFound if it is unknown or its
    cycle is a draft (the same answer, so that drafts do not leak)."""
    proposal = db.session.scalar(
        sa.select(Proposal)
        .join(Cycle, Proposal.cycle_id == Cycle.id)
        .where(Proposal.code == code, IS_PUBLIC)
        .options(selectinload(Proposal.history))
    )
    if proposal is None:
        raise NotFound(
            _l("There is no public proposal with the code %(code)s.", code=code),
            code="proposal_not_found",
        )
    return proposal


def public_proposals(
    cycle: Cycle, *, region: Region | None = None, status: str | None = None
) -> list[Proposal]:
    """A public cycle's proposals by code, with region, school and history; optionally only
    those of `region` (a school's proposal belongs to its school's region even if no region was
    entered) or in `status`."""
    query = (
        sa.select(Proposal)
        .where(Proposal.cycle_id == cycle.id)
        .options(
            selectinload(Proposal.region),
            selectinload(Proposal.school),
            selectinload(Proposal.history),
        )
        .order_by(Proposal.code, Proposal.id)
    )
    if region is not None:
        in_region_schools = sa.select(School.id).where(School.region_id == region.id)
        query = query.where(
            sa.or_(Proposal.region_id == region.id, Proposal.school_id.in_(in_region_schools))
        )
    if status is not None:
        query = query.where(Proposal.status == status)
    return list(db.session.scalars(query))
