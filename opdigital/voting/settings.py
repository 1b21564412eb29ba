"""A cycle's voting settings: ballot rule, counting rule, eligibility and ballot display.

The coordinator chooses them before the ballot is frozen; from then on they are fixed, like the
ballot itself. `ballot_rule_for` turns the stored columns into the pure `BallotRule` that every
channel (web, API, kiosk) validates ballots with.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from opdigital.audit import services as audit
from opdigital.counting import ballot_rules as rules
from opdigital.counting.ballot_rules import BallotProject, BallotRule, RuleKind
from opdigital.counting.rules import REGISTRY as COUNTING_RULES
from opdigital.cycles.models import Cycle, CycleKind, RegionBudget
from opdigital.cycles.services import ensure_ballot_open
from opdigital.errors import ValidationFailed
from opdigital.extensions import db
from opdigital.proposals.models import BALLOT_STATUSES, Proposal, ProposalStatus
from opdigital.regions.models import Region
from opdigital.registry.models import CITY_SCOPE, cycle_scope, delegate_scope, is_delegate_scope

# "delegates": the cycle's roll is its delegate list, each voting with a one-time code
# (opdigital/delegates; docs/domain.md, "Delegates").
REGISTRY_SCOPES = ("city", "cycle", "delegates")
MAX_LIMIT = 1000  # more choices than any real ballot has projects

# Keys of `Cycle.ballot_rule_params` this module writes; others (the demo's) are ignored.
PARAM_KEYS = (
    "min_choices",
    "max_choices",
    "min_budget_share_percent",
    "per_region",
    "own_region_only",
)


@dataclass(frozen=True)
class VotingSettings:
    ballot_rule: str
    counting_rule: str
    min_choices: int | None = None
    max_choices: int | None = None
    min_budget_share_percent: int | None = None
    per_region: bool = False
    own_region_only: bool = False
    min_voter_age: int | None = None
    max_voter_age: int | None = None
    age_reference_date: date | None = None
    restrict_region_id: int | None = None
    registry_scope: str = "city"
    shuffle_ballot: bool = True
    show_running_totals: bool = False


# Messages for the rule problems found by the pure core.
_RULE_MESSAGES = {
    rules.INVALID_LIMIT: _l(
        "The minimum number of choices cannot be negative and the maximum must be at least one."
    ),
    rules.MIN_ABOVE_MAX: _l("The minimum number of choices cannot be above the maximum."),
    rules.SHARE_OUT_OF_RANGE: _l("The minimum share of the budget must be between 0 and 100."),
    rules.NO_BUDGET: _l(
        "A knapsack ballot needs a budget: set the cycle's total budget, or the regions' "
        "budgets for a ballot per region."
    ),
    rules.NO_REGION_BUDGET: _l(
        "A knapsack ballot per region needs a budget for every region with proposals."
    ),
    rules.PROJECT_WITHOUT_REGION: _l(
        "This rule works region by region, but some proposals of this cycle belong to no region."
    ),
    rules.MIN_ABOVE_AVAILABLE: _l(
        "The minimum number of choices is more than the ballot allows a voter to choose."
    ),
}


# --- reading -------------------------------------------------------------------------------


def _params(cycle: Cycle) -> dict:
    params = cycle.ballot_rule_params or {}
    return params if isinstance(params, dict) else {}


def _int_param(params: dict, key: str) -> int | None:
    value = params.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def settings_of(cycle: Cycle) -> VotingSettings:
    """The cycle's current settings; the rules are "" while none has been chosen."""
    params = _params(cycle)
    return VotingSettings(
        ballot_rule=cycle.ballot_rule or "",
        counting_rule=cycle.counting_rule or "",
        min_choices=_int_param(params, "min_choices"),
        max_choices=_int_param(params, "max_choices"),
        min_budget_share_percent=_int_param(params, "min_budget_share_percent"),
        per_region=params.get("per_region") is True,
        own_region_only=params.get("own_region_only") is True,
        min_voter_age=cycle.min_voter_age,
        max_voter_age=cycle.max_voter_age,
        age_reference_date=cycle.age_reference_date,
        restrict_region_id=cycle.restrict_region_id,
        registry_scope=_scope_setting(cycle.registry_scope),
        shuffle_ballot=cycle.shuffle_ballot,
        show_running_totals=cycle.show_running_totals,
    )


