"""A proposal's life: submission, technical review, the ballot, the result, the works."""

from __future__ import annotations

from dataclasses import dataclass, replace

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from opdigital.audit import services as audit
from opdigital.clock import now
from opdigital.cycles.budget import MAX_AMOUNT_CENTS as MAX_COST_CENTS
from opdigital.cycles.models import Cycle, CycleKind, PhaseKind
from opdigital.cycles.services import ensure_ballot_open
from opdigital.cycles.states import CycleState
from opdigital.errors import Conflict, IllegalTransition, NotFound, PhaseClosed, ValidationFailed
from opdigital.extensions import db
from opdigital.geo.locations import check_location
from opdigital.proposals import consent, notifications
from opdigital.proposals.models import (
    BALLOT_STATUSES,
    ExecutionStatus,
    HistoryTrack,
    Proposal,
    ProposalHistory,
    ProposalOrigin,
    ProposalStatus,
)
from opdigital.regions.models import Region, School
from opdigital.text_safety import has_control_characters

CODE_PREFIX = {CycleKind.OP_DIGITAL: "OPD", CycleKind.OP_REGIONAL: "OPR", CycleKind.OPCA: "OPCA"}

# States in which a citizen or staff member may still add proposals and the review may run.
_BEFORE_FREEZE = {CycleState.DRAFT, CycleState.OPEN_FOR_PROPOSALS, CycleState.UNDER_REVIEW}
# States in which the result of an in-person or manual vote may be recorded.
RESULT_STATES = frozenset({CycleState.CLOSED, CycleState.TALLIED})
# States in which the result is known: selected works are shown and their execution followed.
RESULTS_KNOWN_STATES = frozenset({CycleState.TALLIED, CycleState.PUBLISHED, CycleState.MONITORING})
_REVIEWABLE = frozenset(
    {
        ProposalStatus.SUBMITTED,
        ProposalStatus.UNDER_REVIEW,
        ProposalStatus.ACCEPTED,
        ProposalStatus.REJECTED,
    }
)


def can_review(proposal: Proposal) -> bool:
    """True while the technical review may still decide on this proposal."""
    return not proposal.cycle.ballot_locked and proposal.status in _REVIEWABLE


def can_record_result(proposal: Proposal) -> bool:
    """True when this ballot proposal's result may be recorded now."""
    return proposal.cycle.state in RESULT_STATES and proposal.status in BALLOT_STATUSES


def can_update_execution(proposal: Proposal) -> bool:
    """True when this selected work's execution status may be updated now."""
    return (
        proposal.cycle.state in RESULTS_KNOWN_STATES and proposal.status == ProposalStatus.SELECTED
    )


@dataclass(frozen=True)
class ProposalData:
    title: str
    description: str
    estimated_cost_cents: int
    region_id: int | None = None
    school_id: int | None = None
    place: str = ""
    author_name: str = ""
    contact: str = ""
    # The proposer's own consent to e-mails about the proposal (only through the public form),
    # and the language the messages are written in.
    notify_by_email: bool = False
    notify_language: str = "pt_BR"
    # Where it is (WGS 84 decimal degrees), both or neither: inside the region's boundary.
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True)
class ReviewDecision:
    accept: bool
    technical_opinion: str
    reviewed_cost_cents: int | None = None
    rejection_reason: str = ""


def get_proposal(code: str) -> Proposal:
    proposal = db.session.scalar(sa.select(Proposal).where(Proposal.code == code))
    if proposal is None:
        raise NotFound(
            _l("There is no proposal with code %(code)s.", code=code), code="proposal_not_found"
        )
    return proposal


def list_proposals(cycle: Cycle, *, region_id: int | None = None) -> list[Proposal]:
    query = sa.select(Proposal).where(Proposal.cycle_id == cycle.id)
    if region_id is not None:
        query = query.where(Proposal.region_id == region_id)
    return list(db.session.scalars(query.order_by(Proposal.code)))


def accepts_citizen_proposals(cycle: Cycle) -> bool:
    """True while the cycle is open for proposals and its submission phase is under way."""
    if cycle.state != CycleState.OPEN_FOR_PROPOSALS:
        return False
    phase = cycle.phase_of_kind(PhaseKind.PROPOSALS)
    return phase is not None and phase.is_open(now())


