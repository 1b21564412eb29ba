"""A cycle's calendar: adding, changing and deleting its phases and events.

Phases and events are both "schedule items" and change the same way, by `add_item`,
`update_item` and `delete_item`; what differs between the two kinds (model, checks, the audit
snapshot, which columns a blank leaves alone) is written once per kind in `PHASE` and `EVENT`.
Each function is one unit of work, as in `cycles/services.py`: it validates, changes, writes an
audit entry and commits once; on a refusal it raises a `DomainError` and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l

from opdigital.audit import services as audit
from opdigital.clock import now
from opdigital.cycles.models import Cycle, Event, EventKind, Phase, PhaseKind
from opdigital.cycles.states import CycleState
from opdigital.errors import Conflict, ValidationFailed
from opdigital.extensions import db
from opdigital.regions.models import Region, School


@dataclass(frozen=True)
class PhaseData:
    kind: str
    name: str
    starts_at: datetime
    ends_at: datetime
    description: str = ""
    position: int | None = None


@dataclass(frozen=True)
class EventData:
    kind: str
    title: str
    starts_at: datetime
    ends_at: datetime
    place: str = ""
    description: str = ""
    region_id: int | None = None
    school_id: int | None = None


ScheduleItem = Phase | Event
ItemData = PhaseData | EventData


# --- what may still change -----------------------------------------------------------------

# Once a cycle is public (past its draft), its calendar is part of the record: what has begun
# stays as it was published, as the ballot does from its freeze, and from the moment the vote
# opens its window, which voters were told and casts are checked against, no longer moves
# (until then a vote may still be postponed). What is still ahead may change at any time: a
# meeting of the monitoring commission can be added or moved. A draft is a plan, editable.
_STATES = list(CycleState)


def schedule_is_history(cycle: Cycle) -> bool:
    """True once the cycle is public: what has begun can no longer change."""
    return cycle.state != CycleState.DRAFT


def _vote_has_opened(cycle: Cycle) -> bool:
    return _STATES.index(CycleState(cycle.state)) >= _STATES.index(CycleState.VOTING)


def _is_voting(item: ScheduleItem | ItemData | None) -> bool:
    return isinstance(item, Phase | PhaseData) and item.kind == PhaseKind.VOTING.value


def schedule_item_fixed(item: ScheduleItem) -> bool:
    """True when this phase or event can no longer be edited or deleted."""
    if not schedule_is_history(item.cycle):
        return False
    if _is_voting(item):
        return _vote_has_opened(item.cycle)
    return item.starts_at <= now()


def _ensure_schedule_open(cycle: Cycle, item: ScheduleItem | None, data: ItemData | None) -> None:
    """Refuse changing `item` (None: adding) into `data` (None: deleting) when it is history."""
    if not schedule_is_history(cycle):
        return
    if _is_voting(item) or _is_voting(data):
        if _vote_has_opened(cycle):
            raise _frozen(
                _l("The vote has opened with this voting phase: its dates can no longer change.")
            )
        return  # before the vote opens, it may still be moved (postponed)
    if item is not None and item.starts_at <= now():
        raise _frozen(
            _l(
                "This has already begun and the cycle is public: it is part of the cycle's "
                "history and can no longer be changed or deleted."
            )
        )
    if data is not None and data.starts_at <= now():
        raise _frozen(
            _l(
                "Once a cycle is public, only phases and events that start in the future can "
                "be added or changed."
            )
        )


def _frozen(message) -> Conflict:
    return Conflict(message, code="schedule_frozen")


def ensure_schedule_item_open(item: ScheduleItem) -> None:
    """Refuse (409, `schedule_frozen`) when this phase or event can no longer change."""
    _ensure_schedule_open(item.cycle, item, None)


# --- what differs between a phase and an event ---------------------------------------------


def _check_window(starts_at: datetime, ends_at: datetime) -> None:
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise ValidationFailed(_l("Dates must carry a time zone."), code="naive_datetime")
    if ends_at <= starts_at:
        raise ValidationFailed(_l("The end must come after the start."), code="ends_before_start")


def _check_phase(data: PhaseData) -> None:
    if data.kind not in {k.value for k in PhaseKind}:
        raise ValidationFailed(_l("Unknown phase kind."), code="unknown_phase_kind")
    if not data.name.strip():
        raise ValidationFailed(_l("The phase needs a name."), code="missing_name")
    _check_window(data.starts_at, data.ends_at)


def _check_event(data: EventData) -> None:
    if data.kind not in {k.value for k in EventKind}:
        raise ValidationFailed(_l("Unknown event kind."), code="unknown_event_kind")
    if not data.title.strip():
        raise ValidationFailed(_l("The event needs a title."), code="missing_title")
    _check_window(data.starts_at, data.ends_at)
    if data.region_id is not None and db.session.get(Region, data.region_id) is None:
        raise ValidationFailed(_l("Unknown region."), code="unknown_region")
    if data.school_id is not None and db.session.get(School, data.school_id) is None:
        raise ValidationFailed(_l("Unknown school."), code="unknown_school")


def _phase_values(cycle: Cycle, phase: Phase | None, data: PhaseData) -> dict:
    """A blank (None) position puts a new phase last and leaves an edited one where it was."""
    values = asdict(data)
    if phase is None:
        position = data.position if data.position is not None else len(cycle.phases)
        return values | {"position": position}
    return {field: value for field, value in values.items() if value is not None}


def _event_values(cycle: Cycle, event: Event | None, data: EventData) -> dict:
    # Every column is written: a blank region or school means the whole city, no one school.
    return asdict(data)


def _phase_snapshot(phase: Phase) -> dict:
    return {
        "cycle": phase.cycle.slug if phase.cycle else None,
        "kind": phase.kind,
        "name": phase.name,
        "position": phase.position,
        "starts_at": phase.starts_at.isoformat(),
        "ends_at": phase.ends_at.isoformat(),
    }


def _event_snapshot(event: Event) -> dict:
    return {
        "cycle": event.cycle.slug if event.cycle else None,
        "kind": event.kind,
        "title": event.title,
        "starts_at": event.starts_at.isoformat(),
        "ends_at": event.ends_at.isoformat(),
        "place": event.place,
        "region_id": event.region_id,
        "school_id": event.school_id,
    }


@dataclass(frozen=True)
class ItemKind:
    """One kind of schedule item: its model and data, checks, column values and snapshot.

    `name` prefixes its audit actions: `phase.create`, `phase.update`, `phase.delete`, and the
    same for `event`. `values(cycle, item, data)` gives the columns to write (`item` is None
    when adding).
    """

    name: str
    model: type[Phase] | type[Event]
    data: type[PhaseData] | type[EventData]
    check: Callable[[ItemData], None]
    values: Callable[[Cycle, ScheduleItem | None, ItemData], dict]
    snapshot: Callable[[ScheduleItem], dict]


PHASE = ItemKind("phase", Phase, PhaseData, _check_phase, _phase_values, _phase_snapshot)
EVENT = ItemKind("event", Event, EventData, _check_event, _event_values, _event_snapshot)
_KIND_OF = {k.model: k for k in (PHASE, EVENT)} | {k.data: k for k in (PHASE, EVENT)}


def _kind(item: ScheduleItem | ItemData, data: ItemData | None = None) -> ItemKind:
    kind = _KIND_OF[type(item)]
    if data is not None and not isinstance(data, kind.data):
        raise TypeError(f"a {kind.name} changes with {kind.data.__name__}, not {type(data)}")
    return kind


# --- changing the calendar -----------------------------------------------------------------


def add_item(cycle: Cycle, data: ItemData, actor) -> ScheduleItem:
    """Add a phase (from `PhaseData`) or an event (from `EventData`) to the cycle."""
    kind = _kind(data)
    kind.check(data)
    _ensure_schedule_open(cycle, None, data)
    item = kind.model(cycle=cycle, **kind.values(cycle, None, data))
    db.session.add(item)
    db.session.flush()
    audit.record(actor, f"{kind.name}.create", item, after=kind.snapshot(item))
    db.session.commit()
    return item


def update_item(item: ScheduleItem, data: ItemData, actor) -> ScheduleItem:
    kind = _kind(item, data)
    kind.check(data)
    _ensure_schedule_open(item.cycle, item, data)
    before = kind.snapshot(item)
    for field, value in kind.values(item.cycle, item, data).items():
        setattr(item, field, value)
    audit.record(actor, f"{kind.name}.update", item, before=before, after=kind.snapshot(item))
    db.session.commit()
    return item


def delete_item(item: ScheduleItem, actor) -> None:
    kind = _kind(item)
    _ensure_schedule_open(item.cycle, item, None)
    audit.record(actor, f"{kind.name}.delete", item, before=kind.snapshot(item))
    db.session.delete(item)
    db.session.commit()
