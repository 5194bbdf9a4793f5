"""Raising, closing and acknowledging flags, and the open flags of one patient."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.orm import aliased

from pallapp import audit, scoring
from pallapp.access import Need, NotVisible
from pallapp.extensions import db
from pallapp.models import Assessment, AuditAction, Flag, Patient, User, utcnow
from pallapp.refusals import Reason, Refusal

NOTE_MAX_LENGTH = 1000


class FlagRefused(Refusal):
    """The flag cannot be acknowledged; `reason` says why in words."""


@functools.cache
def current_versions() -> ColumnElement[bool]:
    """Condition: the assessment has not been superseded by a correction.

    Built once: it has no parameters, an expression can be part of any number of statements,
    and making the alias it needs cost a submitted assessment more than its scoring (the
    submit reads the previous assessment and the next later one with it)."""
    newer = aliased(Assessment)
    return ~exists(select(newer.id).where(newer.supersedes_id == Assessment.id))


def new_flag(
    patient: Patient,
    rule_flag: scoring.Flag,
    *,
    source: str,
    assessment_id: int | None = None,
    params: Mapping[str, Any] | None = None,
    created_at: datetime | None = None,
) -> Flag:
    """A flag row for what a rule raised (not yet added to the session). `params` adds to the
    rule's own parameters (e.g. the dose the flag is about)."""
    flag = Flag(
        patient_id=patient.id,
        assessment_id=assessment_id,
        source=source,
        code=rule_flag.code,
        severity=rule_flag.severity,
        items=list(rule_flag.items),
        params={**rule_flag.params, **(params or {})},
    )
    if created_at is not None:
        flag.created_at = created_at
    return flag


def close(
    flag: Flag, now: datetime, reason: str, user: User | None, note: str | None = None
) -> None:
    """Close `flag` (never deleted): by `user`, or by the system when None."""
    flag.closed_at = now
    flag.close_reason = reason
    flag.closed_by_id = user.id if user is not None else None
    if note is not None:
        flag.note = note


def open_flags(patient: Patient, code: str | None = None) -> list[Flag]:
    """The patient's open flags (of one `code`), oldest first."""
    query = select(Flag).where(Flag.patient_id == patient.id, Flag.closed_at.is_(None))
    if code is not None:
        query = query.where(Flag.code == code)
    return list(db.session.scalars(query.order_by(Flag.id)))


def flag_of(patient: Patient, flag_public_id: str) -> tuple[Flag, str | None]:
    """One of the patient's flags with its assessment's instrument; another patient's flag
    does not exist (`NotVisible`)."""
    row = db.session.execute(
        select(Flag, Assessment.instrument)
        .outerjoin(Assessment, Assessment.id == Flag.assessment_id)
        .where(Flag.public_id == flag_public_id, Flag.patient_id == patient.id)
    ).first()
    if row is None:
        raise NotVisible(patient.public_id, Need.CHANGE, patient)
    return row[0], row[1]


def acknowledge(user: User, patient: Patient, flag: Flag, note: str) -> Flag:
    """Close an open flag as acknowledged by `user`, with a note on what was done; audited.

    Refuses an empty or too long note and a flag that is no longer open. The flag stays in the
    patient's flag history with who closed it and when.
    """
    note = (note or "").strip()
    if not note:
        raise FlagRefused(Reason.NOTE_REQUIRED)
    if len(note) > NOTE_MAX_LENGTH:
        raise FlagRefused(Reason.NOTE_TOO_LONG)
    if not flag.is_open:
        raise FlagRefused(Reason.ALREADY_CLOSED)
    close(flag, utcnow(), "acknowledged", user, note)
    db.session.flush()
    audit.record(AuditAction.UPDATE, user=user, patient=patient, obj=flag, detail="acknowledged")
    return flag
