"""Reading the audit log, scoped by `pallapp.access`: a manager reads the events about the
patients of their units; a patient reads who among staff opened their own record.

Reading the log is itself audited (`view`, or `export` for the CSV).
"""

from __future__ import annotations

import random
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import Row, Select, func, or_, select
from sqlalchemy.orm import aliased, selectinload

from pallapp import audit
from pallapp.access import Need, find_patient, had_care_relationship, patient_condition
from pallapp.csvout import csv_text
from pallapp.extensions import db
from pallapp.logreview.labels import event_text, outcome_text
from pallapp.logreview.localdate import local_date
from pallapp.models import (
    ApiClient,
    AuditAction,
    AuditEvent,
    CareUnit,
    Patient,
    Role,
    UnitMembership,
    User,
)
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


#: The period a search may cover: the log holds nothing older than the app, and dates far out
#: (year 1 or 9999) cannot be turned into times at all.
EARLIEST_DAY = date(2000, 1, 1)
LATEST_DAY = date(2099, 12, 31)


@dataclass(frozen=True)
class LogFilter:
    """What a manager searches for: a patient (name or personnummer), a user (e-mail or
    name), a period of whole local days (both ends included), one action, only accesses from
    outside a care relationship, not the manager's own events, and a random sample of
    `sample` events drawn with `seed` (None: a new seed)."""

    start: date
    end: date
    patient: str = ""
    user: str = ""
    action: str = ""
    without_care_relationship: bool = False
    exclude_own: bool = False
    sample: int | None = None
    seed: int | None = None

    def utc_bounds(self) -> tuple[datetime, datetime]:
        if not (self.start >= EARLIEST_DAY and self.end <= LATEST_DAY):
            raise ValueError("period out of range")
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


@dataclass(frozen=True)
class LogPage:
    """The events found (newest first), whether more matched than are shown, and for a
    sample: how many events it was drawn from and with which seed."""

    rows: list[LogRow]
    more: bool
    population: int | None = None
    seed: int | None = None


def _require_manager(user: User) -> None:
    if user.role != Role.MANAGER:
        raise NotAllowed(user.role)


_STAFF_ROLES = [role.value for role in Role if role.is_staff]


def _scoped_query(manager: User, wanted: LogFilter) -> Select[AuditEvent, User, Patient]:
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
    if wanted.action:
        query = query.where(AuditEvent.action == wanted.action)
    if wanted.without_care_relationship:
        # Staff who were not members of a unit following the patient on the (Swedish) day of
        # the event: refused attempts, enrolment checks, anything that got past the rules.
        day = local_date(AuditEvent.at)
        query = query.where(
            acting.role.in_(_STAFF_ROLES),
            ~had_care_relationship(AuditEvent.user_id, AuditEvent.patient_id, day),
        )
    if wanted.exclude_own:
        query = query.where(or_(AuditEvent.user_id.is_(None), AuditEvent.user_id != manager.id))
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


def new_seed() -> int:
    """A six-digit number to draw a sample with (easy to write down in the review's notes)."""
    return 100_000 + secrets.randbelow(900_000)


def _sampled(
    query: Select[AuditEvent, User, Patient], size: int, seed: int
) -> tuple[Sequence[Row[AuditEvent, User, Patient]], int]:
    """`size` events drawn at random from those `query` matches, and how many it matched.

    The draw is reproducible: the matching ids in ascending order, shuffled by a generator
    seeded with `seed`, so the same seed over the same events (a period that has ended) draws
    the same sample again, for the review's record. Two queries whatever the size.
    """
    ids = list(
        db.session.scalars(query.with_only_columns(AuditEvent.id).order_by(None).order_by(AuditEvent.id))
    )
    # Not for secrecy: a reproducible draw for an audit. The seed itself comes from `secrets`.
    chosen = random.Random(seed).sample(ids, min(size, len(ids)))  # noqa: S311
    results = db.session.execute(query.where(AuditEvent.id.in_(chosen))).all() if chosen else []
    return results, len(ids)


def _review_detail(wanted: LogFilter, seed: int | None) -> str | None:
    """What the log keeps about a review: the sample drawn, never the names searched for."""
    return None if wanted.sample is None else f"sample {wanted.sample}, seed {seed}"


def search_log(manager: User, wanted: LogFilter) -> LogPage:
    """Events about the manager's units' patients matching `wanted`, newest first: at most
    PAGE_LIMIT, or the random sample asked for."""
    _require_manager(manager)
    query = _scoped_query(manager, wanted)
    if wanted.sample is not None:
        seed = wanted.seed if wanted.seed is not None else new_seed()
        results, population = _sampled(query, wanted.sample, seed)
        page = LogPage([_row(*result) for result in results], False, population, seed)
    else:
        results = db.session.execute(query.limit(PAGE_LIMIT + 1)).all()
        rows = [_row(*result) for result in results]
        page = LogPage(rows[:PAGE_LIMIT], len(rows) > PAGE_LIMIT)
    audit.record(
        AuditAction.VIEW, user=manager, object_type="audit_log",
        detail=_review_detail(wanted, page.seed),
    )
    return page


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
    "description",
)


def export_log(manager: User, wanted: LogFilter) -> str:
    """Every matching event (or the sample, with the seed given) as CSV (UTF-8, times in
    Swedish local time); audited as export. The codes come with their meaning in words.

    The personal identity number stays masked as on screen: the review needs who and when,
    not the full number.
    """
    _require_manager(manager)
    query = _scoped_query(manager, wanted)
    seed = None
    if wanted.sample is not None:
        seed = wanted.seed if wanted.seed is not None else new_seed()
        results, _population = _sampled(query, wanted.sample, seed)
    else:
        results = db.session.execute(query).all()
    rows = []
    for result in results:
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
                f"{event_text(row.action, row.object_type)} ({outcome_text(row.outcome)})",
            )
        )
    audit.record(
        AuditAction.EXPORT, user=manager, object_type="audit_log",
        detail=_review_detail(wanted, seed),
    )
    return csv_text(CSV_COLUMNS, rows)


@dataclass(frozen=True)
class AccessRow:
    """One time a member of staff opened or changed the patient's record."""

    at: datetime
    staff_name: str
    role: str
    units: Sequence[str]
    action: str
    object_type: str | None = None


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
        rows.append(
            AccessRow(event.at, staff.name, staff.role, units, event.action, event.object_type)
        )
    # EHR integrations (the FHIR API) read as their unit's credential, not as a person.
    integration_reads = (
        select(AuditEvent, ApiClient, CareUnit)
        .join(ApiClient, AuditEvent.api_client_id == ApiClient.id)
        .join(CareUnit, ApiClient.unit_id == CareUnit.id)
        .where(AuditEvent.patient_id == patient.id, AuditEvent.outcome == "ok")
    )
    for event, client, unit in db.session.execute(integration_reads):
        rows.append(AccessRow(event.at, client.name, "api_client", [unit.name], event.action, "fhir_api"))
    rows.sort(key=lambda row: row.at, reverse=True)
    audit.record(AuditAction.VIEW, user=user, patient=patient, object_type="access_log")
    return rows
