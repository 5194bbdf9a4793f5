"""Review use cases: acknowledging flags, the unit overview, trends and the patient summary.

Every function takes the acting user and goes through `pallapp.access`; every read and write of
patient data is audit-logged. Services flush; the request boundary commits once.

Pages that list many patients fetch each kind of data in one query for all of them (open flags,
latest ratings), so the number of queries does not grow with the number of patients (DESIGN.md).
"""

from __future__ import annotations

import dataclasses
import functools
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, and_, bindparam, exists, func, or_, select, union_all
from sqlalchemy.orm import aliased, selectinload

from pallapp import audit, scoring
from pallapp.access import Need, NotVisible, find_patient, visible_patients
from pallapp.careplan import services as careplan_services
from pallapp.extensions import db
from pallapp.models import (
    CARE_PLAN_FIELD_LABELS,
    Assessment,
    AuditAction,
    CareUnit,
    Flag,
    Patient,
    PatientUnit,
    Phase,
    PrnAdministration,
    PrnOrder,
    Role,
    User,
    utcnow,
)
from pallapp.paging import Page, fetch_page
from pallapp.review import compact, ordering
from pallapp.timeutil import STOCKHOLM, today_local

#: Instruments whose latest result the overview and the summary show.
KEY_INSTRUMENTS = ("esas_r", "ipos_patient", "ipos_staff", "abbey", "roag")
#: Roles that review patients and act on flags (managers read for quality work only).
REVIEWER_ROLES = (Role.NURSE, Role.PHYSICIAN)
#: Flag severities counted on the Today page and in the overview, most urgent first.
COUNTED_SEVERITIES = ("high", "medium")
#: Phases shown in the overview unless another phase is chosen.
ACTIVE_PHASES = (Phase.EARLY.value, Phase.END_OF_LIFE.value)
NOTE_MAX_LENGTH = 1000


class FlagRefused(Exception):
    """The flag cannot be acknowledged; `reason` is a code the view turns into words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NotAReviewer(Exception):
    """The user's role does not review patients (the view answers 403)."""


def is_reviewer(user: User) -> bool:
    return user.is_authenticated and user.role in REVIEWER_ROLES


def _current_versions():  # type: ignore[no-untyped-def]
    """Condition: the assessment has not been superseded by a correction."""
    newer = aliased(Assessment)
    return ~exists(select(newer.id).where(newer.supersedes_id == Assessment.id))


# --- Flags ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FlagCounts:
    high: int = 0
    medium: int = 0

    @property
    def any(self) -> bool:
        return bool(self.high or self.medium)


def open_flag_counts(patient_ids: Iterable[int] | Select[Any]) -> dict[int, FlagCounts]:
    """Open high and medium flags per patient, in one grouped query.

    `patient_ids` is a list of ids or a select of ids (a subquery keeps long lists out of SQL).
    Patients without open flags are missing from the result (use `.get(id, FlagCounts())`).
    """
    if not isinstance(patient_ids, Select):
        patient_ids = list(patient_ids)
        if not patient_ids:
            return {}
    query = (
        select(Flag.patient_id, Flag.severity, func.count(Flag.id))
        .where(
            Flag.patient_id.in_(patient_ids),
            Flag.closed_at.is_(None),
            Flag.severity.in_(COUNTED_SEVERITIES),
        )
        .group_by(Flag.patient_id, Flag.severity)
    )
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    for patient_id, severity, count in db.session.execute(query):
        counts[patient_id][severity] = count
    return {patient_id: FlagCounts(**by_severity) for patient_id, by_severity in counts.items()}


def _open_flags(patient_ids: Select[Any] | list[int]) -> dict[int, list[tuple[Flag, str | None]]]:
    """Open flags per patient (most severe first), each with its assessment's instrument."""
    severity_order = {"high": 0, "medium": 1, "info": 2}
    query = (
        select(Flag, Assessment.instrument)
        .outerjoin(Assessment, Assessment.id == Flag.assessment_id)
        .where(Flag.patient_id.in_(patient_ids), Flag.closed_at.is_(None))
        .order_by(Flag.created_at.desc(), Flag.id.desc())
    )
    flags: dict[int, list[tuple[Flag, str | None]]] = defaultdict(list)
    for flag, instrument in db.session.execute(query):
        flags[flag.patient_id].append((flag, instrument))
    for entries in flags.values():
        entries.sort(key=lambda entry: severity_order.get(entry[0].severity, 3))
    return flags


