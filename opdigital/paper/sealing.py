"""Sealing a ready batch: its agreed sheets become pending ballots, flagged with the batch.

In one transaction, one `ballot` row per agreed sheet: the choices sorted (a spoiled or blank
sheet: an empty list, `[]`, which counts for no work), `paper_batch_id` set, and as
`receipt_hash` the SHA-256 of a fresh random secret that is never stored nor shown (a paper
voter has no receipt: the hash only fills the column, unique, like any). The board's sealing
(`board.services.seal`) then shuffles them with the online ballots onto the chain, carrying the
batch (docs/tally-format.md).

A batch may be sealed while the cycle is voting and after the vote has closed, until the tally:
closing the vote seals what waits at that moment; a batch sealed later waits in `ballot` until
the tally step, whose `seal_all` (in `tally.services.seal_for_count`) seals every waiting
ballot before counting.

Guard: a point can never put on the board more paper ballots than the voters who signed its
paper list. The point's agreed sheets in sealed batches, plus this batch's, must not exceed its
paper participations.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from opdigital.audit import services as audit
from opdigital.clock import now
from opdigital.cycles.models import Cycle
from opdigital.errors import Conflict
from opdigital.extensions import db
from opdigital.paper.entry import locked_batch
from opdigital.paper.models import BatchStatus, PaperBatch, PaperSheet
from opdigital.paper.participation import paper_participations
from opdigital.paper.services import (
    COUNTING_STATES,
    POINT_LOCK,
    advisory_lock,
    ensure_may_act,
    share_lock_cycle,
)
from opdigital.voting.models import Ballot


@dataclass(frozen=True)
class PaperCount:
    """A point's paper totals: sheets already sealed, this batch's, and signatures."""

    sealed_sheets: int
    batch_sheets: int
    participations: int

    @property
    def after_sealing(self) -> int:
        return self.sealed_sheets + self.batch_sheets

    @property
    def fits(self) -> bool:
        return self.after_sealing <= self.participations


def paper_count(batch: PaperBatch) -> PaperCount:
    """The point's sealed paper sheets, this batch's agreed sheets, its paper participations."""
    sealed = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(PaperSheet)
        .join(PaperBatch, PaperBatch.id == PaperSheet.batch_id)
        .where(
            PaperBatch.cycle_id == batch.cycle_id,
            PaperBatch.voting_point_id == batch.voting_point_id,
            PaperBatch.status == BatchStatus.SEALED,
            PaperBatch.id != batch.id,
        )
    )
    mine = db.session.scalar(
        sa.select(sa.func.count()).select_from(PaperSheet).where(PaperSheet.batch_id == batch.id)
    )
    return PaperCount(sealed, mine, paper_participations(batch.cycle_id, batch.voting_point_id))


def _anonymous_hash() -> str:
    """A receipt hash no one holds the code of: paper voters get no receipt."""
    return hashlib.sha256(secrets.token_bytes(32)).hexdigest()


def seal_batch(batch: PaperBatch, actor: Any) -> int:
    """Put the ready batch's sheets in the ballot queue (audited "paper.seal"); the number of
    ballots. Conflict (409) unless the batch is ready, the cycle is voting or closed, and the
    point's paper sheets stay within its paper participations."""
    cycle = db.session.get(Cycle, batch.cycle_id)
    ensure_may_act(actor, batch.cycle_id, batch.voting_point_id)
    try:
        # A state change waits for this transaction (and this one for a change under way).
        if share_lock_cycle(cycle) not in COUNTING_STATES:
            raise Conflict(
                _l(
                    "Paper batches can be sealed while the vote runs and after it closes, "
                    "until the tally."
                ),
                code="wrong_cycle_state",
            )
        advisory_lock(POINT_LOCK, batch.voting_point_id)  # one point's sealings one at a time
        batch = locked_batch(batch)
        if batch.status != BatchStatus.READY:
            raise Conflict(
                _l("Only a batch entered twice, with every difference resolved, can be sealed."),
                code="batch_not_ready",
            )
        count = paper_count(batch)
        if not count.fits:
            raise Conflict(
                _l(
                    "Sealing this batch would put %(sheets)d paper ballots of this voting point "
                    "on the board, but only %(signed)d voters signed its paper list. Check the "
                    "batches and the paper list before sealing.",
                    sheets=count.after_sealing,
                    signed=count.participations,
                ),
                code="paper_over_count",
            )
        sheets = db.session.execute(
            sa.select(PaperSheet.choices).where(PaperSheet.batch_id == batch.id)
        ).all()
        rows = [
            {
                "cycle_id": batch.cycle_id,
                "receipt_hash": _anonymous_hash(),
                "choices": sorted(int(c) for c in row.choices),
                "paper_batch_id": batch.id,
            }
            for row in sheets
        ]
        # Not in serial order either: the queue's ids say nothing of which sheet is which.
        secrets.SystemRandom().shuffle(rows)
        if rows:
            db.session.execute(sa.insert(Ballot), rows)
        batch.status = BatchStatus.SEALED
        batch.sealed_at = now()
        audit.record(
            actor,
            "paper.seal",
            batch,
            after={
                "batch_id": batch.id,
                "voting_point_id": batch.voting_point_id,
                "ballots": len(sheets),
                "point_paper_sheets": count.after_sealing,
                "point_paper_participations": count.participations,
            },
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return len(sheets)
