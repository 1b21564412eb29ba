"""The map pages: a cycle's proposals, a published result, every work; the proposal page's
location; the form's picker. Each map has a list with the same items and numbers beside it,
works without JavaScript (the server-drawn SVG) and hands map.js its data as JSON."""

from __future__ import annotations

import json
import math
from datetime import timedelta
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import lxml.html
import pytest

from opdigital.clock import now
from opdigital.extensions import db
from tests.support import factories
from tests.support import voting as vs
from tests.support.pages import page_problems

pytestmark = pytest.mark.usefixtures("english_by_default")

SVG = "{http://www.w3.org/2000/svg}"
TILES = "https://tiles.example.org/{z}/{x}/{y}.png"


def square(west: float, south: float, size: float = 0.05) -> str:
    ring = [
        [west, south],
        [west + size, south],
        [west + size, south + size],
        [west, south + size],
        [west, south],
    ]
    return json.dumps({"type": "Polygon", "coordinates": [ring]})


def page(client, url: str, status: int = 200) -> lxml.html.HtmlElement:
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    text = response.get_data(as_text=True)
    if status == 200:
        assert page_problems(text) == [], url
    return lxml.html.fromstring(text)


def listed(doc) -> list[tuple[str, str | None]]:
    """(code, number on the map) of each list entry, in order."""
    return [
        (li.get("data-code"), li.get("data-number"))
        for li in doc.xpath("//ol[contains(concat(' ', @class, ' '), ' map-list ')]/li")
    ]


def drawn(doc) -> list[tuple[str, str]]:
    """(number, title) of each point of the server-drawn map."""
    return [
        (g.get("data-number"), g.findtext("title"))
        for g in doc.xpath("//svg[contains(concat(' ', @class, ' '), ' map-svg ')]//g")
        if "map-spot" in g.get("class", "")
    ]


def map_data(doc) -> dict:
    (block,) = doc.xpath("//script[@id='map-data']")
    assert block.get("type") == "application/json"
    return json.loads(block.text)


@pytest.fixture
def city(app_ctx, settings):
    """Barreiro and Leste with outlines (one approximate), Norte without; an open cycle with
    two placed proposals and one not placed; a draft cycle."""
    settings(MAP_TILE_URL=TILES, MAP_TILE_ATTRIBUTION="© Tile people")
    barreiro = factories.region(
        slug="barreiro",
        name="Barreiro",
        boundary=square(-44.05, -20.0),
        boundary_source="Demo outline",
        boundary_approximate=True,
    )
    leste = factories.region(slug="leste", name="Leste", boundary=square(-43.92, -19.92))
    norte = factories.region(slug="norte", name="Norte")
    cycle = factories.cycle(
        slug="op-2026",
        title="OP 2026",
        state="open_for_proposals",
        kind="op-regional",
        phases=[("proposals", now() - timedelta(days=1), now() + timedelta(days=10))],
    )
    praca = factories.proposal(
        cycle,
        code="P-1",
        title="Praça do Barreiro",
        region=barreiro,
        latitude=-19.98,
        longitude=-44.02,
        status="accepted",
    )
    escola = factories.proposal(
        cycle,
        code="P-2",
        title="Quadra da escola",
        region=leste,
        latitude=-19.90,
        longitude=-43.90,
        status="rejected",
    )
    nowhere = factories.proposal(cycle, code="P-3", title="Biblioteca", region=norte)
    draft = factories.cycle(slug="rascunho", state="draft")
    factories.proposal(draft, code="D-1", latitude=-19.98, longitude=-44.02, region=barreiro)
    return SimpleNamespace(
        barreiro=barreiro, leste=leste, norte=norte, cycle=cycle, draft=draft,
        praca=praca, escola=escola, nowhere=nowhere,
    )  # fmt: skip


# --- a cycle's map ---------------------------------------------------------------------------