@dataclass(frozen=True)
class FlagGroup:
    """Open flags of one kind for one patient: what the overview shows (the items and dates
    are on the patient's own pages)."""

    code: str
    severity: str
    count: int


def open_flag_groups(patient_ids: list[int]) -> dict[int, list[FlagGroup]]:
    """Open flags per patient grouped by code and severity, most severe first, then the most
    recently raised kind first; one grouped query, no flag rows loaded."""
    severity_order = {"high": 0, "medium": 1, "info": 2}
    query = (
        select(Flag.patient_id, Flag.code, Flag.severity, func.count(Flag.id), func.max(Flag.id))
        .where(Flag.patient_id.in_(patient_ids), Flag.closed_at.is_(None))
        .group_by(Flag.patient_id, Flag.code, Flag.severity)
    )
    rows = sorted(
        db.session.execute(query),
        key=lambda row: (severity_order.get(row[2], 3), -row[4]),
    )
    groups: dict[int, list[FlagGroup]] = defaultdict(list)
    for patient_id, code, severity, count, _newest in rows:
        groups[patient_id].append(FlagGroup(code, severity, count))
    return groups


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
    patient = _find_for_review(user, patient_public_id, Need.VIEW_HISTORY)
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
    patient = _find_for_review(user, patient_public_id, Need.CHANGE)
    flag, instrument = _flag_of(patient, flag_public_id)
    audit.record(AuditAction.VIEW, user=user, patient=patient, obj=flag)
    return patient, flag, instrument


def _flag_of(patient: Patient, flag_public_id: str) -> tuple[Flag, str | None]:
    row = db.session.execute(
        select(Flag, Assessment.instrument)
        .outerjoin(Assessment, Assessment.id == Flag.assessment_id)
        .where(Flag.public_id == flag_public_id, Flag.patient_id == patient.id)
    ).first()
    if row is None:
        raise NotVisible(patient.public_id, Need.CHANGE, patient)
    return row[0], row[1]


def acknowledge_flag(user: User, patient_public_id: str, flag_public_id: str, note: str) -> Flag:
    """Close an open flag as acknowledged, with a note on what was done.

    Only nurses and physicians of the patient's units (access `Need.CHANGE`); anyone else gets
    `NotVisible`. Raises `FlagRefused("note_required")` for an empty note and
    `FlagRefused("already_closed")` if the flag is no longer open. The flag stays in the
    patient's flag history with who closed it and when.
    """
    patient = _find_for_review(user, patient_public_id, Need.CHANGE)
    flag, _instrument = _flag_of(patient, flag_public_id)
    note = (note or "").strip()
    if not note:
        raise FlagRefused("note_required")
    if len(note) > NOTE_MAX_LENGTH:
        raise FlagRefused("note_too_long")
    if not flag.is_open:
        raise FlagRefused("already_closed")
    flag.closed_at = utcnow()
    flag.closed_by_id = user.id
    flag.close_reason = "acknowledged"
    flag.note = note
    db.session.flush()
    audit.record(AuditAction.UPDATE, user=user, patient=patient, obj=flag, detail="acknowledged")
    return flag


def _find_for_review(user: User, patient_public_id: str, need: Need) -> Patient:
    """Review pages are for care staff; to everyone else the patient does not exist."""
    if not user.is_staff:
        raise NotVisible(patient_public_id, need, None)
    if need is Need.CHANGE and user.role not in REVIEWER_ROLES:
        raise NotVisible(patient_public_id, need, None)
    return find_patient(user, patient_public_id, need)


# --- Latest ratings ---------------------------------------------------------------------------


