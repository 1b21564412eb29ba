"""WTForms fields shared by public and staff forms: money in reais, dates in the city's zone,
and the refusal of control characters in every text field (`GuardedForm`)."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateTimeLocalField,
    IntegerField,
    PasswordField,
    StringField,
    TextAreaField,
)
from wtforms.validators import ValidationError

from opdigital.clock import CITY_TZ
from opdigital.text_safety import has_control_characters

_MONEY_CHARS = re.compile(r"^[0-9.,\s]+$")
# More integer digits than this is no amount anyone means (R$ 999 trillion), and beyond a
# float's range WTForms' NumberRange would fail with an OverflowError instead of a message.
_MAX_REAIS_DIGITS = 15
# PostgreSQL's `integer`: a whole number beyond it cannot be stored or compared in a query.
DATABASE_INT_MAX = 2**31 - 1


def parse_reais(text: str) -> int:
    """'R$ 1.234.567,89', '1234567,89' or '1234567.89' -> centavos. Raises ValueError."""
    cleaned = (text or "").replace("R$", "").replace("\u00a0", " ").strip()
    if not cleaned or not _MONEY_CHARS.match(cleaned):
        raise ValueError("not an amount")
    cleaned = cleaned.replace(" ", "")
    if "," in cleaned:  # Brazilian style: dots group thousands, comma for centavos
        integer, _, fraction = cleaned.rpartition(",")
        integer = integer.replace(".", "")
    elif cleaned.count(".") == 1 and len(cleaned.rpartition(".")[2]) <= 2:
        integer, _, fraction = cleaned.rpartition(".")
    else:  # "1.234.567": dots only group thousands
        integer, fraction = cleaned.replace(".", ""), ""
    if not integer.isdigit() or (fraction and (not fraction.isdigit() or len(fraction) > 2)):
        raise ValueError("not an amount")
    if len(integer.lstrip("0")) > _MAX_REAIS_DIGITS:
        raise ValueError("amount too large")
    try:
        value = Decimal(f"{integer}.{fraction or '0'}")
    except InvalidOperation as e:
        raise ValueError("not an amount") from e
    return int(value * 100)


class MoneyField(StringField):
    """An amount in reais typed by a person; `data` is whole centavos (or None)."""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("render_kw", {"inputmode": "decimal", "autocomplete": "off"})
        super().__init__(label, validators, **kwargs)

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        if self.data is None:
            return ""
        reais, cents = divmod(self.data, 100)
        return f"{reais:,}".replace(",", ".") + f",{cents:02d}"

    def process_formdata(self, valuelist):
        self.data = None
        if valuelist and valuelist[0].strip():
            try:
                self.data = parse_reais(valuelist[0])
            except ValueError as e:
                self.data = None
                raise ValueError(_l("Enter an amount in reais, for example 1.250.000,00.")) from e


# Decimal degrees as people type them: "-19.9191", "-19,9191" (Brazilian decimal comma), with a
# typographic minus or a trailing degree sign. Never thousands separators: a degree has at most
# three integer digits.
_DEGREES = re.compile(r"^[+-]?\d{1,3}(?:[.,]\d{1,15})?$")


def parse_degrees(text: str) -> float:
    """'-19,9191', '-19.9191', '−19.9191°' -> -19.9191. Raises ValueError."""
    cleaned = (text or "").replace("\u2212", "-").replace("\u00b0", "").replace(" ", "").strip()
    if not _DEGREES.match(cleaned):
        raise ValueError("not decimal degrees")
    return float(cleaned.replace(",", "."))


class CoordinateField(StringField):
    """A latitude or longitude in decimal degrees (WGS 84); `data` is a float or None (empty).

    The range is checked here, field by field; whether the point lies inside its region is the
    service's check (geo/locations.py), which knows the region's boundary.
    """

    RANGES = {"latitude": 90, "longitude": 180}

    def __init__(self, label=None, validators=None, *, axis: str, **kwargs):
        self.axis = axis
        render_kw = {"inputmode": "decimal", "autocomplete": "off", "spellcheck": "false"}
        kwargs.setdefault("render_kw", render_kw)
        super().__init__(label, validators, **kwargs)

    @property
    def given(self) -> bool:
        """Something was typed (even if it could not be read)."""
        return bool(self.raw_data and (self.raw_data[0] or "").strip())

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else f"{self.data:.6f}".rstrip("0").rstrip(".")

    def process_formdata(self, valuelist):
        self.data = None
        if not (valuelist and (valuelist[0] or "").strip()):
            return
        limit = self.RANGES[self.axis]
        try:
            value = parse_degrees(valuelist[0])
        except ValueError as e:
            raise ValueError(self._message()) from e
        if not -limit <= value <= limit:
            raise ValueError(self._message())
        self.data = value

    def _message(self):
        if self.axis == "latitude":
            return _l(
                "Enter the latitude in decimal degrees, between -90 and 90, for example -19,9191."
            )
        return _l(
            "Enter the longitude in decimal degrees, between -180 and 180, for example -43,9386."
        )


class _GivenWith:
    """A latitude needs its longitude and the other way round: both or neither."""

    def __init__(self, other: str, message) -> None:
        self.other = other
        self.message = message

    def __call__(self, form, field) -> None:
        if not field.given and form[self.other].given:
            raise ValidationError(self.message)


def latitude_field(label=None, **kwargs) -> CoordinateField:
    """A form's `latitude` (declare `longitude_field()` beside it as `longitude`). The ids
    stay `latitude` and `longitude`: the maps' click-to-place script fills them in."""
    both = _GivenWith("longitude", _l("Enter the latitude too, or leave both empty."))
    return CoordinateField(label or _l("Latitude"), [both], axis="latitude", **kwargs)


