"""`opdigital regions boundaries FILE.geojson`: a valid file stored, each kind of bad feature
reported with its index, name and reason, all or nothing, overlaps warned about, and the demo's
approximate outlines (a file the command takes) tiling the city."""

from __future__ import annotations

import json
from itertools import combinations

import pytest
import sqlalchemy as sa
from shapely import union_all
from shapely.geometry import shape

from opdigital.audit.models import AuditEntry
from opdigital.demo.places import BOUNDARIES_FILE, demo_boundaries
from opdigital.demo.regions import REGIONS
from opdigital.extensions import db
from opdigital.geo import boundaries
from opdigital.geo.boundaries import name_key
from opdigital.regions.models import Region
from tests.support import factories
from tests.support.geojson_schema import assert_geojson
from tests.support.places import EAST, WEST, collection, feature, square, write

BOW_TIE = {
    "type": "Polygon",
    "coordinates": [
        [[-44.0, -20.0], [-43.9, -20.1], [-43.9, -20.0], [-44.0, -20.1], [-44.0, -20.0]]
    ],
}


@pytest.fixture
def regions(app_ctx):
    west = factories.region(slug="barreiro", name="Barreiro")
    east = factories.region(slug="centro-sul", name="Centro-Sul")
    accented = factories.region(slug="sao-gabriel", name="São Gabriel")
    return west, east, accented


@pytest.fixture
def run(runner, tmp_path):
    """Run the command on `document` (written to a file), with extra arguments."""

    def invoke(document, *args: str, name: str = "regioes.geojson"):
        path = tmp_path / name
        if isinstance(document, bytes):
            path.write_bytes(document)
        else:
            write(path, document)
        result = runner.invoke(args=["regions", "boundaries", *args, str(path)])
        db.session.expire_all()
        return result

    return invoke


def stored() -> dict[str, str | None]:
    db.session.expire_all()
    return dict(db.session.execute(sa.select(Region.slug, Region.boundary)).all())


def audit_entries() -> list[AuditEntry]:
    return list(
        db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "region.boundaries"))
    )


def test_a_valid_file_is_stored_compact_with_its_source(regions, run):
    west, east, accented = regions
    document = collection(
        feature(square(*WEST), slug="barreiro", name="Regional Barreiro"),
        # Named instead of slugged, accents and case aside.
        feature(square(*EAST), name="centro sul"),
        feature(
            {
                "type": "MultiPolygon",
                "coordinates": [square(-44.2, -20.2, -44.1, -20.1)["coordinates"]],
            },
            name="SAO GABRIEL",
        ),
    )
    result = run(document, "--source", "PBH, limites das regionais (2024)")
    assert result.exit_code == 0, result.output
    assert "3 features read, 3 regions updated, 0 unchanged" in result.output
    assert "source: PBH, limites das regionais (2024); not approximate" in result.output
    db.session.expire_all()
    assert json.loads(west.boundary) == square(*WEST)
    assert " " not in west.boundary  # compact
    assert json.loads(accented.boundary)["type"] == "MultiPolygon"
    assert west.boundary_source == "PBH, limites das regionais (2024)"
    assert west.boundary_approximate is False
    [entry] = audit_entries()
    assert entry.actor_email == "system"
    assert entry.after["features"] == 3
    assert sorted(entry.after["updated"]) == ["barreiro", "centro-sul", "sao-gabriel"]
    assert entry.after["approximate"] is False and len(entry.after["sha256"]) == 64


def test_approximate_flag_default_source_and_a_region_left_out(regions, run):
    west, east, _accented = regions
    result = run(collection(feature(square(*WEST), slug="barreiro")), "--approximate")
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert west.boundary_approximate is True
    assert west.boundary_source == "regioes.geojson"  # the file's name, when no --source
    assert east.boundary is None
    assert "Regions without a boundary: Centro-Sul, São Gabriel." in result.output


def test_altitude_and_foreign_members_are_dropped(regions, run):
    west = regions[0]
    geometry = square(*WEST)
    geometry["coordinates"] = [[[*p, 850.0] for p in geometry["coordinates"][0]]]
    geometry["bbox"] = list(WEST)
    result = run(collection(feature(geometry, slug="barreiro")))
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert json.loads(west.boundary) == square(*WEST)


def test_importing_the_same_file_again_changes_nothing(regions, run):
    document = collection(feature(square(*WEST), slug="barreiro"))
    assert run(document, "--source", "x").exit_code == 0
    again = run(document, "--source", "x")
    assert again.exit_code == 0, again.output
    assert "0 regions updated, 1 unchanged" in again.output
    assert len(audit_entries()) == 1


