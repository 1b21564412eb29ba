"""The coordinators' turnout screen: counts of who voted, never what, unless totals are shown."""

from __future__ import annotations

import pytest

from opdigital.extensions import db
from opdigital.voting.limits import token_hash
from opdigital.voting.models import VotingPoint
from tests.support import factories
from tests.support.client import login_as
from tests.support.pages import page_problems
from tests.support.voting_web import build_world, english_client, region_field, vote


def _staff(app, role="coordinator"):
    client = english_client(app)
    with app.app_context():
        login_as(client, factories.user(role))
    return client


def _choices(world):
    return {region_field(r): str(world.proposals[i][0]) for i, r in enumerate(world.regions)}


def _cast_three(app, world):
    """Two votes online (region 0 and 1 voters), one at a voting point (region 0 voter)."""
    with app.app_context():
        point = VotingPoint(name="CRAS Venda Nova", device_token_hash=token_hash("kiosk"))
        db.session.add(point)
        db.session.commit()
    for index in (0, 1):
        assert (
            vote(english_client(app), world, world.voters[index], _choices(world)).status_code
            == 303
        )
    kiosk = english_client(app)
    headers = {"X-Voting-Point-Token": "kiosk"}
    assert vote(kiosk, world, world.voters[2], _choices(world), headers=headers).status_code == 303


@pytest.mark.parametrize(
    "role, status", [(None, 302), ("auditor", 403), ("coordinator", 200), ("admin", 200)]
)
def test_access_by_role(app, role, status):
    world = build_world(app)
    client = _staff(app, role) if role else app.test_client()
    assert client.get(f"/staff/cycles/{world.slug}/turnout").status_code == status


def test_unknown_cycle_is_404(app):
    assert _staff(app).get("/staff/cycles/nope/turnout").status_code == 404


def test_turnout_counts_without_partial_results(app):
    world = build_world(app, voters=8)
    _cast_three(app, world)
    html = _staff(app).get(f"/staff/cycles/{world.slug}/turnout").get_data(as_text=True)
    assert "3 votes" in html
    # Region 0: 2 of its 4 registered voters; region 1: 1 of 4.
    first = html.split(f'<th scope="row">{world.region_names[0]}</th>', 1)[1].split("</tr>", 1)[0]
    assert (
        '<td class="num">2</td>' in first and '<td class="num">4</td>' in first and "50.0%" in first
    )
    second = html.split(f'<th scope="row">{world.region_names[1]}</th>', 1)[1].split("</tr>", 1)[0]
    assert "25.0%" in second
    assert "37.5%" in html  # 3 of 8 in all
    assert "CRAS Venda Nova" in html and "Online, not at a voting point" in html
    assert '<meter min="0" max="3" value="3"' in html  # all in the same hour
    assert "Running totals" not in html
    for title in world.titles.values():
        assert title not in html


def test_running_totals_when_the_cycle_shows_them(app):
    world = build_world(app, show_totals=True)
    _cast_three(app, world)
    html = _staff(app).get(f"/staff/cycles/{world.slug}/turnout").get_data(as_text=True)
    assert "Running totals" in html
    row = html.split(world.titles[world.proposals[0][0]], 1)[1].split("</tr>", 1)[0]
    assert '<td class="num">3</td>' in row


def test_empty_turnout(app):
    world = build_world(app)
    html = _staff(app).get(f"/staff/cycles/{world.slug}/turnout").get_data(as_text=True)
    assert "0 votes" in html and "No votes yet." in html


def test_links_from_the_cycle_page_and_dashboard(app):
    world = build_world(app)
    client = _staff(app)
    assert f"/staff/cycles/{world.slug}/turnout" in client.get(
        f"/staff/cycles/{world.slug}"
    ).get_data(as_text=True)
    assert "/staff/voting-points" in client.get("/staff/").get_data(as_text=True)


def test_turnout_page_is_accessible(app):
    world = build_world(app, show_totals=True)
    _cast_three(app, world)
    page = _staff(app).get(f"/staff/cycles/{world.slug}/turnout").get_data(as_text=True)
    assert page_problems(page) == []
