"""The Comforça's monitoring reports: a member writes on a work of their region, a coordinator
approves or rejects it, and approved reports appear on the work's public page.

A monitor (`Role.MONITOR`) is bound to one region (`User.region_id`): they see the works the
programme chose there, in every cycle, and may report on those only. A report is public once
approved, signed with the author's role and the work's region, and with their name only if they
ticked the box for it; a rejected one is never public, and its note goes back to its author.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from opdigital.accounts.models import Role, User
from opdigital.audit import services as audit
from opdigital.clock import now, today_in_city
from opdigital.cycles.models import Cycle
from opdigital.cycles.queries import IS_PUBLIC
from opdigital.errors import DomainError, IllegalTransition, NotFound, ValidationFailed
from opdigital.extensions import db
from opdigital.proposals.models import Proposal, ProposalStatus
from opdigital.regions.models import Region, School
from opdigital.text_safety import has_control_characters
from opdigital.works.models import MonitoringReport, ReportStatus, WorkMilestone
from opdigital.works.photos import ProcessedPhoto, add_photo
from opdigital.works.progress import Progress, Step, progress

# A report says what the member saw in a few paragraphs; a rejection says why in a few lines.
BODY_MIN = 20
BODY_MAX = 5000
NOTE_MAX = 1000
# Photos sent with one report (each re-encoded and stored in the database).
MAX_PHOTOS = 3


@dataclass(frozen=True)
class RegionWork:
    """A work of the monitor's region as their page lists it."""

    proposal: Proposal
    progress: Progress


# --- the region of a work ------------------------------------------------------------------


def _in_region(region_id: int):
    """The condition "this proposal is in the region": its own region, or its school's (as the
    public lists count a school's proposal)."""
    schools = sa.select(School.id).where(School.region_id == region_id)
    return sa.or_(Proposal.region_id == region_id, Proposal.school_id.in_(schools))


def work_region(proposal: Proposal) -> Region | None:
    """The region a work belongs to: its own, or its school's."""
    if proposal.region is not None:
        return proposal.region
    return proposal.school.region if proposal.school is not None else None


def _monitor_region(monitor: User) -> int:
    """The monitor's region; anyone else (or a disabled account) may not report."""
    if not monitor.has_role(Role.MONITOR) or not monitor.active or monitor.region_id is None:
        raise DomainError(
            _l("Only Comforça members write monitoring reports."), code="not_monitor", status=403
        )
    return monitor.region_id


# --- what a monitor sees -------------------------------------------------------------------


def region_of(monitor: User) -> Region:
    """The region a monitor follows."""
    return db.session.get(Region, _monitor_region(monitor))


def _selected_works():
    return (
        sa.select(Proposal)
        .join(Cycle, Proposal.cycle_id == Cycle.id)
        .where(Proposal.status == ProposalStatus.SELECTED.value, IS_PUBLIC)
    )


def region_works(monitor: User) -> list[RegionWork]:
    """The works chosen in the monitor's region, every cycle, newest edition first, each with
    its progress from its milestones."""
    region_id = _monitor_region(monitor)
    proposals = list(
        db.session.scalars(
            _selected_works()
            .where(_in_region(region_id))
            .options(selectinload(Proposal.cycle))
            .order_by(Cycle.edition.desc(), Cycle.title, Proposal.code)
        )
    )
    steps: dict[int, list[Step]] = {p.id: [] for p in proposals}
    if proposals:
        milestones = db.session.scalars(
            sa.select(WorkMilestone).where(WorkMilestone.proposal_id.in_(list(steps)))
        )
        for m in milestones:
            steps[m.proposal_id].append(Step(m.planned_on, m.done_on, m.weight))
    today = today_in_city()
    return [RegionWork(p, progress(steps[p.id], today, p.execution_status)) for p in proposals]


