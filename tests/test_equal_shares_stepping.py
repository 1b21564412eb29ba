"""Equal Shares completed steps straight to the next budget where its outcome can change.

`mes_completed` does not run Equal Shares once per increment (Add1U): `mes_stepper.Stepper`
finds, exactly, the next budget per voter at which the outcome can differ, and runs Equal
Shares there. These tests compare it with the plain definition, one increment at a time
(`one_increment_at_a_time`, kept here as the reference), on random small instances (ties,
budgets from nothing to more than every cost, several increments); check that the budget it
steps to is exactly the first one where the reference's outcome changes; and that huge budgets
with an increment of 1 take few runs and passes (counted, not timed).
"""

from __future__ import annotations

import random
from fractions import Fraction
from math import ceil

import pytest

from opdigital.counting import mes_sweep
from opdigital.counting.equal_shares import _exhaustive, mes_completed
from opdigital.counting.greedy import greedy_completion
from opdigital.counting.instance import Instance, Project, profile_of
from opdigital.counting.mes_engine import Run, prepare
from opdigital.counting.mes_stepper import Stepper


def one_increment_at_a_time(instance: Instance, ballots, increment=1) -> list:
    """The completion as defined (and as pabutools runs it): every increment in turn."""
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
    ids = [prep.ids[i] for i in chosen]
    return ids + greedy_completion(instance, profile, ids)


class RunCounter:
    """Counts Equal Shares runs (each replay too); raises past `limit` so that a completion
    that would run once per increment fails at once instead of running for ever."""

    def __init__(self, monkeypatch, limit: int = 100_000) -> None:
        self.runs = 0
        self.limit = limit
        original = Run.__init__

        def counted(run, *args, **kwargs):
            self.runs += 1
            if self.runs > self.limit:
                raise RuntimeError(f"more than {self.limit} Equal Shares runs")
            original(run, *args, **kwargs)

        monkeypatch.setattr(Run, "__init__", counted)


class PassCounter:
    """Counts passes (`Sweep.pass_at`), those that proved more than one increment at once
    (`leaps`: the next event lies beyond) and those that proved every budget since the last
    proven one (`since`): both ways of skipping must be exercised by the comparisons."""

    def __init__(self, monkeypatch, limit: int = 100_000) -> None:
        self.passes = self.leaps = self.since = 0
        self.limit = limit
        original = mes_sweep.Sweep.pass_at

        def counted(sweep, base, horizon, ref):
            self.passes += 1
            if self.passes > self.limit:
                raise RuntimeError(f"more than {self.limit} passes")
            found = original(sweep, base, horizon, ref)
            self.since += ref is not None and found.since
            self.leaps += not found.failed and found.t > 1
            return found

        monkeypatch.setattr(mes_sweep.Sweep, "pass_at", counted)


def always_search(monkeypatch) -> None:
    """Passes every time, never runs in their place (which the stepper does where runs are
    cheaper, by CPU time): deterministic counts."""
    monkeypatch.setattr(Stepper, "_pays", lambda stepper, spared, seconds: True)


INCREMENTS = [1, 2, 7, Fraction(1, 3), Fraction(5, 3)]


def sparse_instance(seed: int):
    """Few projects, round costs (ties), costs often scaled so that stretches are long."""
    r = random.Random(seed)
    m, n = r.randint(1, 8), r.randint(1, 30)
    scale = r.choice([1, 10, 100])
    costs = [
        r.choice([0, 1, 5, 10, 20, 50, 100]) * scale
        if r.random() < 0.5
        else r.randint(1, 100) * scale
        for _ in range(m)
    ]
    instance = Instance(
        tuple(Project(i + 1, c) for i, c in enumerate(costs)), r.randint(0, 1 + sum(costs))
    )
    density = r.choice([0.1, 0.3, 0.5, 0.8])
    ballots = [tuple(i + 1 for i in range(m) if r.random() < density) for _ in range(n)]
    return instance, ballots, r.choice(INCREMENTS + [scale])


