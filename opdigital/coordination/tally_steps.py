"""Closing the vote, tallying and publishing from the control page, and the tally staff see.

Those three steps are more than a change of state: closing seals every waiting ballot onto the
board, tallying counts and signs the package, publishing opens it to the public. So the control
page's one "next state" button goes through `opdigital.tally.services` for them, and through the
plain `cycles.transition` for every other step. Staff (coordinators, admins) may download the
package as soon as it exists; the public only once it is published (`/api/v1/.../tally.zip`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from opdigital.board import services as board
from opdigital.board.models import BoardHead
from opdigital.coordination.blueprint import bp
from opdigital.coordination.common import load_cycle
from opdigital.cycles import services as cycles
from opdigital.cycles.models import Cycle
from opdigital.cycles.states import CycleState, can_transition
from opdigital.errors import IllegalTransition
from opdigital.extensions import db
from opdigital.formatting import labels
from opdigital.ledger.chain import GENESIS_HASH
from opdigital.tally import downloads
from opdigital.tally import services as tallies
from opdigital.tally.models import Tally

# From voting on, the board exists and its head means something to observers.
BOARD_STATES = frozenset(
    {
        CycleState.VOTING,
        CycleState.CLOSED,
        CycleState.TALLIED,
        CycleState.PUBLISHED,
        CycleState.MONITORING,
    }
)
# The package is the cycle's signed record, not meant for a shared cache before publication.
PRIVATE_DOWNLOAD = "private, no-store"


@dataclass(frozen=True)
class TallySummary:
    """What staff check about a tally: the package's identity and the counts it states."""

    sha256: str
    key_fingerprint: str
    ballots: int
    participation: int
    head_seq: int
    head_hash: str
    created_at: datetime
    published_at: datetime | None


def board_state(cycle: Cycle) -> board.Head | None:
    """The board's head as stored, or None before voting (there is no board to speak of yet)."""
    if cycle.state not in BOARD_STATES:
        return None
    return board.stored_head(cycle.id)


def summary_of(record: Tally) -> TallySummary:
    result = record.result
    return TallySummary(
        sha256=record.sha256,
        key_fingerprint=record.key_fingerprint,
        ballots=result["ballots"],
        participation=result["participation"],
        head_seq=result["board_head"]["seq"],
        head_hash=result["board_head"]["hash"],
        created_at=record.created_at,
        published_at=record.published_at,
    )


def tally_summary(cycle: Cycle) -> TallySummary | None:
    record = db.session.get(Tally, cycle.id)
    return summary_of(record) if record is not None else None


def advance(cycle: Cycle, target: str, actor) -> str:
    """Move `cycle` to `target` and say what happened; DomainError when refused.

    Only a legal step goes to the tally services: an illegal one (a stale page, a hand-made
    POST) is refused by `cycles.transition` with its usual message.
    """
    if can_transition(cycle.state, target):
        if target == CycleState.CLOSED:
            return _close(cycle, actor)
        if target == CycleState.TALLIED:
            return _tally(cycle, actor)
        if target == CycleState.PUBLISHED:
            return _publish(cycle, actor)
    cycles.transition(cycle, target, actor)
    return _("The cycle is now: %(state)s.", state=str(labels()["state"].get(target, target)))


def _close(cycle: Cycle, actor) -> str:
    closed = tallies.close_vote(cycle, actor)
    head = db.session.get(BoardHead, closed.id)
    seq, digest = (head.seq, head.entry_hash) if head is not None else (0, GENESIS_HASH)
    return _(
        "Voting is closed and every ballot is sealed onto the board: %(seq)d entries, "
        "head %(hash)s.",
        seq=seq,
        hash=digest,
    )


def _tally(cycle: Cycle, actor) -> str:
    record = tallies.tally(cycle, actor)
    return _(
        "The votes are counted and the signed tally package is stored. Package SHA-256: "
        "%(sha256)s. Signing key fingerprint: %(fingerprint)s.",
        sha256=record.sha256,
        fingerprint=record.key_fingerprint,
    )


def _publish(cycle: Cycle, actor) -> str:
    # A cycle marked tallied before packages existed has nothing to publish: say so plainly
    # rather than answer "not found" for a page that is there.
    if db.session.get(Tally, cycle.id) is None:
        raise IllegalTransition(
            _l("This cycle has no tally package, so there is nothing to publish."),
            code="no_tally",
        )
    record = tallies.publish(cycle, actor)
    return _(
        "The results and the tally package (SHA-256 %(sha256)s) are now public.",
        sha256=record.sha256,
    )


def package_download(record: Tally, slug: str):
    """The stored package, byte for byte as signed, as a private download."""
    return downloads.package_download(record, slug, cache_control=PRIVATE_DOWNLOAD)


@bp.get("/cycles/<slug>/tally.zip")
def tally_package(slug: str):
    """The cycle's signed package for staff, published or not (404 before the tally)."""
    cycle = load_cycle(slug)
    return package_download(tallies.tally_of(cycle), cycle.slug)
