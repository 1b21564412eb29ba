"""iCalendar feeds, parsed back with the icalendar library: what a calendar app would read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar

from opdigital.cycles.ical import build_calendar, phase_uid
from opdigital.cycles.schedule import ScheduleFilter, build_schedule
from tests.support.api import T0, assert_matches_spec, build_world

PATH = "/api/v1/cycles/{slug}/schedule.ics"
URL = "/api/v1/cycles/op-2026/schedule.ics"


@pytest.fixture
def world(app_ctx):
    return build_world()


def _feed(client, query: str = "") -> Calendar:
    response = client.get(URL + query)
    assert_matches_spec(response, PATH, "get", 200)
    return Calendar.from_ical(response.data)


def _vevents(calendar: Calendar) -> dict[str, object]:
    return {str(e["UID"]): e for e in calendar.walk("VEVENT")}


def test_headers(client, world):
    response = client.get(URL)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Content-Disposition"] == 'inline; filename="op-2026.ics"'
    assert response.headers["Cache-Control"] == "public, max-age=60"
    assert response.data.startswith(b"BEGIN:VCALENDAR\r\n")


def test_calendar_properties(client, world):
    calendar = _feed(client)
    assert calendar["VERSION"] == "2.0"
    assert calendar["PRODID"]
    assert calendar["CALSCALE"] == "GREGORIAN"
    assert calendar["METHOD"] == "PUBLISH"
    assert calendar["X-WR-CALNAME"] == "OP Digital 2026"
    assert calendar["X-WR-TIMEZONE"] == "America/Sao_Paulo"
    assert calendar["X-WR-CALDESC"] == "Votação on-line das obras."
    assert calendar["X-PUBLISHED-TTL"] == "PT6H"
    assert calendar.decoded("REFRESH-INTERVAL") == timedelta(hours=6)
    names = [line.split(":")[0].split(";")[0] for line in calendar.content_lines()]
    top_level = names[1 : names.index("BEGIN", 1)]  # between BEGIN:VCALENDAR and VTIMEZONE
    assert {"PRODID", "X-WR-CALDESC", "X-WR-CALNAME"} <= set(top_level)
    assert len(top_level) == len(set(top_level)), top_level  # no property written twice
    timezones = calendar.walk("VTIMEZONE")
    assert [str(tz["TZID"]) for tz in timezones] == ["America/Sao_Paulo"]
    assert calendar.get_missing_tzids() == set()
    # VTIMEZONE comes before the events that refer to it.
    assert calendar.subcomponents[0].name == "VTIMEZONE"


def test_one_vevent_per_phase_and_event_with_stored_instants(client, world):
    events = _vevents(_feed(client))
    cycle = world.cycle
    expected = {f"phase-{p.id}@op-2026.opdigital": p for p in cycle.phases}
    expected |= {f"event-{e.id}@op-2026.opdigital": e for e in cycle.events}
    assert len(expected) == 7
    assert set(events) == set(expected)
    for uid, item in expected.items():
        vevent = events[uid]
        start, end = vevent.decoded("DTSTART"), vevent.decoded("DTEND")
        assert start.tzinfo is not None and end.tzinfo is not None
        assert start == item.starts_at
        assert end == item.ends_at
        assert vevent["DTSTART"].params["TZID"] == "America/Sao_Paulo"
        assert vevent["DTEND"].params["TZID"] == "America/Sao_Paulo"
        assert vevent.decoded("DTSTAMP").tzinfo is not None
        assert str(vevent["URL"]) == "http://localhost/ciclos/op-2026"
        assert "http://localhost/ciclos/op-2026" in str(vevent["DESCRIPTION"])
        assert [str(c) for c in vevent.categories] == [item.kind]


def test_summaries_and_locations(client, world):
    events = _vevents(_feed(client))
    voting = next(p for p in world.cycle.phases if p.kind == "voting")
    phase_event = events[phase_uid(voting, "op-2026")]
    assert str(phase_event["SUMMARY"]) == "OP Digital 2026: Voting"
    assert "LOCATION" not in phase_event
    north = events[f"event-{world.in_north.id}@op-2026.opdigital"]
    assert str(north["SUMMARY"]) == "Assembleia Norte"
    assert str(north["LOCATION"]) == "Escola Estadual, Norte"
    school = events[f"event-{world.at_school.id}@op-2026.opdigital"]
    assert str(school["LOCATION"]) == "Escola Estadual, Escola Municipal do Norte, Norte"
    city = events[f"event-{world.city.id}@op-2026.opdigital"]
    assert "LOCATION" not in city  # city-wide, no place given


def test_uids_are_unique_and_stable_across_requests(client, world, time_machine):
    time_machine.move_to(datetime(2026, 1, 1, tzinfo=UTC), tick=False)
    first = _feed(client)
    time_machine.move_to(datetime(2026, 1, 2, tzinfo=UTC), tick=False)
    second = _feed(client)
    uids = [str(e["UID"]) for e in first.walk("VEVENT")]
    assert len(uids) == len(set(uids))
    assert uids == [str(e["UID"]) for e in second.walk("VEVENT")]
    assert str(first["UID"]) == str(second["UID"])
    # DTSTAMP says when the feed was produced, so it follows the clock.
    stamp = first.walk("VEVENT")[0].decoded("DTSTAMP")
    assert stamp == datetime(2026, 1, 1, tzinfo=UTC)


def test_region_feed_drops_other_regions_but_keeps_city_wide(client, world):
    calendar = _feed(client, "?region=barreiro")
    uids = set(_vevents(calendar))
    assert f"event-{world.city.id}@op-2026.opdigital" in uids
    assert f"event-{world.in_south.id}@op-2026.opdigital" in uids
    assert f"event-{world.in_north.id}@op-2026.opdigital" not in uids
    assert f"event-{world.at_school.id}@op-2026.opdigital" not in uids
    assert sum(uid.startswith("phase-") for uid in uids) == 3
    assert len(uids) == 5
    assert calendar["X-WR-CALNAME"] == "OP Digital 2026 — Barreiro"


def test_school_feed(client, world):
    uids = set(_vevents(_feed(client, "?school=em-norte")))
    assert f"event-{world.at_school.id}@op-2026.opdigital" in uids
    assert f"event-{world.in_north.id}@op-2026.opdigital" in uids
    assert f"event-{world.in_south.id}@op-2026.opdigital" not in uids


@pytest.mark.parametrize("query", ["?region=atlantida", "?school=nada"])
def test_unknown_filter_is_404_json(client, world, query):
    response = client.get(URL + query)
    assert_matches_spec(response, PATH, "get", 404)


def test_feed_and_json_schedule_agree(client, world):
    """Both come from build_schedule: the same events, in the same order."""
    for query in ("", "?region=norte", "?region=barreiro", "?school=em-norte"):
        events = client.get("/api/v1/cycles/op-2026/schedule" + query).get_json()["events"]
        feed = [
            uid
            for uid in (str(e["UID"]) for e in _feed(client, query).walk("VEVENT"))
            if uid.startswith("event-")
        ]
        assert feed == [f"event-{e['id']}@op-2026.opdigital" for e in events], query


def test_build_calendar_without_flask_and_old_dst_rules(world):
    """Brazil had daylight saving until 2019: old instants keep their true local hour."""
    world.cycle.phases[0].starts_at = datetime(2015, 1, 10, 12, tzinfo=UTC)  # 10:00 (DST, -02)
    world.cycle.phases[0].ends_at = T0 + timedelta(days=1)
    calendar = build_calendar(
        build_schedule(world.cycle, ScheduleFilter()),
        cycle_url="https://example.org/c",
        stamp=datetime(2026, 1, 1, tzinfo=UTC),
    )
    parsed = Calendar.from_ical(calendar.to_ical())
    first = _vevents(parsed)[phase_uid(world.cycle.phases[0], "op-2026")]
    assert "DTSTART;TZID=America/Sao_Paulo:20150110T100000" in first.to_ical().decode()
    assert first.decoded("DTSTART") == datetime(2015, 1, 10, 12, tzinfo=UTC)
