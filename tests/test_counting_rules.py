"""Counting rules on hand-made instances: plurality, greedy (city-wide and per region), Equal
Shares and its completion, the documented tie-break, and refused input; and the one registry of
rule names that settings, labels and the coordinator's form agree with."""

from __future__ import annotations

from fractions import Fraction

import pytest

from opdigital.coordination.voting_settings import VotingSettingsForm
from opdigital.counting.equal_shares import mes_completed, method_of_equal_shares
from opdigital.counting.greedy import greedy, plurality_per_region
from opdigital.counting.instance import (
    CountingError,
    Instance,
    Profile,
    Project,
    approval_counts,
    profile_of,
)
from opdigital.counting.rules import PABULIB_RULE_NAMES, REGISTRY, RULES, count
from opdigital.errors import ValidationFailed
from opdigital.formatting import COUNTING_RULE_LABELS
from opdigital.voting import settings as voting
from opdigital.voting.settings import VotingSettings
from tests.support import factories


def inst(costs: dict, budget, regions: dict | None = None, region_budgets=None) -> Instance:
    regions = regions or {}
    return Instance(
        tuple(Project(pid, cost, regions.get(pid)) for pid, cost in costs.items()),
        budget,
        region_budgets or {},
    )


def votes(*groups: tuple[int, tuple]) -> list[tuple]:
    """(number of voters, approval set) pairs as one ballot per voter."""
    return [ballot for n, ballot in groups for _ in range(n)]


def test_settings_labels_and_form_name_exactly_the_registered_rules(app):
    # Every registered rule has a label, is a choice of the form and is accepted by the
    # settings; nothing else is.
    assert tuple(REGISTRY) == RULES and set(PABULIB_RULE_NAMES) == set(RULES)
    assert set(COUNTING_RULE_LABELS) == set(RULES)
    with app.test_request_context():
        form = VotingSettingsForm(formdata=None, meta={"csrf": False})
        assert [option.data for option in form.counting_rule] == list(RULES)
        staff = factories.user("coordinator")
        for name in RULES:
            cycle = factories.cycle(ballot_rule=None)
            voting.configure_voting(cycle, VotingSettings("one-per-region", name), staff)
            assert cycle.counting_rule == name
        with pytest.raises(ValidationFailed) as refused:
            unknown = VotingSettings("one-per-region", "borda")
            voting.configure_voting(factories.cycle(ballot_rule=None), unknown, staff)
        assert refused.value.code == "unknown_counting_rule"


# --- plurality per region ------------------------------------------------------------------


def test_plurality_selects_the_most_voted_project_of_each_region():
    instance = inst(
        {1: 500, 2: 100, 3: 300, 4: 300, 5: 50, 6: 70},
        budget=0,  # plurality ignores money: one work per region
        regions={1: 10, 2: 10, 3: 20, 4: 20, 5: None, 6: 30},
    )
    ballots = votes((5, (1, 3)), (3, (2, 4)), (2, (4, 5)), (1, (2,)))
    # Region 10: 1 has 5 votes, 2 has 4. Region 20: 3 and 4 tie at 5 votes and cost: lower id.
    # City-wide group: 5. Region 30: nobody voted for 6, so nothing is selected there.
    assert plurality_per_region(instance, ballots) == [5, 1, 3]


def test_plurality_tie_prefers_the_cheaper_project():
    instance = inst({1: 300, 2: 200}, 0, regions={1: 7, 2: 7})
    assert plurality_per_region(instance, votes((2, (1,)), (2, (2,)))) == [2]


# --- greedy --------------------------------------------------------------------------------


def test_greedy_skips_what_does_not_fit_and_continues():
    instance = inst({"a": 6, "b": 6, "c": 4, "d": 1}, budget=10)
    ballots = votes((5, ("a",)), (4, ("b",)), (3, ("c",)), (1, ("d",)))
    assert greedy(instance, ballots) == ["a", "c"]  # b skipped; d no longer fits either


def test_greedy_funds_an_unvoted_project_when_money_is_left():
    # As pabutools' greedy_utilitarian_welfare: the votes set the order, the budget is spent.
    instance = inst({1: 5, 2: 3}, budget=10)
    assert greedy(instance, votes((3, (1,)))) == [1, 2]


def test_greedy_tie_break_more_votes_then_cheaper_then_lower_numeric_id():
    instance = inst({"10": 5, "9": 5, "8": 6}, budget=5)
    ballots = votes((2, ("10", "9", "8")))
    # All have 2 votes; 10 and 9 are cheaper than 8; "9" < "10" as numbers (not as text).
    assert greedy(instance, ballots) == ["9"]


def test_greedy_per_region_keeps_each_region_within_its_own_budget():
    instance = inst(
        {1: 60, 2: 50, 3: 30, 4: 30, 5: 40},
        budget=40,
        regions={1: "norte", 2: "norte", 3: "sul", 4: "sul"},
        region_budgets={"norte": 100, "sul": 50},
    )
    ballots = votes((9, (1, 2, 3, 4, 5)), (1, (1, 3)))
    # City-wide group first (5 fits 40), then norte: 1 (60), 2 would make 110 > 100; sul: 3.
    assert greedy(instance, ballots, per_region=True) == [5, 1, 3]
    # City-wide, only the instance budget of 40: 3 (10 votes like 1, but cheaper), then stop.
    assert greedy(instance, ballots) == [3]


