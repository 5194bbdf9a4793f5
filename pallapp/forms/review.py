"""Forms of the review pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length


class AcknowledgeFlagForm(FlaskForm):
    note = TextAreaField(
        _l("What was done?"),
        validators=[
            DataRequired(message=_l("Write what was done about the flag.")),
            Length(max=1000),
        ],
        description=_l("For example: pain medication adjusted, or the patient was called."),
    )
