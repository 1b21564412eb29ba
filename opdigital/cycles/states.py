"""Cycle states and the transitions between them (pure: no Flask, no database)."""

from __future__ import annotations

from enum import StrEnum


class CycleState(StrEnum):
    DRAFT = "draft"
    OPEN_FOR_PROPOSALS = "open_for_proposals"
    UNDER_REVIEW = "under_review"
    BALLOT_FROZEN = "ballot_frozen"
    VOTING = "voting"
    CLOSED = "closed"
    TALLIED = "tallied"
    PUBLISHED = "published"
    MONITORING = "monitoring"


# The life of a cycle is a line: every state has exactly one next state. Going back is refused
# on purpose: once the ballot is frozen, voters' choices depend on it, so it never moves again.
_ORDER = list(CycleState)
TRANSITIONS: dict[CycleState, CycleState] = {
    state: _ORDER[i + 1] for i, state in enumerate(_ORDER[:-1])
}

# States in which the ballot (proposals on it, their costs, regions) can no longer change.
BALLOT_LOCKED = frozenset(_ORDER[_ORDER.index(CycleState.BALLOT_FROZEN) :])


def next_state(state: CycleState) -> CycleState | None:
    """The only state `state` may move to, or None at the end of the line."""
    return TRANSITIONS.get(CycleState(state))


def can_transition(current: str, target: str) -> bool:
    """True when moving from `current` to `target` is allowed."""
    try:
        return TRANSITIONS.get(CycleState(current)) == CycleState(target)
    except ValueError:
        return False