def tight_instance(seed: int):
    """More voters with uneven support and a budget well under the costs: voters run short of
    money, so prices move with the budget and outcomes change often."""
    r = random.Random(seed)
    m, n = r.randint(2, 12), r.randint(2, 80)
    costs = [r.randint(1, 60) * r.choice([1, 1, 7, 13]) for _ in range(m)]
    instance = Instance(
        tuple(Project(i + 1, c) for i, c in enumerate(costs)),
        r.randint(sum(costs) // 10, sum(costs)),
    )
    popularity = [r.random() for _ in range(m)]
    ballots = [tuple(i + 1 for i in range(m) if r.random() < popularity[i]) for _ in range(n)]
    return instance, ballots, r.choice(INCREMENTS)


def long_instance(seed: int):
    """Costs of thousands of units with an increment of 1: hundreds of increments to cover."""
    r = random.Random(seed)
    m, n = r.randint(2, 6), r.randint(2, 12)
    costs = [r.randint(1, 60) * 100 + r.randint(0, 99) for _ in range(m)]
    instance = Instance(
        tuple(Project(i + 1, c) for i, c in enumerate(costs)),
        r.randint(sum(costs) // 5, sum(costs)),
    )
    popularity = [r.random() for _ in range(m)]
    ballots = [tuple(i + 1 for i in range(m) if r.random() < popularity[i]) for _ in range(n)]
    return instance, ballots, 1


def tied_instance(seed: int):
    """Ties everywhere: a few costs, blocs of identical ballots, so that prices, approval
    counts and costs are equal and the tie-break decides; budgets from nothing, under the
    cheapest project, to more than all of them."""
    r = random.Random(seed)
    m = r.randint(2, 8)
    costs = [r.choice([10, 10, 20, 30]) * r.choice([1, 1, 3]) for _ in range(m)]
    blocs = [tuple(i + 1 for i in range(m) if r.random() < 0.4) for _ in range(r.randint(1, 4))]
    ballots = [b for b in blocs for _ in range(r.choice([1, 2, 3, 3, 6]))]
    budget = r.choice([0, 1, min(costs) - 1, sum(costs) // 3, sum(costs), 2 * sum(costs)])
    instance = Instance(tuple(Project(i + 1, c) for i, c in enumerate(costs)), budget)
    return instance, ballots, r.choice([1, 2, Fraction(1, 2)])


FAMILIES = [
    (sparse_instance, range(0, 600)),
    (sparse_instance, range(600, 1200)),
    (tight_instance, range(0, 500)),
    (tight_instance, range(500, 1000)),
    (long_instance, range(0, 150)),
    (tied_instance, range(0, 600)),
]


@pytest.mark.parametrize(("family", "seeds"), FAMILIES)
def test_stepping_gives_the_outcome_of_one_increment_at_a_time(monkeypatch, family, seeds):
    passes = PassCounter(monkeypatch)
    for seed in seeds:
        instance, ballots, increment = family(seed)
        expected = one_increment_at_a_time(instance, ballots, increment)
        assert mes_completed(instance, ballots, increment) == expected, (family, seed)
    assert passes.passes > 0


def steps_checked(instance: Instance, ballots, increment) -> int:
    """Follows the completion from outcome to outcome, checking that each step lands on the
    first budget where the outcome, run one increment at a time, changes; returns the steps."""
    prep = prepare(instance, profile_of(ballots))
    if not prep.num_voters:
        return 0
    start = Fraction(instance.budget) / prep.num_voters
    supported = sum(c for c, n in zip(prep.costs, prep.approvals, strict=True) if c and n)
    last = max(0, ceil((supported - start) / increment))
    stepper = Stepper(prep, start, increment, last)
    outcomes: dict[int, list[int]] = {}

    def outcome(k: int) -> list[int]:
        if k not in outcomes:
            outcomes[k] = Run(prep, start + k * increment).execute()
        return outcomes[k]

    k = steps = 0
    while k < last:
        current = outcome(k)
        if stops(prep, current, instance.budget):
            break
        first = k + 1
        while first < last and outcome(first) == current:
            first += 1
        assert stepper.next_change(current, k) == first, k
        steps += 1
        k = first
    return steps


def stops(prep, outcome: list[int], budget) -> bool:
    return sum(prep.costs[i] for i in outcome) > budget or _exhaustive(prep, outcome, budget)


@pytest.mark.parametrize(("family", "seeds"), FAMILIES[::2])
def test_each_step_lands_on_the_first_budget_where_the_outcome_changes(monkeypatch, family, seeds):
    # From every outcome the completion meets, the stepper's next budget is exactly the first
    # one at which Equal Shares, run one increment at a time, gives another outcome: none is
    # skipped (that would be wrong) and none is run for nothing (the search is exact).
    always_search(monkeypatch)
    passes = PassCounter(monkeypatch)
    steps = 0
    for seed in seeds:
        instance, ballots, increment = family(seed)
        try:
            steps += steps_checked(instance, ballots, increment)
        except AssertionError as failed:
            raise AssertionError(f"{family.__name__} seed {seed}: {failed}") from None
    assert steps > 50
    # Passes that proved several increments at once, and passes that proved a whole stretch
    # since the last proven budget, both took part.
    assert passes.leaps > 0
    assert passes.since > 0


def test_stepping_runs_equal_shares_only_where_the_outcome_changes(monkeypatch):
    always_search(monkeypatch)
    counter = RunCounter(monkeypatch)
    passes = PassCounter(monkeypatch)
    reference_runs = runs = outcomes = 0
    for seed in range(150):
        instance, ballots, increment = long_instance(seed)
        counter.runs = 0
        outcomes += distinct_outcomes(instance, ballots, increment)
        reference_runs += counter.runs
        counter.runs = 0
        mes_completed(instance, ballots, increment)
        runs += counter.runs
    assert runs == outcomes  # one Equal Shares run per outcome met, no more
    assert reference_runs > 20 * runs  # one increment at a time: 23,869 runs; stepping: 235
    assert passes.passes < runs  # and fewer passes still: 89


def distinct_outcomes(instance: Instance, ballots, increment) -> int:
    """How many outcomes in a row the reference goes through before it stops."""
    prep = prepare(instance, profile_of(ballots))
    per_voter = Fraction(instance.budget) / prep.num_voters
    previous, count = None, 0
    while True:
        outcome = Run(prep, per_voter).execute()
        count += outcome != previous
        if stops(prep, outcome, instance.budget):
            return count
        previous = outcome
        per_voter += increment


def test_a_huge_budget_with_an_increment_of_one_takes_few_runs(monkeypatch):
    # 12 voters; B (4 * 10^14) is one voter's share of 11, A (6 * 10^14) has one supporter.
    # Each voter starts with 10^15 / 12: B is funded, A is not but fits what is left. A's
    # supporter affords it only at 6 * 10^14 per voter: about 5 * 10^14 increments of 1.
    instance = Instance((Project("A", 6 * 10**14), Project("B", 4 * 10**14)), 10**15)
    ballots = [("A",)] + [("B",)] * 11
    counter = RunCounter(monkeypatch, limit=1_000)
    passes = PassCounter(monkeypatch, limit=1_000)
    assert mes_completed(instance, ballots, 1) == ["B", "A"]
    assert counter.runs <= 3  # 2: the one at the start, the one where A becomes affordable
    assert passes.passes <= 3


# Seeds whose search covers billions of increments (the others stop at once).
HUGE_SEEDS = [0, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 17, 20, 22, 23, 24, 25, 26, 27, 29, 30]


def huge_instance(seed: int):
    """Costs of 10^9 to 10^13 units plus odd units: with an increment of 1, up to 10^13
    increments to cover."""
    r = random.Random(seed)
    m, n = r.randint(2, 12), r.randint(2, 80)
    scale = 10 ** r.randint(9, 13)
    costs = [r.randint(1, 60) * r.choice([1, 7, 13]) * scale + r.randint(0, 999) for _ in range(m)]
    instance = Instance(
        tuple(Project(i + 1, c) for i, c in enumerate(costs)),
        r.randint(sum(costs) // 10, sum(costs)),
    )
    popularity = [r.random() for _ in range(m)]
    ballots = [tuple(i + 1 for i in range(m) if r.random() < popularity[i]) for _ in range(n)]
    return instance, ballots


@pytest.mark.parametrize("seed", HUGE_SEEDS)
def test_random_huge_budgets_with_an_increment_of_one_take_few_runs(monkeypatch, seed):
    instance, ballots = huge_instance(seed)
    counter = RunCounter(monkeypatch, limit=2_000)
    passes = PassCounter(monkeypatch, limit=2_000)
    selected = mes_completed(instance, ballots, 1)
    assert counter.runs <= 20  # at most 9 today (at most 62 before the exact stepping)
    assert passes.passes <= 100  # at most 34 today
    assert sum(p.cost for p in instance.projects if p.id in selected) <= instance.budget


# Seeds of `huge_instance` whose completion meets the most outcomes (5 to 7).
CHANGING_SEEDS = [12, 47, 142, 155, 161, 182, 219, 233, 237, 290]


@pytest.mark.parametrize("seed", CHANGING_SEEDS)
def test_on_huge_budgets_each_step_lands_where_the_outcome_changes(monkeypatch, seed):
    # Too many increments to run them all: each step is checked where it lands (the run one
    # increment before gives the outcome left behind, the run there another) and at 30 random
    # budgets on the way (all give the outcome left behind).
    always_search(monkeypatch)
    instance, ballots = huge_instance(seed)
    prep = prepare(instance, profile_of(ballots))
    start = Fraction(instance.budget) / prep.num_voters
    supported = sum(c for c, n in zip(prep.costs, prep.approvals, strict=True) if c and n)
    last = ceil(supported - start)
    stepper = Stepper(prep, start, 1, last)
    r = random.Random(seed)
    k, current = 0, Run(prep, start).execute()
    while not stops(prep, current, instance.budget):
        nxt = stepper.next_change(current, k)
        assert Run(prep, start + nxt - 1).execute() == current
        for between in sorted(r.randint(k, nxt - 1) for _ in range(30)):
            assert Run(prep, start + between).execute() == current, (k, between, nxt)
        k, landed = nxt, Run(prep, start + nxt).execute()
        assert landed != current or nxt == last
        current = landed


def test_without_passes_the_completion_runs_every_increment(monkeypatch):
    # With the stepper always sending it to the next increment, the completion runs Equal
    # Shares at every one (what it does for a while where runs are cheaper than passes), and
    # gives the same. Seed 4: 313 increments, 2 outcomes.
    instance, ballots, increment = long_instance(4)
    counter = RunCounter(monkeypatch)
    expected = mes_completed(instance, ballots, increment)
    assert counter.runs == 2
    monkeypatch.setattr(Stepper, "next_change", lambda stepper, winners, k: k + 1)
    counter.runs = 0
    assert mes_completed(instance, ballots, increment) == expected
    assert counter.runs == 313
    assert expected == one_increment_at_a_time(instance, ballots, increment)
