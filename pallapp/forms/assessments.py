from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from pallapp.forms import KeptMessagesMeta
from pallapp.i18n import lazy_gettext as _l


class CorrectionReasonForm(FlaskForm):
    """Posted together with an instrument form, which carries the CSRF token."""

    class Meta(KeptMessagesMeta):
        csrf = False

    reason = TextAreaField(
        _l("Why is the assessment corrected?"),
        validators=[DataRequired(message=_l("Write why the assessment is corrected.")), Length(max=1000)],
        description=_l("For example: wrong patient's answers were entered, or a number was mistyped."),
    )
