"""Staff screens for close, tally and publish: the control page's button runs the lifecycle,
coordinators and auditors see and download the package (before publication too), by role."""

from __future__ import annotations

import html
import re

import pytest
import sqlalchemy as sa

from opdigital.audit.models import AuditEntry
from opdigital.cycles.lifecycle import advance
from opdigital.cycles.models import Cycle
from opdigital.cycles.states import CycleState
from opdigital.extensions import db
from opdigital.ledger import keys
from opdigital.ledger.verify import ExpectedKey, verify_package
from opdigital.tally.models import Tally
from tests.support import factories
from tests.support import voting as vs
from tests.support.client import login_as
from tests.support.coordination import audit_count, post, sign_in


@pytest.fixture
def no_signing_key(app, tmp_path):
    saved = app.config["SIGNING_KEY_PATH"]
    app.config["SIGNING_KEY_PATH"] = str(tmp_path / "missing.pem")
    yield
    app.config["SIGNING_KEY_PATH"] = saved


def _cast(client, world, ballots, first: int = 800) -> None:
    for n, choices in enumerate(ballots):
        number = vs.make_titulo(first + n)
        vs.register(number)
        response = vs.post_ballot(client, world.slug, vs.body(number, choices))
        assert response.status_code == 201, response.get_json()


def _voted(client, slug: str = "op-2026", first: int = 800):
    """A voting cycle with four ballots cast through the API (voters `first` to `first + 3`)."""
    world = vs.voting_cycle(slug=slug)
    a, b, c = world.ids[:3]
    _cast(client, world, [[a, b], [a, c], [a, b], [b, c]], first=first)
    return world


def _tallied(client, slug: str = "op-2026", first: int = 800) -> tuple:
    """A cycle closed and tallied through the lifecycle (as the CLI does); (world, record)."""
    world = _voted(client, slug, first)
    cycle = advance(vs.reload(world.cycle), CycleState.CLOSED, None).cycle
    return world, advance(cycle, CycleState.TALLIED, None).tally


def _transition(app, client, slug: str, target: str):
    return post(app, client, f"/staff/cycles/{slug}/transition", {"target": target})


def _flashes(response, category: str) -> list[str]:
    found = re.findall(
        rf'<p class="flash flash-{category}">(.*?)</p>', response.get_data(as_text=True), re.S
    )
    return [html.unescape(m) for m in found]


def _by_class(response, cls: str) -> list[str]:
    """Text of every element whose class list contains `cls` (no nesting in these pages)."""
    body = response.get_data(as_text=True)
    pattern = rf'<(\w+)[^>]*class="[^"]*\b{re.escape(cls)}\b[^"]*"[^>]*>(.*?)</\1>'
    return [
        html.unescape(re.sub(r"<[^>]+>", "", m[1])).strip() for m in re.findall(pattern, body, re.S)
    ]


def _state(slug: str) -> str:
    db.session.expire_all()
    return db.session.scalar(sa.select(Cycle.state).where(Cycle.slug == slug))


def _client_as(app, role: str | None):
    client = app.test_client()
    if role is not None:
        login_as(client, factories.user(role))
    return client


# --- the control page: close, tally, publish ---------------------------------------------------


