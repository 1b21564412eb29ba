"""Everything that changes a cycle: creation from a template, calendar, budgets, state.

Each function is one unit of work: it validates, changes, writes an audit entry and commits
once; on a refusal it raises a `DomainError` and leaves the database untouched.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from opdigital.audit import services as audit
from opdigital.clock import now
from opdigital.cycles import budget as budget_formula
from opdigital.cycles.models import (
    BudgetSplit,
    Cycle,
    CycleKind,
    Event,
    EventKind,
    Phase,
    PhaseKind,
    RegionBudget,
)
from opdigital.cycles.phase_templates import phases_for
from opdigital.cycles.states import CycleState, can_transition
from opdigital.errors import BallotLocked, Conflict, IllegalTransition, NotFound, ValidationFailed
from opdigital.extensions import db
from opdigital.regions.models import Region, School

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


@dataclass(frozen=True)
class CycleData:
    slug: str
    kind: str
    title: str
    edition: int
    total_budget_cents: int
    description: str = ""
    min_voter_age: int | None = None
    max_voter_age: int | None = None


@dataclass(frozen=True)
class PhaseData:
    kind: str
    name: str
    starts_at: datetime
    ends_at: datetime
    description: str = ""
    position: int | None = None


@dataclass(frozen=True)
class EventData:
    kind: str
    title: str
    starts_at: datetime
    ends_at: datetime
    place: str = ""
    description: str = ""
    region_id: int | None = None
    school_id: int | None = None


# --- reading -------------------------------------------------------------------------------


def get_cycle(slug: str) -> Cycle:
    cycle = db.session.scalar(sa.select(Cycle).where(Cycle.slug == slug))
    if cycle is None:
        raise NotFound(_l("There is no cycle called %(slug)s.", slug=slug), code="cycle_not_found")
    return cycle


def list_cycles(*, include_drafts: bool = False) -> list[Cycle]:
    query = sa.select(Cycle).order_by(Cycle.edition.desc(), Cycle.title)
    if not include_drafts:
        query = query.where(Cycle.state != CycleState.DRAFT.value)
    return list(db.session.scalars(query))


def list_regions() -> list[Region]:
    return list(db.session.scalars(sa.select(Region).order_by(Region.name)))


def list_schools() -> list[School]:
    return list(db.session.scalars(sa.select(School).order_by(School.name)))


# --- validation helpers --------------------------------------------------------------------


def _check_cycle_data(data: CycleData) -> None:
    if not SLUG_PATTERN.match(data.slug or ""):
        raise ValidationFailed(
            _l("The slug may only have lower-case letters, digits and hyphens."),
            code="invalid_slug",
        )
    if data.kind not in {k.value for k in CycleKind}:
        raise ValidationFailed(_l("Unknown cycle kind."), code="unknown_kind")
    if not data.title.strip():
        raise ValidationFailed(_l("The title is required."), code="missing_title")
    if not 1990 <= data.edition <= 2200:
        raise ValidationFailed(_l("The edition must be a year."), code="invalid_edition")
    if not 0 <= data.total_budget_cents <= budget_formula.MAX_AMOUNT_CENTS:
        raise ValidationFailed(
            _l("The budget must be an amount between zero and R$ 100 billion."),
            code="invalid_budget",
        )
    ages = [a for a in (data.min_voter_age, data.max_voter_age) if a is not None]
    if any(a < 0 or a > 130 for a in ages) or (
        len(ages) == 2 and data.min_voter_age > data.max_voter_age
    ):
        raise ValidationFailed(_l("The age limits are not valid."), code="invalid_ages")


def _check_window(starts_at: datetime, ends_at: datetime) -> None:
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise ValidationFailed(_l("Dates must carry a time zone."), code="naive_datetime")
    if ends_at <= starts_at:
        raise ValidationFailed(_l("The end must come after the start."), code="ends_before_start")


def ensure_ballot_open(cycle: Cycle) -> None:
    """Refuse any change to what is on the ballot once it is frozen."""
    if cycle.ballot_locked:
        raise BallotLocked(_l("The ballot of this cycle is frozen and can no longer change."))


def _snapshot(cycle: Cycle) -> dict:
    return {
        "slug": cycle.slug,
        "kind": cycle.kind,
        "title": cycle.title,
        "edition": cycle.edition,
        "description": cycle.description,
        "total_budget_cents": cycle.total_budget_cents,
        "min_voter_age": cycle.min_voter_age,
        "max_voter_age": cycle.max_voter_age,
        "state": cycle.state,
    }


def _commit_or_conflict(message: str, code: str) -> None:
    try:
        db.session.commit()
    except IntegrityError as e:
        db.session.rollback()
        raise Conflict(message, code=code) from e


# --- cycles --------------------------------------------------------------------------------


def create_cycle(data: CycleData, start: date, actor) -> Cycle:
    """A new draft cycle with the phases of its kind's template, starting on `start`."""
    _check_cycle_data(data)
    cycle = Cycle(**asdict(data), state=CycleState.DRAFT.value)
    cycle.phases = [Phase(**values) for values in phases_for(data.kind, start)]
    db.session.add(cycle)
    try:
        db.session.flush()
    except IntegrityError as e:
        db.session.rollback()
        raise Conflict(_l("A cycle with this slug already exists."), code="duplicate_slug") from e
    audit.record(actor, "cycle.create", cycle, after=_snapshot(cycle))
    db.session.commit()
    return cycle


