"""The verifier's recount, started on a second core while the board is still being checked.

A large package spends its verification in two places: reading board.jsonl line by line
(strict JSON, the chain's hashes and links) and recounting its ballots. The recount needs only
the ballots, so `EarlyCount.start` takes them from the board with one quick scan (the choices
field each line begins with), forks, and counts them in the child while the parent reads the
board the strict way. The child's result is used only when the strict reading found exactly
the inputs the child counted (`result.same_count_inputs`: definition, ballots by value, number
of entries, head); if anything differs, or the scan does not understand the board, or the child
fails, the recount is done again in the usual way. So every check runs exactly as before, on
what the strict reading found: the scan only decides whether the second core can start early.

Where `fork` does not exist (Windows) and for small boards (where forking costs more than it
saves) there is no early count. The child computes and exits: it writes nothing but its answer,
through a pipe, and the parent ends it whenever the verification stops early.
"""

from __future__ import annotations

import json
import multiprocessing
import re
from collections.abc import Iterable
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from opdigital.ledger.package import (
    BOARD,
    CYCLE,
    RESULT,
    board_caps,
    member_chunks,
    open_archive,
    read_member,
    strict_json,
)
from opdigital.ledger.result import (
    CountInputs,
    TallyError,
    compute_result,
    same_count_inputs,
    validate_definition,
)

# Below this many ballots the whole recount takes well under a second: not worth a process.
MIN_BALLOTS = 50_000

# Every canonical board line begins with its choices (keys are sorted): ids without spaces.
_CHOICES = re.compile(rb'\{"choices":\[([0-9,]*)\]')


def _scan(
    chunks: Iterable[bytes], most: int
) -> tuple[list[tuple[int, ...]], tuple[int, str]] | None:
    """Each line's choices, in order, and the head (the last line's seq and entry_hash), if
    every line starts as a canonical line and there are at most `most` (the ballots result.json
    declares: more, and the strict reading refuses the board anyway, while a board of tiny
    lines could make the list of them many times larger than any real board's); else None.
    A chunk at a time, as it is inflated."""
    texts: list[bytes] = []
    lines, pending = 0, b""
    for chunk in chunks:
        block = pending + chunk
        end = block.rfind(b"\n") + 1
        complete, pending = block[:end], block[end:]
        found = _CHOICES.findall(complete)
        lines += complete.count(b"\n")
        if len(found) + len(texts) != lines or lines > most:
            return None
        texts += found
        if complete:
            last = complete[complete.rfind(b"\n", 0, end - 1) + 1 :]
    if pending or not texts:
        return None
    parsed = {}
    for text in dict.fromkeys(texts):  # ballots repeat: each distinct text parsed once
        parsed[text] = tuple(map(int, text.split(b","))) if text else ()
    ending = json.loads(last)
    seq, digest = ending.get("seq"), ending.get("entry_hash")
    if type(seq) is not int or type(digest) is not str:
        return None
    return list(map(parsed.__getitem__, texts)), (seq, digest)


def _count_in_child(
    answer: Connection,
    definition: dict[str, Any],
    ballots: list[tuple[int, ...]],
    participation: int,
    head: tuple[int, str],
) -> None:
    try:
        outcome: tuple[str, Any] = (
            "result",
            compute_result(definition, ballots, participation=participation, head=head),
        )
    except TallyError as e:
        outcome = ("refused", str(e))
    except Exception as e:  # the parent then counts again, and reports it
        outcome = ("failed", f"{type(e).__name__}: {e}")
    answer.send(outcome)
    answer.close()


class EarlyCount:
    """A recount running in a child process, and the inputs it was given."""

    def __init__(
        self,
        definition: dict[str, Any],
        ballots: list[tuple[int, ...]],
        head: tuple[int, str],
    ) -> None:
        self.definition = definition
        self.ballots = ballots
        self.participation = len(ballots)
        self.head = head
        context = multiprocessing.get_context("fork")
        self._answer, sending = context.Pipe(duplex=False)
        self._child = context.Process(
            target=_count_in_child,
            args=(sending, definition, ballots, self.participation, head),
            daemon=True,
        )
        self._child.start()
        sending.close()  # the child's end: the parent sees EOF if the child dies silently

    @classmethod
    def start(cls, data: bytes) -> EarlyCount | None:
        """Start counting the package's ballots in a child process, or None when there is no
        point (no fork, a small board) or the board is not as our tally writes it."""
        if "fork" not in multiprocessing.get_all_start_methods():
            return None
        try:
            return cls._start(data)
        except Exception:  # anything odd: the strict reading will name it
            return None

    @classmethod
    def _start(cls, data: bytes) -> EarlyCount | None:
        archive, infos = open_archive(data)
        with archive:
            if not {CYCLE, RESULT, BOARD} <= infos.keys():
                return None
            definition = validate_definition(strict_json(read_member(archive, infos[CYCLE]), CYCLE))
            result = strict_json(read_member(archive, infos[RESULT]), RESULT)
            declared = result.get("ballots") if isinstance(result, dict) else None
            if type(declared) is not int or declared < MIN_BALLOTS:
                return None
            _, cap = board_caps(definition, declared)
            if infos[BOARD].file_size > cap:
                return None
            scanned = _scan(member_chunks(archive, infos[BOARD]), declared)
        if scanned is None:
            return None
        ballots, head = scanned
        return cls(definition, ballots, head)

    def result_for(self, found: CountInputs) -> dict[str, Any] | None:
        """The child's result when the strict reading `found` exactly its inputs, else None
        (count again). Raises TallyError with the child's message when it could not count
        them, as `compute_result` on the same inputs would."""
        counted = (self.definition, self.ballots, self.participation, self.head)
        if not same_count_inputs(counted, found):
            return None
        try:
            kind, value = self._answer.recv()
        except (EOFError, OSError):  # the child died without answering
            return None
        if kind == "refused":
            raise TallyError(value)
        return value if kind == "result" else None

    def close(self) -> None:
        """End the child (if it is still counting) and free its pipe."""
        end_child(self._child, self._answer)


def end_child(child: BaseProcess, *pipes: Connection) -> None:
    """End a child started for a verification (if it still runs), then free it and its pipes:
    a verification that stops early does not wait for work it no longer needs."""
    if child.is_alive():
        child.terminate()
    child.join()
    for pipe in pipes:
        pipe.close()
    child.close()
