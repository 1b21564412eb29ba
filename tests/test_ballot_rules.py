"""Ballot rules (pure): each rule accepts valid ballots and refuses each kind of invalid one.

No app and no database: `opdigital.counting.ballot_rules` imports only the standard library.
"""

from __future__ import annotations

import ast
import itertools
import random
from collections import Counter
from pathlib import Path

import pytest

from opdigital.counting import ballot_rules as br
from opdigital.counting.ballot_rules import (
    BallotProject,
    BallotRule,
    Problem,
    is_valid,
    ordered,
    remaining,
    rule_problems,
    shuffled,
    validate_ballot,
)

# Two regions (10, 20) with two projects each, and a city-wide one.
PROJECTS = [
    BallotProject(1, 100_00, 10),
    BallotProject(2, 300_00, 10),
    BallotProject(3, 200_00, 20),
    BallotProject(4, 400_00, 20),
]
CITY = BallotProject(5, 50_00, None)


def codes(rule, choices, projects=PROJECTS) -> list[str]:
    return [p.code for p in validate_ballot(rule, projects, choices)]


# --- the module is pure -------------------------------------------------------------------


def test_module_imports_only_the_standard_library():
    source = Path(br.__file__).read_text(encoding="utf-8")
    modules = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module.split(".")[0])
    assert modules <= {
        "__future__",
        "collections",
        "dataclasses",
        "enum",
        "hashlib",
        "random",
        "re",
        "types",
        "typing",
    }


def test_unknown_rule_kind_is_a_programming_error():
    with pytest.raises(ValueError):
        BallotRule("borda")


def test_rule_is_frozen_and_keeps_its_own_copy_of_region_budgets():
    budgets = {10: 500}
    rule = BallotRule("knapsack", per_region=True, region_budgets=budgets)
    budgets[10] = 1
    assert rule.region_budgets[10] == 500
    with pytest.raises(TypeError):
        rule.region_budgets[10] = 2  # type: ignore[index]
    with pytest.raises(AttributeError):
        rule.kind = "approval"  # type: ignore[misc]


# --- choices that are not ids, unknown, duplicated ----------------------------------------


@pytest.mark.parametrize("bad", ["abc", None, 1.5, 1.0, True, False, "", " 1", "01", "+1", "1e3"])
def test_anything_but_an_int_id_is_not_an_id(bad):
    rule = BallotRule("approval", max_choices=3)
    problems = validate_ballot(rule, PROJECTS, [1, bad])
    assert problems[0] == Problem("not_an_id", {"index": 1, "value": repr(bad)})


@pytest.mark.parametrize("bad", [[1], {"id": 1}, b"1", object(), "²"])
def test_containers_and_other_objects_are_not_ids(bad):
    assert codes(BallotRule("approval"), [1, bad])[0] == "not_an_id"


def test_canonical_decimal_text_is_an_id():
    assert br.as_id("3") == 3
    assert br.as_id("0") == 0
    assert br.as_id(7) == 7
    assert br.as_id("٣") is None  # Arabic-Indic digit: str.isdigit says yes, ids say no
    assert is_valid(BallotRule("approval", max_choices=2), PROJECTS, ["1", "3"])


def test_the_echoed_bad_value_is_short():
    problem = validate_ballot(BallotRule("approval"), PROJECTS, ["x" * 10_000])[0]
    assert problem.code == "not_an_id"
    assert len(problem.detail["value"]) == 40


@pytest.mark.parametrize("choices", ["1,2", b"12", 12, None, {1: True}, {1, 2}])
def test_choices_must_be_a_list(choices):
    assert validate_ballot(BallotRule("approval"), PROJECTS, choices) == [Problem("not_a_list")]


def test_unknown_ids_are_refused_including_another_cycles_proposals():
    other_cycle = BallotProject(99, 100, 10)
    rule = BallotRule("approval")
    assert validate_ballot(rule, PROJECTS, [1, other_cycle.id, -4]) == [
        Problem("unknown_project", {"index": 1, "id": 99}),
        Problem("unknown_project", {"index": 2, "id": -4}),
    ]


