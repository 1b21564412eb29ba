"""Forms of the voting flow. The ballot's choices are read from the request, not from fields:
their names depend on the cycle's proposals (see `choices_from_form`)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Regexp, ValidationError

from opdigital.cycles.models import Cycle, CycleKind
from opdigital.delegates import codes as delegate_codes
from opdigital.fields import GuardedForm
from opdigital.regions.queries import all_schools
from opdigital.registry.credentials import Credentials
from opdigital.registry.models import is_delegate_scope

# Browsers send the ISO form from <input type="date">; people typing by hand write 31/12/1990.
DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]

CHOICE = "choice"
REGION_CHOICE_PREFIX = "choice-region-"


def _birth_date_field() -> DateField:
    return DateField(
        _l("Birth date"),
        format=DATE_FORMATS,
        validators=[InputRequired(message=_l("Type your birth date, e.g. 31/12/1990."))],
        render_kw={"autocomplete": "bday"},
    )


class IdentifyForm(FlaskForm):
    """Título de eleitor + birth date."""

    titulo = StringField(
        _l("Voter registration number (título de eleitor)"),
        validators=[
            DataRequired(message=_l("Type your título number.")),
            Length(max=20, message=_l("A título has 12 digits.")),
            Regexp(r"^[0-9 .\-]+$", message=_l("Type only the digits of your título.")),
        ],
        render_kw={"inputmode": "numeric", "autocomplete": "off", "spellcheck": "false"},
    )
    birth_date = _birth_date_field()

    def forget_secrets(self) -> None:
        """Do not echo the registration number back on the page (shared kiosks)."""
        self.titulo.data = None
        self.titulo.raw_data = []


class SchoolIdentifyForm(FlaskForm):
    """OPCA: school + enrolment number + birth date."""

    school = SelectField(
        _l("School"),
        validators=[DataRequired(message=_l("Choose your school."))],
        validate_choice=True,
    )
    enrolment = StringField(
        _l("Enrolment number"),
        validators=[
            DataRequired(message=_l("Type your enrolment number.")),
            Length(max=30, message=_l("This enrolment number is too long.")),
        ],
        render_kw={"inputmode": "numeric", "autocomplete": "off", "spellcheck": "false"},
    )
    birth_date = _birth_date_field()

    def forget_secrets(self) -> None:
        """Do not echo the enrolment number back on the page."""
        self.enrolment.data = None
        self.enrolment.raw_data = []


class DelegateIdentifyForm(FlaskForm):
    """A cycle whose roll is its delegates: the delegate code printed on the slip, alone."""

    code = StringField(
        _l("Delegate code"),
        validators=[
            DataRequired(message=_l("Type the code printed on your delegate slip.")),
            Length(max=20, message=_l("A delegate code has 10 letters and digits.")),
        ],
        render_kw={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"},
    )

    def validate_code(self, field) -> None:
        # The check character tells a typing mistake from a wrong code without the roll: a
        # mistyped code is not a guess, and is not counted as one.
        if not delegate_codes.is_well_formed(field.data or ""):
            raise ValidationError(
                _l(
                    "This code is mistyped: it has 10 letters and digits, as printed on your "
                    "slip. Check each one and try again."
                )
            )

    def forget_secrets(self) -> None:
        """Do not echo the code back on the page (shared kiosks)."""
        self.code.data = None
        self.code.raw_data = []


def identify_form(cycle: Cycle, school_prompt: str) -> FlaskForm:
    """The form that identifies a voter of `cycle`, wherever it is filled in (the voting flow,
    a poll worker's assisted identification, the paper list): the delegate code where the roll
    is the cycle's delegates (the Regional Forum), school, enrolment and birth date in OPCA,
    else título and birth date. `school_prompt`: the school list's first, empty option."""
    if is_delegate_scope(cycle.registry_scope):
        return DelegateIdentifyForm()
    if cycle.kind != CycleKind.OPCA:
        return IdentifyForm()
    form = SchoolIdentifyForm()
    form.school.choices = [("", school_prompt)] + [
        (school.slug, school.name) for school in all_schools()
    ]
    return form


def credentials_of(form: FlaskForm) -> Credentials:
    """The credentials a validated `identify_form` holds."""
    if isinstance(form, DelegateIdentifyForm):
        return Credentials.for_delegate(form.code.data)
    if isinstance(form, SchoolIdentifyForm):
        return Credentials(
            birth_date=form.birth_date.data, school=form.school.data, enrolment=form.enrolment.data
        )
    return Credentials(birth_date=form.birth_date.data, titulo=form.titulo.data)


class BallotForm(FlaskForm):
    """Only the CSRF token: the choices are inputs named after the proposals' regions."""


class ConfirmForm(FlaskForm):
    """The review page's "confirm my vote" button (CSRF only)."""


def choices_from_form(form: MultiDict) -> list[str]:
    """Every choice sent, in order: checkboxes and the city-wide radio group are named
    `choice`, per-region radio groups `choice-region-<id>`; an empty value means "no choice".

    Values stay text: the ballot rules decide what is an id, so a value posted by hand is
    reported to the voter instead of being dropped silently.
    """
    values = list(form.getlist(CHOICE))
    for name in form:
        if name.startswith(REGION_CHOICE_PREFIX):
            values.extend(form.getlist(name))
    return [value.strip() for value in values if value.strip()]


class VotingPointForm(GuardedForm):
    """A public voting point: name, region, the addresses its requests come from (one-line
    name, no control characters anywhere)."""

    name = StringField(
        _l("Name"),
        validators=[
            DataRequired(message=_l("Give the voting point a name.")),
            Length(max=160, message=_l("The name can have at most 160 characters.")),
        ],
    )
    region = SelectField(_l("Region"), validate_choice=True)
    addresses = TextAreaField(
        _l("IP addresses"),
        validators=[Length(max=5000, message=_l("Too many addresses."))],
        render_kw={"rows": 4, "spellcheck": "false", "autocomplete": "off"},
    )
    generate_token = BooleanField(_l("Generate a device token"))

    def region_id(self) -> int | None:
        """The chosen region's id (None: no region)."""
        return int(self.region.data) if self.region.data else None
