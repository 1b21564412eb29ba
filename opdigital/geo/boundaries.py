"""Region boundaries from a GeoJSON file (`opdigital regions boundaries FILE.geojson`).

The file is a FeatureCollection (RFC 7946): one Feature per region, named by `properties.slug`
or `properties.name` (accents, case and punctuation aside), with a Polygon or MultiPolygon
geometry in WGS 84 longitude/latitude. Every feature is checked before anything is stored, and
every bad one is reported with its index, its name and the reason; one bad feature and nothing
is stored. Overlapping regions are only a warning: official outlines often overlap by a street's
width, and a point in the overlap is then accepted in either region.

The messages are the operator's (a command's output), in English like the other commands'.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from shapely.errors import GEOSException
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from opdigital.audit import services as audit
from opdigital.extensions import db
from opdigital.geo.shapes import boundary_shape
from opdigital.regions.models import Region
from opdigital.text_safety import has_control_characters

# The nine regions of Belo Horizonte at the detail of the city's own cartography are well under
# a megabyte; anything near this is the wrong file (or would make every map page heavy).
MAX_FILE_BYTES = 8 * 1024 * 1024
MAX_SOURCE_LENGTH = 200  # region.boundary_source
ALLOWED_TYPES = ("Polygon", "MultiPolygon")
# The only coordinate systems a GeoJSON file may name (RFC 7946 §4): WGS 84 longitude/latitude.
WGS84_NAMES = frozenset(
    {
        "urn:ogc:def:crs:OGC:1.3:CRS84",
        "urn:ogc:def:crs:OGC::CRS84",
        "EPSG:4326",
        "urn:ogc:def:crs:EPSG::4326",
    }
)
# Shared borders intersect with zero area; anything above this (about 1 m²) is an overlap.
OVERLAP_MIN_AREA = 1e-10
_KM_PER_DEGREE = 111.32


class BoundaryFileError(ValueError):
    """The file cannot be read as boundaries at all (too large, not JSON, not a collection)."""


@dataclass(frozen=True)
class FeatureProblem:
    """Why one feature cannot be imported."""

    index: int  # its position in `features` (0-based, as in features[index])
    name: str  # the name or slug it gives, or "unnamed"
    reason: str

    def __str__(self) -> str:
        return f'features[{self.index}] "{self.name}": {self.reason}'


class BoundariesRefused(ValueError):
    """Some features are bad: nothing was stored."""

    def __init__(self, problems: list[FeatureProblem]) -> None:
        super().__init__(f"{len(problems)} bad feature(s); nothing was stored.")
        self.problems = problems


@dataclass(frozen=True)
class Outline:
    """A good feature: the region it names and its geometry (compact GeoJSON text)."""

    index: int
    region: Region
    boundary: str
    shape: BaseGeometry


@dataclass(frozen=True)
class Overlap:
    first: str  # region names
    second: str
    area_km2: float

    def __str__(self) -> str:
        return (
            f"the boundaries of {self.first} and {self.second} overlap "
            f"(about {self.area_km2:.3f} km²)"
        )


@dataclass
class BoundaryReport:
    features: int
    updated: list[str] = field(default_factory=list)  # region slugs
    unchanged: list[str] = field(default_factory=list)
    overlaps: list[Overlap] = field(default_factory=list)
    without_boundary: list[str] = field(default_factory=list)  # region names, after the import
    dry_run: bool = False


# --- reading the file --------------------------------------------------------------------------


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a number in JSON")


def read_collection(path: Path) -> tuple[dict, str]:
    """The file's FeatureCollection and its SHA-256 (kept in the audit log).

    Raises BoundaryFileError when the file is too large, not UTF-8 JSON, or not a
    FeatureCollection of WGS 84 coordinates."""
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise BoundaryFileError(
            f"The file has {size:,} bytes; boundaries are limited to {MAX_FILE_BYTES:,} bytes. "
            "Simplify the outlines (e.g. mapshaper's -simplify) and try again."
        )
    raw = path.read_bytes()
    return parse_collection(raw), hashlib.sha256(raw).hexdigest()


def parse_collection(raw: bytes) -> dict:
    """The FeatureCollection in `raw` (UTF-8 JSON); raises BoundaryFileError."""
    if len(raw) > MAX_FILE_BYTES:
        raise BoundaryFileError(f"The file is larger than {MAX_FILE_BYTES:,} bytes.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise BoundaryFileError(f"The file is not UTF-8 text (byte {e.start}).") from e
    try:
        collection = json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as e:
        raise BoundaryFileError(f"The file is not valid JSON: {e}") from e
    if not isinstance(collection, dict) or collection.get("type") != "FeatureCollection":
        raise BoundaryFileError(
            'The file is not a GeoJSON FeatureCollection ({"type": "FeatureCollection", '
            '"features": [...]}).'
        )
    features = collection.get("features")
    if not isinstance(features, list) or not features:
        raise BoundaryFileError("The FeatureCollection has no features.")
    crs_name = _crs_name(collection.get("crs"))
    if crs_name is not None and crs_name not in WGS84_NAMES:
        raise BoundaryFileError(
            f"The file's coordinates are in {crs_name}; boundaries must be in WGS 84 "
            "longitude/latitude (EPSG:4326, as GeoJSON requires). Reproject the file first."
        )
    return collection


def _crs_name(crs) -> str | None:
    """The name in an old-style (GeoJSON 2008) `crs` member, if the file has one."""
    properties = crs.get("properties") if isinstance(crs, dict) else None
    name = properties.get("name") if isinstance(properties, dict) else None
    return str(name) if name else None


# --- checking the features -------------------------------------------------------------------


def name_key(text: str) -> str:
    """'Centro-Sul', 'centro sul', 'CENTRO–SUL' -> 'centro sul': accents, case, punctuation
    and spacing aside."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return " ".join(re.sub(r"[^0-9a-z]+", " ", plain).split())