def _refuse_control_characters(data: ProposalData) -> None:
    """The last guard behind the forms: one-line fields stay one line (the Pabulib export,
    CSV cells, pages); the description keeps its line breaks but no other control character."""
    one_line = (data.title, data.place, data.author_name, data.contact)
    if any(has_control_characters(text) for text in one_line) or has_control_characters(
        data.description, multiline=True
    ):
        raise ValidationFailed(
            _l(
                "The title, place, name and contact must be on one line, and no text may hold "
                "control characters."
            ),
            code="invalid_character",
        )


def _check_data(cycle: Cycle, data: ProposalData) -> None:
    _refuse_control_characters(data)
    if not 5 <= len(data.title.strip()) <= 160:
        raise ValidationFailed(
            _l("The title must have between 5 and 160 characters."), code="invalid_title"
        )
    if not 20 <= len(data.description.strip()) <= 5000:
        raise ValidationFailed(
            _l("The description must have between 20 and 5000 characters."),
            code="invalid_description",
        )
    if not 0 < data.estimated_cost_cents <= MAX_COST_CENTS:
        raise ValidationFailed(
            _l("The estimated cost must be a positive amount."), code="invalid_cost"
        )
    if data.region_id is None and cycle.kind != CycleKind.OP_DIGITAL:
        raise ValidationFailed(_l("Choose the region of the proposal."), code="missing_region")
    if data.region_id is not None and db.session.get(Region, data.region_id) is None:
        raise ValidationFailed(_l("Unknown region."), code="unknown_region")
    if cycle.kind == CycleKind.OPCA and data.school_id is None:
        raise ValidationFailed(_l("Choose the school of the proposal."), code="missing_school")
    school = None
    if data.school_id is not None:
        school = db.session.get(School, data.school_id)
        if school is None:
            raise ValidationFailed(_l("Unknown school."), code="unknown_school")
        if data.region_id is not None and school.region_id != data.region_id:
            raise ValidationFailed(
                _l("The school is not in the chosen region."), code="school_region_mismatch"
            )
    region = db.session.get(Region, data.region_id) if data.region_id is not None else None
    check_location(region or (school.region if school else None), data.latitude, data.longitude)
    if data.notify_by_email and not consent.is_email_address(data.contact):
        raise ValidationFailed(
            _l("To receive e-mails about the proposal, give an e-mail address as the contact."),
            code="notify_needs_email",
        )


def _next_code(cycle: Cycle) -> str:
    """Next free code for the cycle's prefix (kind + edition), shared by cycles of one edition."""
    prefix = f"{CODE_PREFIX[CycleKind(cycle.kind)]}{cycle.edition}-"
    codes = db.session.scalars(sa.select(Proposal.code).where(Proposal.code.startswith(prefix)))
    numbers = [int(code[len(prefix) :]) for code in codes if code[len(prefix) :].isdigit()]
    return f"{prefix}{max(numbers, default=0) + 1:04d}"


def _create(cycle: Cycle, data: ProposalData, origin: ProposalOrigin, actor) -> Proposal:
    # Two submissions at once may pick the same code: the unique constraint refuses the second,
    # which then reads the codes again and takes the next number.
    for _attempt in range(5):
        proposal = Proposal(
            cycle=cycle,
            code=_next_code(cycle),
            title=data.title.strip(),
            description=data.description.strip(),
            estimated_cost_cents=data.estimated_cost_cents,
            region_id=data.region_id,
            school_id=data.school_id,
            place=data.place.strip(),
            latitude=data.latitude,
            longitude=data.longitude,
            author_name=data.author_name.strip(),
            contact=data.contact.strip(),
            origin=origin.value,
            status=ProposalStatus.SUBMITTED.value,
        )
        proposal.history.append(ProposalHistory(to_status=ProposalStatus.SUBMITTED.value))
        db.session.add(proposal)
        try:
            db.session.flush()
        except IntegrityError:
            db.session.rollback()
            continue
        audit.record(actor, "proposal.create", proposal, after=_snapshot(proposal))
        if data.notify_by_email:
            consent.record_consent(proposal, data.notify_language)
            notifications.notify(proposal, notifications.RECEIVED)
        db.session.commit()
        return proposal
    raise Conflict(_l("Could not assign a proposal code; please try again."), code="code_conflict")


