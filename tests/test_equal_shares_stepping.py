"""Equal Shares completed skips budgets without changing its outcome, and stays bounded.

`mes_completed` no longer runs Equal Shares once per increment (Add1U): it skips the budgets
at which it proves the outcome unchanged (`mes_engine.Linear` and `Run.repeats`). These tests
compare it with the plain definition, one increment at a time (`one_increment_at_a_time`,
kept here as the reference), on random small instances with several increments, and check
that a huge budget with an increment of 1 takes few runs (counted, not timed).
"""

from __future__ import annotations

import random
from fractions import Fraction

import pytest

from opdigital.counting import mes_engine
from opdigital.counting.equal_shares import _exhaustive, mes_completed
from opdigital.counting.greedy import greedy_completion
from opdigital.counting.instance import Instance, Project, profile_of
from opdigital.counting.mes_engine import Run, prepare


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


class ProofCounter:
    """How often each proof skipped budgets: both must be exercised by the comparisons."""

    def __init__(self, monkeypatch) -> None:
        self.linear = self.replay = 0
        extent, repeats = mes_engine.Linear.extent, Run.repeats

        def counted_extent(linear, trace):
            found = extent(linear, trace)
            self.linear += found is None or found > 0
            return found

        def counted_repeats(run, trace):
            holds = repeats(run, trace)
            self.replay += holds
            return holds

        monkeypatch.setattr(mes_engine.Linear, "extent", counted_extent)
        monkeypatch.setattr(Run, "repeats", counted_repeats)


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


@pytest.mark.parametrize(
    ("family", "seeds"),
    [
        (sparse_instance, range(0, 600)),
        (sparse_instance, range(600, 1200)),
        (tight_instance, range(0, 500)),
        (tight_instance, range(500, 1000)),
        (long_instance, range(0, 150)),
    ],
)
def test_skipping_gives_the_outcome_of_one_increment_at_a_time(monkeypatch, family, seeds):
    proofs = ProofCounter(monkeypatch)
    for seed in seeds:
        instance, ballots, increment = family(seed)
        expected = one_increment_at_a_time(instance, ballots, increment)
        assert mes_completed(instance, ballots, increment) == expected, (family, seed)
    # Both proofs skipped budgets somewhere: the comparison covers them.
    assert proofs.linear > 0
    assert proofs.replay > 0


def test_skipping_runs_far_fewer_equal_shares(monkeypatch):
    counter = RunCounter(monkeypatch)
    skipped = 0
    for seed in range(150):
        instance, ballots, increment = long_instance(seed)
        counter.runs = 0
        one_increment_at_a_time(instance, ballots, increment)
        reference = counter.runs
        counter.runs = 0
        mes_completed(instance, ballots, increment)
        skipped += reference - counter.runs
        assert counter.runs <= reference + 40, seed  # never much worse, even for short searches
    assert skipped > 10_000


def test_a_huge_budget_with_an_increment_of_one_takes_few_runs(monkeypatch):
    # 12 voters; B (4 * 10^14) is one voter's share of 11, A (6 * 10^14) has one supporter.
    # Each voter starts with 10^15 / 12: B is funded, A is not but fits what is left. A's
    # supporter affords it only at 6 * 10^14 per voter: about 5 * 10^14 increments of 1.
    instance = Instance((Project("A", 6 * 10**14), Project("B", 4 * 10**14)), 10**15)
    ballots = [("A",)] + [("B",)] * 11
    counter = RunCounter(monkeypatch, limit=1_000)
    assert mes_completed(instance, ballots, 1) == ["B", "A"]
    assert counter.runs <= 20  # 7 today


# Seeds whose search covers billions of increments (the others stop at once).
HUGE_SEEDS = [0, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 17, 20, 22, 23, 24, 25, 26, 27, 29, 30]


@pytest.mark.parametrize("seed", HUGE_SEEDS)
def test_random_huge_budgets_with_an_increment_of_one_take_few_runs(monkeypatch, seed):
    # Costs of 10^9 to 10^13 units plus odd units, an increment of 1: up to 10^13 increments.
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
    counter = RunCounter(monkeypatch, limit=2_000)
    selected = mes_completed(instance, ballots, 1)
    assert counter.runs <= 250  # at most 62 today
    assert sum(p.cost for p in instance.projects if p.id in selected) <= instance.budget


def test_without_proofs_the_completion_tries_every_increment(monkeypatch):
    # With both proofs disabled the completion runs every increment, and gives the same.
    instance, ballots, increment = long_instance(3)
    expected = mes_completed(instance, ballots, increment)
    monkeypatch.setattr(mes_engine.Linear, "extent", lambda linear, trace: 0)
    monkeypatch.setattr(Run, "repeats", lambda run, trace: False)
    assert mes_completed(instance, ballots, increment) == expected
    assert expected == one_increment_at_a_time(instance, ballots, increment)