def longitude_field(label=None, **kwargs) -> CoordinateField:
    both = _GivenWith("latitude", _l("Enter the longitude too, or leave both empty."))
    return CoordinateField(label or _l("Longitude"), [both], axis="longitude", **kwargs)


class WholeNumberField(IntegerField):
    """An integer field that refuses numbers the database could not hold.

    WTForms' own IntegerField takes any size, and its NumberRange validator then fails with an
    OverflowError (a 500) on a number too large for a float, such as 400 nines.
    """

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is not None and abs(self.data) > DATABASE_INT_MAX:
            self.data = None
            raise ValueError(self.gettext("Not a valid integer value."))


class CityDateTimeField(DateTimeLocalField):
    """A date and time typed in Belo Horizonte's time zone; `data` is an aware datetime."""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("format", ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"])
        super().__init__(label, validators, **kwargs)

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as e:
            raise ValueError(_l("Enter a date and time, for example 2026-12-01 09:00.")) from e
        if isinstance(self.data, datetime) and self.data.tzinfo is None:
            self.data = self.data.replace(tzinfo=CITY_TZ)

    def _value(self) -> str:
        if self.raw_data:
            return " ".join(self.raw_data)
        if isinstance(self.data, datetime):
            return self.data.astimezone(CITY_TZ).strftime("%Y-%m-%dT%H:%M")
        return ""


# --- control characters ----------------------------------------------------------------------


class NoControlCharacters:
    """Refuse control characters (text_safety): line breaks too, unless `multiline`.

    A title, a name or a place is one line wherever it goes: a page, a CSV cell, a Pabulib
    row, an e-mail header; a line break there once split the Pabulib export into false sections.
    """

    def __init__(self, *, multiline: bool = False, message=None) -> None:
        self.multiline = multiline
        self.message = message

    def __call__(self, form, field) -> None:
        if isinstance(field.data, str) and has_control_characters(
            field.data, multiline=self.multiline
        ):
            raise ValidationError(self.message or self.default_message())

    def default_message(self):
        if self.multiline:
            return _l(
                "Remove the invisible control characters from this text (line breaks are fine)."
            )
        return _l("Write this on one line, without line breaks, tabs or control characters.")


one_line_text = NoControlCharacters()
multi_line_text = NoControlCharacters(multiline=True)


def text_guard(field) -> NoControlCharacters | None:
    """The guard a field gets: text areas keep line breaks, other text is one line.

    Passwords are left alone (they are never shown or exported, and any character may be
    part of one); fields whose data is not text (amounts, dates) have their own parsing.
    """
    if isinstance(field, TextAreaField):
        return multi_line_text
    if isinstance(field, StringField) and not isinstance(field, PasswordField):
        return one_line_text
    return None


class GuardedForm(FlaskForm):
    """A form whose every text field refuses control characters, without listing them.

    The guard runs after the field's own validators (a missing value is reported first), so
    a field added later is covered too.
    """

    def validate(self, extra_validators=None) -> bool:
        extra = {name: list(chain) for name, chain in (extra_validators or {}).items()}
        for name, field in self._fields.items():
            guard = text_guard(field)
            if guard is not None:
                extra.setdefault(name, []).append(guard)
        return super().validate(extra_validators=extra)
