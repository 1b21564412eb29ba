"""Sealing on PostgreSQL as migration 0015 and `board.services.seal` do it: the entries in one
COPY, the sealed ballots deleted by one array, and the guard checking the whole batch in one
query, each ballot looked up by the board's (cycle_id, receipt_hash) key."""

from __future__ import annotations

import json
import secrets

import psycopg
import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade
from sqlalchemy.exc import DBAPIError

from opdigital.board import services as board
from opdigital.board.models import BoardEntry, BoardHead
from opdigital.extensions import db
from opdigital.ledger import chain
from opdigital.settings import _sqlalchemy_url
from opdigital.voting.receipts import receipt_hash
from tests.support import voting as vs
from tests.support.databases import fresh_database

REFUSAL = "sealed onto the board"


def _wait(cycle_id: int, n: int, choices: list[int]) -> set[str]:
    """`n` accepted ballots waiting in `ballot` (as casts leave them); their receipt hashes."""
    hashes = [secrets.token_hex(32) for _ in range(n)]
    db.session.execute(
        sa.text(
            "INSERT INTO ballot (cycle_id, receipt_hash, choices) "
            "SELECT :cycle, h, CAST(:choices AS json) FROM unnest(CAST(:hashes AS text[])) AS h"
        ),
        {"cycle": cycle_id, "hashes": hashes, "choices": json.dumps(choices)},
    )
    db.session.commit()
    return set(hashes)


def _enter(cycle_id: int, hashes, choices: list[int], first_seq: int = 1) -> None:
    """Board entries for those receipt hashes (the chain's hashes are not the point here)."""
    db.session.execute(
        sa.text(
            "INSERT INTO board_entry (cycle_id, seq, receipt_hash, choices, prev_hash, "
            "entry_hash) SELECT :cycle, :first + n - 1, h, CAST(:choices AS json), "
            "repeat('a', 64), repeat('b', 64) "
            "FROM unnest(CAST(:hashes AS text[])) WITH ORDINALITY AS t(h, n)"
        ),
        {"cycle": cycle_id, "hashes": sorted(hashes), "choices": json.dumps(choices),
         "first": first_seq},
    )  # fmt: skip


def test_sealing_writes_the_chains_entries_in_chain_order_as_the_orm_would(
    app_ctx, client, settings
):
    settings(BOARD_BATCH_SIZE=1000)
    world = vs.voting_cycle()
    a, b, c = world.ids[:3]
    receipts = vs.cast_all(client, world, [[a, b], [c, a], [b, c], [a, c], [a, b, c]])
    assert board.seal(world.cycle) == 5
    entries = board.board_entries(world.cycle.id)
    assert chain.check_chain(world.slug, entries).ok
    assert {e.receipt_hash for e in entries} == {receipt_hash(code) for code in receipts}
    rows = db.session.execute(
        sa.text(
            "SELECT seq, receipt_hash, choices::text, paper_batch_id, prev_hash, entry_hash "
            "FROM board_entry WHERE cycle_id = :cycle ORDER BY ctid"
        ),
        {"cycle": world.cycle.id},
    ).all()
    # Written in the chain's order (the table's physical order is the shuffled one), each row
    # exactly the chain's entry.
    assert [tuple(row) for row in rows] == [
        (e.seq, e.receipt_hash, json.dumps(list(e.choices)), None, e.prev_hash, e.entry_hash)
        for e in entries
    ]
    # The choices' text is the one the ORM's JSON column writes.
    other = vs.voting_cycle()
    db.session.add(
        BoardEntry(
            cycle_id=other.cycle.id, seq=1, receipt_hash="c" * 64, choices=list(entries[0].choices),
            prev_hash=chain.GENESIS_HASH, entry_hash="d" * 64,
        )
    )  # fmt: skip
    db.session.commit()
    orm_text = db.session.scalar(
        sa.text("SELECT choices::text FROM board_entry WHERE cycle_id = :c"), {"c": other.cycle.id}
    )
    assert orm_text == rows[0][2]


def test_the_guard_refuses_a_batch_in_which_one_ballot_is_not_on_its_cycles_board(app_ctx):
    world = vs.voting_cycle()
    other = vs.voting_cycle()
    choices = world.ids[:2]
    waiting = _wait(world.cycle.id, 300, choices)
    left_out = min(waiting)
    _enter(world.cycle.id, waiting - {left_out}, choices)
    db.session.commit()
    delete_all = sa.text("DELETE FROM ballot WHERE cycle_id = :c")
    with pytest.raises(DBAPIError, match=REFUSAL):
        db.session.execute(delete_all, {"c": world.cycle.id})
    db.session.rollback()
    # Its receipt on another cycle's board does not license the delete.
    _enter(other.cycle.id, [left_out], choices)
    with pytest.raises(DBAPIError, match=REFUSAL):
        db.session.execute(delete_all, {"c": world.cycle.id})
    db.session.rollback()
    # Nor on its own board with other choices (the 299 others are right).
    _enter(world.cycle.id, [left_out], choices[:1], first_seq=300)
    with pytest.raises(DBAPIError, match=REFUSAL):
        db.session.execute(delete_all, {"c": world.cycle.id})
    db.session.rollback()
    assert board.pending_count(world.cycle.id) == 300
    # The 299 on the board may go, and then, once on the board, the last one.
    deleted = db.session.execute(
        sa.text("DELETE FROM ballot WHERE receipt_hash <> :h"), {"h": left_out}
    )
    assert deleted.rowcount == 299
    _enter(world.cycle.id, [left_out], choices, first_seq=300)
    db.session.execute(delete_all, {"c": world.cycle.id})
    db.session.commit()
    assert board.pending_count(world.cycle.id) == 0