@functools.cache
def _newest_ids(instruments: tuple[str, ...]) -> Any:
    """A subquery of the ids of the latest current version of each of `instruments` for each
    patient in the expanding bind parameter `patient_ids`.

    One correlated `LIMIT 1` lookup per patient and instrument walks the index on (patient,
    instrument, observed_at) from its newest end, so the cost follows the number of patients,
    not the length of their history (benchmarks/RESULTS.md: a window function over every
    assessment made the overview grow with history). Built once per set of instruments:
    building the statement took longer than running it."""
    newest = []
    patient_ids = bindparam("patient_ids", expanding=True)
    for instrument in instruments:
        candidate = aliased(Assessment)
        newer = aliased(Assessment)
        newest_id = (
            select(candidate.id)
            .where(
                candidate.patient_id == Patient.id,
                candidate.instrument == instrument,
                ~exists(select(newer.id).where(newer.supersedes_id == candidate.id)),
            )
            .order_by(candidate.observed_at.desc(), candidate.id.desc())
            .limit(1)
            .scalar_subquery()
        )
        newest.append(select(newest_id.label("id")).where(Patient.id.in_(patient_ids)))
    return union_all(*newest).scalar_subquery()


@functools.cache
def _latest_rows_query(instruments: tuple[str, ...]) -> Any:
    return select(Assessment).where(Assessment.id.in_(_newest_ids(instruments)))


@functools.cache
def _latest_moments_query(instruments: tuple[str, ...]) -> Any:
    return select(Assessment.patient_id, Assessment.instrument, Assessment.observed_at).where(
        Assessment.id.in_(_newest_ids(instruments))
    )


def latest_assessments(
    patient_ids: list[int], instruments: Iterable[str] = KEY_INSTRUMENTS
) -> dict[int, dict[str, Assessment]]:
    """The latest current version of each instrument per patient, in one query."""
    instruments = tuple(instruments)
    latest: dict[int, dict[str, Assessment]] = defaultdict(dict)
    if not instruments or not patient_ids:
        return latest
    query = _latest_rows_query(instruments)
    for assessment in db.session.scalars(query, {"patient_ids": list(patient_ids)}):
        latest[assessment.patient_id][assessment.instrument] = assessment
    return latest


def latest_moments(
    patient_ids: list[int], instruments: Iterable[str] = tuple(sorted(scoring.SYMPTOM_INSTRUMENTS))
) -> dict[int, dict[str, datetime]]:
    """When the latest current version of each instrument applies, per patient: what the
    overdue rule needs, without loading answers and scores."""
    moments: dict[int, dict[str, datetime]] = defaultdict(dict)
    if not patient_ids:
        return moments
    query = _latest_moments_query(tuple(instruments))
    for patient_id, instrument, observed_at in db.session.execute(
        query, {"patient_ids": list(patient_ids)}
    ):
        moments[patient_id][instrument] = observed_at
    return moments


@dataclass(frozen=True)
class KeyScore:
    """One headline result: ESAS-r total, IPOS total, Abbey total and band, ROAG max grade."""

    instrument: str
    title: str  # msgid of the instrument title
    label: str  # msgid: what the value is
    value: int | None
    maximum: int | None
    band: str | None
    band_label: str | None  # msgid
    observed_at: datetime
    assessment: Assessment


def _band_label(bands: tuple[scoring.Band, ...], name: str | None) -> str | None:
    return next((band.label for band in bands if band.name == name), None)


def key_scores(latest: dict[str, Assessment]) -> list[KeyScore]:
    """The headline results of a patient's latest ratings, in a fixed order."""
    scores = []
    ipos = [latest[code] for code in ("ipos_patient", "ipos_staff") if code in latest]
    newest_ipos = max(ipos, key=lambda a: (a.observed_at, a.id)) if ipos else None
    for assessment in (latest.get("esas_r"), newest_ipos, latest.get("abbey"), latest.get("roag")):
        if assessment is None:
            continue
        definition = scoring.INSTRUMENTS[assessment.instrument]
        if definition.family == "roag":
            value = assessment.scores.get("max_grade")
            label, maximum = scoring.N_("Highest grade"), 3
        else:
            value = assessment.total
            label, maximum = definition.total_label or scoring.N_("Total score"), definition.total_max
        scores.append(
            KeyScore(
                instrument=assessment.instrument,
                title=definition.title,
                label=label,
                value=value,
                maximum=maximum,
                band=assessment.band,
                band_label=_band_label(definition.bands, assessment.band),
                observed_at=assessment.observed_at,
                assessment=assessment,
            )
        )
    return scores


