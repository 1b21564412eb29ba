"""A work's execution evidence as staff record it: the department in charge, the money committed
and spent, milestones and photos.

Only while the work's execution is followed (`can_update_execution`: a selected work whose
cycle's result is known). Every change is audited against the work (object: the proposal, so
its code finds every entry) and committed here, one change per call.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from opdigital.audit import services as audit
from opdigital.clock import today_in_city
from opdigital.cycles.budget import MAX_AMOUNT_CENTS
from opdigital.errors import Conflict, IllegalTransition, ValidationFailed
from opdigital.extensions import db
from opdigital.proposals.models import Proposal
from opdigital.proposals.services import can_update_execution
from opdigital.text_safety import has_control_characters
from opdigital.works import photos
from opdigital.works.models import WorkMilestone, WorkPhoto

DEPARTMENT_MAX = 160
MILESTONE_TITLE_MAX = 160
MILESTONE_NOTE_MAX = 2000
WEIGHT_MIN, WEIGHT_MAX = 1, 100
# Dates outside these years are typing mistakes (2206 for 2026), not plans.
FIRST_YEAR, LAST_YEAR = 1990, 2200


def ensure_followed(proposal: Proposal) -> None:
    if not can_update_execution(proposal):
        raise IllegalTransition(
            _l("Execution is followed only for selected works, once the result is known.")
        )


def _text(value: str, limit: int, *, multiline: bool = False) -> str:
    value = (value or "").strip()
    if len(value) > limit:
        raise ValidationFailed(_l("At most %(n)s characters.", n=limit), code="too_long")
    if has_control_characters(value, multiline=multiline):
        raise ValidationFailed(
            _l("The text sent contains a character that is not allowed."),
            code="invalid_character",
        )
    return value


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


# --- department and money ----------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    department: str
    committed_cents: int | None  # None: not reported yet
    spent_cents: int | None


_FIGURES = ("department", "committed_cents", "spent_cents")


def update_figures(proposal: Proposal, figures: Figures, actor) -> Proposal:
    ensure_followed(proposal)
    department = _text(figures.department, DEPARTMENT_MAX)
    for amount in (figures.committed_cents, figures.spent_cents):
        if amount is not None and not 0 <= amount <= MAX_AMOUNT_CENTS:
            raise ValidationFailed(
                _l("Enter an amount between zero and R$ 100 billion."), code="invalid_amount"
            )
    committed, spent = figures.committed_cents, figures.spent_cents
    if committed is not None and spent is not None and spent > committed:
        # A payment (pago) settles a commitment (empenho): it cannot exceed it.
        raise ValidationFailed(
            _l("The amount spent cannot be more than the amount committed."),
            code="spent_over_committed",
        )
    before = audit.snapshot(proposal, _FIGURES)
    proposal.department = department
    proposal.committed_cents = committed
    proposal.spent_cents = spent
    audit.record(
        actor, "work.figures", proposal, before=before, after=audit.snapshot(proposal, _FIGURES)
    )
    db.session.commit()
    return proposal


# --- milestones --------------------------------------------------------------------------------


@dataclass(frozen=True)
class MilestoneData:
    title: str
    planned_on: date
    done_on: date | None = None
    weight: int = 1
    note: str = ""


def _check_date(value: date | None) -> None:
    if value is not None and not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValidationFailed(
            _l("Enter a date between %(first)s and %(last)s.", first=FIRST_YEAR, last=LAST_YEAR),
            code="date_out_of_range",
        )


def _check_done_on(done_on: date | None) -> None:
    _check_date(done_on)
    if done_on is not None and done_on > today_in_city():
        raise ValidationFailed(
            _l("A milestone cannot be done on a day still to come."), code="done_in_future"
        )


def _checked(data: MilestoneData) -> MilestoneData:
    title = _text(data.title, MILESTONE_TITLE_MAX)
    if not title:
        raise ValidationFailed(_l("Name the milestone."), code="title_missing")
    if not WEIGHT_MIN <= data.weight <= WEIGHT_MAX:
        raise ValidationFailed(
            _l("The weight is a whole number from 1 to 100."), code="invalid_weight"
        )
    _check_date(data.planned_on)
    _check_done_on(data.done_on)
    note = _text(data.note, MILESTONE_NOTE_MAX, multiline=True)
    return MilestoneData(title, data.planned_on, data.done_on, data.weight, note)


def _milestone_dict(milestone: WorkMilestone) -> dict:
    return {
        "milestone_id": milestone.id,
        "title": milestone.title,
        "planned_on": _day(milestone.planned_on),
        "done_on": _day(milestone.done_on),
        "weight": milestone.weight,
        "note": milestone.note,
    }


def _fill(milestone: WorkMilestone, data: MilestoneData) -> None:
    milestone.title = data.title
    milestone.planned_on = data.planned_on
    milestone.done_on = data.done_on
    milestone.weight = data.weight
    milestone.note = data.note


def add_milestone(proposal: Proposal, data: MilestoneData, actor) -> WorkMilestone:
    ensure_followed(proposal)
    data = _checked(data)
    last = db.session.scalar(
        sa.select(sa.func.max(WorkMilestone.position)).where(
            WorkMilestone.proposal_id == proposal.id
        )
    )
    milestone = WorkMilestone(proposal=proposal, position=(last or 0) + 1)
    _fill(milestone, data)
    db.session.add(milestone)
    db.session.flush()
    audit.record(actor, "work.milestone_add", proposal, after=_milestone_dict(milestone))
    db.session.commit()
    return milestone


def update_milestone(milestone: WorkMilestone, data: MilestoneData, actor) -> WorkMilestone:
    ensure_followed(milestone.proposal)
    data = _checked(data)
    before = _milestone_dict(milestone)
    _fill(milestone, data)
    audit.record(
        actor,
        "work.milestone_edit",
        milestone.proposal,
        before=before,
        after=_milestone_dict(milestone),
    )
    db.session.commit()
    return milestone


def mark_done(milestone: WorkMilestone, done_on: date, actor) -> WorkMilestone:
    ensure_followed(milestone.proposal)
    _check_done_on(done_on)
    before = _milestone_dict(milestone)
    milestone.done_on = done_on
    audit.record(
        actor,
        "work.milestone_done",
        milestone.proposal,
        before=before,
        after=_milestone_dict(milestone),
    )
    db.session.commit()
    return milestone


def delete_milestone(milestone: WorkMilestone, actor) -> None:
    proposal = milestone.proposal
    ensure_followed(proposal)
    audit.record(actor, "work.milestone_delete", proposal, before=_milestone_dict(milestone))
    db.session.delete(milestone)
    db.session.commit()


# --- photos ------------------------------------------------------------------------------------


def upload_photo(
    proposal: Proposal,
    processed: photos.ProcessedPhoto,
    *,
    alt_text: str,
    caption: str = "",
    taken_on: date | None = None,
    actor,
) -> WorkPhoto:
    """A staff photo of the work, public at once (audited by `photos.add_photo`)."""
    ensure_followed(proposal)
    photo = photos.add_photo(
        proposal, processed, alt_text=alt_text, caption=caption, taken_on=taken_on, actor=actor
    )
    db.session.commit()
    return photo


def delete_photo(photo: WorkPhoto, actor) -> None:
    """Remove a staff photo (a report's photos go with their report's moderation)."""
    ensure_followed(photo.proposal)
    if photo.report_id is not None:
        raise Conflict(
            _l("This photo came with a Comforça report: moderate the report instead."),
            code="report_photo",
        )
    audit.record(
        actor,
        "work.photo_delete",
        photo.proposal,
        before={
            "photo_id": photo.id,
            "key": photo.key,
            "alt_text": photo.alt_text,
            "caption": photo.caption,
            "taken_on": _day(photo.taken_on),
        },
    )
    db.session.delete(photo)
    db.session.commit()
