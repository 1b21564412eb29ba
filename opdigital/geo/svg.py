"""Server-drawn maps as inline SVG: region outlines and numbered points (no Flask, no database).

Why on the server: every map page must work without JavaScript and under a Content-Security-
Policy with no inline styles or scripts, so the map is plain markup coloured by presentation
attributes and classes (static/css/maps.css). With JavaScript, static/js/map.js puts an
interactive map in its place; without it, this drawing is the map. Each point carries the number
of its entry in the list beside the map, which gives the same information in full (the <desc>
says so).

The projection is equirectangular, with longitudes scaled by the cosine of the middle latitude:
at a city's scale (Belo Horizonte spans about 0.3 degrees) shapes and distances look right, with
no projection library.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

WIDTH = 640
MIN_HEIGHT = 200
MAX_HEIGHT = 760
PADDING = 16  # room around the drawing for the circles and the labels at its edges
RADIUS = 11  # a point's circle: room for a number of three digits at FONT_SIZE
FONT_SIZE = 12
# A map of one point (or of points all in the same place) still needs a scale: this many degrees
# around it, about a kilometre.
MIN_SPAN = 0.01
# Outlines are simplified to about this fraction of a user unit: finer detail is invisible, and
# real boundaries have thousands of vertices.
SIMPLIFY_UNITS = 0.5

# Fill colours by a point's kind (static/css/site.css's --brand, --ok, --muted).
_FILLS = {"selected": "#1e6b34", "not-selected": "#4a5561"}
_DEFAULT_FILL = "#0b5394"


@dataclass(frozen=True)
class Outline:
    """A region's outline: its name and its GeoJSON geometry (Polygon or MultiPolygon)."""

    name: str
    geometry: dict


@dataclass(frozen=True)
class Spot:
    """A numbered point: `number` is its entry in the list beside the map (0: a map of one
    point, which needs no number), `label` its title.
    `kind` ("selected", "not-selected"...) is a class and a colour, never the only sign of
    anything (the list says it in words)."""

    number: int
    latitude: float
    longitude: float
    label: str
    kind: str = ""


@dataclass(frozen=True)
class Bounds:
    south: float
    west: float
    north: float
    east: float

    @classmethod
    def around(cls, points: Iterable[tuple[float, float]]) -> Bounds | None:
        """The smallest box around (latitude, longitude) pairs, at least MIN_SPAN wide and high;
        None for no points."""
        points = list(points)
        if not points:
            return None
        lats = [lat for lat, _ in points]
        lons = [lon for _, lon in points]
        south, north = _widen(min(lats), max(lats))
        west, east = _widen(min(lons), max(lons))
        return cls(south, west, north, east)


def _widen(low: float, high: float) -> tuple[float, float]:
    if high - low >= MIN_SPAN:
        return low, high
    middle = (low + high) / 2
    return middle - MIN_SPAN / 2, middle + MIN_SPAN / 2


@dataclass(frozen=True)
class Projection:
    """Equirectangular, longitudes scaled by cos(middle latitude), fitted into a viewBox of
    `width` × `height` with PADDING around, centred."""

    bounds: Bounds
    scale: float  # user units per degree of latitude
    x_scale: float  # user units per degree of longitude
    width: int
    height: int
    x_offset: float
    y_offset: float

    @classmethod
    def fit(cls, bounds: Bounds, width: int = WIDTH, max_height: int = MAX_HEIGHT) -> Projection:
        middle = math.radians((bounds.south + bounds.north) / 2)
        squash = math.cos(middle)
        span_x = (bounds.east - bounds.west) * squash
        span_y = bounds.north - bounds.south
        room = width - 2 * PADDING
        scale = min(room / span_x, (max_height - 2 * PADDING) / span_y)
        height = max(MIN_HEIGHT, math.ceil(span_y * scale + 2 * PADDING))
        return cls(
            bounds=bounds,
            scale=scale,
            x_scale=scale * squash,
            width=width,
            height=height,
            x_offset=(width - span_x * scale) / 2,
            y_offset=(height - span_y * scale) / 2,
        )

    def __call__(self, latitude: float, longitude: float) -> tuple[float, float]:
        """(x, y) in user units; y grows southwards, as on screen."""
        x = self.x_offset + (longitude - self.bounds.west) * self.x_scale
        y = self.y_offset + (self.bounds.north - latitude) * self.scale
        return x, y


def _rings(geometry: dict) -> list[list[list[float]]]:
    """Every ring (outer and holes) of a Polygon or MultiPolygon, as [longitude, latitude]s."""
    if geometry.get("type") == "Polygon":
        return list(geometry["coordinates"])
    if geometry.get("type") == "MultiPolygon":
        return [ring for polygon in geometry["coordinates"] for ring in polygon]
    return []


def _simplified(geometry: dict, projection: Projection) -> dict:
    tolerance = SIMPLIFY_UNITS / projection.scale
    from shapely.geometry import shape  # on first use: see `geo.shapes`

    return shape(geometry).simplify(tolerance, preserve_topology=True).__geo_interface__


def path_data(geometry: dict, projection: Projection) -> str:
    """An SVG path ("M x y L ... Z" per ring) for a Polygon or MultiPolygon geometry."""
    commands = []
    for ring in _rings(geometry):
        points = [projection(lat, lon) for lon, lat, *_ in ring]
        if len(points) < 3:
            continue
        head, *tail = points
        line = " ".join(f"{x:.1f} {y:.1f}" for x, y in tail)
        commands.append(f"M{head[0]:.1f} {head[1]:.1f} L{line} Z")
    return " ".join(commands)