def update_cycle(cycle: Cycle, data: CycleData, actor) -> Cycle:
    """Change a cycle's description; budget and eligibility are fixed with the ballot."""
    _check_cycle_data(data)
    if data.kind != cycle.kind:
        raise ValidationFailed(_l("The kind of a cycle cannot change."), code="kind_fixed")
    before = _snapshot(cycle)
    if cycle.ballot_locked and (
        data.total_budget_cents != cycle.total_budget_cents
        or data.min_voter_age != cycle.min_voter_age
        or data.max_voter_age != cycle.max_voter_age
        or data.slug != cycle.slug
    ):
        ensure_ballot_open(cycle)
    allocated = sum(region_budgets(cycle).values())
    if data.total_budget_cents < allocated:
        raise ValidationFailed(
            _l("The total cannot be less than the budgets already given to the regions."),
            code="total_below_allocated",
        )
    for field, value in asdict(data).items():
        setattr(cycle, field, value)
    audit.record(actor, "cycle.update", cycle, before=before, after=_snapshot(cycle))
    _commit_or_conflict("A cycle with this slug already exists.", "duplicate_slug")
    return cycle


def transition(cycle: Cycle, target: str, actor) -> Cycle:
    """Move a cycle to its next state; the only way a cycle's state ever changes."""
    # Lock the row: two coordinators pressing the same button must not both succeed.
    locked = db.session.scalar(sa.select(Cycle).where(Cycle.id == cycle.id).with_for_update())
    current = locked.state
    if not can_transition(current, target):
        db.session.rollback()
        raise IllegalTransition(_l("This cycle cannot move to that state from its current state."))
    if target == CycleState.BALLOT_FROZEN:
        _freeze_ballot(locked, actor)
    locked.state = target
    audit.record(
        actor, "cycle.transition", locked, before={"state": current}, after={"state": target}
    )
    db.session.commit()
    return locked


def _freeze_ballot(cycle: Cycle, actor) -> None:
    """Accepted proposals go on the ballot; anything still unreviewed cannot be left pending."""
    from opdigital.proposals.models import Proposal, ProposalStatus
    from opdigital.proposals.services import change_status
    from opdigital.voting.settings import ensure_voting_configured

    proposals = list(db.session.scalars(sa.select(Proposal).where(Proposal.cycle_id == cycle.id)))
    pending = [
        p.code
        for p in proposals
        if p.status in (ProposalStatus.SUBMITTED, ProposalStatus.UNDER_REVIEW)
    ]
    if pending:
        db.session.rollback()
        raise IllegalTransition(
            _l(
                "Review every proposal before freezing the ballot. Still pending: %(codes)s",
                codes=", ".join(pending),
            ),
            code="proposals_pending",
        )
    accepted = [p for p in proposals if p.status == ProposalStatus.ACCEPTED]
    if not accepted:
        db.session.rollback()
        raise IllegalTransition(
            _l("The ballot needs at least one accepted proposal."), code="empty_ballot"
        )
    for proposal in accepted:
        change_status(proposal, ProposalStatus.ON_BALLOT, note="", actor=actor)
    try:
        # With the proposals now final, the ballot rule must be set and satisfiable by them.
        ensure_voting_configured(cycle)
    except ValidationFailed as e:
        db.session.rollback()
        raise IllegalTransition(e.message, code=e.code) from e
    cycle.ballot_frozen_at = now()


# --- phases and events ---------------------------------------------------------------------

