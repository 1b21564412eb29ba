"""The citizen's proposal form. Checks here give field-level messages; the service re-checks."""

from __future__ import annotations

import re

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from opdigital.cycles.models import Cycle, CycleKind
from opdigital.fields import GuardedForm, MoneyField, latitude_field, longitude_field
from opdigital.proposals.consent import is_email_address
from opdigital.regions.models import Region, School

_PHONE = re.compile(r"^\+?[0-9\s().-]+$")


def optional_int(value) -> int | None:
    """Select values: '' means none chosen; anything else must be an id."""
    if value in (None, "", "None"):
        return None
    return int(value)


def positive_amount(form, field) -> None:
    # A parse error ("abc") is already reported by the field itself.
    if field.data is not None and field.data <= 0:
        raise ValidationError(_l("The estimated cost must be more than zero."))


def email_or_phone(form, field) -> None:
    value = (field.data or "").strip()
    if "@" in value:
        try:
            validate_email(value, check_deliverability=False)
        except EmailNotValidError as e:
            raise ValidationError(_l("Enter a valid e-mail address.")) from e
        return
    digits = re.sub(r"\D", "", value)
    if not _PHONE.match(value) or not 8 <= len(digits) <= 15:
        raise ValidationError(
            _l("Enter an e-mail address or a phone number with area code, e.g. (31) 3277-4000.")
        )


class ChoiceField(SelectField):
    """A select whose refusals (tampered or stale values) speak our words, not WTForms'."""

    invalid_message = _l("Choose one of the options in the list.")

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as e:
            raise ValueError(self.invalid_message) from e

    def pre_validate(self, form):
        try:
            super().pre_validate(form)
        except ValidationError as e:
            raise ValidationError(self.invalid_message) from e


class ProposalForm(GuardedForm):
    """Title, place, name and contact on one line; the description keeps its line breaks."""

    title = StringField(
        _l("Title"),
        validators=[
            InputRequired(_l("Give your proposal a title.")),
            Length(min=5, max=160, message=_l("The title must have between 5 and 160 characters.")),
        ],
    )
    description = TextAreaField(
        _l("Description"),
        validators=[
            InputRequired(_l("Describe your proposal.")),
            Length(
                min=20,
                max=5000,
                message=_l("The description must have between 20 and 5000 characters."),
            ),
        ],
    )
    region = ChoiceField(_l("Region"), coerce=optional_int)
    school = ChoiceField(_l("School"), coerce=optional_int)
    place = StringField(
        _l("Place (address or reference)"),
        validators=[Optional(), Length(max=200, message=_l("Use at most 200 characters."))],
    )
    # Optional: where the work should be made, as a point (the map on the page fills these in).
    latitude = latitude_field()
    longitude = longitude_field()
    estimated_cost = MoneyField(
        _l("Estimated cost (R$)"),
        validators=[InputRequired(_l("Enter the estimated cost.")), positive_amount],
    )
    author_name = StringField(
        _l("Your name"),
        validators=[Optional(), Length(max=120, message=_l("Use at most 120 characters."))],
        render_kw={"autocomplete": "name"},
    )
    contact = StringField(
        _l("E-mail or phone"),
        validators=[
            InputRequired(_l("Enter an e-mail address or a phone number.")),
            Length(max=160, message=_l("Use at most 160 characters.")),
            email_or_phone,
        ],
    )
    # Consent to e-mails (LGPD art. 8): its own question, apart from sending the proposal, and
    # never ticked in advance.
    notify_by_email = BooleanField(
        _l("Send me e-mails about what becomes of this proposal"), default=False
    )

    def validate_notify_by_email(self, field) -> None:
        if field.data and not is_email_address(self.contact.data or ""):
            raise ValidationError(
                _l(
                    "To receive e-mails, give an e-mail address as your contact (a phone number "
                    "cannot receive them), or leave this box unticked."
                )
            )


def build_proposal_form(cycle: Cycle, regions: list[Region], schools: list[School]):
    """The form shaped for the cycle's kind.

    OP Digital allows city-wide proposals (no region); OPCA proposals belong to a school, whose
    region is taken from the school, so pupils are not asked for it.
    """
    form = ProposalForm()
    if cycle.kind == CycleKind.OPCA:
        del form.region
        form.school.choices = [("", _l("Choose your school"))] + [(s.id, s.name) for s in schools]
        form.school.validators = [InputRequired(_l("Choose the school of the proposal."))]
        form.school.flags.required = True
    else:
        del form.school
        empty = (
            _l("The whole city (no specific region)")
            if cycle.kind == CycleKind.OP_DIGITAL
            else _l("Choose a region")
        )
        form.region.choices = [("", empty)] + [(r.id, r.name) for r in regions]
        if cycle.kind != CycleKind.OP_DIGITAL:
            form.region.validators = [InputRequired(_l("Choose the region of the proposal."))]
            form.region.flags.required = True
    return form
