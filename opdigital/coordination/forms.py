"""Staff forms. Fields mirror the services' checks so most mistakes are caught field by field;
the services still have the last word and their refusals are shown as messages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    DateField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from opdigital.cycles.budget import MAX_AMOUNT_CENTS
from opdigital.cycles.models import CycleKind, EventKind, PhaseKind
from opdigital.cycles.schedule_items import EventData, PhaseData
from opdigital.fields import (
    CityDateTimeField,
    GuardedForm,
    MoneyField,
    WholeNumberField,
    latitude_field,
    longitude_field,
)
from opdigital.formatting import labels
from opdigital.proposals.models import ExecutionStatus, ProposalOrigin

try:  # WTForms 3.3 deprecates (value, label) tuples in favour of SelectChoice
    from wtforms import SelectChoice as _SelectChoice
except ImportError:  # pragma: no cover - older WTForms
    _SelectChoice = None


def choice(value: str, label) -> object:
    """One option of a select or radio field, in the form this WTForms prefers."""
    return _SelectChoice(value, label) if _SelectChoice else (value, label)


SLUG_REGEXP = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
RESERVED_SLUGS = frozenset({"new"})


def optional_int(value) -> int | None:
    """Select values: '' means none; anything else must be a whole number."""
    if value in (None, "", "None"):
        return None
    return int(value)


def _choices(group: str, values) -> list[tuple[str, str]]:
    names = labels()[group]
    return [choice(v.value, names[v.value]) for v in values]


def _place_choices(form, regions, schools, no_school_label) -> None:
    """Fill a form's `region_id` and `school_id` selects; `schools` None (a cycle without
    schools) removes the school field."""
    form.region_id.choices = [choice("", _l("Whole city"))] + [
        choice(str(r.id), r.name) for r in regions
    ]
    if schools is None:
        del form.school_id
        return
    form.school_id.choices = [choice("", no_school_label)] + [
        choice(str(s.id), s.name) for s in schools
    ]


class StaffForm(GuardedForm):
    """Base of every staff form: titles, names and places on one line, no control characters
    in any text (fields.GuardedForm); NUL is refused for every request in factory.py."""


class CalendarDateField(DateField):
    """A date (no time) with a message that shows the expected format."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as e:
            raise ValueError(_l("Enter a date, for example 2026-03-01.")) from e


class CycleEditForm(StaffForm):
    slug = StringField(
        _l("Slug (address of the cycle)"),
        validators=[
            DataRequired(),
            Length(max=60),
            Regexp(
                SLUG_REGEXP,
                message=_l("The slug may only have lower-case letters, digits and hyphens."),
            ),
        ],
    )
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=160)])
    edition = WholeNumberField(
        _l("Edition (year)"),
        validators=[
            InputRequired(),
            NumberRange(min=1990, max=2200, message=_l("The edition must be a year.")),
        ],
    )
    total_budget = MoneyField(
        _l("Total budget (R$)"),
        validators=[
            InputRequired(),
            NumberRange(
                min=0,
                max=MAX_AMOUNT_CENTS,
                message=_l("Enter an amount between zero and R$ 100 billion."),
            ),
        ],
    )
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    min_voter_age = WholeNumberField(
        _l("Minimum voter age"), validators=[Optional(), NumberRange(min=0, max=130)]
    )
    max_voter_age = WholeNumberField(
        _l("Maximum voter age"), validators=[Optional(), NumberRange(min=0, max=130)]
    )

    def validate_slug(self, field):
        # "/staff/cycles/new" is the creation form, so a cycle called "new" could not be opened.
        if (field.data or "").strip() in RESERVED_SLUGS:
            raise ValidationError(_l("This slug is reserved; choose another."))

    def validate_max_voter_age(self, field):
        low = self.min_voter_age.data
        if field.data is not None and low is not None and field.data < low:
            raise ValidationError(_l("The maximum age must not be below the minimum age."))


class CycleCreateForm(CycleEditForm):
    kind = SelectField(_l("Kind of cycle"), validators=[InputRequired()])
    start = CalendarDateField(
        _l("First day of the calendar"),
        validators=[InputRequired(message=_l("Enter a date, for example 2026-03-01."))],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = _choices("kind", CycleKind)


class TransitionForm(StaffForm):
    target = HiddenField(validators=[DataRequired()])


class ScheduleItemForm(StaffForm):
    """What the forms of a phase and of an event share: the kind's choices, the window check and
    the values both give the service.

    Each kind declares all its fields itself, in the order its page shows them: WTForms orders
    fields by declaration, a base class's first, and the error summary lists them in that order.
    """

    kind_group: str  # the group in `formatting.labels()` that names the kinds
    kinds: type[PhaseKind] | type[EventKind]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = _choices(self.kind_group, self.kinds)

    def validate_ends_at(self, field):
        if self.starts_at.data and field.data and field.data <= self.starts_at.data:
            raise ValidationError(_l("The end must come after the start."))

    def item_data(self) -> PhaseData | EventData:
        raise NotImplementedError

    def _shared_data(self) -> dict:
        return {
            "kind": self.kind.data,
            "description": (self.description.data or "").strip(),
            "starts_at": self.starts_at.data,
            "ends_at": self.ends_at.data,
        }


class PhaseForm(ScheduleItemForm):
    kind_group, kinds = "phase", PhaseKind

    kind = SelectField(_l("Kind of phase"), validators=[InputRequired()])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    position = WholeNumberField(
        _l("Position in the calendar"), validators=[Optional(), NumberRange(min=0, max=1000)]
    )
    starts_at = CityDateTimeField(_l("Starts at"), validators=[InputRequired()])
    ends_at = CityDateTimeField(_l("Ends at"), validators=[InputRequired()])

    def item_data(self) -> PhaseData:
        return PhaseData(
            name=self.name.data.strip(), position=self.position.data, **self._shared_data()
        )


class EventForm(ScheduleItemForm):
    kind_group, kinds = "event", EventKind

    kind = SelectField(_l("Kind of event"), validators=[InputRequired()])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=160)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    starts_at = CityDateTimeField(_l("Starts at"), validators=[InputRequired()])
    ends_at = CityDateTimeField(_l("Ends at"), validators=[InputRequired()])
    place = StringField(_l("Place"), validators=[Optional(), Length(max=200)])
    region_id = SelectField(_l("Region"), coerce=optional_int, validate_choice=True)
    school_id = SelectField(_l("School"), coerce=optional_int, validate_choice=True)

    def __init__(self, *args, regions=(), schools=(), with_school=False, **kwargs):
        super().__init__(*args, **kwargs)
        _place_choices(self, regions, schools if with_school else None, _l("No particular school"))

    def item_data(self) -> EventData:
        return EventData(
            title=self.title.data.strip(),
            place=(self.place.data or "").strip(),
            region_id=self.region_id.data,
            school_id=self.school_id.data if "school_id" in self else None,
            **self._shared_data(),
        )