def _label_point(geometry: dict, projection: Projection) -> tuple[float, float]:
    # A point inside the shape (a centroid may fall outside a concave region).
    from shapely.geometry import shape

    inside = shape(geometry).representative_point()
    return projection(inside.y, inside.x)


def _outline_points(outlines: Sequence[Outline]) -> list[tuple[float, float]]:
    return [(lat, lon) for o in outlines for ring in _rings(o.geometry) for lon, lat, *_ in ring]


def _text(x: float, y: float, text: str, css_class: str, size: int = FONT_SIZE) -> str:
    # The white outline (painted under the letters) keeps names readable over lines and fills.
    return (
        f'<text class="{css_class}" x="{x:.1f}" y="{y:.1f}" text-anchor="middle" '
        f'dominant-baseline="central" font-size="{size}" paint-order="stroke" '
        f'stroke="#ffffff" stroke-width="3" fill="#1b1f24">{escape(text)}</text>'
    )


def map_svg(
    svg_id: str,
    title: str,
    description: str,
    outlines: Sequence[Outline] = (),
    spots: Sequence[Spot] = (),
    *,
    empty_text: str = "",
    width: int = WIDTH,
    max_height: int = MAX_HEIGHT,
    region_labels: bool = True,
) -> Markup:
    """The map as accessible inline SVG markup: an image named by `title` and described by
    `description`, region outlines with their names, and the numbered points on top.

    `svg_id` must be unique on the page (the <title> and <desc> ids derive from it). Every text
    is escaped here: names and titles typed by citizens cannot inject markup. With nothing to
    draw, the image says `empty_text`.
    """
    outlines = [o for o in outlines if _rings(o.geometry)]
    bounds = Bounds.around(_outline_points(outlines) + [(s.latitude, s.longitude) for s in spots])
    title_id, desc_id = f"{svg_id}-title", f"{svg_id}-desc"
    height = MIN_HEIGHT
    body: list[str] = []
    if bounds is None:
        body.append(_text(width / 2, height / 2, empty_text, "map-empty", 16))
    else:
        projection = Projection.fit(bounds, width, max_height)
        height = projection.height
        points = [projection(s.latitude, s.longitude) for s in spots]
        body.extend(_outline_markup(outlines, projection, region_labels, points))
        body.extend(_spot_markup(spots, projection))
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="map-svg" id="{escape(svg_id)}" '
        f'role="img" aria-label="{escape(title)}" aria-describedby="{escape(desc_id)}" '
        f'viewBox="0 0 {width} {height}" preserveAspectRatio="xMidYMid meet">'
        f'<title id="{escape(title_id)}">{escape(title)}</title>'
        f'<desc id="{escape(desc_id)}">{escape(description)}</desc>'
    )
    # Safe: every piece of text above went through html.escape.
    return Markup(head + "".join(body) + "</svg>")  # noqa: S704


def _label_position(
    name: str, anchor: tuple[float, float], points: Sequence[tuple[float, float]]
) -> tuple[float, float]:
    """Where a region's name goes: at `anchor` (inside the region), or just below or above it
    when a point's circle would cover it there."""
    half_width = len(name) * FONT_SIZE * 0.3 + RADIUS  # about 0.6 em per character
    x, y = anchor
    for dy in (0, FONT_SIZE + RADIUS, -(FONT_SIZE + RADIUS), 2 * (FONT_SIZE + RADIUS)):
        clear = all(
            abs(px - x) > half_width or abs(py - (y + dy)) > RADIUS + FONT_SIZE / 2
            for px, py in points
        )
        if clear:
            return x, y + dy
    return anchor


def _outline_markup(
    outlines: Sequence[Outline],
    projection: Projection,
    labels: bool,
    points: Sequence[tuple[float, float]],
):
    shapes, names = [], []
    for outline in outlines:
        geometry = _simplified(outline.geometry, projection)
        shapes.append(
            f'<path class="map-region" d="{path_data(geometry, projection)}" fill="#eef3f8" '
            f'stroke="#0b5394" stroke-width="1.5" fill-rule="evenodd">'
            f"<title>{escape(outline.name)}</title></path>"
        )
        if labels:
            anchor = _label_point(outline.geometry, projection)
            x, y = _label_position(outline.name, anchor, points)
            names.append(_text(x, y, outline.name, "map-region-name"))
    # Names after every outline, so that no neighbour's fill covers them.
    return shapes + names


def _spot_markup(spots: Sequence[Spot], projection: Projection):
    for spot in spots:
        x, y = projection(spot.latitude, spot.longitude)
        fill = _FILLS.get(spot.kind, _DEFAULT_FILL)
        kind = f" map-spot-{escape(spot.kind)}" if spot.kind else ""
        name = f"{spot.number}. {spot.label}" if spot.number else spot.label
        number = (
            f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="middle" dominant-baseline="central" '
            f'font-size="{FONT_SIZE}" font-weight="700" fill="#ffffff">{spot.number}</text>'
            if spot.number
            else ""
        )
        yield (
            f'<g class="map-spot{kind}" data-number="{spot.number}">'
            f"<title>{escape(name)}</title>"
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{RADIUS}" fill="{fill}" stroke="#ffffff" '
            f'stroke-width="2"/>{number}</g>'
        )
