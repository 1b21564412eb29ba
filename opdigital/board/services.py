"""Sealing accepted ballots onto the board, and reading the board (head, receipts).

A cast writes its ballot to `ballot` in the voter's own transaction; a *separate* transaction
later moves pending ballots onto the hash chain, in random order. So no board entry shares a
transaction (PostgreSQL's xmin) with a participation row, and the board's order says nothing
about the order people voted in, beyond the batch a ballot was sealed in.

When sealing happens (docs/security.md, "Ballot board"):
- when a cast brings a cycle's pending ballots to BOARD_BATCH_SIZE;
- when the last sealing is BOARD_MAX_DELAY_SECONDS old and ballots are pending: checked by
  `opdigital board seal --watch` (run beside the app in production) and by every read of the
  board (head, receipt lookup), so a ballot waits at most that long plus the watch interval;
- always, for every pending ballot, when the vote closes and before a tally.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from opdigital.board.models import BoardEntry, BoardHead
from opdigital.clock import now
from opdigital.cycles.models import Cycle
from opdigital.errors import NotFound
from opdigital.extensions import db
from opdigital.ledger import chain
from opdigital.voting.models import Ballot
from opdigital.voting.receipts import normalise_receipt, receipt_hash


@dataclass(frozen=True)
class Head:
    """What observers record during the vote: how many entries, and the last one's hash."""

    seq: int
    hash: str
    sealed_at: datetime | None
    pending: int


def batch_size() -> int:
    return int(current_app.config["BOARD_BATCH_SIZE"])


def max_delay() -> timedelta:
    return timedelta(seconds=int(current_app.config["BOARD_MAX_DELAY_SECONDS"]))


def pending_count(cycle_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(Ballot).where(Ballot.cycle_id == cycle_id)
    )


def _locked_head(cycle_id: int) -> BoardHead | None:
    """The head row, locked for this transaction; None if another sealer holds it."""
    if db.session.get(BoardHead, cycle_id) is None:
        # The first look at this board starts its clock: committed at once, so that the
        # delay counts from here even when nothing is due yet.
        db.session.add(
            BoardHead(cycle_id=cycle_id, seq=0, entry_hash=chain.GENESIS_HASH, sealed_at=now())
        )
        try:
            db.session.commit()
        except sa.exc.IntegrityError:
            db.session.rollback()  # created at the same moment by another sealer
    return db.session.scalar(
        sa.select(BoardHead)
        .where(BoardHead.cycle_id == cycle_id)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )


def _use_plain_index_scans() -> None:
    """For this transaction, read pending ballots with plain index scans, not bitmap scans.

    `ballot` is a queue: every sealing deletes what it read, so between two vacuums its cycle
    index fills with entries of deleted rows. A bitmap scan visits the table for each of them
    on every sealing (2.4 ms after 16,000 votes, growing until autovacuum comes by); a plain
    index scan marks them dead in the index the first time, and later scans skip them.
    """
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.text("SET LOCAL enable_bitmapscan = off"))


def seal(cycle: Cycle, *, only_if_due: bool = False) -> int:
    """Move the cycle's pending ballots onto its board, in random order, in one transaction.

    With `only_if_due`, seal only when a full batch waits or the delay has run out. Returns
    the number of entries added (0 when nothing was due or another sealer was at work).
    """
    cycle_id, slug = cycle.id, cycle.slug
    db.session.commit()  # start a transaction of our own: never the voter's
    _use_plain_index_scans()
    head = _locked_head(cycle_id)
    if head is None:
        return 0
    if only_if_due and not _due(head):
        db.session.rollback()
        return 0
    # No row locks needed: sealers of a cycle queue on its head row, and casts only insert.
    pending = db.session.execute(
        sa.select(Ballot.id, Ballot.receipt_hash, Ballot.choices).where(Ballot.cycle_id == cycle_id)
    ).all()
    if not pending:
        db.session.rollback()
        return 0
    items = [(row.receipt_hash, sorted(row.choices)) for row in pending]
    secrets.SystemRandom().shuffle(items)  # the OS's random source: not predictable
    entries = chain.extend(slug, head.seq, head.entry_hash, items)
    # One multi-row INSERT in chain order: the table's physical order is the shuffled order.
    db.session.execute(
        sa.insert(BoardEntry),
        [
            {
                "cycle_id": cycle_id,
                "seq": e.seq,
                "receipt_hash": e.receipt_hash,
                "choices": list(e.choices),
                "prev_hash": e.prev_hash,
                "entry_hash": e.entry_hash,
            }
            for e in entries
        ],
    )
    # The database lets a ballot go only once its entry is on the board (trigger, migration 0003).
    db.session.execute(sa.delete(Ballot).where(Ballot.id.in_([row.id for row in pending])))
    head.seq, head.entry_hash, head.sealed_at = entries[-1].seq, entries[-1].entry_hash, now()
    db.session.commit()
    return len(entries)