def submit_proposal(cycle: Cycle, data: ProposalData) -> Proposal:
    """A citizen's proposal through the public form, only during the submission phase."""
    if not accepts_citizen_proposals(cycle):
        raise PhaseClosed(
            _l("This cycle is not accepting proposals now."), code="submission_closed"
        )
    _check_data(cycle, data)
    return _create(cycle, data, ProposalOrigin.CITIZEN, actor=None)


def enter_proposal(cycle: Cycle, data: ProposalData, origin: str, actor) -> Proposal:
    """Staff enter a proposal (from an assembly, a school, a paper form) before the freeze."""
    ensure_ballot_open(cycle)
    if cycle.state not in _BEFORE_FREEZE:
        raise IllegalTransition(_l("Proposals can no longer be added to this cycle."))
    if origin not in {o.value for o in ProposalOrigin}:
        raise ValidationFailed(_l("Unknown origin."), code="unknown_origin")
    _check_data(cycle, data)
    # Consent is the proposer's own act: staff entering a proposal cannot give it for them.
    data = replace(data, notify_by_email=False)
    return _create(cycle, data, ProposalOrigin(origin), actor)


def change_status(
    proposal: Proposal,
    to: ProposalStatus,
    note: str,
    actor,
    track: HistoryTrack = HistoryTrack.REVIEW,
) -> None:
    """Record a status change in the public history and the audit log, and tell the proposer
    if they asked for e-mails (no commit)."""
    before = proposal.status
    proposal.status = to.value
    proposal.history.append(
        ProposalHistory(track=track.value, from_status=before, to_status=to.value, note=note)
    )
    audit.record(
        actor,
        "proposal.status",
        proposal,
        before={"status": before},
        after={"status": to.value, "note": note},
    )
    notifications.status_changed(proposal, before, to)


def start_review(proposal: Proposal, actor) -> Proposal:
    ensure_ballot_open(proposal.cycle)
    if proposal.status != ProposalStatus.SUBMITTED:
        raise IllegalTransition(_l("Only a submitted proposal can go under review."))
    change_status(proposal, ProposalStatus.UNDER_REVIEW, "", actor)
    db.session.commit()
    return proposal


def review_proposal(proposal: Proposal, decision: ReviewDecision, actor) -> Proposal:
    """Accept (with the reviewed cost) or reject (with a public reason) a proposal."""
    ensure_ballot_open(proposal.cycle)
    if proposal.status not in _REVIEWABLE:
        raise IllegalTransition(_l("This proposal cannot be reviewed now."))
    if not decision.technical_opinion.strip():
        raise ValidationFailed(_l("Write the technical opinion."), code="missing_opinion")
    if (
        decision.reviewed_cost_cents is not None
        and not 0 < decision.reviewed_cost_cents <= MAX_COST_CENTS
    ):
        raise ValidationFailed(
            _l("The reviewed cost must be a positive amount."), code="invalid_cost"
        )
    if not decision.accept and not decision.rejection_reason.strip():
        raise ValidationFailed(_l("A rejection needs a public reason."), code="missing_reason")
    before = {
        "reviewed_cost_cents": proposal.reviewed_cost_cents,
        "technical_opinion": proposal.technical_opinion,
    }
    proposal.technical_opinion = decision.technical_opinion.strip()
    proposal.reviewed_cost_cents = decision.reviewed_cost_cents
    proposal.rejection_reason = "" if decision.accept else decision.rejection_reason.strip()
    audit.record(
        actor,
        "proposal.review",
        proposal,
        before=before,
        after={
            "reviewed_cost_cents": proposal.reviewed_cost_cents,
            "technical_opinion": proposal.technical_opinion,
        },
    )
    target = ProposalStatus.ACCEPTED if decision.accept else ProposalStatus.REJECTED
    change_status(proposal, target, proposal.rejection_reason, actor)
    db.session.commit()
    return proposal