def test_the_cycle_map_lists_what_it_draws_with_the_same_numbers(client, city):
    doc = page(client, "/ciclos/op-2026/mapa")
    # Placed items numbered in list order; the one without a place listed, unnumbered.
    assert listed(doc) == [("P-1", "1"), ("P-2", "2"), ("P-3", None)]
    assert drawn(doc) == [("1", "1. Praça do Barreiro"), ("2", "2. Quadra da escola")]
    (unplaced,) = doc.xpath(
        "//li[@id='item-P-3']//*[contains(concat(' ', @class, ' '), ' map-unplaced ')]"
    )
    assert "Not placed on the map yet" in unplaced.text_content()
    # The drawing is an image with a name, a description and the regions' names.
    (svg,) = doc.xpath("//svg[contains(concat(' ', @class, ' '), ' map-svg ')]")
    assert svg.get("role") == "img" and "proposals of OP 2026" in svg.get("aria-label")
    assert svg.find(f"{SVG}desc") is not None or svg.find("desc") is not None
    outlines = [p.findtext("title") for p in svg.iter("path")]
    assert outlines == ["Barreiro", "Leste"]
    # Every list entry links to the proposal's page.
    links = [
        a.get("href")
        for a in doc.xpath("//ol[contains(concat(' ', @class, ' '), ' map-list ')]//h3/a")
    ]
    assert links == ["/propostas/P-1", "/propostas/P-2", "/propostas/P-3"]


def test_the_cycle_map_hands_its_data_and_tile_server_to_the_script(client, city):
    doc = page(client, "/ciclos/op-2026/mapa")
    (frame,) = doc.xpath("//*[@data-map]")
    assert frame.get("data-tile-url") == TILES
    assert frame.get("data-tile-attribution") == "© Tile people"
    data = map_data(doc)
    features = data["items"]["features"]
    assert [f["id"] for f in features] == ["P-1", "P-2"]
    first = features[0]
    assert first["geometry"] == {"type": "Point", "coordinates": [-44.02, -19.98]}
    assert first["properties"]["number"] == 1
    assert first["properties"]["url"] == "/propostas/P-1"
    assert first["properties"]["region_name"] == "Barreiro"
    assert first["properties"]["status_label"] == "Accepted for the ballot"
    assert [f["id"] for f in data["regions"]["features"]] == ["barreiro", "leste"]
    # Leaflet and the script come from this site; the caption says the outline is approximate.
    scripts = [s.get("src") for s in doc.xpath("//script[@src]")]
    assert "/static/vendor/leaflet/leaflet.js" in scripts and "/static/js/map.js" in scripts
    assert all(src.startswith("/static/") for src in scripts)
    caption = doc.xpath("//*[@id='map-caption']")[0].text_content()
    assert "approximate" in caption and "Demo outline" in caption


def test_a_title_cannot_break_out_of_the_data_block(client, city):
    city.praca.title = "</script><script>alert(1)</script>"
    db.session.commit()
    text = client.get("/ciclos/op-2026/mapa").get_data(as_text=True)
    assert "<script>alert(1)" not in text
    doc = lxml.html.fromstring(text)
    assert map_data(doc)["items"]["features"][0]["properties"]["title"] == city.praca.title


def test_the_cycle_map_filters_by_region_and_status(client, city):
    doc = page(client, "/ciclos/op-2026/mapa?regiao=leste")
    assert listed(doc) == [("P-2", "1")]
    assert [
        p.findtext("title")
        for p in doc.xpath("//svg[contains(concat(' ', @class, ' '), ' map-svg ')]")[0].iter("path")
    ] == ["Leste"]
    assert doc.xpath("//*[@id='filter-regiao']/option[@selected]")[0].get("value") == "leste"
    doc = page(client, "/ciclos/op-2026/mapa?situacao=rejected")
    assert listed(doc) == [("P-2", "1")]
    assert doc.xpath("//*[@id='filter-situacao']/option[@selected]")[0].get("value") == "rejected"
    doc = page(client, "/ciclos/op-2026/mapa?regiao=norte&situacao=todas")
    assert listed(doc) == [("P-3", None)]
    # Nothing placed and no outline: the drawing says so; the list still has the proposal.
    assert (
        "Nothing to show"
        in doc.xpath("//svg[contains(concat(' ', @class, ' '), ' map-svg ')]")[0].text_content()
    )


def test_the_cycle_map_refuses_bad_filters_clearly(client, city):
    response = client.get("/ciclos/op-2026/mapa?situacao=bogus")
    assert response.status_code == 400
    assert "There is no proposal status bogus." in response.get_data(as_text=True)
    assert client.get("/ciclos/op-2026/mapa?regiao=nowhere").status_code == 404


