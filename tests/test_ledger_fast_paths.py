"""The verifier's fast paths give exactly what the reference code gives (issue 16, target 2).

The verifier reads a line in exactly our tally's form by rebuilding it from its parts and hashes
the line's own bytes (`ledger.board_reader`); every other line goes through strict JSON,
`BoardEntry.from_dict` and `chain.check_chain`'s own checks. These tests hold the fast path to
the reference one on arbitrary entries, on every one-byte change of a line and on near misses
(spaces, other key order, duplicate keys, leading zeros, -0, floats, huge ints, escapes, CRLF,
uppercase hex...), with the entry hash left alone and forged over the changed bytes, and on
tampered boards: the same entries, the same refusals with the same messages, the same chain
report. `entry_hash`'s hand-written encoding is held to `canonical_json`, and the recount's
profile of distinct ballots to `counting.profile_of`, likewise. Since issue 17 the reference
reading refuses a line that is not its entry's canonical JSON (docs/tally-format.md, section
4), so every near miss is refused by both paths, with the same message.
"""

from __future__ import annotations

import hashlib
import json
import random
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opdigital.counting.instance import profile_of
from opdigital.ledger import package, result
from opdigital.ledger.board_reader import (
    Board,
    ChainReader,
    entry_from_match,
    fast_match,
)
from opdigital.ledger.chain import (
    GENESIS_HASH,
    PAPER_KEY,
    BoardEntry,
    canonical_json,
    check_chain,
    entry_hash,
    extend,
)
from opdigital.ledger.package import PackageError, board_bytes
from tests.support.ledger import failure, make_package, rezip, unzip, with_result

SLUG = "op-2026"
HEX = "0123456789abcdef"
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

hex64 = st.text(HEX, min_size=64, max_size=64)
ids = st.integers(0, 10**19)  # past 18 digits: the fast pattern's limit
choices = st.lists(ids, max_size=6)
paper = st.none() | st.integers(1, 10**19)


def reference_entry_hash(slug, seq, receipt_hash, choices, prev_hash, paper_batch=None) -> str:
    """entry_hash as it was written before: sha256 of canonical_json of the content."""
    content = {
        "choices": list(choices),
        "cycle": slug,
        "prev_hash": prev_hash,
        "receipt_hash": receipt_hash,
        "seq": seq,
    }
    if paper_batch is not None:
        content[PAPER_KEY] = paper_batch
    return hashlib.sha256(canonical_json(content)).hexdigest()


# --- entry_hash ------------------------------------------------------------------------------


any_int = st.integers(-(10**30), 10**30)
json_scalar = st.booleans() | any_int | st.floats(allow_nan=False, allow_infinity=False)


@SETTINGS
@given(
    slug=st.text(),
    seq=any_int | st.booleans(),
    receipt=hex64 | st.text(),
    prev=hex64 | st.text(),
    chosen=st.lists(any_int) | st.lists(json_scalar, max_size=4),
    batch=st.none() | any_int | st.booleans(),
)
def test_entry_hash_is_sha256_of_canonical_json_for_any_values(
    slug, seq, receipt, prev, chosen, batch
):
    assert entry_hash(slug, seq, receipt, chosen, prev, batch) == reference_entry_hash(
        slug, seq, receipt, chosen, prev, batch
    )


def test_entry_hash_of_int_and_str_subclasses_is_canonical_json_s():
    class Id(int):
        def __str__(self) -> str:
            return "not a number"

    class Text(str):
        pass

    rec = Text("a" * 64)
    args = (SLUG, Id(3), rec, [Id(1), 2], GENESIS_HASH, Id(5))
    assert entry_hash(*args) == reference_entry_hash(*args)


@SETTINGS
@given(
    seq=any_int | st.booleans(),
    receipt=hex64 | st.text(),
    prev=hex64 | st.text(),
    digest=hex64 | st.text(),
    chosen=st.lists(any_int) | st.lists(json_scalar, max_size=4),
    batch=st.none() | any_int | st.booleans(),
)
def test_an_entrys_line_is_canonical_json_for_any_values(seq, receipt, prev, digest, chosen, batch):
    entry = BoardEntry(seq, receipt, tuple(chosen), prev, digest, batch)
    assert entry.line() == canonical_json(entry.as_dict())