def test_greedy_per_region_without_a_region_budget_funds_nothing_there():
    instance = inst({1: 10, 2: 10}, budget=100, regions={1: "a", 2: "b"}, region_budgets={"a": 10})
    assert greedy(instance, votes((1, (1, 2))), per_region=True) == [1]


# --- equal shares --------------------------------------------------------------------------


def test_equal_shares_gives_the_minority_its_share():
    # 6 voters, 10 each. Voters 1-4 like P1-P3, voters 5-6 like Q; all cost 20.
    instance = inst({"P1": 20, "P2": 20, "P3": 20, "Q": 20}, budget=60)
    ballots = votes((4, ("P1", "P2", "P3")), (2, ("Q",)))
    assert greedy(instance, ballots) == ["P1", "P2", "P3"]
    assert method_of_equal_shares(instance, ballots) == ["P1", "P2", "Q"]


def test_equal_shares_with_no_voters_selects_nothing():
    instance = inst({1: 10}, budget=100)
    assert method_of_equal_shares(instance, []) == []
    assert mes_completed(instance, []) == [1]  # the greedy completion still spends the budget


def test_completion_raises_budgets_then_fills_greedily():
    # 4 voters, 10 each: A (voters 1-2) and B (voters 3-4) cost 30, so neither is affordable.
    instance = inst({"A": 30, "B": 30}, budget=40)
    ballots = votes((2, ("A",)), (2, ("B",)))
    assert method_of_equal_shares(instance, ballots) == []
    # Add1: at 15 each both become affordable but cost 60 > 40, so the run at 14 (nothing) is
    # kept; greedy then funds A (tied with B on votes and cost: lower id).
    assert mes_completed(instance, ballots) == ["A"]


def test_completion_stops_at_the_first_exhaustive_run():
    instance = inst({"A": 30, "B": 10}, budget=40)
    ballots = votes((2, ("A",)), (2, ("B",)))
    # At 10 each B is funded (5 each) and A is not (20 < 30); at 15, A too: 40, exhaustive.
    assert set(mes_completed(instance, ballots)) == {"A", "B"}


def test_zero_cost_projects_are_left_to_the_completion():
    instance = inst({"free": 0, "x": 10}, budget=10)
    ballots = votes((3, ("free", "x")))
    assert method_of_equal_shares(instance, ballots) == ["x"]  # zero cost, zero utility
    assert set(mes_completed(instance, ballots)) == {"x", "free"}


def test_fractional_money_is_exact():
    instance = inst({1: Fraction(1, 3), 2: Fraction(1, 3), 3: Fraction(1, 3)}, budget=1)
    ballots = votes((1, (1,)), (1, (2,)), (1, (3,)))
    # Each voter has exactly 1/3: with floats this could fall a hair short.
    assert sorted(method_of_equal_shares(instance, ballots)) == [1, 2, 3]


# --- input ---------------------------------------------------------------------------------


def test_a_profile_and_per_voter_ballots_give_the_same_result():
    instance = inst({1: 20, 2: 20, 3: 20, 4: 20}, budget=60)
    ballots = votes((4, (1, 2, 3)), (2, (4,)), (1, ()))
    profile = profile_of(ballots)
    assert profile.num_voters == 7
    assert sorted(profile.weights) == [1, 2, 4]
    for rule in RULES:
        assert count(rule, instance, profile) == count(rule, instance, ballots)
    assert Profile(((1, 2, 3), (4,), ()), (4, 2, 1)).expanded() == ballots


def test_a_profiles_approvals_are_its_voters_and_kept_read_only():
    profile = Profile(((1, 2, 3), (4,), (), (2,)), (4, 2, 1, 3))
    assert dict(profile.approvals) == {1: 4, 2: 7, 3: 4, 4: 2}
    assert profile.approvals is profile.approvals  # counted once, however often asked
    with pytest.raises(TypeError):
        profile.approvals[1] = 0  # type: ignore[index]
    instance = inst({1: 5, 2: 5, 3: 5, 4: 5, 5: 5}, budget=5)
    assert approval_counts(instance, profile) == {1: 4, 2: 7, 3: 4, 4: 2, 5: 0}
    # Still equal and hashed by its ballots only.
    assert profile == Profile(((1, 2, 3), (4,), (), (2,)), (4, 2, 1, 3))


def test_a_project_approved_twice_on_a_ballot_counts_once():
    instance = inst({1: 5, 2: 5}, budget=5)
    assert greedy(instance, [(1, 1, 1), (2,), (2,)]) == [2]


def test_unknown_project_in_a_ballot_is_refused():
    with pytest.raises(CountingError, match="unknown project: 9"):
        greedy(inst({1: 5}, 5), [(1, 9)])


@pytest.mark.parametrize(
    ("costs", "budget", "message"),
    [({1: -1}, 5, "cost"), ({1: 1.5}, 5, "cost"), ({1: 1}, -5, "budget")],
)
def test_bad_instances_are_refused(costs, budget, message):
    with pytest.raises(CountingError, match=message):
        inst(costs, budget)


def test_duplicate_project_ids_are_refused():
    with pytest.raises(CountingError, match="twice"):
        Instance((Project(1, 5), Project(1, 6)), 10)


def test_unknown_rule_name_is_refused():
    with pytest.raises(ValueError, match="unknown counting rule"):
        count("borda", inst({1: 5}, 5), [])