def test_drafts_have_no_maps(client, city):
    assert client.get("/ciclos/rascunho/mapa").status_code == 404
    assert client.get("/ciclos/rascunho/resultados/mapa").status_code == 404
    assert client.get("/ciclos/no-such-cycle/mapa").status_code == 404


def test_during_the_vote_the_map_shows_the_ballot_unless_asked_for_all(client, city):
    city.cycle.state = "voting"
    city.praca.status = "on_ballot"
    db.session.commit()
    doc = page(client, "/ciclos/op-2026/mapa")
    assert listed(doc) == [("P-1", "1")]
    assert doc.xpath("//*[@id='filter-situacao']/option[@selected]")[0].get("value") == "on_ballot"
    doc = page(client, "/ciclos/op-2026/mapa?situacao=todas")
    assert [code for code, _ in listed(doc)] == ["P-1", "P-2", "P-3"]


def test_the_cycle_page_links_to_its_map(client, city):
    doc = page(client, "/ciclos/op-2026?regiao=leste")
    assert (
        doc.xpath("//*[@id='cycle-map-link']")[0].get("href") == "/ciclos/op-2026/mapa?regiao=leste"
    )
    assert not doc.xpath("//*[@id='results-map-link']")  # no results yet


def test_without_a_tile_server_the_drawing_stays_the_map(client, city, settings):
    settings(MAP_TILE_URL="")
    doc = page(client, "/ciclos/op-2026/mapa")
    assert doc.xpath("//*[@data-map]")[0].get("data-tile-url") == ""
    assert drawn(doc)


# --- the proposal page ------------------------------------------------------------------------


def test_a_placed_proposal_shows_its_place_on_a_small_map(client, city):
    doc = page(client, "/propostas/P-1")
    (section,) = doc.xpath("//section[contains(concat(' ', @class, ' '), ' proposal-location ')]")
    (svg,) = section.xpath(".//svg[contains(concat(' ', @class, ' '), ' map-svg ')]")
    assert svg.get("role") == "img" and "Praça do Barreiro" in svg.get("aria-label")
    assert [p.findtext("title") for p in svg.iter("path")] == ["Barreiro"]
    assert "Latitude -19.98000, longitude -44.02000" in section.text_content()
    hrefs = [a.get("href") for a in section.xpath(".//a")]
    assert "geo:-19.980000,-44.020000" in hrefs
    assert "/ciclos/op-2026/mapa?situacao=todas#item-P-1" in hrefs
    # After the facts, before the rest of the page.
    facts = doc.xpath("//dl[contains(concat(' ', @class, ' '), ' facts ')]")[0]
    assert facts.getnext() is section


def test_a_proposal_of_a_region_without_outline_is_drawn_on_the_city(client, city):
    city.nowhere.latitude, city.nowhere.longitude = -19.85, -43.95
    db.session.commit()
    doc = page(client, "/propostas/P-3")
    (section,) = doc.xpath("//section[@class='proposal-location']")
    (svg,) = section.xpath(".//*[@class='map-svg']")
    assert [p.findtext("title") for p in svg.iter("path")] == ["Barreiro", "Leste"]


def test_a_proposal_without_a_place_has_no_map(client, city):
    doc = page(client, "/propostas/P-3")
    assert not doc.xpath("//section[contains(concat(' ', @class, ' '), ' proposal-location ')]")


# --- the form's picker ------------------------------------------------------------------------


def test_the_proposal_form_has_a_picker_above_the_coordinates(client, city):
    doc = page(client, "/ciclos/op-2026/propostas/nova")
    (picker,) = doc.xpath("//*[@data-map-picker]")
    assert picker.get("hidden") is not None  # shown by map.js only
    assert picker.get("data-tile-url") == TILES
    latitude = doc.xpath("//*[@id='latitude']")[0]
    assert picker.getparent() is latitude.getparent().getparent()  # same fieldset, above
    data = json.loads(doc.xpath("//script[@id='map-picker-data']")[0].text)
    assert set(data["regions"]) == {str(city.barreiro.id), str(city.leste.id)}
    assert len(data["centre"]) == 2


