"""Forms of the Comforça's reports: the member's report, and the coordinator's decision.

Field checks give messages next to each field; the services (works/reports.py) check again.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, ValidationError

from opdigital.fields import GuardedForm, one_line_text
from opdigital.works.photos import ALT_TEXT_MAX
from opdigital.works.reports import BODY_MAX, BODY_MIN, MAX_PHOTOS, NOTE_MAX


class PhotoEntry(Form):
    """One photo slot of the report form: a file and its description, both or neither.

    A plain WTForms form (no CSRF of its own: the report form's token covers it); its text is
    guarded here, since GuardedForm only sees the report form's own fields.
    """

    image = FileField(_l("Photo"), render_kw={"accept": "image/jpeg,image/png,image/webp"})
    alt_text = StringField(
        _l("Description of the photo"),
        validators=[
            Length(max=ALT_TEXT_MAX, message=_l("Use at most %(n)d characters.", n=ALT_TEXT_MAX)),
            one_line_text,
        ],
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
    )

    @property
    def has_photo(self) -> bool:
        return bool(self.image.data)

    def validate_alt_text(self, field) -> None:
        if self.has_photo and not field.data:
            raise ValidationError(_l("Describe the photo for people who cannot see it."))

    def validate_image(self, field) -> None:
        if not self.has_photo and self.alt_text.data:
            raise ValidationError(_l("Choose the photo this text describes, or clear the text."))


class ReportForm(GuardedForm):
    body = TextAreaField(
        _l("What did you see?"),
        validators=[
            DataRequired(_l("Write your report.")),
            Length(
                min=BODY_MIN,
                max=BODY_MAX,
                message=_l(
                    "The report must have between %(min)d and %(max)d characters.",
                    min=BODY_MIN,
                    max=BODY_MAX,
                ),
            ),
        ],
        render_kw={"rows": 8, "maxlength": BODY_MAX},
    )
    # Unticked unless the member ticks it: the report is signed with the role and region only.
    show_author_name = BooleanField(_l("Show my name with this report"), default=False)
    photos = FieldList(FormField(PhotoEntry), min_entries=MAX_PHOTOS, max_entries=MAX_PHOTOS)
    submit = SubmitField(_l("Send the report for moderation"))


class RejectForm(GuardedForm):
    note = TextAreaField(
        _l("Why is it not published?"),
        validators=[
            DataRequired(_l("Say why the report is not published: its author will read it.")),
            Length(max=NOTE_MAX, message=_l("Use at most %(n)d characters.", n=NOTE_MAX)),
        ],
        render_kw={"rows": 3, "maxlength": NOTE_MAX},
    )
    submit = SubmitField(_l("Reject"))