# Once a cycle is public (past its draft), its calendar is part of the record: what has begun
# stays as it was published, as the ballot does from its freeze, and from the moment the vote
# opens its window, which voters were told and casts are checked against, no longer moves
# (until then a vote may still be postponed). What is still ahead may change at any time: a
# meeting of the monitoring commission can be added or moved. A draft is a plan, editable.
_STATES = list(CycleState)


def schedule_is_history(cycle: Cycle) -> bool:
    """True once the cycle is public: what has begun can no longer change."""
    return cycle.state != CycleState.DRAFT


def _vote_has_opened(cycle: Cycle) -> bool:
    return _STATES.index(CycleState(cycle.state)) >= _STATES.index(CycleState.VOTING)


def _is_voting(item: Phase | PhaseData | Event | EventData | None) -> bool:
    return isinstance(item, Phase | PhaseData) and item.kind == PhaseKind.VOTING.value


def schedule_item_fixed(item: Phase | Event) -> bool:
    """True when this phase or event can no longer be edited or deleted."""
    if not schedule_is_history(item.cycle):
        return False
    if _is_voting(item):
        return _vote_has_opened(item.cycle)
    return item.starts_at <= now()


def _ensure_schedule_open(
    cycle: Cycle, item: Phase | Event | None, data: PhaseData | EventData | None
) -> None:
    """Refuse changing `item` (None: adding) into `data` (None: deleting) when it is history."""
    if not schedule_is_history(cycle):
        return
    if _is_voting(item) or _is_voting(data):
        if _vote_has_opened(cycle):
            raise Conflict(
                _l("The vote has opened with this voting phase: its dates can no longer change."),
                code="schedule_frozen",
            )
        return  # before the vote opens, it may still be moved (postponed)
    if item is not None and item.starts_at <= now():
        raise Conflict(
            _l(
                "This has already begun and the cycle is public: it is part of the cycle's "
                "history and can no longer be changed or deleted."
            ),
            code="schedule_frozen",
        )
    if data is not None and data.starts_at <= now():
        raise Conflict(
            _l(
                "Once a cycle is public, only phases and events that start in the future can "
                "be added or changed."
            ),
            code="schedule_frozen",
        )


def ensure_schedule_item_open(item: Phase | Event) -> None:
    """Refuse (409, `schedule_frozen`) when this phase or event can no longer change."""
    _ensure_schedule_open(item.cycle, item, None)


def _check_phase(data: PhaseData) -> None:
    if data.kind not in {k.value for k in PhaseKind}:
        raise ValidationFailed(_l("Unknown phase kind."), code="unknown_phase_kind")
    if not data.name.strip():
        raise ValidationFailed(_l("The phase needs a name."), code="missing_name")
    _check_window(data.starts_at, data.ends_at)


def add_phase(cycle: Cycle, data: PhaseData, actor) -> Phase:
    _check_phase(data)
    _ensure_schedule_open(cycle, None, data)
    position = data.position if data.position is not None else len(cycle.phases)
    values = asdict(data) | {"position": position}
    phase = Phase(cycle=cycle, **values)
    db.session.add(phase)
    db.session.flush()
    audit.record(actor, "phase.create", phase, after=_phase_snapshot(phase))
    db.session.commit()
    return phase


def update_phase(phase: Phase, data: PhaseData, actor) -> Phase:
    _check_phase(data)
    _ensure_schedule_open(phase.cycle, phase, data)
    before = _phase_snapshot(phase)
    for field, value in asdict(data).items():
        if value is not None:
            setattr(phase, field, value)
    audit.record(actor, "phase.update", phase, before=before, after=_phase_snapshot(phase))
    db.session.commit()
    return phase


def delete_phase(phase: Phase, actor) -> None:
    _ensure_schedule_open(phase.cycle, phase, None)
    audit.record(actor, "phase.delete", phase, before=_phase_snapshot(phase))
    db.session.delete(phase)
    db.session.commit()


def _phase_snapshot(phase: Phase) -> dict:
    return {
        "cycle": phase.cycle.slug if phase.cycle else None,
        "kind": phase.kind,
        "name": phase.name,
        "position": phase.position,
        "starts_at": phase.starts_at.isoformat(),
        "ends_at": phase.ends_at.isoformat(),
    }


