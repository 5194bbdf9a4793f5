"""What the compact overview table adds to a row: days in the current phase and the named
responsible nurse and physician (fast vårdkontakt) of the current care plan.

Two grouped queries for the rows of one page, whatever their number.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from pallapp.extensions import db
from pallapp.models import CarePlan, Milestone, MilestoneKind, Phase
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


def row_details(rows: Sequence[Any]) -> dict[int, RowDetails]:
    """Details per patient id for overview rows (each with a `.patient`).

    The end-of-life phase starts at the latest brytpunktssamtal (the milestone that moves a
    patient into it); the early phase at enrolment. Other phases have no count of days."""
    ids = [row.patient.id for row in rows]
    if not ids:
        return {}
    transitions = dict(
        db.session.execute(
            select(Milestone.patient_id, func.max(Milestone.occurred_on))
            .where(
                Milestone.patient_id.in_(ids),
                Milestone.kind == MilestoneKind.BRYTPUNKTSSAMTAL.value,
            )
            .group_by(Milestone.patient_id)
        ).all()
    )
    newer = aliased(CarePlan)
    plans = {
        patient_id: (nurse or "", physician or "")
        for patient_id, nurse, physician in db.session.execute(
            select(CarePlan.patient_id, CarePlan.responsible_nurse, CarePlan.responsible_physician)
            .where(
                CarePlan.patient_id.in_(ids),
                CarePlan.version
                == select(func.max(newer.version))
                .where(newer.patient_id == CarePlan.patient_id)
                .scalar_subquery(),
            )
        )
    }
    details = {}
    for row in rows:
        patient = row.patient
        since: date | None = None
        if patient.phase == Phase.EARLY.value:
            since = patient.enrolled_on
        elif patient.phase == Phase.END_OF_LIFE.value:
            since = transitions.get(patient.id)
        nurse, physician = plans.get(patient.id, ("", ""))
        details[patient.id] = RowDetails(since, nurse.strip(), physician.strip())
    return details
