"""Review use cases: acknowledging flags, the unit overview, trends and the patient summary.

Every function takes the acting user and goes through `pallapp.access`; every read and write of
patient data is audit-logged. Services flush; the request boundary commits once.

Pages that list many patients fetch each kind of data in one query for all of them (open flags,
latest ratings), so the number of queries does not grow with the number of patients (DESIGN.md).
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, and_, bindparam, exists, or_, select, union_all
from sqlalchemy.orm import aliased, selectinload

from pallapp import audit, flags, scoring
from pallapp.access import Need, NotVisible, find_patient, visible_patients
from pallapp.careplan import services as careplan_services
from pallapp.extensions import db
from pallapp.flags import FlagRefused as FlagRefused  # the views catch it from here
from pallapp.flags import open_flags_of as open_flags_of
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
from pallapp.timeutil import STOCKHOLM, today_local

#: Instruments whose latest result the overview and the summary show.
KEY_INSTRUMENTS = ("esas_r", "ipos_patient", "ipos_staff", "abbey", "roag")
#: Roles that review patients and act on flags (managers read for quality work only).
REVIEWER_ROLES = (Role.NURSE, Role.PHYSICIAN)
#: Phases shown in the overview unless another phase is chosen.
ACTIVE_PHASES = (Phase.EARLY.value, Phase.END_OF_LIFE.value)


class NotAReviewer(Exception):
    """The user's role does not review patients (the view answers 403)."""


def is_reviewer(user: User) -> bool:
    return user.is_authenticated and user.role in REVIEWER_ROLES


# --- Flags ------------------------------------------------------------------------------------


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
    patient = _find_for_review(user, patient_public_id, Need.CHANGE)
    flag, _instrument = flags.flag_of(patient, flag_public_id)
    return flags.acknowledge(user, patient, flag, note)


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


# --- Unit overview ----------------------------------------------------------------------------


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
    if range_code not in TREND_RANGES:
        raise LookupError(range_code)
    patient = _find_for_review(user, patient_public_id, Need.VIEW_HISTORY)
    query = (
        select(Assessment)
        .where(Assessment.patient_id == patient.id, flags.current_versions())
        .order_by(Assessment.observed_at, Assessment.id)
    )
    if instruments is not None:
        query = query.where(Assessment.instrument.in_(instruments))
    days = TREND_RANGES[range_code]
    if days is not None:
        query = query.where(Assessment.observed_at >= utcnow() - timedelta(days=days))
    assessments = list(db.session.scalars(query))
    if grouped_under is None or not audit.viewed_recently(
        user, patient, grouped_under, CHART_GROUPING
    ):
        audit.record(AuditAction.VIEW, user=user, patient=patient, object_type=audit_as)
    return patient, assessments


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
        open_flags=flags.open_flags_of(patient),
        contacts=care_plan_contacts(patient),
        orders=current_orders(patient),
        doses=doses_last_24h(patient),
    )
