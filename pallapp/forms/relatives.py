from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

from pallapp.i18n import lazy_gettext as _l

REASON_MAX_LENGTH = 500


class EndAccessForm(FlaskForm):
    reason = TextAreaField(
        _l("Why does the access end?"),
        validators=[
            DataRequired(message=_l("Write a short reason.")),
            Length(
                max=REASON_MAX_LENGTH,
                message=_l("At most %(max)d characters.", max=REASON_MAX_LENGTH),
            ),
        ],
        description=_l("Kept with the record of the access, for the patient and the care team."),
    )
    submit = SubmitField(_l("End access"))


class AccountForm(FlaskForm):
    """A bare form for the account buttons (CSRF only; the button names the choice)."""

    submit = SubmitField(_l("Confirm"))