def test_duplicates_are_reported_once_per_id_and_counted_once():
    rule = BallotRule("approval", min_choices=2)
    # 1 three times and "1" once: one duplicate problem; distinct choices = 1, too few.
    assert validate_ballot(rule, PROJECTS, [1, 1, "1", 1]) == [
        Problem("duplicate", {"index": 1, "id": 1}),
        Problem("too_few", {"min": 2, "count": 1}),
    ]
    assert codes(BallotRule("approval", max_choices=2), [1, 2, 2]) == ["duplicate"]


def test_problems_come_in_a_fixed_order():
    rule = BallotRule("knapsack", budget_cents=300_00, max_choices=2)
    choices = [4, "x", 2, 99, 4, 1]
    expected = [
        Problem("not_an_id", {"index": 1, "value": "'x'"}),
        Problem("unknown_project", {"index": 3, "id": 99}),
        Problem("duplicate", {"index": 4, "id": 4}),
        Problem("too_many", {"max": 2, "count": 3}),
        Problem(
            "over_budget",
            {"budget_cents": 300_00, "total_cents": 800_00, "excess_cents": 500_00},
        ),
    ]
    assert validate_ballot(rule, PROJECTS, choices) == expected
    assert validate_ballot(rule, PROJECTS, choices) == expected  # and the same every time


# --- one per region (2006/2011) -----------------------------------------------------------


def test_one_per_region_accepts_one_in_each_region_or_fewer():
    rule = BallotRule("one-per-region")
    assert is_valid(rule, PROJECTS, [1])
    assert is_valid(rule, PROJECTS, [4])
    assert is_valid(rule, PROJECTS, [2, 3])


def test_one_per_region_refuses_two_in_a_region():
    rule = BallotRule("one-per-region")
    assert validate_ballot(rule, PROJECTS, [3, 1, 4]) == [
        Problem("two_in_region", {"region_id": 20, "ids": [3, 4], "count": 2})
    ]


def test_one_per_region_refuses_an_empty_ballot_unless_blank_is_allowed():
    assert codes(BallotRule("one-per-region"), []) == ["empty"]
    assert codes(BallotRule("one-per-region", min_choices=0), []) == []


def test_one_per_region_min_and_max_regions():
    rule = BallotRule("one-per-region", min_choices=2, max_choices=2)
    assert is_valid(rule, PROJECTS, [1, 3])
    assert codes(rule, [1]) == ["too_few"]
    three = [*PROJECTS, BallotProject(6, 10, 30)]
    assert validate_ballot(rule, three, [1, 3, 6]) == [Problem("too_many", {"max": 2, "count": 3})]


def test_one_per_region_treats_city_wide_projects_as_one_more_group():
    rule = BallotRule("one-per-region")
    projects = [*PROJECTS, CITY, BallotProject(6, 10, None)]
    assert is_valid(rule, projects, [1, 5])
    assert validate_ballot(rule, projects, [6, 5]) == [
        Problem("two_in_region", {"region_id": None, "ids": [5, 6], "count": 2})
    ]


def test_the_demo_parameters_build_a_valid_rule():
    # The demo stores {"max_choices_per_region": 1}; the rule needs nothing more.
    rule = BallotRule("one-per-region")
    assert rule_problems(rule, PROJECTS, final=True) == []


# --- one city-wide (2008/2013) ------------------------------------------------------------


def test_one_city_wide_needs_exactly_one():
    rule = BallotRule("one-city-wide", min_choices=0, max_choices=5)  # limits are ignored
    for project in PROJECTS:
        assert is_valid(rule, PROJECTS, [project.id])
    assert codes(rule, []) == ["empty"]
    assert validate_ballot(rule, PROJECTS, [1, 3]) == [Problem("too_many", {"max": 1, "count": 2})]
    assert codes(rule, ["abc"]) == ["not_an_id", "too_few"]


# --- approval -----------------------------------------------------------------------------


