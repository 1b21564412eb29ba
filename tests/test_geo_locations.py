"""Locations: a point inside its region's boundary (the border counts), checked by the service
behind the citizen's form, the staff entry and the staff's "location" screen; numbers in either
decimal style; bad input a 422 with a field message, never a 500."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from shapely.geometry import shape

from opdigital.audit.models import AuditEntry
from opdigital.errors import ValidationFailed
from opdigital.extensions import db
from opdigital.fields import parse_degrees
from opdigital.geo.locations import check_location, city_shape, region_at
from opdigital.proposals import services as proposals
from opdigital.proposals.models import Proposal
from opdigital.regions.models import Region
from tests.support import factories
from tests.support.client import post_form
from tests.support.coordination import post, proposal_form, text, world
from tests.support.places import (
    EAST,
    FAR_AWAY,
    INSIDE_EAST,
    INSIDE_WEST,
    ON_THE_BORDER,
    WEST,
    region_with,
    square,
)
from tests.support.proposal_form import proposal_form as citizen_form

pytestmark = pytest.mark.usefixtures("english_by_default")


def _proposal(code: str) -> Proposal:
    db.session.expire_all()
    return db.session.scalar(sa.select(Proposal).where(Proposal.code == code))


def _refused(region, latitude, longitude) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as info:
        check_location(region, latitude, longitude)
    assert info.value.status == 422
    return info.value


# --- reading numbers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("-19.92", -19.92),
        ("-19,92", -19.92),
        (" -19,9191 ", -19.9191),
        ("\u221219,92\u00b0", -19.92),  # a typographic minus and a degree sign
        ("43", 43.0),
        ("+0,5", 0.5),
    ],
)
def test_degrees_in_both_decimal_styles(typed, value):
    assert parse_degrees(typed) == pytest.approx(value)


@pytest.mark.parametrize("typed", ["", "abc", "-19.9.1", "-19,920,1", "1e5", "1234", "nan", "-"])
def test_what_is_not_decimal_degrees(typed):
    with pytest.raises(ValueError):
        parse_degrees(typed)


# --- the check ------------------------------------------------------------------------------


def test_a_point_inside_its_region_is_accepted_and_outside_refused(app_ctx):
    west = region_with(WEST, name="Barreiro")
    check_location(west, *INSIDE_WEST)
    error = _refused(west, *INSIDE_EAST)
    assert error.code == "outside_region"
    assert str(error.message) == (
        "The point (-20.03, -43.97) is outside the boundary of the region Barreiro. Check the "
        "coordinates, or the proposal's region."
    )


@pytest.mark.parametrize(
    "point",
    [ON_THE_BORDER, (-20.06, -44.06), (-20.00, -44.03)],  # a shared edge, a corner, an edge
)
def test_the_boundary_line_counts_as_inside(app_ctx, point):
    check_location(region_with(WEST), *point)


def test_a_point_on_a_shared_border_belongs_to_both_regions(app_ctx):
    check_location(region_with(WEST), *ON_THE_BORDER)
    check_location(region_with(EAST), *ON_THE_BORDER)


def test_half_a_location_or_out_of_range_is_refused(app_ctx):
    west = region_with(WEST)
    assert _refused(west, -20.03, None).code == "incomplete_location"
    assert _refused(None, None, -44.0).code == "incomplete_location"
    for latitude, longitude in ((-91, -44), (-20, 181), (math.nan, -44), (-20, math.inf)):
        assert _refused(None, latitude, longitude).code == "invalid_location"
    check_location(west, None, None)  # no location at all is fine


def test_a_region_without_a_boundary_takes_any_point(app_ctx):
    bare = region_with(None)
    region_with(WEST)
    check_location(bare, *FAR_AWAY)


def test_a_city_wide_proposal_must_fall_inside_some_region(app_ctx):
    check_location(None, *FAR_AWAY)  # no boundary anywhere: nothing to check against
    region_with(WEST)
    region_with(EAST)
    check_location(None, *INSIDE_WEST)
    check_location(None, *ON_THE_BORDER)
    assert _refused(None, *FAR_AWAY).code == "outside_city"
    assert city_shape().equals(shape(square(-44.06, -20.06, -43.94, -20.00)))


def test_region_at_names_the_region_of_a_point(app_ctx):
    west = region_with(WEST, name="Barreiro")
    east = region_with(EAST, name="Centro-Sul")
    assert region_at(*INSIDE_WEST) == west
    assert region_at(*INSIDE_EAST) == east
    assert region_at(*FAR_AWAY) is None
    assert region_at(-91, 0) is None


# --- the services ---------------------------------------------------------------------------


def _data(region: Region, latitude, longitude) -> proposals.ProposalData:
    return proposals.ProposalData(
        title="Praça da Vila Pinho",
        description="Revitalização da praça com iluminação, bancos e acessibilidade.",
        estimated_cost_cents=1_500_000_00,
        region_id=region.id,
        latitude=latitude,
        longitude=longitude,
    )


def test_staff_entry_refuses_a_point_outside_and_stores_one_inside(app_ctx):
    west = region_with(WEST, name="Barreiro")
    cycle = factories.cycle(slug="op-2026")
    with pytest.raises(ValidationFailed, match="outside the boundary of the region Barreiro"):
        proposals.enter_proposal(cycle, _data(west, *INSIDE_EAST), "staff", None)
    assert db.session.scalar(sa.select(sa.func.count(Proposal.id))) == 0
    proposal = proposals.enter_proposal(cycle, _data(west, *ON_THE_BORDER), "staff", None)
    assert (proposal.latitude, proposal.longitude) == ON_THE_BORDER
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "proposal.create"))
    assert (entry.after["latitude"], entry.after["longitude"]) == ON_THE_BORDER


def test_a_school_proposal_is_checked_against_its_school_region(app_ctx):
    west = region_with(WEST, name="Barreiro")
    school = factories.school(west)
    cycle = factories.cycle(slug="opca-2026", kind="opca")
    proposal = factories.proposal(cycle, school=school)
    with pytest.raises(ValidationFailed, match="region Barreiro"):
        proposals.set_location(proposal, *INSIDE_EAST, "", None)
    proposals.set_location(proposal, *INSIDE_WEST, "Escola", None)
    assert _proposal(proposal.code).has_location


def test_set_location_places_clears_and_audits(app_ctx):
    west = region_with(WEST, name="Barreiro")
    cycle = factories.cycle(slug="op-2024", state="monitoring")
    work = factories.proposal(
        cycle, region=west, status="selected", execution_status="in_works", place="Praça"
    )
    proposals.set_location(work, *INSIDE_WEST, "Praça Central, 10", None)
    work = _proposal(work.code)
    assert (work.latitude, work.longitude, work.place) == (*INSIDE_WEST, "Praça Central, 10")
    proposals.set_location(work, None, None, "Praça Central, 10", None)
    assert not _proposal(work.code).has_location
    proposals.set_location(work, None, None, "Praça Central, 10", None)  # no change: no entry
    entries = list(
        db.session.scalars(
            sa.select(AuditEntry)
            .where(AuditEntry.action == "proposal.location")
            .order_by(AuditEntry.id)
        )
    )
    assert [e.after["latitude"] for e in entries] == [INSIDE_WEST[0], None]
    assert entries[0].before == {"latitude": None, "longitude": None, "place": "Praça"}
    for bad in ("Praça\nCentral", "x" * 201):
        with pytest.raises(ValidationFailed):
            proposals.set_location(work, None, None, bad, None)


# --- the citizen's form ---------------------------------------------------------------------

START = datetime(2026, 3, 1, 3, tzinfo=UTC)
SUBMIT_URL = "/ciclos/op-2026/propostas/nova"


@pytest.fixture
def open_cycle(app_ctx, time_machine):
    time_machine.move_to(START + timedelta(days=3), tick=False)
    west = region_with(WEST, slug="barreiro", name="Barreiro")
    factories.cycle(
        slug="op-2026",
        state="open_for_proposals",
        phases=[("proposals", START, START + timedelta(days=30))],
    )
    return west


def test_the_citizen_form_has_its_location_fieldset(client, open_cycle):
    page = client.get(SUBMIT_URL).get_data(as_text=True)
    assert "<legend>The place on the map (optional)</legend>" in page
    assert 'id="latitude"' in page and 'name="latitude"' in page
    assert 'id="longitude"' in page and 'name="longitude"' in page
    assert 'aria-describedby="location-hint"' in page


def test_a_citizen_places_a_proposal_with_decimal_commas(client, open_cycle):
    form = citizen_form(region=str(open_cycle.id), latitude="-20,03", longitude="-44,03")
    response = post_form(client, SUBMIT_URL, form)
    assert response.status_code == 303, response.get_data(as_text=True)
    proposal = _proposal("OPD2026-0001")
    assert (proposal.latitude, proposal.longitude) == INSIDE_WEST


def test_a_citizen_without_a_location_is_fine(client, open_cycle):
    response = post_form(client, SUBMIT_URL, citizen_form(region=str(open_cycle.id)))
    assert response.status_code == 303
    assert not _proposal("OPD2026-0001").has_location


@pytest.mark.parametrize(
    ("latitude", "longitude", "message"),
    [
        ("-20.03", "-43.97", "is outside the boundary of the region Barreiro"),
        ("-20.03", "", "Enter the longitude too, or leave both empty."),
        ("", "-44.03", "Enter the latitude too, or leave both empty."),
        ("abc", "-44.03", "Enter the latitude in decimal degrees, between -90 and 90"),
        ("-95", "-44.03", "Enter the latitude in decimal degrees, between -90 and 90"),
        ("-20.03", "-190", "Enter the longitude in decimal degrees, between -180 and 180"),
        ("-20.03", "9" * 400, "Enter the longitude in decimal degrees"),
    ],
)
def test_a_bad_location_is_a_422_with_a_field_message(
    client, open_cycle, latitude, longitude, message
):
    form = citizen_form(region=str(open_cycle.id), latitude=latitude, longitude=longitude)
    response = post_form(client, SUBMIT_URL, form)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in text(response)
    assert 'class="field-error" id="latitude-error"' in page or 'id="longitude-error"' in page
    assert db.session.scalar(sa.select(sa.func.count(Proposal.id))) == 0


def test_a_city_wide_proposal_outside_the_city_is_refused(client, open_cycle):
    form = citizen_form(region="", latitude="-19.80", longitude="-43.90")
    response = post_form(client, SUBMIT_URL, form)
    assert response.status_code == 422
    assert "is outside the city: it is in none of the regions' boundaries" in text(response)


# --- staff screens --------------------------------------------------------------------------


@pytest.fixture
def bounded_world(app_ctx):
    """The coordination world with Barreiro the west square and Venda Nova the east one."""
    w = world()
    for region_id, bounds in ((w.region_id, WEST), (w.other_region_id, EAST)):
        region = db.session.get(Region, region_id)
        region.boundary = json.dumps(square(*bounds))
    db.session.commit()
    return w


def test_staff_entry_form_takes_and_checks_a_location(app, client, coordinator, bounded_world):
    w = bounded_world
    url = f"/staff/cycles/{w.slug}/proposals/new"
    outside = proposal_form(w, latitude="-20,03", longitude="-43,97")
    response = post(app, client, url, outside)
    assert response.status_code == 422
    assert "outside the boundary of the region Barreiro" in text(response)
    assert 'id="latitude-error"' in response.get_data(as_text=True)
    inside = proposal_form(w, latitude="-20,03", longitude="-44,03")
    assert post(app, client, url, inside).status_code == 302
    assert _proposal("OPD2026-0002").latitude == INSIDE_WEST[0]


def test_a_coordinator_places_a_work(app, client, coordinator, bounded_world):
    w = bounded_world
    url = f"/staff/proposals/{w.selected_code}/location"
    page = client.get(f"/staff/proposals/{w.selected_code}")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert f'action="{url}"' in body and "Not on the map yet." in text(page)
    data = {"latitude": "-20,03", "longitude": "-44,03", "place": "Praça do Barreiro"}
    response = post(app, client, url, data)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/staff/proposals/{w.selected_code}"
    work = _proposal(w.selected_code)
    assert (work.latitude, work.longitude, work.place) == (*INSIDE_WEST, "Praça do Barreiro")
    assert "On the map at latitude -20.03, longitude -44.03." in text(client.get(page.request.path))
    form = client.get(url)
    assert form.status_code == 200 and 'value="-20.03"' in form.get_data(as_text=True)


def test_the_location_screen_refuses_a_point_outside_and_clears(
    app, client, coordinator, bounded_world
):
    w = bounded_world
    url = f"/staff/proposals/{w.selected_code}/location"
    response = post(app, client, url, {"latitude": "-20.03", "longitude": "-43.97", "place": ""})
    assert response.status_code == 422
    assert "outside the boundary of the region Barreiro" in text(response)
    assert not _proposal(w.selected_code).has_location
    border = {"latitude": "-20.03", "longitude": "-44.00", "place": ""}
    assert post(app, client, url, border).status_code == 302
    assert _proposal(w.selected_code).longitude == -44.0
    response = post(app, client, url, {"latitude": "", "longitude": "", "place": "Rua A"})
    assert response.status_code == 302
    assert not _proposal(w.selected_code).has_location
    for bad in ({"latitude": "x", "longitude": "1"}, {"latitude": "-20", "longitude": ""}):
        assert post(app, client, url, bad).status_code == 422
    assert post(app, client, url, {"latitude": "-20", "place": "a\x00b"}).status_code in (400, 422)


def test_the_location_screen_needs_a_signed_in_coordinator(app, client, bounded_world):
    url = f"/staff/proposals/{bounded_world.selected_code}/location"
    response = client.get(url)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


# --- the demo ---------------------------------------------------------------------------------


def test_the_demo_places_its_works_inside_approximate_outlines(app_ctx):
    from opdigital.cycles.models import Cycle
    from opdigital.demo.digital import PAST_DIGITAL_SLUG
    from opdigital.demo.loader import load_demo
    from opdigital.demo.places import SOURCE, demo_location
    from opdigital.geo.shapes import region_shape

    first = load_demo()
    assert (
        "Region boundaries: 9 approximate demonstration outlines imported, 0 already present."
        in first
    )
    regions = list(db.session.scalars(sa.select(Region)))
    assert len(regions) == 9
    assert all(r.boundary_approximate and r.boundary_source == SOURCE for r in regions)
    works = list(
        db.session.scalars(
            sa.select(Proposal)
            .join(Cycle, Proposal.cycle_id == Cycle.id)
            .where(Proposal.status == "selected", Cycle.slug == PAST_DIGITAL_SLUG)
        )
    )
    assert len(works) == 9 and all(w.has_location for w in works)
    every = list(db.session.scalars(sa.select(Proposal)))
    assert all(p.has_location for p in every)
    for proposal in every:
        region = proposals.proposal_region(proposal)
        point = shape({"type": "Point", "coordinates": [proposal.longitude, proposal.latitude]})
        assert region_shape(region).contains(point), proposal.code
    # Distinct points within a cycle, the same ones on every run (deterministic).
    spots = [(p.cycle_id, p.latitude, p.longitude) for p in every]
    assert len(set(spots)) == len(spots)
    first_work = min(works, key=lambda w: w.code)
    assert (first_work.latitude, first_work.longitude) == demo_location(first_work.region, 0)
    assert "Region boundaries: already present (left untouched)." in load_demo()
