"""Validators for chart images: a repeat view of an unchanged chart is answered 304.

The validator (an ETag) is derived from the patient's data version, read from the database in
one small query: for ratings, doses and milestones, how many rows there are and when the newest
was written (and, for doses, when the newest effect was evaluated, the one field written after a
dose is stored). Records are never updated in place or deleted otherwise (DEVELOPERS.md:
corrections are new rows), so any new rating, correction, dose, evaluation or milestone changes
the version at once, on every worker and host: nothing is kept in a process.

The ETag also covers what else changes the picture: the chart and its range, the day (ranges and
the time axis are whole days in Stockholm time), the language, and `CHART_FORMAT`, raised
whenever the drawing code changes what a chart looks like.
"""

from __future__ import annotations

import functools
import hashlib
from typing import Any

from sqlalchemy import BindParameter, ScalarSelect, Select, bindparam, func, select
from sqlalchemy.orm import InstrumentedAttribute

from pallapp.extensions import db
from pallapp.models import Assessment, Milestone, Patient, PrnAdministration
from pallapp.timeutil import today_local

#: Raise when the charts are drawn differently, so browsers fetch the new drawing.
CHART_FORMAT = "3"


@functools.cache
def _data_version_statement() -> Select[Any]:
    """The data version query with the patient as a bound parameter. Built once per process:
    building it took as long as the rest of a 304 answer. Only the statement is kept, never a
    result, so every worker still asks the database on every request."""
    patient_id: BindParameter[int] = bindparam("patient_id")

    def stats(
        model: type[Assessment] | type[PrnAdministration] | type[Milestone],
        *columns: InstrumentedAttribute[Any],
    ) -> list[ScalarSelect[Any]]:
        return [
            select(function).where(model.patient_id == patient_id).scalar_subquery()
            for function in (func.count(model.id), *(func.max(column) for column in columns))
        ]

    return select(
        *stats(Assessment, Assessment.id, Assessment.created_at),
        *stats(
            PrnAdministration,
            PrnAdministration.id,
            PrnAdministration.created_at,
            PrnAdministration.evaluated_at,
        ),
        # Evaluations may be back-dated: count them too, not only the newest time.
        select(func.count(PrnAdministration.evaluated_at))
        .where(PrnAdministration.patient_id == patient_id)
        .scalar_subquery(),
        *stats(Milestone, Milestone.id, Milestone.created_at),
    )


def patient_data_version(patient: Patient) -> str:
    """The version of everything a chart of the patient is drawn from, in one query."""
    row = db.session.execute(_data_version_statement(), {"patient_id": patient.id}).one()
    return "|".join("" if value is None else str(value) for value in row)


def chart_etag(patient: Patient, key: str, range_code: str, locale: str) -> str:
    """The ETag of the chart `key` of `range_code` for the patient, today, in `locale`."""
    parts = [
        CHART_FORMAT,
        patient.public_id,
        key,
        range_code,
        today_local().isoformat(),
        locale,
        patient_data_version(patient),
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]