def test_the_guard_looks_each_ballot_up_by_its_key_whatever_the_statistics_say(app_ctx):
    """0004 planned each lookup for its constant cycle id: a cycle the last ANALYZE had not
    seen was estimated at one entry, and every lookup read all its entries (250 ms a batch at
    10,000 entries). Now the plan takes the unique key, whatever the statistics."""
    past = vs.voting_cycle()
    _enter(past.cycle.id, [secrets.token_hex(32) for _ in range(20_000)], [1, 2])
    db.session.commit()
    db.session.execute(sa.text("ANALYZE board_entry"))
    db.session.commit()
    world = vs.voting_cycle()  # statistics: none of its entries
    choices = world.ids[:2]
    _enter(world.cycle.id, [secrets.token_hex(32) for _ in range(3_000)], choices)
    waiting = _wait(world.cycle.id, 256, choices)
    _enter(world.cycle.id, waiting, choices, first_seq=3_001)
    db.session.commit()
    raw = db.session.connection().connection.driver_connection
    notices: list[str] = []

    def keep(diagnostic: psycopg.errors.Diagnostic) -> None:
        notices.append(diagnostic.message_primary or "")

    raw.add_notice_handler(keep)
    try:
        with raw.cursor() as cursor:
            try:
                cursor.execute("LOAD 'auto_explain'")
            except psycopg.errors.InsufficientPrivilege:
                pytest.skip("LOAD 'auto_explain' needs a superuser")
            for setting in ("log_min_duration = 0", "log_nested_statements = on",
                            "log_analyze = on", "log_level = notice"):  # fmt: skip
                cursor.execute(f"SET LOCAL auto_explain.{setting}")
            cursor.execute("DELETE FROM ballot WHERE cycle_id = %s", (world.cycle.id,))
            assert cursor.rowcount == 256
    finally:
        raw.remove_notice_handler(keep)
    db.session.rollback()
    lookups = [n for n in notices if "FROM board_entry AS b" in n]
    assert lookups, notices
    plan = "\n".join(lookups)
    assert "pk_board_entry" not in plan
    # The board's node: the unique index, the key in its condition, no entry read and dropped.
    board_node = plan[plan.index("on board_entry") :]
    assert "Index Scan using uq_board_entry_cycle_id_receipt_hash" in plan
    assert "Index Cond: ((cycle_id = g.cycle_id) AND ((receipt_hash)" in board_node
    assert "Rows Removed by Filter" not in board_node


def test_a_sealing_may_hold_more_ballots_than_a_statement_has_parameters(app_ctx):
    """More than 65,535 waiting ballots (the protocol's limit of parameters): the watcher was
    stopped, or the vote closes on a backlog. Deleting them one parameter each failed."""
    world = vs.voting_cycle()
    waiting = _wait(world.cycle.id, 66_000, world.ids[:2])
    assert board.seal_all(world.cycle) == 66_000
    assert board.pending_count(world.cycle.id) == 0
    head = db.session.get(BoardHead, world.cycle.id)
    assert head.seq == 66_000
    sealed = db.session.scalars(
        sa.select(BoardEntry.receipt_hash).where(BoardEntry.cycle_id == world.cycle.id)
    ).all()
    assert set(sealed) == waiting


def test_the_guard_goes_down_to_0004s_lookups_and_back(make_app):
    with fresh_database("opdigital_sealguard") as url:
        other = make_app("testing", SQLALCHEMY_DATABASE_URI=_sqlalchemy_url(url))
        with other.app_context():
            guard = sa.text(
                "SELECT prosrc, proconfig FROM pg_proc WHERE proname = 'keep_ballot_until_sealed'"
            )
            upgrade()
            source, config = db.session.execute(guard).one()
            assert "OFFSET 0" in source and "jit=off" in config
            downgrade(revision="0014phone")
            source, config = db.session.execute(guard).one()
            assert "FOR g IN SELECT" in source and config is None
            db.session.commit()
            upgrade()
            assert "OFFSET 0" in db.session.execute(guard).one()[0]
            db.session.remove()
