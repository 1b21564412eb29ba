"""What changes a cycle: creation and budgets (calendar: `schedule_items`, state: `lifecycle`).

Each function is one unit of work: it validates, changes, writes an audit entry and commits
once; on a refusal it raises a `DomainError` and leaves the database untouched.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from opdigital.audit import services as audit
from opdigital.cycles import budget as budget_formula
from opdigital.cycles.models import (
    BudgetSplit,
    Cycle,
    CycleKind,
    Phase,
    RegionBudget,
)
from opdigital.cycles.phase_templates import phases_for
from opdigital.cycles.states import CycleState
from opdigital.errors import BallotLocked, Conflict, NotFound, ValidationFailed
from opdigital.extensions import db

# Re-exported: the coordinator's screens list regions and schools through this module.
from opdigital.regions.queries import all_regions

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


# --- reading -------------------------------------------------------------------------------


def get_cycle(slug: str) -> Cycle:
    cycle = db.session.scalar(sa.select(Cycle).where(Cycle.slug == slug))
    if cycle is None:
        raise NotFound(_l("There is no cycle called %(slug)s.", slug=slug), code="cycle_not_found")
    return cycle


def list_cycles() -> list[Cycle]:
    """Every cycle, drafts included, for staff (what the public sees: `queries.public_cycles`)."""
    query = sa.select(Cycle).order_by(Cycle.edition.desc(), Cycle.title)
    return list(db.session.scalars(query))


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


def ensure_ballot_open(cycle: Cycle) -> None:
    """Refuse any change to what is on the ballot once it is frozen."""
    if cycle.ballot_locked:
        raise BallotLocked(_l("The ballot of this cycle is frozen and can no longer change."))


# What the audit log keeps of a cycle before and after a change.
_AUDITED = (
    "slug",
    "kind",
    "title",
    "edition",
    "description",
    "total_budget_cents",
    "min_voter_age",
    "max_voter_age",
    "state",
)


def _snapshot(cycle: Cycle) -> dict:
    return audit.snapshot(cycle, _AUDITED)


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


# --- budgets -------------------------------------------------------------------------------


def region_budgets(cycle: Cycle) -> dict[int, int]:
    """Region id -> centavos currently set for this cycle."""
    return {rb.region_id: rb.amount_cents for rb in cycle.region_budgets}


def set_region_budgets(cycle: Cycle, amounts: dict[int, int], actor) -> None:
    """Set each region's budget by hand; together they may not exceed the cycle's total."""
    ensure_ballot_open(cycle)
    known = {r.id for r in all_regions()}
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
        budget_formula.RegionWeight(str(r.id), r.population, r.need_index) for r in all_regions()
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
