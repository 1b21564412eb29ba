"""One vote per citizen and shared rate limits across real app processes; Redis may fail.

These tests start gunicorn (several workers, and two separate servers) against this run's
database, so every guarantee is checked where it matters: between processes.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest
import redis
import sqlalchemy as sa

from opdigital.clock import now
from opdigital.extensions import db
from opdigital.registry.keys import voter_key
from opdigital.registry.models import RegistryEntry
from opdigital.voting.models import Ballot, Participation
from tests.support import factories
from tests.support.live import free_port, gunicorn, request, server_log

BIRTH = date(1980, 5, 17)


def _titulos(n: int) -> list[str]:
    from validate_docbr import TituloEleitoral

    generator, seen = TituloEleitoral(), set()
    while len(seen) < n:
        seen.add(generator.generate())
    return sorted(seen)


@pytest.fixture
def election(app):
    """An open one-choice cycle with three proposals and a roll of 40 voters."""
    titulos = _titulos(40)
    with app.app_context():
        start = now() - timedelta(days=1)
        cycle = factories.cycle(
            slug="op-digital-processos",
            state="voting",
            ballot_rule="one-city-wide",
            phases=[("voting", start, start + timedelta(days=10))],
        )
        proposals = [factories.proposal(cycle, status="on_ballot") for _ in range(3)]
        pepper = app.config["VOTER_KEY_PEPPER"]
        db.session.add_all(
            RegistryEntry(scope="city", voter_key=voter_key(t, pepper), birth_date=BIRTH)
            for t in titulos
        )
        db.session.commit()
        info = {"slug": cycle.slug, "id": cycle.id, "choice": proposals[0].id, "titulos": titulos}
    return info


def _ballot(election, titulo: str) -> dict:
    return {
        "credentials": {"titulo": titulo, "birth_date": BIRTH.isoformat()},
        "choices": [election["choice"]],
    }


def _env(database_url: str, redis_url: str, **settings: str) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "RATELIMIT_STORAGE_URI": redis_url,
        "RATELIMIT_KEY_PREFIX": f"opdigital-live-{free_port()}",
        # The concurrency test fires 200 requests from one address: lift the per-IP limit, and
        # the failure limits, under which one voter's right credentials sent 200 times at once
        # are held back while in flight (attempt_limits.INFLIGHT_SECONDS).
        "VOTE_LIMIT_PER_IP": "10000 per minute",
        "VOTER_FAILURES_PER_CLIENT_AND_CREDENTIAL": "10000 per minute",
        "VOTER_FAILURES_PER_CREDENTIAL": "10000 per minute",
    } | settings


def _counts(app, cycle_id: int) -> tuple[int, int]:
    with app.app_context():
        participations = db.session.scalar(
            sa.select(sa.func.count()).where(Participation.cycle_id == cycle_id)
        )
        ballots = db.session.scalar(sa.select(sa.func.count()).where(Ballot.cycle_id == cycle_id))
        db.session.remove()
    return participations, ballots


def test_200_concurrent_casts_for_one_voter_across_processes(
    app, database_url, redis_url, election
):
    env = _env(database_url, redis_url)
    with gunicorn(env, workers=2) as first, gunicorn(env | {}, workers=2) as second:
        urls = [f"{base}/api/v1/cycles/{election['slug']}/ballots" for base in (first, second)]
        body = _ballot(election, election["titulos"][0])
        with ThreadPoolExecutor(max_workers=32) as pool:
            statuses = list(pool.map(lambda i: request("POST", urls[i % 2], body)[0], range(200)))
    assert statuses.count(201) == 1
    assert statuses.count(409) == 199
    assert _counts(app, election["id"]) == (1, 1)


def test_rate_limit_is_shared_by_two_processes(app, database_url, redis_url, election):
    env = _env(database_url, redis_url, VOTE_LIMIT_PER_IP="6 per minute")
    with gunicorn(env, workers=1) as first, gunicorn(env, workers=1) as second:
        statuses = []
        for i, titulo in enumerate(election["titulos"][:10]):
            base = (first, second)[i % 2]
            url = f"{base}/api/v1/cycles/{election['slug']}/ballots"
            status, headers, _body = request("POST", url, _ballot(election, titulo))
            statuses.append(status)
            if status == 429:
                assert int(headers["Retry-After"]) > 0
    # Six requests in all were allowed, whichever process served them; the rest were refused.
    assert statuses[:6] == [201] * 6
    assert statuses[6:] == [429] * 4


@pytest.fixture
def own_redis():
    """A Redis server of this test's own, so it can be stopped without disturbing the others."""
    server = shutil.which("redis-server")
    assert server, "redis-server is needed for this test"
    port = free_port()
    command = [
        server,
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
    ]

    def start() -> subprocess.Popen:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL)  # noqa: S603
        client = redis.Redis(port=port)
        for _ in range(50):
            try:
                client.ping()
                return process
            except redis.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError("redis-server did not start")

    state = {"process": start(), "url": f"redis://127.0.0.1:{port}/0", "start": start}
    yield state
    state["process"].terminate()
    state["process"].wait()


def test_voting_goes_on_when_redis_stops_and_limits_resume(app, database_url, election, own_redis):
    env = _env(
        database_url,
        own_redis["url"],
        VOTE_LIMIT_PER_IP="1000 per minute",
        RECEIPT_LOOKUP_LIMIT_PER_IP="1000 per minute",
    )
    titulos = iter(election["titulos"])
    with gunicorn(env, workers=1) as base:
        url = f"{base}/api/v1/cycles/{election['slug']}/ballots"
        assert request("POST", url, _ballot(election, next(titulos)))[0] == 201
        assert request("GET", f"{base}/healthz")[2]["redis"] == "ok"

        own_redis["process"].terminate()
        own_redis["process"].wait()
        # Votes are still accepted (the database enforces one vote); limits run per process.
        assert request("POST", url, _ballot(election, next(titulos)))[0] == 201
        voter = next(titulos)
        assert request("POST", url, _ballot(election, voter))[0] == 201
        assert request("POST", url, _ballot(election, voter))[0] == 409
        status, _headers, health = request("GET", f"{base}/healthz")
        assert (status, health["redis"]) == (503, "down")

        own_redis["process"] = own_redis["start"]()
        assert request("POST", url, _ballot(election, next(titulos)))[0] == 201
        assert request("GET", f"{base}/healthz")[2]["redis"] == "ok"
        # The shared store comes back in use: casts count there again a few seconds later
        # (attempt_limits.py), and Flask-Limiter's limits (receipt lookups) use it too.
        shared = redis.Redis.from_url(own_redis["url"])
        lookup = f"{base}/api/v1/cycles/{election['slug']}/receipts"
        unknown = {"receipt": "AAAA-BBBB-CCCC-DDDD"}
        accepted = 4
        deadline = time.monotonic() + 60
        while not shared.keys("*vote-address*"):
            assert time.monotonic() < deadline, "casts never counted in Redis again"
            time.sleep(1)
            assert request("POST", url, _ballot(election, next(titulos)))[0] == 201
            accepted += 1
        while not shared.keys("*/127.0.0.1/*"):  # Flask-Limiter keys hold the address
            assert time.monotonic() < deadline, "the lookup limits never came back to Redis"
            assert request("POST", lookup, unknown)[0] == 404
            time.sleep(0.5)
        log = server_log(base)
    assert "WARNING opdigital.attempt_limits Rate-limit store unreachable" in log
    assert "WARNING opdigital.health.checks Health check: Redis unreachable" in log
    assert _counts(app, election["id"]) == (accepted, accepted)
