from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, SelectChoice, SelectField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from pallapp.forms import WholeNumberField
from pallapp.i18n import lazy_gettext as _l
from pallapp.logreview.labels import ACTION_LABELS
from pallapp.logreview.services import EARLIEST_DAY, LATEST_DAY

#: The largest random sample one review draws.
MAX_SAMPLE = 1000


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
    action = SelectField(
        _l("Action"),
        choices=[
            SelectChoice("", _l("Every action")),
            *(SelectChoice(str(code), label) for code, label in ACTION_LABELS.items()),
        ],
        default="",
    )
    no_care_relationship = BooleanField(
        _l("Only accesses without a care relationship"),
        description=_l(
            "Staff who were not members of a unit that followed the patient on that day: "
            "refused attempts, checks at enrolment."
        ),
    )
    exclude_mine = BooleanField(_l("Leave out my own events"))
    sample = WholeNumberField(
        _l("Random sample of events"),
        validators=[Optional(), NumberRange(min=1, max=MAX_SAMPLE)],
        description=_l(
            "For the regular check of the log: how many events to draw at random from those "
            "that match. Empty: all, newest first."
        ),
    )
    seed = WholeNumberField(
        _l("Sample number"),
        validators=[Optional(), NumberRange(min=0, max=999_999)],
        description=_l(
            "Empty: a new sample. The number of an earlier sample over the same events draws "
            "it again."
        ),
    )

    def _check_range(self, field: DateField) -> None:
        if field.data is not None and not EARLIEST_DAY <= field.data <= LATEST_DAY:
            raise ValidationError(
                _l(
                    "Choose a date between %(first)s and %(last)s.",
                    first=EARLIEST_DAY.isoformat(),
                    last=LATEST_DAY.isoformat(),
                )
            )

    def validate_start(self, field: DateField) -> None:
        self._check_range(field)

    def validate_end(self, field: DateField) -> None:
        self._check_range(field)
        if self.start.data and field.data and field.data < self.start.data:
            raise ValidationError(_l("The end date cannot be before the start date."))
