"""Routes of the audit blueprint (registered on `bp` from the package)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import Response, abort, render_template, request, stream_with_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import defer
from wtforms import DateField, Form, SelectField, StringField
from wtforms.validators import Length, Optional

from opdigital.accounts.models import Role
from opdigital.audit import export
from opdigital.audit.models import AuditEntry
from opdigital.audit.views import bp
from opdigital.auth import roles_required
from opdigital.clock import now
from opdigital.cycles.models import Cycle
from opdigital.cycles.services import get_cycle
from opdigital.errors import error_response
from opdigital.extensions import db
from opdigital.tally.downloads import private_package_download
from opdigital.tally.models import Tally
from opdigital.tally.services import tally_of
from opdigital.tally.summary import TallySummary, public_key_dict, summary_of

PER_PAGE = 50


class DayField(DateField):
    """A day typed as YYYY-MM-DD (what <input type=date> sends), with a clear message."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as e:
            raise ValueError(_l("Enter the date as YYYY-MM-DD, for example 2026-03-31.")) from e


class AuditFilterForm(Form):
    """Filters read from the query string; plain WTForms since a GET filter needs no CSRF."""

    action = SelectField(_l("Action"), validate_choice=False)
    actor = StringField(
        _l("Staff e-mail contains"),
        validators=[Optional(), Length(max=254, message=_l("At most 254 characters."))],
    )
    object_type = SelectField(_l("Object type"), validate_choice=False)
    date_from = DayField(_l("From (day)"), validators=[Optional()])
    date_to = DayField(_l("Until (day, inclusive)"), validators=[Optional()])


def _choices(values: list[str], chosen: str | None, any_label: str) -> list[tuple[str, str]]:
    # Keep an unknown chosen value in the list so the form shows what is being filtered by.
    if chosen and chosen not in values:
        values = [*values, chosen]
    return [("", any_label), *((v, v) for v in values)]


def _read_filter() -> tuple[AuditFilterForm, export.AuditFilter | None]:
    """The filter form bound to the query string, and the filter (None when it is invalid)."""
    form = AuditFilterForm(request.args)
    form.action.choices = _choices(
        export.distinct_values(AuditEntry.action), form.action.data, _("Any action")
    )
    form.object_type.choices = _choices(
        export.distinct_values(AuditEntry.object_type), form.object_type.data, _("Any type")
    )
    if not form.validate():
        return form, None
    if form.date_from.data and form.date_to.data and form.date_to.data < form.date_from.data:
        form.date_to.errors = [_("The end day must not be before the start day.")]
        return form, None
    flt = export.AuditFilter(
        action=form.action.data or "",
        actor_email=(form.actor.data or "").strip(),
        object_type=form.object_type.data or "",
        date_from=form.date_from.data,
        date_to=form.date_to.data,
    )
    return form, flt


def _page_number() -> int:
    page = request.args.get("page", 1, type=int)  # not a number -> page 1
    return page if page and page > 0 else 1


@bp.get("/")
@roles_required(Role.ADMIN, Role.AUDITOR)
def log():
    """Every staff action, newest first, with filters."""
    form, flt = _read_filter()
    if flt is None:
        html = render_template("audit/log.html", form=form, pagination=None, filter_args={})
        return html, 400
    pagination = export.page_of_entries(flt, _page_number(), PER_PAGE)
    if pagination.page > 1 and pagination.page > pagination.pages:
        abort(404)
    return render_template(
        "audit/log.html", form=form, pagination=pagination, filter_args=flt.as_args()
    )


def _download(chunks, mimetype: str, extension: str) -> Response:
    filename = f"audit-log-{now():%Y%m%dT%H%M%SZ}.{extension}"
    response = Response(stream_with_context(chunks), mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _bad_filter(form: AuditFilterForm):
    problems = "; ".join(
        f"{form[name].label.text}: {' '.join(str(e) for e in errors)}"
        for name, errors in form.errors.items()
    )
    return error_response(400, "bad_request", _("Invalid filter. %(problems)s", problems=problems))


@bp.get("/export.csv")
@roles_required(Role.ADMIN, Role.AUDITOR)
def export_csv():
    """Download the matching entries as CSV (oldest first)."""
    form, flt = _read_filter()
    if flt is None:
        return _bad_filter(form)
    return _download(export.csv_rows(flt), "text/csv; charset=utf-8", "csv")


@bp.get("/export.json")
@roles_required(Role.ADMIN, Role.AUDITOR)
def export_json():
    """Download the matching entries as a JSON list (oldest first)."""
    form, flt = _read_filter()
    if flt is None:
        return _bad_filter(form)
    return _download(export.json_chunks(flt), "application/json", "json")


@bp.app_template_filter("compact_json")
def compact_json(value: dict | None) -> str:
    """Before/after values on one line, for the log table."""
    return export.compact_json(value)


# --- tally packages --------------------------------------------------------------------------


@dataclass(frozen=True)
class TalliedCycle:
    slug: str
    title: str
    state: str
    tally: TallySummary


def tallied_cycles() -> list[TalliedCycle]:
    """Every cycle with a tally package, newest tally first (published or not)."""
    rows = db.session.execute(
        sa.select(Tally, Cycle)
        .join(Cycle, Cycle.id == Tally.cycle_id)
        .options(defer(Tally.package))  # the list needs the digests, not the zips
        .order_by(Tally.created_at.desc(), Cycle.slug)
    )
    return [TalliedCycle(c.slug, c.title, c.state, summary_of(t)) for t, c in rows]


@bp.get("/tallies")
@roles_required(Role.ADMIN, Role.AUDITOR)
def tallies():
    """Every tally package with its digests, and the key to check their signatures against."""
    return render_template("audit/tallies.html", cycles=tallied_cycles(), key=public_key_dict())


@bp.get("/tallies/<slug>/tally.zip")
@roles_required(Role.ADMIN, Role.AUDITOR)
def tally_package(slug: str):
    """A cycle's signed package, byte for byte as signed, before publication too."""
    cycle = get_cycle(slug)
    return private_package_download(tally_of(cycle), cycle.slug)
