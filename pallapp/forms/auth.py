from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    HiddenField,
    PasswordField,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.validators import DataRequired, EqualTo, Length

from pallapp.i18n import lazy_gettext as _l
from pallapp.passwords import MIN_LENGTH


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    next = HiddenField()
    submit = SubmitField(_l("Log in"))


class SetPasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password"),
        validators=[
            DataRequired(),
            Length(
                min=MIN_LENGTH,
                max=200,
                message=_l("The password must have at least %(min)d characters.", min=MIN_LENGTH),
            ),
        ],
        description=_l(
            "At least %(min)d characters. A few words in a row are easy to remember.",
            min=MIN_LENGTH,
        ),
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )
    submit = SubmitField(_l("Save password and continue"))


class ChangePasswordForm(SetPasswordForm):
    current = PasswordField(
        _l("Current password"), validators=[DataRequired(), Length(max=200)]
    )
    submit = SubmitField(_l("Change password"))


class LanguageForm(FlaskForm):
    # Choices are the configured languages (pallapp.i18n.language_choices), set by the view.
    language = SelectField(_l("Language"), choices=[])
    next = HiddenField()
    submit = SubmitField(_l("Change language"))


class SecondFactorForm(FlaskForm):
    code = StringField(
        _l("Code"),
        validators=[DataRequired(), Length(max=20)],
        description=_l("The six digits in your authenticator app, or one of your recovery codes."),
    )
    submit = SubmitField(_l("Continue"))


class EnrolSecondFactorForm(FlaskForm):
    code = StringField(
        _l("Code from the app"),
        validators=[DataRequired(), Length(max=20)],
        description=_l("Enter the six digits the app shows now, to confirm that it is set up."),
    )
    submit = SubmitField(_l("Turn on the second factor"))


class RemoveSecondFactorForm(FlaskForm):
    submit = SubmitField(_l("Turn off the second factor"))
