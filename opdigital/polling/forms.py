"""Forms of voting day: the poll worker's buttons, and the coordinators' poll worker screens.

The assisted identification reuses the voting flow's forms (`voting.forms.IdentifyForm` and
`SchoolIdentifyForm`): the poll worker types what the voter's document says.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import EmailField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, Length

from opdigital.fields import GuardedForm
from opdigital.polling.accounts import EMAIL_MAX, NAME_MAX


class PointActionForm(FlaskForm):
    """Open or close the point, or deactivate a poll worker (CSRF only)."""


def _cycle_field() -> SelectField:
    return SelectField(
        _l("Cycle"),
        validators=[DataRequired(message=_l("Choose the cycle."))],
        validate_choice=True,
    )


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


class NewPollWorkerForm(GuardedForm):
    """One poll worker: name, e-mail and the cycle (the point is the page's)."""

    name = StringField(
        _l("Full name"),
        validators=[
            DataRequired(message=_l("Give the poll worker's name.")),
            Length(max=NAME_MAX, message=_l("At most %(n)d characters.", n=NAME_MAX)),
        ],
        filters=[_strip],
    )
    email = EmailField(
        _l("E-mail"),
        validators=[
            DataRequired(message=_l("Give the poll worker's e-mail address.")),
            Length(max=EMAIL_MAX, message=_l("This e-mail address is too long.")),
            Email(message=_l("Enter a valid e-mail address."), check_deliverability=False),
        ],
        filters=[_strip],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    cycle = _cycle_field()
    submit = SubmitField(_l("Create the poll worker"))


class PollWorkerUploadForm(FlaskForm):
    """Several poll workers from a CSV file, for one cycle."""

    file = FileField(
        _l("CSV file"),
        validators=[FileRequired(message=_l("Choose a CSV file."))],
        render_kw={"accept": ".csv,text/csv,text/plain"},
    )
    cycle = _cycle_field()
    submit = SubmitField(_l("Create the poll workers"))
