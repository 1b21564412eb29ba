"""The cycle a cast is for, read from the database at most once a second per process.

Every cast needs the cycle and its phases; loading them for each of hundreds of casts a second
costs more than the cast itself. A copy up to a second old is safe: the cast statement
re-checks, atomically, that the cycle is voting and inside its voting phase, and nothing else a
cast reads from the cycle can change once its ballot is frozen. Only frozen cycles in the
voting state are kept; anything else is read afresh every time.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from opdigital.cycles.models import Cycle
from opdigital.cycles.states import CycleState
from opdigital.extensions import db

MAX_AGE_SECONDS = 1.0

_cycles: dict[str, tuple[float, Cycle]] = {}


def voting_cycle(slug: str, load: Callable[[str], Cycle]) -> Cycle:
    """The cycle called `slug` with its phases, from `load` or from this process's copy."""
    kept = _cycles.get(slug)
    if kept is not None and time.monotonic() - kept[0] < MAX_AGE_SECONDS:
        return kept[1]
    cycle = load(slug)
    if cycle.ballot_frozen_at is not None and cycle.state == CycleState.VOTING:
        # Detached (with its phases) so that no later commit expires it under other requests.
        db.session.expunge(cycle)
        _cycles[slug] = (time.monotonic(), cycle)
    else:
        _cycles.pop(slug, None)
    return cycle


def forget_voting_cycles() -> None:
    """Drop every copy (tests reuse slugs with other data)."""
    _cycles.clear()
