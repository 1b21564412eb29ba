"""Sealing accepted ballots onto the board, and reading the board (head, receipts).

A cast writes its ballot to `ballot` in the voter's own transaction; a *separate* transaction
later moves pending ballots onto the hash chain, in random order. So no board entry shares a
transaction (PostgreSQL's xmin) with a participation row, and the board's order says nothing
about the order people voted in, beyond the batch a ballot was sealed in.

When sealing happens (docs/security.md, "Ballot board"):
- when BOARD_BATCH_SIZE ballots wait (checked by about every BOARD_BATCH_SIZE-th cast);
- when at least BOARD_MIN_BATCH ballots wait and the oldest has waited BOARD_MAX_DELAY_SECONDS:
  checked by `opdigital board seal --watch` (run beside the app in production). Fewer than
  BOARD_MIN_BATCH are never sealed however long they wait, so a ballot cast in a quiet hour is
  not sealed alone and dated by the head's time;
- always, for every pending ballot, when the vote closes and before a tally (`seal_all`, which
  waits for any sealing under way and fails loudly if a ballot is left).

Reading the board (its head, a receipt) seals nothing and locks nothing.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects import postgresql

from opdigital.board.models import BoardEntry, BoardHead
from opdigital.clock import now
from opdigital.cycles.models import Cycle, PhaseKind
from opdigital.errors import IllegalTransition, NotFound
from opdigital.extensions import db
from opdigital.ledger import chain
from opdigital.ledger.package import board_bytes
from opdigital.voting.models import Ballot
from opdigital.voting.receipts import normalise_receipt, receipt_hash

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Head:
    """What observers record during the vote: how many entries, and the last one's hash."""

    seq: int
    hash: str
    sealed_at: datetime | None
    pending: int


def batch_size() -> int:
    return int(current_app.config["BOARD_BATCH_SIZE"])


def min_batch() -> int:
    return max(1, int(current_app.config["BOARD_MIN_BATCH"]))


def max_delay() -> timedelta:
    return timedelta(seconds=int(current_app.config["BOARD_MAX_DELAY_SECONDS"]))


class BoardNotSealed(IllegalTransition):
    """Ballots are still waiting after sealing everything (the close or the tally stops)."""

    code = "board_not_sealed"


def pending_count(cycle_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(Ballot).where(Ballot.cycle_id == cycle_id)
    )


def _locked_head(cycle_id: int, *, wait: bool) -> BoardHead | None:
    """The head row, locked for this transaction. Without `wait`, None if another sealer holds
    it (the watcher and casts move on; that sealer takes the waiting ballots)."""
    if db.session.get(BoardHead, cycle_id) is None:
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
        .with_for_update(skip_locked=not wait)
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


def seal(cycle: Cycle, *, only_if_due: bool = False, wait: bool = False) -> int:
    """Move the cycle's pending ballots onto its board, in random order, in one transaction.

    With `only_if_due`, seal only when a full batch waits, or at least the minimum batch with
    the oldest past the delay. With `wait`, wait for a sealing under way instead of leaving the
    ballots to it. Returns the number of entries added (0 when nothing was due or another
    sealer was at work).
    """
    cycle_id, slug = cycle.id, cycle.slug
    db.session.commit()  # start a transaction of our own: never the voter's
    _use_plain_index_scans()
    head = _locked_head(cycle_id, wait=wait)
    if head is None:
        return 0
    # No row locks needed: sealers of a cycle queue on its head row, and casts only insert.
    pending = db.session.execute(
        sa.select(Ballot.id, Ballot.receipt_hash, Ballot.choices, Ballot.paper_batch_id).where(
            Ballot.cycle_id == cycle_id
        )
    ).all()
    if only_if_due and not _due(head, len(pending)):
        db.session.commit()  # the delay's clock, if this check started it
        return 0
    if not pending:
        db.session.rollback()
        return 0
    # Paper ballots carry their batch into the chain; they are shuffled with the online ones.
    items = [(row.receipt_hash, sorted(row.choices), row.paper_batch_id) for row in pending]
    secrets.SystemRandom().shuffle(items)  # the OS's random source: not predictable
    entries = chain.extend(slug, head.seq, head.entry_hash, items)
    _write_entries(cycle_id, entries)  # in chain order: the physical order is the shuffled one
    # The database lets a ballot go only once its entry is on the board (trigger, migration 0015).
    _delete_ballots([row.id for row in pending])
    head.seq, head.entry_hash, head.sealed_at = entries[-1].seq, entries[-1].entry_hash, now()
    head.pending_since = None  # ballots cast meanwhile are found by the next check
    db.session.commit()
    return len(entries)


