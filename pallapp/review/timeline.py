"""What the trends page draws besides the ratings: the shared time axis of a range and the
as-needed doses of its lane.

The axis runs from local midnight of the first day of the range to local midnight after today,
in Stockholm time. For "all" the first day is the earliest rating, dose or milestone of the
patient, found in one query, so every chart image of the page computes the same axis however
few of the records it draws.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import format_decimal
from sqlalchemy import func, select

from pallapp import carerecord
from pallapp.extensions import db
from pallapp.models import Assessment, Milestone, Patient, PrnAdministration, Route
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


def _amount(dose: PrnAdministration) -> str:
    if dose.amount is None:
        return f"{dose.dose} {dose.dose_unit}"
    return f"{format_decimal(dose.amount, format='#,##0.####')} {dose.dose_unit}"


def dose_marks(patient: Patient, range_code: str) -> list[DoseMark]:
    """The current (not corrected) as-needed doses of the range, oldest first, with what the
    dose table shows: time, indication, drug, amount, route and effect."""
    since = trends.range_start(range_code) or trends.EARLIEST
    doses = carerecord.doses_since(patient, since)
    return [
        DoseMark(
            given_at=dose.given_at,
            indication=dose.order.indication,
            drug=dose.order.drug,
            dose=_amount(dose),
            route=Route(dose.route).label if dose.route in set(Route) else dose.route,
            effect=str(EFFECT_LABELS[Effect(dose.effect)]) if dose.effect else None,
        )
        for dose in sorted(doses, key=lambda d: (d.given_at, d.id))
    ]
