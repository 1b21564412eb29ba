"""Ballot rules: which sets of choices a voter may cast, and what is left as they pick.

Pure: standard library only. The web ballot page, the JSON API, the cast service and any
independent verifier all call `validate_ballot`, so "a valid ballot" means one thing everywhere.

Rule kinds (`RuleKind`) and the parameters each reads (others are ignored):

- ``one-per-region`` (BH 2006 and 2011): at most one project in each region, so up to one per
  region. At least ``min_choices`` projects in all (default 1); ``max_choices`` optionally caps
  the number of regions a voter may choose in.
- ``one-city-wide`` (BH 2008 and 2013): exactly one project among all. No parameters.
- ``approval``: between ``min_choices`` (default 1) and ``max_choices`` (default: no limit)
  projects. With ``per_region`` the limits hold within each region separately (see below).
- ``knapsack`` (as Decidim): the total cost of the choices is at most ``budget_cents`` and, when
  ``min_budget_share_percent`` is set, at least that share of it (rounded up to the centavo);
  ``min_choices`` / ``max_choices`` apply as for approval. With ``per_region`` each region's
  choices must fit that region's budget (``region_budgets``) instead, and the minimum share is
  a share of that region's budget.

Per region (``per_region=True``, approval and knapsack): a voter may leave a region out. The
maximum applies in every region; the minimum number of choices and the minimum budget share apply
only in the regions where the voter chose something. The ballot as a whole must still not be
empty, unless ``min_choices`` is 0. Projects without a region form one city-wide group, held to
``budget_cents`` (settings refuse such projects under per-region rules; this only keeps the
function total).

Own region only (``own_group``, "region" or "school"): each voter may choose only projects of
their home, the region (or, in OPCA, the school) the roll gives them, so one cycle serves every
region. `validate_ballot` checks it when given the voter's ``home``; before the voter is known
(the API checks the ballot before identifying), `choices_home` finds the one home the choices
share, which the cast then compares with the voter's. The other limits apply to the voter's
home as to the whole ballot.

A blank ballot (no choices) is accepted only when ``min_choices`` is 0 (never for
``one-city-wide``); the minimum budget share does not apply to it.

Choices are proposal ids: ints, or strings of decimal digits in canonical form ("12", not "012",
" 12" or "+12"), because HTML forms and the JSON API's documented example send text. Booleans,
floats, None and anything else are not ids.

Problem codes (stable; the API returns them, the pages translate them), in the order reported:

1. per choice, in the order given: ``not_an_id`` {index, value}, ``unknown_project`` {index, id}
   (not on this cycle's ballot: covers proposals of another cycle), ``duplicate`` {index, id}
   (reported once per id, at its second occurrence); with a ``home``, ``not_your_region``
   {index, id} (a project outside the voter's home);
2. for the ballot as a whole: ``not_a_list`` {} (choices is not a list: nothing else is checked),
   ``empty`` {}, ``too_few`` {min, count}, ``too_many`` {max, count}, ``over_budget``
   {budget_cents, total_cents, excess_cents}, ``under_min_share`` {percent, min_cents,
   total_cents, missing_cents};
3. per region, regions in ascending id order (the city-wide group first): ``two_in_region``
   {region_id, ids, count}, ``too_few_in_region`` {region_id, min, count}, ``too_many_in_region``
   {region_id, max, count}, ``over_budget_in_region`` {region_id, budget_cents, total_cents,
   excess_cents}, ``under_min_share_in_region`` {region_id, percent, min_cents, total_cents,
   missing_cents}.

Counts and costs are taken over the distinct known ids, so one mistake is not reported twice.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Protocol, TypeVar


class RuleKind(StrEnum):
    ONE_PER_REGION = "one-per-region"
    ONE_CITY_WIDE = "one-city-wide"
    APPROVAL = "approval"
    KNAPSACK = "knapsack"


RULE_KINDS: tuple[str, ...] = tuple(k.value for k in RuleKind)

# Ballot problem codes.
NOT_A_LIST = "not_a_list"
NOT_AN_ID = "not_an_id"
UNKNOWN_PROJECT = "unknown_project"
DUPLICATE = "duplicate"
EMPTY = "empty"
TOO_FEW = "too_few"
TOO_MANY = "too_many"
OVER_BUDGET = "over_budget"
UNDER_MIN_SHARE = "under_min_share"
TWO_IN_REGION = "two_in_region"
TOO_FEW_IN_REGION = "too_few_in_region"
TOO_MANY_IN_REGION = "too_many_in_region"
OVER_BUDGET_IN_REGION = "over_budget_in_region"
UNDER_MIN_SHARE_IN_REGION = "under_min_share_in_region"
NOT_YOUR_REGION = "not_your_region"
SEVERAL_REGIONS = "several_regions"


class OwnGroup(StrEnum):
    """What "own region only" compares (`BallotRule.own_group`): the roll's region or school."""

    REGION = "region"
    SCHOOL = "school"