def test_close_tally_publish_through_the_control_page(app, app_ctx, client, signing_key):
    world = _voted(client)
    coordinator = factories.user("coordinator")
    sign_in(client, coordinator)

    closed = _transition(app, client, world.slug, "closed")
    assert closed.status_code == 302
    page = client.get(closed.headers["Location"])
    assert _state(world.slug) == "closed"
    [message] = _flashes(page, "success")
    assert "4 entries" in message
    head_hash = _by_class(page, "board-hash")[0]
    assert head_hash in message and len(head_hash) == 64
    assert _by_class(page, "board-seq") == ["4"] and _by_class(page, "board-pending") == ["0"]
    assert _by_class(page, "tally-sha256") == []  # nothing tallied yet

    tallied = _transition(app, client, world.slug, "tallied")
    assert tallied.status_code == 302
    page = client.get(tallied.headers["Location"])
    db.session.expire_all()
    record = db.session.get(Tally, world.cycle.id)
    assert record is not None and _state(world.slug) == "tallied"
    [message] = _flashes(page, "success")
    assert record.sha256 in message and record.key_fingerprint in message
    assert _by_class(page, "tally-sha256") == [record.sha256]
    assert _by_class(page, "tally-fingerprint") == [record.key_fingerprint]
    assert _by_class(page, "tally-ballots") == ["4"]
    assert _by_class(page, "tally-participation") == ["4"]
    assert _by_class(page, "tally-head-hash") == [head_hash]
    download_url = f"/staff/cycles/{world.slug}/tally.zip"
    assert download_url in page.get_data(as_text=True)
    package = client.get(download_url)
    assert package.status_code == 200 and package.mimetype == "application/zip"
    assert package.data == record.package  # byte for byte what was signed
    assert "no-store" in package.headers["Cache-Control"]
    public_key = keys.public_key_raw(keys.load_private_key(signing_key))
    verify_package(package.data, expected_key=ExpectedKey(public_raw=public_key))
    assert client.get(f"/api/v1/cycles/{world.slug}/tally.zip").status_code == 404

    published = _transition(app, client, world.slug, "published")
    assert published.status_code == 302
    page = client.get(published.headers["Location"])
    [message] = _flashes(page, "success")
    assert record.sha256 in message
    db.session.expire_all()
    assert db.session.get(Tally, world.cycle.id).published_at is not None
    assert client.get(f"/api/v1/cycles/{world.slug}/tally.zip").data == record.package
    actions = list(db.session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions.count("cycle.tally") == 1 and actions.count("cycle.transition") == 3
    actors = set(db.session.scalars(sa.select(AuditEntry.actor_email)))
    assert actors == {coordinator.email}


def test_tally_without_a_signing_key_is_refused_with_the_command_to_run(
    app, app_ctx, client, no_signing_key
):
    world = _voted(client)
    advance(vs.reload(world.cycle), CycleState.CLOSED, None)
    before = audit_count()
    sign_in(client, factories.user("coordinator"))
    response = _transition(app, client, world.slug, "tallied")
    assert response.status_code == 409
    [message] = _flashes(response, "error")
    assert "opdigital keys generate" in message
    assert _state(world.slug) == "closed"
    assert db.session.get(Tally, world.cycle.id) is None
    assert audit_count() == before


def test_tally_without_a_counting_rule_is_refused(app, app_ctx, client, signing_key):
    world = _voted(client)
    advance(vs.reload(world.cycle), CycleState.CLOSED, None)
    cycle = vs.reload(world.cycle)
    cycle.counting_rule = ""
    db.session.commit()
    sign_in(client, factories.user("admin"))
    response = _transition(app, client, world.slug, "tallied")
    assert response.status_code == 409
    assert "counting rule" in " ".join(_flashes(response, "error"))
    assert _state(world.slug) == "closed"


def test_publishing_a_cycle_without_a_package_is_refused(app, app_ctx, client):
    factories.cycle(slug="legado", state="tallied")
    sign_in(client, factories.user("coordinator"))
    response = _transition(app, client, "legado", "published")
    assert response.status_code == 409
    assert "no tally package" in " ".join(_flashes(response, "error"))
    assert _state("legado") == "tallied"
    assert audit_count() == 0


def test_a_step_out_of_order_is_refused_and_nothing_is_tallied(app, app_ctx, client, signing_key):
    world = _voted(client)
    sign_in(client, factories.user("coordinator"))
    for target in ("tallied", "published"):
        response = _transition(app, client, world.slug, target)
        assert response.status_code == 409
        assert "cannot move to that state" in " ".join(_flashes(response, "error"))
    assert _state(world.slug) == "voting"
    assert db.session.get(Tally, world.cycle.id) is None
    assert audit_count() == 0


def test_closing_without_a_csrf_token_is_refused(app_ctx, client):
    world = _voted(client)
    sign_in(client, factories.user("coordinator"))
    response = client.post(f"/staff/cycles/{world.slug}/transition", data={"target": "closed"})
    assert response.status_code == 400
    assert _state(world.slug) == "voting"


def test_the_board_section_shows_from_voting_on_only(app_ctx, client):
    factories.cycle(slug="rascunho", state="draft")
    world = _voted(client)
    sign_in(client, factories.user("coordinator"))
    assert 'id="board"' not in client.get("/staff/cycles/rascunho").get_data(as_text=True)
    page = client.get(f"/staff/cycles/{world.slug}")
    assert page.status_code == 200
    sealed, pending = int(_by_class(page, "board-seq")[0]), int(_by_class(page, "board-pending")[0])
    assert sealed + pending == 4  # batches of 32 by default: all still waiting, none lost


# --- who may download: every new staff route by role -------------------------------------------

DOWNLOADS = {
    "coordination": "/staff/cycles/{slug}/tally.zip",
    "audit": "/audit/tallies/{slug}/tally.zip",
}
# Expected status of each new route per role (None: signed out, sent to sign in).
ACCESS = {
    "coordination": {None: 302, "auditor": 403, "coordinator": 200, "admin": 200},
    "audit": {None: 302, "auditor": 200, "coordinator": 403, "admin": 200},
    "audit_page": {None: 302, "auditor": 200, "coordinator": 403, "admin": 200},
}


@pytest.mark.parametrize("role", [None, "auditor", "coordinator", "admin"])
@pytest.mark.parametrize("route", sorted(ACCESS))
def test_every_new_staff_route_by_role(app, app_ctx, client, signing_key, route, role):
    world, record = _tallied(client)
    url = "/audit/tallies" if route == "audit_page" else DOWNLOADS[route].format(slug=world.slug)
    response = _client_as(app, role).get(url)
    assert response.status_code == ACCESS[route][role], (url, role)
    if role is None:
        assert response.headers["Location"].startswith("/login")
    elif response.status_code == 200 and route != "audit_page":
        assert response.data == record.package


@pytest.mark.parametrize("route", sorted(DOWNLOADS))
def test_downloads_are_404_for_unknown_cycles_and_cycles_not_tallied(app, app_ctx, client, route):
    world = _voted(client)
    role = "admin"  # may use both
    staff = _client_as(app, role)
    for slug in ("nope", world.slug):
        response = staff.get(DOWNLOADS[route].format(slug=slug))
        assert response.status_code == 404, slug


def test_audit_routes_only_read(app):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/audit/tallies"):
            assert rule.methods <= {"GET", "HEAD", "OPTIONS"}, rule


# --- the auditors' screen ----------------------------------------------------------------------


def test_auditor_sees_every_tally_published_or_not_with_the_key(app, app_ctx, client, signing_key):
    first, first_record = _tallied(client, "op-2025", first=810)
    advance(vs.reload(first.cycle), CycleState.PUBLISHED, None)
    _second, second_record = _tallied(client, "op-2026", first=820)
    factories.cycle(slug="sem-apuracao", state="voting")
    auditor = _client_as(app, "auditor")
    page = auditor.get("/audit/tallies")
    assert page.status_code == 200
    assert set(_by_class(page, "tally-sha256")) == {first_record.sha256, second_record.sha256}
    body = page.get_data(as_text=True)
    assert "sem-apuracao" not in body
    for slug in ("op-2025", "op-2026"):
        assert f'href="/audit/tallies/{slug}/tally.zip"' in body
    unpublished = auditor.get("/audit/tallies/op-2026/tally.zip")
    assert unpublished.data == second_record.package
    private = keys.load_private_key(signing_key)
    fingerprint = keys.fingerprint(keys.public_key_raw(private))
    assert _by_class(page, "key-fingerprint") == [fingerprint]
    assert _by_class(page, "key-pem") == [keys.public_key_pem(private).strip()]
    [command] = _by_class(page, "verify-command")
    assert command == f"python -m opdigital.ledger.verify FILE.zip --public-key {fingerprint}"
    assert _by_class(page, "other-key") == []
    assert 'href="/audit/export.csv"' in body and 'href="/audit/export.json"' in body


def test_a_package_signed_by_an_earlier_key_is_flagged(app, app_ctx, client, runner, signing_key):
    _tallied(client)
    assert runner.invoke(args=["keys", "generate", "--force"]).exit_code == 0
    page = _client_as(app, "auditor").get("/audit/tallies")
    assert len(_by_class(page, "other-key")) == 1


def test_without_a_key_the_screen_says_how_to_create_it(app, app_ctx, no_signing_key):
    page = _client_as(app, "auditor").get("/audit/tallies")
    assert page.status_code == 200
    [warning] = _by_class(page, "no-key")
    assert "opdigital keys generate" in warning
    assert _by_class(page, "verify-command") == []


def test_the_audit_log_links_to_the_tally_screen(app, app_ctx):
    body = _client_as(app, "auditor").get("/audit/").get_data(as_text=True)
    assert 'href="/audit/tallies"' in body


def test_the_tally_screens_render_in_portuguese_with_one_h1(app, app_ctx, client, signing_key):
    world, _record = _tallied(client)
    pages = [
        (_client_as(app, "auditor"), "/audit/tallies"),
        (_client_as(app, "coordinator"), f"/staff/cycles/{world.slug}"),
    ]
    for staff, url in pages:
        body = staff.get(url).get_data(as_text=True)
        assert '<html lang="pt-BR">' in body
        assert body.count("<h1") == 1, url
