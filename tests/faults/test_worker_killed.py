"""A gunicorn worker killed with SIGKILL while many distinct voters cast: no acknowledged vote
is lost, no voter votes twice, and the master replaces the worker."""

from __future__ import annotations

import os
import signal
import time

import pytest

from tests.faults.conftest import (
    Election,
    PrivatePostgres,
    PrivateRedis,
    VoteLoad,
    app_env,
    assert_no_vote_lost_or_doubled,
    gunicorn_processes,
    retry_failed,
)
from tests.support.live import gunicorn

pytestmark = pytest.mark.faults

VOTERS = 400
# Threaded workers hold several requests at once, so each kill cuts requests in flight.
WORKERS, THREADS = 3, 4


def _wait_for_workers(base: str, count: int, not_in: set[int], timeout: float = 30) -> list[int]:
    """The worker pids once the master runs `count` again, none of them in `not_in`."""
    deadline = time.monotonic() + timeout
    while True:
        _master, workers = gunicorn_processes(base)
        if len(workers) == count and not set(workers) & not_in:
            return workers
        assert time.monotonic() < deadline, f"workers not replaced: {workers}"
        time.sleep(0.1)


def test_sigkill_of_workers_mid_load_loses_no_acknowledged_vote(
    private_postgres: PrivatePostgres, private_redis: PrivateRedis, election: Election
):
    voters = election.take(VOTERS)
    before = election.totals()
    with gunicorn(
        app_env(private_postgres, private_redis), workers=WORKERS, threads=THREADS
    ) as base:
        master, workers = gunicorn_processes(base)
        assert len(workers) == WORKERS
        killed: set[int] = set()
        with VoteLoad(election, [base], voters, threads=12) as load:
            # Three kills, at a quarter, half and three quarters of the load.
            for quarter in (1, 2, 3):
                load.wait_for(VOTERS * quarter // 4)
                victim = _wait_for_workers(base, WORKERS, killed)[0]
                os.kill(victim, signal.SIGKILL)
                killed.add(victim)
            load.wait_for(VOTERS, timeout=120)
        # The master stayed and brought the workers back.
        assert gunicorn_processes(base)[0] == master
        _wait_for_workers(base, WORKERS, killed)
        assert load.done() == VOTERS
        # The kills did cut requests in flight (the clients saw resets, not answers).
        cut_off = [c.answer for c in load.casts if c.answer.failed]
        assert cut_off
        assert {a.status for a in cut_off} == {None}  # survivors answered every request
        retries = retry_failed(election, base, load.casts)
        assert_no_vote_lost_or_doubled(election, base, load.casts, retries, before)
    # Most of the load was served (the kills cost only the requests in flight).
    assert sum(c.answer.status == 201 for c in load.casts) >= VOTERS // 2
