"""The direct cast layer (api/direct_cast.py): it really serves casts, answers as Flask would,
counts as Flask would, and hands Flask everything else.

Every documented answer of the endpoint is checked on both paths in test_api_ballots.py; these
tests check what only the layer itself can get wrong.
"""

from __future__ import annotations

import logging
from datetime import date

import pytest
import redis
import sqlalchemy as sa
from flask import request_started

from opdigital.clock import now
from opdigital.extensions import db, limiter
from opdigital.voting.models import Participation
from tests.support import factories
from tests.support import voting as vs
from tests.support.live import free_port
from tests.support.voting_web import identify


@pytest.fixture
def election(app_ctx):
    region = factories.region(slug="leste", name="Leste")
    world = vs.voting_cycle(ballot_frozen_at=now())  # frozen: each process keeps a copy
    world.voters = [vs.make_titulo(300 + n) for n in range(6)]
    for number in world.voters:
        vs.register(number, region=region)
    return world


@pytest.fixture
def dispatched(app):
    """How many requests went through Flask's dispatch (`request_started`)."""
    seen = []

    def record(sender, **extra):
        seen.append(1)

    request_started.connect(record, app)
    yield seen
    request_started.disconnect(record, app)


def _cast(client, election, n: int, **kwargs):
    return vs.post_ballot(
        client, election.slug, vs.body(election.voters[n], election.ids[:2]), **kwargs
    )


def test_accepted_casts_do_not_go_through_flask(client, election, dispatched):
    assert _cast(client, election, 0).status_code == 201
    assert _cast(client, election, 1).status_code == 201
    assert dispatched == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Participation)) == 2


def test_refusals_before_counting_are_answered_by_flask(client, election, dispatched):
    wrong_ballot = vs.body(election.voters[0], election.ids[:1])  # too few choices
    assert vs.post_ballot(client, election.slug, wrong_ballot).status_code == 422
    assert vs.post_ballot(client, "no-such-cycle", wrong_ballot).status_code == 404
    assert len(dispatched) == 2


def test_requests_it_does_not_take_go_to_flask(client, election, dispatched):
    payload = vs.body(election.voters[0], election.ids[:2])
    path = f"/api/v1/cycles/{election.slug}/ballots"
    assert client.post(f"{path}?lang=en", json=payload).status_code == 201
    as_text = client.post(path, data=b"{}", headers={"Content-Type": "text/plain"})
    assert as_text.status_code == 400
    assert len(dispatched) == 2


def _answers(client, election, first: int, settings, direct: bool):
    settings(DIRECT_CAST=direct)
    voter = election.voters[first]
    return {
        "created": _cast(client, election, first),
        "already_voted": _cast(client, election, first),
        "not_eligible": vs.post_ballot(
            client, election.slug, vs.body(voter, election.ids[:2], date(1901, 1, 1))
        ),
        "unknown_voter": vs.post_ballot(
            client, election.slug, vs.body(vs.make_titulo(999), election.ids[:2])
        ),
    }


def test_answers_after_counting_match_the_flask_view_byte_for_byte(
    client, election, settings, dispatched
):
    direct = _answers(client, election, 0, settings, direct=True)
    assert dispatched == []  # all four answered by the layer (errors through Flask's handlers)
    flask = _answers(client, election, 1, settings, direct=False)
    for name, answer in direct.items():
        other = flask[name]
        assert answer.status_code == other.status_code, name
        assert sorted(answer.headers.items()) == sorted(other.headers.items()), name
        if name != "created":  # receipts differ, of course; their shape does not
            assert answer.data == other.data, name
    assert set(direct["created"].get_json()) == {"receipt"}
    assert [a.status_code for a in direct.values()] == [201, 409, 403, 403]


