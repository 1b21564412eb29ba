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
completion skips, without running them, the budgets at which it proves the outcome unchanged:
- when the outcome at a budget is the same as at the budget before (two runs, compared), it
  proves how far above it the outcome lasts: `mes_engine.Linear` (exact while no voter moves
  between paying the share and paying all they have), then `Run.repeats` (a replay of the
  outcome's winners at a larger budget, which proves it for every budget in between), probing
  twice as far, four times... and bisecting; it jumps to the first budget it cannot prove. An
  unchanged outcome is not exhaustive and fits, so none of the skipped budgets would stop the
  search (where proofs keep skipping little, they are tried less often: see `_add1u`);
- once the budget per voter reaches the total cost of the supported projects, each voter
  alone can pay for any of them, so Equal Shares funds them all: an exhaustive outcome, where
  the completion stops whatever happens before. The search is bounded by that budget.
So the number of runs grows with how often the outcome changes (each change costs about
2 log2 of the stretch before it, plus at most MAX_PATIENCE runs), not with budget / increment:
R$ 100 bilhões one centavo at a time takes a few runs (tests/test_equal_shares_stepping.py).

Speed: see `mes_engine` (weighted ballot types, budget classes, float screening with exact
decisions).
"""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction
from math import ceil

from opdigital.counting.greedy import greedy_completion
from opdigital.counting.instance import Instance, Money, Profile, ProjectId, profile_of
from opdigital.counting.mes_engine import Linear, Prepared, Run, Trace, prepare


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


MAX_PATIENCE = 16


def _same_until(
    prep: Prepared, trace: Trace, per_voter: Fraction, increment: Money, most: int
) -> tuple[int, int]:
    """How many increments above `per_voter` (at most `most`) the traced outcome is proven,
    and how many replays that took.

    First `Linear.extent`; then `Run.repeats`, whose proofs are monotone (one at k increments
    covers every budget below): probe twice as far, four times... until one fails, then bisect
    until the step left is under an eighth of what is proven (the next run starts from there).
    """
    extent = Linear(prep, per_voter, increment).extent(trace)
    held = most if extent is None else min(extent, most)
    replays = 0

    def holds(steps: int) -> bool:
        nonlocal replays
        replays += 1
        return Run(prep, per_voter + steps * increment).repeats(trace)

    step = max(1, held)
    while held < most:
        trial = min(held + step, most)
        if not holds(trial):
            break
        held, step = trial, step * 2
    else:
        return held, replays
    failed = trial
    while failed - held > max(1, held // 8):
        middle = (held + failed) // 2
        if holds(middle):
            held = middle
        else:
            failed = middle
    return held, replays


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
    run = Run(prep, start)
    outcome = run.execute()
    previous: list[int] = []
    # Runs in a row giving the outcome of the run before; proofs are tried once there are
    # `patience` of them. Where the outcome moves at almost every step (real votes, once
    # voters run short of money) proofs skip little: each attempt that skips fewer increments
    # than it took replays doubles the patience (up to MAX_PATIENCE runs), one that skips more
    # resets it.
    streak, patience = 0, 1
    while True:
        if sum(prep.costs[i] for i in outcome) > budget:
            return previous
        if _exhaustive(prep, outcome, budget):
            return outcome
        if k >= last:  # cannot happen (see above); never loop on a bug
            raise AssertionError("Equal Shares completed passed its last budget")
        previous = outcome
        if streak >= patience:
            # Not exhaustive and it fits: skip what the replay proves keeps this outcome,
            # short of `last`, where the outcome must change.
            held, replays = _same_until(
                prep, run.trace, start + k * increment, increment, last - k - 1
            )
            k += held
            patience = 1 if held > replays else min(2 * patience, MAX_PATIENCE)
        k += 1
        run = Run(prep, start + k * increment)
        new = run.execute()
        streak = streak + 1 if new == outcome else 0
        outcome = new


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
