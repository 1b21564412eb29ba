"""Staff screens for a cycle's calendar: add, edit and delete phases and events.

Once a cycle is public, what has begun is its history, and the voting phase is fixed once the
vote has opened (`cycles.services.schedule_item_fixed`): those screens answer 409 with the
reason.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _

from opdigital.coordination.blueprint import bp
from opdigital.coordination.common import actor, load_cycle, load_event, load_phase
from opdigital.coordination.forms import EventForm, PhaseForm
from opdigital.cycles import services as cycles
from opdigital.cycles.models import Cycle, CycleKind, Event, Phase
from opdigital.errors import DomainError
from opdigital.web import is_read


def _cycle_url(cycle: Cycle, anchor: str) -> str:
    return url_for("coordination.cycle", slug=cycle.slug, _anchor=anchor)


@bp.context_processor
def _schedule_helpers() -> dict:
    # The cycle page offers Edit and Delete only for what may still change.
    return {
        "schedule_is_history": cycles.schedule_is_history,
        "schedule_item_fixed": cycles.schedule_item_fixed,
    }


def _refused(cycle: Cycle, error: DomainError):
    """The page saying why a part of the calendar cannot change (409 once it is history)."""
    page = render_template("coordination/refused.html", cycle=cycle, message=str(error))
    return page, error.status


# --- phases --------------------------------------------------------------------------------


def _phase_data(form: PhaseForm) -> cycles.PhaseData:
    return cycles.PhaseData(
        kind=form.kind.data,
        name=form.name.data.strip(),
        description=(form.description.data or "").strip(),
        position=form.position.data,
        starts_at=form.starts_at.data,
        ends_at=form.ends_at.data,
    )


def _phase_form(form, cycle: Cycle, phase: Phase | None, error: str | None, status: int):
    page = render_template(
        "coordination/phase_form.html", form=form, cycle=cycle, phase=phase, error=error
    )
    return page, status


@bp.route("/cycles/<slug>/phases/new", methods=["GET", "POST"])
def new_phase(slug: str):
    cycle = load_cycle(slug)
    form = PhaseForm()
    if form.validate_on_submit():
        try:
            cycles.add_phase(cycle, _phase_data(form), actor())
        except DomainError as e:
            return _phase_form(form, load_cycle(slug), None, str(e), e.status)
        flash(_("Phase added."), "success")
        return redirect(_cycle_url(cycle, "phases"))
    return _phase_form(form, cycle, None, None, 422 if form.is_submitted() else 200)


@bp.route("/phases/<int:phase_id>/edit", methods=["GET", "POST"])
def edit_phase(phase_id: int):
    phase = load_phase(phase_id)
    cycle = phase.cycle
    try:
        cycles.ensure_schedule_item_open(phase)
    except DomainError as e:
        return _refused(cycle, e)
    form = PhaseForm(obj=phase) if is_read() else PhaseForm()
    if form.validate_on_submit():
        try:
            cycles.update_phase(phase, _phase_data(form), actor())
        except DomainError as e:
            return _phase_form(form, cycle, load_phase(phase_id), str(e), e.status)
        flash(_("Phase updated."), "success")
        return redirect(_cycle_url(cycle, "phases"))
    return _phase_form(form, cycle, phase, None, 422 if form.is_submitted() else 200)


@bp.post("/phases/<int:phase_id>/delete")
def delete_phase(phase_id: int):
    phase = load_phase(phase_id)
    cycle = phase.cycle
    try:
        cycles.delete_phase(phase, actor())
    except DomainError as e:
        return _refused(cycle, e)
    flash(_("Phase deleted."), "success")
    return redirect(_cycle_url(cycle, "phases"))


# --- events --------------------------------------------------------------------------------


def _event_form_for(cycle: Cycle, **kwargs) -> EventForm:
    return EventForm(
        regions=cycles.list_regions(),
        schools=cycles.list_schools(),
        with_school=cycle.kind == CycleKind.OPCA,
        **kwargs,
    )


def _event_data(form: EventForm) -> cycles.EventData:
    return cycles.EventData(
        kind=form.kind.data,
        title=form.title.data.strip(),
        description=(form.description.data or "").strip(),
        starts_at=form.starts_at.data,
        ends_at=form.ends_at.data,
        place=(form.place.data or "").strip(),
        region_id=form.region_id.data,
        school_id=form.school_id.data if "school_id" in form else None,
    )


def _event_form(form, cycle: Cycle, event: Event | None, error: str | None, status: int):
    page = render_template(
        "coordination/event_form.html", form=form, cycle=cycle, event=event, error=error
    )
    return page, status


@bp.route("/cycles/<slug>/events/new", methods=["GET", "POST"])
def new_event(slug: str):
    cycle = load_cycle(slug)
    form = _event_form_for(cycle)
    if form.validate_on_submit():
        try:
            cycles.add_event(cycle, _event_data(form), actor())
        except DomainError as e:
            return _event_form(form, load_cycle(slug), None, str(e), e.status)
        flash(_("Event added."), "success")
        return redirect(_cycle_url(cycle, "events"))
    return _event_form(form, cycle, None, None, 422 if form.is_submitted() else 200)


@bp.route("/events/<int:event_id>/edit", methods=["GET", "POST"])
def edit_event(event_id: int):
    event = load_event(event_id)
    cycle = event.cycle
    try:
        cycles.ensure_schedule_item_open(event)
    except DomainError as e:
        return _refused(cycle, e)
    # Pre-fill from the event only on GET, so a field left out of a POST is not silently kept.
    form = _event_form_for(cycle, **({"obj": event} if is_read() else {}))
    if form.validate_on_submit():
        try:
            cycles.update_event(event, _event_data(form), actor())
        except DomainError as e:
            return _event_form(form, cycle, load_event(event_id), str(e), e.status)
        flash(_("Event updated."), "success")
        return redirect(_cycle_url(cycle, "events"))
    return _event_form(form, cycle, event, None, 422 if form.is_submitted() else 200)


@bp.post("/events/<int:event_id>/delete")
def delete_event(event_id: int):
    event = load_event(event_id)
    cycle = event.cycle
    try:
        cycles.delete_event(event, actor())
    except DomainError as e:
        return _refused(cycle, e)
    flash(_("Event deleted."), "success")
    return redirect(_cycle_url(cycle, "events"))
