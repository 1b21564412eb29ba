"""A JSON Schema for GeoJSON (RFC 7946), written here so the tests need no network.

Covers what the app writes and reads: FeatureCollection, Feature, and the Point, Polygon and
MultiPolygon geometries (and, for completeness of a Feature's geometry, the other four types).
What a schema cannot say is checked by `assert_geojson`: rings closed, and every position
[longitude, latitude] within range (RFC 7946 §3.1.1: longitude first).

No tests here.
"""

from __future__ import annotations

from jsonschema import Draft202012Validator

_BBOX = {"type": "array", "minItems": 4, "items": {"type": "number"}}

# A position: [longitude, latitude] with an optional altitude (RFC 7946 §3.1.1).
_POSITION = {"type": "array", "minItems": 2, "maxItems": 3, "items": {"type": "number"}}
# A linear ring: closed, so at least four positions (§3.1.6); closure checked below.
_RING = {"type": "array", "minItems": 4, "items": {"$ref": "#/$defs/Position"}}


def _geometry(kind: str, coordinates: dict) -> dict:
    return {
        "type": "object",
        "required": ["type", "coordinates"],
        "properties": {
            "type": {"const": kind},
            "coordinates": coordinates,
            "bbox": _BBOX,
        },
    }


GEOJSON_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "urn:opdigital:test:geojson",
    "title": "GeoJSON (RFC 7946)",
    "oneOf": [
        {"$ref": "#/$defs/FeatureCollection"},
        {"$ref": "#/$defs/Feature"},
        {"$ref": "#/$defs/Geometry"},
    ],
    "$defs": {
        "Position": _POSITION,
        "LinearRing": _RING,
        "Point": _geometry("Point", {"$ref": "#/$defs/Position"}),
        "MultiPoint": _geometry(
            "MultiPoint", {"type": "array", "items": {"$ref": "#/$defs/Position"}}
        ),
        "LineString": _geometry(
            "LineString", {"type": "array", "minItems": 2, "items": {"$ref": "#/$defs/Position"}}
        ),
        "MultiLineString": _geometry(
            "MultiLineString",
            {
                "type": "array",
                "items": {"type": "array", "minItems": 2, "items": {"$ref": "#/$defs/Position"}},
            },
        ),
        "Polygon": _geometry("Polygon", {"type": "array", "items": {"$ref": "#/$defs/LinearRing"}}),
        "MultiPolygon": _geometry(
            "MultiPolygon",
            {"type": "array", "items": {"type": "array", "items": {"$ref": "#/$defs/LinearRing"}}},
        ),
        "GeometryCollection": {
            "type": "object",
            "required": ["type", "geometries"],
            "properties": {
                "type": {"const": "GeometryCollection"},
                "geometries": {"type": "array", "items": {"$ref": "#/$defs/Geometry"}},
                "bbox": _BBOX,
            },
        },
        "Geometry": {
            "oneOf": [
                {"$ref": "#/$defs/Point"},
                {"$ref": "#/$defs/MultiPoint"},
                {"$ref": "#/$defs/LineString"},
                {"$ref": "#/$defs/MultiLineString"},
                {"$ref": "#/$defs/Polygon"},
                {"$ref": "#/$defs/MultiPolygon"},
                {"$ref": "#/$defs/GeometryCollection"},
            ]
        },
        "Feature": {
            "type": "object",
            # §3.2: "geometry" and "properties" are required members, either may be null.
            "required": ["type", "geometry", "properties"],
            "properties": {
                "type": {"const": "Feature"},
                "id": {"type": ["string", "number"]},
                "geometry": {"oneOf": [{"type": "null"}, {"$ref": "#/$defs/Geometry"}]},
                "properties": {"type": ["object", "null"]},
                "bbox": _BBOX,
            },
        },
        "FeatureCollection": {
            "type": "object",
            "required": ["type", "features"],
            "properties": {
                "type": {"const": "FeatureCollection"},
                "features": {"type": "array", "items": {"$ref": "#/$defs/Feature"}},
                "bbox": _BBOX,
            },
        },
    },
}

VALIDATOR = Draft202012Validator(GEOJSON_SCHEMA)
Draft202012Validator.check_schema(GEOJSON_SCHEMA)


def _rings(geometry: dict):
    kind = geometry["type"]
    if kind == "Polygon":
        yield from geometry["coordinates"]
    elif kind == "MultiPolygon":
        for polygon in geometry["coordinates"]:
            yield from polygon


def _positions(geometry: dict):
    kind, coordinates = geometry["type"], geometry.get("coordinates")
    if kind == "Point":
        yield coordinates
    elif kind in ("MultiPoint", "LineString"):
        yield from coordinates
    elif kind in ("MultiLineString", "Polygon"):
        for line in coordinates:
            yield from line
    elif kind == "MultiPolygon":
        for polygon in coordinates:
            for ring in polygon:
                yield from ring
    elif kind == "GeometryCollection":
        for member in geometry["geometries"]:
            yield from _positions(member)


def geometries(document: dict):
    """Every geometry of a FeatureCollection, Feature or geometry."""
    if document["type"] == "FeatureCollection":
        for feature in document["features"]:
            yield from geometries(feature)
    elif document["type"] == "Feature":
        if document["geometry"] is not None:
            yield document["geometry"]
    else:
        yield document


def assert_geojson(document) -> None:
    """`document` is GeoJSON per the schema, its rings closed and its positions in range with
    the longitude first."""
    VALIDATOR.validate(document)
    for geometry in geometries(document):
        for ring in _rings(geometry):
            assert ring[0] == ring[-1], f"ring not closed: {ring[0]} ... {ring[-1]}"
        for longitude, latitude, *_altitude in _positions(geometry):
            assert -180 <= longitude <= 180, f"longitude {longitude} out of range"
            assert -90 <= latitude <= 90, f"latitude {latitude} out of range"
