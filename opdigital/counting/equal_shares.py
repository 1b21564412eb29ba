"""The Method of Equal Shares with cost utilities, and Equal Shares completed (Add1 + greedy).

Equal Shares (`method_of_equal_shares`), exactly as pabutools' `method_of_equal_shares` with
`Cost_Sat`: the budget is split equally among all voters (B/n each, exact fractions). A project
costing c is affordable at price rho when its supporters, each paying min(budget, rho * c), can
pay c. Round after round the project with the smallest rho is funded and its supporters pay;
projects their supporters can no longer afford drop out; the rule stops when none is left.
A zero-cost project brings no cost utility, so Equal Shares never funds it (the completion
does). Ties in rho are broken as in `instance.tie_key`. With cost utilities rho = q / c, q
being what a full-paying supporter pays, so the most approved project goes first.

Completed (`mes_completed`): Equal Shares usually leaves money unspent. We complete it as
Wrocław's civic budget and the equalshares.net tool do ("Add1U"): rerun Equal Shares with each
voter's budget raised by `increment` (1 currency unit by default) at a time, while the result
still fits the real budget, stopping at the first exhaustive one (no unfunded supported project
fits the money left); take the last result that fit, then fund what still fits by greedy by
votes. This equals pabutools' `completion_by_rule_combination` of `method_of_equal_shares`
(`Cost_Sat`, `voter_budget_increment=increment`) then `greedy_utilitarian_welfare` (`Cost_Sat`).

Speed: see `mes_engine` (weighted ballot types, budget classes, float screening with exact
decisions).
"""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction

from opdigital.counting.greedy import greedy_completion
from opdigital.counting.instance import Instance, Money, Profile, ProjectId, profile_of
from opdigital.counting.mes_engine import Prepared, Run, prepare


def _selected_ids(prep: Prepared, chosen: list[int]) -> list[ProjectId]:
    return [prep.ids[i] for i in chosen]


def method_of_equal_shares(
    instance: Instance, ballots: Profile | Iterable[Iterable[ProjectId]]
) -> list[ProjectId]:
    """Projects funded by Equal Shares with cost utilities, in funding order."""
    profile = profile_of(ballots)
    prep = prepare(instance, profile)
    if prep.num_voters == 0:
        return []
    return _selected_ids(prep, Run(prep, Fraction(instance.budget) / prep.num_voters).execute())


def _exhaustive(prep: Prepared, chosen: list[int], budget: Money) -> bool:
    """No supported, not funded, positive-cost project fits in the money left."""
    left = budget - sum(prep.costs[i] for i in chosen)
    taken = set(chosen)
    return not any(
        i not in taken and c > 0 and prep.approvals[i] > 0 and c <= left
        for i, c in enumerate(prep.costs)
    )


def mes_completed(
    instance: Instance,
    ballots: Profile | Iterable[Iterable[ProjectId]],
    increment: Money = 1,
) -> list[ProjectId]:
    """Equal Shares with Add1 (per-voter `increment`) then greedy completion; funding order."""
    if increment <= 0:
        raise ValueError("increment must be positive")
    profile = profile_of(ballots)
    prep = prepare(instance, profile)
    chosen: list[int] = []
    if prep.num_voters:
        per_voter = Fraction(instance.budget) / prep.num_voters
        previous: list[int] = []
        while True:
            outcome = Run(prep, per_voter).execute()
            if sum(prep.costs[i] for i in outcome) > instance.budget:
                chosen = previous
                break
            if _exhaustive(prep, outcome, instance.budget):
                chosen = outcome
                break
            previous = outcome
            per_voter += increment
    ids = _selected_ids(prep, chosen)
    return ids + greedy_completion(instance, profile, ids)
