"""What the care plan modules share: refusals, the clock tolerance, opening a patient for
a new record."""

from __future__ import annotations

from datetime import datetime, timedelta

from pallapp import audit
from pallapp.access import Need as Need  # the views name needs through the services
from pallapp.access import can, find_patient, needs_for
from pallapp.models import (
    AuditAction,
    Patient,
    User,
    utcnow,
)
from pallapp.refusals import Refusal

# Clock skew allowed between a tablet and the server before a time counts as "in the future"
# (the same tolerance as for assessments).
FUTURE_TOLERANCE = timedelta(minutes=5)


class Refused(Refusal):
    """The change to the care plan, a milestone, an order or a dose cannot be made; `reason`
    says why in words."""


def may(user: User, patient: Patient, need: Need) -> bool:
    """Whether the user may `need` the patient already opened (and audited) by the page."""
    return can(user, patient, need)


def needs(user: User, patient: Patient, wanted: tuple[Need, ...]) -> frozenset[Need]:
    """Which of `wanted` the user may with the patient already opened (and audited)."""
    return needs_for(user, patient, wanted)


def now_or_utc(now: datetime | None) -> datetime:
    return now or utcnow()


def patient_for_new_record(user: User, public_id: str, need: Need, object_type: str) -> Patient:
    """The patient for a form that adds a record (`need`, e.g. a new order or milestone); the
    form shows the patient, so opening it is audited as a view of `object_type`."""
    patient = find_patient(user, public_id, need)
    audit.record(AuditAction.VIEW, user=user, patient=patient, object_type=object_type)
    return patient
