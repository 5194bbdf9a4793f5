"""The unit overview: the patients of the user's units, most in need of attention first.

Pages that list many patients fetch each kind of data in one query for all of them (open flags,
latest ratings), so the number of queries does not grow with the number of patients (DESIGN.md)."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    DateTime,
    ScalarSelect,
    Select,
    String,
    and_,
    any_,
    bindparam,
    cast,
    exists,
    func,
    literal,
    or_,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY

from pallapp import audit, carerecord, flags, scoring
from pallapp.access import Need, bound_patient_condition
from pallapp.extensions import db
from pallapp.models import (
    AuditAction,
    CareUnit,
    Patient,
    PatientUnit,
    Phase,
    PrnAdministration,
    PrnOrder,
    User,
    utcnow,
)
from pallapp.pnr import mask_personnummer
from pallapp.review import compact, ordering
from pallapp.review.common import (
    ACTIVE_PHASES,
    DOSE_WINDOW,
    KeyScore,
    LatestRating,
    NotAReviewer,
    database_name,
    decode_answers,
    in_bound_ids,
    is_reviewer,
    key_scores,
    last_symptom_rating,
    latest_ratings,
    plain_rows,
    reviewer_units,
)
from pallapp.timeutil import STOCKHOLM, today_local


@dataclass
class OverviewRow:
    patient: ListedPatient
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
    doses and care-plan details are loaded for the patients of `page` only. `unit_public_id`
    narrows to one of the user's units (an unknown unit raises LookupError); `phase` to one
    phase (default: early and end of life). A page past the end raises LookupError.

    Every statement is built once per database and kept (`_candidates_query`, `_page_query`,
    ...), the user, the day and the patients bound at each call: building them took longer
    than running them.
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
    visible = bound_patient_condition(user, Need.VIEW, day)
    if not units or visible is None:
        return overview
    condition, access_values = visible
    dialect = database_name()
    # The order needs a few columns of every patient, read with the patients in one query:
    # names, phase, open flags (`ordering.flag_fact_columns`) and the units now following
    # them; the rest of a row is read for the page's rows only.
    candidates = plain_rows(
        _candidates_query(dialect, condition),
        {
            **access_values,
            "day": day,
            "unit_ids": [unit.id] if unit is not None else [u.id for u in units],
            "phases": [phase] if phase else list(ACTIVE_PHASES),
        },
    )
    if not candidates:
        return overview
    # The ids as a list keep the visible-patients condition out of the query of the latest
    # ratings (it would be repeated once per instrument). The latest of each key instrument
    # for every patient, in one query: the order needs the item bands, the overdue rule the
    # moments, the shown rows the key scores and (of the rows shown) the answers.
    latest = latest_ratings([candidate[0] for candidate in candidates], answers=True)
    following = _FollowingUnits(user, (candidate[4] for candidate in candidates))
    banded = ordering.banded_instruments()
    symptom_instruments = scoring.SYMPTOM_INSTRUMENTS
    now = utcnow()
    no_ratings: dict[str, LatestRating] = {}
    needs = []
    facts: dict[int, tuple[ordering.FlagFacts, tuple[int, ...]]] = {}
    for patient_id, patient_phase, family_name, given_name, unit_list, *flag_columns in candidates:
        mine = latest.get(patient_id, no_ratings)
        moments = {code: r.observed_at for code, r in mine.items() if code in symptom_instruments}
        flag_facts = ordering.FlagFacts.from_columns(*flag_columns)
        unit_ids = following.ids(unit_list)
        facts[patient_id] = (flag_facts, unit_ids)
        interval_days = following.interval(unit_ids, patient_phase)
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
    shown_values = {**access_values, "shown": shown}
    patients = {
        columns[0]: (ListedPatient(*columns[:7]), compact.row_details(*columns[5:]))
        for columns in plain_rows(_page_query(dialect, condition), shown_values)
    }
    # The worst items name their values: the answers of the rows shown.
    banded_codes = {instrument for instrument, _definition in banded}
    decode_answers(
        rating
        for patient_id in shown
        for code, rating in latest.get(patient_id, no_ratings).items()
        if code in banded_codes
    )
    groups = ordering.grouped_open_flags(shown)
    doses = dose_counts_last_24h(shown)
    for _key, patient_id, need, interval_days in on_page:
        if patient_id not in patients:
            continue  # no longer visible (`_page_query` asks again): not shown
        patient, details = patients[patient_id]
        mine = latest.get(patient_id, no_ratings)
        flag_facts, unit_ids = facts[patient_id]
        worst_band, worst_items = ordering.worst_items(mine, banded)
        overview.rows.append(
            OverviewRow(
                patient=patient,
                counts=flags.FlagCounts(flag_facts.high, flag_facts.medium),
                open_flags=[],
                scores=key_scores(mine),
                last_rating_at=need.last_rating_at,
                interval_days=interval_days,
                overdue=need.overdue,
                doses_24h=doses.get(patient_id, {}),
                worst_band=worst_band,
                worst_items=worst_items,
                newest_rise=need.newest_rise,
                worst_flag=need.worst_flag,
                flag_groups=groups.get(patient_id, []),
                details=details,
                units=following.names(unit_ids),
            )
        )
    audit.record_for_patient_ids(
        AuditAction.VIEW,
        [row.patient.id for row in overview.rows],
        user=user,
        object_type="unit_overview",
    )
    return overview


@dataclass(frozen=True, slots=True)
class ListedPatient:
    """The columns of a patient that an overview row shows, read as a plain row (whole records
    cost more to make than the rest of reading the page)."""

    id: int
    public_id: str
    personnummer: str
    given_name: str
    family_name: str
    phase: str
    enrolled_on: date

    @property
    def name(self) -> str:
        """As `Patient.name`."""
        return f"{self.given_name} {self.family_name}"

    @property
    def masked_personnummer(self) -> str:
        return mask_personnummer(self.personnummer)


@functools.cache
def _candidates_query(dialect: str, visible: ColumnElement[bool]) -> Select[*tuple[Any, ...]]:
    """Every patient `visible` (`access.bound_patient_condition`) with an episode now in one of
    the units bound as `unit_ids`, in one of the phases bound as `phases`: the columns the
    order needs."""
    day = bindparam("day", type_=Date)
    in_units = exists(
        select(PatientUnit.id).where(
            PatientUnit.patient_id == Patient.id,
            in_bound_ids(PatientUnit.unit_id, "unit_ids", dialect),
            _episode_now(day),
        )
    )
    phases = (
        Patient.phase == any_(bindparam("phases", type_=ARRAY(String)))
        if dialect == "postgresql"
        else Patient.phase.in_(bindparam("phases", expanding=True))
    )
    columns = (Patient.id, Patient.phase, Patient.family_name, Patient.given_name)
    if dialect == "postgresql":
        # The open flags in one pass per patient, not four (`ordering.flag_fact_lateral`); the
        # units now following every patient in one grouped pass over the current episodes,
        # joined by patient (`_following_units`).
        facts = ordering.flag_fact_lateral()
        following = _following_units(day)
        return (
            select(
                *columns,
                following.c.unit_ids,
                facts.c.high,
                facts.c.medium,
                facts.c.info,
                facts.c.newest_rise,
            )
            .select_from(Patient)
            .join(facts, true())
            .outerjoin(following, following.c.patient_id == Patient.id)
            .where(visible, in_units, phases)
        )
    return select(
        *columns, _following_unit_ids(dialect, day), *ordering.flag_fact_columns()
    ).where(visible, in_units, phases)


@functools.cache
def _page_query(dialect: str, visible: ColumnElement[bool]) -> Select[*tuple[Any, ...]]:
    """The patients of one page (bound as `shown`), if still `visible`: the columns of a
    `ListedPatient`, then `compact.detail_columns`."""
    return select(
        Patient.id,
        Patient.public_id,
        Patient.personnummer,
        Patient.given_name,
        Patient.family_name,
        Patient.phase,
        Patient.enrolled_on,
        *compact.detail_columns(),
    ).where(visible, in_bound_ids(Patient.id, "shown", dialect))


def _episode_now(day: Any) -> ColumnElement[bool]:
    return and_(PatientUnit.start <= day, or_(PatientUnit.end.is_(None), PatientUnit.end > day))


def _following_units(day: Any) -> Any:
    """`_following_unit_ids` on PostgreSQL: (patient_id, unit_ids) of every patient with a
    current episode, one grouped pass over the episodes, for a join by patient. The correlated
    subquery scanned the episodes once per patient of the list: PostgreSQL read the small table
    whole each time (a sequential scan is what it picks for a table of a few pages), 7.8 of the
    statement's 8.6 ms at 120 patients and 220 episodes; the grouped pass reads them once
    (with `ordering.flag_fact_lateral`, the statement 3.2 -> 1.1 ms: benchmarks/RESULTS.md). It
    reads every current episode of every unit, as the list's unit condition already does."""
    return (
        select(
            PatientUnit.patient_id,
            func.string_agg(cast(PatientUnit.unit_id, String), literal(","))
            .aggregate_order_by(PatientUnit.start, PatientUnit.id)
            .label("unit_ids"),
        )
        .where(_episode_now(day))
        .group_by(PatientUnit.patient_id)
        .subquery("following")
    )