def test_an_entrys_line_of_subclasses_and_lists_is_canonical_json_s():
    class Id(int):
        def __str__(self) -> str:
            return "not a number"

    for entry in (
        BoardEntry(Id(3), "a" * 64, (Id(1), 2), GENESIS_HASH, "b" * 64, Id(5)),
        BoardEntry(3, "a" * 64, [1, 2], GENESIS_HASH, "b" * 64),  # type: ignore[arg-type]
    ):
        assert entry.line() == canonical_json(entry.as_dict())


# --- one line: fast form against the reference reading ---------------------------------------


def reference(line: bytes) -> BoardEntry | str:
    """The reference reading: the entry, or the refusal's message."""
    try:
        return package._parse_line(line, 7)
    except PackageError as e:
        return str(e)


def canonical_line(entry: BoardEntry) -> bytes:
    return canonical_json(entry.as_dict())


def content(entry: BoardEntry, slug: str) -> dict:
    data = {
        "choices": list(entry.choices),
        "cycle": slug,
        "prev_hash": entry.prev_hash,
        "receipt_hash": entry.receipt_hash,
        "seq": entry.seq,
    }
    if entry.paper_batch is not None:
        data[PAPER_KEY] = entry.paper_batch
    return data


entries = st.builds(
    BoardEntry,
    seq=st.integers(1, 10**19),
    receipt_hash=hex64,
    choices=choices.map(tuple),
    prev_hash=hex64,
    entry_hash=hex64,
    paper_batch=paper,
)

# Near misses: each rewrites one piece of a canonical line into something JSON may still read
# (or not), which the fast pattern must leave to the reference path.
NEAR_MISSES = [
    (rb"^\{", b"{ "),
    (rb"\}$", b" }"),
    (rb'":', b'": '),
    (rb",", b", "),
    (rb"$", b"\r"),
    (rb"$", b"\r\n"),
    (rb"^", b"\xef\xbb\xbf"),
    (rb'"seq":(\d+)', rb'"seq":0\1'),
    (rb'"seq":(\d+)', rb'"seq":-\1'),
    (rb'"seq":(\d+)', rb'"seq":\1.0'),
    (rb'"seq":(\d+)', rb'"seq":\1e0'),
    (rb'"seq":(\d+)', rb'"seq":"\1"'),
    (rb'"seq":\d+', b'"seq":-0'),
    (rb'"seq":\d+', b'"seq":true'),
    (rb'"seq":\d+', b'"seq":123456789012345678901234567890'),
    (rb"\[(\d)", rb"[0\1"),
    (rb"\[(\d)", rb"[-\1"),
    (rb"\[\d+", b"[-0"),
    (rb"\[(\d+)", rb"[\1.5"),
    (rb"\[(\d+)", rb"[\1,\1"),
    (rb"\[\d+", b"[true"),
    (rb"\[\d+", b"[null"),
    (rb"\[\d+", b"[99999999999999999999"),
    (rb"\[(\d+)", rb"[\1 "),
    (rb'"choices":\[[^\]]*\]', b'"choices":{}'),
    (rb'"entry_hash":"(.)', rb'"entry_hash":"\\u0061'),
    (rb'"receipt_hash":"(.)', rb'"receipt_hash":"\\u00e3'),
    (rb'"prev_hash":"([0-9a-f])', b'"prev_hash":"A'),
    (rb'"prev_hash":"[0-9a-f]', b'"prev_hash":"'),
    (rb'"receipt_hash":"([0-9a-f]{64})"', rb'"receipt_hash":"\1","receipt_hash":"\1"'),
    (rb'"seq":(\d+)\}', rb'"seq":\1,"seq":\1}'),
    (rb'"choices"', rb'"cho\\u0069ces"'),
    (rb'"seq"', b'"Seq"'),
    (rb"\}$", b',"extra":1}'),
    (rb'"seq":(\d+)\}', rb'"seq":\1,"paper_batch":null}'),
    (rb'"seq":(\d+)\}', rb'"seq":\1,"paper_batch":0}'),
    (rb'"seq":(\d+)\}', rb'"seq":\1,"paper_batch":1}'),
    (rb'"paper_batch":(\d+)', rb'"paper_batch":0\1'),
    (rb'"paper_batch":\d+', b'"paper_batch":-1'),
    (rb'"paper_batch":\d+,', b""),
    (rb"\xff", b"\xff"),
    (rb"$", b"\xff"),
    (rb"^.", b""),
    (rb".$", b""),
]