def _regions() -> tuple[dict[str, Region], dict[str, Region]]:
    regions = list(db.session.scalars(sa.select(Region).order_by(Region.id)))
    by_slug = {r.slug: r for r in regions}
    # A name wins over another region's slug read as a name.
    by_key = {name_key(r.slug): r for r in regions} | {name_key(r.name): r for r in regions}
    return by_slug, by_key


def _feature_name(properties: dict) -> str:
    for key in ("name", "slug"):
        value = properties.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return "unnamed"


def _find_region(properties: dict, by_slug: dict, by_key: dict) -> Region | str:
    """The region the feature names, or why none."""
    slug = properties.get("slug")
    if isinstance(slug, str) and slug.strip():
        found = by_slug.get(slug.strip()) or by_key.get(name_key(slug))
        return found or f"there is no region with the slug {slug.strip()!r}"
    name = properties.get("name")
    if isinstance(name, str) and name.strip():
        found = by_key.get(name_key(name))
        return found or f"there is no region named {name.strip()!r}"
    return "it names no region: give properties.slug or properties.name"


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _short(value) -> str:
    """A value as JSON, cut short: a message quotes the position, never a whole ring."""
    text = json.dumps(value, separators=(", ", ": "))
    return text if len(text) <= 60 else text[:57] + "..."


def _position_problem(position) -> str | None:
    if not isinstance(position, list) or len(position) not in (2, 3):
        return f"{_short(position)} is not a position ([longitude, latitude])"
    if not all(_is_number(v) for v in position):
        return f"{_short(position)} is not a position: its coordinates must be numbers"
    longitude, latitude = position[0], position[1]
    if not (-180 <= longitude <= 180 and -90 <= latitude <= 90):
        return (
            f"the position {_short(position)} is outside WGS 84 (longitude -180 to 180, "
            "latitude -90 to 90): is the file in another coordinate system, such as UTM in "
            "metres? GeoJSON coordinates are [longitude, latitude] in degrees"
        )
    return None


def _ring_problem(ring, where: str) -> str | None:
    if not isinstance(ring, list) or len(ring) < 4:
        return f"{where} is not a closed ring: it needs at least 4 positions"
    for position in ring:
        problem = _position_problem(position)
        if problem:
            return problem
    if ring[0][:2] != ring[-1][:2]:
        return f"{where} is not closed: its first and last positions must be the same"
    return None


def _polygon_problem(rings, where: str) -> str | None:
    if not isinstance(rings, list):
        return f"{where} is not a list of rings"
    for number, ring in enumerate(rings):
        label = f"{where}'s {'outer ring' if number == 0 else f'hole {number}'}"
        problem = _ring_problem(ring, label)
        if problem:
            return problem
    return None


def _coordinates_problem(kind: str, coordinates) -> str | None:
    if not isinstance(coordinates, list):
        return "the geometry has no coordinates"
    if not coordinates:
        return "the geometry is empty"
    if kind == "Polygon":
        return _polygon_problem(coordinates, "the polygon")
    for number, polygon in enumerate(coordinates):
        if not polygon:
            return f"polygon {number} of the MultiPolygon is empty"
        problem = _polygon_problem(polygon, f"polygon {number}")
        if problem:
            return problem
    return None


def _flat(kind: str, coordinates) -> dict:
    """The geometry as stored: its type and coordinates only, positions as [lon, lat]."""

    def ring(r):
        return [[p[0], p[1]] for p in r]

    if kind == "Polygon":
        return {"type": kind, "coordinates": [ring(r) for r in coordinates]}
    return {"type": kind, "coordinates": [[ring(r) for r in poly] for poly in coordinates]}


