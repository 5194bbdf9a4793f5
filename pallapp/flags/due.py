"""The one due/overdue rule: reminder flags (as-needed orders missing, ratings overdue) opened
when due and closed when no longer due, and the overview's "overdue" mark read from the same
intervals."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    CompoundSelect,
    Select,
    String,
    Table,
    bindparam,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import selectinload

from pallapp import audit, scoring
from pallapp.extensions import db
from pallapp.flags.orders import ShownOrder, open_orders, order_rule
from pallapp.flags.plan import PlanLine, line_status
from pallapp.flags.settings import interval_thresholds, rating_interval_days
from pallapp.flags.store import close, new_flag, open_flags
from pallapp.models import (
    Assessment,
    AuditAction,
    Flag,
    Milestone,
    MilestoneKind,
    Patient,
    PatientUnit,
    Phase,
    PrnOrder,
    User,
    utcnow,
)
from pallapp.timeutil import STOCKHOLM

if TYPE_CHECKING:  # carerecord reads through flags: imported for the types only
    from pallapp.carerecord import ShownMilestone


def end_of_life_since(
    patient: Patient, milestones: list[Milestone] | list[ShownMilestone] | None = None
) -> datetime | None:
    """When the end-of-life phase began: the start (Swedish time) of the day of the latest
    brytpunktssamtal; for a patient put in that phase without one recorded, the enrolment.
    `milestones`: all the patient's milestones if the caller has loaded them already."""
    if patient.phase != Phase.END_OF_LIFE:
        return None
    kind = MilestoneKind.BRYTPUNKTSSAMTAL.value
    if milestones is None:
        day = db.session.scalar(
            select(Milestone.occurred_on)
            .where(Milestone.patient_id == patient.id, Milestone.kind == kind)
            .order_by(Milestone.occurred_on.desc())
            .limit(1)
        )
    else:
        day = max((m.occurred_on for m in milestones if m.kind == kind), default=None)
    day = day or patient.enrolled_on
    return datetime.combine(day, time(0), tzinfo=STOCKHOLM)


def is_overdue(patient: Patient, latest: dict[str, datetime], now: datetime) -> bool:
    """The overview's "overdue" mark: the symptom-rating line of the phase's default reporting
    plan is due (`pallapp.flags.plan.line_status`, the one due rule, which holds exactly when
    INSTRUMENTS.md `assessment_overdue` does), with the interval of the patient's units.
    `latest` maps instrument -> when its latest rating applies; never rated: due at once."""
    return rating_overdue(latest, now, rating_interval_days(patient, now.astimezone(STOCKHOLM).date()))


def rating_overdue(latest: dict[str, datetime], now: datetime, interval_days: int) -> bool:
    """`is_overdue` with the patient's interval already worked out (`rating_interval_for`)."""
    line = PlanLine("esas_r", "patient", interval_days)  # any symptom rating answers it
    return line_status(line, latest, now, since=now).is_due


@functools.cache
def latest_ratings_query() -> CompoundSelect[str, datetime | None]:
    # The rules only look at the latest assessment of each instrument up to `now`. One
    # `max` per instrument, which the index on (patient, instrument, observed_at) answers from
    # its newest end: grouping every assessment of the patient grew with three years of
    # history. Built once (the patient page evaluates reminders on every view), the values
    # bound at each call; an instrument never rated answers NULL and is left out.
    latest = []
    for instrument in scoring.INSTRUMENTS:
        newest = (
            select(func.max(Assessment.observed_at))
            .where(
                Assessment.patient_id == bindparam("patient_id"),
                Assessment.instrument == instrument,
                Assessment.observed_at <= bindparam("now"),
            )
            .scalar_subquery()
        )
        latest.append(select(literal(instrument, String), newest))
    return union_all(*latest)


def reminders_due(
    patient: Patient,
    now: datetime,
    orders: Sequence[PrnOrder | ShownOrder] | None = None,
    milestones: list[Milestone] | list[ShownMilestone] | None = None,
    latest: Sequence[tuple[str, datetime | None]] | None = None,
) -> list[scoring.Flag]:
    """The reminder flags the rules raise for the patient at `now`. `orders`, `milestones` and
    `latest`: the patient's `open_orders` at `now`, all their milestones and the rows of
    `latest_ratings_query` at `now`, if the caller has them."""
    units = [episode.unit for episode in patient.active_episodes(now.astimezone(STOCKHOLM).date())]
    if patient.phase in (Phase.DECEASED, Phase.DISCHARGED) or not units:
        return []
    thresholds = interval_thresholds(units)
    since = end_of_life_since(patient, milestones)
    if latest is None:
        # On the session's connection: a plain select, no ORM object to build (same
        # transaction).
        latest = list(
            db.session.connection().execute(
                latest_ratings_query(), {"patient_id": patient.id, "now": now}
            )
        )
    seen = [
        scoring.AssessmentSeen(instrument, observed_at)
        for instrument, observed_at in latest
        if observed_at is not None
    ]
    if orders is None:
        orders = open_orders(patient, now)
    rules = [order_rule(order) for order in orders]
    due = [
        scoring.prn_missing(rules, now, end_of_life_since=since),
        scoring.prn_limits_missing(rules, now),
        scoring.assessment_overdue(seen, now, end_of_life_since=since, thresholds=thresholds),
        scoring.roag_overdue(seen, now, end_of_life_since=since, thresholds=thresholds),
    ]
    return [flag for flag in due if flag is not None]


