"""The state machine itself: the order of states and which moves it allows (pure).

Running the moves, with their side effects, is tested in test_lifecycle.py.
"""

from __future__ import annotations

import itertools

import pytest

from opdigital.cycles.states import CycleState, can_transition, next_state

ORDER = [
    "draft",
    "open_for_proposals",
    "under_review",
    "ballot_frozen",
    "voting",
    "closed",
    "tallied",
    "published",
    "monitoring",
]
ALLOWED = set(itertools.pairwise(ORDER))
ALL_PAIRS = list(itertools.product(ORDER, ORDER))


def test_state_order_is_the_documented_line():
    assert [s.value for s in CycleState] == ORDER
    assert next_state(CycleState.MONITORING) is None


@pytest.mark.parametrize(("current", "target"), ALL_PAIRS)
def test_can_transition_only_to_the_next_state(current, target):
    assert can_transition(current, target) == ((current, target) in ALLOWED)


def test_unknown_states_are_refused():
    assert not can_transition("draft", "finished")
    assert not can_transition("nonsense", "draft")
