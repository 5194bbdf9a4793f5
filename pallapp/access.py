"""Who may see or change which patient: the one place that decides.

Every query for patient data starts from `visible_patients` or `find_patient`. Nothing else in
the app filters patients by role.

Rules (DESIGN.md, issue 2):
- nurse, physician, manager: patients with an active episode in a unit where the user has an
  active membership today;
- patient: only their own record;
- relative: only patients with an active (not revoked) link; history only where the link allows;
- admin: no clinical data at all.

As-needed medication (issue 5): only physicians prescribe (`PRESCRIBE`); nurses and
physicians record doses (`RECORD_DOSE`), relatives too where one of the patient's units allows
it, and then they also see the orders (`VIEW_ORDERS`); patients do not see the orders.

A patient the user may not see is reported as not found (`NotVisible` becomes a 404) so that
nobody learns whether a record exists; the refusal is audit-logged as `denied`.
"""

from __future__ import annotations

import enum
from datetime import date

from sqlalchemy import Select, and_, exists, false, or_, select

from pallapp.extensions import db
from pallapp.models import CareUnit, Patient, PatientUnit, RelativeLink, Role, UnitMembership, User
from pallapp.timeutil import today_local


class Need(enum.StrEnum):
    """What the caller wants to do with the patient record."""

    VIEW = "view"
    VIEW_HISTORY = "view_history"
    CHANGE = "change"
    INVITE = "invite"
    # Submit a symptom rating for the patient (self-report, a relative, or staff).
    REPORT = "report"
    # Create, change or stop an as-needed order.
    PRESCRIBE = "prescribe"
    # Record an as-needed dose given, and its effect.
    RECORD_DOSE = "record_dose"
    # See the as-needed orders and the doses given.
    VIEW_ORDERS = "view_orders"
    # See the whole care plan with its history, and the milestones (patients and relatives
    # see the contacts and the part written for them through VIEW).
    VIEW_CARE_PLAN = "view_care_plan"


class NotVisible(Exception):
    """The user may not do `need` with this patient, or the patient does not exist."""

    def __init__(self, public_id: str, need: Need, patient: Patient | None = None) -> None:
        super().__init__(public_id)
        self.public_id = public_id
        self.need = need
        self.patient = patient


def _active_on(model: type[UnitMembership] | type[PatientUnit], day: date):  # type: ignore[no-untyped-def]
    return and_(model.start <= day, or_(model.end.is_(None), model.end > day))


def _staff_condition(user: User, day: date):  # type: ignore[no-untyped-def]
    shared_unit = (
        select(PatientUnit.id)
        .join(UnitMembership, UnitMembership.unit_id == PatientUnit.unit_id)
        .where(
            PatientUnit.patient_id == Patient.id,
            UnitMembership.user_id == user.id,
            _active_on(PatientUnit, day),
            _active_on(UnitMembership, day),
        )
    )
    return exists(shared_unit)


def _unit_lets_relatives_record_doses(day: date):  # type: ignore[no-untyped-def]
    allowing = (
        select(PatientUnit.id)
        .join(CareUnit, CareUnit.id == PatientUnit.unit_id)
        .where(
            PatientUnit.patient_id == Patient.id,
            CareUnit.relatives_may_record_doses.is_(True),
            _active_on(PatientUnit, day),
        )
    )
    return exists(allowing)


def _relative_condition(user: User, need: Need, day: date):  # type: ignore[no-untyped-def]
    link = select(RelativeLink.id).where(
        RelativeLink.patient_id == Patient.id,
        RelativeLink.relative_id == user.id,
        RelativeLink.revoked_at.is_(None),
    )
    if need in (Need.RECORD_DOSE, Need.VIEW_ORDERS):
        return and_(exists(link), _unit_lets_relatives_record_doses(day))
    if need is Need.VIEW_HISTORY:
        link = link.where(RelativeLink.may_view_history.is_(True))
    elif need not in (Need.VIEW, Need.REPORT):
        # Answering as proxy, rather than helping, is checked against the link by the service.
        return false()
    return exists(link)


_CHARTING = frozenset({Need.CHANGE, Need.INVITE, Need.REPORT, Need.PRESCRIBE, Need.RECORD_DOSE})
# A patient reads their own record and reports symptoms; the orders are the care team's.
_STAFF_ONLY = frozenset(
    {
        Need.CHANGE,
        Need.INVITE,
        Need.PRESCRIBE,
        Need.RECORD_DOSE,
        Need.VIEW_ORDERS,
        Need.VIEW_CARE_PLAN,
    }
)


def patient_condition(user: User, need: Need = Need.VIEW, day: date | None = None):  # type: ignore[no-untyped-def]
    """A SQL condition on `Patient` that is true for the patients `user` may `need`."""
    day = day or today_local()
    if not user.is_authenticated or not user.active:
        return false()
    role = user.role_enum
    if role.is_staff:
        if need in _CHARTING and role is Role.MANAGER:
            # Managers read their units' records for quality work; they do not chart.
            return false()
        if need is Need.PRESCRIBE and role is not Role.PHYSICIAN:
            return false()
        return _staff_condition(user, day)
    if role is Role.PATIENT:
        if need in _STAFF_ONLY or user.patient_id is None:
            return false()
        return Patient.id == user.patient_id
    if role is Role.RELATIVE:
        return _relative_condition(user, need, day)
    return false()  # admin and anything unknown: no clinical data


def visible_patients(user: User, need: Need = Need.VIEW) -> Select[tuple[Patient]]:
    """A query for every patient `user` may `need` (add ordering and filters to it)."""
    return select(Patient).where(patient_condition(user, need))


def find_patient(user: User, public_id: str, need: Need = Need.VIEW) -> Patient:
    """The patient with `public_id` if `user` may `need` it; else raise `NotVisible`."""
    patient = db.session.scalar(visible_patients(user, need).where(Patient.public_id == public_id))
    if patient is None:
        # Looked up only so the denial can name the record in the audit log.
        existing = db.session.scalar(select(Patient).where(Patient.public_id == public_id))
        raise NotVisible(public_id, need, existing)
    return patient


def can(user: User, patient: Patient, need: Need) -> bool:
    """Whether `user` may `need` `patient` (for showing or hiding links and buttons)."""
    query = select(Patient.id).where(Patient.id == patient.id, patient_condition(user, need))
    return db.session.scalar(query) is not None


def relative_link(user: User, patient: Patient) -> RelativeLink | None:
    """The active link between a relative and a patient, if any."""
    return db.session.scalar(
        select(RelativeLink).where(
            RelativeLink.relative_id == user.id,
            RelativeLink.patient_id == patient.id,
            RelativeLink.revoked_at.is_(None),
        )
    )
