"""The ballot board on PostgreSQL: sealing in random batches, the chain, the head, receipts,
and the database refusing to change or lose what was accepted."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from opdigital.board import services as board
from opdigital.board.models import BoardEntry, BoardHead
from opdigital.extensions import db
from opdigital.ledger import chain
from opdigital.voting.models import Ballot
from opdigital.voting.receipts import receipt_hash
from tests.support import voting as vs


def _vote(client, world, n: int, first: int = 900) -> list[str]:
    """`n` distinct voters cast the same valid ballot through the API; their receipt codes."""
    return vs.cast_all(client, world, [world.ids[:2]] * n, first)


def _look_up(client, slug: str, code):
    """The API's receipt lookup: the code in the body (never in the URL)."""
    return client.post(f"/api/v1/cycles/{slug}/receipts", json={"receipt": code})


def _entries(cycle_id: int) -> list[chain.BoardEntry]:
    db.session.expire_all()
    return board.board_entries(cycle_id)


def test_accepted_ballots_wait_until_a_batch_is_full_then_are_sealed(app_ctx, client, settings):
    settings(BOARD_BATCH_SIZE=4)
    world = vs.voting_cycle()
    receipts = _vote(client, world, 3)
    assert _entries(world.cycle.id) == []
    assert board.pending_count(world.cycle.id) == 3
    receipts += _vote(client, world, 1, first=950)  # the fourth completes the batch
    entries = _entries(world.cycle.id)
    assert [e.seq for e in entries] == [1, 2, 3, 4]
    assert board.pending_count(world.cycle.id) == 0
    assert {e.receipt_hash for e in entries} == {receipt_hash(code) for code in receipts}
    report = chain.check_chain(world.slug, entries)
    assert report.ok, report.problem
    head = db.session.get(BoardHead, world.cycle.id)
    assert (head.seq, head.entry_hash) == (4, entries[-1].entry_hash)


def test_sealing_continues_the_chain_across_batches(app_ctx, client, settings):
    settings(BOARD_BATCH_SIZE=2)
    world = vs.voting_cycle()
    _vote(client, world, 5)
    assert board.seal(world.cycle) == 1  # the fifth, forced
    entries = _entries(world.cycle.id)
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert entries[0].prev_hash == chain.GENESIS_HASH
    assert chain.check_chain(world.slug, entries).ok


def test_only_if_due_waits_for_the_batch_or_the_minimum_and_the_delay(app_ctx, client, settings):
    settings(BOARD_BATCH_SIZE=100, BOARD_MIN_BATCH=2, BOARD_MAX_DELAY_SECONDS=3600)
    world = vs.voting_cycle()
    _vote(client, world, 2)
    assert board.head_of(world.cycle).seq == 0  # reading the head seals nothing
    assert board.seal(world.cycle, only_if_due=True) == 0
    settings(BOARD_MAX_DELAY_SECONDS=0)
    assert board.seal(world.cycle, only_if_due=True) == 2
    head = board.head_of(world.cycle)
    assert (head.seq, head.pending) == (2, 0)


def test_the_board_order_is_not_the_voting_order(app_ctx, client, settings):
    settings(BOARD_BATCH_SIZE=1000, VOTE_LIMIT_PER_IP="1000 per minute")
    world = vs.voting_cycle()
    receipts = _vote(client, world, 40)
    board.seal(world.cycle)
    sealed_order = [e.receipt_hash for e in _entries(world.cycle.id)]
    voting_order = [receipt_hash(code) for code in receipts]
    assert sorted(sealed_order) == sorted(voting_order)
    # A random order of 40 keeps on average one ballot in its voting place; 10 would be
    # astronomically unlikely (and the identity, which insertion order gives, is 40).
    in_place = sum(a == b for a, b in zip(sealed_order, voting_order, strict=True))
    assert in_place < 10