def last_symptom_rating(latest: dict[str, datetime]) -> datetime | None:
    """When the latest IPOS, ESAS-r or Abbey applies (the instruments the interval counts);
    `latest` maps instrument -> when its latest rating applies."""
    moments = [moment for code, moment in latest.items() if code in scoring.SYMPTOM_INSTRUMENTS]
    return max(moments) if moments else None


def rating_interval_days(patient: Patient, day: date) -> int:
    """The strictest interval among the units now following the patient (end-of-life interval
    in that phase); the project default when no unit follows the patient."""
    end_of_life = patient.phase == Phase.END_OF_LIFE
    units = [episode.unit for episode in patient.active_episodes(day)]
    if not units:
        defaults = scoring.DEFAULT_THRESHOLDS
        return (
            defaults.assessment_interval_end_of_life_days
            if end_of_life
            else defaults.assessment_interval_days
        )
    if end_of_life:
        return min(unit.end_of_life_interval_days for unit in units)
    return min(unit.assessment_interval_days for unit in units)


def is_overdue(patient: Patient, latest: dict[str, datetime], now: datetime) -> bool:
    """INSTRUMENTS.md `assessment_overdue`, with the interval of the patient's units."""
    days = rating_interval_days(patient, now.astimezone(STOCKHOLM).date())
    thresholds = dataclasses.replace(
        scoring.DEFAULT_THRESHOLDS,
        assessment_interval_days=days,
        assessment_interval_end_of_life_days=days,
    )
    seen = [scoring.AssessmentSeen(code, moment) for code, moment in latest.items()]
    end_of_life_since = now if patient.phase == Phase.END_OF_LIFE else None
    flag = scoring.assessment_overdue(
        seen, now, end_of_life_since=end_of_life_since, thresholds=thresholds
    )
    return flag is not None


# --- Unit overview ----------------------------------------------------------------------------


@dataclass
class OverviewRow:
    patient: Patient
    counts: FlagCounts
    open_flags: list[FlagGroup]
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


def reviewer_units(user: User) -> list[CareUnit]:
    return sorted(user.active_units(today_local()), key=lambda unit: unit.name)


def _in_units(unit_ids: list[int], day: date):  # type: ignore[no-untyped-def]
    return exists(
        select(PatientUnit.id).where(
            PatientUnit.patient_id == Patient.id,
            PatientUnit.unit_id.in_(unit_ids),
            PatientUnit.start <= day,
            or_(PatientUnit.end.is_(None), PatientUnit.end > day),
        )
    )


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
    condition = and_(_in_units(unit_ids, day), Patient.phase.in_(phases))
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
    facts = ordering.flag_facts(ids)
    # The latest of each key instrument for every patient, in one query: the order needs the
    # item bands, the overdue rule the moments, the shown rows the key scores.
    latest = latest_assessments(ids)
    now = utcnow()
    rows = []
    for patient in patients:
        mine = latest.get(patient.id, {})
        moments = {code: a.observed_at for code, a in mine.items() if code in scoring.SYMPTOM_INSTRUMENTS}
        flag_facts = facts.get(patient.id, ordering.FlagFacts())
        worst_band, worst_items = ordering.worst_items(mine)
        rows.append(
            OverviewRow(
                patient=patient,
                counts=FlagCounts(flag_facts.high, flag_facts.medium),
                open_flags=[],
                scores=[],
                last_rating_at=last_symptom_rating(moments),
                interval_days=rating_interval_days(patient, day),
                overdue=is_overdue(patient, moments, now),
                worst_band=worst_band,
                worst_items=worst_items,
                newest_rise=flag_facts.newest_rise,
                worst_flag=flag_facts.worst,
            )
        )
    rows.sort(
        key=lambda row: ordering.need_key(
            ordering.ClinicalNeed(
                worst_flag=row.worst_flag,
                worst_band=row.worst_band,
                newest_rise=row.newest_rise,
                overdue=row.overdue,
                last_rating_at=row.last_rating_at,
                family_name=row.patient.family_name,
                given_name=row.patient.given_name,
            )
        )
    )
    overview.total = len(rows)
    overview.rows = rows[overview.first - 1 : overview.first - 1 + overview.page_size]
    if not overview.rows:
        raise LookupError(f"page {page}")
    shown = [row.patient.id for row in overview.rows]
    flags = ordering.grouped_open_flags(shown)
    doses = dose_counts_last_24h(shown)
    details = compact.row_details(overview.rows)
    for row in overview.rows:
        row.flag_groups = flags.get(row.patient.id, [])
        row.scores = key_scores(latest.get(row.patient.id, {}))
        row.doses_24h = doses.get(row.patient.id, {})
        row.details = details.get(row.patient.id, compact.RowDetails())
    audit.record_for_patients(
        AuditAction.VIEW,
        [row.patient for row in overview.rows],
        user=user,
        object_type="unit_overview",
    )
    return overview


