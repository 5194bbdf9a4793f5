"""Forms of the review pages."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, Form, SelectField, TextAreaField, ValidationError
from wtforms.validators import DataRequired, InputRequired, Length

from pallapp.i18n import lazy_gettext as _l
from pallapp.timeutil import today_local

#: The longest period of an indicator report (about three years of history).
MAX_PERIOD_DAYS = 3 * 366


class AcknowledgeFlagForm(FlaskForm):
    note = TextAreaField(
        _l("What was done?"),
        validators=[
            DataRequired(message=_l("Write what was done about the flag.")),
            Length(max=1000),
        ],
        description=_l("For example: pain medication adjusted, or the patient was called."),
    )


class QualityForm(Form):
    """Unit and period of the quality indicators. Sent with GET: it only chooses what to show
    (a unit's opaque id and two dates, nothing about a patient), so it needs no CSRF token."""

    unit = SelectField(_l("Care unit"), validators=[InputRequired()])
    start = DateField(
        _l("From (date)"),
        validators=[InputRequired(message=_l("Give the first day of the period."))],
    )
    end = DateField(
        _l("To (date, included)"),
        validators=[InputRequired(message=_l("Give the last day of the period."))],
    )

    def validate_end(self, field: DateField) -> None:
        if field.data is None or self.start.data is None:
            return
        if field.data < self.start.data:
            raise ValidationError(_l("The period must end on or after its first day."))
        if field.data > today_local():
            raise ValidationError(_l("The period cannot end in the future."))
        if (field.data - self.start.data).days >= MAX_PERIOD_DAYS:
            raise ValidationError(_l("Choose a period of at most three years."))
