"""Staff screens for a cycle's calendar: add, edit and delete phases and events.

Phases and events go through the same three screens (`_new`, `_edit`, `_delete`); what
differs is in `PHASES` and `EVENTS`, and each route is a thin endpoint naming its kind.
Once a cycle is public, what has begun is its history, and the voting phase is fixed once the
vote has opened (`cycles.schedule_items.schedule_item_fixed`): those screens answer 409 with
the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import flash, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l

from opdigital.coordination import bp
from opdigital.coordination.common import actor, load_cycle, load_event, load_phase
from opdigital.coordination.forms import EventForm, PhaseForm, ScheduleItemForm
from opdigital.cycles import schedule_items
from opdigital.cycles.models import Cycle, CycleKind
from opdigital.cycles.schedule_items import ScheduleItem
from opdigital.errors import DomainError
from opdigital.regions.queries import all_regions, all_schools
from opdigital.web import is_read


def _phase_form(cycle: Cycle, **kwargs) -> PhaseForm:
    return PhaseForm(**kwargs)


def _event_form(cycle: Cycle, **kwargs) -> EventForm:
    return EventForm(
        regions=all_regions(),
        schools=all_schools(),
        with_school=cycle.kind == CycleKind.OPCA,
        **kwargs,
    )


@dataclass(frozen=True)
class Screens:
    """What the calendar screens of one kind of item say and load."""

    kind: str  # "phase" or "event", for the template
    section: str  # anchor of the list on the cycle page
    load: Callable[[int], ScheduleItem]  # by id, or 404
    form: Callable[..., ScheduleItemForm]  # (cycle, **form arguments)
    added: str
    updated: str
    deleted: str


PHASES = Screens(
    "phase",
    "phases",
    load_phase,
    _phase_form,
    added=_l("Phase added."),
    updated=_l("Phase updated."),
    deleted=_l("Phase deleted."),
)
EVENTS = Screens(
    "event",
    "events",
    load_event,
    _event_form,
    added=_l("Event added."),
    updated=_l("Event updated."),
    deleted=_l("Event deleted."),
)


@bp.context_processor
def _schedule_helpers() -> dict:
    # The cycle page offers Edit and Delete only for what may still change.
    return {
        "schedule_is_history": schedule_items.schedule_is_history,
        "schedule_item_fixed": schedule_items.schedule_item_fixed,
    }


# --- routes: one thin endpoint per URL, named as before ------------------------------------


@bp.route("/cycles/<slug>/phases/new", methods=["GET", "POST"])
def new_phase(slug: str):
    return _new(PHASES, slug)


@bp.route("/phases/<int:phase_id>/edit", methods=["GET", "POST"])
def edit_phase(phase_id: int):
    return _edit(PHASES, phase_id)


@bp.post("/phases/<int:phase_id>/delete")
def delete_phase(phase_id: int):
    return _delete(PHASES, phase_id)


@bp.route("/cycles/<slug>/events/new", methods=["GET", "POST"])
def new_event(slug: str):
    return _new(EVENTS, slug)


@bp.route("/events/<int:event_id>/edit", methods=["GET", "POST"])
def edit_event(event_id: int):
    return _edit(EVENTS, event_id)


@bp.post("/events/<int:event_id>/delete")
def delete_event(event_id: int):
    return _delete(EVENTS, event_id)


# --- the screens ---------------------------------------------------------------------------


def _new(screens: Screens, slug: str):
    cycle = load_cycle(slug)
    form = screens.form(cycle)
    if form.validate_on_submit():
        try:
            schedule_items.add_item(cycle, form.item_data(), actor())
        except DomainError as e:
            return _form_page(screens, form, load_cycle(slug), None, str(e), e.status)
        return _done(screens, cycle, screens.added)
    return _form_page(screens, form, cycle, None, None, 422 if form.is_submitted() else 200)


def _edit(screens: Screens, item_id: int):
    item = screens.load(item_id)
    cycle = item.cycle
    try:
        schedule_items.ensure_schedule_item_open(item)
    except DomainError as e:
        return _refused(cycle, e)
    # Pre-fill from the item only on GET, so a field left out of a POST is not silently kept.
    form = screens.form(cycle, **({"obj": item} if is_read() else {}))
    if form.validate_on_submit():
        try:
            schedule_items.update_item(item, form.item_data(), actor())
        except DomainError as e:
            return _form_page(screens, form, cycle, screens.load(item_id), str(e), e.status)
        return _done(screens, cycle, screens.updated)
    return _form_page(screens, form, cycle, item, None, 422 if form.is_submitted() else 200)


def _delete(screens: Screens, item_id: int):
    item = screens.load(item_id)
    cycle = item.cycle
    try:
        schedule_items.delete_item(item, actor())
    except DomainError as e:
        return _refused(cycle, e)
    return _done(screens, cycle, screens.deleted)


def _form_page(screens: Screens, form, cycle: Cycle, item, error: str | None, status: int):
    page = render_template(
        "coordination/schedule_item_form.html",
        kind=screens.kind,
        form=form,
        cycle=cycle,
        item=item,
        error=error,
    )
    return page, status


def _done(screens: Screens, cycle: Cycle, message: str):
    flash(str(message), "success")
    return redirect(url_for("coordination.cycle", slug=cycle.slug, _anchor=screens.section))


def _refused(cycle: Cycle, error: DomainError):
    """The page saying why a part of the calendar cannot change (409 once it is history)."""
    page = render_template("coordination/refused.html", cycle=cycle, message=str(error))
    return page, error.status
