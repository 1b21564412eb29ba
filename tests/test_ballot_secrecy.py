"""Ballot secrecy: nothing links a voter to a ballot, in the schema or the data.

What is promised: docs/security.md, "Ballot secrecy". The schema is read from the real
PostgreSQL test database (the migrations' result, not the models), and the data, logs and
Redis keys are scanned after real votes through the API.
"""

from __future__ import annotations

import logging
import re

import pytest
import redis
import sqlalchemy as sa
from sqlalchemy import inspect

from opdigital.board import services as board
from opdigital.extensions import db
from opdigital.voting.receipts import normalise_receipt, receipt_hash
from tests.support import voting as vs

VOTER_TABLES = {"participation", "registry_entry"}
# Column names that would hold (or point to) a voter's identity.
# (`enrol` is a pupil's enrolment number; a kiosk's `enrolled_at` and `enrolled_by_id` are not.)
VOTER_COLUMN = re.compile(r"voter_(key|id|hash)|titulo|elector|registration|enrol(?!led_)", re.I)
TIME_TYPES = ("TIMESTAMP", "TIME", "INTERVAL")


def _columns(table: str) -> dict[str, dict]:
    return {c["name"]: c for c in inspect(db.engine).get_columns(table)}


def _type(column: dict) -> str:
    return str(column["type"]).upper()


# --- the schema ----------------------------------------------------------------------------


def test_ballot_has_no_column_referring_to_a_voter(app_ctx):
    inspector = inspect(db.engine)
    columns = _columns("ballot")
    # A paper ballot's batch: a bundle of a point's sheets, never a voter (docs/security.md).
    assert set(columns) == {"id", "cycle_id", "receipt_hash", "choices", "paper_batch_id"}
    assert not [name for name in columns if VOTER_COLUMN.search(name)]
    # Nothing that orders ballots in time: no timestamp, no date.
    assert not [n for n, c in columns.items() if any(t in _type(c) for t in (*TIME_TYPES, "DATE"))]
    foreign = {fk["referred_table"] for fk in inspector.get_foreign_keys("ballot")}
    # Its cycle is named without a foreign key (migration 0017: no row lock per cast).
    assert foreign == {"paper_batch"}


def test_participation_has_no_order_no_clock_and_no_ballot(app_ctx):
    inspector = inspect(db.engine)
    columns = _columns("participation")
    assert set(columns) == {
        "cycle_id",
        "voter_key",
        "voted_on",
        "region_id",
        "voting_point_id",
        "assisted",  # a flag: never who assisted
        "on_paper",
        "channel",  # how the vote came (web, phone...): the ballot table has no such column
    }
    for name, column in columns.items():
        # No serial, identity or sequence-fed column: insertion order is not recorded.
        assert not column.get("autoincrement"), name
        assert column.get("identity") is None, name
        assert "nextval" not in str(column.get("default") or ""), name
    assert _type(columns["voted_on"]) == "DATE"  # the day, nothing finer
    assert not [n for n, c in columns.items() if any(t in _type(c) for t in TIME_TYPES)]
    foreign = {fk["referred_table"] for fk in inspector.get_foreign_keys("participation")}
    assert "ballot" not in foreign
    # Cycle and region are named without a foreign key (migration 0017: no row lock per cast).
    assert foreign == {"voting_point"}
    pk = inspector.get_pk_constraint("participation")["constrained_columns"]
    assert set(pk) == {"cycle_id", "voter_key"}


def test_no_sequence_feeds_participation(app_ctx):
    owned = db.session.execute(
        sa.text(
            "SELECT s.relname FROM pg_class s JOIN pg_depend d ON d.objid = s.oid "
            "JOIN pg_class t ON d.refobjid = t.oid "
            "WHERE s.relkind = 'S' AND t.relname = 'participation'"
        )
    ).all()
    assert owned == []


def test_only_the_roll_and_participation_hold_voter_keys(app_ctx):
    inspector = inspect(db.engine)
    holders = {
        table
        for table in inspector.get_table_names()
        for column in inspector.get_columns(table)
        if VOTER_COLUMN.search(column["name"])
    }
    assert holders == VOTER_TABLES
    # Nothing refers to participation or the roll, so no other row can be joined to a voter.
    for table in inspector.get_table_names():
        for fk in inspector.get_foreign_keys(table):
            assert fk["referred_table"] not in VOTER_TABLES, (table, fk)