# --- Trends -----------------------------------------------------------------------------------

#: Trend ranges: code -> days back from now (None: everything).
TREND_RANGES: dict[str, int | None] = {"2w": 14, "3m": 92, "all": None}
DEFAULT_TREND_RANGE = "3m"
#: A chart image loaded within this time of its trends page is read under the page's audit
#: event: one view of the trends, not seven rows in the access log. The images load at once
#: with the page; ten minutes also covers a slow connection and a reload of one image.
CHART_GROUPING = timedelta(minutes=10)


def trend_assessments(
    user: User,
    patient_public_id: str,
    range_code: str,
    *,
    audit_as: str = "trends",
    instruments: tuple[str, ...] | None = None,
    grouped_under: str | None = None,
) -> tuple[Patient, list[Assessment]]:
    """The patient's current (not corrected) assessments in the range, oldest first, of the
    given instruments only (None: all; one chart's image needs one or two); audited, unless
    the user's view of `grouped_under` (the trends page) was logged within CHART_GROUPING."""
    patient = trend_patient(user, patient_public_id, range_code, audit_as, grouped_under)
    return patient, assessments_in_range(patient, range_code, instruments)


def trend_patient(
    user: User,
    patient_public_id: str,
    range_code: str,
    audit_as: str = "trends",
    grouped_under: str | None = None,
) -> Patient:
    """The patient, for a trends page or one of its chart images; audited as in
    `trend_assessments` (a chart answered "not modified" is a view all the same)."""
    if range_code not in TREND_RANGES:
        raise LookupError(range_code)
    patient = _find_for_review(user, patient_public_id, Need.VIEW_HISTORY)
    if grouped_under is None or not audit.viewed_recently(
        user, patient, grouped_under, CHART_GROUPING
    ):
        audit.record(AuditAction.VIEW, user=user, patient=patient, object_type=audit_as)
    return patient


def assessments_in_range(
    patient: Patient, range_code: str, instruments: tuple[str, ...] | None = None
) -> list[Assessment]:
    """Current assessments of an already visible (and audited) patient in the range."""
    query = (
        select(Assessment)
        .where(Assessment.patient_id == patient.id, _current_versions())
        .order_by(Assessment.observed_at, Assessment.id)
    )
    if instruments is not None:
        query = query.where(Assessment.instrument.in_(instruments))
    since = range_start(range_code)
    if since is not None:
        query = query.where(Assessment.observed_at >= since)
    return list(db.session.scalars(query))


def range_start(range_code: str) -> datetime | None:
    """Where a trend range begins: local midnight (Stockholm) `days` before today, so a range
    holds whole days and changes once a day (the chart validators depend on it); None: all."""
    days = TREND_RANGES[range_code]
    if days is None:
        return None
    return datetime.combine(today_local() - timedelta(days=days), time(0), tzinfo=STOCKHOLM)


