"""The maps in a real browser (issue 14, point 2): a citizen on a phone finds a work on the map
and in the list; axe-core finds no serious violation; the pages work without JavaScript; the
proposal form's picker fills in the coordinates; and nothing is requested from any origin but
the app's and the tile server's (a local stand-in, tests/support/tiles.py)."""

from __future__ import annotations

import json
from datetime import timedelta
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest

from opdigital.clock import now
from opdigital.cycles.models import Cycle
from opdigital.extensions import db
from opdigital.proposals.models import Proposal
from tests.support import factories
from tests.support.browser import violations

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}
# Where the test's regions lie: the picker's clicks must land in here.
SOUTH, WEST, NORTH, EAST = -20.02, -44.06, -19.89, -43.87


def _square(west: float, south: float, size: float) -> str:
    ring = [[west, south], [west + size, south], [west + size, south + size]]
    ring += [[west, south + size], [west, south]]
    return json.dumps({"type": "Polygon", "coordinates": [ring]})


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@pytest.fixture
def works(app, counted_cycle) -> SimpleNamespace:
    """Two regions with outlines; a 2024 edition with a work placed in each region and one not
    placed; a published cycle whose proposals are placed (in Barreiro's outline); an open cycle
    with a placed proposal. Committed, so the live server sees them."""
    published = counted_cycle(publish=True)
    with app.app_context():
        barreiro = factories.region(
            slug="barreiro-mapa", name="Barreiro", boundary=_square(WEST, SOUTH, 0.06)
        )
        leste = factories.region(
            slug="leste-mapa", name="Leste", boundary=_square(-43.92, -19.94, 0.05)
        )
        past = factories.cycle(
            slug="op-mapa-2024", title="OP Mapa 2024", edition=2024, state="monitoring"
        )
        health = factories.proposal(
            past,
            title="Centro de saúde do Barreiro",
            status="selected",
            execution_status="in_works",
            region=barreiro,
            latitude=-19.99,
            longitude=-44.03,
        )
        square = factories.proposal(
            past,
            title="Praça da Leste",
            status="selected",
            execution_status="done",
            region=leste,
            latitude=-19.91,
            longitude=-43.90,
        )
        factories.proposal(past, title="Biblioteca sem lugar", status="selected", region=leste)
        ballot = db.session.scalars(
            db.select(Proposal)
            .join(Cycle, Proposal.cycle_id == Cycle.id)
            .where(Cycle.slug == published.slug)
            .order_by(Proposal.id)
        )
        # Placed after the result, as staff place works; the ballot itself (regions) is frozen.
        for n, proposal in enumerate(ballot):
            proposal.latitude, proposal.longitude = -19.965, -44.055 + n * 0.01
        opened = factories.cycle(
            slug="op-mapa-aberto",
            title="OP Mapa aberto",
            kind="op-regional",
            state="open_for_proposals",
            phases=[("proposals", now() - timedelta(days=1), now() + timedelta(days=10))],
        )
        placed = factories.proposal(opened, region=leste, latitude=-19.92, longitude=-43.89)
        db.session.commit()
        info = SimpleNamespace(
            health=(health.code, health.title),
            square=(square.code, square.title),
            placed=placed.code,
            published=published.slug,
            opened=opened.slug,
            map_pages=[
                "/obras/mapa",
                f"/ciclos/{opened.slug}/mapa",
                f"/ciclos/{published.slug}/mapa",
                f"/ciclos/{published.slug}/resultados/mapa",
            ],
        )
        db.session.remove()
    return info


def _open_map(page, path: str) -> None:
    response = page.goto(path)
    assert response is not None and response.status == 200, path
    page.locator(".map-frame-live .leaflet-container .map-marker").first.wait_for()


