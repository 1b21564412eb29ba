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

Without running Equal Shares once per increment: that loop is as long as the budget divided by
the increment (a forged tally package asked for one centavo at a time on a huge budget, and the
verifier never finished). The outcome is the same as one increment at a time, but the
completion steps straight to the next budget at which the outcome can change:
- an outcome that is not exhaustive and fits gives the next budgets nothing new until it
  changes (they would neither stop the search nor be kept), so only where it changes matters;
- `mes_stepper.Stepper.next_change` finds, exactly, the first budget on the grid at which a run
  may not fund the same winners in the same order: it replays them with every voter's money
  and every price as exact lines in the budget, between the points where a voter group starts
  paying the full share or has money again (`mes_sweep.Sweep`);
- once the budget per voter reaches the total cost of the supported projects, each voter
  alone can pay for any of them, so Equal Shares funds them all: an exhaustive outcome, where
  the completion stops whatever happens before. The search is bounded by that budget.
So Equal Shares runs once per outcome met, not once per increment: R$ 100 bilhões one centavo
at a time takes 2 runs (tests/test_equal_shares_stepping.py). Where outcomes change every few
increments and the search would cost more than running Equal Shares (real votes: many groups
of voters moving between paying the share and paying all they have), the stepper measures both
and runs Equal Shares at the next budgets instead for a while (see `Stepper`).

Speed: see `mes_engine` (weighted ballot types, classes of voters by the winners they approve,
counted once for all the runs, float screening with exact decisions).
"""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction
from math import ceil
from time import process_time

from opdigital.counting.greedy import greedy_completion
from opdigital.counting.instance import Instance, Money, Profile, ProjectId, profile_of
from opdigital.counting.mes_engine import Prepared, Run, prepare
from opdigital.counting.mes_stepper import Stepper


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


def _run(prep: Prepared, per_voter: Fraction, stepper: Stepper) -> list[int]:
    began = process_time()
    outcome = Run(prep, per_voter).execute()
    stepper.ran(process_time() - began)
    return outcome


def _add1u(prep: Prepared, budget: Money, increment: Money) -> list[int]:
    """Equal Shares raised by `increment` per voter until exhaustive or over `budget`.

    The same outcome as trying every k = 0, 1, 2... in turn (see the module docstring): the
    last outcome that fits before the first that does not, or the first exhaustive one.
    """
    start = Fraction(budget) / prep.num_voters
    supported = sum(c for c, n in zip(prep.costs, prep.approvals, strict=True) if c > 0 and n)
    # At `last` increments every voter alone affords every supported project: all are funded,
    # an exhaustive outcome, so the search stops there at the latest.
    last = max(0, ceil((supported - start) / increment))
    k = 0
    stepper = Stepper(prep, start, increment, last)
    outcome = _run(prep, start, stepper)
    previous: list[int] = []
    while True:
        if sum(prep.costs[i] for i in outcome) > budget:
            return previous
        if _exhaustive(prep, outcome, budget):
            return outcome
        if k >= last:  # cannot happen (see above); never loop on a bug
            raise AssertionError("Equal Shares completed passed its last budget")
        previous = outcome
        # Not exhaustive and it fits: every budget before the next change gives this outcome
        # again, so neither stops the search.
        k = stepper.next_change(outcome, k)
        outcome = _run(prep, start + k * increment, stepper)


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
    chosen = _add1u(prep, instance.budget, increment) if prep.num_voters else []
    ids = _selected_ids(prep, chosen)
    return ids + greedy_completion(instance, profile, ids)
