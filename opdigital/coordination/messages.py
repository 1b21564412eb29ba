"""What the control page says after each step of a cycle.

The steps themselves are `cycles.lifecycle.advance`'s (closing seals the board, tallying counts
and signs the package, publishing opens it to the public); this module words their outcome for
the coordinator.
"""

from __future__ import annotations

from flask_babel import gettext as _

from opdigital.board import services as board
from opdigital.cycles.lifecycle import Outcome
from opdigital.cycles.states import CycleState
from opdigital.formatting import labels


def step_message(outcome: Outcome) -> str:
    """The success message for a step: the board's head, the package's SHA-256 and key."""
    state, record = outcome.state, outcome.tally
    if state == CycleState.CLOSED:
        head = board.stored_head(outcome.cycle.id)
        return _(
            "Voting is closed and every ballot is sealed onto the board: %(seq)d entries, "
            "head %(hash)s.",
            seq=head.seq,
            hash=head.hash,
        )
    if state == CycleState.TALLIED:
        return _(
            "The votes are counted and the signed tally package is stored. Package SHA-256: "
            "%(sha256)s. Signing key fingerprint: %(fingerprint)s.",
            sha256=record.sha256,
            fingerprint=record.key_fingerprint,
        )
    if state == CycleState.PUBLISHED:
        return _(
            "The results and the tally package (SHA-256 %(sha256)s) are now public.",
            sha256=record.sha256,
        )
    return _("The cycle is now: %(state)s.", state=str(labels()["state"].get(state, state)))
