"""Care plans: the current version, its history and saving a new version.

Every function that acts for a user goes through `pallapp.access`; every read and write is
audit-logged. Services flush; the request boundary commits once."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from pallapp import audit, carerecord
from pallapp.access import Need, find_patient
from pallapp.careplan.common import Refused
from pallapp.extensions import db
from pallapp.models import (
    CARE_PLAN_FIELDS,
    AuditAction,
    CarePlan,
    Patient,
    PlaceOfDeath,
    User,
)
from pallapp.refusals import Reason


def read_care_plan(user: User, public_id: str) -> tuple[Patient, CarePlan | None]:
    """The patient and the current care plan (anyone who may see the patient; the view shows
    patients and relatives only the contacts and the part written for them)."""
    patient = find_patient(user, public_id, Need.VIEW)
    plan = carerecord.current_care_plan(patient)
    audit.record(
        AuditAction.VIEW, user=user, patient=patient, obj=plan, object_type="care_plan"
    )
    return patient, plan


def care_plan_history(user: User, public_id: str) -> tuple[Patient, list[CarePlan]]:
    """Every version of the care plan, newest first (staff caring for the patient)."""
    patient = find_patient(user, public_id, Need.VIEW_CARE_PLAN)
    versions = list(
        db.session.scalars(
            select(CarePlan)
            .where(CarePlan.patient_id == patient.id)
            .options(selectinload(CarePlan.created_by))
            .order_by(CarePlan.version.desc())
        )
    )
    audit.record(
        AuditAction.VIEW, user=user, patient=patient, object_type="care_plan", detail="history"
    )
    return patient, versions


def care_plan_for_editing(user: User, public_id: str) -> tuple[Patient, CarePlan | None]:
    """The patient and the current care plan, for someone who may change it."""
    patient = find_patient(user, public_id, Need.CHANGE)
    plan = carerecord.current_care_plan(patient)
    audit.record(
        AuditAction.VIEW, user=user, patient=patient, obj=plan, object_type="care_plan"
    )
    return patient, plan


def save_care_plan(
    user: User, public_id: str, values: Mapping[str, str | None], *, based_on: int | None
) -> CarePlan:
    """Store a new version of the care plan; the earlier versions stay as they were.

    `based_on` is the version the user edited (None for the first plan): if someone saved in
    between, `Refused(Reason.STALE)` asks the user to look at the newer version first. Saving
    without any change is `Refused(Reason.NO_CHANGE)`.
    """
    patient = find_patient(user, public_id, Need.CHANGE)
    current = carerecord.current_care_plan(patient)
    if (current.version if current else None) != based_on:
        raise Refused(Reason.STALE)
    clean = {name: (values.get(name) or "").strip() for name in CARE_PLAN_FIELDS}
    if clean["preferred_place_of_death_code"] not in {"", *PlaceOfDeath}:
        raise Refused(Reason.UNKNOWN_PLACE)
    if current is None:
        changed = [name for name in CARE_PLAN_FIELDS if clean[name]]
    else:
        changed = [name for name in CARE_PLAN_FIELDS if getattr(current, name) != clean[name]]
    if not changed:
        raise Refused(Reason.NO_CHANGE)
    plan = CarePlan(
        patient_id=patient.id,
        version=current.version + 1 if current else 1,
        changed_fields=changed,
        created_by_id=user.id,
        **clean,
    )
    try:
        with db.session.begin_nested():
            db.session.add(plan)
            db.session.flush()
    except IntegrityError:
        raise Refused(Reason.STALE) from None
    action = AuditAction.UPDATE if current else AuditAction.CREATE
    audit.record(action, user=user, patient=patient, obj=plan)
    return plan