def test_approval_between_min_and_max():
    rule = BallotRule("approval", min_choices=2, max_choices=3)
    assert is_valid(rule, PROJECTS, [1, 2])
    assert is_valid(rule, PROJECTS, [1, 2, 4])
    assert validate_ballot(rule, PROJECTS, [1]) == [Problem("too_few", {"min": 2, "count": 1})]
    assert validate_ballot(rule, PROJECTS, [1, 2, 3, 4]) == [
        Problem("too_many", {"max": 3, "count": 4})
    ]
    assert codes(rule, []) == ["empty"]


def test_approval_without_a_maximum_accepts_every_project():
    rule = BallotRule("approval")
    assert is_valid(rule, PROJECTS, [1, 2, 3, 4])
    assert codes(rule, []) == ["empty"]
    assert is_valid(BallotRule("approval", min_choices=0), PROJECTS, [])


def test_approval_per_region_applies_limits_in_each_region():
    rule = BallotRule("approval", min_choices=2, max_choices=2, per_region=True)
    projects = [*PROJECTS, BallotProject(6, 10, 20)]
    assert is_valid(rule, projects, [1, 2])  # region 20 left out: allowed
    assert is_valid(rule, projects, [1, 2, 3, 4])
    assert validate_ballot(rule, projects, [1, 3, 4, 6]) == [
        Problem("too_few_in_region", {"region_id": 10, "min": 2, "count": 1}),
        Problem("too_many_in_region", {"region_id": 20, "max": 2, "count": 3}),
    ]
    assert codes(rule, [], projects) == ["empty"]
    assert codes(BallotRule("approval", min_choices=0, per_region=True), [], projects) == []


# --- knapsack -----------------------------------------------------------------------------


def test_knapsack_within_budget_including_exactly_the_budget():
    rule = BallotRule("knapsack", budget_cents=600_00)
    assert is_valid(rule, PROJECTS, [1, 2, 3])  # exactly 600
    assert is_valid(rule, PROJECTS, [4])
    assert validate_ballot(rule, PROJECTS, [2, 4]) == [
        Problem(
            "over_budget", {"budget_cents": 600_00, "total_cents": 700_00, "excess_cents": 100_00}
        )
    ]


def test_knapsack_minimum_share_rounds_up_to_the_centavo():
    rule = BallotRule("knapsack", budget_cents=301, min_budget_share_percent=50)  # 150.5 -> 151
    projects = [BallotProject(1, 150, None), BallotProject(2, 151, None), BallotProject(3, 1, None)]
    assert validate_ballot(rule, projects, [1]) == [
        Problem(
            "under_min_share",
            {"percent": 50, "min_cents": 151, "total_cents": 150, "missing_cents": 1},
        )
    ]
    assert is_valid(rule, projects, [2])
    assert is_valid(rule, projects, [1, 3])


def test_knapsack_with_counts_and_share_together():
    rule = BallotRule(
        "knapsack", budget_cents=500_00, min_budget_share_percent=80, min_choices=2, max_choices=2
    )
    assert is_valid(rule, PROJECTS, [1, 4])  # 500
    assert codes(rule, [4]) == ["too_few"]  # 400 = 80 %, but one project only
    assert codes(rule, [1, 3]) == ["under_min_share"]  # 300 < 400
    assert codes(rule, [1, 2, 3]) == ["too_many", "over_budget"]
    assert codes(rule, []) == ["empty"]


def test_knapsack_blank_ballot_allowed_with_min_zero_despite_minimum_share():
    rule = BallotRule("knapsack", budget_cents=500_00, min_budget_share_percent=50, min_choices=0)
    assert is_valid(rule, PROJECTS, [])


