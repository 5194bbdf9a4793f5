"""Milestones (brytpunktssamtal, death, ...) and what recording them changes."""

from __future__ import annotations

from datetime import date, datetime

from pallapp import audit, carerecord, flags
from pallapp.access import Need, find_patient
from pallapp.careplan.common import Refused, now_or_utc
from pallapp.extensions import db
from pallapp.models import (
    AuditAction,
    Milestone,
    MilestoneKind,
    Patient,
    Phase,
    PlaceOfDeath,
    StopCause,
    User,
)
from pallapp.refusals import Reason
from pallapp.timeutil import today_local

# Milestones that still make sense after the patient has died.
AFTER_DEATH = frozenset({MilestoneKind.EFTERLEVANDESAMTAL_OFFERED, MilestoneKind.SPR_REGISTERED})



def list_milestones(user: User, public_id: str) -> tuple[Patient, list[Milestone]]:
    patient = find_patient(user, public_id, Need.VIEW_CARE_PLAN)
    milestones = carerecord.milestones_of(patient)
    audit.record(AuditAction.VIEW, user=user, patient=patient, object_type="milestone")
    return patient, milestones


def record_milestone(
    user: User,
    public_id: str,
    *,
    kind: str,
    occurred_on: date,
    participants: str = "",
    note: str = "",
    place: str | None = None,
    death_expected: bool | None = None,
    free_of_pressure_ulcers: bool | None = None,
    now: datetime | None = None,
) -> Milestone:
    """Record a milestone. A brytpunktssamtal moves the patient into the end-of-life phase; a
    death sets the date and place of death, stops every open order and closes the reminder
    flags. A death needs its place and both answers the quality indicators count: whether it
    was expected and whether the patient was free of pressure ulcers."""
    patient = find_patient(user, public_id, Need.CHANGE)
    milestone_kind = MilestoneKind(kind)
    if occurred_on > today_local():
        raise Refused(Reason.IN_FUTURE)
    deceased = patient.phase == Phase.DECEASED
    if deceased and milestone_kind not in AFTER_DEATH:
        raise Refused(Reason.PATIENT_DECEASED)
    if milestone_kind is MilestoneKind.DEATH:
        if place is None:
            raise Refused(Reason.PLACE_REQUIRED)
        place = PlaceOfDeath(place).value
        if death_expected is None:
            raise Refused(Reason.EXPECTED_REQUIRED)
        if free_of_pressure_ulcers is None:
            raise Refused(Reason.PRESSURE_ULCERS_REQUIRED)
    else:
        place = death_expected = free_of_pressure_ulcers = None
    milestone = Milestone(
        patient_id=patient.id,
        kind=milestone_kind.value,
        occurred_on=occurred_on,
        participants=participants.strip(),
        note=note.strip(),
        place=place,
        death_expected=death_expected,
        free_of_pressure_ulcers=free_of_pressure_ulcers,
        recorded_by_id=user.id,
    )
    db.session.add(milestone)
    db.session.flush()
    audit.record(AuditAction.CREATE, user=user, patient=patient, obj=milestone)
    if milestone_kind is MilestoneKind.BRYTPUNKTSSAMTAL and patient.phase == Phase.EARLY:
        patient.phase = Phase.END_OF_LIFE.value
        audit.record(AuditAction.UPDATE, user=user, patient=patient, obj=patient, detail="phase")
        flags.evaluate_reminders(patient, now=now, user=user)
    elif milestone_kind is MilestoneKind.DEATH:
        _record_death(user, patient, milestone, now_or_utc(now))
    return milestone


def _record_death(user: User, patient: Patient, milestone: Milestone, now: datetime) -> None:
    patient.phase = Phase.DECEASED.value
    patient.died_on = milestone.occurred_on
    patient.place_of_death = milestone.place
    audit.record(AuditAction.UPDATE, user=user, patient=patient, obj=patient, detail="death")
    for order in flags.open_orders(patient, now):
        # An order that had not started yet ends where it would have begun.
        order.stop_at = max(now, order.start_at)
        order.stop_cause = StopCause.DECEASED.value
        order.stopped_by_id = user.id
        audit.record(AuditAction.UPDATE, user=user, patient=patient, obj=order, detail="stopped")
    flags.close_reminders(patient, now, "patient_deceased", user)