def work_for_monitor(monitor: User, code: str) -> Proposal:
    """The selected work `code`, if the monitor may report on it: NotFound for an unknown code
    or a proposal that is not a work, 403 for a work of another region."""
    region_id = _monitor_region(monitor)
    proposal = db.session.scalar(_selected_works().where(Proposal.code == code))
    if proposal is None:
        raise NotFound(_l("There is no work with the code %(code)s.", code=code))
    in_region = db.session.scalar(
        sa.select(sa.func.count()).where(Proposal.id == proposal.id, _in_region(region_id))
    )
    if not in_region:
        raise DomainError(
            _l("You can only report on the works of your own region."),
            code="other_region",
            status=403,
        )
    return proposal


def own_reports(monitor: User) -> list[MonitoringReport]:
    """The monitor's reports, newest first, with their works."""
    return list(
        db.session.scalars(
            sa.select(MonitoringReport)
            .where(MonitoringReport.author_id == monitor.id)
            .options(selectinload(MonitoringReport.proposal), selectinload(MonitoringReport.photos))
            .order_by(MonitoringReport.created_at.desc(), MonitoringReport.id.desc())
        )
    )


# --- writing a report ----------------------------------------------------------------------


def clean_body(text: str) -> str:
    """The report's text, checked: BODY_MIN..BODY_MAX characters, line breaks allowed, no
    other control character. Raises ValidationFailed."""
    body = (text or "").strip()
    if has_control_characters(body, multiline=True):
        raise ValidationFailed(
            _l("Remove the invisible control characters from this text (line breaks are fine)."),
            code="control_characters",
        )
    if not BODY_MIN <= len(body) <= BODY_MAX:
        raise ValidationFailed(
            _l(
                "The report must have between %(min)d and %(max)d characters.",
                min=BODY_MIN,
                max=BODY_MAX,
            ),
            code="body_length",
        )
    return body


def submit_report(
    monitor: User,
    proposal: Proposal,
    *,
    body: str,
    show_author_name: bool,
    photos: Sequence[tuple[ProcessedPhoto, str]] = (),
) -> MonitoringReport:
    """Save a report (pending moderation) on a work of the monitor's region, audited.

    `photos` are the pictures sent with it, each already processed (`works.photos`) and paired
    with its alt text; they are public only once the report is approved.
    """
    work = work_for_monitor(monitor, proposal.code)
    if len(photos) > MAX_PHOTOS:
        raise ValidationFailed(
            _l("Send at most %(n)d photos with a report.", n=MAX_PHOTOS), code="too_many_photos"
        )
    report = MonitoringReport(
        proposal=work,
        author_id=monitor.id,
        body=clean_body(body),
        show_author_name=bool(show_author_name),
        status=ReportStatus.PENDING.value,
    )
    db.session.add(report)
    db.session.flush()  # its id for the audit entry, its work's id for the photos' check
    try:
        attach_photos(report, photos, actor=monitor)
    except DomainError:
        db.session.rollback()  # nothing of the report stays behind a refused photo
        raise
    audit.record(
        monitor,
        "report.submit",
        report,
        after={
            "work": work.code,
            "show_author_name": report.show_author_name,
            "photos": len(photos),
        },
    )
    db.session.commit()
    return report


def attach_photos(
    report: MonitoringReport, photos: Sequence[tuple[ProcessedPhoto, str]], *, actor: User
) -> None:
    """Store the report's photos with it, unpublished until the report is approved."""
    for processed, alt_text in photos:
        add_photo(report.proposal, processed, alt_text=alt_text, actor=actor, report=report)


# --- moderation ----------------------------------------------------------------------------


def pending_reports() -> list[MonitoringReport]:
    """Reports waiting for a coordinator, oldest first, with their work, author and photos."""
    return list(
        db.session.scalars(
            sa.select(MonitoringReport)
            .where(MonitoringReport.status == ReportStatus.PENDING.value)
            .options(
                selectinload(MonitoringReport.proposal).selectinload(Proposal.region),
                selectinload(MonitoringReport.author),
                selectinload(MonitoringReport.photos),
            )
            .order_by(MonitoringReport.created_at, MonitoringReport.id)
        )
    )