# Rule (configuration) problem codes, from `rule_problems`.
INVALID_LIMIT = "invalid_limit"
MIN_ABOVE_MAX = "min_above_max"
SHARE_OUT_OF_RANGE = "share_out_of_range"
NO_BUDGET = "no_budget"
NO_REGION_BUDGET = "no_region_budget"
PROJECT_WITHOUT_REGION = "project_without_region"
MIN_ABOVE_AVAILABLE = "min_above_available"

# Canonical decimal text of an id; ASCII digits only (str.isdigit would accept "²").
_ID_TEXT = re.compile(r"0|[1-9][0-9]{0,17}")


@dataclass(frozen=True)
class BallotProject:
    """A project as the ballot rules see it: its id, cost, region (None: city-wide), school."""

    id: int
    cost_cents: int
    region_id: int | None = None
    school_id: int | None = None


@dataclass(frozen=True)
class Problem:
    """One reason a ballot (or a rule) is refused: a stable code and the numbers behind it."""

    code: str
    detail: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        """JSON-ready form, as the API reports it."""
        return {"code": self.code, "detail": dict(self.detail)}


@dataclass(frozen=True)
class BallotRule:
    """A cycle's ballot rule; see the module docstring for what each kind reads."""

    kind: str
    min_choices: int | None = None
    max_choices: int | None = None
    budget_cents: int | None = None
    min_budget_share_percent: int | None = None
    per_region: bool = False
    region_budgets: Mapping[int, int] = field(default_factory=dict)
    own_group: str | None = None  # an OwnGroup: each voter chooses at home only

    def __post_init__(self) -> None:
        if self.kind not in RULE_KINDS:
            raise ValueError(f"unknown ballot rule kind: {self.kind!r}")
        if self.own_group not in (None, *OwnGroup):
            raise ValueError(f"unknown home: {self.own_group!r}")
        # A read-only copy, so a frozen rule cannot be changed through the caller's dict.
        object.__setattr__(self, "region_budgets", MappingProxyType(dict(self.region_budgets)))

    @property
    def by_region(self) -> bool:
        """True when limits hold within each region (per_region only means that for some kinds)."""
        return self.per_region and self.kind in (RuleKind.APPROVAL, RuleKind.KNAPSACK)

    def group_budget(self, region_id: int | None) -> int:
        """The budget a region's choices must fit under a per-region knapsack rule."""
        if region_id is None:
            return self.budget_cents or 0
        return self.region_budgets.get(region_id, 0)


class _Placed(Protocol):
    @property
    def id(self) -> int: ...

    @property
    def region_id(self) -> int | None: ...


P = TypeVar("P", bound=_Placed)


# --- choices -------------------------------------------------------------------------------


