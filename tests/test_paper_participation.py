"""The paper list: one vote per citizen across paper and online, both ways, web and API."""

from __future__ import annotations

import sqlalchemy as sa

from opdigital.extensions import db
from opdigital.voting.models import Ballot, Participation, TurnoutCount
from tests.support import paper as ps
from tests.support import voting as vs
from tests.support.client import english_client, post_form


def _record(client, world, number, birth=vs.BIRTH):
    return post_form(
        client,
        ps.point_url(world, "participation"),
        {"titulo": number, "birth_date": birth.isoformat()},
    )


def _participations(app) -> list[Participation]:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(Participation)))
        db.session.expunge_all()
        return rows


def _identify_online(app, world, number):
    client = english_client(app)
    url = f"/ciclos/{world.slug}/votar"
    return post_form(client, url, {"titulo": number, "birth_date": vs.BIRTH.isoformat()})


def test_a_paper_voter_is_recorded_once_and_refused_online_web_and_api(app):
    world = ps.paper_world(app, voters=2)
    client = ps.client_of(app, world.worker)
    response = _record(client, world, vs.pretty(world.voters[0]))
    assert response.status_code == 303
    page = client.get(response.headers["Location"])
    assert "Recorded on the paper list" in page.get_data(as_text=True)
    [row] = _participations(app)
    assert row.on_paper and not row.assisted
    assert row.voting_point_id == world.point_id
    assert row.region_id == world.region_id
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Ballot)) == 0
        assert db.session.scalar(sa.select(sa.func.sum(TurnoutCount.votes))) == 1

    # The same voter again on paper: 409, a clear page, nothing more written.
    again = _record(client, world, world.voters[0])
    assert again.status_code == 409
    assert "This voter has already voted" in again.get_data(as_text=True)
    assert "Do not hand them a sheet" in again.get_data(as_text=True)
    assert world.voters[0] not in again.get_data(as_text=True)  # never echoed

    # Online, on the web flow: the already-voted page.
    online = _identify_online(app, world, world.voters[0])
    assert online.status_code == 409
    assert "You have already voted in this cycle" in online.get_data(as_text=True)
    # Through the API: 409 already_voted, no ballot.
    with app.app_context():
        api = vs.post_ballot(app.test_client(), world.slug, vs.body(world.voters[0], world.ids[:2]))
        assert api.status_code == 409
        assert api.get_json()["error"]["code"] == "already_voted"
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Ballot)) == 0
    assert len(_participations(app)) == 1


def test_an_online_voter_is_refused_on_paper_api_and_web(app):
    world = ps.paper_world(app, voters=2)
    with app.app_context():
        api = vs.post_ballot(app.test_client(), world.slug, vs.body(world.voters[0], world.ids[:2]))
        assert api.status_code == 201
    client = ps.client_of(app, world.worker)
    response = _record(client, world, world.voters[0])
    assert response.status_code == 409
    assert "This voter has already voted" in response.get_data(as_text=True)
    [row] = _participations(app)
    assert not row.on_paper  # the online vote stands, unchanged

    # The other voter votes online through the web flow, then comes to the point.
    from tests.support.voting_web import confirm, post_ballot

    browser = english_client(app)
    web_world = type("W", (), {"slug": world.slug})
    first = post_form(
        browser,
        f"/ciclos/{world.slug}/votar",
        {"titulo": world.voters[1], "birth_date": vs.BIRTH.isoformat()},
    )
    assert first.status_code == 303
    assert post_ballot(browser, web_world, [str(i) for i in world.ids[:2]]).status_code == 303
    assert confirm(browser, web_world).status_code == 303
    refused = _record(client, world, world.voters[1])
    assert refused.status_code == 409
    assert len(_participations(app)) == 2


def test_not_in_the_roll_gets_the_one_answer(app):
    world = ps.paper_world(app, voters=1)
    client = ps.client_of(app, world.worker)
    response = _record(client, world, vs.make_titulo(999))
    assert response.status_code == 403
    wrong_birth = _record(client, world, world.voters[0], birth=vs.BIRTH.replace(year=1970))
    assert wrong_birth.status_code == 403
    assert _participations(app) == []


def test_only_the_points_poll_workers_keep_its_list_while_it_is_open(app):
    world = ps.paper_world(app, voters=1, open_point=False)
    worker = ps.client_of(app, world.worker)
    closed = worker.get(ps.point_url(world, "participation"))
    assert closed.status_code == 409
    assert "This voting point is closed" in closed.get_data(as_text=True)
    stranger = ps.client_of(app, world.stranger)
    assert stranger.get(ps.point_url(world, "participation")).status_code == 403
    coordinator = ps.client_of(app, world.coordinator)
    assert coordinator.get(ps.point_url(world, "participation")).status_code == 403
    assert _participations(app) == []


def test_the_voting_window_holds_for_paper_too(app):
    world = ps.paper_world(app, voters=1)
    with app.app_context():
        from opdigital.cycles.models import Cycle

        db.session.get(Cycle, world.cycle_id).state = "closed"
        db.session.commit()
    client = ps.client_of(app, world.worker)
    response = client.get(ps.point_url(world, "participation"))
    assert response.status_code == 403
    assert "Voting is not open" in response.get_data(as_text=True)
