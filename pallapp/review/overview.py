"""The unit overview: the patients of the user's units, most in need of attention first.

Pages that list many patients fetch each kind of data in one query for all of them (open flags,
latest ratings), so the number of queries does not grow with the number of patients (DESIGN.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_
from sqlalchemy.orm import selectinload

from pallapp import audit, carerecord, flags
from pallapp.access import Need, visible_patients
from pallapp.extensions import db
from pallapp.models import (
    AuditAction,
    CareUnit,
    Patient,
    PatientUnit,
    Phase,
    User,
    utcnow,
)
from pallapp.review.common import (
    ACTIVE_PHASES,
    DOSE_WINDOW,
    KeyScore,
    NotAReviewer,
    in_units,
    is_reviewer,
    key_scores,
    last_symptom_rating,
    latest_assessments,
    latest_moments,
    reviewer_units,
)
from pallapp.timeutil import STOCKHOLM, today_local


@dataclass
class OverviewRow:
    patient: Patient
    counts: flags.FlagCounts
    open_flags: list[flags.FlagGroup]
    scores: list[KeyScore]
    last_rating_at: datetime | None
    interval_days: int
    overdue: bool
    doses_24h: dict[str, int] = field(default_factory=dict)  # indication -> doses

    @property
    def rating_age_days(self) -> int | None:
        if self.last_rating_at is None:
            return None
        return (today_local() - self.last_rating_at.astimezone(STOCKHOLM).date()).days


#: Patients per overview page. The sort order covers every patient of the unit; only the rows
#: of one page are filled in and shown, so a page costs the same for a unit of 30 or of 300
#: patients (benchmarks/RESULTS.md: 110 patients took 200 ms of CPU and 208 KB of HTML).
OVERVIEW_PAGE_SIZE = 25


@dataclass
class Overview:
    units: list[CareUnit]
    unit: CareUnit | None
    phase: str | None
    rows: list[OverviewRow] = field(default_factory=list)  # this page's rows
    total: int = 0  # patients in the whole list
    page: int = 1
    page_size: int = OVERVIEW_PAGE_SIZE

    @property
    def first(self) -> int:
        """Position in the whole list of this page's first row (1-based)."""
        return (self.page - 1) * self.page_size + 1

    @property
    def last(self) -> int:
        return self.first + len(self.rows) - 1

    @property
    def number(self) -> int:  # the name the pager macro reads
        return self.page

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.last < self.total


def unit_overview(
    user: User, unit_public_id: str | None = None, phase: str | None = None, page: int = 1
) -> Overview:
    """The patients of the user's units, most in need of attention first, a page at a time.

    Order: open high flags, then open medium flags, then overdue ratings (longest since the
    last rating first), then name. The order is worked out for every patient from light
    queries (flag counts, when each instrument was last rated); scores, flags and doses are
    loaded for the patients of `page` only. `unit_public_id` narrows to one of the user's
    units (an unknown unit raises LookupError); `phase` to one phase (default: early and end of
    life). A page past the end raises LookupError.
    """
    if not is_reviewer(user):
        raise NotAReviewer()
    day = today_local()
    units = reviewer_units(user)
    unit = None
    if unit_public_id:
        unit = next((u for u in units if u.public_id == unit_public_id), None)
        if unit is None:
            raise LookupError(unit_public_id)
    if phase and phase not in {p.value for p in Phase}:
        raise LookupError(phase)
    overview = Overview(units=units, unit=unit, phase=phase or None, page=page)
    if not units:
        return overview
    unit_ids = [unit.id] if unit is not None else [u.id for u in units]
    phases = (phase,) if phase else ACTIVE_PHASES
    condition = and_(in_units(unit_ids, day), Patient.phase.in_(phases))
    patients = list(
        db.session.scalars(
            visible_patients(user, Need.VIEW)
            .where(condition)
            .options(selectinload(Patient.episodes).selectinload(PatientUnit.unit))
        )
    )
    if not patients:
        return overview
    # The patients are loaded already: their ids as a list keep the visible-patients condition
    # out of the queries below (it would be repeated once per instrument).
    ids = [patient.id for patient in patients]
    counts = flags.open_flag_counts(ids)
    moments = latest_moments(ids)
    now = utcnow()
    rows = []
    for patient in patients:
        mine = moments.get(patient.id, {})
        rows.append(
            OverviewRow(
                patient=patient,
                counts=counts.get(patient.id, flags.FlagCounts()),
                open_flags=[],
                scores=[],
                last_rating_at=last_symptom_rating(mine),
                interval_days=flags.rating_interval_days(patient, day),
                overdue=flags.is_overdue(patient, mine, now),
            )
        )
    oldest = datetime.min.replace(tzinfo=STOCKHOLM)
    rows.sort(
        key=lambda row: (
            -row.counts.high,
            -row.counts.medium,
            not row.overdue,
            row.last_rating_at or oldest,
            row.patient.family_name,
            row.patient.given_name,
        )
    )
    overview.total = len(rows)
    overview.rows = rows[overview.first - 1 : overview.first - 1 + overview.page_size]
    if not overview.rows:
        raise LookupError(f"page {page}")
    shown = [row.patient.id for row in overview.rows]
    groups = flags.open_flag_groups(shown)
    latest = latest_assessments(shown)
    doses = dose_counts_last_24h(shown)
    for row in overview.rows:
        row.open_flags = groups.get(row.patient.id, [])
        row.scores = key_scores(latest.get(row.patient.id, {}))
        row.doses_24h = doses.get(row.patient.id, {})
    audit.record_for_patients(
        AuditAction.VIEW,
        [row.patient for row in overview.rows],
        user=user,
        object_type="unit_overview",
    )
    return overview



def dose_counts_last_24h(patient_ids: Select[Any] | list[int]) -> dict[int, dict[str, int]]:
    """Doses in the last 24 hours per patient and indication, one query for all patients."""
    return carerecord.dose_counts_by_indication(patient_ids, utcnow() - DOSE_WINDOW)