def record_result(proposal: Proposal, selected: bool, actor) -> Proposal:
    """Mark a ballot proposal as selected or not (e.g. after the in-person forum's vote)."""
    if proposal.cycle.state not in RESULT_STATES:
        raise IllegalTransition(
            _l("Results are recorded after voting closes and before they are published.")
        )
    if proposal.status not in (
        ProposalStatus.ON_BALLOT,
        ProposalStatus.SELECTED,
        ProposalStatus.NOT_SELECTED,
    ):
        raise IllegalTransition(_l("Only proposals on the ballot have a result."))
    mark_result(proposal, selected, actor)
    db.session.commit()
    return proposal


def mark_result(proposal: Proposal, selected: bool, actor) -> None:
    """Selected (its execution not started yet) or not; the caller commits (e.g. the tally)."""
    status = ProposalStatus.SELECTED if selected else ProposalStatus.NOT_SELECTED
    if proposal.status != status:
        change_status(proposal, status, "", actor)
    proposal.execution_status = ExecutionStatus.NOT_STARTED.value if selected else None


def update_execution(proposal: Proposal, status: str, note: str, actor) -> Proposal:
    """Follow a selected work: tendering, works, done, or cancelled with a public reason."""
    if proposal.status != ProposalStatus.SELECTED:
        raise IllegalTransition(_l("Only selected works have an execution status."))
    if proposal.cycle.state not in RESULTS_KNOWN_STATES:
        raise IllegalTransition(_l("Execution is followed once the result is known."))
    if status not in {s.value for s in ExecutionStatus}:
        raise ValidationFailed(_l("Unknown execution status."), code="unknown_status")
    if status == ExecutionStatus.CANCELLED and not note.strip():
        raise ValidationFailed(_l("A cancellation needs a public reason."), code="missing_reason")
    before = proposal.execution_status
    changed = (before, proposal.execution_note) != (status, note.strip())
    proposal.execution_status = status
    proposal.execution_note = note.strip()
    proposal.history.append(
        ProposalHistory(
            track=HistoryTrack.EXECUTION.value,
            from_status=before,
            to_status=status,
            note=note.strip(),
        )
    )
    audit.record(
        actor,
        "proposal.execution",
        proposal,
        before={"execution_status": before},
        after={"execution_status": status, "note": note.strip()},
    )
    if changed:  # saving the same status and note again is no news
        notifications.notify(proposal, notifications.EXECUTION)
    db.session.commit()
    return proposal


def proposal_region(proposal: Proposal) -> Region | None:
    """The region a proposal's place must be in: its own, else its school's (OPCA)."""
    if proposal.region is not None:
        return proposal.region
    return proposal.school.region if proposal.school is not None else None


def set_location(
    proposal: Proposal,
    latitude: float | None,
    longitude: float | None,
    place: str,
    actor,
) -> Proposal:
    """Place a proposal or work on the map (None, None takes it off), with its address or
    landmark in words. Allowed in any state: the place is not part of the ballot's record."""
    place = place.strip()
    if has_control_characters(place):
        raise ValidationFailed(
            _l("Write the place on one line, without control characters."),
            code="invalid_character",
        )
    if len(place) > 200:
        raise ValidationFailed(
            _l("The place must have at most 200 characters."), code="invalid_place"
        )
    check_location(proposal_region(proposal), latitude, longitude)
    before = audit.snapshot(proposal, _LOCATION)
    proposal.latitude, proposal.longitude, proposal.place = latitude, longitude, place
    after = audit.snapshot(proposal, _LOCATION)
    if after != before:
        audit.record(actor, "proposal.location", proposal, before=before, after=after)
    db.session.commit()
    return proposal


_LOCATION = ("latitude", "longitude", "place")

# What the audit log keeps of a proposal when it is entered.
_AUDITED = (
    "code",
    "title",
    "region_id",
    "school_id",
    "estimated_cost_cents",
    "origin",
    "status",
    "latitude",
    "longitude",
)


def _snapshot(proposal: Proposal) -> dict:
    return audit.snapshot(proposal, _AUDITED)