def test_a_citizen_on_a_phone_finds_a_work_on_the_map_and_in_the_list(new_page, works):
    page = new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    code, title = works.health
    _open_map(page, "/obras/mapa")
    # The drawing gave way to the interactive map; its marker names the work.
    assert not page.locator("svg.map-svg").first.is_visible()
    number = page.locator(f"li#item-{code}").get_attribute("data-number")
    page.locator(f".leaflet-marker-icon[aria-label='{number}. {title}']").tap()
    link = page.locator(".leaflet-popup-content a")
    link.wait_for()
    assert title in link.inner_text()
    link.tap()
    page.wait_for_url(f"**/propostas/{code}")
    assert page.locator("h1").inner_text() == title
    # The same work in the list beside the map, and the other way round: from the list to its
    # marker ("Show on the map").
    page.go_back()
    page.locator(".map-frame-live .map-marker").first.wait_for()
    entry = page.locator(f"li#item-{code}")
    assert entry.locator("h3 a").inner_text() == title
    other_code, other_title = works.square
    page.locator(f"li#item-{other_code} button.map-show").tap()
    popup = page.locator(".leaflet-popup-content a")
    popup.wait_for()
    assert other_title in popup.inner_text()
    # Narrowed to a region with the filter form: the list and the markers follow.
    page.select_option("#filter-regiao", "barreiro-mapa")
    page.locator("form.filters button[type=submit]").tap()
    page.wait_for_url("**/obras/mapa?regiao=barreiro-mapa*")
    page.locator(".map-frame-live .map-marker").first.wait_for()
    assert page.locator(f"li#item-{code}").count() == 1
    assert page.locator(f"li#item-{other_code}").count() == 0
    assert page.locator(".map-marker").count() == page.locator("li.map-item[data-number]").count()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_map_pages_have_no_serious_violations(new_page, works, viewport):
    page = new_page(viewport=viewport)
    problems: list[str] = []
    for path in works.map_pages:
        _open_map(page, path)
        page.wait_for_load_state("networkidle")
        problems.extend(violations(page, path))
    for path in (f"/propostas/{works.placed}", f"/ciclos/{works.opened}/propostas/nova"):
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        page.wait_for_load_state("networkidle")
        problems.extend(violations(page, path))
    assert not problems, "\n".join(problems)


def test_the_map_pages_work_without_javascript(new_page, works):
    page = new_page(java_script_enabled=False)
    for path in works.map_pages:
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        drawing = page.locator("svg.map-svg")
        assert drawing.is_visible(), path
        assert page.locator(".leaflet-container").count() == 0, path
        # Every numbered point of the drawing has its entry in the list.
        points = drawing.locator("g.map-spot").count()
        assert points > 0, path
        assert page.locator("li.map-item[data-number]").count() == points, path
    # The filters are a plain form.
    page.goto("/obras/mapa")
    page.select_option("#filter-situacao", "done")
    page.locator("form.filters button[type=submit]").click()
    page.wait_for_url("**/obras/mapa?*situacao=done*")
    assert page.locator("li.map-item").count() == 1
    assert page.locator(f"li#item-{works.square[0]}").count() == 1
    # The proposal page draws its place; the form keeps its coordinate fields (no picker).
    page.goto(f"/propostas/{works.placed}")
    assert page.locator("section.proposal-location svg.map-svg").is_visible()
    page.goto(f"/ciclos/{works.opened}/propostas/nova")
    assert page.locator("#latitude").is_visible() and page.locator("#longitude").is_visible()
    assert not page.locator("[data-map-picker]").is_visible()


def test_the_form_map_fills_in_the_coordinates(new_page, works):
    page = new_page(viewport=PHONE, has_touch=True)
    page.goto(f"/ciclos/{works.opened}/propostas/nova")
    picker = page.locator(".map-picker")
    picker.wait_for()
    frame = picker.locator(".map-picker-frame")
    frame.locator(".leaflet-tile-loaded").first.wait_for()
    frame.click()  # its centre
    latitude = float(page.input_value("#latitude"))
    longitude = float(page.input_value("#longitude"))
    assert SOUTH <= latitude <= NORTH and WEST <= longitude <= EAST
    assert frame.locator(".map-marker-pin").count() == 1
    # Typed coordinates move the pin; the fields stay what counts.
    page.fill("#latitude", "-19,93")
    page.fill("#longitude", "-43,9")
    assert frame.locator(".map-marker-pin").count() == 1
    assert page.input_value("#latitude") == "-19,93"


def test_maps_request_nothing_but_the_app_and_the_tile_server(
    new_page, live_server, tile_server, works
):
    page = new_page()
    requested: list[str] = []
    referers: set[str | None] = set()

    def seen(request) -> None:
        requested.append(request.url)
        if _origin(request.url) == tile_server.origin:
            referers.add(request.headers.get("referer"))

    page.on("request", seen)
    before = len(tile_server.requested)
    for path in works.map_pages:
        _open_map(page, path)
        page.wait_for_load_state("networkidle")
    for path in (f"/propostas/{works.placed}", f"/ciclos/{works.opened}/propostas/nova"):
        page.goto(path)
        page.wait_for_load_state("networkidle")
    allowed = {_origin(live_server), tile_server.origin}
    foreign = [u for u in requested if not u.startswith("data:") and _origin(u) not in allowed]
    assert not foreign, f"requests to other origins: {foreign}"
    tiles = [u for u in requested if _origin(u) == tile_server.origin]
    assert tiles and all(u.endswith(".png") for u in tiles)
    assert len(tile_server.requested) > before
    # Tile servers get the site's origin as Referer (OpenStreetMap's requires one), no path.
    assert referers == {live_server + "/"}
    assert any(u.endswith("/static/vendor/leaflet/leaflet.js") for u in requested)
