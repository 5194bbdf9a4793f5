from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from pallapp.i18n import lazy_gettext as _l
from pallapp.pnr import InvalidPersonnummer, parse_personnummer


class PersonnummerField(StringField):
    """Accepts YYYYMMDD-NNNN, YYYYMMDDNNNN or YYMMDD-NNNN; keeps `identity` when valid."""

    identity = None

    def pre_validate(self, form: FlaskForm) -> None:
        self.identity = None
        if not self.data:
            return
        try:
            self.identity = parse_personnummer(self.data)
        except InvalidPersonnummer as error:
            if str(error) == "format":
                raise ValidationError(
                    _l("Write the number as YYYYMMDD-NNNN, for example 19121212-1212.")
                ) from error
            raise ValidationError(
                _l(
                    "This is not a valid personal identity number or coordination number. Check the digits."
                )
            ) from error


class EnrolPatientForm(FlaskForm):
    personnummer = PersonnummerField(
        _l("Personal identity number or coordination number"),
        validators=[DataRequired(), Length(max=20)],
        description=_l("YYYYMMDD-NNNN"),
    )
    given_name = StringField(_l("Given name"), validators=[DataRequired(), Length(max=100)])
    family_name = StringField(_l("Family name"), validators=[DataRequired(), Length(max=100)])
    main_diagnosis = StringField(_l("Main diagnosis"), validators=[Optional(), Length(max=200)])
    enrolled_on = DateField(_l("Enrolled on"), validators=[DataRequired()])
    unit = SelectField(_l("Care unit"), validators=[DataRequired()])
    submit = SubmitField(_l("Enrol patient"))


class InviteForm(FlaskForm):
    who = RadioField(
        _l("Who is invited?"),
        choices=[
            SelectChoice("patient", _l("The patient")),
            SelectChoice("relative", _l("A relative")),
        ],
        default="relative",
        validators=[DataRequired()],
    )
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    email = EmailField(
        _l("E-mail"),
        validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)],
    )
    relation = StringField(
        _l("Relation to the patient"),
        # No Optional(): it would stop the chain before validate_relation below.
        validators=[Length(max=100)],
        description=_l("For a relative, e.g. daughter, husband, friend."),
    )
    may_answer_as_proxy = BooleanField(_l("The patient allows this relative to answer for them"))
    may_view_history = BooleanField(_l("The patient allows this relative to see earlier ratings"))
    submit = SubmitField(_l("Create invitation link"))

    def validate_relation(self, field: StringField) -> None:
        if self.who.data == "relative" and not (field.data or "").strip():
            raise ValidationError(_l("Say how the relative is related to the patient."))
