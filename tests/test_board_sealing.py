"""When ballots are sealed: never alone after a quiet hour, always all of them at the close.

docs/security.md, "Ballot board": a ballot is sealed among at least BOARD_MIN_BATCH others
(except at the close and before a tally), the delay counts from the oldest waiting ballot, the
close and the tally wait for a sealing under way and stop if anything is left, and reading the
head seals nothing, locks nothing and says nothing finer than a batch.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import psycopg
import pytest
import sqlalchemy as sa

from opdigital.board import services as board
from opdigital.board.models import BoardHead
from opdigital.clock import now
from opdigital.cycles.lifecycle import advance
from opdigital.cycles.states import CycleState
from opdigital.errors import IllegalTransition
from opdigital.extensions import db
from tests.support import voting as vs


@pytest.fixture
def quiet(app_ctx, settings):
    """Batches of 256, at least 3 ballots a sealing, a one-minute delay."""
    settings(BOARD_BATCH_SIZE=256, BOARD_MIN_BATCH=3, BOARD_MAX_DELAY_SECONDS=60)
    return vs.voting_cycle()


def _vote(client, world, n: int, first: int) -> list[str]:
    return vs.cast_all(client, world, [world.ids[:2]] * n, first)


def _head(cycle_id: int) -> board.Head:
    db.session.expire_all()
    return board.stored_head(cycle_id)


def _watch(time_machine=None, *, after: timedelta | None = None) -> int:
    """One pass of the watcher (`opdigital board seal --watch`), `after` from now."""
    if after is not None:
        time_machine.move_to(now() + after, tick=False)
    return board.seal_due_cycles()


def test_a_ballot_after_a_quiet_hour_waits_for_the_minimum(client, quiet, time_machine):
    time_machine.move_to(now(), tick=False)
    _vote(client, quiet, 1, first=100)
    assert _watch() == 0  # the watcher's first look starts the delay's clock
    assert _watch(time_machine, after=timedelta(hours=2)) == 0  # long past the delay: still alone
    assert _watch(time_machine, after=timedelta(hours=5)) == 0
    head = _head(quiet.cycle.id)
    assert (head.seq, head.pending) == (0, 1)
    _vote(client, quiet, 2, first=200)  # the minimum is reached...
    assert _watch() == 3  # ...and the oldest has waited long enough: all three together
    assert (_head(quiet.cycle.id).seq, _head(quiet.cycle.id).pending) == (3, 0)


def test_the_delay_counts_from_the_oldest_waiting_ballot(client, quiet, time_machine):
    time_machine.move_to(now(), tick=False)
    _vote(client, quiet, 3, first=100)
    assert _watch() == 0
    assert _watch(time_machine, after=timedelta(minutes=1)) == 3  # a first batch
    # A quiet hour: the last sealing is old, but the ballots now waiting are new.
    time_machine.move_to(now() + timedelta(hours=1), tick=False)
    _vote(client, quiet, 3, first=200)
    assert _watch() == 0
    assert _watch(time_machine, after=timedelta(seconds=30)) == 0
    assert _watch(time_machine, after=timedelta(seconds=31)) == 3


def test_a_full_batch_is_sealed_at_once(client, quiet, settings):
    settings(BOARD_BATCH_SIZE=4)
    _vote(client, quiet, 4, first=100)  # the cast that fills the batch seals it
    _watch()  # (or the watcher, if the id sequence passed this cycle by)
    assert (_head(quiet.cycle.id).seq, _head(quiet.cycle.id).pending) == (4, 0)


def test_the_seal_command_respects_the_minimum(client, quiet, runner):
    _vote(client, quiet, 1, first=100)
    result = runner.invoke(args=["board", "seal", quiet.slug])
    assert result.exit_code == 0, result.output
    assert "0 ballot(s) sealed" in result.output
    assert _head(quiet.cycle.id).pending == 1


def test_the_close_seals_fewer_than_the_minimum(client, quiet):
    _vote(client, quiet, 1, first=100)
    advance(vs.reload(quiet.cycle), CycleState.CLOSED, actor=None)
    assert (_head(quiet.cycle.id).seq, _head(quiet.cycle.id).pending) == (1, 0)


def _hold_the_head_row(dsn: str, cycle_id: int, seconds: float, held: threading.Event):
    """Another sealer at work: lock the head row for `seconds` in a transaction of its own."""
    with psycopg.connect(dsn) as conn:
        conn.execute("SELECT 1 FROM board_head WHERE cycle_id = %s FOR UPDATE", (cycle_id,))
        held.set()
        time.sleep(seconds)
        conn.commit()


def test_the_close_waits_for_a_sealing_under_way(client, quiet, database_dsn):
    _vote(client, quiet, 2, first=100)
    assert _watch() == 0  # creates the head row
    held = threading.Event()
    holder = threading.Thread(
        target=_hold_the_head_row, args=(database_dsn, quiet.cycle.id, 1.5, held)
    )
    holder.start()
    assert held.wait(10)
    started = time.monotonic()
    advance(vs.reload(quiet.cycle), CycleState.CLOSED, actor=None)
    waited = time.monotonic() - started
    holder.join()
    assert waited >= 1.0  # it waited for the lock instead of skipping the board
    assert (_head(quiet.cycle.id).seq, _head(quiet.cycle.id).pending) == (2, 0)


def test_close_and_tally_stop_loudly_when_ballots_are_left(client, quiet, monkeypatch, signing_key):
    _vote(client, quiet, 2, first=100)
    monkeypatch.setattr(board, "seal", lambda cycle, **kwargs: 0)  # a sealing that did nothing
    with pytest.raises(board.BoardNotSealed, match="2 accepted ballot"):
        advance(vs.reload(quiet.cycle), CycleState.CLOSED, actor=None)
    with pytest.raises(IllegalTransition, match="still waiting"):
        advance(vs.reload(quiet.cycle), CycleState.TALLIED, actor=None)
    monkeypatch.undo()
    record = advance(vs.reload(quiet.cycle), CycleState.TALLIED, actor=None).tally
    assert record.result["ballots"] == 2


def test_the_close_command_fails_when_ballots_are_left(client, quiet, runner, monkeypatch):
    _vote(client, quiet, 1, first=100)
    monkeypatch.setattr(board, "seal", lambda cycle, **kwargs: 0)
    result = runner.invoke(args=["cycle", "close", quiet.slug])
    assert result.exit_code == 1
    assert "still waiting to be sealed" in result.output


# --- reading the head ------------------------------------------------------------------------


def _statements_during(action) -> list[str]:
    seen: list[str] = []

    def record(conn, cursor, statement, *args):
        seen.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        action()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    return seen


def test_reading_the_board_locks_nothing_and_writes_nothing(client, quiet, settings):
    settings(BOARD_MAX_DELAY_SECONDS=0, BOARD_MIN_BATCH=1)  # sealing would be due at once
    [code] = _vote(client, quiet, 1, first=100)
    reads = [
        lambda: client.get(f"/api/v1/cycles/{quiet.slug}/board/head"),
        lambda: client.get(f"/ciclos/{quiet.slug}/quadro"),
        lambda: client.post(f"/api/v1/cycles/{quiet.slug}/receipts", json={"receipt": code}),
    ]
    for read in reads:
        statements = [s.upper() for s in _statements_during(read)]
        assert not [s for s in statements if "FOR UPDATE" in s]
        assert not [s for s in statements if s.lstrip().startswith(("INSERT", "UPDATE", "DELETE"))]
    assert _head(quiet.cycle.id).pending == 1  # still waiting for the watcher


def test_the_public_head_says_nothing_finer_than_a_batch(client, quiet):
    _vote(client, quiet, 2, first=100)
    body = client.get(f"/api/v1/cycles/{quiet.slug}/board/head").get_json()
    assert set(body) == {
        "cycle",
        "seq",
        "hash",
        "sealed_at",
        "batch_size",
        "min_batch",
        "max_delay_seconds",
    }
    assert (body["seq"], body["min_batch"], body["batch_size"]) == (0, 3, 256)
    page = client.get(f"/ciclos/{quiet.slug}/quadro").get_data(as_text=True)
    assert 'id="board-pending"' not in page
    assert 'id="board-min-batch">3<' in page


def test_head_reads_are_rate_limited_and_may_be_cached(client, quiet, settings):
    settings(BOARD_HEAD_LIMIT_PER_IP="2 per minute")
    url = f"/api/v1/cycles/{quiet.slug}/board/head"
    first = client.get(url)
    assert first.headers["Cache-Control"] == "public, max-age=5"
    assert client.get(url).status_code == 200
    limited = client.get(url)
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) >= 1
    assert limited.get_json()["error"]["code"] == "rate_limited"


def test_the_delay_clock_is_kept_on_the_head_row(client, quiet):
    _vote(client, quiet, 1, first=100)
    _watch()
    db.session.expire_all()
    head = db.session.get(BoardHead, quiet.cycle.id)
    assert head.pending_since is not None and head.seq == 0


def test_a_cycle_beyond_the_package_limits_is_refused_not_a_crash(
    client, quiet, monkeypatch, signing_key
):
    from opdigital.ledger import result

    _vote(client, quiet, 1, first=100)
    advance(vs.reload(quiet.cycle), CycleState.CLOSED, actor=None)
    monkeypatch.setattr(result, "MAX_PROPOSALS", 1)  # the cycle has three on its ballot
    with pytest.raises(IllegalTransition, match="cannot be counted"):
        advance(vs.reload(quiet.cycle), CycleState.TALLIED, actor=None)
    assert vs.reload(quiet.cycle).state == "closed"