def test_client_limit_is_shared_with_the_web_pages(client, election, settings):
    # One allowance per address across channels: two casts here, the identification page
    # then finds the window full.
    settings(VOTE_LIMIT_PER_IP="2 per minute")
    assert _cast(client, election, 0).status_code == 201
    assert _cast(client, election, 1).status_code == 201
    page = identify(client, election, election.voters[2])
    assert page.status_code == 429
    assert 1 <= int(page.headers["Retry-After"]) <= 60


def test_store_outage_counts_in_this_process_and_votes_go_on(
    app, client, election, settings, monkeypatch, caplog
):
    settings(VOTE_LIMIT_PER_IP="2 per minute")

    # The store's connections now go to a port where nothing listens.
    pool = limiter.storage.get_connection().connection_pool
    monkeypatch.setitem(pool.connection_kwargs, "port", free_port())
    pool.reset()
    try:
        with caplog.at_level(logging.WARNING, logger="opdigital.attempt_limits"):
            assert _cast(client, election, 0).status_code == 201
            assert _cast(client, election, 1).status_code == 201
            limited = _cast(client, election, 2)
    finally:
        monkeypatch.undo()
        pool.reset()  # connections made meanwhile keep the dead port
    assert limited.status_code == 429  # the limit held, per process
    assert limited.get_json()["error"]["code"] == "rate_limited"
    assert "Rate-limit store unreachable" in caplog.text
    shared = redis.Redis.from_url(app.config["RATELIMIT_STORAGE_URI"])
    assert not shared.keys(f"*{app.config['RATELIMIT_KEY_PREFIX']}/vote-address/*")


def test_behind_a_proxy_the_forwarded_address_is_counted(app, make_app, election, database_url):
    proxied = make_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=database_url,
        RATELIMIT_STORAGE_URI=app.config["RATELIMIT_STORAGE_URI"],
        RATELIMIT_KEY_PREFIX=app.config["RATELIMIT_KEY_PREFIX"],
        PROXY_COUNT=1,
        VOTE_LIMIT_PER_IP="1 per minute",
    )
    client = proxied.test_client()
    for n, address in enumerate(["198.51.100.1", "198.51.100.2"]):
        forwarded = {"X-Forwarded-For": address}
        assert _cast(client, election, n, headers=forwarded).status_code == 201
    again = _cast(client, election, 2, headers={"X-Forwarded-For": "198.51.100.1"})
    assert again.status_code == 429


@pytest.mark.parametrize(
    "failing", ["opdigital.voting.limits._active_points", "opdigital.voting.services.run_alone"]
)
def test_database_failure_is_a_503_with_retry_after(client, election, monkeypatch, failing):
    def down(*args, **kwargs):
        raise sa.exc.OperationalError("SELECT 1", {}, Exception("server closed the connection"))

    # A warm process (cycle and voting points cached), holding no transaction: as in production,
    # the cast statement runs alone on a pooled connection (direct_sql.run_alone).
    assert _cast(client, election, 5).status_code == 201
    db.session.commit()
    monkeypatch.setattr(failing, down)
    response = _cast(client, election, 0)
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "unavailable"
    assert response.headers["Retry-After"] == "5"
    assert response.headers["Cache-Control"] == "no-store"


def test_warm_casts_run_alone_in_autocommit(client, election, monkeypatch):
    from opdigital.voting import services

    calls = []
    run_alone = services.run_alone

    def spy(statement, values):
        calls.append(values["voter_key"])
        return run_alone(statement, values)

    assert _cast(client, election, 5).status_code == 201  # warms the caches
    db.session.commit()
    monkeypatch.setattr(services, "run_alone", spy)
    assert _cast(client, election, 0).status_code == 201
    assert calls == [vs.key_of(election.voters[0])]
    # Committed by itself: another connection sees it at once.
    with db.engine.connect() as other:
        stored = other.scalar(
            sa.select(sa.func.count())
            .select_from(Participation)
            .where(Participation.voter_key == calls[0])
        )
    assert stored == 1
    # A second cast by the same voter goes the same way and is refused by the database.
    assert _cast(client, election, 0).status_code == 409
