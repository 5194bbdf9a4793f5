"""Reporting plans per patient, what is due for whom, and reminder e-mails.

The plan for a patient is their own lines for the current phase (set by staff with a reason),
else the default of the phase with the intervals of the units that follow them (the shortest,
when several do). A phase change therefore brings the new phase's plan at once; staff adjust it
on the plan page. `reporting.plan` holds the one due/overdue rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from flask_babel import force_locale
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from pallapp import audit
from pallapp.access import Need, find_patient, relative_link
from pallapp.alerts import outbox
from pallapp.alerts.services import link
from pallapp.extensions import db
from pallapp.flags import interval_thresholds
from pallapp.flags.plan import (
    PATIENT,
    RELATIVE,
    LineStatus,
    PlanLine,
    default_plan,
    plan_status,
)
from pallapp.i18n import gettext
from pallapp.models import (
    Assessment,
    AuditAction,
    Patient,
    PatientUnit,
    Phase,
    RelativeLink,
    ReportingPlanEntry,
    Role,
    User,
)
from pallapp.refusals import Reason, Refusal
from pallapp.timeutil import STOCKHOLM

REPORTING_PHASES = (Phase.EARLY.value, Phase.END_OF_LIFE.value)


class PlanRefused(Refusal):
    """The plan cannot be saved as given; `reason` says why in words."""


@dataclass(frozen=True)
class Plan:
    lines: tuple[PlanLine, ...]
    own: bool  # the patient's own lines, not the unit's default
    reason: str | None = None


def unit_default_plan(patient: Patient, day: datetime) -> tuple[PlanLine, ...]:
    units = [episode.unit for episode in patient.active_episodes(day.astimezone(STOCKHOLM).date())]
    if not units:
        return ()
    # The same intervals as the reminder flags and the overview (the shortest of the units).
    thresholds = interval_thresholds(units)
    return default_plan(
        patient.phase,
        interval_days=thresholds.assessment_interval_days,
        end_of_life_interval_days=thresholds.assessment_interval_end_of_life_days,
        roag_interval_days=thresholds.roag_interval_days,
    )


def _own_entries(patient: Patient) -> list[ReportingPlanEntry]:
    return list(
        db.session.scalars(
            select(ReportingPlanEntry)
            .where(
                ReportingPlanEntry.patient_id == patient.id,
                ReportingPlanEntry.phase == patient.phase,
                ReportingPlanEntry.replaced_at.is_(None),
            )
            .order_by(ReportingPlanEntry.id)
        )
    )


def plan_for(patient: Patient, now: datetime) -> Plan:
    """The plan in force for `patient` now (the caller has checked access)."""
    if patient.phase not in REPORTING_PHASES:
        return Plan((), own=False)
    entries = _own_entries(patient)
    if entries:
        lines = tuple(
            PlanLine(
                entry.instrument,
                entry.respondent,
                entry.interval_days,
                relative_may_answer=entry.respondent == PATIENT,
            )
            for entry in entries
        )
        return Plan(lines, own=True, reason=entries[-1].reason)
    return Plan(unit_default_plan(patient, now), own=False)


def latest_observations(patient_ids: Sequence[int]) -> dict[int, dict[str, datetime]]:
    """The latest `observed_at` per patient and instrument, in one query."""
    rows = db.session.execute(
        select(Assessment.patient_id, Assessment.instrument, func.max(Assessment.observed_at))
        .where(Assessment.patient_id.in_(patient_ids))
        .group_by(Assessment.patient_id, Assessment.instrument)
    ).all()
    latest: dict[int, dict[str, datetime]] = {}
    for patient_id, instrument, moment in rows:  # max() keeps the column's aware type
        latest.setdefault(patient_id, {})[instrument] = moment
    return latest


def _plan_start(patient: Patient) -> datetime:
    return datetime.combine(patient.enrolled_on, datetime.min.time(), STOCKHOLM)


def status_for(patient: Patient, now: datetime, latest: dict[str, datetime] | None = None) -> list[LineStatus]:
    """Each plan line of `patient` with its due time, due and overdue (the one rule)."""
    if latest is None:
        latest = latest_observations([patient.id]).get(patient.id, {})
    return plan_status(plan_for(patient, now).lines, latest, now, since=_plan_start(patient))


def _may_answer(user: User, patient: Patient, line: PlanLine) -> bool:
    if user.role == Role.PATIENT:
        return line.respondent == PATIENT
    if user.role == Role.RELATIVE:
        link_ = relative_link(user, patient)
        return (
            link_ is not None
            and link_.may_answer_as_proxy
            and (line.respondent == RELATIVE or line.relative_may_answer)
        )
    return False


def due_for_reporter(user: User, patients: Sequence[Patient], now: datetime) -> dict[int, list[LineStatus]]:
    """For the start page: per patient, the due lines `user` (patient or relative) may answer.
    The caller has the patients from `access` and audited the page."""
    latest = latest_observations([patient.id for patient in patients])
    return {
        patient.id: [
            status
            for status in status_for(patient, now, latest.get(patient.id, {}))
            if status.is_due and _may_answer(user, patient, status.line)
        ]
        for patient in patients
    }


def plan_page(user: User, patient_public_id: str, now: datetime) -> tuple[Patient, Plan, list[LineStatus]]:
    """The patient's plan and where each line stands (staff who may see the patient); audited."""
    patient = find_patient(user, patient_public_id, Need.VIEW)
    audit.record(AuditAction.VIEW, user=user, patient=patient, object_type="reporting_plan")
    return patient, plan_for(patient, now), status_for(patient, now)