class RegionBudgetForm(StaffForm):
    """One money field per region, added by `region_budget_form`."""


def region_budget_form(regions, **kwargs) -> RegionBudgetForm:
    """A budget form with a `region_<id>` money field for each region."""

    class Form(RegionBudgetForm):
        pass

    for region in regions:
        setattr(Form, f"region_{region.id}", MoneyField(region.name, validators=[Optional()]))
    return Form(**kwargs)


class FormulaForm(StaffForm):
    equal_share_percent = WholeNumberField(
        _l("Share divided equally (percent)"),
        validators=[
            InputRequired(),
            NumberRange(
                min=0, max=100, message=_l("The equal share must be between 0 and 100 percent.")
            ),
        ],
    )


class ProposalForm(StaffForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(min=5, max=160)])
    description = TextAreaField(
        _l("Description"), validators=[DataRequired(), Length(min=20, max=5000)]
    )
    region_id = SelectField(_l("Region"), coerce=optional_int, validate_choice=True)
    school_id = SelectField(_l("School"), coerce=optional_int, validate_choice=True)
    place = StringField(_l("Place"), validators=[Optional(), Length(max=200)])
    latitude = latitude_field()
    longitude = longitude_field()
    estimated_cost = MoneyField(_l("Estimated cost (R$)"), validators=[InputRequired()])
    author_name = StringField(_l("Proposed by"), validators=[Optional(), Length(max=120)])
    contact = StringField(
        _l("Contact (e-mail or phone, staff only)"), validators=[Optional(), Length(max=160)]
    )
    origin = SelectField(_l("Origin"), validators=[InputRequired()], default="assembly")

    def __init__(self, *args, regions=(), schools=(), with_school=False, **kwargs):
        super().__init__(*args, **kwargs)
        _place_choices(self, regions, schools if with_school else None, _l("Choose a school"))
        self.origin.choices = _choices(
            "origin", [ProposalOrigin.ASSEMBLY, ProposalOrigin.STAFF, ProposalOrigin.CITIZEN]
        )


class LocationForm(StaffForm):
    """Where a proposal or work is: a point (both coordinates, or neither to take it off the
    map) and its address or landmark in words."""

    latitude = latitude_field()
    longitude = longitude_field()
    place = StringField(_l("Place (address or landmark)"), validators=[Optional(), Length(max=200)])


class ReviewForm(StaffForm):
    technical_opinion = TextAreaField(
        _l("Technical opinion"), validators=[DataRequired(), Length(max=10000)]
    )
    reviewed_cost = MoneyField(_l("Reviewed cost (R$)"), validators=[Optional()])
    decision = RadioField(
        _l("Decision"),
        choices=[choice("accept", _l("Accept for the ballot")), choice("reject", _l("Reject"))],
        validators=[InputRequired(message=_l("Choose accept or reject."))],
    )
    rejection_reason = TextAreaField(
        _l("Public reason for the rejection"), validators=[Optional(), Length(max=5000)]
    )

    def validate_rejection_reason(self, field):
        if self.decision.data == "reject" and not (field.data or "").strip():
            raise ValidationError(_l("A rejection needs a public reason."))

    def validate_reviewed_cost(self, field):
        if field.data is not None and field.data <= 0:
            raise ValidationError(_l("The reviewed cost must be a positive amount."))


class ResultForm(StaffForm):
    selected = RadioField(
        _l("Result"),
        choices=[choice("yes", _l("Selected")), choice("no", _l("Not selected"))],
        validators=[InputRequired(message=_l("Choose selected or not selected."))],
    )


class ExecutionForm(StaffForm):
    status = SelectField(_l("Execution status"), validators=[InputRequired()])
    note = TextAreaField(_l("Public note"), validators=[Optional(), Length(max=5000)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.status.choices = _choices("execution", ExecutionStatus)

    def validate_note(self, field):
        if self.status.data == ExecutionStatus.CANCELLED and not (field.data or "").strip():
            raise ValidationError(_l("A cancellation needs a public reason."))