# The board's columns as sealing writes them (COPY names them in this order).
_ENTRY_COLUMNS = (
    "cycle_id", "seq", "receipt_hash", "choices", "paper_batch_id", "prev_hash", "entry_hash"
)  # fmt: skip


def _write_entries(cycle_id: int, entries: list[chain.BoardEntry]) -> None:
    """Add the sealed entries to the board, in the order given.

    On PostgreSQL by one COPY in the session's transaction, where an executemany sent one
    INSERT per entry: about 22 us of Python and 19 us of PostgreSQL per entry, against 5 and
    12 by COPY. The choices are the text the ORM's JSON column writes (json.dumps of the list),
    so the rows are the same either way.
    """
    if db.engine.dialect.name != "postgresql":  # SQLite, for `make run`
        db.session.execute(
            sa.insert(BoardEntry),
            [
                {
                    "cycle_id": cycle_id,
                    "seq": e.seq,
                    "receipt_hash": e.receipt_hash,
                    "choices": list(e.choices),
                    "paper_batch_id": e.paper_batch,
                    "prev_hash": e.prev_hash,
                    "entry_hash": e.entry_hash,
                }
                for e in entries
            ],
        )
        return
    raw = db.session.connection().connection.driver_connection
    with (
        raw.cursor() as cursor,
        cursor.copy(f"COPY board_entry ({', '.join(_ENTRY_COLUMNS)}) FROM STDIN") as copy,
    ):
        for e in entries:
            copy.write_row(
                (cycle_id, e.seq, e.receipt_hash, json.dumps(list(e.choices)), e.paper_batch,
                 e.prev_hash, e.entry_hash)
            )  # fmt: skip


def _delete_ballots(ids: list[int]) -> None:
    """Delete the sealed ballots. On PostgreSQL the ids go as one array: an IN list takes a
    parameter per id, and a statement cannot have more than 65,535 (a backlog at the close)."""
    table = Ballot.__table__  # a Core delete: no ORM objects to keep in step
    if db.engine.dialect.name != "postgresql":
        db.session.execute(table.delete().where(table.c.id.in_(ids)))
        return
    ids_param = sa.bindparam("ids", ids, type_=postgresql.ARRAY(sa.BigInteger))
    db.session.execute(table.delete().where(table.c.id == sa.any_(ids_param)))


def _due(head: BoardHead, pending: int) -> bool:
    """A full batch waits, or the minimum batch with the oldest ballot past the delay.

    The delay's clock starts when a check first finds ballots waiting (that is, with the oldest
    of them, to within one watcher tick); it stops when none wait.
    """
    if pending == 0:
        head.pending_since = None
        return False
    if pending >= batch_size():
        return True
    if head.pending_since is None:
        head.pending_since = now()
    return pending >= min_batch() and now() - head.pending_since >= max_delay()


def seal_all(cycle: Cycle) -> int:
    """Seal every pending ballot now, waiting for any sealing under way (the close, the tally).

    Raises BoardNotSealed if a ballot is still waiting afterwards: what follows (a tally, a
    report of the board's head) must never go on without every acknowledged ballot.
    """
    sealed = seal(cycle, wait=True)
    left = pending_count(cycle.id)
    if left:
        raise BoardNotSealed(
            _l(
                "%(n)d accepted ballot(s) are still waiting to be sealed onto the board: "
                "try again.",
                n=left,
            )
        )
    return sealed


def seal_after_cast(cycle: Cycle, ballot_id: int) -> None:
    """Called once a cast has committed: about every BOARD_BATCH_SIZE-th ballot checks.

    The trigger is the new ballot's id (a sequence shared by every cycle), not a count of the
    pending ballots: counting them on every cast cost PostgreSQL more than the cast itself. One
    cast in a batch tries, so concurrent workers do not queue up to seal the same ballots; a
    cycle whose ballots the sequence passes by is sealed by the delay rule.
    """
    if ballot_id % batch_size() == 0:
        seal(cycle, only_if_due=True)