def test_knapsack_per_region_uses_each_regions_budget():
    rule = BallotRule(
        "knapsack",
        budget_cents=10_000_00,  # ignored per region
        per_region=True,
        region_budgets={10: 400_00, 20: 500_00},
        min_budget_share_percent=50,
    )
    assert is_valid(rule, PROJECTS, [1, 2])  # 400 in region 10, nothing in 20: allowed
    assert is_valid(rule, PROJECTS, [2, 4])  # 300 >= 200, 400 >= 250
    assert validate_ballot(rule, PROJECTS, [1, 2, 3, 4]) == [
        Problem(
            "over_budget_in_region",
            {
                "region_id": 20,
                "budget_cents": 500_00,
                "total_cents": 600_00,
                "excess_cents": 100_00,
            },
        )
    ]
    assert validate_ballot(rule, PROJECTS, [1, 4]) == [
        Problem(
            "under_min_share_in_region",
            {
                "region_id": 10,
                "percent": 50,
                "min_cents": 200_00,
                "total_cents": 100_00,
                "missing_cents": 100_00,
            },
        )
    ]


def test_knapsack_per_region_region_without_budget_fits_nothing():
    rule = BallotRule("knapsack", per_region=True, region_budgets={10: 400_00})
    assert codes(rule, [3]) == ["over_budget_in_region"]


def test_per_region_city_wide_group_uses_the_cycle_budget():
    rule = BallotRule("knapsack", budget_cents=60_00, per_region=True, region_budgets={10: 1})
    assert is_valid(rule, [*PROJECTS, CITY], [5])
    assert rule.group_budget(None) == 60_00


# --- remaining ----------------------------------------------------------------------------


def test_remaining_knapsack_budget():
    rule = BallotRule("knapsack", budget_cents=600_00, min_budget_share_percent=50)
    left = remaining(rule, PROJECTS, [1, "3", "junk", 99, 1])
    assert (left.chosen, left.spent_cents, left.budget_left_cents) == (2, 300_00, 300_00)
    assert left.share_missing_cents == 0
    assert left.choices_left is None
    left = remaining(rule, PROJECTS, [1])
    assert left.share_missing_cents == 200_00
    over = remaining(rule, PROJECTS, [2, 4])
    assert over.budget_left_cents == -100_00  # negative: over by that much
    assert remaining(rule, PROJECTS, []).share_missing_cents == 0


def test_remaining_knapsack_per_region():
    rule = BallotRule("knapsack", per_region=True, region_budgets={10: 400_00, 20: 500_00})
    left = remaining(rule, PROJECTS, [1, 4])
    assert left.budget_cents is None
    assert left.spent_cents == 500_00
    assert left.region(10).budget_left_cents == 300_00
    assert left.region(20).budget_left_cents == 100_00
    assert [g.region_id for g in left.regions] == [10, 20]


def test_remaining_choices():
    left = remaining(BallotRule("approval", max_choices=3), PROJECTS, [1])
    assert (left.chosen, left.choices_left, left.budget_cents) == (1, 2, None)
    assert remaining(BallotRule("approval", max_choices=1), PROJECTS, [1, 2]).choices_left == 0
    assert remaining(BallotRule("one-city-wide"), PROJECTS, []).choices_left == 1
    per_region = remaining(BallotRule("approval", max_choices=2, per_region=True), PROJECTS, [3])
    assert per_region.choices_left is None
    assert (per_region.region(10).choices_left, per_region.region(20).choices_left) == (2, 1)


def test_remaining_one_per_region():
    rule = BallotRule("one-per-region")
    left = remaining(rule, [*PROJECTS, CITY], [3])
    assert left.choices_left == 2  # region 10 and the city-wide group are still open
    assert (left.region(None).choices_left, left.region(10).choices_left) == (1, 1)
    assert left.region(20).choices_left == 0
    capped = remaining(BallotRule("one-per-region", max_choices=1), PROJECTS, [3])
    assert capped.choices_left == 0
    assert remaining(rule, PROJECTS, "not a list").chosen == 0


# --- ballot order -------------------------------------------------------------------------


def test_ordered_by_region_then_id_city_wide_last():
    projects = [CITY, PROJECTS[3], PROJECTS[0], PROJECTS[2], PROJECTS[1]]
    assert [p.id for p in ordered(projects)] == [1, 2, 3, 4, 5]


