"""One vote per citizen across two app instances (two gunicorn masters on two ports) that share
the private PostgreSQL cluster and Redis: 200 concurrent casts for one voter."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.faults.conftest import (
    Election,
    PrivatePostgres,
    PrivateRedis,
    app_env,
    call,
)
from tests.support.live import gunicorn

pytestmark = pytest.mark.faults

CASTS = 200


def test_200_concurrent_casts_for_one_voter_on_two_instances(
    private_postgres: PrivatePostgres, private_redis: PrivateRedis, election: Election
):
    env = app_env(private_postgres, private_redis)
    (voter,) = election.take(1)
    before = election.totals()
    with gunicorn(env, workers=2) as first, gunicorn(env, workers=2) as second:
        assert first != second
        urls = [election.ballots_url(base) for base in (first, second)]
        ballot = election.ballot(voter)
        with ThreadPoolExecutor(max_workers=32) as pool:
            answers = list(pool.map(lambda i: call("POST", urls[i % 2], ballot), range(CASTS)))
        # Both instances did answer: the race really ran across processes.
        by_instance = [{a.status for a in answers[i::2]} for i in (0, 1)]
        assert all(statuses & {201, 409} for statuses in by_instance)

    statuses = [a.status for a in answers]
    assert statuses.count(201) == 1
    assert statuses.count(409) == CASTS - 1
    assert {a.error_code for a in answers if a.status == 409} == {"already_voted"}
    (receipt,) = [a.receipt for a in answers if a.status == 201]
    assert election.participations_of([voter]) == {voter: 1}
    after = election.totals()
    assert after.participations - before.participations == 1
    assert after.ballots - before.ballots == 1
    election.seal()
    assert election.on_board([receipt]) == {receipt}
