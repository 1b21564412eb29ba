"""Staff forms of a work's execution evidence: the money figures, milestones and photos.

Each form on the evidence screen has its own prefix, so that its fields' ids stay unique on a
page that shows several forms (and a "done" form per milestone). The services check the same
rules again and have the last word.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from opdigital.cycles.budget import MAX_AMOUNT_CENTS
from opdigital.fields import GuardedForm, MoneyField, WholeNumberField
from opdigital.works.evidence import (
    DEPARTMENT_MAX,
    MILESTONE_NOTE_MAX,
    MILESTONE_TITLE_MAX,
    WEIGHT_MAX,
    WEIGHT_MIN,
)
from opdigital.works.photos import ALT_TEXT_MAX, CAPTION_MAX

# What <input type="date"> sends, and what people type by hand (31/12/2026), as for birth dates.
DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]
DATE_HINT = _l("For example 31/12/2026.")


class WorkDateField(DateField):
    """A day, ISO from a date picker or typed the Brazilian way, with a message saying how."""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("format", DATE_FORMATS)
        super().__init__(label, validators, **kwargs)

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as e:
            raise ValueError(_l("Enter a date, for example 31/12/2026.")) from e


def _amount() -> list:
    return [
        Optional(),
        NumberRange(
            min=0,
            max=MAX_AMOUNT_CENTS,
            message=_l("Enter an amount between zero and R$ 100 billion."),
        ),
    ]


class FiguresForm(GuardedForm):
    """The department in charge, and the money committed and spent so far."""

    department = StringField(
        _l("Department in charge"), validators=[Optional(), Length(max=DEPARTMENT_MAX)]
    )
    committed = MoneyField(_l("Committed so far (empenhado, R$)"), validators=_amount())
    spent = MoneyField(_l("Spent so far (pago, R$)"), validators=_amount())


class MilestoneForm(GuardedForm):
    title = StringField(
        _l("Milestone"), validators=[DataRequired(), Length(max=MILESTONE_TITLE_MAX)]
    )
    planned_on = WorkDateField(_l("Planned for"), validators=[InputRequired()])
    done_on = WorkDateField(_l("Done on (blank while not done)"), validators=[Optional()])
    weight = WholeNumberField(
        _l("Weight (1 to 100)"),
        default=1,
        validators=[
            InputRequired(),
            NumberRange(
                min=WEIGHT_MIN,
                max=WEIGHT_MAX,
                message=_l("The weight is a whole number from 1 to 100."),
            ),
        ],
    )
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=MILESTONE_NOTE_MAX)])


class MilestoneDoneForm(GuardedForm):
    """One milestone marked done on a day (the day of the form by default)."""

    done_on = WorkDateField(_l("Done on"), validators=[InputRequired()])


class PhotoForm(GuardedForm):
    photo = FileField(
        _l("Photo (JPEG, PNG or WebP)"),
        validators=[FileRequired(message=_l("Choose a photo to send."))],
        render_kw={"accept": "image/jpeg,image/png,image/webp"},
    )
    alt_text = StringField(
        _l("Description for people who cannot see the photo"),
        validators=[
            DataRequired(message=_l("Describe the photo for people who cannot see it.")),
            Length(max=ALT_TEXT_MAX),
        ],
    )
    caption = StringField(_l("Caption"), validators=[Optional(), Length(max=CAPTION_MAX)])
    taken_on = WorkDateField(_l("Taken on"), validators=[Optional()])
