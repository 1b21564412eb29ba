"""The command-line verifier recounts in a child process while it reads the board
(`ledger.early_count`): the child's result is used only for exactly the inputs the strict reading
found, every check still runs, and any package, right or tampered with, gets the same verdict,
lines and messages as the recount made in turn."""

from __future__ import annotations

import multiprocessing
import time
from unittest import mock

import pytest

from opdigital.ledger import early_count
from opdigital.ledger import verify as verifier
from opdigital.ledger.result import TallyError
from opdigital.ledger.verify import CheckFailed, verify_package
from tests.support.ledger import (
    CHILD_FAILURES,
    MANY,
    TAMPERINGS,
    make_package,
    rezip,
    tamper_choice,
    unzip,
)


@pytest.fixture(autouse=True)
def early_for_small_boards(monkeypatch):
    """The test packages are small: let them be counted early too."""
    monkeypatch.setattr(early_count, "MIN_BALLOTS", 1)


@pytest.fixture
def signed():
    return make_package("mes-completed", ballots=MANY)


def outcome(data: bytes, *, early: bool) -> tuple[list[str], list[str]]:
    """(the ok lines, the failures) of a verification."""
    try:
        return verify_package(data, early=early), []
    except CheckFailed as e:
        return [], list(e.failures)


def recounts_in_process(data: bytes, *, early: bool) -> int:
    with mock.patch.object(verifier, "compute_result", wraps=verifier.compute_result) as recount:
        verify_package(data, early=early)
    return recount.call_count


def test_the_recount_is_made_in_a_child_and_gives_the_same_lines(signed):
    data, _ = signed
    assert recounts_in_process(data, early=True) == 0
    assert recounts_in_process(data, early=False) == 1
    assert outcome(data, early=True) == outcome(data, early=False)
    assert outcome(data, early=True)[0][-1].startswith("ok  recount with mes-completed equals")


def test_the_command_line_counts_early(signed, verify):
    data, _ = signed
    with mock.patch.object(verifier, "compute_result") as in_process:
        code, output = verify(data)
    assert code == 0, output
    assert in_process.call_count == 0
    assert "recount with mes-completed equals result.json" in output


def test_small_boards_are_counted_in_process(signed, monkeypatch):
    monkeypatch.setattr(early_count, "MIN_BALLOTS", len(MANY) + 1)
    data, _ = signed
    assert early_count.EarlyCount.start(data) is None
    assert recounts_in_process(data, early=True) == 1


def test_without_fork_the_recount_is_made_in_process(signed, monkeypatch):
    monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    data, _ = signed
    assert early_count.EarlyCount.start(data) is None
    assert recounts_in_process(data, early=True) == 1


@pytest.mark.parametrize("child", CHILD_FAILURES.values(), ids=CHILD_FAILURES.keys())
def test_a_child_that_fails_leaves_the_recount_to_the_verifier(signed, monkeypatch, child):
    monkeypatch.setattr(early_count, "compute_result", child)
    data, _ = signed
    assert recounts_in_process(data, early=True) == 1
    assert outcome(data, early=True) == outcome(data, early=False)


def test_a_ballot_the_child_cannot_count_is_reported_as_a_recount_would(signed, monkeypatch):
    def refuses(*args, **kwargs):
        raise TallyError("ballot 3 names 99, not a proposal on the ballot")

    monkeypatch.setattr(early_count, "compute_result", refuses)
    data, _ = signed
    with pytest.raises(CheckFailed) as refused:
        verify_package(data, early=True)
    assert str(refused.value) == (
        "the board cannot be counted: ballot 3 names 99, not a proposal on the ballot"
    )


@pytest.mark.parametrize(
    "change",
    [
        lambda ballots, head: ([*ballots[:-1], (10,)], head),  # another ballot
        lambda ballots, head: (ballots[:-1], head),  # one fewer
        lambda ballots, head: (ballots, (head[0], "0" * 64)),  # another head
    ],
)
def test_inputs_scanned_otherwise_than_the_strict_reading_are_counted_again(
    signed, monkeypatch, change
):
    """Whatever the quick scan found, only a count of what the strict reading found decides."""
    scan = early_count._scan

    def misread(chunks):
        ballots, head = scan(chunks)
        return change(ballots, head)

    monkeypatch.setattr(early_count, "_scan", misread)
    data, _ = signed
    assert recounts_in_process(data, early=True) == 1
    assert outcome(data, early=True) == outcome(data, early=False)


def test_the_scan_stops_at_more_lines_than_result_json_declares():
    """A board of many tiny lines is not listed in memory: past the declared ballots the scan
    gives up (and the strict reading refuses such a board in its turn)."""
    line = b'{"choices":[12],"entry_hash":"x"}\n'
    assert early_count._scan([line * 3], 3) is None  # not a canonical last line: no head
    chunks = [line * 1000] * 10
    assert early_count._scan(chunks, 9_999) is None
    assert early_count._scan([line * 5, line * 5], 9) is None


def test_the_scan_reads_the_choices_and_the_head():
    lines = [
        b'{"choices":[1,2],"entry_hash":"' + b"a" * 64 + b'","seq":1}\n',
        b'{"choices":[],"entry_hash":"' + b"b" * 64 + b'","seq":2}\n',
    ]
    whole = b"".join(lines)
    for chunks in ([whole], [whole[:7], whole[7:40], whole[40:]]):
        assert early_count._scan(chunks, 2) == ([(1, 2), ()], (2, "b" * 64))
    assert early_count._scan([whole], 1) is None


@pytest.mark.parametrize("tamper", TAMPERINGS)
@pytest.mark.parametrize("resigned", [False, True], ids=["as-is", "re-signed"])
def test_a_tampered_package_gets_the_same_verdict_and_messages(signed, tamper, resigned):
    data, key = signed
    forged = rezip(tamper(unzip(data)), key if resigned else None)
    early = outcome(forged, early=True)
    assert early == outcome(forged, early=False)
    assert early[1], "every tampering here must fail"
    assert not multiprocessing.active_children()


def test_the_child_is_ended_when_the_verification_stops_before_the_recount(signed, monkeypatch):
    """A chain that fails stops the checks: the child, still counting, is ended."""
    started, ended = [], []
    real_init = early_count.EarlyCount.__init__

    def noting(self, *args):
        real_init(self, *args)
        child = self._child
        started.append(child)
        terminate = child.terminate
        child.terminate = lambda: (ended.append(child), terminate())[-1]

    def slow(*args, **kwargs):
        time.sleep(60)

    monkeypatch.setattr(early_count.EarlyCount, "__init__", noting)
    monkeypatch.setattr(early_count, "compute_result", slow)
    data, key = signed
    forged = rezip(tamper_choice(unzip(data)), key)
    with pytest.raises(CheckFailed, match="entry 6"):
        verify_package(forged, early=True)
    assert len(started) == 1
    assert ended == started  # ended, not waited for
    with pytest.raises(ValueError):  # closed: a Process object after close() refuses use
        started[0].is_alive()
    assert not multiprocessing.active_children()
