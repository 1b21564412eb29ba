"""The tally's check of its own package, with board.jsonl read on a second core during the count.

The tally checks every package with the verifier before keeping it (`tally.services`), and for
a large vote most of that check is reading board.jsonl the strict way: every line parsed, the
chain's hashes and links (3.7 s for a million entries). The tally has those bytes before it
counts (PostgreSQL composed them: `board.services.sealed_board`), so `EarlyBoardRead.start`
forks a child that reads them exactly as `package.read_package` reads the member
(`package.read_board_bytes`: same caps, same line-by-line reading) while the parent counts. The
child starts reading when the parent says `go`: once the board is compressed (the other thing
the second core does during the count), so that three tasks never share the two cores.

The verifier then inflates and hashes the package's board.jsonl as always, and takes the child's
reading only for a member of exactly the bytes the child read (the same SHA-256) under the same
definition, declared ballots and paper.json's presence; in any other case (another member, a
child that failed, found a problem or died) it reads the member itself. So every check, and
every message, is what reading the member would give: the child only does the reading sooner.

The child hands back what a `Board` keeps beyond its choices (entry and receipt hashes, 64 MB a
million, through shared memory; the paper batches) with the chain's report. The choices it read
are compared, in the child, with the ballots the parent counts, and when they are equal the
parent's list stands for them. Where `fork` does not exist, and under `early_count.MIN_BALLOTS`
ballots, there is no child: the verifier reads the board, as before.
"""

from __future__ import annotations

import contextlib
import gc
import mmap
import multiprocessing
from collections.abc import Iterator, Sequence
from multiprocessing.connection import Connection
from typing import Any

from opdigital.ledger.board_reader import DIGEST as _DIGEST
from opdigital.ledger.board_reader import Board
from opdigital.ledger.early_count import MIN_BALLOTS, end_child
from opdigital.ledger.package import BoardReading, read_board_bytes


def _read_in_child(
    go: Connection,
    answer: Connection,
    hashes: mmap.mmap,
    definition: dict[str, Any],
    pieces: Sequence[bytes],
    ballots: list[tuple[int, ...]],
    paper: bool,
) -> None:
    try:
        # The compression is done (its core is free), and its SHA-256 of these very pieces
        # comes with the word to go; no word, no digest: one is taken here.
        digest = go.recv_bytes().decode("ascii") or None
    except (EOFError, OSError):
        return  # the tally stopped before that
    try:
        found = read_board_bytes(pieces, definition, len(ballots), paper=paper, digest=digest)
        if found.chain.ok and found.entries.choices == ballots:
            entry_hashes, receipts, batches = found.entries.parts()
            hashes[: len(entry_hashes)] = entry_hashes
            hashes[len(entry_hashes) :] = receipts
            outcome: tuple[str, Any] = (
                "read",
                (found.digest, found.definition, found.ballots, found.chain),
                batches,
            )
        else:  # the verifier's own reading will name what is wrong
            outcome = ("differs", None, None)
    except Exception as e:  # likewise
        outcome = ("failed", f"{type(e).__name__}: {e}", None)
    answer.send(outcome)
    answer.close()


class EarlyBoardRead:
    """board.jsonl's bytes being read in a child process (a `package.KnownBoard`)."""

    def __init__(
        self,
        definition: dict[str, Any],
        pieces: Sequence[bytes],
        ballots: list[tuple[int, ...]],
        paper: bool,
    ) -> None:
        self.ballots = ballots
        self.paper = paper
        self._reading: BoardReading | None = None
        self._answered = False
        # The entry and receipt hashes come back through memory shared with the child (64 MB
        # a million: a pipe took 0.3 s more); only the small rest through the pipe.
        self._hashes = mmap.mmap(-1, max(1, 2 * _DIGEST * len(ballots)))
        context = multiprocessing.get_context("fork")
        self._answer, sending = context.Pipe(duplex=False)
        waiting, self._go = context.Pipe(duplex=False)
        self._child = context.Process(
            target=_read_in_child,
            args=(waiting, sending, self._hashes, definition, pieces, ballots, paper),
            daemon=True,
        )
        self._child.start()
        sending.close()  # the child's end: the parent sees EOF if the child dies silently
        waiting.close()

    def go(self, digest: str = "") -> None:
        """Start reading: the count's other core is free now (the tally calls this when the
        board is compressed, with the SHA-256 `PackageBuilder` took of the same pieces). Until
        then the child waits, so that the count, the compression and the reading never share
        two cores three ways (tried: the count took 2-5 s longer)."""
        with contextlib.suppress(OSError):  # the child is gone: `reading` will say so
            self._go.send_bytes(digest.encode("ascii"))

    @classmethod
    @contextlib.contextmanager
    def start(
        cls,
        definition: dict[str, Any],
        pieces: Sequence[bytes],
        ballots: list[tuple[int, ...]],
        *,
        paper: bool,
    ) -> Iterator[EarlyBoardRead | None]:
        """Read board.jsonl's `pieces` (joined in order) in a child for as long as the block
        runs; None where there is no point (no fork, a small board). The child is ended when
        the block is left, finished or not. Start it before any thread: it forks."""
        if "fork" not in multiprocessing.get_all_start_methods() or len(ballots) < MIN_BALLOTS:
            yield None
            return
        # Objects made so far are left out of the parent's garbage collections while the child
        # lives: a collection writes to every object it visits, which would copy the pages the
        # two processes share (a million ballots' worth).
        gc.freeze()
        early = cls(definition, pieces, ballots, paper)
        try:
            yield early
        finally:
            early.close()
            gc.unfreeze()

    def reading(self) -> BoardReading | None:
        """The child's reading (waiting for it), or None when it has none to give."""
        if not self._answered:
            self._answered = True
            self.go()  # in case no one did: waiting for a child told to wait would be forever
            try:
                kind, found, batches = self._answer.recv()
            except (EOFError, OSError):  # the child died without answering
                return None
            if kind == "read":
                digest, definition, ballots, chain = found
                half = _DIGEST * len(self.ballots)
                entries = Board.of(
                    self.ballots, self._hashes[:half], self._hashes[half : 2 * half], batches
                )
                self._reading = BoardReading(
                    digest, definition, ballots, self.paper, entries, chain
                )
        return self._reading

    def close(self) -> None:
        """End the child (if it is still reading) and free its pipes and memory."""
        end_child(self._child, self._answer, self._go)
        self._hashes.close()
