"""Three months of demo ratings, entered through the same service as real ones.

Patterns (fixed seed, so the demo is the same every time): most patients are stable with
small ups and downs; every fifth is deteriorating over the last three weeks; the patients in
the end-of-life phase get staff ratings (IPOS staff, Abbey, ROAG) every other day in their last
week. Flags come from the real rules, so what the overview shows is what the rules raise.

For the quality indicators: two patients died in the last months (`DIED_DAYS_AGO`; their
ratings stop at death, with staff ratings in their last week, one of them without ROAG) and two
have not been rated yet (`NOT_RATED`).
"""

from __future__ import annotations

import random
from datetime import timedelta
from uuid import UUID

from sqlalchemy import select

from pallapp import scoring
from pallapp.assessments.services import submit_assessment
from pallapp.extensions import db
from pallapp.models import Assessment, Flag, Patient, Phase, Respondent, User, utcnow

HISTORY_DAYS = 90
ESAS_ITEMS = tuple(item.code for item in scoring.INSTRUMENTS["esas_r"].items if not item.optional)
IPOS_ITEMS = scoring.INSTRUMENTS["ipos_staff"].item_codes
ABBEY_ITEMS = scoring.INSTRUMENTS["abbey"].item_codes
ROAG_AREAS = scoring.INSTRUMENTS["roag"].item_codes
#: Demo patients (by index) who died, and how many days ago (pallapp.demo_careplan records the
#: deaths). Lena Larsson (palliative team) and Elsa Lundberg (shared care).
DIED_DAYS_AGO = {5: 45, 26: 20}
#: Demo patients not rated yet (Margareta Svensson, Åke Lundgren): the quality report misses them.
NOT_RATED = frozenset({8, 28})


def _token(rng: random.Random) -> str:
    return UUID(int=rng.getrandbits(128)).hex


def _clamp(value: float, low: int, high: int) -> int:
    return max(low, min(high, round(value)))


def _esas(rng: random.Random, level: float) -> dict[str, object]:
    return {code: _clamp(level + rng.gauss(0, 0.8), 0, 10) for code in ESAS_ITEMS}


def load_demo_history(nurse: User, patients: list[Patient], self_user: User) -> int:
    """Create the histories; returns how many assessments were stored."""
    rng = random.Random(9021)
    now = utcnow()
    stored = 0
    for index, patient in enumerate(patients):
        deteriorating = index % 5 == 1
        end_of_life = patient.phase == Phase.END_OF_LIFE
        base = rng.uniform(1.0, 3.0)
        if index in NOT_RATED:
            continue
        died = DIED_DAYS_AGO.get(index, 0)
        # Ratings from three months ago, or from enrolment if that is later.
        days_enrolled = (now.date() - patient.enrolled_on).days
        first_days_ago = min(HISTORY_DAYS, days_enrolled - 1)  # never before enrolment
        for days_ago in range(first_days_ago, died, -7):
            when = now - timedelta(days=days_ago, hours=rng.randint(0, 6))
            level = base
            if deteriorating and days_ago <= 21:
                level = base + (21 - days_ago) / 3  # up to about +7 points on the last visit
            answers = _esas(rng, level)
            submit_assessment(
                nurse, patient.public_id, instrument="esas_r", answers=answers,
                client_token=_token(rng), respondent=Respondent.PATIENT, observed_at=when,
            )
            stored += 1
            if days_ago % 14 < 7:
                ipos: dict[str, int | str] = {
                    code: _clamp(level / 2.5 + rng.gauss(0, 0.7), 0, 4) for code in IPOS_ITEMS
                }
                submit_assessment(
                    nurse, patient.public_id, instrument="ipos_patient", answers=ipos,
                    client_token=_token(rng), respondent=Respondent.PATIENT, observed_at=when,
                )
                stored += 1
        if end_of_life or died:
            # The last week (of life, for those who died): staff ratings every other day; one of
            # the deceased had no ROAG then.
            with_roag = index != 26
            for days_ago in (died + 6, died + 4, died + 2):
                when = now - timedelta(days=days_ago, hours=2)
                staff_level = 1.5 + (6 - (days_ago - died)) / 3
                ipos = {code: _clamp(staff_level + rng.gauss(0, 0.6), 0, 4) for code in IPOS_ITEMS}
                ipos["sharing_feelings"] = scoring.CANNOT_ASSESS
                abbey: dict[str, int | str] = {
                    code: _clamp(staff_level / 1.5 + rng.gauss(0, 0.5), 0, 3) for code in ABBEY_ITEMS
                }
                roag: dict[str, int | str] = {
                    code: _clamp(1 + staff_level / 2.5 + rng.gauss(0, 0.4), 1, 3) for code in ROAG_AREAS
                }
                roag["dentures"] = scoring.NOT_APPLICABLE
                staff_ratings = [("ipos_staff", ipos), ("abbey", abbey)]
                if with_roag:
                    staff_ratings.append(("roag", roag))
                for code, staff_answers in staff_ratings:
                    submit_assessment(
                        nurse, patient.public_id, instrument=code, answers=staff_answers,
                        client_token=_token(rng), observed_at=when,
                    )
                    stored += 1
    # Flags older than ten days were dealt with at the visits that followed.
    handled_before = now - timedelta(days=10)
    for flag in db.session.scalars(
        select(Flag).join(Assessment).where(Assessment.observed_at < handled_before)
    ):
        flag.closed_at = flag.created_at
        flag.closed_by_id = nurse.id
        flag.close_reason = "acknowledged"
        flag.note = "Handled at the home visit (demo)."
    # The demo patient's own report this morning.
    own = self_user.patient
    if own is not None:
        submit_assessment(
            self_user, own.public_id, instrument="esas_r",
            answers=dict(_esas(rng, 3.0), pain=6), client_token=_token(rng),
        )
        stored += 1
    return stored
