"""Forms of the paper-ballot screens. The entry and resolution forms have one group of inputs
per sheet, named after its row or serial, so they are read from the request (like the web
ballot): `sheets_from_form`, `resolutions_from_form`."""

from __future__ import annotations

import re
from collections.abc import Sequence

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import IntegerField, SelectField
from wtforms.validators import InputRequired, NumberRange

from opdigital.paper.entry import FIRST, SECOND, TYPED, Resolution, SheetInput

_SERIAL = re.compile(r"[0-9]{1,9}")


class PrintForm(FlaskForm):
    count = IntegerField(
        _l("Number of sheets"),
        validators=[
            InputRequired(message=_l("Type how many sheets to print.")),
            NumberRange(min=1, max=500, message=_l("Print from 1 to 500 sheets at a time.")),
        ],
        render_kw={"inputmode": "numeric"},
    )
    # Checked by the print service (the rule decides which is needed); only one is shown.
    region = SelectField(_l("Region"), validate_choice=False)
    school = SelectField(_l("School"), validate_choice=False)

    @staticmethod
    def chosen_id(field) -> int | None:
        value = (field.data or "").strip()
        return int(value) if value.isdigit() and len(value) <= 9 else None


class BatchForm(FlaskForm):
    sheet_count = IntegerField(
        _l("Sheets in the envelope (counted by hand)"),
        validators=[
            InputRequired(message=_l("Type how many sheets the batch holds.")),
            NumberRange(min=1, max=500, message=_l("A batch holds from 1 to 500 sheets.")),
        ],
        render_kw={"inputmode": "numeric"},
    )


class ActionForm(FlaskForm):
    """A button that changes something (CSRF only): the entry, the resolution, sealing."""


def _serial(text: str | None) -> int | None:
    text = (text or "").strip().lstrip("Nº").strip()
    if not _SERIAL.fullmatch(text):
        return None
    value = int(text)
    return value or None


def sheets_from_form(form: MultiDict, rows: int) -> list[SheetInput]:
    """The sheets typed on the entry form: rows 1..`rows`, each `serial-N`, `work-N` (ticked
    works) and `spoiled-N`."""
    return [
        SheetInput(
            row=row,
            serial=_serial(form.get(f"serial-{row}")),
            marked=tuple(v.strip() for v in form.getlist(f"work-{row}") if v.strip()),
            spoiled=bool(form.get(f"spoiled-{row}")),
        )
        for row in range(1, rows + 1)
    ]


def resolutions_from_form(form: MultiDict, serials: Sequence[int]) -> list[Resolution]:
    """The reading chosen for each serial in dispute: `resolve-S` (first, second, typed) and,
    typed, `work-rS`, `spoiled-rS` and `absent-rS` (the serial is not in the envelope)."""
    found = []
    for serial in serials:
        choice = form.get(f"resolve-{serial}", "")
        if choice not in (FIRST, SECOND, TYPED):
            continue
        found.append(
            Resolution(
                serial=serial,
                choice=choice,
                marked=tuple(v.strip() for v in form.getlist(f"work-r{serial}") if v.strip()),
                spoiled=bool(form.get(f"spoiled-r{serial}")),
                present=not form.get(f"absent-r{serial}"),
            )
        )
    return found