def _check_event(data: EventData) -> None:
    if data.kind not in {k.value for k in EventKind}:
        raise ValidationFailed(_l("Unknown event kind."), code="unknown_event_kind")
    if not data.title.strip():
        raise ValidationFailed(_l("The event needs a title."), code="missing_title")
    _check_window(data.starts_at, data.ends_at)
    if data.region_id is not None and db.session.get(Region, data.region_id) is None:
        raise ValidationFailed(_l("Unknown region."), code="unknown_region")
    if data.school_id is not None and db.session.get(School, data.school_id) is None:
        raise ValidationFailed(_l("Unknown school."), code="unknown_school")


def add_event(cycle: Cycle, data: EventData, actor) -> Event:
    _check_event(data)
    _ensure_schedule_open(cycle, None, data)
    event = Event(cycle=cycle, **asdict(data))
    db.session.add(event)
    db.session.flush()
    audit.record(actor, "event.create", event, after=_event_snapshot(event))
    db.session.commit()
    return event


def update_event(event: Event, data: EventData, actor) -> Event:
    _check_event(data)
    _ensure_schedule_open(event.cycle, event, data)
    before = _event_snapshot(event)
    for field, value in asdict(data).items():
        setattr(event, field, value)
    audit.record(actor, "event.update", event, before=before, after=_event_snapshot(event))
    db.session.commit()
    return event


def delete_event(event: Event, actor) -> None:
    _ensure_schedule_open(event.cycle, event, None)
    audit.record(actor, "event.delete", event, before=_event_snapshot(event))
    db.session.delete(event)
    db.session.commit()


def _event_snapshot(event: Event) -> dict:
    return {
        "cycle": event.cycle.slug if event.cycle else None,
        "kind": event.kind,
        "title": event.title,
        "starts_at": event.starts_at.isoformat(),
        "ends_at": event.ends_at.isoformat(),
        "place": event.place,
        "region_id": event.region_id,
        "school_id": event.school_id,
    }


# --- budgets -------------------------------------------------------------------------------


def region_budgets(cycle: Cycle) -> dict[int, int]:
    """Region id -> centavos currently set for this cycle."""
    return {rb.region_id: rb.amount_cents for rb in cycle.region_budgets}


def set_region_budgets(cycle: Cycle, amounts: dict[int, int], actor) -> None:
    """Set each region's budget by hand; together they may not exceed the cycle's total."""
    ensure_ballot_open(cycle)
    known = {r.id for r in list_regions()}
    if set(amounts) - known:
        raise ValidationFailed(_l("Unknown region in the budget."), code="unknown_region")
    if any(v < 0 for v in amounts.values()):
        raise ValidationFailed(_l("A region's budget cannot be negative."), code="invalid_budget")
    if sum(amounts.values()) > cycle.total_budget_cents:
        raise ValidationFailed(
            _l("The regions' budgets add up to more than the cycle's total."), code="over_total"
        )
    _store_budgets(cycle, amounts, BudgetSplit.MANUAL, cycle.equal_share_percent, actor)


def apply_budget_formula(cycle: Cycle, equal_share_percent: int, actor) -> dict[int, int]:
    """Split the total among all regions by the formula in `cycles/budget.py`."""
    ensure_ballot_open(cycle)
    if not 0 <= equal_share_percent <= 100:
        raise ValidationFailed(
            _l("The equal share must be between 0 and 100 percent."), code="invalid_share"
        )
    weights = [
        budget_formula.RegionWeight(str(r.id), r.population, r.need_index) for r in list_regions()
    ]
    shares = budget_formula.split_budget(cycle.total_budget_cents, weights, equal_share_percent)
    amounts = {int(key): cents for key, cents in shares.items()}
    _store_budgets(cycle, amounts, BudgetSplit.FORMULA, equal_share_percent, actor)
    return amounts


def _store_budgets(
    cycle: Cycle, amounts: dict[int, int], split: BudgetSplit, share: int, actor
) -> None:
    before = {
        "split": cycle.budget_split,
        "amounts": {str(k): v for k, v in region_budgets(cycle).items()},
    }
    existing = {rb.region_id: rb for rb in cycle.region_budgets}
    for region_id, cents in amounts.items():
        if region_id in existing:
            existing[region_id].amount_cents = cents
        else:
            cycle.region_budgets.append(RegionBudget(region_id=region_id, amount_cents=cents))
    cycle.budget_split = split.value
    cycle.equal_share_percent = share
    after = {
        "split": split.value,
        "equal_share_percent": share,
        "amounts": {str(k): v for k, v in amounts.items()},
    }
    audit.record(actor, "cycle.budgets", cycle, before=before, after=after)
    db.session.commit()
