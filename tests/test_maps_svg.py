"""The server-drawn maps (opdigital/geo/svg.py): projection, fitting, escaping, empty cases."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET

import pytest

from opdigital.geo.svg import (
    MIN_HEIGHT,
    MIN_SPAN,
    PADDING,
    WIDTH,
    Bounds,
    Outline,
    Projection,
    Spot,
    map_svg,
    path_data,
)

SVG = "{http://www.w3.org/2000/svg}"
# A square of 0.1 degrees around central Belo Horizonte, and a smaller square inside it.
SQUARE = {
    "type": "Polygon",
    "coordinates": [
        [[-44.0, -20.0], [-43.9, -20.0], [-43.9, -19.9], [-44.0, -19.9], [-44.0, -20.0]]
    ],
}
INNER = {
    "type": "Polygon",
    "coordinates": [
        [[-43.98, -19.98], [-43.92, -19.98], [-43.92, -19.92], [-43.98, -19.92], [-43.98, -19.98]]
    ],
}


def parse(markup) -> ET.Element:
    return ET.fromstring(str(markup))  # noqa: S314 - markup this test just made


def view_box(root: ET.Element) -> tuple[float, ...]:
    return tuple(float(n) for n in root.get("viewBox").split())


# --- the projection ------------------------------------------------------------------------


def test_longitudes_are_scaled_by_the_cosine_of_the_middle_latitude():
    bounds = Bounds(south=-20.0, west=-44.0, north=-19.9, east=-43.9)
    projection = Projection.fit(bounds)
    (x0, y0), (x1, _), (_, y1) = (
        projection(-20.0, -44.0),
        projection(-20.0, -43.9),
        projection(-19.9, -44.0),
    )
    # 0.1 degree east is shorter on the map than 0.1 degree north, by cos(-19.95°).
    assert (x1 - x0) / (y0 - y1) == pytest.approx(math.cos(math.radians(-19.95)))
    # North is up, east is right.
    assert y1 < y0 and x1 > x0


def test_the_drawing_fits_the_view_box_with_its_padding_and_is_centred():
    bounds = Bounds(south=-20.0, west=-44.0, north=-19.9, east=-43.9)
    projection = Projection.fit(bounds, width=WIDTH, max_height=400)
    corners = [projection(lat, lon) for lat in (-20.0, -19.9) for lon in (-44.0, -43.9)]
    xs, ys = [x for x, _ in corners], [y for _, y in corners]
    assert min(ys) == pytest.approx(PADDING) and max(ys) == pytest.approx(400 - PADDING)
    assert min(xs) >= PADDING and max(xs) <= WIDTH - PADDING
    # Taller than wide here (squashed longitudes): centred across.
    assert min(xs) == pytest.approx(WIDTH - max(xs))
    assert projection.height == 400


def test_a_wide_area_takes_the_whole_width_and_a_lower_height():
    bounds = Bounds(south=-20.0, west=-44.2, north=-19.9, east=-43.8)
    projection = Projection.fit(bounds)
    xs = [projection(-20.0, lon)[0] for lon in (-44.2, -43.8)]
    assert xs == pytest.approx([PADDING, WIDTH - PADDING])
    assert MIN_HEIGHT <= projection.height < WIDTH


def test_one_point_gets_a_minimum_span_around_it():
    bounds = Bounds.around([(-19.92, -43.94)])
    assert bounds.north - bounds.south == pytest.approx(MIN_SPAN)
    assert bounds.east - bounds.west == pytest.approx(MIN_SPAN)
    x, y = Projection.fit(bounds)(-19.92, -43.94)
    assert x == pytest.approx(WIDTH / 2)
    assert Bounds.around([]) is None


def test_path_data_draws_every_ring_of_a_multipolygon():
    multi = {"type": "MultiPolygon", "coordinates": [SQUARE["coordinates"], INNER["coordinates"]]}
    projection = Projection.fit(Bounds(-20.0, -44.0, -19.9, -43.9))
    data = path_data(multi, projection)
    assert data.count("M") == 2 and data.count("Z") == 2
    assert path_data({"type": "Point", "coordinates": [0, 0]}, projection) == ""


# --- the drawing -------------------------------------------------------------------------


def test_outlines_and_numbered_points_with_titles():
    markup = map_svg(
        "m",
        "Map of the works",
        "Two points.",
        [Outline("Barreiro", SQUARE)],
        [
            Spot(1, -19.95, -43.95, "Praça"),
            Spot(2, -19.93, -43.91, "Escola", kind="selected"),
        ],
    )
    root = parse(markup)
    assert root.get("role") == "img" and root.get("aria-label") == "Map of the works"
    assert root.find(f"{SVG}title").text == "Map of the works"
    assert root.get("aria-describedby") == "m-desc"
    assert root.find(f"{SVG}desc").get("id") == "m-desc"
    region = root.find(f"{SVG}path")
    assert region.get("class") == "map-region" and region.find(f"{SVG}title").text == "Barreiro"
    names = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "map-region-name"]
    assert names == ["Barreiro"]
    spots = [g for g in root.iter(f"{SVG}g") if "map-spot" in g.get("class", "")]
    assert [g.get("data-number") for g in spots] == ["1", "2"]
    assert [g.find(f"{SVG}title").text for g in spots] == ["1. Praça", "2. Escola"]
    assert [g.find(f"{SVG}text").text for g in spots] == ["1", "2"]
    assert "map-spot-selected" in spots[1].get("class")
    # Points inside the outline are drawn inside the view box.
    width, height = view_box(root)[2:]
    for g in spots:
        circle = g.find(f"{SVG}circle")
        assert 0 < float(circle.get("cx")) < width and 0 < float(circle.get("cy")) < height


def test_text_typed_by_people_is_escaped():
    hostile = '<script>alert("x")</script> & "quotes"'
    markup = str(
        map_svg(
            'id"><script>',
            hostile,
            hostile,
            [Outline(hostile, SQUARE)],
            [Spot(1, -19.95, -43.95, hostile, kind='"><b>')],
        )
    )
    assert "<script>" not in markup and "<b>" not in markup
    root = parse(markup)  # still well-formed XML
    assert root.get("aria-label") == hostile
    assert root.find(f"{SVG}path").find(f"{SVG}title").text == hostile


def test_points_only_without_any_outline():
    root = parse(
        map_svg("m", "t", "d", [], [Spot(1, -19.9, -43.9, "A"), Spot(2, -19.8, -43.8, "B")])
    )
    assert root.find(f"{SVG}path") is None
    assert len([g for g in root.iter(f"{SVG}g")]) == 2


def test_outlines_only_without_any_point():
    root = parse(map_svg("m", "t", "d", [Outline("Leste", SQUARE)], []))
    assert root.find(f"{SVG}path") is not None
    assert not [g for g in root.iter(f"{SVG}g")]


def test_nothing_to_draw_says_so():
    root = parse(map_svg("m", "t", "d", [], [], empty_text="Nothing <here>"))
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert texts == ["Nothing <here>"]
    assert view_box(root)[3] == MIN_HEIGHT


def test_a_single_point_map_has_no_number_and_an_outline_without_rings_is_skipped():
    empty = {"type": "Polygon", "coordinates": []}
    root = parse(map_svg("m", "t", "d", [Outline("Nada", empty)], [Spot(0, -19.9, -43.9, "Aqui")]))
    (spot,) = [g for g in root.iter(f"{SVG}g")]
    assert spot.find(f"{SVG}title").text == "Aqui" and spot.find(f"{SVG}text") is None
    assert root.find(f"{SVG}path") is None


def test_detailed_outlines_are_simplified_to_what_can_be_seen():
    # A circle of 5,000 vertices becomes a few hundred at most at 640 units wide.
    ring = [
        [
            -43.94 + 0.05 * math.cos(t / 5000 * 2 * math.pi),
            -19.92 + 0.05 * math.sin(t / 5000 * 2 * math.pi),
        ]
        for t in range(5000)
    ]
    ring.append(ring[0])
    markup = str(
        map_svg("m", "t", "d", [Outline("Roda", {"type": "Polygon", "coordinates": [ring]})])
    )
    (data,) = re.findall(r' d="([^"]*)"', markup)
    numbers = re.findall(r"-?\d+\.\d", data)
    assert 2 * 20 < len(numbers) < 2 * 800


def test_a_region_name_moves_off_a_point_drawn_where_it_would_be():
    def name_and_spot(spots):
        root = parse(map_svg("m", "t", "d", [Outline("Barreiro", SQUARE)], spots))
        (name,) = [t for t in root.iter(f"{SVG}text") if t.get("class") == "map-region-name"]
        return float(name.get("y"))

    alone = name_and_spot([])
    # A point right where the name would be (the square's centre), then the name moves.
    covered = name_and_spot([Spot(1, -19.95, -43.95, "No meio")])
    assert covered != alone
    assert abs(covered - alone) >= 12