# --- the data after real votes --------------------------------------------------------------


@pytest.fixture
def voted(app, app_ctx, client, caplog, redis_url):
    """Five voters vote through the API (one at a voting point), with logs captured at DEBUG."""
    world = vs.voting_cycle()
    world.titulos = [vs.make_titulo(700 + n) for n in range(5)]
    world.keys = [vs.key_of(t) for t in world.titulos]
    for number in world.titulos:
        vs.register(number)
    vs.voting_point("secret-kiosk-token")
    ballots = [world.ids[:2], world.ids[1:3], world.ids[2:4], [world.ids[0], world.ids[3]]]
    ballots.append([world.ids[4], world.ids[0]])
    world.receipts = []
    caplog.set_level(logging.DEBUG)
    logging.getLogger("tests").debug("capture-control")
    for n, (number, choices) in enumerate(zip(world.titulos, ballots, strict=True)):
        token = "secret-kiosk-token" if n == 2 else None
        # Typed as people type it for some voters: the raw text must not leak either.
        typed = vs.pretty(number) if n % 2 else number
        response = vs.post_ballot(client, world.slug, vs.body(typed, choices), token=token)
        assert response.status_code == 201, response.get_json()
        world.receipts.append(response.get_json()["receipt"])
    # A refused attempt and a repeated vote are also part of normal traffic.
    assert (
        vs.post_ballot(client, world.slug, vs.body(world.titulos[0], ballots[0])).status_code == 409
    )
    wrong = vs.body(world.titulos[1], ballots[0], "1999-01-01")
    assert vs.post_ballot(client, world.slug, wrong).status_code == 403
    world.choices = ballots
    world.records = list(caplog.records)
    db.session.expire_all()
    return world


def _rows_as_text(table: str) -> list[str]:
    """Every row of `table` as PostgreSQL prints the whole record: all columns, as text."""
    query = f'SELECT CAST(t AS TEXT) FROM "{table}" t'  # noqa: S608 - names from the inspector
    return list(db.session.scalars(sa.text(query)))


def _all_tables() -> list[str]:
    return inspect(db.engine).get_table_names()


def _needles(world) -> dict[str, list[str]]:
    codes = world.receipts + [normalise_receipt(c) for c in world.receipts]
    titulos = world.titulos + [vs.pretty(t) for t in world.titulos]
    return {"receipt": codes, "titulo": titulos}


def test_ballots_hold_no_voter_key(voted):
    rows = _rows_as_text("ballot")
    assert len(rows) == 5
    for row in rows:
        for key in voted.keys:
            assert key not in row
            assert key[:16] not in row  # not even a prefix
    # Control: the scan reads real data (the voter keys are where they belong).
    participation = " ".join(_rows_as_text("participation"))
    assert all(key in participation for key in voted.keys)


def test_receipt_codes_and_titulos_appear_nowhere_in_the_database(voted):
    needles = _needles(voted)
    everything = {table: "\n".join(_rows_as_text(table)) for table in _all_tables()}
    for table, text in everything.items():
        for kind, values in needles.items():
            for value in values:
                assert value not in text, f"a {kind} is stored in {table}"
    # Only the receipts' hashes are stored, on the ballots.
    stored = set(db.session.scalars(sa.text("SELECT receipt_hash FROM ballot")))
    assert stored == {receipt_hash(code) for code in voted.receipts}


def test_participation_columns_cannot_order_the_voters(voted):
    rows = db.session.execute(
        sa.text("SELECT voted_on, region_id, voting_point_id FROM participation")
    ).all()
    assert len(rows) == 5
    # Every voter of the day shares the same date, region (none here) and, but for the one at
    # the kiosk, voting point: apart from the voter key no column tells them apart or sorts them.
    assert len({row.voted_on for row in rows}) == 1
    assert {row.region_id for row in rows} == {None}
    assert sum(row.voting_point_id is not None for row in rows) == 1


# Below the SQL layer: system columns and heap order. A cast writes its ballot to `ballot` in the
# voter's transaction; a separate sealing transaction moves ballots onto the board in random
# order and deletes them from `ballot`. So no sealed entry shares a transaction id (xmin) with
# a participation row, and the board's order (and heap order) is not the voting order.


