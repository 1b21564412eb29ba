"""Votes are accepted from the voting phase's first instant up to, not including, its end."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from opdigital.extensions import db
from opdigital.voting.models import Ballot, Participation
from tests.support import voting as vs
from tests.support.api import assert_matches_spec

PATH = vs.ballot_path()
SECOND = timedelta(seconds=1)


@pytest.fixture
def election(app_ctx):
    """A cycle voting from VOTING_OPENS to VOTING_CLOSES, and four voters on the roll."""
    world = vs.voting_cycle(opens=vs.VOTING_OPENS, closes=vs.VOTING_CLOSES)
    world.voters = [vs.make_titulo(300 + n) for n in range(4)]
    for number in world.voters:
        vs.register(number)
    return world


def _cast(client, world, number, time_machine, at):
    time_machine.move_to(at, tick=False)
    return vs.post_ballot(client, world.slug, vs.body(number, world.ids[:2]))


def _votes() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Participation))


def _closed(response) -> None:
    assert_matches_spec(response, PATH, "post", 403)
    assert response.get_json()["error"]["code"] == "voting_closed"


def test_one_second_before_opening_is_refused(client, election, time_machine):
    _closed(_cast(client, election, election.voters[0], time_machine, vs.VOTING_OPENS - SECOND))
    assert _votes() == 0


def test_the_opening_instant_is_accepted(client, election, time_machine):
    response = _cast(client, election, election.voters[0], time_machine, vs.VOTING_OPENS)
    assert_matches_spec(response, PATH, "post", 201)
    assert _votes() == 1


def test_one_second_before_the_end_is_accepted(client, election, time_machine):
    first = _cast(client, election, election.voters[0], time_machine, vs.VOTING_OPENS)
    assert_matches_spec(first, PATH, "post", 201)
    last = _cast(client, election, election.voters[1], time_machine, vs.VOTING_CLOSES - SECOND)
    assert_matches_spec(last, PATH, "post", 201)
    assert _votes() == 2
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Ballot)) == 2


@pytest.mark.parametrize("after", [timedelta(0), SECOND, timedelta(days=1)])
def test_at_and_after_the_end_is_refused(client, election, time_machine, after):
    _closed(_cast(client, election, election.voters[2], time_machine, vs.VOTING_CLOSES + after))
    assert _votes() == 0


def test_the_voted_day_is_the_city_date(client, election, time_machine):
    # 23:59:59 in Belo Horizonte on 14 November is already the 15th in UTC.
    late = vs.VOTING_CLOSES.replace(day=15, hour=2, minute=59, second=59)
    assert_matches_spec(
        _cast(client, election, election.voters[0], time_machine, late), PATH, "post", 201
    )
    voted_on = db.session.scalar(sa.select(Participation.voted_on))
    assert voted_on.isoformat() == "2026-11-14"


@pytest.mark.parametrize("state", ["ballot_frozen", "closed", "tallied"])
def test_a_cycle_not_in_the_voting_state_refuses_even_inside_the_phase(
    client, election, time_machine, state
):
    election.cycle.state = state
    db.session.commit()
    middle = vs.VOTING_OPENS + (vs.VOTING_CLOSES - vs.VOTING_OPENS) / 2
    _closed(_cast(client, election, election.voters[3], time_machine, middle))
    assert _votes() == 0


def test_closed_voting_is_answered_before_identification(client, election, time_machine, app):
    """A closed cycle says so without checking credentials: no failed attempt is counted."""
    saved = app.config["VOTER_FAILURES_PER_CLIENT_AND_CREDENTIAL"]
    app.config["VOTER_FAILURES_PER_CLIENT_AND_CREDENTIAL"] = "1 per 15 minutes"
    try:
        wrong = vs.body(election.voters[0], election.ids[:2], "2001-01-01")
        time_machine.move_to(vs.VOTING_OPENS - SECOND, tick=False)
        for _ in range(3):
            _closed(vs.post_ballot(client, election.slug, wrong))
        response = _cast(client, election, election.voters[0], time_machine, vs.VOTING_OPENS)
        assert_matches_spec(response, PATH, "post", 201)
    finally:
        app.config["VOTER_FAILURES_PER_CLIENT_AND_CREDENTIAL"] = saved