def test_the_database_refuses_to_change_or_remove_board_entries(app_ctx, client, settings):
    settings(BOARD_BATCH_SIZE=1)
    world = vs.voting_cycle()
    _vote(client, world, 1)
    for statement in (
        "UPDATE board_entry SET choices = '[1]'",
        "DELETE FROM board_entry",
        "UPDATE board_entry SET entry_hash = repeat('0', 64)",
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(sa.text(statement))
        db.session.rollback()
    assert len(_entries(world.cycle.id)) == 1


def test_a_pending_ballot_cannot_be_changed_nor_dropped_before_it_is_sealed(
    app_ctx, client, settings
):
    settings(BOARD_BATCH_SIZE=100)
    world = vs.voting_cycle()
    _vote(client, world, 1)
    refusals = {
        "UPDATE ballot SET choices = '[1]'": "append-only",
        "DELETE FROM ballot": "sealed onto the board",
    }
    for statement, refusal in refusals.items():
        with pytest.raises(DBAPIError, match=refusal):
            db.session.execute(sa.text(statement))
        db.session.rollback()
    assert board.pending_count(world.cycle.id) == 1
    # A board entry with other choices does not license the delete either.
    row = db.session.execute(sa.select(Ballot.receipt_hash, Ballot.choices)).one()
    db.session.add(
        BoardEntry(
            cycle_id=world.cycle.id, seq=1, receipt_hash=row.receipt_hash, choices=[999],
            prev_hash=chain.GENESIS_HASH, entry_hash="f" * 64,
        )
    )  # fmt: skip
    db.session.flush()
    with pytest.raises(DBAPIError, match="sealed onto the board"):
        db.session.execute(sa.text("DELETE FROM ballot"))
    db.session.rollback()


# --- the API ------------------------------------------------------------------------------


def test_head_endpoint_gives_seq_and_hash(app_ctx, client, settings):
    settings(BOARD_BATCH_SIZE=3)
    world = vs.voting_cycle()
    empty = client.get(f"/api/v1/cycles/{world.slug}/board/head").get_json()
    assert (empty["seq"], empty["hash"]) == (0, chain.GENESIS_HASH)
    _vote(client, world, 4)
    body = client.get(f"/api/v1/cycles/{world.slug}/board/head").get_json()
    entries = _entries(world.cycle.id)
    assert (body["seq"], body["hash"]) == (3, entries[-1].entry_hash)
    assert "pending" not in body  # its changes would time each vote
    assert body["batch_size"] == 3
    assert client.get("/api/v1/cycles/nope/board/head").status_code == 404


def test_receipt_lookup_shows_the_entry_or_says_it_is_pending(app_ctx, client, settings):
    settings(BOARD_BATCH_SIZE=2)
    world = vs.voting_cycle()
    first, second, third = _vote(client, world, 3)
    sealed = _look_up(client, world.slug, first)
    assert sealed.status_code == 200
    assert sealed.headers["Cache-Control"] == "no-store"
    body = sealed.get_json()
    assert body["status"] == "sealed"
    assert body["choices"] == sorted(world.ids[:2])
    entry = next(e for e in _entries(world.cycle.id) if e.receipt_hash == receipt_hash(first))
    assert body["entry"] == {
        "seq": entry.seq, "prev_hash": entry.prev_hash, "entry_hash": entry.entry_hash,
    }  # fmt: skip
    # Typed in lower case without dashes: the same receipt.
    typed = third.replace("-", "").lower()
    pending = _look_up(client, world.slug, typed).get_json()
    assert pending["status"] == "pending" and pending["entry"] is None
    assert pending["choices"] == sorted(world.ids[:2])
    assert pending["sealed_by"] is not None


def test_unknown_receipts_are_404_and_lookups_are_rate_limited(app_ctx, client, settings):
    settings(RECEIPT_LOOKUP_LIMIT_PER_IP="3 per minute")
    world = vs.voting_cycle()
    for code in ("AAAA-BBBB-CCCC-DDDD", "----"):
        response = _look_up(client, world.slug, code)
        assert response.status_code == 404
        assert response.get_json()["error"]["code"] == "not_found"
    _look_up(client, world.slug, "X")
    limited = _look_up(client, world.slug, "Y")
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) >= 1