def set_patient_plan(
    user: User, patient_public_id: str, lines: Sequence[PlanLine], reason: str, now: datetime
) -> Plan:
    """Give the patient their own plan for the current phase, replacing the earlier one (whose
    lines stay, closed). Staff who may change the record; a reason is required."""
    patient = find_patient(user, patient_public_id, Need.CHANGE)
    if not reason.strip():
        raise PlanRefused(Reason.PLAN_REASON_REQUIRED)
    if patient.phase not in REPORTING_PHASES:
        raise PlanRefused(Reason.NO_REPORTING_IN_PHASE)
    if not lines:
        raise PlanRefused(Reason.NO_PLAN_LINES)
    for entry in _own_entries(patient):
        entry.replaced_at = now
    for line in lines:
        entry = ReportingPlanEntry(
            patient_id=patient.id,
            phase=patient.phase,
            instrument=line.instrument,
            respondent=line.respondent,
            interval_days=line.interval_days,
            reason=reason.strip(),
            set_by_id=user.id,
            created_at=now,
        )
        db.session.add(entry)
        db.session.flush()
        audit.record(AuditAction.CREATE, user=user, patient=patient, obj=entry)
    return plan_for(patient, now)


def _reminder_text(user: User) -> tuple[str, str]:
    with force_locale(user.language or "sv"):
        if user.role == Role.RELATIVE:
            # No name: the relative knows whom they help, and a mail may be read by others.
            subject = gettext("pallapp: time for a symptom rating")
            body = gettext("It is time for a symptom rating in pallapp. Log in here:")
        else:
            subject = gettext("pallapp: time to rate your symptoms")
            body = gettext("It is time to rate your symptoms in pallapp. Log in here:")
    return subject, f"{body}\n{link('patients.start')}\n"


def enqueue_reminders(now: datetime) -> int:
    """Queue one e-mail per person with a due self-report today (patients, and relatives who
    may answer for them), at most one per person and Swedish calendar day, never to anyone who
    opted out. The message says only that it is time to rate, with a link. A system task."""
    day = now.astimezone(STOCKHOLM).date()
    followed = select(PatientUnit.patient_id).where(
        PatientUnit.start <= day, or_(PatientUnit.end.is_(None), PatientUnit.end > day)
    )
    patients = list(
        db.session.scalars(
            select(Patient)
            .where(Patient.id.in_(followed), Patient.phase.in_(REPORTING_PHASES))
            .options(
                selectinload(Patient.episodes).selectinload(PatientUnit.unit),
                selectinload(Patient.relative_links).selectinload(RelativeLink.relative),
            )
            .order_by(Patient.id)
        )
    )
    accounts = {
        account.patient_id: account
        for account in db.session.scalars(
            select(User).where(
                User.role == Role.PATIENT.value,
                User.patient_id.in_([patient.id for patient in patients]),
            )
        )
    }
    latest = latest_observations([patient.id for patient in patients])
    queued = 0
    for patient in patients:
        due = [
            status.line
            for status in status_for(patient, now, latest.get(patient.id, {}))
            if status.is_due and status.line.is_self_report
        ]
        if not due:
            continue
        recipients: list[User] = []
        account = accounts.get(patient.id)
        if account is not None and any(line.respondent == PATIENT for line in due):
            recipients.append(account)
        if any(line.relative_may_answer or line.respondent == RELATIVE for line in due):
            recipients.extend(
                link_.relative
                for link_ in patient.relative_links
                if link_.is_active and link_.may_answer_as_proxy
            )
        unit_id = patient.active_episodes(day)[0].unit_id
        for person in recipients:
            if not person.active or person.password_hash is None or person.reminders_opt_out:
                continue
            subject, body = _reminder_text(person)
            if outbox.enqueue(
                key=f"reminder:{person.id}:{day.isoformat()}",
                kind="reminder",
                channel="email",
                recipient=person.email,
                subject=subject,
                body=body,
                now=now,
                patient_id=patient.id,
                user_id=person.id,
                unit_id=unit_id,
            ):
                queued += 1
    return queued


def set_reminders_opt_out(user: User, opt_out: bool) -> None:
    """A patient or relative turns e-mail reminders off or on for themself."""
    user.reminders_opt_out = opt_out
    audit.record(
        AuditAction.UPDATE,
        user=user,
        object_type="user_account",
        object_id=user.public_id,
        detail="reminders off" if opt_out else "reminders on",
    )
