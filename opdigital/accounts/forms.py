"""Forms for staff sign-in and account management (CSRF via Flask-WTF)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional, ValidationError

from opdigital.accounts.models import Role
from opdigital.accounts.passwords import MIN_PASSWORD_LENGTH
from opdigital.fields import GuardedForm
from opdigital.regions.queries import all_regions

# Long enough for any passphrase, short enough that hashing it is never a burden.
MAX_PASSWORD_LENGTH = 200


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def role_choices() -> list[tuple[str, str]]:
    """(code, translated label) for every role an account form offers, in a stable order.

    Poll workers are not among them: they are created with their voting point and cycle, on the
    voting point's page (`polling`), never by changing another account's role."""
    names = {
        Role.ADMIN: _l("Administrator"),
        Role.COORDINATOR: _l("Coordinator"),
        Role.AUDITOR: _l("Auditor"),
        Role.PRIVACY_OFFICER: _l("Privacy officer (encarregado)"),
        Role.MONITOR: _l("Comforça member (monitors the works of a region)"),
    }
    return [(role.value, names[role]) for role in Role if role in names]


def region_choices() -> list[tuple[str, str]]:
    """(slug, name) of every region, after "none": the region a Comforça member follows."""
    return [("", _l("None (not a Comforça member)"))] + [
        (region.slug, region.name) for region in all_regions()
    ]


# Fields that several forms declare alike. Call once per form: WTForms orders a form's fields
# by when each was created.


def _new_password_field(label) -> PasswordField:
    return PasswordField(
        label,
        validators=[
            DataRequired(message=_l("Enter a password.")),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=MAX_PASSWORD_LENGTH,
                message=_l(
                    "The password must have between %(min)d and %(max)d characters.",
                    min=MIN_PASSWORD_LENGTH,
                    max=MAX_PASSWORD_LENGTH,
                ),
            ),
        ],
        render_kw={"autocomplete": "new-password"},
    )


def _confirmation_field(label) -> PasswordField:
    return PasswordField(
        label,
        validators=[
            DataRequired(message=_l("Repeat the password.")),
            EqualTo("password", message=_l("The two passwords do not match.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )


def _name_field() -> StringField:
    return StringField(
        _l("Full name"),
        validators=[Optional(), Length(max=120, message=_l("At most 120 characters."))],
    )


def _role_field() -> SelectField:
    return SelectField(
        _l("Role"),
        choices=role_choices,
        validators=[DataRequired(message=_l("Choose a role."))],
        validate_choice=True,
    )


def _region_field() -> SelectField:
    return SelectField(_l("Region"), choices=region_choices, default="", validate_choice=True)


class RegionOfMonitor:
    """A form mixin: the region is required when the role is Comforça member (monitor)."""

    def validate_region(self, field) -> None:
        if self.role.data == Role.MONITOR and not field.data:
            raise ValidationError(_l("Choose the region this Comforça member follows."))


class LoginForm(FlaskForm):
    email = EmailField(
        _l("E-mail"),
        validators=[
            DataRequired(message=_l("Enter your e-mail address.")),
            Length(max=254, message=_l("This e-mail address is too long.")),
        ],
        filters=[_strip],
        render_kw={"autocomplete": "username", "spellcheck": "false"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[
            DataRequired(message=_l("Enter your password.")),
            Length(max=MAX_PASSWORD_LENGTH, message=_l("This password is too long.")),
        ],
        render_kw={"autocomplete": "current-password"},
    )
    submit = SubmitField(_l("Sign in"))


class NewUserForm(RegionOfMonitor, GuardedForm):
    email = EmailField(
        _l("E-mail"),
        validators=[
            DataRequired(message=_l("Enter an e-mail address.")),
            Length(max=254, message=_l("This e-mail address is too long.")),
            Email(message=_l("Enter a valid e-mail address."), check_deliverability=False),
        ],
        filters=[_strip],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    name = _name_field()
    role = _role_field()
    region = _region_field()
    password = _new_password_field(_l("Password"))
    confirm = _confirmation_field(_l("Repeat the password"))
    submit = SubmitField(_l("Create account"))


class EditUserForm(RegionOfMonitor, GuardedForm):
    name = _name_field()
    role = _role_field()
    region = _region_field()
    active = BooleanField(_l("Account active (can sign in)"))
    submit = SubmitField(_l("Save changes"))


class PasswordForm(FlaskForm):
    password = _new_password_field(_l("New password"))
    confirm = _confirmation_field(_l("Repeat the new password"))
    submit = SubmitField(_l("Set password"))
