"""The flag pages: a patient's flag history and acknowledging a flag (the lifecycle itself is
in `pallapp.flags`)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from pallapp import audit, flags
from pallapp.access import Need
from pallapp.extensions import db
from pallapp.models import (
    Assessment,
    AuditAction,
    Flag,
    Patient,
    User,
)
from pallapp.paging import Page, fetch_page
from pallapp.review.common import find_for_review


@dataclass(frozen=True)
class FlagEntry:
    """A flag as the review pages show it: what it is, and who closed it when."""

    flag: Flag
    instrument: str | None
    closed_by: User | None


def patient_flags(
    user: User, patient_public_id: str, page: int = 1
) -> tuple[Patient, Page[FlagEntry]]:
    """The patient's flags, open ones first, then newest first, one page at a time; audited."""
    patient = find_for_review(user, patient_public_id, Need.VIEW_HISTORY)
    query = (
        select(Flag, Assessment.instrument)
        .outerjoin(Assessment, Assessment.id == Flag.assessment_id)
        .where(Flag.patient_id == patient.id)
        .order_by(Flag.closed_at.is_(None).desc(), Flag.created_at.desc(), Flag.id.desc())
    )
    rows = fetch_page(query, page, scalars=False)
    closer_ids = {flag.closed_by_id for flag, _instrument in rows.items if flag.closed_by_id}
    closers = (
        {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(closer_ids)))}
        if closer_ids
        else {}
    )
    entries = [
        FlagEntry(flag, instrument, closers.get(flag.closed_by_id or 0))
        for flag, instrument in rows.items
    ]
    audit.record(
        AuditAction.VIEW, user=user, patient=patient, object_type="flag_history",
        detail=f"page {page}" if page > 1 else None,
    )
    return patient, Page(entries, rows.number, rows.has_next)


def flag_to_acknowledge(
    user: User, patient_public_id: str, flag_public_id: str
) -> tuple[Patient, Flag, str | None]:
    """The flag, for the acknowledge form: staff who may change the record only; audited."""
    patient = find_for_review(user, patient_public_id, Need.CHANGE)
    flag, instrument = flags.flag_of(patient, flag_public_id)
    audit.record(AuditAction.VIEW, user=user, patient=patient, obj=flag)
    return patient, flag, instrument


def acknowledge_flag(user: User, patient_public_id: str, flag_public_id: str, note: str) -> Flag:
    """Close an open flag as acknowledged, with a note on what was done.

    Only nurses and physicians of the patient's units (access `Need.CHANGE`); anyone else gets
    `NotVisible`. Raises `flags.FlagRefused` for an empty or too long note and for a flag
    that is no longer open. The flag stays in the
    patient's flag history with who closed it and when.
    """
    patient = find_for_review(user, patient_public_id, Need.CHANGE)
    flag, _instrument = flags.flag_of(patient, flag_public_id)
    return flags.acknowledge(user, patient, flag, note)