@dataclass(frozen=True, slots=True)
class OpenFlag:
    """An open flag read as plain columns, with the instrument and time of the rating that
    raised it (None for dose and reminder flags): what the patient page shows and the reminders
    compare. Building the ORM objects with their assessments cost more than the query."""

    id: int
    source: str
    code: str
    severity: str
    items: list[str]
    created_at: datetime
    instrument: str | None
    observed_at: datetime | None


@functools.cache
def open_flags_query() -> Select[Any]:
    # Built once (the patient page reads them on every view), the patient bound at each call.
    flags: Table = Flag.__table__  # type: ignore[assignment]  # a mapped class's table
    assessments: Table = Assessment.__table__  # type: ignore[assignment]
    return (
        select(
            flags.c.id,
            flags.c.source,
            flags.c.code,
            flags.c.severity,
            flags.c["items"],  # `.items` is the collection's method
            flags.c.created_at,
            assessments.c.instrument,
            assessments.c.observed_at,
        )
        .outerjoin(assessments, assessments.c.id == flags.c.assessment_id)
        .where(flags.c.patient_id == bindparam("patient_id"), flags.c.closed_at.is_(None))
    )


def open_flags_shown(patient: Patient) -> list[OpenFlag]:
    """The patient's open flags as plain values (on the session's connection, so the caller
    flushes what it changed first)."""
    rows = db.session.connection().execute(open_flags_query(), {"patient_id": patient.id})
    return [OpenFlag(*row) for row in rows]


@dataclass(frozen=True)
class ReminderChanges:
    opened: int
    closed: int


def evaluate_reminders(
    patient: Patient,
    *,
    now: datetime | None = None,
    user: User | None = None,
    orders: Sequence[PrnOrder | ShownOrder] | None = None,
    milestones: list[Milestone] | list[ShownMilestone] | None = None,
    open_now: Sequence[Flag | OpenFlag] | None = None,
    latest: Sequence[tuple[str, datetime | None]] | None = None,
) -> ReminderChanges:
    """Open the reminder flags that are due and close those no longer due.

    Idempotent: an open flag with the same code and items is left as it is. A due flag whose
    items changed (e.g. one more order added, one still missing) replaces the open one. Called
    by the services after relevant changes, by the patient page and by `flask reminders`;
    the caller has already checked that the patient may be seen.

    What the caller has loaded already (the patient page shows all three): `orders`, the
    patient's `open_orders` at `now` (or `shown_open_orders`); `milestones`, all their
    milestones (models or `carerecord.shown_milestones`); `open_now`, all their open flags
    (models, of which those closed here are closed on these objects, or `open_flags_shown`,
    which cannot change: read them again after a change; the opened ones are not added to the
    list); `latest`, the rows of `latest_ratings_query` at `now`.
    """
    now = now or utcnow()
    due = {flag.code: flag for flag in reminders_due(patient, now, orders, milestones, latest)}
    opened = closed = 0
    # Oldest first either way: of two open flags with one code, the older one is kept.
    current = open_flags(patient) if open_now is None else sorted(open_now, key=lambda f: f.id)
    for flag in current:
        if flag.source != "reminder":
            continue
        wanted = due.get(flag.code)
        if wanted is not None and list(wanted.items) == flag.items:
            del due[flag.code]  # still due, already open
        else:
            # A flag read as plain values is loaded to be closed (rare: a reminder no longer
            # due, or due for other items, since the last view).
            stored = flag if isinstance(flag, Flag) else db.session.get_one(Flag, flag.id)
            close(stored, now, "resolved" if wanted is None else "superseded", None)
            closed += 1
    for rule_flag in due.values():
        flag = new_flag(patient, rule_flag, source="reminder", created_at=now)
        db.session.add(flag)
        db.session.flush()
        audit.record(AuditAction.CREATE, user=user, patient=patient, obj=flag, detail="reminder")
        opened += 1
    db.session.flush()
    return ReminderChanges(opened, closed)


def evaluate_all_reminders(now: datetime | None = None) -> ReminderChanges:
    """`evaluate_reminders` for every patient followed by a unit today, or with an open
    reminder flag (for the CLI; a system task, not a user's read)."""
    now = now or utcnow()
    day = now.astimezone(STOCKHOLM).date()
    followed = select(PatientUnit.patient_id).where(
        PatientUnit.start <= day, or_(PatientUnit.end.is_(None), PatientUnit.end > day)
    )
    flagged = select(Flag.patient_id).where(Flag.source == "reminder", Flag.closed_at.is_(None))
    patients = db.session.scalars(
        select(Patient)
        .where(or_(Patient.id.in_(followed), Patient.id.in_(flagged)))
        .options(selectinload(Patient.episodes).selectinload(PatientUnit.unit))
        .order_by(Patient.id)
    )
    opened = closed = 0
    for patient in patients:
        changes = evaluate_reminders(patient, now=now)
        opened += changes.opened
        closed += changes.closed
    return ReminderChanges(opened, closed)


def close_reminders(patient: Patient, now: datetime, reason: str, user: User | None) -> None:
    """Close every open reminder flag of the patient (e.g. at death), by `user`."""
    for flag in open_flags(patient):
        if flag.source == "reminder":
            close(flag, now, reason, user)