def reordered(line: bytes) -> bytes:
    data = json.loads(line)
    return json.dumps(dict(reversed(list(data.items()))), separators=(",", ":")).encode()


def assert_same_reading(line: bytes) -> None:
    expected = reference(line)
    if isinstance(expected, BoardEntry):  # only canonical lines are read (issue 17, gap 4)
        assert canonical_line(expected) == line
    match = fast_match(line)
    if match is None:
        return  # the reference path reads it: nothing else to compare
    assert isinstance(expected, BoardEntry), (line, expected)
    assert entry_from_match(match) == expected


@SETTINGS
@given(entry=entries)
def test_a_canonical_line_is_read_fast_into_what_from_dict_gives(entry):
    line = canonical_line(entry)
    small = all(n < 10**18 for n in (entry.seq, *entry.choices, entry.paper_batch or 1))
    assert (fast_match(line) is not None) == small
    assert_same_reading(line)


@SETTINGS
@given(entry=entries, miss=st.sampled_from(NEAR_MISSES), where=st.randoms(use_true_random=False))
def test_a_near_miss_line_reads_as_the_reference_reads_it(entry, miss, where):
    pattern, replacement = miss
    line = canonical_line(entry)
    spots = list(re.finditer(pattern, line))
    if spots:
        spot = where.choice(spots)
        line = line[: spot.start()] + spot.expand(replacement) + line[spot.end() :]
    assert_same_reading(line)
    assert_same_reading(reordered(canonical_line(entry)))


