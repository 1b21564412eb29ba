"""The cast and the close, without a lock on the cycle row (migration 0017, `cast_gate`).

Casts share an advisory lock on their cycle and leave its row alone; leaving the voting state
takes that lock alone before committing. So a close waits for the casts under way (an
acknowledged vote is never lost: it is sealed at the close), and a cast that comes while the
close commits writes nothing. The cast's rows have no foreign key to `cycle` or `region`, so the
database refuses instead to delete a cycle or a region that votes refer to.
"""

from __future__ import annotations

import threading
import time

import psycopg
import pytest
import sqlalchemy as sa

from opdigital.board import services as board
from opdigital.cycles.lifecycle import advance
from opdigital.cycles.states import CycleState
from opdigital.errors import VotingClosed
from opdigital.extensions import db
from opdigital.registry.credentials import EligibleVoter
from opdigital.voting import services
from opdigital.voting.models import Ballot, Participation, TurnoutCount
from opdigital.voting.receipts import receipt_hash
from tests.support import factories
from tests.support import voting as vs


def _counts() -> tuple[int, int, int]:
    db.session.expire_all()
    return (
        db.session.scalar(sa.select(sa.func.count()).select_from(Participation)),
        db.session.scalar(sa.select(sa.func.count()).select_from(Ballot)),
        db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(TurnoutCount.votes), 0))),
    )


def _cast_sql_and_values(cycle, voter_key: str, chosen: list[int]) -> tuple[str, dict]:
    """The app's cast statement (a voter identified earlier) as the driver runs it."""
    statement = services._cast_statement(services.IDENTIFIED_VOTER)
    sql = str(statement.compile(dialect=db.engine.dialect))
    values = services._cast_values(cycle, voter_key, chosen, services.Where())
    values |= {"region": None, "school": None, "home_region": None, "home_school": None}
    values["receipt_hash"] = receipt_hash(f"code-{voter_key[:8]}")
    return sql, values


def test_a_close_waits_for_a_cast_under_way_and_seals_its_ballot(app, app_ctx, database_dsn):
    world = vs.voting_cycle()
    sql, values = _cast_sql_and_values(world.cycle, "a" * 64, world.ids[:2])
    with psycopg.connect(database_dsn) as casting:  # the cast's transaction, left open
        eligible, at_home, recorded, ballot_id = casting.execute(sql, values).fetchone()
        assert (eligible, at_home, recorded) == (True, True, True)
        # The cast holds no lock on the cycle row: anyone may lock it (a close, a paper vote).
        with psycopg.connect(database_dsn) as other:
            other.execute("SELECT 1 FROM cycle WHERE id = %s FOR UPDATE NOWAIT", (world.cycle.id,))
            other.rollback()
        closed = threading.Event()
        errors: list[BaseException] = []

        def close() -> None:
            with app.app_context():
                try:
                    advance(vs.reload(world.cycle), CycleState.CLOSED, actor=None)
                except BaseException as error:  # noqa: BLE001 - reported below
                    errors.append(error)
                closed.set()

        closer = threading.Thread(target=close)
        closer.start()
        assert not closed.wait(1.0)  # the close waits for the cast under way
        casting.commit()  # the vote is acknowledged now
        assert closed.wait(10)
        closer.join()
    assert errors == []
    cycle = vs.reload(world.cycle)
    assert cycle.state == "closed"
    assert _counts() == (1, 0, 1)  # the ballot left `ballot` for the board at the close
    head = board.stored_head(cycle.id)
    assert (head.seq, head.pending) == (1, 0)


def test_a_cast_while_the_close_commits_writes_nothing(app, app_ctx, database_dsn):
    world = vs.voting_cycle()
    cycle_id = world.cycle.id
    outcome: list[object] = []

    def cast() -> None:
        with app.app_context():
            voter = EligibleVoter(voter_key="b" * 64, region_id=None, school_id=None)
            try:
                outcome.append(services.cast_ballot(vs.reload(world.cycle), voter, world.ids[:2]))
            except BaseException as error:  # noqa: BLE001 - checked below
                outcome.append(error)
            finally:
                db.session.remove()

    with psycopg.connect(database_dsn) as closing:  # a close, as `advance` makes it
        closing.execute("SELECT 1 FROM cycle WHERE id = %s FOR UPDATE", (cycle_id,))
        closing.execute("SELECT pg_advisory_xact_lock(%s, %s)", (services.CAST_LOCK, cycle_id))
        closing.execute("UPDATE cycle SET state = 'closed' WHERE id = %s", (cycle_id,))
        caster = threading.Thread(target=cast)
        caster.start()  # it reads the cycle as voting (the close is not committed yet)
        caster.join(1.0)
        assert caster.is_alive()  # and waits at the gate
        closing.commit()
        caster.join(10)
    assert len(outcome) == 1 and isinstance(outcome[0], VotingClosed)
    assert _counts() == (0, 0, 0)


