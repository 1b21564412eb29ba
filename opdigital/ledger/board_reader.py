"""Reading board.jsonl: every line parsed, the chain checked as it is read, the entries kept small.

A million-ballot board is a million lines, so the verifier's time is what it spends per line.
Nearly every line is exactly what `package.board_bytes` writes (canonical JSON: sorted keys, no
spaces, plain decimal numbers, lowercase hex), and when the board is sound each line is the next
link: its seq and prev_hash are known before it is read. So a line is first compared, byte for
byte, with the entry rebuilt from its own choices, entry hash, paper batch and receipt hash (each
checked to be in canonical form) and the expected seq and prev_hash; the entry's hash is then
taken over the line's own bytes with `"entry_hash":"..."` swapped for `"cycle":<slug>`, which for
a line of that form is exactly `chain.canonical_json` of the hashed content. Any other line (a
space, another key order, an escape, a float, a longer number) and any entry that breaks the
chain takes the reference path: `strict_json`, `BoardEntry.from_dict`, the line's canonical form
(docs/tally-format.md, section 4: a line that is not its entry's canonical JSON is refused,
naming it), `chain.entry_problem`. A line the fast form matches is canonical by construction, so
what is accepted or refused, and every message, is what the reference reading and
`chain.check_chain` say over the parsed entries (tests/test_ledger_fast_paths.py compares the
two on every one-byte change of a line, on near misses and on tampered boards).

What is kept for the checks after reading (`Board`): each entry's choices (one tuple object per
distinct ballot, shared), its entry hash and receipt hash as 32-byte digests, its paper batch
(only for paper ballots), and, when the chain breaks, the entry that breaks it. Entries are
rebuilt as `BoardEntry` objects only when asked for.

Pure: standard library only.
"""

from __future__ import annotations

import hashlib
import re
from binascii import hexlify, unhexlify
from collections.abc import Callable, Iterator, Sequence
from json.encoder import encode_basestring_ascii
from typing import overload

from opdigital.ledger.chain import GENESIS_HASH, BoardEntry, ChainReport, entry_problem

# A line exactly as canonical_json writes an entry: keys sorted, no spaces, ints without sign or
# leading zero and of at most 18 digits (so below 2**63, and read by int() as json reads them).
# Used where a line is only parsed (after the chain breaks, and for the entry that breaks it).
_FAST_LINE = re.compile(
    rb'\{"choices":\[((?:0|[1-9][0-9]{0,17})(?:,(?:0|[1-9][0-9]{0,17}))*)?\],'
    rb'"entry_hash":"([0-9a-f]{64})",'
    rb'(?:"paper_batch":([1-9][0-9]{0,17}),)?'
    rb'"prev_hash":"([0-9a-f]{64})",'
    rb'"receipt_hash":"([0-9a-f]{64})",'
    rb'"seq":([1-9][0-9]{0,17})\}'
)
# The parts of that form the read loop checks one by one.
_CHOICES = re.compile(rb"(?:0|[1-9][0-9]{0,17})(?:,(?:0|[1-9][0-9]{0,17}))*")
_BATCH = re.compile(rb"[1-9][0-9]{0,17}")
_PAPER = b'"paper_batch":'
_HEX = b"0123456789abcdef"
DIGEST = _DIGEST = 32  # bytes of a SHA-256 digest, as entry and receipt hashes are kept
_UNREAD = object()  # not yet in the cache of choices (None there: not strictly ascending)
# Distinct ballots remembered while reading (a city's ballots repeat a lot): beyond this many,
# new ones are parsed each time, so a board of all-different ballots cannot double the memory.
_CACHE_MOST = 1 << 20


def fast_match(line: bytes) -> re.Match[bytes] | None:
    """The line's fields when it is in exactly the form our tally writes, else None."""
    return _FAST_LINE.fullmatch(line)


def entry_from_match(match: re.Match[bytes]) -> BoardEntry:
    """The entry a fast-form line holds: the same values strict JSON and `from_dict` give."""
    choices, entry, paper, prev, receipt, seq = match.groups()
    return BoardEntry(
        seq=int(seq),
        receipt_hash=receipt.decode("ascii"),
        choices=_parse_choices(choices),
        prev_hash=prev.decode("ascii"),
        entry_hash=entry.decode("ascii"),
        paper_batch=None if paper is None else int(paper),
    )


def _parse_choices(text: bytes | None) -> tuple[int, ...]:
    return tuple(map(int, text.split(b","))) if text else ()


def _ascending(choices: tuple[int, ...]) -> bool:
    return all(a < b for a, b in zip(choices, choices[1:], strict=False))


