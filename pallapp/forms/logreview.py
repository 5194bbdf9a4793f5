from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, StringField
from wtforms.validators import InputRequired, Length, ValidationError


class LogSearchForm(FlaskForm):
    """Posted (with its CSRF token), so that a searched name or personnummer never stands in
    a URL."""

    patient = StringField(
        _l("Patient"),
        validators=[Length(max=100)],
        description=_l("Name or personal identity number; empty: every patient of your units."),
    )
    user = StringField(
        _l("User"),
        validators=[Length(max=254)],
        description=_l("Name or e-mail; empty: everyone."),
    )
    start = DateField(_l("From"), validators=[InputRequired()])
    end = DateField(_l("To"), validators=[InputRequired()])

    def validate_end(self, field: DateField) -> None:
        if self.start.data and field.data and field.data < self.start.data:
            raise ValidationError(_l("The end date cannot be before the start date."))