def _due(head: BoardHead) -> bool:
    """The delay has run out, or a full batch waits (counted only when the delay has not)."""
    if now() - head.sealed_at >= max_delay():
        return True
    return pending_count(head.cycle_id) >= batch_size()


def seal_after_cast(cycle: Cycle, ballot_id: int) -> None:
    """Called once a cast has committed: about every BOARD_BATCH_SIZE-th ballot seals.

    The trigger is the new ballot's id (a sequence shared by every cycle), not a count of the
    pending ballots: counting them on every cast cost PostgreSQL more than the cast itself. One
    cast in a batch tries, so concurrent workers do not queue up to seal the same ballots; a
    cycle whose ballots the sequence passes by is sealed by the delay rule.
    """
    if ballot_id % batch_size() == 0:
        seal(cycle, only_if_due=False)


def head_of(cycle: Cycle) -> Head:
    """The board's head now (sealing first what is overdue, so the head is never stale)."""
    seal(cycle, only_if_due=True)
    return stored_head(cycle.id)


def stored_head(cycle_id: int) -> Head:
    """The head as stored, sealing nothing (staff screens: showing a page changes nothing)."""
    head = db.session.get(BoardHead, cycle_id)
    pending = pending_count(cycle_id)
    if head is None:
        return Head(0, chain.GENESIS_HASH, None, pending)
    return Head(head.seq, head.entry_hash, head.sealed_at, pending)


@dataclass(frozen=True)
class ReceiptLookup:
    """A receipt found: on the board (`entry` set) or accepted and waiting to be sealed."""

    receipt_hash: str
    choices: list[int]
    entry: BoardEntry | None
    head: Head

    @property
    def sealed(self) -> bool:
        return self.entry is not None

    @property
    def sealed_by(self) -> datetime | None:
        """The latest time a pending ballot will be on the board (watcher running)."""
        if self.entry is not None or self.head.sealed_at is None:
            return None
        return self.head.sealed_at + max_delay()


def find_receipt(cycle: Cycle, code: str) -> ReceiptLookup:
    """The board entry (or pending ballot) of a receipt code, else NotFound."""
    if not normalise_receipt(code):
        raise NotFound(_l("No ballot with this receipt code in this cycle."))
    digest = receipt_hash(code)
    head = head_of(cycle)
    entry = db.session.scalar(
        sa.select(BoardEntry).where(
            BoardEntry.cycle_id == cycle.id, BoardEntry.receipt_hash == digest
        )
    )
    if entry is not None:
        return ReceiptLookup(digest, list(entry.choices), entry, head)
    waiting = db.session.scalar(
        sa.select(Ballot.choices).where(Ballot.cycle_id == cycle.id, Ballot.receipt_hash == digest)
    )
    if waiting is None:
        raise NotFound(_l("No ballot with this receipt code in this cycle."))
    return ReceiptLookup(digest, sorted(waiting), None, head)


def board_entries(cycle_id: int) -> list[chain.BoardEntry]:
    """Every sealed entry of a cycle, in sequence order, as the ledger's plain values."""
    rows = db.session.scalars(
        sa.select(BoardEntry).where(BoardEntry.cycle_id == cycle_id).order_by(BoardEntry.seq)
    )
    return [
        chain.BoardEntry(
            seq=row.seq,
            receipt_hash=row.receipt_hash,
            choices=tuple(row.choices),
            prev_hash=row.prev_hash,
            entry_hash=row.entry_hash,
        )
        for row in rows
    ]


def seal_due_cycles() -> int:
    """One pass of the watcher: seal every cycle with overdue pending ballots."""
    cycles = db.session.scalars(
        sa.select(Cycle).where(Cycle.id.in_(sa.select(Ballot.cycle_id).distinct()))
    ).all()
    return sum(seal(cycle, only_if_due=True) for cycle in cycles)
