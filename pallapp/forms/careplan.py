"""Forms for the care plan, milestones, as-needed orders and doses.

No field is ever pre-filled with a drug, a dose or a limit: the physician writes the order,
the nurse writes what was given (the dose form starts from the order's own unit and route, and
shows the ordered dose beside the amount). Doses are numbers, read by the same rules as the
services use (`pallapp.scoring.parse_dose`, `parse_amount`): a decimal comma or point.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from uuid import uuid4

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    HiddenField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from pallapp.forms import KeptFieldsMeta, KeptMessagesMeta, KeptOptionsSelect, WholeNumberField
from pallapp.i18n import lazy_gettext as _l

# The lazy label mappings, not the enums' `label` properties: choices are built at import,
# and must be translated when the form is rendered, in the reader's language.
from pallapp.models.careplan import (
    CARE_PLAN_FIELD_LABELS,
    EFFECT_LABELS,
    MILESTONE_LABELS,
    PLACE_OF_DEATH_LABELS,
    ROUTE_LABELS,
    MilestoneKind,
)
from pallapp.refusals import AMOUNT_PROBLEMS, DOSE_PROBLEMS
from pallapp.scoring import PRN_INDICATIONS, InvalidDose, parse_amount, parse_dose
from pallapp.timeutil import STOCKHOLM

#: Submitted and shown as the HTML datetime-local value; the second format accepts browsers
#: that add seconds.
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
_CLIENT_TOKEN = re.compile(r"[0-9a-f]{32}")


def _text(name: str, *, long: bool = True, description: object = None) -> StringField:
    field_class = TextAreaField if long else StringField
    return field_class(
        CARE_PLAN_FIELD_LABELS[name],
        validators=[Optional(), Length(max=4000 if long else 200)],
        description=description,
    )


class CarePlanForm(FlaskForm):
    goals_and_wishes = _text("goals_and_wishes")
    preferred_place_of_care = _text("preferred_place_of_care", long=False)
    preferred_place_of_death = _text("preferred_place_of_death", long=False)
    preferred_place_of_death_code = SelectField(
        CARE_PLAN_FIELD_LABELS["preferred_place_of_death_code"],
        choices=[SelectChoice("", _l("Not chosen"))]
        + [SelectChoice(place.value, label) for place, label in PLACE_OF_DEATH_LABELS.items()],
        description=_l("Svenska palliativregistret asks whether the person died where they wished."),
        # Left out of a form means not chosen; anything else is refused by the service.
        validate_choice=False,
    )
    contacts = _text(
        "contacts",
        description=_l("Names and telephone numbers, daytime and at night. Patients and relatives see this."),
    )
    responsible_nurse = _text("responsible_nurse", long=False)
    responsible_physician = _text("responsible_physician", long=False)
    treatment_limitations = _text(
        "treatment_limitations",
        description=_l("Write what care is given, for example: care at home, no hospital transfer."),
    )
    deterioration_signs = _text("deterioration_signs")
    for_patient_and_relatives = _text(
        "for_patient_and_relatives",
        description=_l("Plain words for the patient and relatives. They see this part."),
    )
    # The version the user started from: a save on top of a newer one is refused.
    based_on = HiddenField()
    submit = SubmitField(_l("Save as a new version"))


class MilestoneForm(FlaskForm):
    kind = SelectField(
        _l("What happened?"),
        choices=[SelectChoice(kind.value, label) for kind, label in MILESTONE_LABELS.items()],
        validators=[DataRequired()],
    )
    occurred_on = DateField(_l("Date"), validators=[DataRequired()])
    participants = StringField(
        _l("Who took part?"), validators=[Optional(), Length(max=1000)]
    )
    place = SelectField(
        _l("Place of death"),
        choices=[SelectChoice("", _l("Only for a death"))]
        + [SelectChoice(place.value, label) for place, label in PLACE_OF_DEATH_LABELS.items()],
        validate_choice=False,  # checked in validate_place, which must run when it is empty
    )
    # Asked for a death only, and then required: the end-of-life quality indicators count
    # expected deaths, and freedom from pressure ulcers at death is a national target level.
    # No validator stops the chain when empty (as Optional would), so the checks below run.
    death_expected = RadioField(
        _l("Was the death expected?"),
        choices=[SelectChoice("yes", _l("Yes")), SelectChoice("no", _l("No"))],
        validate_choice=False,
        description=_l(
            "Expected: the patient died of an illness the care team knew was leading to death. "
            "Only expected deaths count in the end-of-life quality indicators."
        ),
    )
    free_of_pressure_ulcers = RadioField(
        _l("Was the patient free of pressure ulcers at death?"),
        choices=[SelectChoice("yes", _l("Yes")), SelectChoice("no", _l("No"))],
        validate_choice=False,
    )
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=4000)])
    submit = SubmitField(_l("Save"))

    def validate_place(self, field: SelectField) -> None:
        if field.data and field.data not in {place.value for place in PLACE_OF_DEATH_LABELS}:
            raise ValidationError(_l("Not a valid choice."))
        if self.kind.data == MilestoneKind.DEATH and not field.data:
            raise ValidationError(_l("Choose the place of death."))

    def validate_death_expected(self, field: RadioField) -> None:
        self._yes_or_no(field, _l("Answer whether the death was expected."))

    def validate_free_of_pressure_ulcers(self, field: RadioField) -> None:
        self._yes_or_no(field, _l("Answer whether the patient was free of pressure ulcers at death."))

    def _yes_or_no(self, field: RadioField, missing: object) -> None:
        if field.data not in (None, "", "yes", "no"):
            raise ValidationError(_l("Not a valid choice."))
        if self.kind.data == MilestoneKind.DEATH and field.data not in ("yes", "no"):
            raise ValidationError(missing)

    @staticmethod
    def answer(field: RadioField) -> bool | None:
        """The yes/no answer as a boolean (None when not answered)."""
        return {"yes": True, "no": False}.get(field.data or "")


class HoursField(StringField):
    """Hours as a decimal number, with a comma or a point ("0,5", "1.5"); `minutes` when valid."""

    minutes: int | None = None

    def pre_validate(self, form: FlaskForm) -> None:
        self.minutes = None
        text = (self.data or "").strip().replace(",", ".")
        if not text:
            return
        try:
            hours = Decimal(text)
        except InvalidOperation as error:
            raise ValidationError(_l("Write the number of hours, for example 1 or 0,5.")) from error
        if not hours.is_finite():
            # "NaN" and "Infinity" parse, but comparing NaN raises (found by fuzzing: a 500).
            raise ValidationError(_l("Write the number of hours, for example 1 or 0,5."))
        minutes = hours * 60
        if minutes < 1 or minutes > 7 * 24 * 60 or minutes != minutes.to_integral_value():
            raise ValidationError(_l("Write the number of hours, for example 1 or 0,5."))
        self.minutes = int(minutes)


def _indication_choices() -> list[SelectChoice]:
    # The labels are msgids marked in pallapp.scoring; translated lazily when rendered.
    return [SelectChoice(code, _l(label)) for code, label in PRN_INDICATIONS.items()]


def _route_choices() -> list[SelectChoice]:
    return [SelectChoice(route.value, label) for route, label in ROUTE_LABELS.items()]


class OrderForm(FlaskForm):
    indication = RadioField(_l("Indication"), choices=_indication_choices(), validators=[DataRequired()])
    indication_text = StringField(
        _l("What is it for?"),
        validators=[Length(max=200)],
        description=_l("Only for the indication Other."),
    )
    drug = StringField(_l("Drug"), validators=[DataRequired(), Length(max=200)])
    strength = StringField(
        _l("Strength"), validators=[Optional(), Length(max=100)], description=_l("For example 10 mg/ml.")
    )
    dose = StringField(
        _l("Dose"),
        validators=[DataRequired(), Length(max=40)],
        description=_l("A number or a range, for example 2,5 or 2,5-5."),
    )
    dose_unit = StringField(
        _l("Unit"),
        validators=[DataRequired(), Length(max=20)],
        description=_l("For example mg, ml, mikrog or E."),
    )
    route = SelectField(_l("Route"), choices=_route_choices(), validators=[DataRequired()])
    # Both limits are required: doses under an order without them cannot be checked.
    min_interval = HoursField(
        _l("Minimum interval between doses (hours)"),
        validators=[
            DataRequired(
                message=_l(
                    "Write the minimum interval between doses. Without it, the doses given "
                    "cannot be checked."
                )
            ),
            Length(max=10),
        ],
    )
    max_doses_per_24h = WholeNumberField(
        _l("Maximum number of doses in 24 hours"),
        validators=[
            InputRequired(
                message=_l(
                    "Write the maximum number of doses in 24 hours. Without it, the doses given "
                    "cannot be checked."
                )
            ),
            NumberRange(min=1, max=100),
        ],
    )
    instructions = TextAreaField(_l("Instructions"), validators=[Optional(), Length(max=4000)])
    # A change always takes effect at once; only a new order may start later.
    start_at = DateTimeLocalField(
        _l("In force from"),
        validators=[Optional()],
        format=DATETIME_FORMATS,
        tz=STOCKHOLM,
        description=_l("Leave it empty if the order applies from now."),
    )
    submit = SubmitField(_l("Save the order"))

    def validate_indication_text(self, field: StringField) -> None:
        if self.indication.data == "other" and not (field.data or "").strip():
            raise ValidationError(_l("Write what the order is for."))

    def validate_dose(self, field: StringField) -> None:
        try:
            parse_dose(field.data or "")
        except InvalidDose as invalid:
            raise ValidationError(DOSE_PROBLEMS[invalid.reason].message) from None


class ChangeOrderForm(OrderForm):
    reason = TextAreaField(
        _l("Why is the order changed?"),
        validators=[DataRequired(message=_l("Write why the order is changed.")), Length(max=1000)],
    )
    submit = SubmitField(_l("Save as a new version"))


class StopOrderForm(FlaskForm):
    reason = TextAreaField(
        _l("Why is the order stopped?"),
        validators=[DataRequired(message=_l("Write why the order is stopped.")), Length(max=1000)],
    )
    submit = SubmitField(_l("Stop the order"))


def _rating(label: object) -> WholeNumberField:
    return WholeNumberField(
        label,
        validators=[Optional(), NumberRange(min=0, max=10)],
        description=_l("0 = none, 10 = worst possible. Leave empty if not rated."),
        render_kw={"inputmode": "numeric", "min": 0, "max": 10},
    )


class DoseForm(FlaskForm):
    class Meta(KeptFieldsMeta, KeptMessagesMeta):
        pass

    given_at = DateTimeLocalField(
        _l("When was it given?"),
        validators=[InputRequired()],
        format=DATETIME_FORMATS,
        tz=STOCKHOLM,
    )
    # The view shows the ordered dose as this field's description.
    dose = StringField(_l("Dose given"), validators=[DataRequired(), Length(max=40)])
    dose_unit = StringField(_l("Unit"), validators=[DataRequired(), Length(max=20)])
    # The routes are drawn once per language (about half the time the fields took).
    route = SelectField(
        _l("Route"),
        choices=_route_choices(),
        validators=[DataRequired()],
        widget=KeptOptionsSelect(),
    )
    symptom_before = _rating(_l("Symptom before the dose (0-10)"))
    # Only shown after the app has warned that the dose is outside the order's limits.
    confirm_over_limit = BooleanField(_l("I have read the warning and the dose was given anyway"))
    over_limit_reason = TextAreaField(
        _l("Why was the dose given outside the order's limits?"),
        validators=[Optional(), Length(max=1000)],
    )
    # Only shown after the app has warned that the dose differs from the order.
    confirm_dose_mismatch = BooleanField(
        _l("I have checked the dose: it was given exactly as entered")
    )
    dose_mismatch_reason = TextAreaField(
        _l("Why does the dose differ from the order?"),
        validators=[Optional(), Length(max=1000)],
    )
    client_token = HiddenField()
    submit = SubmitField(_l("Save the dose"))

    def validate_client_token(self, field: HiddenField) -> None:
        if not _CLIENT_TOKEN.fullmatch(field.data or ""):
            field.data = uuid4().hex
            raise ValidationError(_l("The form could not be read completely. Send it again."))

    def validate_dose(self, field: StringField) -> None:
        try:
            parse_amount(field.data or "")
        except InvalidDose as invalid:
            raise ValidationError(AMOUNT_PROBLEMS[invalid.reason].message) from None


class CorrectDoseForm(DoseForm):
    reason = TextAreaField(
        _l("Why is the dose corrected?"),
        validators=[DataRequired(message=_l("Write why the dose is corrected.")), Length(max=1000)],
        description=_l("For example: wrong time or dose was entered."),
    )
    submit = SubmitField(_l("Save the correction"))


class EvaluateForm(FlaskForm):
    effect = RadioField(
        _l("Effect of the dose"),
        choices=[SelectChoice(effect.value, label) for effect, label in EFFECT_LABELS.items()],
        validators=[DataRequired(message=_l("Choose the effect."))],
    )
    symptom_after = _rating(_l("Symptom after the dose (0-10)"))
    evaluated_at = DateTimeLocalField(
        _l("When was the effect assessed?"),
        validators=[InputRequired()],
        format=DATETIME_FORMATS,
        tz=STOCKHOLM,
    )
    submit = SubmitField(_l("Save the effect"))