def head_of(cycle: Cycle) -> Head:
    """The board's head as stored: reading it seals nothing and locks no row."""
    return stored_head(cycle.id)


def stored_head(cycle_id: int) -> Head:
    """The head as stored, with the number of ballots waiting (staff screens only: the public
    head leaves the count out, see `api.board.head_json`)."""
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

    closes_at: datetime | None = None  # the end of the voting phase

    @property
    def sealed_by(self) -> datetime | None:
        """The latest time a pending ballot will be on the board: when the vote closes (it is
        sealed sooner once BOARD_MIN_BATCH ballots wait and the delay has passed)."""
        if self.entry is not None:
            return None
        return self.closes_at


def find_receipt(cycle: Cycle, code: str) -> ReceiptLookup:
    """The board entry (or pending ballot) of a receipt code, else NotFound."""
    if not normalise_receipt(code):
        raise NotFound(_l("No ballot with this receipt code in this cycle."))
    digest = receipt_hash(code)
    head = head_of(cycle)
    voting = cycle.phase_of_kind(PhaseKind.VOTING.value)
    closes_at = voting.ends_at if voting is not None else None
    entry = db.session.scalar(
        sa.select(BoardEntry).where(
            BoardEntry.cycle_id == cycle.id, BoardEntry.receipt_hash == digest
        )
    )
    if entry is not None:
        return ReceiptLookup(digest, list(entry.choices), entry, head, closes_at)
    waiting = db.session.scalar(
        sa.select(Ballot.choices).where(Ballot.cycle_id == cycle.id, Ballot.receipt_hash == digest)
    )
    if waiting is None:
        raise NotFound(_l("No ballot with this receipt code in this cycle."))
    return ReceiptLookup(digest, sorted(waiting), None, head, closes_at)


def board_entries(cycle_id: int) -> list[chain.BoardEntry]:
    """Every sealed entry of a cycle, in sequence order, as the ledger's plain values.

    A tally reads a million of these: plain rows rather than ORM objects, and the choices as
    the column's text, each distinct text parsed once (ballots repeat: a million are a few
    hundred thousand distinct ones), so equal choices also share one tuple.
    """
    rows = db.session.execute(
        sa.select(
            BoardEntry.seq,
            BoardEntry.receipt_hash,
            sa.cast(BoardEntry.choices, sa.Text),
            BoardEntry.prev_hash,
            BoardEntry.entry_hash,
            BoardEntry.paper_batch_id,
        )
        .where(BoardEntry.cycle_id == cycle_id)
        .order_by(BoardEntry.seq)
    )
    parsed: dict[str, tuple[int, ...]] = {}

    def choices_of(text: str) -> tuple[int, ...]:
        choices = parsed.get(text)
        if choices is None:
            choices = parsed[text] = _choices_from_text(text)
        return choices

    make = chain.BoardEntry
    return [
        make(seq, receipt, choices_of(text), prev, digest, batch)
        for seq, receipt, text, prev, digest, batch in rows
    ]


def _choices_from_text(text: str) -> tuple[int, ...]:
    """A JSON list of ints as the column holds it ("[3, 17]"): split, or else parsed as JSON."""
    inside = text.strip()[1:-1]
    try:
        return tuple(map(int, inside.split(","))) if inside.strip() else ()
    except ValueError:  # not what the app writes: let the JSON parser read it
        return tuple(json.loads(text))


@dataclass(frozen=True)
class SealedBoard:
    """A cycle's whole board as its tally needs it, read once: board.jsonl's bytes (its lines
    in seq order, as `ledger.package.board_bytes` writes them) in pieces of whole lines, for
    `PackageBuilder` to join; the ballots' choices in the same order; the head (the last
    entry's seq and hash; 0 and the genesis hash when empty); and how many of the entries are
    paper ballots (paper.json counts them: `tally.services.paper_of`)."""

    lines: list[bytes]
    ballots: list[tuple[int, ...]]
    head: tuple[int, str]
    paper: int