def _scope_setting(scope: str) -> str:
    if scope == CITY_SCOPE:
        return "city"
    return "delegates" if is_delegate_scope(scope) else "cycle"


def _scope_of(setting: str, cycle: Cycle) -> str:
    if setting == "city":
        return CITY_SCOPE
    return delegate_scope(cycle.id) if setting == "delegates" else cycle_scope(cycle.id)


def _project(proposal: Proposal) -> BallotProject:
    return BallotProject(proposal.id, proposal.cost_cents, proposal.region_id, proposal.school_id)


def ballot_projects(cycle: Cycle) -> list[BallotProject]:
    """The proposals on the cycle's ballot, as the ballot rules see them."""
    query = (
        sa.select(Proposal)
        .where(Proposal.cycle_id == cycle.id, Proposal.status.in_(BALLOT_STATUSES))
        .order_by(Proposal.id)
    )
    return [_project(p) for p in db.session.scalars(query)]


def _candidate_projects(cycle: Cycle) -> list[BallotProject]:
    # Before the freeze the ballot is not made yet: judge the rule by what may still go on it.
    query = (
        sa.select(Proposal)
        .where(Proposal.cycle_id == cycle.id, Proposal.status != ProposalStatus.REJECTED.value)
        .order_by(Proposal.id)
    )
    return [_project(p) for p in db.session.scalars(query)]


def _region_budgets(cycle: Cycle) -> dict[int, int]:
    query = sa.select(RegionBudget.region_id, RegionBudget.amount_cents).where(
        RegionBudget.cycle_id == cycle.id
    )
    return {region_id: amount for region_id, amount in db.session.execute(query)}


def _rule(settings: VotingSettings, cycle: Cycle) -> BallotRule:
    return BallotRule(
        kind=settings.ballot_rule,
        min_choices=settings.min_choices,
        max_choices=settings.max_choices,
        budget_cents=cycle.total_budget_cents,
        min_budget_share_percent=settings.min_budget_share_percent,
        per_region=settings.per_region,
        region_budgets=_region_budgets(cycle),
        own_group=_own_group(settings, cycle),
    )


def _own_group(settings: VotingSettings, cycle: Cycle) -> str | None:
    # OPCA's roll gives each pupil a school, the others' a region: "own region" is that.
    if not settings.own_region_only:
        return None
    return rules.OwnGroup.SCHOOL if cycle.kind == CycleKind.OPCA.value else rules.OwnGroup.REGION


def ballot_rule_for(cycle: Cycle) -> BallotRule:
    """The pure rule ballots of this cycle are validated with."""
    settings = settings_of(cycle)
    if settings.ballot_rule not in rules.RULE_KINDS:
        raise ValidationFailed(
            _l("The ballot rule of this cycle has not been chosen yet."), code="no_ballot_rule"
        )
    return _rule(settings, cycle)


# --- checking and saving -------------------------------------------------------------------


def _refuse(message, code: str) -> ValidationFailed:
    return ValidationFailed(message, code=code)


def _normalised(settings: VotingSettings) -> VotingSettings:
    """Drop the parameters the chosen rule does not read, so what is stored is what counts."""
    kind = settings.ballot_rule
    limits = kind in (RuleKind.ONE_PER_REGION, RuleKind.APPROVAL, RuleKind.KNAPSACK)
    per_region = settings.per_region and kind in (RuleKind.APPROVAL, RuleKind.KNAPSACK)
    return VotingSettings(
        **asdict(settings)
        | {
            "min_choices": settings.min_choices if limits else None,
            "max_choices": settings.max_choices if limits else None,
            "min_budget_share_percent": (
                settings.min_budget_share_percent if kind == RuleKind.KNAPSACK else None
            ),
            "per_region": per_region,
        }
    )