def test_a_dry_run_checks_and_stores_nothing(regions, run):
    result = run(collection(feature(square(*WEST), slug="barreiro")), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "1 regions would be updated" in result.output
    assert "Dry run: nothing was stored." in result.output
    assert stored()["barreiro"] is None
    assert audit_entries() == []


def _ring(*points):
    return {"type": "Polygon", "coordinates": [[list(p) for p in points]]}


BAD_FEATURES = [
    ({"type": "Polygon", "coordinates": []}, "unnamed", "it is not a GeoJSON Feature"),
    (feature(square(*EAST)), "unnamed", "it names no region: give properties.slug or"),
    (feature(square(*EAST), slug="leste"), "leste", "there is no region with the slug 'leste'"),
    (feature(square(*EAST), name="Leste"), "Leste", "there is no region named 'Leste'"),
    (feature(None, slug="centro-sul"), "centro-sul", "it has no geometry"),
    (
        feature({"type": "Point", "coordinates": [-43.9, -19.9]}, slug="centro-sul"),
        "centro-sul",
        "its geometry is a Point; a region's boundary must be a Polygon or a MultiPolygon",
    ),
    (
        feature({"type": "Polygon", "coordinates": []}, slug="centro-sul"),
        "centro-sul",
        "the geometry is empty",
    ),
    (
        feature(_ring((-44, -20), (-43.9, -20), (-44, -20)), slug="centro-sul"),
        "centro-sul",
        "the polygon's outer ring is not a closed ring: it needs at least 4 positions",
    ),
    (
        feature(_ring((-44, -20), (-43.9, -20), (-43.9, -19.9), (-44, -19.9)), slug="centro-sul"),
        "centro-sul",
        "the polygon's outer ring is not closed: its first and last positions must be the same",
    ),
    (
        feature(_ring((-44, -20), ("a", -20), (-43.9, -19.9), (-44, -20)), slug="centro-sul"),
        "centro-sul",
        '["a", -20] is not a position: its coordinates must be numbers',
    ),
    (
        # UTM zone 23S metres, not degrees.
        feature(
            _ring((609000, 7796000), (610000, 7796000), (610000, 7797000), (609000, 7796000)),
            slug="centro-sul",
        ),
        "centro-sul",
        "the position [609000, 7796000] is outside WGS 84 (longitude -180 to 180, latitude -90 "
        "to 90): is the file in another coordinate system",
    ),
    (
        feature(BOW_TIE, slug="centro-sul"),
        "centro-sul",
        "the geometry is not valid: Self-intersection[",
    ),
    (
        feature(
            {
                "type": "MultiPolygon",
                "coordinates": [
                    square(-44.0, -20.1, -43.9, -20.0)["coordinates"],
                    square(-43.95, -20.05, -43.85, -19.95)["coordinates"],
                ],
            },
            slug="centro-sul",
        ),
        "centro-sul",
        "the geometry is not valid: Self-intersection[",
    ),
]


@pytest.mark.parametrize(("bad", "name", "reason"), BAD_FEATURES)
def test_each_bad_feature_is_reported_and_nothing_is_stored(regions, run, bad, name, reason):
    good = feature(square(*WEST), slug="barreiro")
    result = run(collection(good, bad))
    assert result.exit_code == 1, result.output
    assert f'features[1] "{name}": {reason}' in result.output
    assert "features[0]" not in result.output
    assert "Error: 1 bad feature(s), listed above. Nothing was stored." in result.output
    assert stored()["barreiro"] is None  # the good one is not stored either
    assert audit_entries() == []


def test_every_bad_feature_is_listed_and_a_region_given_twice_is_one(regions, run):
    document = collection(
        feature(square(*WEST), slug="barreiro"),
        feature(BOW_TIE, slug="nowhere"),
        feature(square(*EAST), name="BARREIRO"),
    )
    result = run(document)
    assert result.exit_code == 1
    assert "features[1] \"nowhere\": there is no region with the slug 'nowhere'" in result.output
    assert 'features[1] "nowhere": the geometry is not valid: Self-intersection' in result.output
    assert (
        'features[2] "BARREIRO": the region Barreiro is already given by features[0]'
        in result.output
    )
    assert "Error: 2 bad feature(s)" in result.output


def test_a_bad_file_keeps_the_boundaries_already_stored(regions, run):
    assert run(collection(feature(square(*WEST), slug="barreiro"))).exit_code == 0
    before = stored()
    result = run(
        collection(feature(square(*EAST), slug="barreiro"), feature(square(*EAST), slug="nowhere"))
    )
    assert result.exit_code == 1
    assert stored() == before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "The file is not valid JSON"),
        (b"\xff\xfe{}", "The file is not UTF-8 text"),
        (b'{"type": "Feature"}', "The file is not a GeoJSON FeatureCollection"),
        (b'{"type": "FeatureCollection", "features": []}', "The FeatureCollection has no features"),
        (b'{"type": "FeatureCollection", "features": [NaN]}', "The file is not valid JSON"),
        (
            b'{"type": "FeatureCollection", "features": [{}], '
            b'"crs": {"type": "name", "properties": {"name": "EPSG:31983"}}}',
            "The file's coordinates are in EPSG:31983; boundaries must be in WGS 84",
        ),
    ],
)
def test_an_unusable_file_is_an_error(regions, run, content, message):
    result = run(content)
    assert result.exit_code == 1, result.output
    assert message in result.output and "Nothing was stored." in result.output


