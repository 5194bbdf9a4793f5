"""The form of a patient's own reporting plan."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flask_wtf import FlaskForm
from wtforms import Form, FormField, SelectChoice, SelectField, TextAreaField, ValidationError
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from pallapp.forms import WholeNumberField
from pallapp.i18n import lazy_gettext as _l
from pallapp.scoring import INSTRUMENTS, in_display_order

RESPONDENTS = (
    ("patient", _l("the patient (a relative may answer)")),
    ("relative", _l("a relative")),
    ("staff", _l("staff")),
)


class PlanLineForm(Form):
    instrument = SelectField(
        _l("Instrument"),
        choices=[SelectChoice("", _l("(none)"))]
        + [SelectChoice(d.code, _l(d.title)) for d in in_display_order()],
        validators=[Optional()],
    )
    respondent = SelectField(
        _l("Who answers"),
        choices=[SelectChoice(code, label) for code, label in RESPONDENTS],
        validate_choice=False,  # checked below, and only on a line in use
    )
    interval_days = WholeNumberField(
        _l("Every (days)"), validators=[Optional(), NumberRange(min=1, max=90)]
    )

    def validate_respondent(self, field: SelectField) -> None:
        instrument = self.instrument.data
        if not instrument:
            return
        if field.data not in {code for code, _label in RESPONDENTS}:
            raise ValidationError(_l("Choose who is answering."))
        # Who may answer which instrument, from its definition (INSTRUMENTS.md: self-report
        # versions for patients and relatives, observation instruments for staff).
        definition = INSTRUMENTS.get(instrument)
        if definition is None:
            return  # not a choice: the instrument field says so
        if definition.self_report and field.data == "staff":
            raise ValidationError(_l("Staff rate with the staff instruments (IPOS staff, Abbey, ROAG)."))
        if not definition.self_report and field.data != "staff":
            raise ValidationError(_l("This instrument is answered by staff."))

    def validate_interval_days(self, field: WholeNumberField) -> None:
        if self.instrument.data and not field.data:
            raise ValidationError(_l("Give how often, in days."))

    def validate(self, extra_validators: Mapping[str, Sequence[Any]] | None = None) -> bool:
        valid: bool = super().validate(extra_validators)
        # Optional() ends the interval's checks when it is left empty, before
        # validate_interval_days: a line in use asks for it here (else an empty interval reached
        # the database, which refused it, and the page failed).
        if self.instrument.data and self.interval_days.data is None and not self.interval_days.errors:
            self.interval_days.errors.append(_l("Give how often, in days."))
            return False
        return valid


class ReportingPlanForm(FlaskForm):
    line_1 = FormField(PlanLineForm, label=_l("First line"))
    line_2 = FormField(PlanLineForm, label=_l("Second line"))
    line_3 = FormField(PlanLineForm, label=_l("Third line"))
    reason = TextAreaField(
        _l("Why does this patient need a plan of their own?"),
        validators=[DataRequired(message=_l("Give the reason.")), Length(max=1000)],
    )

    def lines(self) -> list[PlanLineForm]:
        return [self.line_1.form, self.line_2.form, self.line_3.form]

    def validate_reason(self, field: TextAreaField) -> None:
        if not any(line.instrument.data for line in self.lines()):
            raise ValidationError(_l("Give at least one line."))
