"""A cycle's schedule as an iCalendar (RFC 5545) feed: one VEVENT per phase and per event.

Built from `build_schedule`, so the feed shows exactly what the cycle page and the JSON schedule
show. No Flask here: the caller passes the public URL of the cycle page.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from icalendar import Calendar, Event, Timezone

from opdigital.clock import CITY_TZ
from opdigital.cycles.models import Event as CycleEvent
from opdigital.cycles.models import Phase
from opdigital.cycles.schedule import Schedule

PRODID = "-//Prefeitura de Belo Horizonte//OP Digital//PT-BR"
TZID = "America/Sao_Paulo"
# Calendar apps poll subscribed feeds; schedules change rarely, so a few hours is plenty.
REFRESH = timedelta(hours=6)
REFRESH_TEXT = "PT6H"  # the same, for X-PUBLISHED-TTL (Outlook reads this one)
# Covers Brazil's past daylight-saving rules, so old cycles are shown at their true hours too.
_TZ_FIRST = date(1970, 1, 1)
_TZ_LAST = date(2038, 1, 1)


def phase_uid(phase: Phase, cycle_slug: str) -> str:
    """Stable UID: calendar apps update, rather than duplicate, a phase whose dates change."""
    return f"phase-{phase.id}@{cycle_slug}.opdigital"


def event_uid(event: CycleEvent, cycle_slug: str) -> str:
    return f"event-{event.id}@{cycle_slug}.opdigital"


def _description(text: str, url: str) -> str:
    # Many calendar apps hide the URL property; the link in the text is always visible.
    return f"{text.strip()}\n\n{url}" if text and text.strip() else url


def _location(event: CycleEvent) -> str | None:
    parts = [event.place]
    if event.school is not None:
        parts.append(event.school.name)
    region = event.region or (event.school.region if event.school else None)
    if region is not None:
        parts.append(region.name)
    location = ", ".join(p.strip() for p in parts if p and p.strip())
    return location or None


def _timezone(schedule: Schedule) -> Timezone:
    moments = [item.starts_at for item in (*schedule.phases, *schedule.events)]
    moments += [item.ends_at for item in (*schedule.phases, *schedule.events)]
    first = min([_TZ_FIRST, *(m.astimezone(CITY_TZ).date() - timedelta(days=1) for m in moments)])
    last = max([_TZ_LAST, *(m.astimezone(CITY_TZ).date() + timedelta(days=366) for m in moments)])
    return Timezone.from_tzid(TZID, first_date=first, last_date=last)


def calendar_name(schedule: Schedule) -> str:
    """The cycle title, with the region or school when the feed is filtered."""
    where = schedule.filter.school or schedule.filter.region
    return f"{schedule.cycle.title} — {where.name}" if where is not None else schedule.cycle.title


def build_calendar(
    schedule: Schedule, *, cycle_url: str, stamp: datetime, feed_url: str | None = None
) -> Calendar:
    """The iCalendar for `schedule`; `stamp` is DTSTAMP (when this feed was produced)."""
    cycle = schedule.cycle
    name = calendar_name(schedule)
    where = schedule.filter.school or schedule.filter.region
    calendar = Calendar.new(
        prodid=PRODID,
        calscale="GREGORIAN",
        method="PUBLISH",
        name=name,
        description=cycle.description or None,
        # A stable calendar UID (RFC 7986); Calendar.new would otherwise pick a random one.
        uid=f"{cycle.slug}{'-' + where.slug if where is not None else ''}@opdigital",
        url=cycle_url,
        source=feed_url,
        refresh_interval=REFRESH,
    )
    # Calendar.new already writes NAME/X-WR-CALNAME and DESCRIPTION/X-WR-CALDESC.
    calendar.add("X-WR-TIMEZONE", TZID)
    calendar.add("X-PUBLISHED-TTL", REFRESH_TEXT)
    calendar.add_component(_timezone(schedule))

    for phase in schedule.phases:
        calendar.add_component(
            Event.new(
                uid=phase_uid(phase, cycle.slug),
                stamp=stamp,
                start=phase.starts_at.astimezone(CITY_TZ),
                end=phase.ends_at.astimezone(CITY_TZ),
                summary=f"{cycle.title}: {phase.name}",
                description=_description(phase.description, cycle_url),
                categories=[phase.kind],
                url=cycle_url,
            )
        )
    for event in schedule.events:
        calendar.add_component(
            Event.new(
                uid=event_uid(event, cycle.slug),
                stamp=stamp,
                start=event.starts_at.astimezone(CITY_TZ),
                end=event.ends_at.astimezone(CITY_TZ),
                summary=event.title,
                description=_description(event.description, cycle_url),
                location=_location(event),
                categories=[event.kind],
                url=cycle_url,
            )
        )
    return calendar
