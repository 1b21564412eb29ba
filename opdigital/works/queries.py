"""Reading a work's execution evidence: its milestones, its photos, its progress and money.

Shared by the public work page, the staff screens and the API; the figures themselves come from
works/progress.py. "Published" photos are the staff's and those of approved Comforça reports.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload, undefer

from opdigital.clock import today_in_city
from opdigital.cycles.models import Cycle
from opdigital.errors import NotFound
from opdigital.extensions import db
from opdigital.proposals.models import Proposal, ProposalStatus
from opdigital.proposals.services import RESULTS_KNOWN_STATES
from opdigital.works.models import MonitoringReport, ReportStatus, WorkMilestone, WorkPhoto
from opdigital.works.progress import Money, Progress, Step, is_late, money, progress

# A photo anyone may see: uploaded by staff, or sent with a report a coordinator approved.
PHOTO_IS_PUBLISHED = sa.or_(
    WorkPhoto.report_id.is_(None),
    WorkPhoto.report.has(MonitoringReport.status == ReportStatus.APPROVED.value),
)
# ... of a work: a selected proposal of a cycle whose result is known (and so public), as
# listed on "Obras do OP" and followed by staff (`can_update_execution`).
WORK_IS_PUBLIC = sa.and_(
    Proposal.status == ProposalStatus.SELECTED.value,
    Cycle.state.in_([s.value for s in RESULTS_KNOWN_STATES]),
)


@dataclass(frozen=True)
class MilestoneView:
    milestone: WorkMilestone
    late: bool


@dataclass(frozen=True)
class WorkEvidence:
    """What the work's page and the API show of its execution."""

    proposal: Proposal
    milestones: list[MilestoneView]  # by planned date
    photos: list[WorkPhoto]  # published only, oldest first
    progress: Progress
    money: Money
    today: date


def step(milestone: WorkMilestone) -> Step:
    return Step(planned_on=milestone.planned_on, done_on=milestone.done_on, weight=milestone.weight)


def milestones_of(proposal: Proposal) -> list[WorkMilestone]:
    """The work's milestones in the order of the timeline: planned date, then as entered."""
    return list(
        db.session.scalars(
            sa.select(WorkMilestone)
            .where(WorkMilestone.proposal_id == proposal.id)
            .order_by(WorkMilestone.planned_on, WorkMilestone.position, WorkMilestone.id)
        )
    )


def milestone_of(proposal: Proposal, milestone_id: int) -> WorkMilestone:
    milestone = db.session.scalar(
        sa.select(WorkMilestone).where(
            WorkMilestone.id == milestone_id, WorkMilestone.proposal_id == proposal.id
        )
    )
    if milestone is None:
        raise NotFound(_l("This work has no such milestone."), code="milestone_not_found")
    return milestone


def published_photos_of(proposal: Proposal) -> list[WorkPhoto]:
    return list(
        db.session.scalars(
            sa.select(WorkPhoto)
            .where(WorkPhoto.proposal_id == proposal.id, PHOTO_IS_PUBLISHED)
            .order_by(WorkPhoto.created_at, WorkPhoto.id)
        )
    )


def staff_photos_of(proposal: Proposal) -> list[WorkPhoto]:
    """The photos staff uploaded (a report's photos are moderated with their report)."""
    return list(
        db.session.scalars(
            sa.select(WorkPhoto)
            .where(WorkPhoto.proposal_id == proposal.id, WorkPhoto.report_id.is_(None))
            .order_by(WorkPhoto.created_at, WorkPhoto.id)
        )
    )


def staff_photo_of(proposal: Proposal, key: str) -> WorkPhoto:
    photo = db.session.scalar(
        sa.select(WorkPhoto).where(WorkPhoto.key == key, WorkPhoto.proposal_id == proposal.id)
    )
    if photo is None:
        raise NotFound(_l("This work has no such photo."), code="photo_not_found")
    return photo


def photo_file(key: str, *, thumbnail: bool, published_only: bool) -> WorkPhoto | None:
    """The photo with this key with its image (or thumbnail) loaded; None when unknown, or
    unpublished and `published_only`. Its `published` is read by `is_published`."""
    column = WorkPhoto.thumbnail if thumbnail else WorkPhoto.image
    query = (
        sa.select(WorkPhoto)
        .join(Proposal, WorkPhoto.proposal_id == Proposal.id)
        .join(Cycle, Proposal.cycle_id == Cycle.id)
        .where(WorkPhoto.key == key)
        .options(undefer(column))
    )
    if published_only:
        query = query.where(PHOTO_IS_PUBLISHED, WORK_IS_PUBLIC)
    return db.session.scalar(query)


def is_published(photo: WorkPhoto) -> bool:
    """Whether anyone may see this photo (the same rule as PHOTO_IS_PUBLISHED, in Python)."""
    report_ok = photo.report is None or photo.report.status == ReportStatus.APPROVED
    return report_ok and is_work(photo.proposal)


def is_work(proposal: Proposal) -> bool:
    """A selected proposal of a cycle whose result is known (WORK_IS_PUBLIC, in Python)."""
    return (
        proposal.status == ProposalStatus.SELECTED and proposal.cycle.state in RESULTS_KNOWN_STATES
    )


def public_work(code: str) -> Proposal:
    """The work with this code (WORK_IS_PUBLIC); NotFound otherwise: a proposal not selected,
    or of a cycle whose result is not known yet, is no work to follow."""
    proposal = db.session.scalar(
        sa.select(Proposal)
        .join(Cycle, Proposal.cycle_id == Cycle.id)
        .where(Proposal.code == code, WORK_IS_PUBLIC)
        .options(selectinload(Proposal.region), selectinload(Proposal.cycle))
    )
    if proposal is None:
        raise NotFound(
            _l("There is no public work with the code %(code)s.", code=code),
            code="work_not_found",
        )
    return proposal


def work_money(proposal: Proposal) -> Money:
    return money(proposal.cost_cents, proposal.committed_cents, proposal.spent_cents)


def work_evidence(proposal: Proposal, today: date | None = None) -> WorkEvidence:
    """The execution evidence of a work, with its figures on `today` (the city's by default)."""
    today = today or today_in_city()
    status = proposal.execution_status
    milestones = milestones_of(proposal)
    return WorkEvidence(
        proposal=proposal,
        milestones=[MilestoneView(m, is_late(step(m), today, status)) for m in milestones],
        photos=published_photos_of(proposal),
        progress=progress([step(m) for m in milestones], today, status),
        money=work_money(proposal),
        today=today,
    )


def progress_of_works(proposals: Iterable[Proposal], today: date | None = None) -> dict:
    """Proposal id -> Progress for many works, with one query (lists, summaries, feeds)."""
    proposals = list(proposals)
    today = today or today_in_city()
    steps: dict[int, list[Step]] = {p.id: [] for p in proposals}
    if proposals:
        rows = db.session.execute(
            sa.select(
                WorkMilestone.proposal_id,
                WorkMilestone.planned_on,
                WorkMilestone.done_on,
                WorkMilestone.weight,
            ).where(WorkMilestone.proposal_id.in_(list(steps)))
        )
        for proposal_id, planned_on, done_on, weight in rows:
            steps[proposal_id].append(Step(planned_on, done_on, weight))
    return {p.id: progress(steps[p.id], today, p.execution_status) for p in proposals}
