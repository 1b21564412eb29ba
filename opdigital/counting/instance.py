"""What the counting rules count: projects with costs, a budget, and approval ballots.

Pure: standard library only. Project ids are ints (proposal ids) or strings (Pabulib files);
money is an int or an exact `Fraction` in whatever unit the caller uses (centavos in the app,
currency units in Pabulib files), never a float, so ties are ties.

Ballots may be given as any iterable of approval sets (one per voter), or as a `Profile`: the
distinct approval sets and how many voters cast each, which is what makes a million ballots cheap.

Tie-break (every rule, documented in docs and the tally): among projects a rule cannot otherwise
separate, the one with MORE approvals wins, then the CHEAPER one, then the one with the LOWER id
(ids made of decimal digits compare as numbers and come before other ids, which compare as text).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from itertools import chain
from operator import mul
from types import MappingProxyType
from typing import TypeAlias

ProjectId: TypeAlias = int | str
Region: TypeAlias = int | str
Money: TypeAlias = int | Fraction


class CountingError(ValueError):
    """The instance or the ballots cannot be counted (unknown project, negative cost...)."""


@dataclass(frozen=True)
class Project:
    """A project on the ballot: its id, cost and region (None: city-wide)."""

    id: ProjectId
    cost: Money
    region: Region | None = None


@dataclass(frozen=True)
class Instance:
    """Projects, the budget, and (for per-region rules) each region's own budget."""

    projects: tuple[Project, ...]
    budget: Money
    region_budgets: Mapping[Region, Money] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "projects", tuple(self.projects))
        object.__setattr__(self, "region_budgets", MappingProxyType(dict(self.region_budgets)))
        seen: set[ProjectId] = set()
        for project in self.projects:
            if project.id in seen:
                raise CountingError(f"project {project.id!r} appears twice")
            if isinstance(project.cost, float) or project.cost < 0:
                raise CountingError(f"project {project.id!r}: the cost must be exact and >= 0")
            seen.add(project.id)
        if isinstance(self.budget, float) or self.budget < 0:
            raise CountingError("the budget must be exact and >= 0")

    def by_id(self) -> dict[ProjectId, Project]:
        """The projects keyed by id."""
        return {p.id: p for p in self.projects}

    def group_budget(self, region: Region | None) -> Money:
        """A region's own budget; projects without a region share the city-wide budget."""
        if region is None:
            return self.budget
        return self.region_budgets.get(region, 0)


@dataclass(frozen=True)
class Profile:
    """Approval ballots as distinct sets with their number of voters (empty sets count too)."""

    ballots: tuple[tuple[ProjectId, ...], ...]
    weights: tuple[int, ...]

    @property
    def num_voters(self) -> int:
        """Every voter, including those who approved nothing."""
        return sum(self.weights)

    @cached_property
    def approvals(self) -> Mapping[ProjectId, int]:
        """Voters approving each project they name (a walk over every approval of every voter:
        kept, as several rules and the tally ask for it; a frozen dataclass's `cached_property`
        is stored in the instance's own dict, not through its frozen fields)."""
        # Repeating each distinct ballot by its weight lets Counter do the sum at C speed.
        return MappingProxyType(Counter(chain.from_iterable(map(mul, self.ballots, self.weights))))

    def expanded(self) -> list[tuple[ProjectId, ...]]:
        """One approval set per voter (for tests and small instances)."""
        return [b for b, w in zip(self.ballots, self.weights, strict=True) for _ in range(w)]


def profile_of(ballots: Profile | Iterable[Iterable[ProjectId]]) -> Profile:
    """A `Profile` from per-voter approval sets (a Profile is returned as is)."""
    if isinstance(ballots, Profile):
        return ballots
    # frozenset: a voter approving a project twice approves it once; order carries no meaning.
    counts = Counter(map(frozenset, ballots))
    return Profile(tuple(tuple(sorted(b, key=id_order)) for b in counts), tuple(counts.values()))


def id_order(project_id: ProjectId) -> tuple[int, int, str]:
    """Sort key of ids: decimal ids as numbers first, then the others as text."""
    if isinstance(project_id, int):
        return (0, project_id, "")
    if project_id.isascii() and project_id.isdigit():
        return (0, int(project_id), "")
    return (1, 0, project_id)


def approval_counts(instance: Instance, profile: Profile) -> dict[ProjectId, int]:
    """Voters approving each project (every project of the instance present, maybe with 0)."""
    counts = profile.approvals
    known = instance.by_id()
    unknown = [pid for pid in counts if pid not in known]
    if unknown:
        raise CountingError(f"a ballot approves an unknown project: {sorted(map(str, unknown))[0]}")
    return {p.id: counts.get(p.id, 0) for p in instance.projects}


def tie_key(project: Project, approvals: Mapping[ProjectId, int]) -> tuple:
    """The documented tie-break order: more approvals, then lower cost, then lower id."""
    return (-approvals[project.id], project.cost, id_order(project.id))
