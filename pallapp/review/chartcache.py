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
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from flask import g, has_request_context
from sqlalchemy import BindParameter, ScalarSelect, Select, bindparam, exists, func, select
from sqlalchemy.orm import InstrumentedAttribute

from pallapp.extensions import db
from pallapp.models import (
    Assessment,
    AuditAction,
    AuditEvent,
    Milestone,
    Patient,
    PrnAdministration,
    User,
    utcnow,
)
from pallapp.timeutil import today_local

#: Raise when the charts are drawn differently, so browsers fetch the new drawing.
CHART_FORMAT = "3"


@functools.cache
def _data_version_statement(with_recent_view: bool = False) -> Select[Any]:
    """The data version query with the patient as a bound parameter. Built once per process:
    building it took as long as the rest of a 304 answer. Only the statement is kept, never a
    result, so every worker still asks the database on every request.

    `with_recent_view`: one more column, whether the user has a `view` event of an object type
    for the patient since a time (as `audit.viewed_recently` asks): a chart image asks both,
    and one statement instead of two was a tenth of a 304 answer."""
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
        *(
            [
                exists(
                    select(AuditEvent.id).where(
                        AuditEvent.patient_id == patient_id,
                        AuditEvent.user_id == bindparam("user_id"),
                        AuditEvent.action == AuditAction.VIEW.value,
                        AuditEvent.object_type == bindparam("object_type"),
                        AuditEvent.at >= bindparam("since", type_=AuditEvent.at.type),
                    )
                )
            ]
            if with_recent_view
            else []
        ),
    )


def _version_text(values: Sequence[object]) -> str:
    return "|".join("" if value is None else str(value) for value in values)


def patient_data_version(patient: Patient) -> str:
    """The version of everything a chart of the patient is drawn from, in one query (none
    when `version_and_recent_view` read it for the patient earlier in this request)."""
    if has_request_context():
        known = g.get("pallapp_chart_versions")
        if known is not None and patient.id in known:
            return str(known[patient.id])
    row = db.session.execute(_data_version_statement(), {"patient_id": patient.id}).one()
    return _version_text(row)


def version_and_recent_view(
    patient: Patient, user: User, object_type: str, within: timedelta
) -> bool:
    """Whether `user` has a `view` of `object_type` of `patient` logged in the last `within`
    (`audit.viewed_recently`), read in one statement with the patient's data version, which
    `patient_data_version` then gives for the rest of this request (kept in `g`: nothing
    outlives the request)."""
    row = db.session.execute(
        _data_version_statement(with_recent_view=True),
        {
            "patient_id": patient.id,
            "user_id": user.id,
            "object_type": object_type,
            "since": utcnow() - within,
        },
    ).one()
    g.setdefault("pallapp_chart_versions", {})[patient.id] = _version_text(row[:-1])
    return bool(row[-1])


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