def _check(settings: VotingSettings, cycle: Cycle) -> None:
    if settings.ballot_rule not in rules.RULE_KINDS:
        raise _refuse(_l("Choose one of the ballot rules."), "unknown_ballot_rule")
    if settings.counting_rule not in COUNTING_RULES:
        raise _refuse(_l("Choose one of the counting rules."), "unknown_counting_rule")
    for value in (settings.min_choices, settings.max_choices):
        if value is not None and not 0 <= value <= MAX_LIMIT:
            raise _refuse(_RULE_MESSAGES[rules.INVALID_LIMIT], rules.INVALID_LIMIT)
    if settings.registry_scope not in REGISTRY_SCOPES:
        raise _refuse(_l("Choose which voter registry applies."), "unknown_registry_scope")
    ages = [a for a in (settings.min_voter_age, settings.max_voter_age) if a is not None]
    if any(not 0 <= a <= 130 for a in ages) or (
        len(ages) == 2 and settings.min_voter_age > settings.max_voter_age
    ):
        raise _refuse(_l("The age limits are not valid."), "invalid_ages")
    day = settings.age_reference_date
    if day is not None and not 1990 <= day.year <= 2200:
        raise _refuse(_l("The age reference date is not a plausible date."), "invalid_date")
    if (
        settings.restrict_region_id is not None
        and db.session.get(Region, settings.restrict_region_id) is None
    ):
        raise _refuse(_l("Unknown region."), "unknown_region")
    problems = rules.rule_problems(_rule(settings, cycle), _candidate_projects(cycle))
    if problems:
        raise _refuse(_RULE_MESSAGES[problems[0].code], problems[0].code)
    if COUNTING_RULES[settings.counting_rule].needs_budget and not (
        cycle.total_budget_cents or any(_region_budgets(cycle).values())
    ):
        raise _refuse(
            _l("This counting rule needs a budget: set the cycle's total budget first."),
            "counting_needs_budget",
        )


def _snapshot(settings: VotingSettings) -> dict:
    values = asdict(settings)
    if values["age_reference_date"] is not None:
        values["age_reference_date"] = values["age_reference_date"].isoformat()
    return values


def configure_voting(cycle: Cycle, settings: VotingSettings, actor) -> Cycle:
    """Check and store the cycle's voting settings; refused once the ballot is frozen."""
    ensure_ballot_open(cycle)
    settings = _normalised(settings)
    _check(settings, cycle)
    before = _snapshot(settings_of(cycle))
    cycle.ballot_rule = settings.ballot_rule
    cycle.counting_rule = settings.counting_rule
    # A new dict: the JSON column only notices assignment, not changes inside the old one.
    cycle.ballot_rule_params = {
        key: getattr(settings, key)
        for key in PARAM_KEYS
        if getattr(settings, key) is not None and getattr(settings, key) is not False
    }
    cycle.min_voter_age = settings.min_voter_age
    cycle.max_voter_age = settings.max_voter_age
    cycle.age_reference_date = settings.age_reference_date
    cycle.restrict_region_id = settings.restrict_region_id
    cycle.registry_scope = _scope_of(settings.registry_scope, cycle)
    cycle.shuffle_ballot = settings.shuffle_ballot
    cycle.show_running_totals = settings.show_running_totals
    audit.record(actor, "cycle.voting_settings", cycle, before=before, after=_snapshot(settings))
    db.session.commit()
    return cycle


def ensure_voting_configured(cycle: Cycle) -> None:
    """Refuse to freeze a ballot whose rule is missing or cannot be satisfied by its proposals.

    Meant to be called when the ballot is frozen, once the proposals on it are final; the
    caller (`cycles.lifecycle.advance`) rolls back on the error, as on its own refusals.
    """
    rule = ballot_rule_for(cycle)
    problems = rules.rule_problems(rule, ballot_projects(cycle), final=True)
    if problems:
        raise _refuse(_RULE_MESSAGES[problems[0].code], problems[0].code)