def test_without_a_tile_server_the_form_has_no_picker(client, city, settings):
    settings(MAP_TILE_URL="")
    doc = page(client, "/ciclos/op-2026/propostas/nova")
    assert not doc.xpath("//*[@data-map-picker]")
    assert doc.xpath("//*[@id='latitude']") and doc.xpath("//*[@id='longitude']")


# --- the results map --------------------------------------------------------------------------


def _run(runner, *args: str) -> None:
    result = runner.invoke(args=list(args))
    assert result.exit_code == 0, result.output


@pytest.fixture
def tallied(app_ctx, client, runner, signing_key, tmp_path, settings):
    """A cycle voted (a, b, c selected; d, e not), closed and tallied, not yet published; a and
    d placed in Barreiro."""
    settings(MAP_TILE_URL=TILES)
    barreiro = factories.region(slug="barreiro", name="Barreiro", boundary=square(-44.05, -20.0))
    world = vs.voting_cycle()
    a, _, _, d, _ = world.proposals
    a.region, a.latitude, a.longitude = barreiro, -19.98, -44.02
    d.region, d.latitude, d.longitude = barreiro, -19.97, -44.01
    db.session.commit()
    for n, picks in enumerate(((0, 1), (0, 2), (0, 1), (1, 2))):
        number = vs.make_titulo(700 + n)
        vs.register(number)
        body = vs.body(number, [world.ids[i] for i in picks])
        assert vs.post_ballot(client, world.slug, body).status_code == 201
    _run(runner, "cycle", "close", world.slug)
    _run(runner, "tally", world.slug, "--out", str(tmp_path / "tally.zip"))
    db.session.expire_all()
    return SimpleNamespace(slug=world.slug, codes=[p.code for p in world.proposals])


def test_the_results_map_waits_for_publication(client, tallied):
    response = client.get(f"/ciclos/{tallied.slug}/resultados/mapa")
    assert response.status_code == 404
    assert "not published yet" in response.get_data(as_text=True)


def test_the_results_map_shows_selected_and_not_selected_works(client, tallied, runner):
    _run(runner, "cycle", "publish", tallied.slug)
    a, b, c, d, e = tallied.codes
    doc = page(client, f"/ciclos/{tallied.slug}/resultados/mapa")
    entries = {
        li.get("data-code"): li
        for li in doc.xpath("//ol[contains(concat(' ', @class, ' '), ' map-list ')]/li")
    }
    assert set(entries) == set(tallied.codes)
    assert "is-selected" in entries[a].get("class") and "is-selected" not in entries[d].get("class")
    assert "Votes: 3" in entries[a].text_content()
    features = {f["id"]: f["properties"] for f in map_data(doc)["items"]["features"]}
    assert set(features) == {a, d}
    assert features[a]["kind"] == "selected" and features[d]["kind"] == "not-selected"
    assert features[a]["votes_text"] == "Votes: 3"
    kinds = {
        g.findtext("title"): g.get("class")
        for g in doc.xpath("//svg[contains(concat(' ', @class, ' '), ' map-svg ')]//g")
    }
    assert any("map-spot-selected" in k for k in kinds.values())
    assert any("map-spot-not-selected" in k for k in kinds.values())
    # One kind at a time, and one region.
    doc = page(client, f"/ciclos/{tallied.slug}/resultados/mapa?resultado=selected")
    assert {code for code, _ in listed(doc)} == {a, b, c}
    doc = page(client, f"/ciclos/{tallied.slug}/resultados/mapa?resultado=not_selected")
    assert {code for code, _ in listed(doc)} == {d, e}
    doc = page(client, f"/ciclos/{tallied.slug}/resultados/mapa?regiao=barreiro")
    assert listed(doc) == [(a, "1"), (d, "2")]
    response = client.get(f"/ciclos/{tallied.slug}/resultados/mapa?resultado=maybe")
    assert response.status_code == 400
    # The results page and the cycle page link here.
    for url in (f"/ciclos/{tallied.slug}/resultados", f"/ciclos/{tallied.slug}"):
        link = page(client, url).xpath("//*[@id='results-map-link']")[0]
        assert link.get("href") == f"/ciclos/{tallied.slug}/resultados/mapa"


# --- every work -------------------------------------------------------------------------------


