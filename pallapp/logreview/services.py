"""Reading the audit log, scoped by `pallapp.access`: a manager reads the events about the
patients of their units; a patient reads who among staff opened their own record.

Reading the log is itself audited (`view`, or `export` for the CSV).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import aliased, selectinload

from pallapp import audit
from pallapp.access import Need, find_patient, patient_condition
from pallapp.csvout import csv_text
from pallapp.extensions import db
from pallapp.models import AuditAction, AuditEvent, Patient, Role, UnitMembership, User
from pallapp.timeutil import STOCKHOLM

#: At most this many rows on a page; the CSV export has no such limit.
PAGE_LIMIT = 200
#: What counts as opening or changing a record, for the patient's own view.
RECORD_ACTIONS = (
    AuditAction.VIEW,
    AuditAction.CREATE,
    AuditAction.UPDATE,
    AuditAction.CORRECT,
    AuditAction.EXPORT,
)


class NotAllowed(Exception):
    """The user's role may not read the audit log this way."""


@dataclass(frozen=True)
class LogFilter:
    """What a manager searches for: a patient (name or personnummer), a user (e-mail or
    name), and a period of whole local days, both ends included."""

    start: date
    end: date
    patient: str = ""
    user: str = ""

    def utc_bounds(self) -> tuple[datetime, datetime]:
        first = datetime.combine(self.start, time.min, STOCKHOLM)
        after = datetime.combine(self.end + timedelta(days=1), time.min, STOCKHOLM)
        return first, after


@dataclass(frozen=True)
class LogRow:
    at: datetime
    user_name: str | None
    user_email: str | None
    user_role: str | None
    action: str
    patient_name: str | None
    patient_number: str | None
    object_type: str | None
    outcome: str
    client_address: str | None


def _require_manager(user: User) -> None:
    if user.role != Role.MANAGER:
        raise NotAllowed(user.role)


def _scoped_query(manager: User, wanted: LogFilter) -> Select[tuple[AuditEvent, User, Patient]]:
    acting = aliased(User)
    first, after = wanted.utc_bounds()
    # Only events about patients the manager may see: their units' patients (access layer).
    query = (
        select(AuditEvent, acting, Patient)
        .join(Patient, AuditEvent.patient_id == Patient.id)
        .outerjoin(acting, AuditEvent.user_id == acting.id)
        .where(patient_condition(manager, Need.VIEW), AuditEvent.at >= first, AuditEvent.at < after)
    )
    patient_text = wanted.patient.strip()
    if patient_text:
        digits = re.sub(r"\D", "", patient_text)
        if len(digits) >= 4:
            query = query.where(Patient.personnummer.contains(digits))
        else:
            pattern = f"%{patient_text.lower()}%"
            query = query.where(
                func.lower(Patient.given_name + " " + Patient.family_name).like(pattern)
            )
    user_text = wanted.user.strip().lower()
    if user_text:
        pattern = f"%{user_text}%"
        query = query.where(
            or_(func.lower(acting.email).like(pattern), func.lower(acting.name).like(pattern))
        )
    return query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())


def _row(event: AuditEvent, user: User | None, patient: Patient) -> LogRow:
    return LogRow(
        at=event.at,
        user_name=user.name if user else None,
        user_email=user.email if user else None,
        user_role=user.role if user else None,
        action=event.action,
        patient_name=patient.name,
        patient_number=patient.masked_personnummer,
        object_type=event.object_type,
        outcome=event.outcome,
        client_address=event.client_address,
    )


def search_log(manager: User, wanted: LogFilter) -> tuple[list[LogRow], bool]:
    """Events about the manager's units' patients matching `wanted`, newest first (at most
    PAGE_LIMIT) and whether more matched."""
    _require_manager(manager)
    results = db.session.execute(_scoped_query(manager, wanted).limit(PAGE_LIMIT + 1)).all()
    audit.record(AuditAction.VIEW, user=manager, object_type="audit_log")
    rows = [_row(*result) for result in results]
    return rows[:PAGE_LIMIT], len(rows) > PAGE_LIMIT


CSV_COLUMNS = (
    "time",
    "user",
    "email",
    "role",
    "action",
    "patient",
    "personnummer",
    "object",
    "outcome",
    "address",
)


def export_log(manager: User, wanted: LogFilter) -> str:
    """Every matching event as CSV (UTF-8, times in Swedish local time); audited as export.

    The personal identity number stays masked as on screen: the review needs who and when,
    not the full number.
    """
    _require_manager(manager)
    rows = []
    for result in db.session.execute(_scoped_query(manager, wanted)):
        row = _row(*result)
        rows.append(
            (
                row.at.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M:%S"),
                row.user_name,
                row.user_email,
                row.user_role,
                row.action,
                row.patient_name,
                row.patient_number,
                row.object_type,
                row.outcome,
                row.client_address,
            )
        )
    audit.record(AuditAction.EXPORT, user=manager, object_type="audit_log")
    return csv_text(CSV_COLUMNS, rows)


@dataclass(frozen=True)
class AccessRow:
    """One time a member of staff opened or changed the patient's record."""

    at: datetime
    staff_name: str
    role: str
    units: Sequence[str]
    action: str


def who_opened_my_record(user: User) -> list[AccessRow]:
    """For a patient: every time staff opened or changed their record, newest first, with the
    care units the staff member belonged to on that day."""
    if user.role != Role.PATIENT or user.patient is None:
        raise NotAllowed(user.role)
    patient = find_patient(user, user.patient.public_id, Need.VIEW)
    staff_roles = [role.value for role in Role if role.is_staff]
    query = (
        select(AuditEvent, User)
        .join(User, AuditEvent.user_id == User.id)
        .where(
            AuditEvent.patient_id == patient.id,
            AuditEvent.action.in_([action.value for action in RECORD_ACTIONS]),
            AuditEvent.outcome == "ok",
            User.role.in_(staff_roles),
        )
        .options(selectinload(User.memberships).selectinload(UnitMembership.unit))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    )
    rows = []
    for event, staff in db.session.execute(query):
        day = event.at.astimezone(STOCKHOLM).date()
        units = [m.unit.name for m in staff.memberships if m.is_active_on(day)]
        rows.append(AccessRow(event.at, staff.name, staff.role, units, event.action))
    audit.record(AuditAction.VIEW, user=user, patient=patient, object_type="access_log")
    return rows
