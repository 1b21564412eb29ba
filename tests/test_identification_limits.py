"""Failed identifications: no one can keep a voter out, and guessing a birth date stays hopeless.

docs/security.md, "Failed identifications", states the limits and what they cost an attacker;
these tests check each limit on the API (both cast paths) and the web form, the IPv6 grouping,
the city-wide ceiling and its escape through a staffed voting point, the counts on the turnout
screen, and that a successful identification leaves nothing in Redis.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
import redis

from opdigital.attempt_limits import INFLIGHT_SECONDS, REPEATED_FAILURES
from opdigital.extensions import db
from opdigital.settings import Base
from opdigital.voting.limits import failures_under_watch, forget_voting_points
from tests.support import factories
from tests.support import voting as vs
from tests.support.client import at_once, login_as
from tests.support.voting_web import build_world, english_client, identify

WRONG_BIRTH = date(2000, 1, 1)
DOCS = Path(__file__).resolve().parent.parent / "docs" / "security.md"


@pytest.fixture
def election(app_ctx):
    return vs.two_voters(301)


def _cast(client, election, titulo, *, birth=vs.BIRTH, address="127.0.0.1", token=None):
    payload = vs.body(titulo, election.ids[:2], birth)
    return vs.post_ballot(
        client, election.slug, payload, token=token, environ_base={"REMOTE_ADDR": address}
    )


def _store(app) -> redis.Redis:
    return redis.Redis.from_url(app.config["RATELIMIT_STORAGE_URI"])


def _keys(app, scope: str) -> list[str]:
    pattern = f"*{app.config['RATELIMIT_KEY_PREFIX']}/{scope}/*"
    return [key.decode() for key in _store(app).scan_iter(pattern)]


# --- the API --------------------------------------------------------------------------------


def test_guesses_from_elsewhere_never_keep_the_voter_out(app, client, election, cast_path):
    # Far past every per-address limit, from the attacker's address.
    for _ in range(12):
        _cast(client, election, election.voter, birth=WRONG_BIRTH, address="203.0.113.66")
    assert _cast(client, election, election.voter, address="203.0.113.66").status_code == 429
    assert _cast(client, election, election.voter, address="198.51.100.20").status_code == 201


def test_an_address_failing_with_many_credentials_is_paused(client, election, settings, cast_path):
    settings(VOTER_FAILURES_PER_ADDRESS="3 per hour")
    for n in range(3):  # three títulos tried, none right
        stranger = vs.make_titulo(900 + n)
        assert _cast(client, election, stranger, address="203.0.113.7").status_code == 403
    paused = _cast(client, election, election.voter, address="203.0.113.7")
    assert paused.status_code == 429
    assert "a partir desta conexão" in paused.get_json()["error"]["message"]  # pt-BR first
    assert 3000 < int(paused.headers["Retry-After"]) <= 3600
    # The voter from any other connection is not affected.
    assert _cast(client, election, election.voter, address="198.51.100.3").status_code == 201


def test_the_city_wide_ceiling_pauses_a_credential_online_but_not_at_a_voting_point(
    app, client, election, settings, cast_path
):
    settings(
        VOTER_FAILURES_PER_CLIENT_AND_CREDENTIAL="2 per day",
        VOTER_FAILURES_PER_CREDENTIAL="6 per day",
    )
    for address in ("203.0.113.1", "203.0.113.2", "203.0.113.3"):
        for _ in range(2):
            answer = _cast(client, election, election.voter, birth=WRONG_BIRTH, address=address)
            assert answer.status_code == 403
    # Six failures from three places: the ceiling. Now the voter is paused online...
    paused = _cast(client, election, election.voter, address="198.51.100.20")
    assert paused.status_code == 429
    message = paused.get_json()["error"]["message"]
    assert "de vários lugares" in message and "ponto público de votação" in message
    assert 80_000 < int(paused.headers["Retry-After"]) <= 86_400
    # ...another voter is not...
    assert _cast(client, election, election.other, address="198.51.100.20").status_code == 201
    # ...and at a staffed voting point they vote.
    vs.voting_point("kiosk-token", region=election.region)
    forget_voting_points()
    at_point = _cast(client, election, election.voter, token="kiosk-token")
    assert at_point.status_code == 201


def test_failures_at_a_voting_point_do_not_count_towards_the_ceiling(
    client, election, settings, cast_path
):
    settings(
        VOTER_FAILURES_PER_CLIENT_AND_CREDENTIAL="2 per day",
        VOTER_FAILURES_PER_CREDENTIAL="2 per day",
    )
    vs.voting_point("kiosk-token", region=election.region)
    forget_voting_points()
    for _ in range(2):
        answer = _cast(client, election, election.voter, birth=WRONG_BIRTH, token="kiosk-token")
        assert answer.status_code == 403
    assert _cast(client, election, election.voter, token="kiosk-token").status_code == 429
    assert _cast(client, election, election.voter, address="198.51.100.20").status_code == 201


def test_an_ipv6_network_is_one_client(client, election, settings, cast_path):
    settings(VOTER_FAILURES_PER_CLIENT_AND_CREDENTIAL="3 per 15 minutes")
    home = "2001:db8:1:2::"
    for suffix in ("1", "2", "abcd:ef01"):  # three addresses of one /64
        answer = _cast(client, election, election.voter, birth=WRONG_BIRTH, address=home + suffix)
        assert answer.status_code == 403
    again = _cast(client, election, election.voter, address=home + "ffff:1:2")
    assert again.status_code == 429
    # The next /64 is another client.
    assert _cast(client, election, election.voter, address="2001:db8:1:3::1").status_code == 201


def test_the_flood_limit_counts_an_ipv6_network_too(client, election, settings, cast_path):
    settings(VOTE_LIMIT_PER_IP="2 per minute")
    for n, suffix in enumerate(("1", "2")):
        assert (
            _cast(
                client, election, vs.make_titulo(700 + n), address=f"2001:db8:9:9::{suffix}"
            ).status_code
            == 403
        )
    assert _cast(client, election, election.voter, address="2001:db8:9:9::3").status_code == 429


def test_parallel_guesses_get_no_more_tries_than_the_limit(app, election, settings, cast_path):
    settings(VOTER_FAILURES_PER_CLIENT_AND_CREDENTIAL="4 per 15 minutes")
    payload = vs.body(election.voter, election.ids[:2], WRONG_BIRTH)

    def guess(client) -> int:
        return vs.post_ballot(client, election.slug, payload).status_code

    db.session.remove()
    assert sorted(at_once(16, app.test_client, guess)) == [403] * 4 + [429] * 12


def _counters(app, scope: str) -> list[str]:
    """The failure counters of a scope (not the markers of attempts in flight, nor the turnout
    screen's sets)."""
    return [k for k in _keys(app, scope) if ":LIMITER/" in k and not k.endswith("/inflight")]


def test_a_first_try_vote_leaves_no_counter_in_the_store(app, client, election, cast_path):
    assert _cast(client, election, election.voter).status_code == 201
    for scope in ("voter-client-credential", "voter-address-failures", "voter-credentials"):
        assert _counters(app, scope) == [], scope
        # Only the attempt's place in flight, gone within seconds: nothing dates the vote.
        for marker in _keys(app, scope):
            assert 0 < _store(app).ttl(marker) <= INFLIGHT_SECONDS
    # A voter who had mistyped once: their failure from this client is forgotten by the
    # success, the others' counts stay what they were (one failure), with their own clocks.
    assert _cast(client, election, election.other, birth=WRONG_BIRTH).status_code == 403
    [ceiling] = [k for k in _counters(app, "voter-credentials") if k.endswith("/1/day")]
    ttl_before = _store(app).ttl(ceiling)
    assert _cast(client, election, election.other).status_code == 201
    assert _counters(app, "voter-client-credential") == []  # forgotten
    assert int(_store(app).get(ceiling)) == 1
    assert _store(app).ttl(ceiling) <= ttl_before


def test_right_credentials_are_never_counted_as_failures(app, client, election, cast_path):
    assert _cast(client, election, election.voter).status_code == 201
    assert _cast(client, election, election.voter).status_code == 409  # right, already voted
    for scope in ("voter-client-credential", "voter-address-failures", "voter-credentials"):
        assert _counters(app, scope) == [], scope


# --- the web form ---------------------------------------------------------------------------


def test_web_identification_follows_the_same_limits(app, settings):
    settings(
        VOTER_FAILURES_PER_CLIENT_AND_CREDENTIAL="2 per day",
        VOTER_FAILURES_PER_CREDENTIAL="4 per day",
    )
    world = build_world(app)
    titulo = world.voters[0]
    for address in ("203.0.113.1", "203.0.113.2"):
        attacker = english_client(app)
        attacker.environ_base["REMOTE_ADDR"] = address
        for _ in range(2):
            assert identify(attacker, world, titulo, birth=WRONG_BIRTH).status_code == 403
        assert identify(attacker, world, titulo).status_code == 429
    voter = english_client(app)
    voter.environ_base["REMOTE_ADDR"] = "198.51.100.9"
    paused = identify(voter, world, titulo)
    assert paused.status_code == 429
    page = paused.get_data(as_text=True)
    assert "from several places" in page and "public voting point" in page
    # A first-try success on the web leaves nothing either.
    other = english_client(app)
    assert identify(other, world, world.voters[1]).status_code == 303
    assert len(_counters(app, "voter-credentials")) == 1  # the paused título's only


def test_turnout_screen_counts_credentials_under_repeated_failure(app, settings):
    settings(
        VOTER_FAILURES_PER_CLIENT_AND_CREDENTIAL="100 per day",
        VOTER_FAILURES_PER_CREDENTIAL="8 per day",
    )
    world = build_world(app)
    attacker = english_client(app)
    for _ in range(REPEATED_FAILURES):
        assert identify(attacker, world, world.voters[0], birth=WRONG_BIRTH).status_code == 403
    for _ in range(8):
        assert identify(attacker, world, world.voters[1], birth=WRONG_BIRTH).status_code == 403
    for _ in range(REPEATED_FAILURES - 1):
        assert identify(attacker, world, world.voters[2], birth=WRONG_BIRTH).status_code == 403
    coordinator = english_client(app)
    with app.app_context():
        login_as(coordinator, factories.user("coordinator"))
    page = coordinator.get(f"/staff/cycles/{world.slug}/turnout").get_data(as_text=True)
    section = page.split('id="failures-title"', 1)[1].split("</section>", 1)[0]
    counts = re.findall(r"<dd>(\d+)</dd>", section)
    assert counts == ["2", "1"]  # two títulos under repeated failure, one at its ceiling
    for titulo in world.voters[:3]:
        assert titulo not in page


# --- what the defaults cost an attacker (docs/security.md) ----------------------------------


def _most_per(setting: str, seconds: int) -> int:
    """The most failures the windows of `setting` allow in `seconds`."""
    from limits import parse_many

    return min(item.amount * -(-seconds // item.get_expiry()) for item in parse_many(setting))


def test_the_defaults_give_the_costs_stated_in_the_docs():
    day, vote = 24 * 3600, 40 * 24 * 3600  # a vote of 40 days, as in 2006
    one_address_day = _most_per(Base.VOTER_FAILURES_PER_CLIENT_AND_CREDENTIAL, day)
    one_address_vote = _most_per(Base.VOTER_FAILURES_PER_CLIENT_AND_CREDENTIAL, vote)
    ceiling_day = _most_per(Base.VOTER_FAILURES_PER_CREDENTIAL, day)
    ceiling_vote = _most_per(Base.VOTER_FAILURES_PER_CREDENTIAL, vote)
    many_vote = min(1000 * one_address_vote, ceiling_vote)
    assert (one_address_day, one_address_vote) == (10, 60)
    assert (ceiling_day, ceiling_vote, many_vote) == (50, 200, 200)
    docs = " ".join(DOCS.read_text().split())  # lines wrap anywhere
    # The figures the page states come from these defaults.
    for figure in (
        f"{one_address_day} guesses a day",
        f"{one_address_vote} guesses in a 40-day vote",
        f"{100 * one_address_vote / 29_200:.1f} %",
        f"{ceiling_day} guesses a day",
        f"{many_vote} in a 40-day vote",
        f"{100 * many_vote / 29_200:.1f} %",
    ):
        assert figure in docs, figure


def test_a_ceiling_below_the_repeated_mark_still_shows_as_paused(app, settings):
    # The "paused" count follows the ceiling itself, even one set lower than the "repeated" mark.
    settings(
        VOTER_FAILURES_PER_CLIENT_AND_CREDENTIAL="100 per day",
        VOTER_FAILURES_PER_CREDENTIAL="3 per day",
    )
    world = build_world(app)
    attacker = english_client(app)
    for _ in range(3):
        assert identify(attacker, world, world.voters[0], birth=WRONG_BIRTH).status_code == 403
    with app.app_context():
        assert failures_under_watch() == (0, 1)
