"""What the compact overview table adds to a row: days in the current phase and the named
responsible nurse and physician (fast vårdkontakt) of the current care plan.

Read as three columns of the query of the page's patients (`detail_columns`), whatever their
number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ScalarSelect, func, select

from pallapp.models import CarePlan, Milestone, MilestoneKind, Patient, Phase
from pallapp.timeutil import today_local


@dataclass(frozen=True)
class RowDetails:
    phase_since: date | None = None
    responsible_nurse: str = ""
    responsible_physician: str = ""

    @property
    def days_in_phase(self) -> int | None:
        if self.phase_since is None:
            return None
        return (today_local() - self.phase_since).days


def detail_columns() -> list[ScalarSelect[Any]]:
    """Three columns of a query of patients, for `row_details`: the day of the latest
    brytpunktssamtal, and the responsible nurse and physician of the current care plan (the
    highest version)."""

    def current_plan(column: Any) -> ScalarSelect[Any]:
        return (
            select(column)
            .where(CarePlan.patient_id == Patient.id)
            .order_by(CarePlan.version.desc())
            .limit(1)
            .scalar_subquery()
        )

    return [
        select(func.max(Milestone.occurred_on))
        .where(
            Milestone.patient_id == Patient.id,
            Milestone.kind == MilestoneKind.BRYTPUNKTSSAMTAL.value,
        )
        .scalar_subquery(),
        current_plan(CarePlan.responsible_nurse),
        current_plan(CarePlan.responsible_physician),
    ]


def row_details(
    phase: str,
    enrolled_on: date,
    brytpunktssamtal_on: date | None,
    nurse: str | None,
    physician: str | None,
) -> RowDetails:
    """The details of one row from its patient's phase and enrolment and `detail_columns`.

    The end-of-life phase starts at the latest brytpunktssamtal (the milestone that moves a
    patient into it); the early phase at enrolment. Other phases have no count of days."""
    since: date | None = None
    if phase == Phase.EARLY.value:
        since = enrolled_on
    elif phase == Phase.END_OF_LIFE.value:
        since = brytpunktssamtal_on
    return RowDetails(since, (nurse or "").strip(), (physician or "").strip())
