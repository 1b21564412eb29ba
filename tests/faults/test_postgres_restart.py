"""PostgreSQL restarted while many distinct voters cast: requests during the outage get a clear
503 (or no answer), no acknowledged vote is lost, and the app recovers by itself.

Two faults on the private cluster, with gunicorn left running throughout: a plain
`pg_ctlcluster restart` (fast: open sessions are cut off mid-statement), then a stop held for
a few seconds before the start, so that many requests meet a database that is not there.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from tests.faults.conftest import (
    Answer,
    Election,
    PrivatePostgres,
    PrivateRedis,
    VoteLoad,
    app_env,
    assert_no_vote_lost_or_doubled,
    retry_failed,
)
from tests.support.live import gunicorn

pytestmark = pytest.mark.faults

# More voters than the load needs: it stops once the app has recovered from both faults.
VOTERS = 2500
HELD_DOWN_SECONDS = 3.0
# Without pool_pre_ping, each worker's pooled connections fail once after the restart (503);
# the pool is discarded and after this long every cast must be accepted again.
RECOVERY_SECONDS = 5.0


def _is_clear_503(answer: Answer) -> bool:
    return (
        answer.status == 503
        and answer.error_code == "unavailable"
        and answer.retry_after is not None
        and int(answer.retry_after) > 0
    )


def _outage(load: VoteLoad, fault: Callable[[], None]) -> tuple[float, float]:
    """Run `fault` under load; then let the load go on until the app has recovered.

    Returns when the fault began and when the database was back. The wait for the next fault
    keeps RECOVERY_SECONDS and then a run of casts free of it.
    """
    started = time.monotonic()
    fault()
    back = time.monotonic()
    deadline = back + 30
    # Recovered: RECOVERY_SECONDS after the restart, and a good run of casts after that.
    while True:
        settled = load.answers_between(back + RECOVERY_SECONDS, float("inf"))
        if len(settled) >= 40:
            return started, back
        assert time.monotonic() < deadline, f"only {len(settled)} casts after the restart"
        time.sleep(0.1)


def test_postgres_restart_mid_load_gives_503s_and_loses_no_acknowledged_vote(
    private_postgres: PrivatePostgres, private_redis: PrivateRedis, election: Election
):
    voters = election.take(VOTERS)
    before = election.totals()

    down: dict[str, float] = {}

    def held_down() -> None:
        private_postgres.stop()
        down["from"] = time.monotonic()
        time.sleep(HELD_DOWN_SECONDS)
        down["until"] = time.monotonic()
        private_postgres.start()

    with gunicorn(app_env(private_postgres, private_redis), workers=2, threads=4) as base:
        with VoteLoad(election, [base], voters, threads=8, pause=0.2) as load:
            load.wait_for(80)
            first = _outage(load, private_postgres.restart)
            second = _outage(load, held_down)
        assert load.done() < VOTERS, "the load ran out of voters before the end of the test"

        answers = [c.answer for c in load.casts]
        # Every answer is an accepted vote, a clear 503, or (server down) no answer at all.
        odd = [a for a in answers if a.status != 201 and not _is_clear_503(a) and a.status]
        assert not odd, odd[:5]
        # Requests did meet the outage, and got the clear 503.
        # (A margin for answers already on their way when the server stopped.)
        during = load.answers_between(down["from"] + 0.5, down["until"])
        assert len(during) >= 20
        assert any(_is_clear_503(a) for a in during)
        assert all(a.status != 201 for a in during), "a vote accepted while the database was down"
        # The app recovered by itself after each restart: only 201s once it settled.
        (_, first_back), (second_at, second_back) = first, second
        for settled in (
            load.answers_between(first_back + RECOVERY_SECONDS, second_at),
            load.answers_between(second_back + RECOVERY_SECONDS, float("inf")),
        ):
            assert len(settled) >= 40
            assert {a.status for a in settled} == {201}

        retries = retry_failed(election, base, load.casts)
        assert_no_vote_lost_or_doubled(election, base, load.casts, retries, before)
