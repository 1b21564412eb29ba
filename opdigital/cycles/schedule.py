"""A cycle's public schedule: its phases and events, filtered by region or school.

One source for the cycle page, the JSON schedule and the iCalendar feeds, so they never
disagree. Events without a region or school concern everyone and stay in every filtered view.
"""

from __future__ import annotations

from dataclasses import dataclass

from opdigital.cycles.models import Cycle, Event, Phase
from opdigital.regions.models import Region, School


@dataclass(frozen=True)
class ScheduleFilter:
    region: Region | None = None
    school: School | None = None

    def keeps(self, event: Event) -> bool:
        if self.school is not None:
            if event.school_id is not None:
                return event.school_id == self.school.id
            # A school's pupils also attend their region's and the city's events.
            return event.region_id in (None, self.school.region_id)
        if self.region is not None:
            if event.school_id is not None:
                return event.school is not None and event.school.region_id == self.region.id
            return event.region_id in (None, self.region.id)
        return True


@dataclass(frozen=True)
class Schedule:
    cycle: Cycle
    phases: list[Phase]
    events: list[Event]
    filter: ScheduleFilter


def build_schedule(cycle: Cycle, schedule_filter: ScheduleFilter | None = None) -> Schedule:
    """Phases in order and the events that pass the filter, by start time."""
    schedule_filter = schedule_filter or ScheduleFilter()
    events = sorted(
        (e for e in cycle.events if schedule_filter.keeps(e)), key=lambda e: (e.starts_at, e.id)
    )
    phases = sorted(cycle.phases, key=lambda p: (p.position, p.starts_at))
    return Schedule(cycle=cycle, phases=phases, events=events, filter=schedule_filter)
