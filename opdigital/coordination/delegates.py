"""Staff screens for a cycle's delegate roll: delegates, substitutes, Comforça members, the CSV
import, and the delegate codes (issued for the printed slips, shown once, never stored)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from opdigital.coordination import bp
from opdigital.coordination.common import actor, load_cycle
from opdigital.coordination.forms import choice
from opdigital.cycles.models import Cycle, Event
from opdigital.delegates import services
from opdigital.delegates.forms import CodesForm, DelegateForm, DelegateImportForm
from opdigital.delegates.models import Delegate, DelegateRole, Seat
from opdigital.delegates.services import ImportRefused, IssuedCode
from opdigital.errors import DomainError
from opdigital.extensions import db
from opdigital.regions.queries import all_regions, all_schools
from opdigital.web import is_read

ROLE_LABELS = {
    DelegateRole.DELEGATE.value: _l("Delegate"),
    DelegateRole.SUBSTITUTE.value: _l("Substitute"),
    DelegateRole.COMFORCA.value: _l("Comforça member"),
}
SEAT_LABELS = {Seat.GIRL.value: _l("Girl"), Seat.BOY.value: _l("Boy")}
NO_STORE = {"Cache-Control": "no-store"}


def _events(cycle: Cycle) -> list[Event]:
    return list(
        db.session.scalars(
            sa.select(Event).where(Event.cycle_id == cycle.id).order_by(Event.starts_at)
        )
    )


def _event_choices(cycle: Cycle) -> list:
    return [choice("", _l("Not recorded"))] + [choice(str(e.id), e.title) for e in _events(cycle)]


def _delegate_form(cycle: Cycle, **kwargs) -> DelegateForm:
    form = DelegateForm(school_cycle=services.is_school_cycle(cycle), **kwargs)
    form.role.choices = [choice(k, label) for k, label in ROLE_LABELS.items()]
    if "region_id" in form._fields:
        form.region_id.choices = [choice("", _l("Choose a region"))] + [
            choice(str(r.id), r.name) for r in all_regions()
        ]
    else:
        form.school_id.choices = [choice("", _l("Choose a school"))] + [
            choice(str(s.id), s.name) for s in all_schools()
        ]
        form.seat.choices = [choice("", _l("No seat (Comforça)"))] + [
            choice(k, label) for k, label in SEAT_LABELS.items()
        ]
    form.event_id.choices = _event_choices(cycle)
    return form


def _import_form(cycle: Cycle, **kwargs) -> DelegateImportForm:
    form = DelegateImportForm(**kwargs)
    form.event_id.choices = _event_choices(cycle)
    return form


def _roll_page(cycle: Cycle, *, error=None, import_errors=(), import_form=None, status=200):
    page = render_template(
        "coordination/delegates.html",
        cycle=cycle,
        delegates=services.roll(cycle),
        used=services.used_codes(cycle),
        from_delegates=services.takes_roll_from_delegates(cycle),
        school_cycle=services.is_school_cycle(cycle),
        role_labels=ROLE_LABELS,
        seat_labels=SEAT_LABELS,
        import_form=import_form or _import_form(cycle, formdata=None),
        codes_form=CodesForm(formdata=None),
        error=error,
        import_errors=import_errors,
    )
    return page, status


def _slips_page(cycle: Cycle, issued: list[IssuedCode]):
    page = render_template(
        "coordination/delegate_slips.html",
        cycle=cycle,
        issued=issued,
        role_labels=ROLE_LABELS,
        seat_labels=SEAT_LABELS,
        vote_url=url_for("voting.identify", slug=cycle.slug, _external=True),
    )
    return page, 200, NO_STORE


@bp.get("/cycles/<slug>/delegates")
def delegates(slug: str):
    """The roll of delegates, substitutes and Comforça members, with the codes' state."""
    return _roll_page(load_cycle(slug))


def _form_page(cycle: Cycle, form: DelegateForm, delegate: Delegate | None, error, status):
    page = render_template(
        "coordination/delegate_form.html",
        cycle=cycle,
        form=form,
        delegate=delegate,
        error=error,
        school_cycle=services.is_school_cycle(cycle),
    )
    return page, status


