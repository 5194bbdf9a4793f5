"""Writing audit events: every read and write of patient data, every login and logout.

Services call `record`; the event is added to the current transaction and committed with the
request. Events never hold clinical values: only who, what kind of action, which record.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from typing import Any

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import Exists, Insert, Integer, any_, bindparam, exists, insert, select
from sqlalchemy.dialects.postgresql import ARRAY

from pallapp.extensions import Base, db
from pallapp.models import AuditAction, AuditEvent, Patient, User, utcnow


def record(
    action: AuditAction,
    *,
    patient: Patient | None = None,
    obj: Base | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    outcome: str = "ok",
    user: User | None = None,
    detail: str | None = None,
) -> None:
    """Write one audit event for `action` by `user` (default: the logged-in user), in the
    request's transaction: at once, as a plain row. Added to the session as a model, its flush
    cost an audited page (a form, the dose form) more than the insert itself."""
    if user is None and has_request_context() and current_user.is_authenticated:
        user = current_user._get_current_object()  # the model, not the proxy
    if obj is not None:
        object_type = object_type or type(obj).__tablename__
        object_id = object_id or str(getattr(obj, "public_id", None) or obj.id)  # type: ignore[attr-defined]  # every model has an id; Base declares none
    db.session.execute(
        _events_insert(),
        {
            "at": utcnow(),
            "action": action.value,
            "user_id": user.id if user is not None else None,
            "patient_id": patient.id if patient is not None else None,
            "object_type": object_type,
            "object_id": object_id,
            "outcome": outcome,
            "client_address": request.remote_addr if has_request_context() else None,
            "detail": detail[:254] if detail else None,
        },
    )


def _alike_columns(
    action: AuditAction, object_type: str, user: User | None, detail: str | None
) -> dict[str, object]:
    """The columns that the events of one list of patients share (all but the patient's ids);
    `user` defaults to the logged-in user."""
    if user is None and has_request_context() and current_user.is_authenticated:
        user = current_user._get_current_object()
    return {
        "at": utcnow(),
        "action": action.value,
        "user_id": user.id if user is not None else None,
        "object_type": object_type,
        "outcome": "ok",
        "client_address": request.remote_addr if has_request_context() else None,
        "detail": detail[:254] if detail else None,
    }


def record_for_patients(
    action: AuditAction,
    patients: Iterable[Patient],
    *,
    object_type: str,
    user: User | None = None,
    detail: str | None = None,
) -> None:
    """One `action` event per patient, written in a single statement: pages and exports that
    show many patients log each of them without one query per patient."""
    alike = _alike_columns(action, object_type, user, detail)
    rows = [{**alike, "patient_id": patient.id, "object_id": patient.public_id} for patient in patients]
    if rows:
        # Into the table, not through the model: the ORM's bulk insert prepares each row again
        # in Python (a tenth of a 200-patient page) and adds nothing to plain rows like these.
        # One row (a patient's page) is inserted as one, not as a batch of one; nor as a model
        # added to the session, whose flush cost the patient page more than the statement.
        db.session.execute(_events_insert(), rows if len(rows) > 1 else rows[0])


@functools.cache
def _events_insert() -> Insert:
    return insert(AuditEvent.metadata.tables[AuditEvent.__tablename__])


def record_for_patient_ids(
    action: AuditAction,
    patient_ids: Sequence[int],
    *,
    object_type: str,
    user: User | None = None,
    detail: str | None = None,
) -> None:
    """`record_for_patients` for a list read as plain columns, of at most a few hundred
    patients: the database writes the events from the patient table, each naming the patient's
    public id, in one INSERT ... SELECT, instead of the app preparing a parameter set per
    patient."""
    if not patient_ids:
        return
    statement = _events_from_patient_ids(db.session.get_bind().dialect.name)
    db.session.execute(
        statement,
        {**_alike_columns(action, object_type, user, detail), "patient_ids": list(patient_ids)},
    )


#: The columns `_alike_columns` gives, in its order.
_ALIKE_NAMES = ("at", "action", "user_id", "object_type", "outcome", "client_address", "detail")


@functools.cache
def _events_from_patient_ids(dialect: str) -> Insert:
    # Built once, every value bound at each call. On PostgreSQL the ids are one array
    # parameter: a list of 200 ids as an IN list (`in_(ids)`) was a new statement every time,
    # 200 literals coerced, rendered and parsed again by the driver: a seventh of the Today
    # page in a profile (cProfile, 100x history, 120 patients listed).
    table = AuditEvent.metadata.tables[AuditEvent.__tablename__]
    if dialect == "postgresql":
        chosen = Patient.id == any_(bindparam("patient_ids", type_=ARRAY(Integer)))
    else:
        chosen = Patient.id.in_(bindparam("patient_ids", expanding=True))
    return insert(table).from_select(
        [*_ALIKE_NAMES, "patient_id", "object_id"],
        select(
            *(bindparam(name, type_=table.c[name].type) for name in _ALIKE_NAMES),
            Patient.id,
            Patient.public_id,
        ).where(chosen),
    )


def viewed_since(patient_id: Any, user_id: Any, object_type: Any, since: Any) -> Exists:
    """Whether a user has a `view` of `object_type` of a patient logged since `since` (each
    argument a value, a column or a bound parameter): a part that a page loads by itself (a
    chart image) is then grouped under the page's event instead of adding its own. A
    condition, asked beside other things in the statement of its caller (`chartcache`); the
    index on (patient_id, user_id, at) answers it from the last minutes of the trail."""
    return exists(
        select(AuditEvent.id).where(
            AuditEvent.patient_id == patient_id,
            AuditEvent.user_id == user_id,
            AuditEvent.action == AuditAction.VIEW.value,
            AuditEvent.object_type == object_type,
            AuditEvent.at >= since,
        )
    )
