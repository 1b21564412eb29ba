"""The tally's check of its package may have board.jsonl read in a child during the count
(`ledger.early_board`): the reading is used only for a member of exactly the bytes the child read,
and any package, right or tampered with, gets the same verdict, lines and messages as the check
that reads the member itself."""

from __future__ import annotations

import multiprocessing
from unittest import mock

import pytest

from opdigital.ledger import early_board, package
from opdigital.ledger.board_reader import Board
from opdigital.ledger.chain import check_chain
from opdigital.ledger.early_board import EarlyBoardRead
from opdigital.ledger.package import PackageError, build_package, read_board_bytes
from opdigital.ledger.verify import CheckFailed, Counted, verify_package
from tests.support.ledger import (
    CHILD_FAILURES,
    MANY,
    TAMPERINGS,
    board_lines,
    line_added,
    make_board,
    make_definition,
    make_result,
    no_newline_at_end,
    rezip,
    spaces,
    tamper_choice,
    unzip,
    with_board,
)


@pytest.fixture(autouse=True)
def early_for_small_boards(monkeypatch):
    """The test boards are small: read them early too."""
    monkeypatch.setattr(early_board, "MIN_BALLOTS", 1)


class Tally:
    """What the tally has when it checks its package: the package, its definition, the board's
    bytes (in pieces, as PostgreSQL sends them), the ballots, the head and the result."""

    def __init__(self) -> None:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        self.key = Ed25519PrivateKey.generate()
        self.definition = make_definition("mes-completed")
        entries = make_board(MANY)
        self.result = make_result(self.definition, entries)
        self.data = build_package(self.definition, entries, self.result, self.key)
        board = unzip(self.data)[package.BOARD]
        lines = board.splitlines(keepends=True)
        self.pieces = [b"".join(lines[i : i + 7]) for i in range(0, len(lines), 7)]
        self.ballots = [e.choices for e in entries]
        self.head = check_chain(self.definition["cycle"]["slug"], entries).head

    def counted(self, early: EarlyBoardRead | None) -> Counted:
        return Counted(
            self.definition, self.ballots, len(self.ballots), self.head, self.result, board=early
        )


@pytest.fixture
def tally() -> Tally:
    return Tally()


def outcome(data: bytes, counted: Counted) -> tuple[list[str], list[str]]:
    """(the ok lines, the failures) of the tally's check."""
    try:
        return verify_package(data, counted=counted), []
    except CheckFailed as e:
        return [], list(e.failures)


def checked(
    tally: Tally, data: bytes, pieces=None, ballots=None, *, go: bool = True, digest: str = ""
):
    """The check of `data` with the board read early from `pieces` (the tally's own by
    default): its outcome, and how many times the parent read a board line by line."""
    with (
        mock.patch.object(package, "_read_lines", wraps=package._read_lines) as reads,
        EarlyBoardRead.start(
            tally.definition,
            tally.pieces if pieces is None else pieces,
            tally.ballots if ballots is None else ballots,
            paper=False,
        ) as early,
    ):
        assert early is not None
        if go:
            early.go(digest)
        found = outcome(data, tally.counted(early))
    assert not multiprocessing.active_children()
    return found, reads.call_count


def test_the_board_read_in_the_child_is_used_and_gives_the_same_lines(tally):
    plain = outcome(tally.data, tally.counted(None))
    assert plain[0] and not plain[1]
    assert checked(tally, tally.data) == (plain, 0)


def test_a_reading_is_used_even_when_no_one_said_go(tally):
    """`reading` says it: a child waiting for a word no one sends would be waited for forever."""
    plain = outcome(tally.data, tally.counted(None))
    assert checked(tally, tally.data, go=False) == (plain, 0)


def test_the_digest_the_package_builder_took_is_the_readings(tally):
    """`go` brings the SHA-256 the builder took of the same pieces: the child does not take it
    again. The reading stands for the bytes of that digest, so a digest that is not the member's
    (never so in the tally, where both hash the same pieces) has the member read again."""
    import hashlib

    plain = outcome(tally.data, tally.counted(None))
    digest = hashlib.sha256(b"".join(tally.pieces)).hexdigest()
    assert checked(tally, tally.data, digest=digest) == (plain, 0)
    assert checked(tally, tally.data, digest="0" * 64) == (plain, 1)


def test_bytes_other_than_the_members_are_read_again(tally):
    """The child read other bytes (here, one line changed): their hash is not the member's, so
    the member is read line by line, and the package (which is right) passes."""
    pieces = list(tally.pieces)
    pieces[0] = pieces[0].replace(b'"choices":[10,20,31]', b'"choices":[10,20]', 1)
    assert pieces != tally.pieces
    plain = outcome(tally.data, tally.counted(None))
    assert checked(tally, tally.data, pieces) == (plain, 1)


def test_ballots_other_than_those_read_are_not_taken_for_them(tally):
    """The child compares what it read with the ballots the tally counted: these differ, so its
    reading is not used (the verifier reads the member, and recounts what it finds)."""
    other = [*tally.ballots[:-1], (10,)]
    plain = outcome(tally.data, tally.counted(None))
    assert checked(tally, tally.data, ballots=other) == (plain, 1)