@SETTINGS
@given(line=st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_any_bytes_read_fast_only_when_the_reference_reads_the_same(line):
    assert_same_reading(line)


@SETTINGS
@given(entry=entries, cut=st.integers(0, 400), junk=st.binary(max_size=3))
def test_a_canonical_line_with_bytes_changed_reads_as_the_reference_reads_it(entry, cut, junk):
    line = canonical_line(entry)
    cut = cut % (len(line) + 1)
    assert_same_reading(line[:cut] + junk + line[cut + len(junk) :])
    assert_same_reading(line[:cut] + junk + line[cut:])


# --- a whole board: the chain as check_chain sees it -----------------------------------------


def reference_board(lines: list[bytes], slug: str) -> tuple[list[BoardEntry], object] | str:
    """What reading did before: parse every line (the first malformed one refused), check the
    chain over the entries, keep those up to and including the first that breaks it."""
    try:
        parsed = [package._parse_line(line, n) for n, line in enumerate(lines, 1)]
    except PackageError as e:
        return str(e)
    kept: list[BoardEntry] = []

    def stream():
        for entry in parsed:
            kept.append(entry)
            yield entry

    report = check_chain(slug, stream())
    return kept, report


def fast_board(lines: list[bytes], slug: str, split: int) -> tuple[Board, object] | str:
    reader = ChainReader(slug, package._parse_line)
    try:
        reader.read(lines[:split], 1)
        reader.read(lines[split:], split + 1)
    except PackageError as e:
        return str(e)
    reader.finish()
    return reader.board, reader.report


def receipt(n: int) -> str:
    return hashlib.sha256(f"R{n}".encode()).hexdigest()


def chained(ballots: list[tuple[list[int], int | None]], slug: str = SLUG) -> list[BoardEntry]:
    items = [(receipt(i), c, p) for i, (c, p) in enumerate(ballots)]
    return extend(slug, 0, GENESIS_HASH, items)


def rehash(entry: BoardEntry, slug: str = SLUG) -> BoardEntry:
    """A key holder's edit: the entry's own hash recomputed over what it now says."""
    digest = entry_hash(
        slug, entry.seq, entry.receipt_hash, entry.choices, entry.prev_hash, entry.paper_batch
    )
    return BoardEntry(**{**entry.as_dict(), "choices": entry.choices, "entry_hash": digest})


def tamper(lines: list[bytes], entries: list[BoardEntry], rng: random.Random, kind: str):
    """One of the edits a forger could make, at a random entry."""
    if not lines:
        return lines
    i = rng.randrange(len(lines))
    entry = entries[i % len(entries)]  # an earlier edit may have moved or removed lines
    lines = list(lines)
    if kind == "choice":
        entry = BoardEntry(**{**entry.as_dict(), "choices": (*entry.choices, 99)})
        lines[i] = canonical_line(rng.choice([entry, rehash(entry)]))
    elif kind == "unsorted" and len(entry.choices) > 1:
        lines[i] = canonical_line(
            rehash(BoardEntry(**{**entry.as_dict(), "choices": entry.choices[::-1]}))
        )
    elif kind == "swap" and len(lines) > 1:
        j = rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
    elif kind == "remove":
        del lines[i]
    elif kind == "repeat":
        lines.insert(i, lines[i])
    elif kind == "receipt" and i > 0:
        first = entries[rng.randrange(i)].receipt_hash
        lines[i] = canonical_line(
            rehash(
                BoardEntry(**{**entry.as_dict(), "choices": entry.choices, "receipt_hash": first})
            )
        )
    elif kind == "seq":
        lines[i] = canonical_line(
            rehash(
                BoardEntry(
                    **{
                        **entry.as_dict(),
                        "choices": entry.choices,
                        "seq": entry.seq + rng.choice([-1, 1, 5]),
                    }
                )
            )
        )
    elif kind == "prev":
        lines[i] = canonical_line(
            BoardEntry(**{**entry.as_dict(), "choices": entry.choices, "prev_hash": receipt(-1)})
        )
    elif kind == "paper":
        batch = rng.choice([None, 1, 7])
        lines[i] = canonical_line(
            rehash(
                BoardEntry(**{**entry.as_dict(), "choices": entry.choices, "paper_batch": batch})
            )
        )
    elif kind == "spaces":
        lines[i] = json.dumps(entry.as_dict()).encode()  # the same entry, not in our form
    elif kind == "upper":
        lines[i] = lines[i].replace(entry.entry_hash.encode(), entry.entry_hash.upper().encode())
    elif kind == "crlf":
        lines[i] += b"\r"
    elif kind == "garbage":
        lines[i] = lines[i][: rng.randrange(len(lines[i]) + 1)]
    elif kind == "near-miss":
        pattern, replacement = rng.choice(NEAR_MISSES)
        spots = list(re.finditer(pattern, lines[i]))
        if spots:
            spot = rng.choice(spots)
            line = lines[i]
            lines[i] = line[: spot.start()] + spot.expand(replacement) + line[spot.end() :]
        if rng.random() < 0.7:
            lines[i] = forged(lines[i])
    elif kind == "slug":
        lines = [
            canonical_line(e)
            for e in chained([(list(e.choices), e.paper_batch) for e in entries], "other")
        ]
    return lines


def forged(line: bytes, slug: str = SLUG) -> bytes:
    """The line with its entry hash recomputed over its own bytes, "entry_hash" swapped for the
    slug (what the fast path hashes): only the checks of the line's form can refuse it then."""
    found = re.search(rb'"entry_hash":"(.{64})"', line, re.DOTALL)
    if found is None:
        return line
    cycle = b'"cycle":' + json.dumps(slug).encode()
    digest = hashlib.sha256(line[: found.start()] + cycle + line[found.end() :]).hexdigest()
    return line[: found.start(1)] + digest.encode() + line[found.end(1) :]


TAMPERING = [
    "none",
    "near-miss",
    "near-miss",
    "choice",
    "unsorted",
    "swap",
    "remove",
    "repeat",
    "receipt",
    "seq",
    "prev",
]
TAMPERING += ["paper", "spaces", "upper", "crlf", "garbage", "slug"]

ballot = st.tuples(st.lists(st.integers(1, 12), max_size=4, unique=True).map(sorted), paper)


@SETTINGS
@given(
    ballots=st.lists(ballot, max_size=12),
    kinds=st.lists(st.sampled_from(TAMPERING), max_size=3),
    rng=st.randoms(use_true_random=False),
    split=st.integers(0, 14),
)
def test_reading_a_tampered_board_says_what_check_chain_says(ballots, kinds, rng, split):
    entries = chained([(c, p if p is None or p < 2**62 else 3) for c, p in ballots])
    lines = [canonical_line(e) for e in entries]
    for kind in kinds:
        lines = tamper(lines, entries, rng, kind)
    expected = reference_board(lines, SLUG)
    found = fast_board(lines, SLUG, split)
    if isinstance(expected, str):
        assert found == expected
        return
    board, report = found
    kept, expected_report = expected
    assert report == expected_report
    assert list(board) == kept and board == kept and len(board) == len(kept)
    assert board.choices == [e.choices for e in kept]
    assert board.paper_entries() == [e for e in kept if e.paper_batch is not None]
    if report.ok:
        assert all(board.entry_hash(e.seq) == e.entry_hash for e in kept)


def assert_same_board(lines: list[bytes], split: int = 1) -> None:
    expected = reference_board(lines, SLUG)
    found = fast_board(lines, SLUG, split)
    if isinstance(expected, str):
        assert found == expected, lines
        return
    board, report = found
    kept, expected_report = expected
    assert report == expected_report, lines
    assert list(board) == kept, lines


SMALL_BOARD = chained([([3, 17], None), ([], None), ([5], 12), ([1, 2, 40], None)])
ONE_BYTE = [b"", b" ", b"0", b"1", b"9", b"a", b"A", b"x", b'"', b",", b"-", b".", b"}", b"\\"]


@pytest.mark.parametrize("index", range(len(SMALL_BOARD)))
def test_every_one_byte_change_to_a_line_reads_as_the_reference_reads_it(index):
    """Each byte of the line replaced, deleted or preceded by another, with the entry hash left
    as it was and forged over the changed line: the fast path's checks of the form are all that
    stand between such a line and the chain, so every one is tried."""
    lines = [canonical_line(e) for e in SMALL_BOARD]
    line = lines[index]
    for at in range(len(line) + 1):
        for byte in ONE_BYTE:
            for changed in (line[:at] + byte + line[at + 1 :], line[:at] + byte + line[at:]):
                for candidate in (changed, forged(changed)):
                    assert_same_board([*lines[:index], candidate, *lines[index + 1 :]])


@pytest.mark.parametrize("miss", NEAR_MISSES, ids=lambda miss: repr(miss[1]))
def test_every_near_miss_on_every_line_reads_as_the_reference_reads_it(miss):
    pattern, replacement = miss
    lines = [canonical_line(e) for e in SMALL_BOARD]
    for index, line in enumerate(lines):
        for spot in re.finditer(pattern, line):
            changed = line[: spot.start()] + spot.expand(replacement) + line[spot.end() :]
            for candidate in (changed, forged(changed)):
                assert_same_board([*lines[:index], candidate, *lines[index + 1 :]], index)


@SETTINGS
@given(
    ballots=st.lists(
        st.tuples(
            st.lists(st.integers(0, 10**18 - 1), max_size=5, unique=True).map(sorted),
            st.none() | st.integers(1, 10**18 - 1),
        ),
        max_size=8,
    ),
    slug=st.text(min_size=1),
)
def test_a_sound_board_in_our_form_is_read_without_the_reference_path(ballots, slug):
    """The fast path really reads what our tally writes (any slug, paper or online, no choice
    or many): the reference reading is never called, and the report is check_chain's."""
    entries = chained(ballots, slug)

    class FastOnly(ChainReader):
        def _check(self, line: bytes, number: int) -> bool:
            raise AssertionError(f"line {number} took the reference path")

    reader = FastOnly(slug, package._parse_line)
    reader.read([canonical_line(e) for e in entries], 1)
    assert reader.report == check_chain(slug, entries)
    assert list(reader.board) == entries


def test_a_duplicate_receipt_is_named_with_its_first_use_after_many_entries():
    entries = chained([([1], None)] * 300)
    lines = [canonical_line(e) for e in entries]
    forged = rehash(
        BoardEntry(
            **{**entries[250].as_dict(), "choices": (1,), "receipt_hash": entries[123].receipt_hash}
        )
    )
    lines[250] = canonical_line(forged)
    board, report = fast_board(lines, SLUG, 100)
    assert report.problem == "entry 251: receipt_hash already used by entry 124"
    assert len(board) == 251 and board[-1] == forged


def test_the_board_s_entries_are_rebuilt_as_read():
    entries = chained([([1, 2], None), ([3], 4), ([], None)])
    board, report = fast_board([canonical_line(e) for e in entries], SLUG, 1)
    assert report.ok and report.head == (3, entries[-1].entry_hash)
    assert board[0] == entries[0] and board[-1] == entries[2] and board[1:] == entries[1:]
    with pytest.raises(IndexError):
        board[3]
    assert board_bytes(list(board)) == board_bytes(entries)


# --- the verifier: a board not in canonical form is refused, naming the line ---------------


def test_a_board_rewritten_with_spaces_is_refused_at_its_first_line(verify):
    """docs/tally-format.md, section 4: each line is its entry's canonical JSON, byte for byte;
    the same entries with spaces (or in another key order, or with CRLF) are refused."""
    data, key = make_package()
    files = unzip(data)
    lines = files["board.jsonl"].splitlines()
    spaced = [json.dumps(json.loads(line)).encode() for line in lines]
    files["board.jsonl"] = b"\n".join(spaced) + b"\n"
    code, output = verify(rezip(files, key))
    assert code == 1
    assert failure(output) == (
        "board.jsonl line 1 is not the canonical JSON of its entry (it differs from it at byte 12)"
    )
    files["board.jsonl"] = b"".join([*(line + b"\n" for line in lines[:2]), spaced[2] + b"\n"])
    files["board.jsonl"] += b"".join(line + b"\n" for line in lines[3:])
    code, output = verify(rezip(files, key))
    assert code == 1
    assert failure(output).startswith("board.jsonl line 3 is not the canonical JSON")


def test_every_line_that_is_not_canonical_is_refused_by_the_reference_reading():
    """Spaces, another key order, CRLF, a BOM, escapes, leading zeros: all refused, each
    naming the line (the reference reads only canonical lines: `assert_same_reading`)."""
    refused = 0
    for line in [canonical_line(e) for e in SMALL_BOARD]:
        assert isinstance(reference(line), BoardEntry)
        for pattern, replacement in NEAR_MISSES:
            for spot in re.finditer(pattern, line):
                changed = line[: spot.start()] + spot.expand(replacement) + line[spot.end() :]
                found = reference(changed)
                if isinstance(found, str):
                    assert found.startswith("board.jsonl line 7"), found
                    refused += 1
                else:  # a canonical line whose values the chain check refuses (e.g. [3,3])
                    assert canonical_line(found) == changed
        for changed in (reordered(line), line + b"\r", line.replace(b",", b", ", 1)):
            assert reference(changed).startswith(
                "board.jsonl line 7 is not the canonical JSON of its entry (it differs from it"
            )
    assert refused > 100


def test_a_bad_line_before_one_over_a_cap_is_the_one_named(verify):
    data, key = make_package()
    files = unzip(data)
    lines = files["board.jsonl"].splitlines(keepends=True)
    lines[1] = b"{}\n"
    lines[2] = b"x" * 400 + b"\n"
    files["board.jsonl"] = b"".join(lines)
    code, output = verify(rezip(files, key))
    assert code == 1 and failure(output).startswith("board.jsonl line 2: an entry must have")
    lines[1] = b"x" * 400 + b"\n"
    files["board.jsonl"] = b"".join(lines)
    code, output = verify(rezip(files, key))
    assert failure(output).startswith("board.jsonl line 2 is longer than any entry")


def test_a_line_past_the_declared_ballots_is_named_after_the_lines_before_it(verify):
    data, key = make_package()
    files = with_result(unzip(data), lambda r: r.update(ballots=10))
    lines = files["board.jsonl"].splitlines(keepends=True)
    files["board.jsonl"] = b"".join([lines[0], b"[]\n", *lines[2:]])
    code, output = verify(rezip(files, key))
    assert failure(output) == "board.jsonl line 2: an entry must be a JSON object"
    files["board.jsonl"] = b"".join(lines)
    code, output = verify(rezip(files, key))
    assert failure(output) == "board.jsonl has more lines than the 10 ballots result.json states"


# --- the recount's profile ------------------------------------------------------------------


ballots_lists = st.lists(
    st.lists(st.integers(1, 9), max_size=4).map(tuple)
    | st.lists(st.integers(1, 9), max_size=4, unique=True).map(sorted).map(tuple)
    | st.lists(st.integers(1, 9), max_size=3),
    max_size=40,
)


@SETTINGS
@given(ballots=ballots_lists)
def test_the_recount_s_profile_is_profile_of_the_ballots(ballots):
    from collections import Counter

    profile = result._profile(ballots, Counter(map(tuple, ballots)))
    assert profile == profile_of(ballots)
