"""Voting points: the services, the staff screens, and what the limiter then recognises."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from opdigital.audit.models import AuditEntry
from opdigital.errors import ValidationFailed
from opdigital.extensions import db
from opdigital.voting import points
from opdigital.voting.limits import token_hash
from opdigital.voting.models import VotingPoint
from tests.support import factories
from tests.support.client import csrf_token, login_as, post_form
from tests.support.pages import page_problems
from tests.support.voting_web import build_world, english_client, identify

TOKEN = re.compile(r'<code class="token">([^<]+)</code>')


def _staff(app, role="coordinator"):
    client = english_client(app)
    with app.app_context():
        login_as(client, factories.user(role))
    return client


def _point(app, **values) -> int:
    with app.app_context():
        point = VotingPoint(**({"name": "Ponto"} | values))
        db.session.add(point)
        db.session.commit()
        return point.id


def _get(app, point_id) -> VotingPoint:
    with app.app_context():
        point = db.session.get(VotingPoint, point_id)
        db.session.expunge(point)
        return point


# --- services ------------------------------------------------------------------------------


def test_addresses_are_validated_and_normalised(app_ctx):
    assert points.normalise_addresses(" 10.0.0.1, 10.0.1.0/24\n\n2001:db8::/32 ") == (
        "10.0.0.1\n10.0.1.0/24\n2001:db8::/32"
    )
    with pytest.raises(ValidationFailed) as error:
        points.normalise_addresses("10.0.0.1\n300.1.1.1")
    assert "300.1.1.1" in str(error.value)


def test_create_with_token_stores_only_its_hash_and_audits(app_ctx):
    region = factories.region()
    issued = points.create_voting_point(
        points.VotingPointData("CRAS Barreiro", region.id, "10.0.0.1"), None, with_token=True
    )
    assert len(issued.token) >= 40
    assert issued.point.device_token_hash == token_hash(issued.token)
    entry = db.session.scalar(
        sa.select(AuditEntry).where(AuditEntry.action == "voting_point.create")
    )
    assert entry.object_id == str(issued.point.id)
    assert entry.after["has_device_token"] is True
    assert issued.token not in repr(entry.after)


def test_name_and_region_are_checked(app_ctx):
    with pytest.raises(ValidationFailed):
        points.create_voting_point(points.VotingPointData("  "), None, with_token=False)
    with pytest.raises(ValidationFailed):
        points.create_voting_point(points.VotingPointData("X", 999), None, with_token=False)


# --- screens -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/staff/voting-points", "/staff/voting-points/new", "/staff/voting-points/{id}"]
)
@pytest.mark.parametrize(
    "role, status", [(None, 302), ("auditor", 403), ("coordinator", 200), ("admin", 200)]
)
def test_access_by_role(app, path, role, status):
    point_id = _point(app)
    client = _staff(app, role) if role else app.test_client()
    response = client.get(path.format(id=point_id))
    assert response.status_code == status
    if status == 302:
        assert "/login" in response.headers["Location"] or "login" in response.headers["Location"]


def test_create_with_token_shows_it_once(app):
    client = _staff(app)
    with app.app_context():
        region_id = factories.region(name="Leste").id
    response = post_form(
        client,
        "/staff/voting-points/new",
        {
            "name": "CRAS Leste",
            "region": str(region_id),
            "addresses": "10.1.0.0/24",
            "generate_token": "y",
        },
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    token = TOKEN.search(response.get_data(as_text=True)).group(1)
    with app.app_context():
        point = db.session.scalar(sa.select(VotingPoint))
        assert point.device_token_hash == token_hash(token)
        assert point.region_id == region_id and point.ip_addresses == "10.1.0.0/24"
        point_id = point.id
    for page in ("/staff/voting-points", f"/staff/voting-points/{point_id}"):
        html = client.get(page).get_data(as_text=True)
        assert "CRAS Leste" in html and token not in html


def test_create_without_token_redirects_to_the_list(app):
    client = _staff(app)
    response = post_form(client, "/staff/voting-points/new", {"name": "Telecentro", "region": ""})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/staff/voting-points")
    assert _get(app, 1).device_token_hash is None


def test_invalid_addresses_are_422(app):
    client = _staff(app)
    response = post_form(
        client,
        "/staff/voting-points/new",
        {"name": "X", "region": "", "addresses": "10.0.0.1\nnot-an-ip"},
    )
    assert response.status_code == 422
    assert "not-an-ip is not an IP address or network" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(VotingPoint)) == 0


def test_missing_name_and_unknown_region_are_422(app):
    client = _staff(app)
    assert (
        post_form(client, "/staff/voting-points/new", {"name": "", "region": ""}).status_code == 422
    )
    assert (
        post_form(client, "/staff/voting-points/new", {"name": "X", "region": "77"}).status_code
        == 422
    )


def test_edit_deactivate_activate_and_new_token(app):
    point_id = _point(app, name="Antigo", device_token_hash=token_hash("old"))
    client = _staff(app)
    path = f"/staff/voting-points/{point_id}"
    response = post_form(
        client, path, {"action": "save", "name": "Novo", "region": "", "addresses": "192.0.2.1"}
    )
    assert response.status_code == 303
    point = _get(app, point_id)
    assert (point.name, point.ip_addresses) == ("Novo", "192.0.2.1")

    assert post_form(client, path, {"action": "deactivate"}).status_code == 303
    assert _get(app, point_id).active is False
    assert "Activate again" in client.get(path).get_data(as_text=True)
    assert post_form(client, path, {"action": "activate"}).status_code == 303
    assert _get(app, point_id).active is True

    response = post_form(client, path, {"action": "regenerate"})
    assert response.status_code == 200
    token = TOKEN.search(response.get_data(as_text=True)).group(1)
    assert _get(app, point_id).device_token_hash == token_hash(token) != token_hash("old")
    with app.app_context():
        actions = db.session.scalars(
            sa.select(AuditEntry.action)
            .where(AuditEntry.object_type == "votingpoint")
            .order_by(AuditEntry.id)
        ).all()
    assert actions == [
        "voting_point.update",
        "voting_point.deactivate",
        "voting_point.activate",
        "voting_point.new_token",
    ]


def test_edit_with_bad_address_is_422(app):
    point_id = _point(app)
    client = _staff(app)
    response = post_form(
        client,
        f"/staff/voting-points/{point_id}",
        {"action": "save", "name": "X", "region": "", "addresses": "1.2.3"},
    )
    assert response.status_code == 422
    assert _get(app, point_id).name == "Ponto"


def test_unknown_point_is_404(app):
    client = _staff(app)
    assert client.get("/staff/voting-points/999").status_code == 404
    assert client.get("/staff/voting-points/abc").status_code == 404


def test_csrf_on_every_voting_point_post(app):
    point_id = _point(app)
    client = _staff(app)
    csrf_token(client, "/staff/voting-points/new")  # a session with a token exists
    assert client.post("/staff/voting-points/new", data={"name": "X"}).status_code == 400
    for action in ("save", "deactivate", "regenerate"):
        response = client.post(
            f"/staff/voting-points/{point_id}", data={"action": action, "name": "X"}
        )
        assert response.status_code == 400
    assert _get(app, point_id).active is True


def test_deactivated_point_gets_the_ordinary_limit(app, monkeypatch):
    monkeypatch.setitem(app.config, "VOTE_LIMIT_PER_IP", "2 per minute")
    world = build_world(app)
    _point(app, name="Off", device_token_hash=token_hash("tok"), active=False)
    client = english_client(app)
    headers = {"X-Voting-Point-Token": "tok"}
    codes = [
        identify(client, world, world.voters[0], headers=headers).status_code for _ in range(3)
    ]
    assert codes == [303, 303, 429]


def test_screens_are_accessible(app):
    point_id = _point(app, ip_addresses="10.0.0.1")
    client = _staff(app)
    responses = [client.get(p) for p in ("/staff/voting-points", "/staff/voting-points/new")]
    responses.append(client.get(f"/staff/voting-points/{point_id}"))
    responses.append(
        post_form(client, f"/staff/voting-points/{point_id}", {"action": "regenerate"})
    )
    responses.append(
        post_form(client, "/staff/voting-points/new", {"name": "X", "region": "", "addresses": "x"})
    )
    for response in responses:
        assert page_problems(response.get_data(as_text=True)) == [], response.request.path


def test_a_name_with_a_line_break_or_control_character_is_422(app):
    client = _staff(app)
    for name in ("CRAS\nVenda Nova", "CRAS\u2028Norte", "Posto\x1b[31m"):
        response = post_form(client, "/staff/voting-points/new", {"name": name, "region": ""})
        assert response.status_code == 422
        assert "on one line" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(VotingPoint)) == 0
