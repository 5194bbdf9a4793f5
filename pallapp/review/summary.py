"""The printed patient summary: contacts, latest ratings, open flags, orders and doses."""

from __future__ import annotations

from dataclasses import dataclass

from pallapp import audit, carerecord, flags, scoring
from pallapp.access import Need
from pallapp.models import (
    CARE_PLAN_FIELD_LABELS,
    Assessment,
    AuditAction,
    Flag,
    Patient,
    PrnAdministration,
    PrnOrder,
    User,
    utcnow,
)
from pallapp.review.common import (
    DOSE_WINDOW,
    KeyScore,
    find_for_review,
    key_scores,
    latest_assessments,
)


def doses_last_24h(patient: Patient) -> list[PrnAdministration]:
    """As-needed doses given to the patient in the last 24 hours, newest first."""
    return carerecord.doses_since(patient, utcnow() - DOSE_WINDOW)





def care_plan_contacts(patient: Patient) -> list[tuple[str, str]]:
    """Whom to call from the current care plan: (field label, text) for the 24/7 contacts and
    the fast vårdkontakt (responsible nurse and physician) that are filled in."""
    plan = carerecord.current_care_plan(patient)
    if plan is None:
        return []
    contacts = []
    for name in ("contacts", "responsible_nurse", "responsible_physician"):
        text = (getattr(plan, name) or "").strip()
        if text:
            contacts.append((str(CARE_PLAN_FIELD_LABELS[name]), text))
    return contacts


def current_orders(patient: Patient) -> list[PrnOrder]:
    """The patient's as-needed orders in force now, in the order of the indications."""
    return carerecord.active_orders(patient, utcnow())





@dataclass
class Summary:
    patient: Patient
    scores: list[KeyScore]
    latest: dict[str, Assessment]
    open_flags: list[tuple[Flag, str | None]]
    contacts: list[tuple[str, str]]
    orders: list[PrnOrder]
    doses: list[PrnAdministration]


def patient_summary(user: User, patient_public_id: str) -> Summary:
    """What a printed summary shows: care plan contacts, latest ratings, open flags, the
    as-needed orders in force and the doses of the last 24 hours; audited."""
    patient = find_for_review(user, patient_public_id, Need.VIEW_HISTORY)
    latest = latest_assessments([patient.id], tuple(scoring.INSTRUMENTS)).get(patient.id, {})
    audit.record(AuditAction.VIEW, user=user, patient=patient, object_type="patient_summary")
    return Summary(
        patient=patient,
        scores=key_scores(latest),
        latest=latest,
        open_flags=flags.open_flags_of(patient),
        contacts=care_plan_contacts(patient),
        orders=current_orders(patient),
        doses=doses_last_24h(patient),
    )