def as_id(value: object) -> int | None:
    """The proposal id a choice stands for, or None when it is not an id at all."""
    if isinstance(value, bool):  # True == 1 in Python, but a checkbox is not project 1
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _ID_TEXT.fullmatch(value):
        return int(value)
    return None


def _shown(value: object) -> str:
    # Echo a little of the bad value so the voter can find it, never a whole payload.
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _group_key(region_id: int | None) -> tuple[bool, int]:
    return (region_id is not None, region_id or 0)


def _groups(chosen: Iterable[BallotProject]) -> dict[int | None, list[BallotProject]]:
    groups: dict[int | None, list[BallotProject]] = {}
    for project in chosen:
        groups.setdefault(project.region_id, []).append(project)
    return {k: groups[k] for k in sorted(groups, key=_group_key)}


def _read_choices(
    projects: Sequence[BallotProject], choices: Sequence[object]
) -> tuple[list[BallotProject], list[Problem]]:
    """The distinct known projects chosen, and the per-choice problems, in the order given."""
    catalogue = {p.id: p for p in projects}
    seen: dict[int, int] = {}
    chosen: list[BallotProject] = []
    problems: list[Problem] = []
    for index, value in enumerate(choices):
        project_id = as_id(value)
        if project_id is None:
            problems.append(Problem(NOT_AN_ID, {"index": index, "value": _shown(value)}))
        elif project_id not in catalogue:
            problems.append(Problem(UNKNOWN_PROJECT, {"index": index, "id": project_id}))
        else:
            seen[project_id] = seen.get(project_id, 0) + 1
            if seen[project_id] == 1:
                chosen.append(catalogue[project_id])
            elif seen[project_id] == 2:
                problems.append(Problem(DUPLICATE, {"index": index, "id": project_id}))
    return chosen, problems


def _is_list(choices: object) -> bool:
    return isinstance(choices, Sequence) and not isinstance(choices, str | bytes | bytearray)


# --- validation ----------------------------------------------------------------------------


def overall_limits(rule: BallotRule) -> tuple[int, int | None]:
    """(minimum, maximum or None) number of choices on the whole ballot."""
    if rule.kind == RuleKind.ONE_CITY_WIDE:
        return 1, 1
    if rule.by_region:
        return (0 if rule.min_choices == 0 else 1), None
    low = 1 if rule.min_choices is None else rule.min_choices
    return low, rule.max_choices


def region_limits(rule: BallotRule) -> tuple[int, int | None]:
    """(minimum, maximum or None) choices within a region the voter chose in."""
    if rule.kind == RuleKind.ONE_PER_REGION:
        return 0, 1
    if rule.by_region:
        return (1 if rule.min_choices is None else rule.min_choices), rule.max_choices
    return 0, None


