"""Forms of the alert pages: marking a level as expected."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from pallapp import scoring
from pallapp.forms import WholeNumberField
from pallapp.i18n import gettext
from pallapp.i18n import lazy_gettext as _l


def item_choices() -> list[SelectChoice]:
    """"instrument:item" with the item's question and the instrument's scale, in form order,
    for each self-report instrument in display order: alerts come from patients' and
    relatives' own reports."""
    choices = []
    for definition in scoring.in_display_order():
        if not definition.self_report:
            continue
        code = definition.code
        for item in definition.items:
            if item.optional:
                continue
            label = gettext(
                "%(instrument)s: %(item)s (%(low)d-%(high)d)",
                instrument=gettext(definition.title),
                item=gettext(item.score_label),
                low=item.min,
                high=item.max,
            )
            choices.append(SelectChoice(f"{code}:{item.code}", label))
    return choices


class ExpectedLevelForm(FlaskForm):
    item = SelectField(_l("Symptom"), validators=[InputRequired()])
    level = WholeNumberField(
        _l("Expected level: alert only above"),
        validators=[InputRequired(message=_l("Give the level."))],
    )
    days = WholeNumberField(
        _l("For how many days (at most 14)"),
        default=7,
        validators=[InputRequired(), NumberRange(min=1, max=14)],
    )
    reason = TextAreaField(
        _l("Why is this level expected?"),
        validators=[DataRequired(message=_l("Give the reason.")), Length(max=1000)],
        description=_l("For example: known bone metastasis pain, treatment adjusted today."),
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.item.choices = item_choices()
