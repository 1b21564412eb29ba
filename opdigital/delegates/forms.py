"""Staff forms for the delegate roll. The select fields' choices are given by the view."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from opdigital.delegates.services import MAX_NAME, DelegateData
from opdigital.fields import GuardedForm


def _optional_int(value) -> int | None:
    if value in (None, "", "None"):
        return None
    return int(value)


def _optional_text(value) -> str | None:
    return value or None


class DelegateForm(GuardedForm):
    """One delegate: name, role, region (OPCA: school and seat), and the electing assembly."""

    name = StringField(
        _l("Name"),
        validators=[
            DataRequired(message=_l("Give the delegate's name.")),
            Length(max=MAX_NAME, message=_l("A name can have at most 160 characters.")),
        ],
        render_kw={"autocomplete": "off"},
    )
    role = SelectField(_l("Role"), validate_choice=True)
    region_id = SelectField(_l("Region"), coerce=_optional_int, validate_choice=True)
    school_id = SelectField(_l("School"), coerce=_optional_int, validate_choice=True)
    seat = SelectField(_l("Seat"), coerce=_optional_text, validate_choice=True)
    event_id = SelectField(_l("Elected at"), coerce=_optional_int, validate_choice=True)

    def __init__(self, *args, school_cycle: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if school_cycle:
            del self.region_id
        else:
            del self.school_id
            del self.seat

    def data_for_service(self) -> DelegateData:
        fields = self._fields
        return DelegateData(
            name=self.name.data or "",
            role=self.role.data or "",
            region_id=fields["region_id"].data if "region_id" in fields else None,
            school_id=fields["school_id"].data if "school_id" in fields else None,
            seat=fields["seat"].data if "seat" in fields else None,
            event_id=self.event_id.data,
        )


class DelegateImportForm(FlaskForm):
    """A CSV file of delegates, and optionally the assembly that elected them all."""

    file = FileField(_l("CSV file"), validators=[FileRequired(message=_l("Choose a CSV file."))])
    event_id = SelectField(_l("Elected at"), coerce=_optional_int, validate_choice=True)


class CodesForm(FlaskForm):
    """Issuing codes, reissuing one, or taking a delegate off the roll (CSRF only)."""