def test_shuffle_is_a_permutation_repeatable_per_seed_and_independent_of_input_order():
    projects = [BallotProject(i, 100, i % 3 or None) for i in range(1, 21)]
    order = shuffled(projects, b"voter-a")
    assert sorted(p.id for p in order) == list(range(1, 21))
    assert shuffled(list(reversed(projects)), b"voter-a") == order
    assert shuffled(projects, b"voter-a") == order
    assert shuffled(projects, b"voter-b") != order
    with pytest.raises(TypeError):
        shuffled(projects, "voter-a")  # type: ignore[arg-type]


def test_shuffle_puts_each_project_first_about_equally_often():
    projects = [BallotProject(i, 100, None) for i in range(1, 5)]
    firsts = Counter(shuffled(projects, f"voter-{n}".encode())[0].id for n in range(4000))
    assert set(firsts) == {1, 2, 3, 4}
    assert all(850 <= n <= 1150 for n in firsts.values()), firsts


def test_shuffle_accepts_any_object_with_id_and_region():
    class Row:
        def __init__(self, id, region_id):
            self.id, self.region_id = id, region_id

    rows = [Row(2, 1), Row(1, 1)]
    assert sorted(r.id for r in shuffled(rows, b"x")) == [1, 2]


# --- rule problems ------------------------------------------------------------------------


def test_rule_problems():
    def rp(rule, projects=PROJECTS, final=False):
        return [p.code for p in rule_problems(rule, projects, final=final)]

    assert rp(BallotRule("approval", min_choices=3, max_choices=2)) == ["min_above_max"]
    assert rp(BallotRule("approval", min_choices=-1, max_choices=0)) == [
        "invalid_limit",
        "invalid_limit",
    ]
    assert rp(BallotRule("one-city-wide", min_choices=9, max_choices=1)) == []
    assert rp(BallotRule("knapsack")) == ["no_budget"]
    assert rp(BallotRule("knapsack", budget_cents=1, min_budget_share_percent=101)) == [
        "share_out_of_range"
    ]
    assert rp(BallotRule("knapsack", per_region=True, budget_cents=1)) == ["no_budget"]
    assert rule_problems(
        BallotRule("knapsack", per_region=True, region_budgets={10: 1}), PROJECTS
    ) == [Problem("no_region_budget", {"region_id": 20})]
    assert rp(BallotRule("one-per-region"), [*PROJECTS, CITY]) == ["project_without_region"]
    assert rp(BallotRule("approval", per_region=True), [CITY]) == ["project_without_region"]
    assert rp(BallotRule("approval"), [CITY]) == []
    assert rp(BallotRule("one-per-region", min_choices=3), final=True) == ["min_above_available"]
    assert rp(BallotRule("one-per-region", min_choices=3)) == []  # more proposals may come
    assert rp(BallotRule("approval", min_choices=5), final=True) == ["min_above_available"]
    assert rp(BallotRule("approval", min_choices=2, per_region=True), final=True) == []
    assert rp(BallotRule("approval", min_choices=3, per_region=True), final=True) == [
        "min_above_available"
    ]


# --- property checks against an independent oracle ---------------------------------------


def oracle(rule: BallotRule, projects, subset) -> bool:
    """Validity of a set of distinct known projects, written straight from the spec."""
    if rule.kind == "one-city-wide":
        return len(subset) == 1
    if not subset:
        return rule.min_choices == 0
    low = 1 if rule.min_choices is None else rule.min_choices
    high = rule.max_choices
    regions: dict = {}
    for p in subset:
        regions.setdefault(p.region_id, []).append(p)

    def counts_ok(n):
        return n >= low and (high is None or n <= high)

    def fits(members, budget):
        cost = sum(p.cost_cents for p in members)
        share = rule.min_budget_share_percent or 0
        return cost <= budget and cost * 100 >= budget * share

    if rule.kind == "one-per-region":
        return counts_ok(len(subset)) and all(len(m) == 1 for m in regions.values())
    if rule.per_region:
        for region_id, members in regions.items():
            if not counts_ok(len(members)):
                return False
            if rule.kind == "knapsack":
                budget = rule.region_budgets.get(region_id, 0) if region_id else rule.budget_cents
                if not fits(members, budget or 0):
                    return False
        return True
    if not counts_ok(len(subset)):
        return False
    return rule.kind != "knapsack" or fits(subset, rule.budget_cents or 0)


