"""Expected levels, part of the flag lifecycle: staff mark a level of one item as expected for
a patient for a while, so that ratings at or below it raise no alert (against alert fatigue).
The flag still stands on the record and in the flag history; only the alert is held back
(`pallapp.alerts` asks `items_beyond_expected`), and the audit log says so.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, Table, bindparam, select

from pallapp import audit, scoring
from pallapp.access import Need, NotVisible, find_patient
from pallapp.extensions import db
from pallapp.models import Assessment, AuditAction, ExpectedLevel, Flag, Patient, User
from pallapp.refusals import Reason, Refusal

#: The longest a marking may last: two weeks, then it must be set again with a fresh look
#: (project choice: a level expected for longer belongs in the care plan and the thresholds).
MAX_DAYS = 14


class MarkingRefused(Refusal):
    """The marking cannot be saved as given; `reason` says why in words."""


def patient_to_mark(user: User, patient_public_id: str) -> Patient:
    """The patient, for the marking form (staff who may change the record); audited."""
    patient = find_patient(user, patient_public_id, Need.CHANGE)
    audit.record(AuditAction.VIEW, user=user, patient=patient, object_type="expected_level_form")
    return patient


def mark_expected(
    user: User,
    patient_public_id: str,
    *,
    instrument: str,
    item: str,
    level: int,
    days: int,
    reason: str,
    now: datetime,
) -> ExpectedLevel:
    """Mark `level` of `item` on `instrument` as expected for `days` days (staff who may
    change the record; a reason is required)."""
    patient = find_patient(user, patient_public_id, Need.CHANGE)
    definition = scoring.INSTRUMENTS.get(instrument)
    if definition is None or item not in {i.code for i in definition.items}:
        raise MarkingRefused(Reason.UNKNOWN_ITEM)
    item_definition = definition.item(item)
    if not item_definition.min <= level < item_definition.max:
        # At the top of the scale nothing could still alert: that is switching alerts off.
        raise MarkingRefused(Reason.LEVEL_OUT_OF_RANGE)
    if not 1 <= days <= MAX_DAYS:
        raise MarkingRefused(Reason.DAYS_OUT_OF_RANGE)
    if not reason.strip():
        raise MarkingRefused(Reason.MARKING_REASON_REQUIRED)
    marking = ExpectedLevel(
        patient_id=patient.id,
        instrument=instrument,
        item=item,
        level=level,
        reason=reason.strip(),
        set_by_id=user.id,
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    db.session.add(marking)
    db.session.flush()
    audit.record(AuditAction.CREATE, user=user, patient=patient, obj=marking)
    return marking


def end_marking(user: User, patient_public_id: str, marking_public_id: str, now: datetime) -> ExpectedLevel:
    """End a marking before it expires (staff who may change the record)."""
    patient = find_patient(user, patient_public_id, Need.CHANGE)
    marking = db.session.scalar(
        select(ExpectedLevel).where(
            ExpectedLevel.public_id == marking_public_id, ExpectedLevel.patient_id == patient.id
        )
    )
    if marking is None:
        raise NotVisible(patient_public_id, Need.CHANGE, patient)
    if marking.is_active_at(now):
        marking.ended_at = now
        marking.ended_by_id = user.id
        audit.record(AuditAction.UPDATE, user=user, patient=patient, obj=marking, detail="ended")
    return marking


@dataclass(frozen=True, slots=True)
class SetBy:
    name: str


@dataclass(frozen=True, slots=True)
class ShownMarking:
    """A marking as the patient page and the flag history show it, read as plain columns with
    the name of who set it (the template names them: read one by one, that was a query per
    marking)."""

    id: int
    public_id: str
    instrument: str
    item: str
    level: int
    reason: str
    created_at: datetime
    expires_at: datetime
    ended_at: datetime | None
    set_by: SetBy

    def is_active_at(self, moment: datetime) -> bool:
        # As the model says it.
        return self.created_at <= moment < self.expires_at and (
            self.ended_at is None or moment < self.ended_at
        )


def markings_for(patient: Patient, now: datetime, *, days_back: int = 30) -> list[ShownMarking]:
    """Markings in force now or ended within `days_back` days, newest first (for the patient
    page and the flag history; the caller has checked access and audits its page)."""
    since = now - timedelta(days=days_back)
    rows = db.session.connection().execute(
        _markings_query(), {"patient_id": patient.id, "since": since}
    )
    # The columns in the order of the fields, the name of who set it last.
    return [ShownMarking(*row[:-1], SetBy(row[-1])) for row in rows]  # type: ignore[call-arg]  # mypy cannot count a row's columns


@functools.cache
def _markings_query() -> Select[Any]:
    # Built once (the patient page shows the markings on every view), the values bound at
    # each call.
    markings: Table = ExpectedLevel.__table__  # type: ignore[assignment]  # a mapped class's table
    users: Table = User.__table__  # type: ignore[assignment]
    return (
        select(
            markings.c.id,
            markings.c.public_id,
            markings.c.instrument,
            markings.c.item,
            markings.c.level,
            markings.c.reason,
            markings.c.created_at,
            markings.c.expires_at,
            markings.c.ended_at,
            users.c.name,
        )
        .join(users, users.c.id == markings.c.set_by_id)
        .where(
            markings.c.patient_id == bindparam("patient_id"),
            markings.c.expires_at > bindparam("since"),
        )
        .order_by(markings.c.created_at.desc())
    )


def items_beyond_expected(patient: Patient, flag: Flag, now: datetime) -> list[str]:
    """The items of `flag` that are above every expected level in force at `now` (all of them
    when the flag has no assessment or no marking applies)."""
    assessment: Assessment | None = flag.assessment
    if assessment is None:
        return list(flag.items)
    markings = [
        marking
        for marking in db.session.scalars(
            select(ExpectedLevel).where(
                ExpectedLevel.patient_id == patient.id,
                ExpectedLevel.instrument == assessment.instrument,
                ExpectedLevel.item.in_(flag.items),
            )
        )
        if marking.is_active_at(now)
    ]
    beyond = []
    for item in flag.items:
        value = assessment.answers.get(item)
        expected = [m.level for m in markings if m.item == item]
        if isinstance(value, int) and expected and value <= max(expected):
            continue
        beyond.append(item)
    return beyond


def marking_labels(markings: list[ShownMarking]) -> dict[int, tuple[str, str]]:
    """For each marking: the instrument's title and the item's name, in the user's language."""
    from pallapp.i18n import gettext

    labels = {}
    for marking in markings:
        definition = scoring.INSTRUMENTS[marking.instrument]
        labels[marking.id] = (
            gettext(definition.title), gettext(definition.item(marking.item).score_label)
        )
    return labels


def expected_levels_panel(user: User, patient: Patient, now: datetime, may_change: bool) -> dict[str, object]:
    """What `alerts/_expected_levels.html` needs, for a patient page the caller has opened
    (and audited) already."""
    markings = markings_for(patient, now)
    return {
        "markings": markings,
        "marking_titles": marking_labels(markings),
        "now": now,
        "may_change": may_change,
    }