class Board(Sequence[BoardEntry]):
    """The entries kept from board.jsonl, in seq order: every entry up to the first that breaks
    the chain, and that one (`Package.entries`). Each entry before the break is a valid link
    (seq i + 1, lowercase hex hashes, prev_hash the entry before's hash), so it is kept as
    digests and rebuilt on demand; the breaking entry is kept as read."""

    __slots__ = ("_hashes", "_paper", "_receipts", "_tail", "choices")

    def __init__(self) -> None:
        self.choices: list[tuple[int, ...]] = []  # every kept entry's, the breaking one's too
        self._hashes = bytearray()  # entry hashes of the valid entries, 32 bytes each
        self._receipts = bytearray()  # their receipt hashes, likewise
        self._paper: dict[int, int] = {}  # index -> paper batch, for paper ballots only
        self._tail: BoardEntry | None = None

    def __len__(self) -> int:
        return len(self.choices)

    @overload
    def __getitem__(self, index: int) -> BoardEntry: ...

    @overload
    def __getitem__(self, index: slice) -> list[BoardEntry]: ...

    def __getitem__(self, index: int | slice) -> BoardEntry | list[BoardEntry]:
        if isinstance(index, slice):
            return [self._entry(i) for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("board index out of range")
        return self._entry(index)

    def __iter__(self) -> Iterator[BoardEntry]:
        return (self._entry(i) for i in range(len(self)))

    def __eq__(self, other: object) -> bool:
        """Equal to any sequence of the same entries (a tuple or list of BoardEntry too)."""
        if not isinstance(other, (Board, tuple, list)):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]  # mutable while read, like a list

    def __repr__(self) -> str:
        return f"<Board of {len(self)} entries>"

    def entry_hash(self, seq: int) -> str:
        """Entry `seq`'s entry_hash (1 <= seq <= len), without rebuilding the entry."""
        index = seq - 1
        if index == len(self._hashes) // _DIGEST and self._tail is not None:
            return self._tail.entry_hash
        return self._hashes[index * _DIGEST : seq * _DIGEST].hex()

    def paper_entries(self) -> list[BoardEntry]:
        """The kept entries that are paper ballots, in seq order."""
        entries = [self._entry(index) for index in self._paper]
        if self._tail is not None and self._tail.paper_batch is not None:
            entries.append(self._tail)
        return entries

    def _entry(self, index: int) -> BoardEntry:
        if index == len(self._hashes) // _DIGEST:
            assert self._tail is not None
            return self._tail
        start = index * _DIGEST
        return BoardEntry(
            seq=index + 1,
            receipt_hash=self._receipts[start : start + _DIGEST].hex(),
            choices=self.choices[index],
            prev_hash=self._hashes[start - _DIGEST : start].hex() if index else GENESIS_HASH,
            entry_hash=self._hashes[start : start + _DIGEST].hex(),
            paper_batch=self._paper.get(index),
        )

    def parts(self) -> tuple[bytearray, bytearray, dict[int, int]]:
        """What a board of valid links keeps besides its choices: the entry hashes and receipt
        hashes (32 bytes each, in seq order) and the paper batches by index; for `of`. The
        board's own: to be copied, not changed."""
        if self._tail is not None:
            raise ValueError("a board whose chain breaks is not sent in parts")
        return self._hashes, self._receipts, self._paper

    @classmethod
    def of(
        cls,
        choices: list[tuple[int, ...]],
        hashes: bytes | bytearray,
        receipts: bytes | bytearray,
        paper: dict[int, int],
    ) -> Board:
        """The board `parts` describes, with these choices (those it read, or an equal list)."""
        if not len(hashes) == len(receipts) == len(choices) * _DIGEST:
            raise ValueError("one entry hash and one receipt hash per choice")
        board = cls()
        board.choices = choices
        board._hashes, board._receipts, board._paper = bytearray(hashes), bytearray(receipts), paper
        return board

    def _keep(self, choices: tuple[int, ...], digest: bytes, receipt: bytes, paper: int | None):
        if paper is not None:
            self._paper[len(self.choices)] = paper
        self.choices.append(choices)
        self._hashes += digest
        self._receipts += receipt

    def _first_with_receipt(self, receipt: bytes) -> int:
        """The seq of the kept entry with this receipt digest (known to be there)."""
        start = 0
        while True:
            found = self._receipts.find(receipt, start)
            if found < 0:
                raise AssertionError("a receipt seen while reading is not on the board")
            if found % _DIGEST == 0:
                return found // _DIGEST + 1
            start = found + 1


