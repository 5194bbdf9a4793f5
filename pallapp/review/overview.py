"""The unit overview: the patients of the user's units, most in need of attention first.

Pages that list many patients fetch each kind of data in one query for all of them (open flags,
latest ratings), so the number of queries does not grow with the number of patients (DESIGN.md)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import ScalarSelect, Select, String, and_, cast, func, or_, select

from pallapp import audit, carerecord, flags, scoring
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
from pallapp.review import compact, ordering
from pallapp.review.common import (
    ACTIVE_PHASES,
    DOSE_WINDOW,
    KeyScore,
    NotAReviewer,
    in_units,
    is_reviewer,
    key_scores,
    last_symptom_rating,
    latest_ratings,
    reviewer_units,
    with_answers,
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
    worst_band: str | None = None
    worst_items: list[ordering.WorstItem] = field(default_factory=list)
    newest_rise: datetime | None = None
    worst_flag: str | None = None
    flag_groups: list[ordering.GroupedFlags] = field(default_factory=list)
    details: compact.RowDetails | None = None
    units: list[str] = field(default_factory=list)  # names of the units now following

    @property
    def last_rating_on(self) -> date | None:
        """The day (in Sweden) of the last symptom rating."""
        if self.last_rating_at is None:
            return None
        return self.last_rating_at.astimezone(STOCKHOLM).date()

    @property
    def rating_age_days(self) -> int | None:
        on = self.last_rating_on
        return None if on is None else (today_local() - on).days


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

    Order: clinical need (`pallapp.review.ordering`): the most severe open flag, the worst
    current item band, the newest rise, overdue ratings, then name. The order is worked out for
    every patient from grouped queries (flag facts, the latest key ratings); grouped flags,
    doses and care-plan details are loaded for the patients of `page` only. `unit_public_id` narrows to one of the user's
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
    # The order needs a few columns of every patient, read with the patients in one query:
    # names, phase, open flags (`ordering.flag_fact_columns`) and the units now following
    # them; whole records are loaded for the page's rows only.
    candidates = db.session.execute(
        visible_patients(user, Need.VIEW)
        .where(condition)
        .with_only_columns(
            Patient.id,
            Patient.phase,
            Patient.family_name,
            Patient.given_name,
            _active_unit_ids(day),
            *ordering.flag_fact_columns(),
        )
    ).all()
    if not candidates:
        return overview
    # The ids as a list keep the visible-patients condition out of the query of the latest
    # ratings (it would be repeated once per instrument).
    ids = [candidate.id for candidate in candidates]
    # The latest of each key instrument for every patient, in one query: the order needs the
    # item bands, the overdue rule the moments, the shown rows the key scores.
    latest = latest_ratings(ids)
    intervals = _RatingIntervals(candidate[4] for candidate in candidates)
    banded = ordering.banded_instruments()
    now = utcnow()
    needs = []
    facts: dict[int, ordering.FlagFacts] = {}
    for patient_id, patient_phase, family_name, given_name, unit_list, *flag_columns in candidates:
        mine = latest.get(patient_id, {})
        moments = {code: r.observed_at for code, r in mine.items() if code in scoring.SYMPTOM_INSTRUMENTS}
        flag_facts = facts[patient_id] = ordering.FlagFacts.from_columns(*flag_columns)
        interval_days = intervals(unit_list, patient_phase)
        need = ordering.ClinicalNeed(
            worst_flag=flag_facts.worst,
            worst_band=ordering.worst_band(mine, banded),
            newest_rise=flag_facts.newest_rise,
            overdue=flags.rating_overdue(moments, now, interval_days),
            last_rating_at=last_symptom_rating(moments),
            family_name=family_name,
            given_name=given_name,
        )
        needs.append((ordering.need_key(need), patient_id, need, interval_days))
    # Equal needs by patient id, last: without it their order (and which of them a page break
    # falls between) would be whatever the database returned, and could change between requests.
    needs.sort(key=lambda entry: (entry[0], entry[1]))
    overview.total = len(needs)
    on_page = needs[overview.first - 1 : overview.first - 1 + overview.page_size]
    if not on_page:
        raise LookupError(f"page {page}")
    shown = [patient_id for _key, patient_id, _need, _days in on_page]
    patients = {
        patient.id: patient
        for patient in db.session.scalars(visible_patients(user, Need.VIEW).where(Patient.id.in_(shown)))
    }
    unit_names = _active_unit_names(shown, day)
    # The worst items name their values: the answers of the rows shown.
    banded_codes = {instrument for instrument, _definition in banded}
    with_answers(
        rating
        for patient_id in shown
        for code, rating in latest.get(patient_id, {}).items()
        if code in banded_codes
    )
    for _key, patient_id, need, interval_days in on_page:
        mine = latest.get(patient_id, {})
        flag_facts = facts[patient_id]
        worst_band, worst_items = ordering.worst_items(mine, banded)
        overview.rows.append(
            OverviewRow(
                patient=patients[patient_id],
                counts=flags.FlagCounts(flag_facts.high, flag_facts.medium),
                open_flags=[],
                scores=key_scores(mine),
                last_rating_at=need.last_rating_at,
                interval_days=interval_days,
                overdue=need.overdue,
                worst_band=worst_band,
                worst_items=worst_items,
                newest_rise=need.newest_rise,
                worst_flag=need.worst_flag,
                units=unit_names.get(patient_id, []),
            )
        )
    groups = ordering.grouped_open_flags(shown)
    doses = dose_counts_last_24h(shown)
    details = compact.row_details(overview.rows)
    for row in overview.rows:
        row.flag_groups = groups.get(row.patient.id, [])
        row.doses_24h = doses.get(row.patient.id, {})
        row.details = details.get(row.patient.id, compact.RowDetails())
    audit.record_for_patients(
        AuditAction.VIEW,
        [row.patient for row in overview.rows],
        user=user,
        object_type="unit_overview",
    )
    return overview


def _active_unit_ids(day: date) -> ScalarSelect[Any]:
    """A column of a query of patients: the ids of the units now following each patient,
    comma-separated, in no particular order."""
    return (
        select(func.aggregate_strings(cast(PatientUnit.unit_id, String), ","))
        .where(
            PatientUnit.patient_id == Patient.id,
            PatientUnit.start <= day,
            or_(PatientUnit.end.is_(None), PatientUnit.end > day),
        )
        .scalar_subquery()
    )


class _RatingIntervals:
    """The rating interval of a patient (`flags.rating_interval_for`) from the ids of the units
    now following them (`_active_unit_ids`): worked out once for each set of units and phase,
    the units of every list read in one query."""

    def __init__(self, unit_lists: Iterable[str | None]) -> None:
        self._known: dict[tuple[str | None, str], int] = {}
        self._ids = {unit_list: _unit_ids(unit_list) for unit_list in set(unit_lists)}
        wanted = {unit_id for ids in self._ids.values() for unit_id in ids}
        self._units = (
            {unit.id: unit for unit in db.session.scalars(select(CareUnit).where(CareUnit.id.in_(wanted)))}
            if wanted
            else {}
        )

    def __call__(self, unit_list: str | None, phase: str) -> int:
        key = (unit_list, phase)
        days = self._known.get(key)
        if days is None:
            units = [self._units[unit_id] for unit_id in self._ids[unit_list]]
            days = self._known[key] = flags.rating_interval_for(units, phase)
        return days


def _unit_ids(unit_list: str | None) -> list[int]:
    return sorted({int(part) for part in unit_list.split(",")}) if unit_list else []


def _active_unit_names(patient_ids: list[int], day: date) -> dict[int, list[str]]:
    """The names of the units now following each patient, in the order they began."""
    names: dict[int, list[str]] = defaultdict(list)
    for patient_id, name in db.session.execute(
        select(PatientUnit.patient_id, CareUnit.name)
        .join(CareUnit, CareUnit.id == PatientUnit.unit_id)
        .where(
            PatientUnit.patient_id.in_(patient_ids),
            PatientUnit.start <= day,
            or_(PatientUnit.end.is_(None), PatientUnit.end > day),
        )
        .order_by(PatientUnit.patient_id, PatientUnit.start, PatientUnit.id)
    ):
        names[patient_id].append(name)
    return names


def dose_counts_last_24h(patient_ids: Select[Any] | list[int]) -> dict[int, dict[str, int]]:
    """Doses in the last 24 hours per patient and indication, one query for all patients."""
    return carerecord.dose_counts_by_indication(patient_ids, utcnow() - DOSE_WINDOW)
