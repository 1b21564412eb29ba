"""The cast's own connection (direct_sql.run_alone): one per thread, in autocommit, kept out of
the pool; a lost one fails its request with a 503 and is replaced by the next statement."""

from __future__ import annotations

import psycopg
import pytest
import sqlalchemy as sa

from opdigital import direct_sql
from opdigital.clock import now
from opdigital.extensions import db
from opdigital.voting.models import Participation
from tests.support import factories
from tests.support import voting as vs


@pytest.fixture
def election(app_ctx):
    region = factories.region(slug="leste", name="Leste")
    world = vs.voting_cycle(ballot_frozen_at=now())
    world.voters = [vs.make_titulo(500 + n) for n in range(4)]
    for number in world.voters:
        vs.register(number, region=region)
    yield world
    direct_sql.forget_connection()


def _cast(client, election, n: int):
    return vs.post_ballot(client, election.slug, vs.body(election.voters[n], election.ids[:2]))


def _voted() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Participation))


def _warm(client, election) -> None:
    """A first cast warms the process's caches (it runs in the request's session); then no
    transaction is held, as in production, and casts run alone."""
    assert _cast(client, election, 3).status_code == 201
    db.session.commit()


def test_warm_casts_share_one_connection_in_autocommit(client, election):
    _warm(client, election)
    assert _cast(client, election, 0).status_code == 201
    first = direct_sql._kept.cursor.connection
    assert _cast(client, election, 1).status_code == 201
    assert direct_sql._kept.cursor.connection is first
    assert first.autocommit and first.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    # Each cast committed by itself: another connection sees both at once.
    with db.engine.connect() as other:
        assert other.scalar(sa.select(sa.func.count()).select_from(Participation)) == 3


def test_a_lost_connection_fails_one_cast_then_a_new_one_is_taken(client, election, database_dsn):
    _warm(client, election)
    assert _cast(client, election, 0).status_code == 201
    lost = direct_sql._kept.cursor.connection
    with psycopg.connect(database_dsn, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (lost.info.backend_pid,))
    response = _cast(client, election, 1)
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "unavailable"
    assert direct_sql._kept.cursor is None  # invalidated, never reused
    assert _cast(client, election, 1).status_code == 201  # nothing was written: the voter votes
    assert direct_sql._kept.cursor.connection is not lost
    db.session.commit()
    assert _voted() == 3