def _following_unit_ids(dialect: str, day: Any) -> ScalarSelect[Any]:
    """A column of a query of patients: the ids of the units now following each patient,
    comma-separated, in the order their episodes began (what the rows show their names in)."""
    unit_id = cast(PatientUnit.unit_id, String)
    episodes = PatientUnit.patient_id == Patient.id, _episode_now(day)
    if dialect == "postgresql":
        return (
            select(
                func.string_agg(unit_id, literal(",")).aggregate_order_by(
                    PatientUnit.start, PatientUnit.id
                )
            )
            .where(*episodes)
            .scalar_subquery()
        )
    # SQLite before 3.44 has no ORDER BY in an aggregate: it concatenates in the order of an
    # ordered subquery (which it does not flatten into an aggregate).
    ordered = (
        select(unit_id.label("unit_id"))
        .where(*episodes)
        .order_by(PatientUnit.start, PatientUnit.id)
        .correlate(Patient)
        .subquery()
    )
    return select(func.group_concat(ordered.c.unit_id, ",")).scalar_subquery()


class _FollowingUnits:
    """The units now following the patients of the list (`_following_unit_ids`): their names,
    and the rating interval they set (`flags.rating_interval_for`), worked out once for each
    set of units and phase. The user's own units are in the session already (loaded with the
    user); any other unit of the list is read in one query."""

    def __init__(self, user: User, unit_lists: Iterable[str | None]) -> None:
        self._intervals: dict[tuple[tuple[int, ...], str], int] = {}
        self._ids: dict[str | None, tuple[int, ...]] = {
            unit_list: tuple(int(part) for part in unit_list.split(",")) if unit_list else ()
            for unit_list in set(unit_lists)
        }
        self._units = {membership.unit.id: membership.unit for membership in user.memberships}
        missing = {unit_id for ids in self._ids.values() for unit_id in ids} - self._units.keys()
        if missing:
            self._units.update(
                (unit.id, unit)
                for unit in db.session.scalars(
                    _units_query(database_name()), {"unit_ids": sorted(missing)}
                )
            )

    def ids(self, unit_list: str | None) -> tuple[int, ...]:
        return self._ids[unit_list]

    def interval(self, unit_ids: tuple[int, ...], phase: str) -> int:
        key = (unit_ids, phase)
        days = self._intervals.get(key)
        if days is None:
            units = [self._units[unit_id] for unit_id in sorted(set(unit_ids))]
            days = self._intervals[key] = flags.rating_interval_for(units, phase)
        return days

    def names(self, unit_ids: tuple[int, ...]) -> list[str]:
        return [self._units[unit_id].name for unit_id in unit_ids]


