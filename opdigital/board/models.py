"""The ballot board's tables (docs/security.md, "Ballot board"; docs/tally-format.md).

`board_entry` is the per-cycle hash chain, in sequence order; on PostgreSQL it refuses UPDATE
and DELETE. `board_head` is the chain's last entry per cycle, and the row sealers lock so that
one cycle is sealed by one transaction at a time. Accepted ballots wait in `ballot` (see
voting.models) until a sealing transaction moves them here in random order.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from opdigital.db_types import UTCDateTime
from opdigital.extensions import db


class BoardEntry(db.Model):
    """One sealed ballot: its place in the chain, the receipt's hash and the choices."""

    __tablename__ = "board_entry"
    __table_args__ = (sa.UniqueConstraint("cycle_id", "receipt_hash"),)

    cycle_id: Mapped[int] = mapped_column(sa.ForeignKey("cycle.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    receipt_hash: Mapped[str] = mapped_column(sa.String(64))
    # Proposal ids, sorted ascending (as in the ballot table and the tally package).
    choices: Mapped[list] = mapped_column(sa.JSON)
    # A paper ballot's batch, part of the entry's hash (None: cast online; docs/tally-format.md).
    paper_batch_id: Mapped[int | None] = mapped_column(sa.ForeignKey("paper_batch.id"))
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    entry_hash: Mapped[str] = mapped_column(sa.String(64))


class BoardHead(db.Model):
    """The last sealed entry of a cycle's board (seq 0 and the genesis hash when empty)."""

    __tablename__ = "board_head"

    cycle_id: Mapped[int] = mapped_column(sa.ForeignKey("cycle.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(sa.Integer, default=0)
    entry_hash: Mapped[str] = mapped_column(sa.String(64))
    # When the last sealing ran (or the board was started): public, a batch's time at most.
    sealed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # When a check first found ballots waiting since the last sealing (the oldest waiting
    # ballot's time, to within one watcher tick): the clock of the sealing delay. Not public.
    pending_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
