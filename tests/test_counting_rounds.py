"""The classes of voters shared by the runs of one count (`mes_rounds`): however a project's
supporters per class are obtained (counted type by type, merged from a finer count, refined by a
winner met since, reused from the same winners in another order), they are those of a direct
count; and runs that share them give what runs on their own give, at any budget and in any
order."""

from __future__ import annotations

import random
from collections import Counter
from fractions import Fraction

import pytest

from opdigital.counting.instance import Instance, Profile, Project, profile_of
from opdigital.counting.mes_engine import Run, prepare
from opdigital.counting.mes_rounds import Rounds


def instance_and_ballots(seed: int):
    r = random.Random(seed)
    m = r.randint(3, 12)
    costs = [r.randint(1, 50) * r.choice([1, 3, 10]) for _ in range(m)]
    instance = Instance(
        tuple(Project(i + 1, c) for i, c in enumerate(costs)), r.randint(1, sum(costs))
    )
    popularity = [r.random() for _ in range(m)]
    ballots = [
        tuple(i + 1 for i in range(m) if r.random() < popularity[i])
        for _ in range(r.randint(1, 120))
    ]
    # Some heavy ballots too (many voters per type: the other way of counting).
    ballots += [ballots[0]] * r.choice([0, 5, 40])
    return instance, ballots


def direct(prep, winners: list[int], j: int, i: int) -> Counter:
    """Project i's supporters at round j by class, counted voter by voter."""
    counts: Counter = Counter()
    for t, ballot in enumerate(prep.types):
        if i in ballot:
            mask = sum(1 << k for k, w in enumerate(winners[:j]) if w in ballot)
            counts[mask] += prep.weights[t]
    return counts


@pytest.mark.parametrize("seed", range(60))
def test_classes_are_those_of_a_direct_count_however_obtained(seed):
    instance, ballots = instance_and_ballots(seed)
    prep = prepare(instance, profile_of(ballots))
    r = random.Random(seed)
    m = len(prep.ids)
    rounds = Rounds(prep)
    for _ in range(6):
        # A sequence of winners, often the last one with a few swapped or one changed (what
        # Equal Shares completed meets), followed from the start as runs do.
        if rounds.winners and r.random() < 0.7:
            winners = list(rounds.winners)
            a, b = sorted(r.sample(range(len(winners)), 2)) if len(winners) > 1 else (0, 0)
            winners[a], winners[b] = winners[b], winners[a]
            if r.random() < 0.3:
                rest = [p for p in range(m) if p not in winners]
                if rest:
                    winners[r.randrange(len(winners))] = r.choice(rest)
        else:
            winners = r.sample(range(m), r.randint(1, m))
        for j, w in enumerate(winners):
            # Ask for some rounds' classes in a random order before moving on, as runs do.
            for i in r.sample(range(m), r.randint(0, m)):
                got = rounds.hist(j, i)
                assert dict(got.pairs()) == direct(prep, winners, j, i), (j, i)
                assert all(rounds.mask[n] == mk for mk, n in zip(got.masks, got.ids, strict=True))
                assert all(rounds.ids[k] == n for k, n in zip(got.keys, got.ids, strict=True))
            rounds.follow(j, w)
        for i in range(m):
            got = rounds.hist(len(winners), i)
            assert dict(got.pairs()) == direct(prep, winners, len(winners), i)


@pytest.mark.parametrize("seed", range(40))
def test_runs_sharing_their_classes_give_what_runs_alone_give(seed):
    instance, ballots = instance_and_ballots(seed)
    profile = profile_of(ballots)
    shared = prepare(instance, profile)
    if not shared.num_voters:
        return
    r = random.Random(seed)
    start = Fraction(instance.budget) / shared.num_voters
    budgets = [start + Fraction(r.randint(0, 400), r.choice([1, 3, 7])) for _ in range(12)]
    for budget in budgets:  # in no particular order: up, down, again
        alone = Run(prepare(instance, profile), budget).execute()
        assert Run(shared, budget).execute() == alone, budget


def test_prices_far_beyond_float_range_in_their_common_denominator():
    # Each project's supporters are a distinct prime number of voters who all pay its full
    # share: every price brings a new prime into the common denominator of money, which goes
    # far beyond float range (10**308) within the run; the float screening must not overflow.
    primes = [p for p in range(1009, 3000) if all(p % d for d in range(2, 55))][:110]
    projects = tuple(Project(n + 1, 1000 + n) for n in range(len(primes)))
    profile = Profile(tuple((n + 1,) for n in range(len(primes))), tuple(primes))
    instance = Instance(projects, 10**9)
    prep = prepare(instance, profile)
    run = Run(prep, Fraction(instance.budget) / prep.num_voters)
    funded = run.execute()
    assert run.den > 10**320
    # Fewest supporters, dearest per voter: funded last (rho = 1 / supporters).
    assert [prep.ids[i] for i in funded] == [n + 1 for n in reversed(range(len(primes)))]
