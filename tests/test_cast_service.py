"""The cast: atomic with the cycle's state, frozen ballots read once, SQLite for `make run`."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value

from opdigital.clock import now
from opdigital.errors import AlreadyVoted, VotingClosed
from opdigital.extensions import db
from opdigital.registry.credentials import EligibleVoter
from opdigital.voting import services
from opdigital.voting.models import Ballot, Participation, TurnoutCount
from opdigital.voting.receipts import receipt_hash
from tests.support import voting as vs


def _counts() -> tuple[int, int, int]:
    return (
        db.session.scalar(sa.select(sa.func.count()).select_from(Participation)),
        db.session.scalar(sa.select(sa.func.count()).select_from(Ballot)),
        db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(TurnoutCount.votes), 0))),
    )


def test_a_cast_writes_participation_ballot_and_turnout(app_ctx):
    world = vs.voting_cycle()
    voter = EligibleVoter(voter_key="a" * 64, region_id=None, school_id=None)
    receipt = services.cast_ballot(world.cycle, voter, [world.ids[1], world.ids[0]])
    assert _counts() == (1, 1, 1)
    ballot = db.session.scalar(sa.select(Ballot))
    assert ballot.choices == sorted(world.ids[:2])
    assert ballot.receipt_hash == receipt_hash(receipt.code)
    with pytest.raises(AlreadyVoted):
        services.cast_ballot(world.cycle, voter, world.ids[:2])
    assert _counts() == (1, 1, 1)


def test_a_vote_closed_meanwhile_writes_nothing(app_ctx):
    """The state read with the cycle may be stale: the insert itself re-checks it."""
    world = vs.voting_cycle()
    cycle = world.cycle
    db.session.execute(
        sa.text("UPDATE cycle SET state = 'closed' WHERE id = :id"), {"id": cycle.id}
    )
    db.session.commit()
    # What a request that loaded the cycle a moment ago still believes (not a pending change).
    set_committed_value(cycle, "state", "voting")
    voter = EligibleVoter(voter_key="b" * 64, region_id=None, school_id=None)
    with pytest.raises(VotingClosed):
        services.cast_ballot(cycle, voter, world.ids[:2])
    assert _counts() == (0, 0, 0)


def test_a_phase_ended_meanwhile_writes_nothing(app_ctx):
    world = vs.voting_cycle()
    voting = world.cycle.phase_of_kind("voting")
    db.session.execute(
        sa.text("UPDATE phase SET ends_at = :end WHERE id = :id"),
        {"end": now() - timedelta(seconds=1), "id": voting.id},
    )
    db.session.commit()
    set_committed_value(voting, "ends_at", now() + timedelta(days=1))  # stale, as above
    voter = EligibleVoter(voter_key="c" * 64, region_id=None, school_id=None)
    with pytest.raises(VotingClosed):
        services.cast_ballot(world.cycle, voter, world.ids[:2])
    assert _counts() == (0, 0, 0)


def test_frozen_ballots_are_read_once_and_unfrozen_ones_every_time(app_ctx):
    world = vs.voting_cycle()
    cycle = world.cycle
    assert cycle.ballot_frozen_at is None
    assert services.frozen_ballot(cycle) is not services.frozen_ballot(cycle)
    cycle.ballot_frozen_at = now()
    db.session.commit()
    first = services.frozen_ballot(cycle)
    assert services.frozen_ballot(cycle) is first
    assert [p.id for p in first.projects] == world.ids


def test_make_run_casts_on_sqlite_too(make_app, tmp_path):
    from flask_migrate import upgrade

    sqlite_app = make_app(
        "development", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'dev.sqlite3'}"
    )
    with sqlite_app.app_context():
        upgrade()
        world = vs.voting_cycle()
        voter = EligibleVoter(voter_key="d" * 64, region_id=None, school_id=None)
        services.cast_ballot(world.cycle, voter, world.ids[:2])
        services.cast_ballot(world.cycle, EligibleVoter("e" * 64, None, None), world.ids[:2])
        with pytest.raises(AlreadyVoted):
            services.cast_ballot(world.cycle, voter, world.ids[:2])
        assert _counts() == (2, 2, 2)
        # Sealing works there too (no row locks to take on SQLite, one process).
        from opdigital.board import services as board
        from opdigital.ledger import chain

        assert board.seal(world.cycle) == 2
        assert chain.check_chain(world.slug, board.board_entries(world.cycle.id)).ok
        db.session.remove()


def test_a_cycle_closed_within_the_cached_second_still_refuses_the_cast(app, client):
    """The API keeps a frozen voting cycle for a second; the cast statement still says no."""
    from opdigital.voting.cycle_cache import voting_cycle

    with app.app_context():
        world = vs.voting_cycle(ballot_frozen_at=now())
        number = vs.make_titulo(4242)
        vs.register(number)
        slug, choices = world.slug, world.ids[:2]
    first = vs.post_ballot(client, slug, vs.body(vs.make_titulo(1), choices))
    assert first.status_code == 403  # not on the roll; the cycle is now cached
    with app.app_context():
        from opdigital.cycles.queries import public_cycle

        assert voting_cycle(slug, public_cycle).state == "voting"
        db.session.execute(
            sa.text("UPDATE cycle SET state = 'closed' WHERE slug = :s"), {"s": slug}
        )
        db.session.commit()
    response = vs.post_ballot(client, slug, vs.body(number, choices))
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "voting_closed"
    with app.app_context():
        assert _counts() == (0, 0, 0)


def test_the_ballot_keeps_its_projects_after_the_result(app_ctx):
    from opdigital.voting.settings import ballot_projects

    world = vs.voting_cycle()
    world.proposals[0].status = "selected"
    world.proposals[1].status = "not_selected"
    db.session.commit()
    assert [p.id for p in ballot_projects(world.cycle)] == world.ids
