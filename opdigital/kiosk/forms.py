"""The coordinator's form to enrol a device as a kiosk (a label; CSRF like every form)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from opdigital.fields import GuardedForm
from opdigital.kiosk.services import LABEL_MAX


class EnrolForm(GuardedForm):
    label = StringField(
        _l("Name of this device"),
        validators=[
            DataRequired(message=_l("Give the device a name, such as “Table 2”.")),
            Length(
                max=LABEL_MAX,
                message=_l("The name can have at most %(max)d characters.", max=LABEL_MAX),
            ),
        ],
        render_kw={"autocomplete": "off"},
    )


class RevokeForm(GuardedForm):
    """The revoke button (CSRF only)."""
