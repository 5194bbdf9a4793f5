"""Validators for chart images: a repeat view of an unchanged chart is answered 304.

The validator (an ETag) is derived from the patient's data version, read from the database in
the statement that finds the patient through the access rules (`find_chart_patient`): for ratings, doses and milestones, how many rows there are and the newest id
(and, for doses, how many have their effect evaluated, the one field written after a dose is
stored). Records are never updated in place or deleted otherwise (DEVELOPERS.md: corrections
are new rows, ids come from a sequence), and a dose is evaluated once, so any new rating,
correction, dose, evaluation (back-dated too: it is counted, not compared by time) or milestone
changes the version at once, on every worker and host: nothing is kept in a process.

The query reads each table once, in one aggregate over the patient's index entries: the
indexes on (patient_id, id), and (patient_id, id, evaluated_at) for doses, hold every column
it counts, so PostgreSQL answers from the index alone (no table page is read once the table is
vacuumed). It used to be eleven scalar subqueries, one of which, the newest rating's id, the
generic plan of the prepared statement found by walking the primary key backwards past every
other patient's ratings: 1.1 ms for the busiest patient at 100x history, 46 ms for a patient
rated long ago; now 0.07 ms for either.

The ETag also covers what else changes the picture: the chart and its range, the day (ranges and
the time axis are whole days in Stockholm time), the language, and `CHART_FORMAT`, raised
whenever the drawing code changes what a chart looks like.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from sqlalchemy import Select, bindparam, func, select, true
from sqlalchemy.orm import aliased, join

from pallapp import audit
from pallapp.access import Need, find_patient_with
from pallapp.models import Assessment, Milestone, Patient, PrnAdministration, User, utcnow
from pallapp.review.common import refuse_unless_reviewer
from pallapp.timeutil import today_local

#: Raise when the charts are drawn differently, so browsers fetch the new drawing.
CHART_FORMAT = "3"


def _with_version(find: Select[Patient]) -> Select[Any]:
    """`find` (the access layer's statement that finds the patient by `public_id`) with the
    data version's parts beside the patient, and whether the viewer's view of a page
    (`grouped_under`) is logged since `viewed_since`: a 304 answer asks the database once
    besides the user's session, where it asked three times (each round trip cost as much as
    the rest of the answer).

    One aggregate per table, joined (each has exactly one row): with the count beside it,
    `max(id)` is not turned into a backward walk of the primary key. The aggregates pick the
    patient by the same `public_id` (a derived table cannot see the outer patient without
    LATERAL, which SQLite lacks); the outer statement still decides whether the user may see
    the patient, and returns no row when not."""
    named = aliased(Patient)
    patient_id = (
        select(named.id).where(named.public_id == bindparam("public_id")).scalar_subquery()
    )
    ratings = (
        select(func.count().label("n"), func.max(Assessment.id).label("newest"))
        .where(Assessment.patient_id == patient_id)
        .subquery("ratings")
    )
    doses = (
        select(
            func.count().label("n"),
            func.max(PrnAdministration.id).label("newest"),
            # Evaluations may be back-dated: counted, not only the newest time.
            func.count(PrnAdministration.evaluated_at).label("evaluated"),
        )
        .where(PrnAdministration.patient_id == patient_id)
        .subquery("doses")
    )
    milestones = (
        select(func.count().label("n"), func.max(Milestone.id).label("newest"))
        .where(Milestone.patient_id == patient_id)
        .subquery("milestones")
    )
    viewed = audit.viewed_since(
        Patient.id, bindparam("viewer_id"), bindparam("grouped_under"), bindparam("viewed_since")
    )
    return (
        find.add_columns(
            viewed.label("viewed"),
            ratings.c.n,
            ratings.c.newest,
            doses.c.n,
            doses.c.newest,
            doses.c.evaluated,
            milestones.c.n,
            milestones.c.newest,
        )
        .select_from(
            join(Patient, ratings, true()).join(doses, true()).join(milestones, true())
        )
    )


def find_chart_patient(
    user: User, public_id: str, grouped_under: str, within: timedelta
) -> tuple[Patient, str, bool]:
    """The patient of a chart image, if `user` may see the patient's history (else
    `NotVisible`); the patient's data version; and whether the user's view of `grouped_under`
    (the page that shows the chart) is logged in the last `within`. In one statement."""
    refuse_unless_reviewer(user, public_id, Need.VIEW_HISTORY)
    patient, (viewed, *version_parts) = find_patient_with(
        user,
        public_id,
        Need.VIEW_HISTORY,
        _with_version,
        {"viewer_id": user.id, "grouped_under": grouped_under, "viewed_since": utcnow() - within},
    )
    version = "|".join("" if value is None else str(value) for value in version_parts)
    return patient, version, bool(viewed)


def chart_etag(patient: Patient, version: str, key: str, range_code: str, locale: str) -> str:
    """The ETag of the chart `key` of `range_code` for the patient at data `version`
    (`find_chart_patient`), today, in `locale`."""
    parts = [
        CHART_FORMAT,
        patient.public_id,
        key,
        range_code,
        today_local().isoformat(),
        locale,
        version,
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]