def _min_share_cents(budget: int, percent: int | None) -> int:
    if not percent:
        return 0
    return -(-budget * percent // 100)  # rounded up: "at least 50 %" of R$ 0,01 is R$ 0,01


def _count_problems(
    count: int, low: int, high: int | None, scope: dict | None = None
) -> list[Problem]:
    """Too few / too many; `scope` ({"region_id": ...}) makes them the per-region codes."""
    problems = []
    if count < low:
        code = TOO_FEW if scope is None else TOO_FEW_IN_REGION
        problems.append(Problem(code, (scope or {}) | {"min": low, "count": count}))
    if high is not None and count > high:
        code = TOO_MANY if scope is None else TOO_MANY_IN_REGION
        problems.append(Problem(code, (scope or {}) | {"max": high, "count": count}))
    return problems


def _budget_problems(
    total: int, budget: int, percent: int | None, scope: dict | None = None
) -> list[Problem]:
    """Over the budget / under the minimum share, overall or (with `scope`) in one region."""
    problems = []
    if total > budget:
        code = OVER_BUDGET if scope is None else OVER_BUDGET_IN_REGION
        detail = {"budget_cents": budget, "total_cents": total, "excess_cents": total - budget}
        problems.append(Problem(code, (scope or {}) | detail))
    need = _min_share_cents(budget, percent)
    if total < need:
        code = UNDER_MIN_SHARE if scope is None else UNDER_MIN_SHARE_IN_REGION
        detail = {
            "percent": percent,
            "min_cents": need,
            "total_cents": total,
            "missing_cents": need - total,
        }
        problems.append(Problem(code, (scope or {}) | detail))
    return problems


# `validate_ballot`'s default: the voter is not known yet, so their home is not checked.
UNKNOWN_HOME = object()


def home_of(rule: BallotRule, project: BallotProject) -> int | None:
    """The region (or school) a project belongs to, as `rule.own_group` compares them."""
    return project.school_id if rule.own_group == OwnGroup.SCHOOL else project.region_id


def at_home(
    rule: BallotRule, projects: Sequence[BallotProject], home: int | None
) -> list[BallotProject]:
    """The projects a voter of `home` may choose: all of them unless the rule is own-region."""
    if rule.own_group is None:
        return list(projects)
    return [p for p in projects if home is not None and home_of(rule, p) == home]


def _away_problems(
    rule: BallotRule, projects: Sequence[BallotProject], choices: Sequence[object], home
) -> list[Problem]:
    catalogue = {p.id: p for p in projects}
    problems = []
    for index, value in enumerate(choices):
        project = catalogue.get(as_id(value))  # type: ignore[arg-type]
        if project is not None and (home is None or home_of(rule, project) != home):
            problems.append(Problem(NOT_YOUR_REGION, {"index": index, "id": project.id}))
    return problems


def choices_home(
    rule: BallotRule, projects: Sequence[BallotProject], choices: Sequence[object]
) -> tuple[int | None, list[Problem]]:
    """Under an own-region rule, the one home the known choices share (None when there is no
    such choice, or the rule is not own-region), and ``several_regions`` {homes} when they span
    more than one: no voter may cast that, whoever they are."""
    if rule.own_group is None or not _is_list(choices):
        return None, []
    chosen, _ = _read_choices(projects, choices)
    homes = sorted({home_of(rule, p) for p in chosen}, key=_group_key)
    if len(homes) > 1:
        return None, [Problem(SEVERAL_REGIONS, {"homes": homes})]
    return (homes[0] if homes else None), []


def validate_ballot(
    rule: BallotRule,
    projects: Sequence[BallotProject],
    choices: Sequence[object],
    *,
    home: object = UNKNOWN_HOME,
) -> list[Problem]:
    """Every problem with `choices` under `rule`, in a fixed order; an empty list means valid.

    `home`: the voter's region (or school) under an own-region rule; left out, it is not
    checked (see `choices_home`)."""
    if not _is_list(choices):
        return [Problem(NOT_A_LIST)]
    chosen, problems = _read_choices(projects, choices)
    if rule.own_group is not None and home is not UNKNOWN_HOME:
        problems += _away_problems(rule, projects, choices, home)
    low, high = overall_limits(rule)
    if not choices:
        return problems + ([Problem(EMPTY)] if low > 0 else [])
    problems += _count_problems(len(chosen), low, high)
    knapsack = rule.kind == RuleKind.KNAPSACK
    share = rule.min_budget_share_percent
    if knapsack and not rule.by_region and chosen:
        total = sum(p.cost_cents for p in chosen)
        problems += _budget_problems(total, rule.budget_cents or 0, share)
    region_low, region_high = region_limits(rule)
    for region_id, members in _groups(chosen).items():
        if rule.kind == RuleKind.ONE_PER_REGION:
            if len(members) > 1:
                ids = sorted(p.id for p in members)
                problems.append(
                    Problem(TWO_IN_REGION, {"region_id": region_id, "ids": ids, "count": len(ids)})
                )
        elif rule.by_region:
            scope = {"region_id": region_id}
            problems += _count_problems(len(members), region_low, region_high, scope)
            if knapsack:
                total = sum(p.cost_cents for p in members)
                problems += _budget_problems(total, rule.group_budget(region_id), share, scope)
    return problems


def is_valid(
    rule: BallotRule, projects: Sequence[BallotProject], choices: Sequence[object]
) -> bool:
    """True when `validate_ballot` finds nothing."""
    return not validate_ballot(rule, projects, choices)


def normalised_choices(projects: Sequence[BallotProject], choices: Sequence[object]) -> list[int]:
    """The ids of a (validated) ballot as stored: distinct and sorted, so order reveals nothing."""
    chosen, _ = _read_choices(projects, choices)
    return sorted(p.id for p in chosen)


# --- what is left as the voter picks -------------------------------------------------------


@dataclass(frozen=True)
class GroupRemaining:
    """What is left in one region (None: the city-wide group)."""

    region_id: int | None
    chosen: int
    choices_left: int | None  # None: no limit on the number of choices
    budget_cents: int | None  # None: no budget applies to this region alone
    spent_cents: int
    budget_left_cents: int | None  # negative when over the budget
    share_missing_cents: int  # still to spend to reach the minimum share, 0 when reached


@dataclass(frozen=True)
class Remaining:
    """What the ballot page shows beside the choices; invalid choices are left out."""

    chosen: int
    choices_left: int | None
    budget_cents: int | None
    spent_cents: int
    budget_left_cents: int | None
    share_missing_cents: int
    regions: tuple[GroupRemaining, ...]

    def region(self, region_id: int | None) -> GroupRemaining | None:
        return next((g for g in self.regions if g.region_id == region_id), None)


def _left(limit: int | None, used: int) -> int | None:
    return None if limit is None else max(limit - used, 0)


def _share_missing(budget: int | None, percent: int | None, spent: int, chosen: int) -> int:
    """Still to spend to reach the minimum share of `budget`; nothing is owed before a choice."""
    if budget is None or not chosen:
        return 0
    return max(_min_share_cents(budget, percent) - spent, 0)


def remaining(
    rule: BallotRule, projects: Sequence[BallotProject], choices: Sequence[object]
) -> Remaining:
    """Remaining budget (total and per region) or remaining choices after `choices`."""
    chosen = _read_choices(projects, choices)[0] if _is_list(choices) else []
    by_group = _groups(chosen)
    knapsack = rule.kind == RuleKind.KNAPSACK
    share = rule.min_budget_share_percent
    regions = []
    for region_id in sorted({p.region_id for p in projects}, key=_group_key):
        members = by_group.get(region_id, [])
        spent = sum(p.cost_cents for p in members)
        budget = rule.group_budget(region_id) if knapsack and rule.by_region else None
        if rule.kind == RuleKind.ONE_PER_REGION:
            left = _left(1, len(members))
        else:
            left = _left(region_limits(rule)[1], len(members))
        regions.append(
            GroupRemaining(
                region_id=region_id,
                chosen=len(members),
                choices_left=left,
                budget_cents=budget,
                spent_cents=spent,
                budget_left_cents=None if budget is None else budget - spent,
                share_missing_cents=_share_missing(budget, share, spent, len(members)),
            )
        )
    spent = sum(p.cost_cents for p in chosen)
    high = overall_limits(rule)[1]
    if rule.kind == RuleKind.ONE_PER_REGION:
        # Up to one in each region, and no more than max_choices regions when that is set.
        open_regions = sum(1 for g in regions if g.chosen == 0)
        left = open_regions if high is None else min(open_regions, _left(high, len(chosen)))
    else:
        left = _left(high, len(chosen))
    budget = (rule.budget_cents or 0) if knapsack and not rule.by_region else None
    return Remaining(
        chosen=len(chosen),
        choices_left=left,
        budget_cents=budget,
        spent_cents=spent,
        budget_left_cents=None if budget is None else budget - spent,
        share_missing_cents=_share_missing(budget, share, spent, len(chosen)),
        regions=tuple(regions),
    )


# --- the order of the ballot ---------------------------------------------------------------


def ordered(projects: Iterable[P]) -> list[P]:
    """The ballot order when shuffling is off: by region id, city-wide projects last, then id."""
    return sorted(projects, key=lambda p: (p.region_id is None, p.region_id or 0, p.id))


def shuffled(projects: Iterable[P], seed: bytes) -> list[P]:
    """A per-voter order (as Stanford PB does), the same every time for the same seed.

    The order depends only on the seed and the set of projects, not on the order given. A page
    that groups the result by region (a stable grouping) keeps the shuffle within each region.
    """
    if not isinstance(seed, bytes | bytearray):
        raise TypeError("seed must be bytes")
    items = ordered(projects)
    digest = hashlib.sha256(b"opdigital ballot order\x00" + bytes(seed)).digest()
    # Not for secrecy: the order only has to be fair and repeatable for one voter.
    random.Random(int.from_bytes(digest, "big")).shuffle(items)  # noqa: S311
    return items


# --- checking a rule before it is used -----------------------------------------------------


def _available(rule: BallotRule, projects: Sequence[BallotProject]) -> int:
    """The most choices `min_choices` can ask for with these projects."""
    groups = _groups(projects)
    if rule.kind == RuleKind.ONE_PER_REGION:
        return len(groups)
    if rule.by_region:
        return max((len(m) for m in groups.values()), default=0)
    return len(projects)


def rule_problems(
    rule: BallotRule, projects: Sequence[BallotProject] = (), *, final: bool = False
) -> list[Problem]:
    """What makes `rule` unusable with `projects`; with `final`, the ballot is complete, so
    the minimum number of choices must also be reachable."""
    problems: list[Problem] = []
    uses_limits = rule.kind != RuleKind.ONE_CITY_WIDE
    low, high = rule.min_choices, rule.max_choices
    if uses_limits:
        if low is not None and low < 0:
            problems.append(Problem(INVALID_LIMIT, {"name": "min_choices", "value": low}))
        if high is not None and high < 1:
            problems.append(Problem(INVALID_LIMIT, {"name": "max_choices", "value": high}))
        if low is not None and high is not None and low > high:
            problems.append(Problem(MIN_ABOVE_MAX, {"min": low, "max": high}))
    if rule.kind == RuleKind.KNAPSACK:
        share = rule.min_budget_share_percent
        if share is not None and not 0 <= share <= 100:
            problems.append(Problem(SHARE_OUT_OF_RANGE, {"percent": share}))
        if not rule.by_region and not rule.budget_cents:
            problems.append(Problem(NO_BUDGET))
        elif rule.by_region:
            if not any(v > 0 for v in rule.region_budgets.values()):
                problems.append(Problem(NO_BUDGET))
            else:
                for region_id in sorted({p.region_id for p in projects if p.region_id}):
                    if rule.region_budgets.get(region_id, 0) <= 0:
                        problems.append(Problem(NO_REGION_BUDGET, {"region_id": region_id}))
    if rule.kind == RuleKind.ONE_PER_REGION or rule.by_region or rule.own_group == OwnGroup.REGION:
        for project in sorted(projects, key=lambda p: p.id):
            if project.region_id is None:
                problems.append(Problem(PROJECT_WITHOUT_REGION, {"id": project.id}))
    if final and uses_limits and low:
        available = _available(rule, projects)
        if rule.own_group is not None:  # every voter must be able to reach it, at home
            homes = {home_of(rule, p) for p in projects}
            available = min(
                (_available(rule, at_home(rule, projects, h)) for h in homes), default=0
            )
        if low > available:
            problems.append(Problem(MIN_ABOVE_AVAILABLE, {"min": low, "available": available}))
    return problems