def test_concurrent_casts_do_not_wait_for_each_other(app_ctx, database_dsn):
    """Two casts in open transactions at once: the gate's lock is shared, and each adds to the
    turnout row of its own connection (a row drawn from 16 at random made one cast in 16 wait
    here for the other's commit)."""
    world = vs.voting_cycle()
    with (
        psycopg.connect(database_dsn) as first,
        psycopg.connect(database_dsn) as second,
    ):
        for conn, key in ((first, "c"), (second, "d")):
            sql, values = _cast_sql_and_values(world.cycle, key * 64, world.ids[:2])
            conn.execute("SET lock_timeout = '2s'")
            assert conn.execute(sql, values).fetchone()[2] is True
        first.commit()
        second.commit()
    assert _counts() == (2, 2, 2)


def test_turnout_has_a_row_per_connection_and_hour(app_ctx, database_dsn):
    """Votes on one connection add to its row; another connection has its own."""
    world = vs.voting_cycle()
    with (
        psycopg.connect(database_dsn, autocommit=True) as first,
        psycopg.connect(database_dsn, autocommit=True) as second,
    ):
        for conn, key in ((first, "e"), (first, "f"), (second, "g")):
            sql, values = _cast_sql_and_values(world.cycle, key * 64, world.ids[:2])
            assert conn.execute(sql, values).fetchone()[2] is True
        backends = {first.info.backend_pid: 2, second.info.backend_pid: 1}
    db.session.expire_all()
    by_shard = db.session.execute(  # summed over hours: the casts may straddle one
        sa.select(TurnoutCount.shard, sa.func.sum(TurnoutCount.votes)).group_by(TurnoutCount.shard)
    ).all()
    assert dict(by_shard) == backends


def test_the_close_takes_the_casts_lock_only_when_leaving_voting(app_ctx, database_dsn):
    """Other state changes never wait for casts (a cycle can only be voting once)."""
    world = vs.voting_cycle(state="ballot_frozen")
    with psycopg.connect(database_dsn) as casting:
        casting.execute(
            "SELECT pg_advisory_xact_lock_shared(%s, %s)", (services.CAST_LOCK, world.cycle.id)
        )
        started = time.monotonic()
        advance(world.cycle, CycleState.VOTING, actor=None)
        assert time.monotonic() - started < 1.0
        casting.rollback()


def test_a_cycle_or_region_with_votes_cannot_be_deleted(app_ctx, database_dsn):
    region = factories.region()
    world = vs.voting_cycle()
    voter = EligibleVoter(voter_key="e" * 64, region_id=region.id, school_id=None)
    services.cast_ballot(world.cycle, voter, world.ids[:2])
    for statement, key in (
        ("DELETE FROM cycle WHERE id = :id", world.cycle.id),
        ("UPDATE cycle SET id = id + 1000 WHERE id = :id", world.cycle.id),
        ("DELETE FROM region WHERE id = :id", region.id),
        ("UPDATE region SET id = id + 1000 WHERE id = :id", region.id),
    ):
        with pytest.raises(sa.exc.IntegrityError, match="is kept"):
            db.session.execute(sa.text(statement), {"id": key})
        db.session.rollback()
    # Their other columns change as before; a cycle or region without votes can go.
    db.session.execute(
        sa.text("UPDATE cycle SET title = 'Novo título' WHERE id = :id"), {"id": world.cycle.id}
    )
    unused = factories.region()
    spare = factories.cycle()
    db.session.commit()
    # ... at READ COMMITTED only, where the triggers' checks see votes committed meanwhile
    # (migration 0020): in REPEATABLE READ even those are refused.
    with psycopg.connect(database_dsn) as conn:
        for table, key in (("cycle", spare.id), ("region", unused.id)):
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            with pytest.raises(psycopg.errors.FeatureNotSupported, match="only at READ COMMITTED"):
                conn.execute(f"DELETE FROM {table} WHERE id = %s", (key,))  # noqa: S608
            conn.rollback()
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        conn.execute("UPDATE cycle SET title = 'Outro título' WHERE id = %s", (spare.id,))
        conn.commit()
    db.session.execute(sa.text("DELETE FROM cycle WHERE id = :id"), {"id": spare.id})
    db.session.execute(sa.text("DELETE FROM region WHERE id = :id"), {"id": unused.id})
    db.session.commit()
