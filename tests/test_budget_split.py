"""The budget formula: part equal, part by population x need, exact to the centavo."""

from __future__ import annotations

import random

import pytest

from opdigital.cycles.budget import RegionWeight, split_budget

REGIONS = [
    RegionWeight("a", 300_000, 1.0),
    RegionWeight("b", 100_000, 2.0),
    RegionWeight("c", 100_000, 1.0),
]


def test_all_equal_share_splits_evenly():
    assert split_budget(900_00, REGIONS, 100) == {"a": 300_00, "b": 300_00, "c": 300_00}


def test_all_weighted_share_follows_population_times_need():
    # weights 300k, 200k, 100k -> 1/2, 1/3, 1/6
    assert split_budget(600_00, REGIONS, 0) == {"a": 300_00, "b": 200_00, "c": 100_00}


def test_half_and_half():
    # equal: 150 each; weighted 450 -> 225, 150, 75
    assert split_budget(900_00, REGIONS, 50) == {"a": 375_00, "b": 300_00, "c": 225_00}


def test_rounding_never_loses_a_centavo():
    rng = random.Random(7)
    for _ in range(200):
        regions = [
            RegionWeight(f"r{i}", rng.randint(0, 500_000), rng.uniform(0.1, 3))
            for i in range(rng.randint(1, 12))
        ]
        total = rng.randint(0, 10**10)
        shares = split_budget(total, regions, rng.randint(0, 100))
        assert sum(shares.values()) == total
        assert all(v >= 0 for v in shares.values())


def test_leftover_centavos_go_to_largest_remainders_deterministically():
    three = [RegionWeight(k, 1, 1.0) for k in ("x", "y", "z")]
    assert split_budget(100, three, 100) == {"x": 34, "y": 33, "z": 33}


def test_no_population_falls_back_to_equal_split():
    empty = [RegionWeight("a", 0, 1.0), RegionWeight("b", 0, 1.0)]
    assert split_budget(10_00, empty, 20) == {"a": 5_00, "b": 5_00}


@pytest.mark.parametrize("share", [-1, 101])
def test_share_out_of_range_is_refused(share):
    with pytest.raises(ValueError):
        split_budget(100, REGIONS, share)


def test_negative_total_is_refused():
    with pytest.raises(ValueError):
        split_budget(-1, REGIONS, 50)
