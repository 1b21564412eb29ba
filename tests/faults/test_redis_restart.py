"""Redis stopped and restarted while many distinct voters cast: voting goes on, one vote per
citizen still holds (the database enforces it), and the limits move back into Redis."""

from __future__ import annotations

import time

import pytest

from tests.faults.conftest import (
    Answer,
    Election,
    PrivatePostgres,
    PrivateRedis,
    VoteLoad,
    app_env,
    assert_no_vote_lost_or_doubled,
    call,
)
from tests.support.live import gunicorn

pytestmark = pytest.mark.faults

# More voters than the load needs: it stops once the limits are back in Redis.
VOTERS = 2000
OUTAGE_SECONDS = 3.0


def _health_until(base: str, redis_state: str, timeout: float = 15) -> Answer:
    deadline = time.monotonic() + timeout
    while True:
        answer = call("GET", f"{base}/healthz", timeout=5)
        if answer.body and answer.body.get("redis") == redis_state:
            return answer
        assert time.monotonic() < deadline, f"/healthz never said redis {redis_state}: {answer}"
        time.sleep(0.1)


def _limiter_keys(store: PrivateRedis, prefix: str) -> list[bytes]:
    return store.client().keys(f"*{prefix}*")


def _wait_for_limiter_keys(store: PrivateRedis, prefix: str, timeout: float) -> list[bytes]:
    """Flask-Limiter probes a dead store with a backoff (1, 2, 4, 8... s) in each worker."""
    deadline = time.monotonic() + timeout
    while not (keys := _limiter_keys(store, prefix)):
        assert time.monotonic() < deadline, "the limits never came back to Redis"
        time.sleep(0.2)
    return keys


def test_voting_goes_on_while_redis_is_down_and_limits_resume_after(
    private_postgres: PrivatePostgres, private_redis: PrivateRedis, election: Election
):
    env = app_env(private_postgres, private_redis)
    prefix = env["RATELIMIT_KEY_PREFIX"]
    voters = election.take(VOTERS)
    before = election.totals()
    with gunicorn(env, workers=2, threads=4) as base:
        url = election.ballots_url(base)
        with VoteLoad(election, [base], voters, threads=8, pause=0.1) as load:
            load.wait_for(80)
            health = _health_until(base, "ok")
            assert health.status == 200
            assert _limiter_keys(private_redis, prefix), "limits are kept in Redis to begin with"

            private_redis.stop()
            down_at = time.monotonic()
            health = _health_until(base, "down")
            assert (health.status, health.body["status"]) == (503, "down")
            assert health.body["database"] == "ok"
            cast_so_far = load.done()
            load.wait_for(cast_so_far + 60)
            # One vote per citizen, with Redis down: a repeat of an accepted vote is refused.
            accepted = [c for c in load.casts[cast_so_far:] if c.answer.status == 201][:5]
            repeats_while_down = [call("POST", url, election.ballot(c.titulo)) for c in accepted]
            time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - down_at)))
            up_at = time.monotonic()
            private_redis.start()

            assert _health_until(base, "ok").status == 200
            _wait_for_limiter_keys(private_redis, prefix, timeout=45)
            load.wait_for(load.done() + 20)
        assert load.done() < VOTERS, "the load ran out of voters before the end of the test"

        during = load.answers_between(down_at, up_at)
        assert len(during) >= 60
        assert {a.status for a in during} == {201}, "a vote failed while Redis was down"
        assert len(accepted) == 5
        assert [(a.status, a.error_code) for a in repeats_while_down] == [
            (409, "already_voted")
        ] * 5
        # Every vote went through: Redis is never needed for a vote to be accepted.
        assert {c.answer.status for c in load.casts} == {201}
        # And after the restart a repeat is still refused, by either worker.
        repeats = [call("POST", url, election.ballot(c.titulo)) for c in load.casts[::25]]
        assert {(a.status, a.error_code) for a in repeats} == {(409, "already_voted")}
        assert_no_vote_lost_or_doubled(election, base, load.casts, {}, before)
