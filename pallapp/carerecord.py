"""Reads of a patient's care record that several features show: the current care plan,
milestones, the orders in force and the doses given. The caller has found the patient through
`pallapp.access` and audit-logs the page; these only query.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, exists, func, select
from sqlalchemy.orm import aliased, joinedload

from pallapp import flags
from pallapp.extensions import db
from pallapp.models import CarePlan, Milestone, Patient, PrnAdministration, PrnOrder, User

# The patient page's queries are built once, with the patient (and times) as bound parameters:
# building an ORM statement costs more than running one of these small ones.


@functools.cache
def _care_plan_query() -> Select[CarePlan]:
    return (
        select(CarePlan)
        .where(CarePlan.patient_id == bindparam("patient_id"))
        .order_by(CarePlan.version.desc())
        .limit(1)
    )


def current_care_plan(patient: Patient) -> CarePlan | None:
    """The newest version of the patient's care plan (None before the first)."""
    return db.session.scalar(_care_plan_query(), {"patient_id": patient.id})


@functools.cache
def _milestones_query() -> Select[Milestone]:
    return (
        select(Milestone)
        .where(Milestone.patient_id == bindparam("patient_id"))
        # Only the name of who recorded it is shown.
        .options(joinedload(Milestone.recorded_by, innerjoin=True).load_only(User.name))
        .order_by(Milestone.occurred_on.desc(), Milestone.id.desc())
    )


def milestones_of(patient: Patient) -> list[Milestone]:
    """The patient's milestones, newest first, with who recorded them."""
    return list(db.session.scalars(_milestones_query(), {"patient_id": patient.id}))


def active_orders(patient: Patient, now: datetime) -> list[PrnOrder]:
    """The orders in force at `now`, in the order of the indications."""
    return flags.in_force(flags.open_orders(patient, now), now)


@functools.cache
def current_doses() -> ColumnElement[bool]:
    """Condition: the dose has not been replaced by a correction.

    Built once: the alias it needs costs more to make than the rest of a page's query, and the
    condition is the same in every statement (elements are immutable, so sharing is safe)."""
    newer = aliased(PrnAdministration)
    return ~exists(select(newer.id).where(newer.supersedes_id == PrnAdministration.id))


@functools.cache
def _doses_since_query() -> Select[PrnAdministration]:
    return (
        select(PrnAdministration)
        .where(
            PrnAdministration.patient_id == bindparam("patient_id"),
            PrnAdministration.given_at > bindparam("since"),
            current_doses(),
        )
        .options(joinedload(PrnAdministration.order, innerjoin=True))
        .order_by(PrnAdministration.given_at.desc())
    )


@functools.cache
def _doses_to_evaluate_query() -> Select[PrnAdministration]:
    return (
        select(PrnAdministration)
        .where(
            PrnAdministration.patient_id == bindparam("patient_id"),
            PrnAdministration.evaluated_at.is_(None),
            current_doses(),
        )
        .options(joinedload(PrnAdministration.order, innerjoin=True))
        .order_by(PrnAdministration.given_at.desc())
        .limit(bindparam("limit"))
    )


def doses_since(patient: Patient, since: datetime) -> list[PrnAdministration]:
    """Doses (current versions) given after `since`, newest first, with their orders."""
    return list(
        db.session.scalars(_doses_since_query(), {"patient_id": patient.id, "since": since})
    )


def doses_to_evaluate(patient: Patient, limit: int = 20) -> list[PrnAdministration]:
    """Doses whose effect has not been recorded yet, newest first."""
    return list(
        db.session.scalars(_doses_to_evaluate_query(), {"patient_id": patient.id, "limit": limit})
    )


def dose_counts_by_indication(
    patient_ids: Select[Any] | list[int], since: datetime
) -> dict[int, dict[str, int]]:
    """Doses (current versions) given after `since`, per patient and indication, in one grouped
    query for every patient in `patient_ids` (a select of ids, or the ids): pages listing many
    patients."""
    query = (
        select(PrnAdministration.patient_id, PrnOrder.indication, func.count(PrnAdministration.id))
        .join(PrnOrder, PrnOrder.id == PrnAdministration.order_id)
        .where(
            PrnAdministration.patient_id.in_(patient_ids),
            PrnAdministration.given_at > since,
            current_doses(),
        )
        .group_by(PrnAdministration.patient_id, PrnOrder.indication)
    )
    counts: dict[int, dict[str, int]] = {}
    for patient_id, indication, count in db.session.execute(query):
        counts.setdefault(patient_id, {})[indication] = count
    return counts