def test_the_file_size_is_capped(regions, run, monkeypatch):
    monkeypatch.setattr(boundaries, "MAX_FILE_BYTES", 100)
    result = run(collection(feature(square(*WEST), slug="barreiro")))
    assert result.exit_code == 1
    assert "boundaries are limited to 100 bytes" in result.output
    assert stored()["barreiro"] is None


def test_a_wgs84_crs_member_is_accepted(regions, run):
    document = collection(feature(square(*WEST), slug="barreiro"))
    document["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}
    assert run(document).exit_code == 0


def test_usage_errors_exit_2(regions, runner, run, tmp_path):
    missing = runner.invoke(args=["regions", "boundaries", str(tmp_path / "none.geojson")])
    assert missing.exit_code == 2
    assert runner.invoke(args=["regions", "boundaries"]).exit_code == 2
    too_long = run(collection(feature(square(*WEST), slug="barreiro")), "--source", "x" * 201)
    assert too_long.exit_code == 2 and "at most 200 characters" in too_long.output
    two_lines = run(collection(feature(square(*WEST), slug="barreiro")), "--source", "a\nb")
    assert two_lines.exit_code == 2
    assert stored()["barreiro"] is None


def test_overlapping_regions_are_stored_with_a_warning(regions, run):
    wider = square(-44.06, -20.06, -43.99, -20.00)  # 0.01° into its neighbour
    result = run(
        collection(feature(wider, slug="barreiro"), feature(square(*EAST), slug="centro-sul"))
    )
    assert result.exit_code == 0, result.output
    assert "Warning: the boundaries of Barreiro and Centro-Sul overlap (about " in result.output
    assert stored()["barreiro"] is not None
    assert audit_entries()[0].after["overlaps"] == [["Barreiro", "Centro-Sul"]]


def test_overlaps_with_a_boundary_already_stored_are_warned_about_too(regions, run):
    assert run(collection(feature(square(*EAST), slug="centro-sul"))).exit_code == 0
    wider = square(-44.06, -20.06, -43.99, -20.00)
    result = run(collection(feature(wider, slug="barreiro")))
    assert result.exit_code == 0
    assert "the boundaries of Barreiro and Centro-Sul overlap" in result.output


def test_neighbours_sharing_a_border_do_not_overlap(regions, run):
    result = run(
        collection(
            feature(square(*WEST), slug="barreiro"), feature(square(*EAST), slug="centro-sul")
        )
    )
    assert result.exit_code == 0
    assert "Warning" not in result.output


def test_names_match_whatever_the_accents_case_and_dashes():
    assert name_key("Centro-Sul") == name_key("centro sul") == name_key("CENTRO – SUL")
    assert name_key("São Gabriel") == name_key("sao gabriel")
    assert name_key("Venda Nova") != name_key("Venda")


# --- the demo's outlines ------------------------------------------------------------------


def test_the_demo_outlines_tile_the_city_without_gaps_or_overlaps():
    document = demo_boundaries()
    assert_geojson(document)
    outlines = {f["properties"]["slug"]: shape(f["geometry"]) for f in document["features"]}
    assert set(outlines) == {r.slug for r in REGIONS}
    for slug, outline in outlines.items():
        assert outline.is_valid and not outline.is_empty, slug
        assert outline.exterior.is_ccw, slug  # RFC 7946's right-hand rule
    for (a, first), (b, second) in combinations(outlines.items(), 2):
        assert first.intersection(second).area < 1e-12, (a, b)
    city = union_all(list(outlines.values()))
    assert city.geom_type == "Polygon" and not list(city.interiors)  # one piece, no gap
    west, south, east, north = city.bounds
    assert (round(west, 2), round(south, 2), round(east, 2), round(north, 2)) == (
        -44.06,
        -20.06,
        -43.86,
        -19.78,
    )


def test_the_demo_file_is_a_file_the_command_takes(app_ctx, runner):
    for demo in REGIONS:
        factories.region(slug=demo.slug, name=demo.name)
    result = runner.invoke(
        args=["regions", "boundaries", "--approximate", "--source", "demo", str(BOUNDARIES_FILE)]
    )
    assert result.exit_code == 0, result.output
    assert "9 features read, 9 regions updated" in result.output
    assert "Warning" not in result.output and "without a boundary" not in result.output