def open_flags_of(patient: Patient) -> list[tuple[Flag, str | None]]:
    """Open flags of an already visible patient, most severe first."""
    return _open_flags(select(Patient.id).where(Patient.id == patient.id)).get(patient.id, [])


# --- Care plans, milestones, as-needed medication (issue 5) ----------------------------------

#: The window of "doses in the last 24 hours" (the same as an order's "max doses per 24 h").
DOSE_WINDOW = timedelta(hours=24)
#: Before any dose the app can hold ("all" on the trend charts); datetime.min overflows in UTC.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)


def doses_last_24h(patient: Patient) -> list[PrnAdministration]:
    """As-needed doses given to the patient in the last 24 hours, newest first."""
    return careplan_services.doses_since(patient, utcnow() - DOSE_WINDOW)


def dose_counts_last_24h(patient_ids: Select[Any] | list[int]) -> dict[int, dict[str, int]]:
    """Doses in the last 24 hours per patient and indication, one query for all patients."""
    return careplan_services.dose_counts_by_indication(patient_ids, utcnow() - DOSE_WINDOW)


def dose_markers(patient: Patient, since: datetime | None) -> list[tuple[datetime, str]]:
    """(when, indication code) of each as-needed dose since `since` (None: all), oldest first,
    to overlay on trend charts; the chart groups them by indication."""
    doses = careplan_services.doses_since(patient, since or EARLIEST)
    return sorted((dose.given_at, dose.order.indication) for dose in doses)


def milestone_lines(patient: Patient, since: datetime | None) -> list[tuple[datetime, str]]:
    """(when, label) of each milestone (brytpunktssamtal, SVAS, ...) since `since`, drawn as
    vertical lines on trend charts; a milestone has a date, so the line is at its midday."""
    lines = []
    for milestone in careplan_services.milestones_of(patient):
        moment = datetime.combine(milestone.occurred_on, time(12), tzinfo=STOCKHOLM)
        if since is None or moment >= since:
            lines.append((moment, milestone.kind_enum.label))
    return sorted(lines)


def care_plan_contacts(patient: Patient) -> list[tuple[str, str]]:
    """Whom to call from the current care plan: (field label, text) for the 24/7 contacts and
    the fast vårdkontakt (responsible nurse and physician) that are filled in."""
    plan = careplan_services.current_care_plan(patient)
    if plan is None:
        return []
    contacts = []
    for name in ("contacts", "responsible_nurse", "responsible_physician"):
        text = (getattr(plan, name) or "").strip()
        if text:
            contacts.append((str(CARE_PLAN_FIELD_LABELS[name]), text))
    return contacts


def current_orders(patient: Patient) -> list[PrnOrder]:
    """The patient's as-needed orders in force now, in the order of the indications."""
    return careplan_services.active_orders(patient, utcnow())


# --- Summary ----------------------------------------------------------------------------------


@dataclass
class Summary:
    patient: Patient
    scores: list[KeyScore]
    latest: dict[str, Assessment]
    open_flags: list[tuple[Flag, str | None]]
    contacts: list[tuple[str, str]]
    orders: list[PrnOrder]
    doses: list[PrnAdministration]


def patient_summary(user: User, patient_public_id: str) -> Summary:
    """What a printed summary shows: care plan contacts, latest ratings, open flags, the
    as-needed orders in force and the doses of the last 24 hours; audited."""
    patient = _find_for_review(user, patient_public_id, Need.VIEW_HISTORY)
    latest = latest_assessments([patient.id], tuple(scoring.INSTRUMENTS)).get(patient.id, {})
    audit.record(AuditAction.VIEW, user=user, patient=patient, object_type="patient_summary")
    return Summary(
        patient=patient,
        scores=key_scores(latest),
        latest=latest,
        open_flags=open_flags_of(patient),
        contacts=care_plan_contacts(patient),
        orders=current_orders(patient),
        doses=doses_last_24h(patient),
    )