def random_instance(rng: random.Random):
    regions = [10, 20, 30][: rng.randint(1, 3)]
    projects = [
        BallotProject(i, rng.randint(1, 50) * 100, rng.choice(regions))
        for i in range(1, rng.randint(1, 7) + 1)
    ]
    kind = rng.choice(br.RULE_KINDS)
    low = rng.choice([None, 0, 1, 2, 3])
    high = rng.choice([None, 1, 2, 4])
    rule = BallotRule(
        kind,
        min_choices=low,
        max_choices=high,
        budget_cents=rng.randint(0, 150) * 100,
        min_budget_share_percent=rng.choice([None, 0, 30, 75, 100]),
        per_region=rng.random() < 0.5,
        region_budgets={r: rng.randint(0, 80) * 100 for r in regions if rng.random() < 0.9},
    )
    return rule, projects


def random_ballots(seed: int, count: int = 50):
    """`count` random instances, each with a random list of distinct known ids, as (rng, rule,
    projects, ids); a test may draw more from `rng` (the next instance follows from it)."""
    rng = random.Random(seed)
    for _ in range(count):
        rule, projects = random_instance(rng)
        ids = [p.id for p in rng.sample(projects, rng.randint(0, len(projects)))]
        yield rng, rule, projects, ids


@pytest.mark.parametrize("seed", range(40))
def test_every_subset_agrees_with_the_oracle(seed):
    rng = random.Random(seed)
    for _ in range(25):
        rule, projects = random_instance(rng)
        for size in range(len(projects) + 1):
            for subset in itertools.combinations(projects, size):
                ids = [p.id for p in subset]
                rng.shuffle(ids)
                problems = validate_ballot(rule, projects, ids)
                assert (not problems) == oracle(rule, projects, subset), (rule, ids, problems)
                # Only ballot-level codes can come from a list of distinct known ids.
                assert not {p.code for p in problems} & {
                    "not_an_id",
                    "unknown_project",
                    "duplicate",
                }


@pytest.mark.parametrize("seed", range(20))
def test_adding_a_bad_choice_always_makes_a_ballot_invalid(seed):
    for rng, rule, projects, ids in random_ballots(1000 + seed):
        bad, code = rng.choice(
            [("x", "not_an_id"), (None, "not_an_id"), (2.5, "not_an_id"), (True, "not_an_id")]
            + [(999, "unknown_project")]
            + ([(ids[0], "duplicate")] if ids else [])
        )
        position = rng.randint(0, len(ids))
        choices = ids[:position] + [bad] + ids[position:]
        problems = validate_ballot(rule, projects, choices)
        assert code in [p.code for p in problems]
        if code != "duplicate":
            # The bad choice is reported at its index, and the rest is judged as without it.
            assert problems[0].detail["index"] == position
            assert (
                problems[1:]
                == [p for p in validate_ballot(rule, projects, ids) if p.code != "empty"]
                or not ids
            )


@pytest.mark.parametrize("seed", range(20))
def test_remaining_agrees_with_validation(seed):
    for _rng, rule, projects, ids in random_ballots(2000 + seed):
        left = remaining(rule, projects, ids)
        problem_codes = {p.code for p in validate_ballot(rule, projects, ids)}
        assert left.chosen == len(ids)
        assert left.spent_cents == sum(p.cost_cents for p in projects if p.id in ids)
        if left.budget_left_cents is not None:
            assert (left.budget_left_cents < 0) == ("over_budget" in problem_codes)
        for group in left.regions:
            if group.budget_left_cents is not None:
                over = group.budget_left_cents < 0
                assert over == any(
                    p.code == "over_budget_in_region" and p.detail["region_id"] == group.region_id
                    for p in validate_ballot(rule, projects, ids)
                )
        if left.choices_left is not None and rule.kind != "one-per-region":
            # No choice left means one more would be one too many (and vice versa).
            others = [p.id for p in projects if p.id not in ids]
            if others and ids:
                more = {p.code for p in validate_ballot(rule, projects, [*ids, others[0]])}
                assert ("too_many" in more) == (left.choices_left == 0)


