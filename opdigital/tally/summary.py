"""What staff check about a cycle's board and tally: read by the coordinator and audit screens.

Reading only: nothing here seals, counts or changes a cycle (that is `cycles.lifecycle`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from opdigital.board import services as board
from opdigital.cycles.models import Cycle
from opdigital.cycles.states import CycleState
from opdigital.errors import DomainError
from opdigital.extensions import db
from opdigital.ledger import keys
from opdigital.ledger.package import PackageError, paper_member
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
    # Of `ballots`, those cast on paper (entered from a voting point's batches) and online:
    # paper.json's counts (docs/tally-format.md, "Paper ballots"); no paper.json: all online.
    paper_ballots: int = 0
    paper_batches: int = 0

    @property
    def online_ballots(self) -> int:
        return self.ballots - self.paper_ballots


def board_state(cycle: Cycle) -> board.Head | None:
    """The board's head as stored, or None before voting (there is no board to speak of yet)."""
    if cycle.state not in BOARD_STATES:
        return None
    return board.stored_head(cycle.id)


def summary_of(record: Tally) -> TallySummary:
    result = record.result
    try:
        paper = paper_member(record.package)
    except PackageError:  # not a package we wrote: show its counts as all online, never a 500
        paper = None
    return TallySummary(
        sha256=record.sha256,
        key_fingerprint=record.key_fingerprint,
        ballots=result["ballots"],
        participation=result["participation"],
        head_seq=result["board_head"]["seq"],
        head_hash=result["board_head"]["hash"],
        created_at=record.created_at,
        published_at=record.published_at,
        paper_ballots=paper["ballots"]["paper"] if paper else 0,
        paper_batches=len(paper["batches"]) if paper else 0,
    )


def tally_summary(cycle: Cycle) -> TallySummary | None:
    record = db.session.get(Tally, cycle.id)
    return summary_of(record) if record is not None else None


def public_key_dict() -> dict | None:
    """The tally signing key's public half and fingerprint, or None when none is set up."""
    try:
        key = tallies.signing_key()
    except DomainError:
        return None
    raw = keys.public_key_raw(key)
    return {
        "algorithm": "Ed25519",
        "public_key": keys.public_key_base64(key),
        "public_key_pem": keys.public_key_pem(key),
        "fingerprint": keys.fingerprint(raw),
    }