def sealed_board(cycle_id: int) -> SealedBoard:
    """The whole board of a cycle for its tally (see SealedBoard).

    On PostgreSQL the server writes each line (`_BOARD_LINES`) and Python only checks them and
    reads the choices back: 0.9 s for a million entries, against 6 s to read a million
    `chain.BoardEntry` and write their lines. A board the server cannot write exactly as
    `BoardEntry.line()` would (see `_PlainChunk`), and SQLite's (`make run`), are read entry
    by entry: the same bytes either way.
    """
    if db.engine.dialect.name == "postgresql":
        try:
            return _sealed_board_from_lines(cycle_id)
        except _NotPlain as e:
            log.info("board of cycle %d read entry by entry: %s", cycle_id, e)
    entries = board_entries(cycle_id)
    head = (entries[-1].seq, entries[-1].entry_hash) if entries else (0, chain.GENESIS_HASH)
    paper = sum(e.paper_batch is not None for e in entries)
    return SealedBoard([board_bytes(entries)], [e.choices for e in entries], head, paper)


# board.jsonl's lines, composed by PostgreSQL a chunk of _LINES_PER_CHUNK at a time: a row per
# line would cost Python more than the line itself, and chunks of 1024 lines (about 280 kB)
# made the first read in a server process 0.3 s slower than later ones, where 256 do not. The
# keys in sorted order, no spaces, the choices column's text without its spaces ("[3, 17]" is
# stored, "[3,17]" is written), the strings as they are: that is `chain.BoardEntry.line()`
# exactly when no value needs a JSON escape and the choices are plain non-negative ints.
# `_PlainChunk` checks both, and the lines are used only then. The chunks cover the seqs from
# the first to the last; no ORDER BY, which would sort them all before sending the first: they
# come in generate_series' order, and a chunk out of order stops the reading (_NotPlain).
_LINES_PER_CHUNK = 256
_BOARD_LINES = r"""
SELECT first_seq, chunk.lines, chunk.entries, chunk.paper
FROM generate_series(
    (SELECT min(seq) FROM board_entry WHERE cycle_id = %(cycle)s)::bigint,
    (SELECT max(seq) FROM board_entry WHERE cycle_id = %(cycle)s)::bigint,
    %(size)s::bigint
) AS first_seq,
LATERAL (
    SELECT
        convert_to(string_agg(
            '{"choices":' || replace(choices::text, ' ', '')
            || ',"entry_hash":"' || entry_hash || '",'
            || coalesce('"paper_batch":' || paper_batch_id || ',', '')
            || '"prev_hash":"' || prev_hash
            || '","receipt_hash":"' || receipt_hash
            || '","seq":' || seq || '}',
            E'\n' ORDER BY seq
        ) || E'\n', 'UTF8') AS lines,
        count(*) AS entries,
        count(paper_batch_id) AS paper
    FROM board_entry
    WHERE cycle_id = %(cycle)s AND seq >= first_seq AND seq < first_seq + %(size)s::bigint
) AS chunk
"""


class _NotPlain(Exception):
    """The server's lines may differ from `chain.BoardEntry.line()`: read entry by entry."""


def _sealed_board_from_lines(cycle_id: int) -> SealedBoard:
    """The board from the server's lines (`_BOARD_LINES`), each chunk checked and its choices
    read as it comes (the server meanwhile writes the next ones)."""
    raw = db.session.connection().connection.driver_connection
    board = _LinesRead()
    problem: _NotPlain | None = None
    with raw.cursor(binary=True) as cursor:
        # A million rows make the plan costly enough for PostgreSQL to compile it (JIT): about
        # 0.1 s before the first row, for no faster a query. Off for it alone (set back after).
        jit = cursor.execute(
            "SELECT current_setting('jit'), set_config('jit', 'off', true)"
        ).fetchone()[0]
        for row in cursor.stream(_BOARD_LINES, {"cycle": cycle_id, "size": _LINES_PER_CHUNK}):
            if problem is None:
                try:
                    board.add(*row)
                except _NotPlain as e:
                    # The rest is fetched all the same: leaving a stream early cancels its
                    # query, which would abort the transaction the tally goes on in.
                    problem = e
        cursor.execute("SELECT set_config('jit', %s, true)", (jit,))
    if problem is not None:
        raise problem
    return board.sealed()