@pytest.mark.parametrize("child", CHILD_FAILURES.values(), ids=CHILD_FAILURES.keys())
def test_a_child_that_fails_leaves_the_reading_to_the_verifier(tally, monkeypatch, child):
    monkeypatch.setattr(early_board, "read_board_bytes", child)
    plain = outcome(tally.data, tally.counted(None))
    assert checked(tally, tally.data) == (plain, 1)


def test_a_broken_chain_in_what_the_child_read_is_read_again(tally):
    lines = b"".join(tally.pieces).splitlines(keepends=True)
    lines[3] = lines[3].replace(b'"seq":4}', b'"seq":5}')
    plain = outcome(tally.data, tally.counted(None))
    assert checked(tally, tally.data, [b"".join(lines)]) == (plain, 1)


@pytest.mark.parametrize("tamper", TAMPERINGS)
@pytest.mark.parametrize("resigned", [False, True], ids=["as-is", "re-signed"])
def test_a_tampered_package_gets_the_same_verdict_and_messages(tally, tamper, resigned):
    """The child read the tally's own board; the package checked is another: same outcome."""
    forged = rezip(tamper(unzip(tally.data)), tally.key if resigned else None)
    (found, _reads) = checked(tally, forged)
    assert found == outcome(forged, tally.counted(None))
    assert found[1], "every tampering here must fail"


def test_the_child_waits_for_go_and_is_ended_when_the_tally_stops(tally, monkeypatch):
    """No word to go (the count failed, say): the child has read nothing when it is ended."""
    reads = multiprocessing.get_context("fork").Value("i", 0)

    def noting(*args, **kwargs):
        reads.value += 1
        return read_board_bytes(*args, **kwargs)

    monkeypatch.setattr(early_board, "read_board_bytes", noting)
    with (
        pytest.raises(RuntimeError, match="count failed"),
        EarlyBoardRead.start(tally.definition, tally.pieces, tally.ballots, paper=False),
    ):
        raise RuntimeError("the count failed")
    assert reads.value == 0
    assert not multiprocessing.active_children()
    with EarlyBoardRead.start(tally.definition, tally.pieces, tally.ballots, paper=False) as early:
        assert early.reading() is not None
    assert reads.value == 1


def test_small_boards_and_systems_without_fork_have_no_child(tally, monkeypatch):
    monkeypatch.setattr(early_board, "MIN_BALLOTS", len(tally.ballots) + 1)
    with EarlyBoardRead.start(tally.definition, tally.pieces, tally.ballots, paper=False) as early:
        assert early is None
    monkeypatch.setattr(early_board, "MIN_BALLOTS", 1)
    monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    with EarlyBoardRead.start(tally.definition, tally.pieces, tally.ballots, paper=False) as early:
        assert early is None


def test_the_reading_holds_what_reading_the_member_finds(tally):
    """Board and chain report alike, the hashes come back through the shared memory."""
    member = package.read_package(tally.data, keep_board_bytes=False)
    with EarlyBoardRead.start(tally.definition, tally.pieces, tally.ballots, paper=False) as early:
        reading = early.reading()
    assert reading is not None
    assert reading.entries == member.entries
    assert reading.chain == member.chain
    assert reading.entries.entry_hash(5) == member.entries.entry_hash(5)
    assert reading.digest == member.digests[package.BOARD]
    assert reading.applies(member.definition, len(tally.ballots), False)
    assert not reading.applies(member.definition, len(tally.ballots) - 1, False)
    assert not reading.applies(member.definition, len(tally.ballots), True)
    changed = {**member.definition, "budget_cents": float(member.definition["budget_cents"])}
    assert not reading.applies(changed, len(tally.ballots), False)


def test_board_parts_rebuild_the_board(tally):
    board = package.read_package(tally.data).entries
    hashes, receipts, paper = board.parts()
    rebuilt = Board.of(list(board.choices), bytes(hashes), bytes(receipts), dict(paper))
    assert rebuilt == board and list(rebuilt) == list(board)
    with pytest.raises(ValueError, match="one entry hash and one receipt hash"):
        Board.of(list(board.choices)[:-1], hashes, receipts, paper)


def _too_long(files):
    lines = board_lines(files)
    lines[2] = lines[2].replace(b'"choices":[', b'"choices":[' + b"1," * 400, 1)
    return with_board(files, lines)


@pytest.mark.parametrize(
    "tamper", [_too_long, line_added, no_newline_at_end, spaces, tamper_choice]
)
def test_reading_bytes_refuses_what_reading_the_member_refuses_with_its_message(tally, tamper):
    files = tamper(unzip(tally.data))
    declared = len(tally.ballots)
    member_error = None
    try:
        member = package.read_package(rezip(files))
    except PackageError as e:
        member_error = str(e)
    try:
        reading = read_board_bytes([files[package.BOARD]], tally.definition, declared)
    except PackageError as e:
        assert str(e) == member_error
    else:
        assert member_error is None
        assert reading.entries == member.entries and reading.chain == member.chain