def recently_moderated(limit: int = 20) -> list[MonitoringReport]:
    """The last reports approved or rejected, newest first (what the queue shows below)."""
    return list(
        db.session.scalars(
            sa.select(MonitoringReport)
            .where(MonitoringReport.status != ReportStatus.PENDING.value)
            .options(
                selectinload(MonitoringReport.proposal),
                selectinload(MonitoringReport.moderated_by),
            )
            .order_by(MonitoringReport.moderated_at.desc(), MonitoringReport.id.desc())
            .limit(limit)
        )
    )


def _pending_for_update(report_id: int) -> MonitoringReport:
    """The report, locked until the decision commits: two coordinators deciding at once are
    served one after the other, and the second is told it was already decided."""
    report = db.session.scalar(
        sa.select(MonitoringReport)
        .where(MonitoringReport.id == report_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if report is None:
        raise NotFound(_l("There is no such report."), code="report_not_found")
    if report.status != ReportStatus.PENDING.value:
        raise IllegalTransition(
            _l("This report was already approved or rejected."), code="already_moderated"
        )
    return report


def clean_note(text: str) -> str:
    note = (text or "").strip()
    if has_control_characters(note, multiline=True):
        raise ValidationFailed(
            _l("Remove the invisible control characters from this text (line breaks are fine)."),
            code="control_characters",
        )
    if len(note) > NOTE_MAX:
        raise ValidationFailed(_l("Use at most %(n)d characters.", n=NOTE_MAX), code="note_length")
    return note


def approve(report_id: int, actor: User) -> MonitoringReport:
    """Publish a pending report on its work's page (with its photos), audited."""
    report = _pending_for_update(report_id)
    return _decide(report, ReportStatus.APPROVED, actor, note="")


def reject(report_id: int, actor: User, note: str) -> MonitoringReport:
    """Refuse a pending report; the note (required) tells its author why. Audited."""
    note = clean_note(note)
    if not note:
        raise ValidationFailed(
            _l("Say why the report is not published: its author will read it."),
            code="note_required",
        )
    report = _pending_for_update(report_id)
    return _decide(report, ReportStatus.REJECTED, actor, note=note)


def _decide(report: MonitoringReport, status: ReportStatus, actor: User, note: str):
    report.status = status.value
    report.moderated_by_id = actor.id
    report.moderated_at = now()
    report.moderation_note = note
    audit.record(
        actor,
        f"report.{'approve' if status == ReportStatus.APPROVED else 'reject'}",
        report,
        before={"status": ReportStatus.PENDING.value},
        after={"status": status.value, "note": note} if note else {"status": status.value},
    )
    db.session.commit()
    return report


# --- the public side -----------------------------------------------------------------------


def published_for(proposal: Proposal) -> list[MonitoringReport]:
    """A work's approved reports, oldest first, with their photos and authors."""
    return list(
        db.session.scalars(
            sa.select(MonitoringReport)
            .where(
                MonitoringReport.proposal_id == proposal.id,
                MonitoringReport.status == ReportStatus.APPROVED.value,
            )
            .options(selectinload(MonitoringReport.author), selectinload(MonitoringReport.photos))
            .order_by(MonitoringReport.created_at, MonitoringReport.id)
        )
    )


def signature(report: MonitoringReport) -> str:
    """Who wrote a published report, as the public reads it: the role and the work's region
    ("Comforça member — Barreiro"), preceded by the name only if the author chose so."""
    region = work_region(report.proposal)
    role = (
        _l("Comforça member — %(region)s", region=region.name)
        if region is not None
        else _l("Comforça member")
    )
    name = (report.author.name or "").strip() if report.show_author_name else ""
    return f"{name}, {role}" if name else str(role)
