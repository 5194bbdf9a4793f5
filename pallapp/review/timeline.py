"""What the trends page draws besides the ratings: the shared time axis of a range and the
as-needed doses of its lane.

The axis runs from local midnight of the first day of the range to local midnight after today,
in Stockholm time. For "all" the first day is the earliest rating, dose or milestone of the
patient, found in one query, so every chart image of the page computes the same axis however
few of the records it draws.
"""

from __future__ import annotations

import functools
from datetime import datetime
from decimal import Decimal

from flask_babel import format_decimal
from sqlalchemy import Select, bindparam, func, select

from pallapp import carerecord
from pallapp.extensions import db
from pallapp.models import Assessment, Milestone, Patient, PrnAdministration, PrnOrder, Route
from pallapp.models.careplan import EFFECT_LABELS, Effect
from pallapp.review import trends
from pallapp.review.charts import Axis, DoseMark, axis_for
from pallapp.timeutil import STOCKHOLM, today_local


def trend_axis(patient: Patient, range_code: str) -> Axis:
    """The time axis of every chart of `range_code` for an already visible patient."""
    today = today_local()
    since = trends.range_start(range_code)
    if since is not None:
        return axis_for(since.astimezone(STOCKHOLM).date(), today)
    earliest = db.session.execute(
        select(
            select(func.min(Assessment.observed_at))
            .where(Assessment.patient_id == patient.id)
            .scalar_subquery(),
            select(func.min(PrnAdministration.given_at))
            .where(PrnAdministration.patient_id == patient.id)
            .scalar_subquery(),
            select(func.min(Milestone.occurred_on))
            .where(Milestone.patient_id == patient.id)
            .scalar_subquery(),
        )
    ).one()
    days = [
        moment.astimezone(STOCKHOLM).date() if isinstance(moment, datetime) else moment
        for moment in earliest
        if moment is not None
    ]
    return axis_for(min([*days, today]), today)


@functools.cache
def _doses_query() -> Select[datetime, str, str, str, Decimal | None, str, str, str | None]:
    """The columns of the dose table, built once (the patient and start bound): as
    `carerecord.doses_since` finds the doses (current versions, given after the start), without
    an entity for each dose and its order."""
    return (
        select(
            PrnAdministration.given_at,
            PrnOrder.indication,
            PrnOrder.drug,
            PrnAdministration.dose,
            PrnAdministration.amount,
            PrnAdministration.dose_unit,
            PrnAdministration.route,
            PrnAdministration.effect,
        )
        .join(PrnOrder, PrnOrder.id == PrnAdministration.order_id)
        .where(
            PrnAdministration.patient_id == bindparam("patient_id"),
            PrnAdministration.given_at > bindparam("since"),
            carerecord.current_doses(),
        )
        .order_by(PrnAdministration.given_at, PrnAdministration.id)
    )


def dose_marks(patient: Patient, range_code: str) -> list[DoseMark]:
    """The current (not corrected) as-needed doses of the range, oldest first, with what the
    dose table shows: time, indication, drug, amount, route and effect. The words of an amount,
    route and effect are worked out once per distinct value: a long stay repeats a few."""
    since = trends.range_start(range_code) or trends.EARLIEST
    rows = db.session.execute(_doses_query(), {"patient_id": patient.id, "since": since})
    routes = set(Route)
    amounts: dict[tuple[str, Decimal | None, str], str] = {}
    words: dict[tuple[str | None, str | None], tuple[str, str | None]] = {}
    marks = []
    for given_at, indication, drug, dose, amount, dose_unit, route, effect in rows:
        key = (dose, amount, dose_unit)
        text = amounts.get(key)
        if text is None:
            if amount is None:
                text = f"{dose} {dose_unit}"
            else:
                text = f"{format_decimal(amount, format='#,##0.####')} {dose_unit}"
            amounts[key] = text
        said = words.get((route, effect))
        if said is None:
            said = words[(route, effect)] = (
                Route(route).label if route in routes else route,
                str(EFFECT_LABELS[Effect(effect)]) if effect else None,
            )
        marks.append(DoseMark(given_at, indication, drug, text, said[0], said[1]))
    return marks