class ChainReader:
    """Reads board.jsonl's lines in order and checks the chain as `chain.check_chain` would over
    the entries they hold: the first entry that breaks it is reported (`report`) and kept, and
    the lines after it are only parsed (each must still be a well-formed entry).

    `parse(line, number)` is the reference reading of one line: strict JSON and
    `BoardEntry.from_dict`, raising the package's error for a malformed line.
    """

    def __init__(self, cycle_slug: str, parse: Callable[[bytes, int], BoardEntry]) -> None:
        self.board = Board()
        self._slug = cycle_slug
        self._cycle = b'"cycle":' + encode_basestring_ascii(cycle_slug).encode("ascii")
        self._parse = parse
        self._prev = GENESIS_HASH.encode("ascii")  # the last valid entry's hash, hex
        self._seen: set[bytes] = set()  # receipt digests of the valid entries
        self._choices: dict[bytes | None, tuple[int, ...] | None] = {}
        self._report: ChainReport | None = None

    @property
    def report(self) -> ChainReport:
        """What `check_chain` says about the entries read so far."""
        if self._report is not None:
            return self._report
        count = len(self.board)
        return ChainReport(count, count, self._prev.decode("ascii"))

    def read(self, lines: Sequence[bytes], first_number: int) -> None:
        """Read `lines`, board.jsonl's lines from number `first_number` on."""
        if self._report is not None:
            self._parse_only(lines, first_number)
            return
        board, seen, cache, cycle = self.board, self._seen, self._choices, self._cycle
        hashes, receipts, kept, paper = board._hashes, board._receipts, board.choices, board._paper
        prev, expected = self._prev, len(kept) + 1
        sha256, join, find = hashlib.sha256, b"".join, bytes.find
        for offset, line in enumerate(lines):
            # The one form a valid next entry has when our tally wrote it: the line must equal,
            # byte for byte, the entry rebuilt from its choices, hashes and batch (validated
            # below) with this seq and prev_hash. Anything else takes the reference path.
            end = find(line, b'],"entry_hash":"', 12)
            if end > 0:
                text = line[12:end]
                choices = cache.get(text, _UNREAD)
                if choices is _UNREAD:
                    choices = self._learn(text)
                start = end + 16  # the entry hash's first digit
                after = start + 66  # past its closing quote and comma
                batch = None
                if line[after : after + 14] == _PAPER:
                    comma = find(line, b",", after + 14)
                    batch = line[after + 14 : comma]
                    if comma < 0 or _BATCH.fullmatch(batch) is None:
                        choices = None
                    after = comma + 1
                entry = line[start : start + 64]
                receipt = line[after + 95 : after + 159]
                if choices is not None and line == join(
                    (
                        b'{"choices":[',
                        text,
                        b'],"entry_hash":"',
                        entry,
                        b'",' if batch is None else b'",' + _PAPER + batch + b",",
                        b'"prev_hash":"',
                        prev,
                        b'","receipt_hash":"',
                        receipt,
                        b'","seq":%d}' % expected,
                    )
                ):
                    digest = sha256(line[: end + 2] + cycle + line[start + 65 :]).digest()
                    if hexlify(digest) == entry and not receipt.translate(None, _HEX):
                        receipt_digest = unhexlify(receipt)
                        if receipt_digest not in seen:
                            seen.add(receipt_digest)
                            if batch is not None:
                                paper[len(kept)] = int(batch)
                            kept.append(choices)  # type: ignore[arg-type]
                            hashes += digest
                            receipts += receipt_digest
                            prev = entry
                            expected += 1
                            continue
            # Not a plain valid link: the reference path decides, and names any problem.
            self._prev = prev
            if not self._check(line, first_number + offset):
                self._parse_only(lines[offset + 1 :], first_number + offset + 1)
                return
            prev, expected = self._prev, len(kept) + 1
        self._prev = prev

    def _learn(self, text: bytes) -> tuple[int, ...] | None:
        """The choices a line's `"choices":[...]` text holds, when it is canonical (ints
        without sign or leading zero, of at most 18 digits, comma-separated) and strictly
        ascending; else None. Remembered (up to a point) since ballots repeat."""
        choices = None
        if not text or _CHOICES.fullmatch(text) is not None:
            parsed = _parse_choices(text)
            choices = parsed if _ascending(parsed) else None
        if len(self._choices) < _CACHE_MOST:
            self._choices[text] = choices
        return choices

    def _check(self, line: bytes, number: int) -> bool:
        """One entry through the reference path; False when it breaks the chain."""
        match = _FAST_LINE.fullmatch(line)
        entry = entry_from_match(match) if match is not None else self._parse(line, number)
        board = self.board
        count = len(board)
        prev = self._prev.decode("ascii")
        problem = entry_problem(self._slug, entry, count + 1, prev)
        receipt = b""
        if problem is None:
            receipt = unhexlify(entry.receipt_hash)
            if receipt in self._seen:
                seq = board._first_with_receipt(receipt)
                problem = f"receipt_hash already used by entry {seq}"
        if problem is not None:
            self._report = ChainReport(
                count, count, prev, f"entry {entry.seq}: {problem}", entry.seq
            )
            board.choices.append(entry.choices)
            board._tail = entry
            return False
        self._seen.add(receipt)
        board._keep(entry.choices, unhexlify(entry.entry_hash), receipt, entry.paper_batch)
        self._prev = entry.entry_hash.encode("ascii")
        return True

    def _parse_only(self, lines: Sequence[bytes], first_number: int) -> None:
        fullmatch, parse = _FAST_LINE.fullmatch, self._parse
        for offset, line in enumerate(lines):
            if fullmatch(line) is None:
                parse(line, first_number + offset)

    def finish(self) -> None:
        """Free what only reading needed (the receipts seen, the cache of ballots)."""
        self._seen = set()
        self._choices = {}
