"""The ballot board as a hash chain: canonical encoding, entry hashes, extending and checking.

Every accepted ballot is one entry: its sequence number, the receipt's hash, the choices and the
previous entry's hash, bound together (with the cycle's slug) by the entry's own hash. Changing,
removing, inserting or reordering any entry changes every hash after it, so anyone who recorded
the head during the vote can later tell whether the board they are shown is the one they saw.

Pure: standard library only. The format is fixed by docs/tally-format.md; an auditor's verifier
in another language recomputes exactly what `entry_hash` computes here.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from json.encoder import encode_basestring_ascii
from typing import Any

GENESIS_HASH = "0" * 64
ENTRY_KEYS = ("seq", "receipt_hash", "choices", "prev_hash", "entry_hash")
# A paper ballot's entry also has this key: its batch's id (an online entry never has it, so
# online entries hash and read exactly as before paper ballots existed).
PAPER_KEY = "paper_batch"

_HEX64 = re.compile(r"[0-9a-f]{64}")


class ChainError(ValueError):
    """An entry or an item to chain is malformed (wrong keys or types, unsorted choices...)."""


def canonical_json(obj: Any) -> bytes:
    """The one byte encoding every hash is taken over: sorted keys, no spaces, ASCII only.

    `allow_nan=False` only refuses values JSON cannot carry; it never changes valid output.
    """
    return json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    ).encode("ascii")


def entry_hash(
    cycle_slug: str,
    seq: int,
    receipt_hash: str,
    choices: Sequence[int],
    prev_hash: str,
    paper_batch: int | None = None,
) -> str:
    """SHA-256 (lowercase hex) of the entry's canonical JSON, the cycle's slug included.

    Binding the slug stops an entry (or a whole board) being replayed into another cycle. A
    paper ballot's batch is hashed too (key "paper_batch"); an online entry has no such key.
    """
    return hashlib.sha256(
        _hashed_content(cycle_slug, seq, receipt_hash, choices, prev_hash, paper_batch)
    ).hexdigest()


def _plain_entry_json(
    choices: tuple[int, ...],
    key: str,
    value: str,
    paper_batch: int | None,
    prev_hash: str,
    receipt_hash: str,
    seq: int,
) -> bytes | None:
    """canonical_json of an entry's fields, written out directly, when they are plain ints and
    strs (what every entry holds); None otherwise (the caller then asks canonical_json).

    `key` is the one field that differs between the hashed content ("cycle") and the board
    line ("entry_hash"): both sort between "choices" and "paper_batch". The text is byte for
    byte what canonical_json gives: keys in sorted order, ints as int.__repr__ writes them,
    strings through json's own ASCII escaper (tests compare the two on arbitrary values).
    """
    if not (
        type(seq) is int
        and type(value) is str
        and type(receipt_hash) is str
        and type(prev_hash) is str
        and type(choices) is tuple
        and (paper_batch is None or type(paper_batch) is int)
        and set(map(type, choices)) <= _INT_ONLY
    ):
        return None
    paper = "" if paper_batch is None else f'"paper_batch":{paper_batch},'
    return (
        f'{{"choices":[{",".join(map(str, choices))}],'
        f'"{key}":{encode_basestring_ascii(value)},{paper}'
        f'"prev_hash":{encode_basestring_ascii(prev_hash)},'
        f'"receipt_hash":{encode_basestring_ascii(receipt_hash)},"seq":{seq}}}'
    ).encode("ascii")


def _hashed_content(
    cycle_slug: str,
    seq: int,
    receipt_hash: str,
    choices: Sequence[int],
    prev_hash: str,
    paper_batch: int | None,
) -> bytes:
    """canonical_json of the hashed object: written out directly for the fixed key set.

    A board of a million entries is hashed a million times (when chained, when verified), and
    json.dumps with sorted keys is most of that cost: plain ints and strs (what every entry
    holds) are written out by `_plain_entry_json`; anything else (a bool, a float, an int or str
    subclass) goes through canonical_json itself.
    """
    choices = tuple(choices)  # a tuple stays itself; anything else is read once
    plain = _plain_entry_json(
        choices, "cycle", cycle_slug, paper_batch, prev_hash, receipt_hash, seq
    )
    if plain is not None:
        return plain
    content: dict[str, Any] = {
        "choices": list(choices),
        "cycle": cycle_slug,
        "prev_hash": prev_hash,
        "receipt_hash": receipt_hash,
        "seq": seq,
    }
    if paper_batch is not None:
        content[PAPER_KEY] = paper_batch
    return canonical_json(content)


_INT_ONLY = frozenset((int,))


def is_hex64(value: object) -> bool:
    """True for a string of exactly 64 lowercase hexadecimal digits (a SHA-256 in hex)."""
    return isinstance(value, str) and _HEX64.fullmatch(value) is not None


def is_int(value: object) -> bool:
    """True for a real int: JSON `true` parses as a Python bool, which is an int subclass."""
    return isinstance(value, int) and not isinstance(value, bool)


def choices_problem(choices: Sequence[object]) -> str | None:
    """Why `choices` is not a list of ints in strictly ascending order, or None if it is."""
    if not all(is_int(c) for c in choices):
        return "choices must be integers (proposal ids)"
    if any(a >= b for a, b in zip(choices, choices[1:], strict=False)):
        return "choices are not sorted ascending without duplicates"
    return None


def paper_batch_problem(paper_batch: object) -> str | None:
    """Why `paper_batch` is not None (online) or a positive int (a batch id), or None."""
    if paper_batch is None or (is_int(paper_batch) and paper_batch > 0):  # type: ignore[operator]
        return None
    return "paper_batch must be a positive integer (a paper batch's id)"


@dataclass(frozen=True)
class BoardEntry:
    """One entry of the board, as stored and as written in board.jsonl."""

    seq: int
    receipt_hash: str
    choices: tuple[int, ...]
    prev_hash: str
    entry_hash: str
    paper_batch: int | None = None  # a paper ballot's batch id; None: cast online

    def as_dict(self) -> dict[str, Any]:
        """The entry as board.jsonl holds it (choices as a list; "paper_batch" only if set)."""
        data: dict[str, Any] = {
            "seq": self.seq,
            "receipt_hash": self.receipt_hash,
            "choices": list(self.choices),
            "prev_hash": self.prev_hash,
            "entry_hash": self.entry_hash,
        }
        if self.paper_batch is not None:
            data[PAPER_KEY] = self.paper_batch
        return data

    def line(self) -> bytes:
        """The entry's board.jsonl line (without the newline): canonical_json(self.as_dict()).

        Written out directly by `_plain_entry_json`, as the hashed content is and for the same
        reason (a package's board is a million of these); anything but plain ints and strs goes
        through canonical_json itself, and a test holds the two equal on arbitrary values.
        """
        plain = _plain_entry_json(
            self.choices,
            "entry_hash",
            self.entry_hash,
            self.paper_batch,
            self.prev_hash,
            self.receipt_hash,
            self.seq,
        )
        if plain is not None:
            return plain
        return canonical_json(self.as_dict())

    @classmethod
    def from_dict(cls, data: object) -> BoardEntry:
        """An entry from its dict form; checks keys and types only (see `check_chain`).

        Raises ChainError naming what is wrong, since the dict may come from an untrusted file.
        """
        if not isinstance(data, dict):
            raise ChainError("an entry must be a JSON object")
        expected = set(ENTRY_KEYS) | ({PAPER_KEY} & set(data))
        if set(data) != expected:
            missing = sorted(expected - set(data))
            extra = sorted(set(data) - expected)
            raise ChainError(
                f"an entry must have exactly the keys {', '.join(ENTRY_KEYS)}"
                f" (and {PAPER_KEY} for a paper ballot)"
                f" (missing: {missing or 'none'}, unexpected: {extra or 'none'})"
            )
        if not is_int(data["seq"]):
            raise ChainError("seq must be an integer")
        for key in ("receipt_hash", "prev_hash", "entry_hash"):
            if not isinstance(data[key], str):
                raise ChainError(f"{key} must be a string")
        choices = data["choices"]
        if not isinstance(choices, list) or not all(is_int(c) for c in choices):
            raise ChainError("choices must be a list of integers")
        if PAPER_KEY in data:
            problem = (
                "paper_batch must not be null (an online entry has no paper_batch key)"
                if data[PAPER_KEY] is None
                else paper_batch_problem(data[PAPER_KEY])
            )
            if problem:
                raise ChainError(problem)
        return cls(
            seq=data["seq"],
            receipt_hash=data["receipt_hash"],
            choices=tuple(choices),
            prev_hash=data["prev_hash"],
            entry_hash=data["entry_hash"],
            paper_batch=data.get(PAPER_KEY),
        )


def extend(
    cycle_slug: str,
    head_seq: int,
    head_hash: str,
    items: Iterable[tuple[str, Sequence[int]] | tuple[str, Sequence[int], int | None]],
) -> list[BoardEntry]:
    """Chain new items after the head (0 and GENESIS_HASH: empty board).

    An item is (receipt_hash, choices) for an online ballot, or (receipt_hash, choices,
    paper_batch) where paper_batch is a paper ballot's batch id (None: online). Refuses
    (ChainError) a malformed head or item rather than chaining something that `check_chain`
    would later reject: choices must already be sorted and distinct, as the ballot rules
    store them.
    """
    if not is_int(head_seq) or head_seq < 0:
        raise ChainError("head_seq must be an integer >= 0")
    if not is_hex64(head_hash):
        raise ChainError("head_hash must be 64 lowercase hex digits")
    if (head_seq == 0) != (head_hash == GENESIS_HASH):
        raise ChainError("an empty board (head_seq 0) has the genesis hash, and only it")
    entries: list[BoardEntry] = []
    seq, prev = head_seq, head_hash
    for item in items:
        if len(item) not in (2, 3):
            raise ChainError(f"entry {seq + 1}: an item is (receipt_hash, choices[, paper_batch])")
        receipt_hash, raw_choices = item[0], item[1]
        paper_batch = item[2] if len(item) == 3 else None  # type: ignore[misc]
        choices = tuple(raw_choices)
        if not is_hex64(receipt_hash):
            raise ChainError(f"entry {seq + 1}: receipt_hash must be 64 lowercase hex digits")
        problem = choices_problem(choices) or paper_batch_problem(paper_batch)
        if problem:
            raise ChainError(f"entry {seq + 1}: {problem}")
        seq += 1
        digest = entry_hash(cycle_slug, seq, receipt_hash, choices, prev, paper_batch)
        entries.append(BoardEntry(seq, receipt_hash, choices, prev, digest, paper_batch))
        prev = digest
    return entries


@dataclass(frozen=True)
class ChainReport:
    """What `check_chain` found: the head and count, or the first problem and its entry's seq."""

    count: int
    head_seq: int
    head_hash: str
    problem: str | None = None
    problem_seq: int | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def head(self) -> tuple[int, str]:
        return (self.head_seq, self.head_hash)


def entry_problem(
    cycle_slug: str, entry: BoardEntry, expected_seq: int, prev_hash: str
) -> str | None:
    """The first thing wrong with one entry, given the entry before it; None when it holds."""
    if entry.seq != expected_seq:
        return (
            f"found where entry {expected_seq} should be"
            " (an entry is missing, repeated or out of order)"
        )
    for key in ("receipt_hash", "prev_hash", "entry_hash"):
        if not is_hex64(getattr(entry, key)):
            return f"{key} is not 64 lowercase hex digits"
    problem = choices_problem(entry.choices) or paper_batch_problem(entry.paper_batch)
    if problem:
        return problem
    if entry.prev_hash != prev_hash:
        if expected_seq == 1:
            return "prev_hash is not the genesis hash (64 zeros)"
        return f"prev_hash does not match entry {expected_seq - 1}'s hash"
    recomputed = entry_hash(
        cycle_slug, entry.seq, entry.receipt_hash, entry.choices, prev_hash, entry.paper_batch
    )
    if entry.entry_hash != recomputed:
        return f"entry_hash does not match the entry's content (recomputed {recomputed})"
    return None


def check_chain(cycle_slug: str, entries: Iterable[BoardEntry]) -> ChainReport:
    """Walk the entries in order; report the first problem, else the head and the count.

    Checked per entry, in this order: seq is the next number (1, 2, 3...); the hashes are
    64 lowercase hex; choices are ints, ascending, distinct; paper_batch, if any, is a
    positive int; prev_hash is the previous entry's
    hash (GENESIS_HASH for entry 1); entry_hash recomputes; the receipt_hash is not repeated.
    """
    seq, prev = 0, GENESIS_HASH
    receipts: dict[str, int] = {}
    for entry in entries:
        problem = entry_problem(cycle_slug, entry, seq + 1, prev)
        if problem is None and entry.receipt_hash in receipts:
            problem = f"receipt_hash already used by entry {receipts[entry.receipt_hash]}"
        if problem is not None:
            return ChainReport(seq, seq, prev, f"entry {entry.seq}: {problem}", entry.seq)
        receipts[entry.receipt_hash] = entry.seq
        seq, prev = entry.seq, entry.entry_hash
    return ChainReport(seq, seq, prev)