@bp.route("/cycles/<slug>/delegates/new", methods=["GET", "POST"])
def new_delegate(slug: str):
    cycle = load_cycle(slug)
    if is_read():
        return _form_page(cycle, _delegate_form(cycle, formdata=None), None, None, 200)
    form = _delegate_form(cycle)
    if not form.validate():
        return _form_page(cycle, form, None, None, 422)
    try:
        services.add_delegate(cycle, form.data_for_service(), actor())
    except DomainError as e:
        return _form_page(load_cycle(slug), form, None, str(e), e.status)
    flash(_("The delegate was added to the roll."), "success")
    return redirect(url_for("coordination.delegates", slug=slug))


@bp.route("/cycles/<slug>/delegates/<int:delegate_id>/edit", methods=["GET", "POST"])
def edit_delegate(slug: str, delegate_id: int):
    cycle = load_cycle(slug)
    delegate = services.get_delegate(cycle, delegate_id)
    if is_read():
        values = {
            "name": delegate.name,
            "role": delegate.role,
            "region_id": delegate.region_id,
            "school_id": delegate.school_id,
            "seat": delegate.seat,
            "event_id": delegate.event_id,
        }
        form = _delegate_form(cycle, formdata=None, **values)
        return _form_page(cycle, form, delegate, None, 200)
    form = _delegate_form(cycle)
    if not form.validate():
        return _form_page(cycle, form, delegate, None, 422)
    try:
        services.update_delegate(delegate, form.data_for_service(), actor())
    except DomainError as e:
        cycle = load_cycle(slug)
        return _form_page(cycle, form, services.get_delegate(cycle, delegate_id), str(e), e.status)
    flash(_("The delegate was changed."), "success")
    return redirect(url_for("coordination.delegates", slug=slug))


@bp.post("/cycles/<slug>/delegates/<int:delegate_id>/delete")
def delete_delegate(slug: str, delegate_id: int):
    cycle = load_cycle(slug)
    delegate = services.get_delegate(cycle, delegate_id)
    if not CodesForm().validate_on_submit():
        return _roll_page(cycle, error=_("The form expired: try again."), status=400)
    try:
        services.remove_delegate(delegate, actor())
    except DomainError as e:
        return _roll_page(load_cycle(slug), error=str(e), status=e.status)
    flash(_("The delegate was taken off the roll."), "success")
    return redirect(url_for("coordination.delegates", slug=slug))


@bp.post("/cycles/<slug>/delegates/import")
def import_delegates(slug: str):
    """A CSV of delegates, all or nothing."""
    cycle = load_cycle(slug)
    form = _import_form(cycle)
    if not form.validate():
        return _roll_page(cycle, import_form=form, status=422)
    try:
        added = services.import_delegates(
            cycle, form.file.data.read(), actor(), event_id=form.event_id.data
        )
    except ImportRefused as e:
        cycle = load_cycle(slug)
        return _roll_page(cycle, error=str(e), import_errors=e.errors, status=e.status)
    except DomainError as e:
        return _roll_page(load_cycle(slug), error=str(e), status=e.status)
    flash(_("%(count)s delegate(s) were added to the roll.", count=added), "success")
    return redirect(url_for("coordination.delegates", slug=slug))


@bp.post("/cycles/<slug>/delegates/codes")
def issue_codes(slug: str):
    """A code for every delegate without one: the slips, shown once on the answer."""
    cycle = load_cycle(slug)
    if not CodesForm().validate_on_submit():
        return _roll_page(cycle, error=_("The form expired: try again."), status=400)
    try:
        issued = services.issue_codes(cycle, actor())
    except DomainError as e:
        return _roll_page(load_cycle(slug), error=str(e), status=e.status)
    return _slips_page(load_cycle(slug), issued)


@bp.post("/cycles/<slug>/delegates/<int:delegate_id>/code")
def issue_code(slug: str, delegate_id: int):
    """A code for one delegate or substitute (a new one for a lost slip): its slip, once."""
    cycle = load_cycle(slug)
    delegate = services.get_delegate(cycle, delegate_id)
    if not CodesForm().validate_on_submit():
        return _roll_page(cycle, error=_("The form expired: try again."), status=400)
    try:
        issued = services.issue_code(delegate, actor())
    except DomainError as e:
        return _roll_page(load_cycle(slug), error=str(e), status=e.status)
    return _slips_page(load_cycle(slug), [issued])
