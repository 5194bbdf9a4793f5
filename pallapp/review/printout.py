"""What the printed summary adds to the summary: the last three ratings of each instrument,
the milestones (brytpunktssamtal, SVAS, ...) and the care plan's limitations.

For an already visible patient whose summary view has been audited (`summary.patient_summary`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import exists, func, select
from sqlalchemy.orm import aliased

from pallapp import carerecord
from pallapp.extensions import db
from pallapp.models import Assessment, Milestone, Patient

#: Ratings per instrument on the printout: enough to see a direction, few enough for a page.
RECENT_PER_INSTRUMENT = 3


def recent_ratings(patient: Patient, per_instrument: int = RECENT_PER_INSTRUMENT) -> dict[str, list[Assessment]]:
    """The newest `per_instrument` current ratings of each instrument, newest first; one query
    (a window per instrument), so a long history is not loaded to print three rows of it."""
    newer = aliased(Assessment)
    ranked = (
        select(
            Assessment.id,
            func.row_number()
            .over(
                partition_by=Assessment.instrument,
                order_by=(Assessment.observed_at.desc(), Assessment.id.desc()),
            )
            .label("position"),
        )
        .where(
            Assessment.patient_id == patient.id,
            ~exists(select(newer.id).where(newer.supersedes_id == Assessment.id)),
        )
        .subquery()
    )
    query = (
        select(Assessment)
        .join(ranked, ranked.c.id == Assessment.id)
        .where(ranked.c.position <= per_instrument)
        .order_by(Assessment.instrument, Assessment.observed_at.desc(), Assessment.id.desc())
    )
    recent: dict[str, list[Assessment]] = defaultdict(list)
    for assessment in db.session.scalars(query):
        recent[assessment.instrument].append(assessment)
    return dict(recent)


@dataclass(frozen=True)
class PlanLimits:
    treatment_limitations: str
    deterioration_signs: str


def plan_limits(patient: Patient) -> PlanLimits | None:
    """The current care plan's limitations and signs to watch for (None: no care plan)."""
    plan = carerecord.current_care_plan(patient)
    if plan is None:
        return None
    return PlanLimits(
        (plan.treatment_limitations or "").strip(), (plan.deterioration_signs or "").strip()
    )


def milestones(patient: Patient) -> list[Milestone]:
    """Every milestone, oldest first (a printout reads as a history)."""
    return sorted(carerecord.milestones_of(patient), key=lambda m: (m.occurred_on, m.id))