@pytest.fixture
def works(city):
    """Works of two public editions (one OPCA) and a selected proposal of a draft."""
    past = factories.cycle(slug="op-2024", title="OP 2024", edition=2024, state="monitoring")
    opca = factories.cycle(
        slug="opca-2025", title="OPCA 2025", edition=2025, state="published", kind="opca"
    )
    school = factories.school(city.leste, name="Escola Municipal Leste")
    factories.proposal(
        past, code="W-1", title="Centro de saúde", status="selected", region=city.barreiro,
        latitude=-19.99, longitude=-44.03, execution_status="in_works",
    )  # fmt: skip
    factories.proposal(
        past, code="W-2", title="Praça do Norte", status="selected", region=city.norte,
        execution_status="done",
    )  # fmt: skip
    factories.proposal(
        opca, code="W-3", title="Quadra coberta", status="selected", school=school,
        latitude=-19.89, longitude=-43.89,
    )  # fmt: skip
    factories.proposal(past, code="W-4", title="Não escolhida", status="not_selected")
    factories.proposal(city.draft, code="W-5", status="selected", latitude=-19.9, longitude=-43.9)
    return city


def test_the_works_map_shows_every_work_of_every_public_edition(client, works):
    doc = page(client, "/obras/mapa")
    assert listed(doc) == [("W-3", "1"), ("W-1", "2"), ("W-2", None)]
    assert drawn(doc) == [("1", "1. Quadra coberta"), ("2", "2. Centro de saúde")]
    entry = doc.xpath("//li[@id='item-W-1']")[0].text_content()
    assert "OP 2024" in entry and "In works" in entry and "% done" in entry
    # An OPCA work is in its school's region.
    assert "Leste" in doc.xpath("//li[@id='item-W-3']")[0].text_content()
    assert doc.xpath("//*[@id='works-list-link']")[0].get("href") == "/obras"
    features = {f["id"]: f["properties"] for f in map_data(doc)["items"]["features"]}
    assert features["W-1"]["execution_label"] == "In works"
    assert features["W-1"]["cycle_title"] == "OP 2024"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("regiao=leste", ["W-3"]),
        ("regiao=barreiro", ["W-1"]),
        ("situacao=done", ["W-2"]),
        ("situacao=not_started", ["W-3"]),
        ("edicao=2024", ["W-1", "W-2"]),
        ("tipo=opca", ["W-3"]),
        ("tipo=op-digital&edicao=2025", []),
    ],
)
def test_the_works_map_filters_as_the_list_does(client, works, query, expected):
    doc = page(client, f"/obras/mapa?{query}")
    assert [code for code, _ in listed(doc)] == expected
    # The link to the list keeps the filters.
    link = urlsplit(doc.xpath("//*[@id='works-list-link']")[0].get("href"))
    assert link.path == "/obras" and parse_qs(link.query) == parse_qs(query)
    if not expected:
        assert "No work for this selection." in doc.text_content()


@pytest.mark.parametrize(
    ("query", "status"),
    [("edicao=abc", 400), ("situacao=bogus", 400), ("tipo=x", 400), ("regiao=nowhere", 404)],
)
def test_the_works_map_refuses_bad_filters(client, works, query, status):
    assert client.get(f"/obras/mapa?{query}").status_code == status


def test_a_selected_work_links_to_the_works_map(client, works):
    doc = page(client, "/propostas/W-1")
    hrefs = [
        a.get("href")
        for a in doc.xpath(
            "//section[contains(concat(' ', @class, ' '), ' proposal-location ')]//a"
        )
    ]
    assert "/obras/mapa?regiao=barreiro#item-W-1" in hrefs


def test_detailed_outlines_reach_the_script_simplified(client, city):
    # A circle of 2,000 vertices about 5 km across: detail under about 10 m is dropped.
    centre_lon, centre_lat = -43.95, -19.95
    ring = [
        [
            centre_lon + 0.025 * math.cos(2 * math.pi * t / 2000),
            centre_lat + 0.025 * math.sin(2 * math.pi * t / 2000),
        ]
        for t in range(2000)
    ]
    city.leste.boundary = json.dumps({"type": "Polygon", "coordinates": [ring + [ring[0]]]})
    db.session.commit()
    doc = page(client, "/ciclos/op-2026/mapa?regiao=leste")
    (feature,) = map_data(doc)["regions"]["features"]
    kept = len(feature["geometry"]["coordinates"][0])
    assert 20 < kept < 500