def test_normalised_choices_are_distinct_sorted_ids_and_problems_serialise():
    assert br.normalised_choices(PROJECTS, ["4", 1, 4, "x", 99]) == [1, 4]
    problem = validate_ballot(BallotRule("one-per-region"), PROJECTS, [1, 2])[0]
    assert problem.as_dict() == {
        "code": "two_in_region",
        "detail": {"region_id": 10, "ids": [1, 2], "count": 2},
    }


# --- own region only -----------------------------------------------------------------------

OWN = BallotRule("approval", own_group=br.OwnGroup.REGION)
# Two schools (7 in region 10, 8 in region 20), as OPCA's ballot holds them.
SCHOOL_PROJECTS = [
    BallotProject(1, 100_00, 10, 7),
    BallotProject(2, 300_00, 10, 7),
    BallotProject(3, 200_00, 20, 8),
]


def test_own_region_refuses_each_choice_outside_the_voters_region():
    problems = validate_ballot(OWN, PROJECTS, [1, "3", 4, 99], home=10)
    assert problems == [
        Problem("unknown_project", {"index": 3, "id": 99}),
        Problem("not_your_region", {"index": 1, "id": 3}),
        Problem("not_your_region", {"index": 2, "id": 4}),
    ]
    assert validate_ballot(OWN, PROJECTS, [1, 2], home=10) == []
    # A voter with no region on the roll may choose nothing.
    assert [p.code for p in validate_ballot(OWN, PROJECTS, [1], home=None)] == ["not_your_region"]


def test_own_region_is_not_checked_before_the_voter_is_known():
    assert validate_ballot(OWN, PROJECTS, [1, 3]) == []
    # Nor by a rule without the option, whatever the home.
    assert validate_ballot(BallotRule("approval"), PROJECTS, [1, 3], home=10) == []


def test_own_school_compares_schools_not_regions():
    own_school = BallotRule("approval", own_group=br.OwnGroup.SCHOOL)
    assert validate_ballot(own_school, SCHOOL_PROJECTS, [1, 2], home=7) == []
    assert [p.code for p in validate_ballot(own_school, SCHOOL_PROJECTS, [3], home=7)] == [
        "not_your_region"
    ]
    assert br.at_home(own_school, SCHOOL_PROJECTS, 8) == [SCHOOL_PROJECTS[2]]


def test_choices_home_finds_the_one_home_or_refuses_several():
    assert br.choices_home(OWN, PROJECTS, [1, 2, 99]) == (10, [])
    assert br.choices_home(OWN, PROJECTS, []) == (None, [])
    assert br.choices_home(OWN, PROJECTS, [1, 3]) == (
        None,
        [Problem("several_regions", {"homes": [10, 20]})],
    )
    assert br.choices_home(BallotRule("approval"), PROJECTS, [1, 3]) == (None, [])


def test_at_home_keeps_the_voters_region_only():
    assert br.at_home(OWN, PROJECTS + [CITY], 20) == PROJECTS[2:]
    assert br.at_home(OWN, PROJECTS, None) == []
    assert br.at_home(BallotRule("approval"), PROJECTS, 20) == PROJECTS


def test_own_region_needs_every_project_in_a_region_and_minimum_reachable_at_home():
    assert [p.code for p in rule_problems(OWN, PROJECTS + [CITY])] == ["project_without_region"]
    uneven = PROJECTS + [BallotProject(6, 10_00, 10)]  # three in region 10, two in 20
    at_least_three = BallotRule("approval", min_choices=3, own_group=br.OwnGroup.REGION)
    assert [p.code for p in rule_problems(at_least_three, uneven, final=True)] == [
        "min_above_available"
    ]
    assert rule_problems(BallotRule("approval", min_choices=3), uneven, final=True) == []


def test_unknown_own_group_is_refused():
    with pytest.raises(ValueError, match="unknown home"):
        BallotRule("approval", own_group="street")