def test_system_columns_do_not_link_participation_to_the_board(voted):
    # Control: before sealing, the pending ballots do share xmin with participation rows.
    assert db.session.execute(
        sa.text("SELECT count(*) FROM participation p JOIN ballot b ON b.xmin = p.xmin")
    ).scalar_one() == len(voted.keys)
    assert board.seal(voted.cycle) == len(voted.keys)
    db.session.expire_all()
    linked = db.session.execute(
        sa.text("SELECT p.voter_key FROM participation p JOIN board_entry b ON b.xmin = p.xmin")
    ).all()
    assert linked == []
    assert db.session.execute(sa.text("SELECT count(*) FROM ballot")).scalar_one() == 0


def test_board_order_does_not_follow_the_order_of_participation(app_ctx, client, app):
    saved = app.config["VOTE_LIMIT_PER_IP"]
    app.config["VOTE_LIMIT_PER_IP"] = "1000 per minute"
    try:
        world = vs.voting_cycle()
        receipts = []
        for n in range(30):
            number = vs.make_titulo(1200 + n)
            vs.register(number)
            response = vs.post_ballot(client, world.slug, vs.body(number, world.ids[:2]))
            assert response.status_code == 201, response.get_json()
            receipts.append(receipt_hash(response.get_json()["receipt"]))
    finally:
        app.config["VOTE_LIMIT_PER_IP"] = saved
    board.seal(world.cycle)
    db.session.expire_all()
    # Participation's heap order is still the voting order (as pg_dump would print it)...
    voters = list(db.session.scalars(sa.text("SELECT voter_key FROM participation ORDER BY ctid")))
    assert len(voters) == 30
    # ...but the board, in chain order and in heap order alike, is not: pairing the two up
    # does not tell who cast which ballot.
    by_seq = list(db.session.scalars(sa.text("SELECT receipt_hash FROM board_entry ORDER BY seq")))
    by_ctid = list(
        db.session.scalars(sa.text("SELECT receipt_hash FROM board_entry ORDER BY ctid"))
    )
    assert by_ctid == by_seq
    assert sorted(by_seq) == sorted(receipts)
    in_place = sum(a == b for a, b in zip(by_seq, receipts, strict=True))
    assert in_place < 10  # a random order keeps about one in place; insertion order keeps 30


def _assert_no_secret_in(records, world) -> None:
    forbidden = [*sum(_needles(world).values(), []), *world.keys]
    choice_lists = [str(sorted(c)) for c in world.choices] + [str(c) for c in world.choices]
    for record in records:
        text = f"{record.getMessage()} {record.args!r} {record.exc_text or ''}"
        for value in forbidden:
            assert value not in text, f"{record.name}: {text[:300]}"
        for value in choice_lists:
            assert value not in text, f"{record.name} logs choices: {text[:300]}"


def test_logs_hold_no_titulo_key_receipt_or_choices(voted):
    # Control: the capture worked (every logger at DEBUG, through the root logger).
    assert any(r.getMessage() == "capture-control" for r in voted.records)
    _assert_no_secret_in(voted.records, voted)


def test_sql_statement_log_holds_no_voter_key(app_ctx, client, caplog):
    world = vs.voting_cycle()
    number = vs.make_titulo(801)
    vs.register(number)
    world.titulos, world.keys, world.choices = [number], [vs.key_of(number)], [world.ids[:2]]
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    response = vs.post_ballot(client, world.slug, vs.body(number, world.ids[:2]))
    assert response.status_code == 201
    world.receipts = [response.get_json()["receipt"]]
    assert any(r.name.startswith("sqlalchemy.engine") for r in caplog.records)
    _assert_no_secret_in(caplog.records, world)


def test_redis_keys_hold_no_titulo_or_voter_key(voted, app, redis_url):
    store = redis.Redis.from_url(redis_url)
    prefix = app.config["RATELIMIT_STORAGE_OPTIONS"]["key_prefix"]
    keys = [k.decode() for k in store.scan_iter(match=f"*{prefix}*")]
    keys += [k.decode() for k in store.scan_iter(match=f"*{app.config['RATELIMIT_KEY_PREFIX']}*")]
    assert keys, "the rate limits wrote keys to Redis"
    forbidden = [*sum(_needles(voted).values(), []), *voted.keys, "secret-kiosk-token"]
    for key in keys:
        for value in forbidden:
            assert value not in key, key
        for key_part in voted.keys:
            assert key_part[:16] not in key
