from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired, Length, NumberRange

from pallapp.forms import WholeNumberField
from pallapp.i18n import lazy_gettext as _l


class ApiClientForm(FlaskForm):
    name = StringField(
        _l("Name of the integration"),
        validators=[DataRequired(), Length(max=200)],
        description=_l("For example the EHR system and the unit that uses it."),
    )
    valid_days = WholeNumberField(
        _l("Valid for (days)"), default=90, validators=[DataRequired(), NumberRange(min=1, max=365)]
    )
    submit = SubmitField(_l("Issue credential"))


class RevokeApiClientForm(FlaskForm):
    submit = SubmitField(_l("Revoke"))
