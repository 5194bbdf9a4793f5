from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TimeField,
    ValidationError,
)
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from pallapp.forms import WholeNumberField
from pallapp.i18n import lazy_gettext as _l
from pallapp.models import Role, UnitKind
from pallapp.scoring import INSTRUMENTS, RECALL_PERIOD_LABELS

WEEKDAYS = (
    (1, _l("Monday")),
    (2, _l("Tuesday")),
    (3, _l("Wednesday")),
    (4, _l("Thursday")),
    (5, _l("Friday")),
    (6, _l("Saturday")),
    (7, _l("Sunday")),
)

STAFF_ROLE_CHOICES = [
    SelectChoice(role.value, role.label)
    for role in (Role.NURSE, Role.PHYSICIAN, Role.MANAGER, Role.ADMIN)
]


class UnitForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    kind = SelectField(
        _l("Kind of unit"), choices=[SelectChoice(k.value, k.label) for k in UnitKind]
    )
    phone = StringField(
        _l("Phone number for patients and relatives"),
        validators=[DataRequired(), Length(max=40)],
        description=_l("Shown to patients and relatives when a rating is severe."),
    )
    assessment_interval_days = WholeNumberField(
        _l("Symptom rating interval (days)"),
        default=7,
        validators=[DataRequired(), NumberRange(min=1, max=90)],
    )
    end_of_life_interval_days = WholeNumberField(
        _l("Symptom rating interval in the end-of-life phase (days)"),
        default=2,
        validators=[DataRequired(), NumberRange(min=1, max=30)],
    )
    # IPOS exists with a 3-day and a 7-day recall period (INSTRUMENTS.md); the unit chooses.
    ipos_recall_period = SelectField(
        _l("IPOS recall period"),
        default="7d",
        choices=[
            SelectChoice(period, _l(RECALL_PERIOD_LABELS[period]))
            for period in INSTRUMENTS["ipos_patient"].recall_periods
        ],
        description=_l("The period patients and staff think of when they answer IPOS."),
    )
    # Only where the unit's routine lets relatives give as-needed drugs (off by default).
    relatives_may_record_doses = BooleanField(_l("Relatives may record as-needed doses they give"))
    # Coverage hours: when someone reads the unit's alerts. None chosen: patients are always
    # told to call, and no answer is ever promised.
    coverage_days = SelectMultipleField(
        _l("Days when alerts are read"),
        choices=[SelectChoice(str(day), label) for day, label in WEEKDAYS],
        option_widget=CheckboxInput(),
        widget=ListWidget(prefix_label=False),
        validate_choice=True,
        description=_l(
            "Leave all days empty if nobody reads alerts: patients are then always told whom "
            "to call."
        ),
    )
    coverage_start = TimeField(_l("Alerts read from (time)"), validators=[Optional()])
    coverage_end = TimeField(_l("Alerts read until (time)"), validators=[Optional()])
    alert_email = EmailField(
        _l("Alert address (e-mail)"),
        validators=[Optional(), Email(), Length(max=254)],
        description=_l("Gets a message without patient details when an alert comes in."),
    )
    escalation_email = EmailField(
        _l("Escalation address (e-mail)"),
        validators=[Optional(), Email(), Length(max=254)],
        description=_l("E.g. the physician on call: gets a message when an alert is not acknowledged in time."),
    )
    alert_response_minutes = WholeNumberField(
        _l("Response time for alerts (minutes)"),
        default=60,
        validators=[Optional(), NumberRange(min=5, max=24 * 60)],
        description=_l(
            "Patients are told the team will contact them within this time (empty: 60)."
        ),
    )
    # Off by default: where a second factor is required, a unit without the region's login
    # may accept the risk of passwords alone, as an explicit and audited decision.
    password_alone_allowed = BooleanField(
        _l("Staff may reach patient data with a password alone (no second factor)")
    )
    submit = SubmitField(_l("Save unit"))

    def validate_coverage_days(self, field: SelectMultipleField) -> None:
        # Checked here, not on the times: an empty time field stops its own validation.
        if not field.data:
            return
        start, end = self.coverage_start.data, self.coverage_end.data
        if start is None or end is None:
            raise ValidationError(_l("Give both times for the days chosen."))
        if start >= end:
            raise ValidationError(_l("The end must be after the start (the same day)."))


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class StaffForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    email = EmailField(
        _l("E-mail"),
        validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)],
    )
    role = SelectField(_l("Role"), choices=STAFF_ROLE_CHOICES)
    units = MultiCheckboxField(_l("Care units"))
    submit = SubmitField(_l("Create account and invitation link"))


class ConfirmForm(FlaskForm):
    """A bare form for one-button actions (CSRF only)."""

    submit = SubmitField(_l("Confirm"))
