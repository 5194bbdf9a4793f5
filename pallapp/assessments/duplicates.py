"""The second guard against storing the same assessment twice.

The first guard is the form token: one form instance stores at most one assessment, however
often it is sent (double tap, Back, a retried or queued post). This one catches what the token
cannot: the same answers typed into a second form (a nurse unsure whether the first one went
through, a device whose stored draft was lost). It never refuses: the user is asked, because
two identical ratings ten minutes apart can be real.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy import select

from pallapp.extensions import db
from pallapp.models import Assessment, Patient, Respondent, User

#: How far back an identical answer set counts as a probable duplicate. A project choice: a
#: home visit's forms are filled within minutes; ten minutes covers a retry after a dropped
#: connection, and a real re-rating of the same patient is rarely that soon.
IDENTICAL_WINDOW = timedelta(minutes=10)


class IdenticalRecently(Exception):
    """An assessment with the same answers was stored a moment ago; ask before another."""

    def __init__(self, existing: Assessment) -> None:
        super().__init__("identical_recently")
        self.existing = existing


def identical_recently(
    user: User,
    patient: Patient,
    instrument: str,
    respondent: Respondent,
    answers: Mapping[str, object],
    now: datetime,
) -> Assessment | None:
    """The newest assessment of `patient` with this instrument, respondent and answers that
    `user` entered in the last `IDENTICAL_WINDOW` (corrections are not counted: they are new
    versions on purpose)."""
    candidates = db.session.scalars(
        select(Assessment)
        .where(
            Assessment.patient_id == patient.id,
            Assessment.instrument == instrument,
            Assessment.respondent == respondent.value,
            Assessment.entered_by_id == user.id,
            Assessment.supersedes_id.is_(None),
            Assessment.created_at >= now - IDENTICAL_WINDOW,
        )
        .order_by(Assessment.created_at.desc())
    )
    wanted = dict(answers)
    for candidate in candidates:
        if dict(candidate.answers) == wanted:
            return candidate
    return None