def _geometry_problem(geometry) -> tuple[str | None, dict | None, BaseGeometry | None]:
    if not isinstance(geometry, dict):
        return "it has no geometry", None, None
    kind = geometry.get("type")
    if kind not in ALLOWED_TYPES:
        return (
            f"its geometry is a {kind if isinstance(kind, str) else 'thing of no type'}; "
            "a region's boundary must be a Polygon or a MultiPolygon",
            None,
            None,
        )
    problem = _coordinates_problem(kind, geometry.get("coordinates"))
    if problem:
        return problem, None, None
    flat = _flat(kind, geometry["coordinates"])
    try:
        outline = shape(flat)
    except (ValueError, GEOSException) as e:  # a shape GEOS cannot build at all
        return f"the geometry cannot be read: {e}", None, None
    if outline.is_empty:
        return "the geometry is empty", None, None
    if not outline.is_valid:
        return f"the geometry is not valid: {explain_validity(outline)}", None, None
    return None, flat, outline


def check_collection(collection: dict) -> tuple[list[Outline], list[FeatureProblem]]:
    """Every feature checked: the good ones as outlines, and the problems of the bad ones."""
    by_slug, by_key = _regions()
    outlines: list[Outline] = []
    problems: list[FeatureProblem] = []
    seen: dict[int, int] = {}  # region id -> index of the feature that gave it
    for index, feature in enumerate(collection["features"]):
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            problems.append(FeatureProblem(index, "unnamed", "it is not a GeoJSON Feature"))
            continue
        properties = feature.get("properties")
        properties = properties if isinstance(properties, dict) else {}
        name = _feature_name(properties)
        reasons = []
        region = _find_region(properties, by_slug, by_key)
        if isinstance(region, str):
            reasons.append(region)
        elif region.id in seen:
            earlier = seen[region.id]
            reasons.append(f"the region {region.name} is already given by features[{earlier}]")
        else:
            seen[region.id] = index
        reason, flat, outline = _geometry_problem(feature.get("geometry"))
        if reason:
            reasons.append(reason)
        if reasons:
            problems += [FeatureProblem(index, name, r) for r in reasons]
            continue
        text = json.dumps(flat, separators=(",", ":"))
        outlines.append(Outline(index, region, text, outline))
    return outlines, problems


def find_overlaps(named: list[tuple[str, BaseGeometry]]) -> list[Overlap]:
    """Pairs of outlines that share more than a border, with the overlap's rough area."""
    overlaps = []
    for i, (first, a) in enumerate(named):
        for second, b in named[i + 1 :]:
            if not a.intersects(b):
                continue
            area = a.intersection(b).area
            if area > OVERLAP_MIN_AREA:
                latitude = a.centroid.y
                km2 = area * _KM_PER_DEGREE**2 * math.cos(math.radians(latitude))
                overlaps.append(Overlap(first, second, km2))
    return overlaps


# --- importing ---------------------------------------------------------------------------------


def check_source(source: str) -> str:
    """The source text, trimmed; ValueError when it cannot be stored or shown."""
    source = source.strip()
    if len(source) > MAX_SOURCE_LENGTH:
        raise ValueError(f"The source must have at most {MAX_SOURCE_LENGTH} characters.")
    if has_control_characters(source):
        raise ValueError("The source must be one line of text, without control characters.")
    return source


def import_boundaries(
    collection: dict,
    *,
    source: str,
    approximate: bool,
    actor=None,
    dry_run: bool = False,
    digest: str = "",
) -> BoundaryReport:
    """Store the collection's outlines on their regions, all or nothing.

    Raises BoundariesRefused (nothing stored) when any feature is bad. Regions the file does not
    name keep the boundary they had. With `dry_run`, everything is checked and reported and
    nothing is stored. One audit entry records what changed, with the file's digest.
    """
    source = check_source(source)
    outlines, problems = check_collection(collection)
    if problems:
        raise BoundariesRefused(problems)
    report = BoundaryReport(features=len(collection["features"]), dry_run=dry_run)
    named = {o.region.id: (o.region.name, o.shape) for o in outlines}
    for region in db.session.scalars(sa.select(Region).order_by(Region.name)):
        if region.id not in named and region.boundary:
            named[region.id] = (region.name, boundary_shape(region.boundary))
    report.overlaps = find_overlaps(sorted(named.values(), key=lambda item: item[0]))
    for outline in sorted(outlines, key=lambda o: o.region.name):
        region = outline.region
        same = (region.boundary, region.boundary_source, region.boundary_approximate) == (
            outline.boundary,
            source,
            approximate,
        )
        (report.unchanged if same else report.updated).append(region.slug)
        if not dry_run and not same:
            region.boundary = outline.boundary
            region.boundary_source = source
            region.boundary_approximate = approximate
    named_ids = set(named)
    report.without_boundary = [
        r.name
        for r in db.session.scalars(sa.select(Region).order_by(Region.name))
        if r.id not in named_ids
    ]
    if dry_run:
        db.session.rollback()
        return report
    if report.updated:
        audit.record(
            actor,
            "region.boundaries",
            None,
            after={
                "features": report.features,
                "updated": report.updated,
                "unchanged": len(report.unchanged),
                "overlaps": [[o.first, o.second] for o in report.overlaps],
                "source": source,
                "approximate": approximate,
                "sha256": digest,
            },
        )
    db.session.commit()
    return report