class _LinesRead:
    """What the chunks of lines read so far hold (see SealedBoard)."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.ballots: list[tuple[int, ...]] = []
        self.paper = 0
        self.choices: dict[bytes, tuple[int, ...]] = {}  # each distinct text's, read once
        self.first_seq: int | None = None

    def add(self, first_seq: int, lines: bytes | None, entries: int, paper: int) -> None:
        if self.first_seq is not None and first_seq <= self.first_seq:
            raise _NotPlain("the server sent the chunks out of order")
        self.first_seq = first_seq
        if not entries:
            return  # a gap in the seqs: nothing to write
        chunk = _PlainChunk(lines or b"", entries, paper)
        self.ballots.extend(chunk.ballots(self.choices))
        self.paper += paper
        self.chunks.append(chunk.lines)

    def sealed(self) -> SealedBoard:
        if not self.chunks:
            return SealedBoard([], [], (0, chain.GENESIS_HASH), 0)
        last_lines = self.chunks[-1]
        last = json.loads(last_lines[last_lines.rfind(b"\n", 0, -1) + 1 :])
        return SealedBoard(self.chunks, self.ballots, (last["seq"], last["entry_hash"]), self.paper)


# The bytes a string value may hold in a plain line: printable ASCII, which JSON writes as it
# is, but for the quote and the backslash. A line's own quotes and newline are counted apart.
_VALUE_BYTES = bytes(b for b in range(0x20, 0x7F) if b not in b'"\\')
_QUOTES = chain.BoardEntry(1, "", (), "", "").line().count(b'"')
_PAPER_QUOTES = chain.BoardEntry(1, "", (), "", "", 1).line().count(b'"')
_CHOICES = re.compile(rb'\{"choices":\[([^\]]*)\]')
_CHOICES_BYTES = b"0123456789,[]"


class _PlainChunk:
    """A chunk of the server's lines, checked to be `chain.BoardEntry.line()`'s (else
    _NotPlain).

    Every byte is printable ASCII, and the quotes and newlines are exactly those of the lines'
    own text (`entries` lines, `paper` of them with a batch): so no value holds a quote, a
    backslash, a control or non-ASCII character, and each string is written as JSON writes
    it. Each line then starts with its choices, which `ballots` reads and checks.
    """

    def __init__(self, lines: bytes, entries: int, paper: int) -> None:
        own = lines.translate(None, _VALUE_BYTES)
        quotes = entries * _QUOTES + paper * (_PAPER_QUOTES - _QUOTES)
        if len(own) != quotes + entries or own.count(b"\n") != entries:
            raise _NotPlain("a value needs a JSON escape, or the lines are not the entries'")
        self.lines, self.entries, self.paper = lines, entries, paper

    def ballots(self, known: dict[bytes, tuple[int, ...]]) -> Iterator[tuple[int, ...]]:
        """The lines' choices, in order; `known` keeps each distinct text's tuple (a million
        ballots are a few hundred thousand distinct ones), so equal choices share one tuple.

        The texts new to `known` are read together, as one JSON list of them, which must hold
        only digits, commas and brackets: JSON then reads each text as a list of non-negative
        ints without spaces or leading zeros, or fails (a text with a list inside leaves a
        bracket open). Such a text is what `BoardEntry.line()` writes of the ints that
        `board_entries` reads from the column's text (the same, with spaces).
        """
        texts = _CHOICES.findall(self.lines)
        if len(texts) != self.entries:
            raise _NotPlain("a line does not start with its choices")
        new = list(set(texts).difference(known))
        if new:
            joined = b"[[" + b"],[".join(new) + b"]]"
            try:
                if joined.translate(None, _CHOICES_BYTES):
                    raise ValueError("not only digits, commas and brackets")
                lists = json.loads(joined)
            except ValueError as e:
                raise _NotPlain(f"choices other than a list of non-negative ints ({e})") from e
            known.update(zip(new, map(tuple, lists), strict=True))
        return map(known.__getitem__, texts)


def seal_due_cycles() -> int:
    """One pass of the watcher: seal every cycle with overdue pending ballots."""
    cycles = db.session.scalars(
        sa.select(Cycle).where(Cycle.id.in_(sa.select(Ballot.cycle_id).distinct()))
    ).all()
    return sum(seal(cycle, only_if_due=True) for cycle in cycles)