@functools.cache
def _units_query(dialect: str) -> Select[CareUnit]:
    return select(CareUnit).where(in_bound_ids(CareUnit.id, "unit_ids", dialect))


@functools.cache
def _dose_counts_query(dialect: str) -> Select[*tuple[Any, ...]]:
    # Doses (current versions) per patient and indication since a moment, built once per
    # database with the patients and the moment bound at each call.
    return (
        select(PrnAdministration.patient_id, PrnOrder.indication, func.count(PrnAdministration.id))
        .join(PrnOrder, PrnOrder.id == PrnAdministration.order_id)
        .where(
            in_bound_ids(PrnAdministration.patient_id, "patient_ids", dialect),
            PrnAdministration.given_at > bindparam("since", type_=DateTime(timezone=True)),
            carerecord.current_doses(),
        )
        .group_by(PrnAdministration.patient_id, PrnOrder.indication)
    )


def dose_counts_last_24h(patient_ids: list[int]) -> dict[int, dict[str, int]]:
    """Doses in the last 24 hours per patient and indication, one query for all patients."""
    counts: dict[int, dict[str, int]] = {}
    if not patient_ids:
        return counts
    for patient_id, indication, count in plain_rows(
        _dose_counts_query(database_name()),
        {"patient_ids": patient_ids, "since": utcnow() - DOSE_WINDOW},
    ):
        counts.setdefault(patient_id, {})[indication] = count
    return counts
