"""Greedy by votes within a budget (Decidim, CONSUL, most city PB), and per-region plurality.

Greedy: projects in order of approvals (most first, ties as in `instance.tie_key`); each is
funded if its cost fits what is left, otherwise skipped, and the next one is tried (skip and
continue). This is pabutools' `greedy_utilitarian_welfare` with `Cost_Sat` (its satisfaction per
unit of cost is the number of approvals). As there, a project nobody approved is still funded
when money is left over: the rule spends the budget, the votes only set the order.

Per region: each region's projects are counted the same way against that region's own budget;
projects without a region form one city-wide group held to the instance budget.

Plurality per region (BH 2006 and 2011): in each region (and in the city-wide group, if any) the
most approved project is selected, whatever it costs; a group where nobody voted selects nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from opdigital.counting.instance import (
    Instance,
    Money,
    Profile,
    Project,
    ProjectId,
    Region,
    approval_counts,
    id_order,
    profile_of,
    tie_key,
)


def _fill(
    projects: Sequence[Project],
    budget: Money,
    approvals: dict[ProjectId, int],
    chosen: Sequence[ProjectId] = (),
) -> list[ProjectId]:
    """Skip-and-continue over `projects` by votes; `chosen` is already funded from `budget`."""
    taken = set(chosen)
    by_id = {p.id: p for p in projects}
    left = budget - sum(by_id[pid].cost for pid in chosen if pid in by_id)
    selected: list[ProjectId] = []
    for project in sorted(projects, key=lambda p: tie_key(p, approvals)):
        if project.id not in taken and project.cost <= left:
            selected.append(project.id)
            left -= project.cost
    return selected


def _groups(instance: Instance) -> dict[Region | None, list[Project]]:
    groups: dict[Region | None, list[Project]] = {}
    for project in instance.projects:
        groups.setdefault(project.region, []).append(project)
    # The city-wide group first, then regions in id order: the output order is stable.
    return dict(sorted(groups.items(), key=lambda kv: (kv[0] is not None, _region_key(kv[0]))))


def _region_key(region: Region | None) -> tuple:
    return (0, 0, "") if region is None else id_order(region)


def greedy(
    instance: Instance,
    ballots: Profile | Iterable[Iterable[ProjectId]],
    per_region: bool = False,
) -> list[ProjectId]:
    """Projects funded by greedy-by-votes, in the order they were funded."""
    approvals = approval_counts(instance, profile_of(ballots))
    if not per_region:
        return _fill(instance.projects, instance.budget, approvals)
    selected: list[ProjectId] = []
    for region, projects in _groups(instance).items():
        selected += _fill(projects, instance.group_budget(region), approvals)
    return selected


def greedy_completion(
    instance: Instance, profile: Profile, chosen: Sequence[ProjectId]
) -> list[ProjectId]:
    """What greedy adds after `chosen` with the budget left (the completion of Equal Shares)."""
    return _fill(instance.projects, instance.budget, approval_counts(instance, profile), chosen)


def plurality_per_region(
    instance: Instance, ballots: Profile | Iterable[Iterable[ProjectId]]
) -> list[ProjectId]:
    """The most approved project of each region (and of the city-wide group), ties broken."""
    approvals = approval_counts(instance, profile_of(ballots))
    selected: list[ProjectId] = []
    for projects in _groups(instance).values():
        best = min(projects, key=lambda p: tie_key(p, approvals))
        if approvals[best.id] > 0:
            selected.append(best.id)
    return selected
