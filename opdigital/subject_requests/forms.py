"""The request form, the code form and the encarregado's forms. Field checks give messages next
to each field; the services check again."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, Regexp, ValidationError

from opdigital.fields import GuardedForm
from opdigital.subject_requests import contacts
from opdigital.subject_requests.handling import MAX_ANSWER
from opdigital.subject_requests.models import RequestKind
from opdigital.subject_requests.services import MAX_CONTACT, MAX_DETAILS

try:  # WTForms 3.3 deprecates (value, label) tuples in favour of SelectChoice
    from wtforms import SelectChoice as _SelectChoice
except ImportError:  # pragma: no cover - older WTForms
    _SelectChoice = None


def choice(value: str, label) -> object:
    """One option of a select or radio field, in the form this WTForms prefers."""
    return _SelectChoice(value, label) if _SelectChoice else (value, label)


def kind_choices() -> list[tuple[str, str, str]]:
    """(value, label, one-line explanation) of every kind, in the form's order."""
    return [
        (
            RequestKind.ACCESS.value,
            _l("See my data"),
            _l("We tell you which personal data we hold for the contact you give, and why."),
        ),
        (
            RequestKind.CORRECTION.value,
            _l("Correct my data"),
            _l("A name or contact on a proposal is wrong or out of date: say below what is wrong."),
        ),
        (
            RequestKind.ANONYMISATION.value,
            _l("Anonymise my data"),
            _l(
                "Your name and contact are removed from your proposals, which stay public "
                "without them."
            ),
        ),
        (
            RequestKind.DELETION.value,
            _l("Delete my data"),
            _l(
                "Your name, contact, e-mail consent and the e-mails sent to you are erased; "
                "the proposals stay public, as the programme's record, without them."
            ),
        ),
    ]


def _contact(form, field) -> None:
    if not contacts.is_valid(field.data or ""):
        raise ValidationError(
            _l("Enter an e-mail address or a phone number with area code, e.g. (31) 3277-4000.")
        )


def _contact_field(label, validators) -> StringField:
    return StringField(
        label,
        validators=[
            *validators,
            Length(max=MAX_CONTACT, message=_l("Use at most %(n)d characters.", n=MAX_CONTACT)),
            _contact,
        ],
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        render_kw={"autocomplete": "email", "spellcheck": "false"},
    )


class RequestForm(GuardedForm):
    kind = RadioField(
        _l("What do you ask for?"),
        choices=[choice(value, label) for value, label, _help in kind_choices()],
        validate_choice=False,  # validate_kind says it in our words
        validators=[InputRequired(_l("Choose what you are asking for."))],
    )
    contact = _contact_field(
        _l("E-mail or phone you gave"),
        [InputRequired(_l("Enter the e-mail address or phone number you gave."))],
    )
    details = TextAreaField(
        _l("Details"),
        validators=[
            # No Optional(): it would stop the chain before validate_details sees an empty one.
            Length(max=MAX_DETAILS, message=_l("Use at most %(n)d characters.", n=MAX_DETAILS)),
        ],
    )

    def validate_details(self, field) -> None:
        if self.kind.data == RequestKind.CORRECTION and not (field.data or "").strip():
            raise ValidationError(_l("Say what should be corrected, and how."))

    def validate_kind(self, field) -> None:
        if field.data not in {k.value for k in RequestKind}:
            raise ValidationError(_l("Choose what you are asking for."))


class CodeForm(GuardedForm):
    code = StringField(
        _l("Code"),
        validators=[
            InputRequired(_l("Enter the code.")),
            Regexp(r"^\s*(\d\s*){6}$", message=_l("The code has 6 digits.")),
        ],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "maxlength": "12"},
    )


class ButtonForm(FlaskForm):
    """An action with nothing to type: only its CSRF token."""


class CorrectionForm(GuardedForm):
    proposal = SelectField(_l("Proposal"), validate_choice=False)
    author_name = StringField(
        _l("New author name"),
        validators=[Optional(), Length(max=120, message=_l("Use at most 120 characters."))],
    )
    remove_name = BooleanField(_l("Remove the author's name"))
    contact = _contact_field(_l("New contact"), [Optional()])

    def validate_proposal(self, field) -> None:
        offered = {getattr(option, "value", None) or option[0] for option in field.choices or []}
        if field.data not in offered:
            raise ValidationError(_l("Choose one of the proposals held for this contact."))


class AnswerForm(GuardedForm):
    answer = TextAreaField(
        _l("Answer"),
        validators=[
            InputRequired(_l("Write the answer.")),
            Length(max=MAX_ANSWER, message=_l("Use at most %(n)d characters.", n=MAX_ANSWER)),
        ],
        render_kw={"rows": 18},
    )
