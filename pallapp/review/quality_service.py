"""Quality indicator use cases: a unit's report for a period, and the patients behind a figure.

What is read from the database: the unit's patients in the period (through `pallapp.access`),
then one query each for their ratings, care plans, milestones and as-needed orders, so the
number of queries does not grow with the number of patients. What is counted, and how, is in
`pallapp.review.quality` (pure) and docs/quality-indicators.md. Every patient counted or listed
is audit-logged.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, exists, or_, select

from pallapp import audit, flags, scoring
from pallapp.access import Need, visible_patients
from pallapp.extensions import db
from pallapp.models import (
    Assessment,
    AuditAction,
    CarePlan,
    CareUnit,
    Milestone,
    MilestoneKind,
    Patient,
    PatientUnit,
    PrnOrder,
    Role,
    User,
)
from pallapp.review import quality
from pallapp.review.common import reviewer_units
from pallapp.timeutil import STOCKHOLM, today_local

#: Roles that read a unit's quality indicators (DESIGN.md: managers; physicians and nurses too).
QUALITY_ROLES = (Role.MANAGER, Role.PHYSICIAN, Role.NURSE)
#: The list behind the count of deaths (expected, not expected, not recorded) in the report.
DEATHS_LIST = "deaths"


class NotForQuality(Exception):
    """The user's role does not read quality indicators (the view answers 404)."""


def quality_units(user: User) -> list[CareUnit]:
    """The units whose indicators `user` may read: their own active units."""
    if not (user.is_authenticated and user.role in QUALITY_ROLES):
        raise NotForQuality()
    return reviewer_units(user)


@dataclass
class QualityReport:
    unit: CareUnit
    period: quality.Period
    indicators: list[quality.Indicator]
    patients: dict[int, Patient]
    deaths: quality.Deaths = field(default_factory=quality.Deaths)

    @property
    def population(self) -> int:
        """The in-life denominator: every patient of the unit in the period."""
        return len(self.patients)

    def family(self, family: quality.Family) -> list[quality.Indicator]:
        return [found for found in self.indicators if found.definition.family is family]


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=STOCKHOLM)


def _day_after(day: date) -> datetime:
    return _day_start(day + timedelta(days=1))


def _unit_patients(user: User, unit: CareUnit, period: quality.Period) -> Select[Patient]:
    """Patients the user may see who were enrolled in the unit on at least one day of the period
    (an episode that starts on or before its last day and has not ended by its first; an
    episode's end is exclusive) and had not died before it began."""
    in_unit = exists(
        select(PatientUnit.id).where(
            PatientUnit.patient_id == Patient.id,
            PatientUnit.unit_id == unit.id,
            PatientUnit.start <= period.end,
            or_(PatientUnit.end.is_(None), PatientUnit.end > period.start),
        )
    )
    alive_in_period = or_(Patient.died_on.is_(None), Patient.died_on >= period.start)
    return visible_patients(user, Need.VIEW).where(in_unit, alive_in_period)


def _reference_day(patient: Patient, period: quality.Period) -> date:
    """The day orders are looked at: the day of death in the period, else its last day."""
    if patient.died_on is not None and patient.died_on in period:
        return patient.died_on
    return min(period.end, today_local())


def _in_force_on(day: date, start_at: datetime, stop_at: datetime | None) -> bool:
    """An order was in force at some time on `day`: started before the day ended and not
    stopped before it began. A death stops open orders when it is recorded, so orders in
    force on the day of death count even when the death is recorded days later."""
    return start_at < _day_after(day) and (stop_at is None or stop_at > _day_start(day))


@dataclass
class _LastWeek:
    pain: bool = False
    other_symptoms: bool = False
    roag: bool = False


def _last_weeks(died: dict[int, date], period: quality.Period) -> dict[int, _LastWeek]:
    """What was rated in each deceased patient's last week of life (one query)."""
    found: dict[int, _LastWeek] = defaultdict(_LastWeek)
    if not died:
        return found
    first_possible = period.start - timedelta(days=quality.LAST_WEEK_DAYS - 1)
    rows = db.session.execute(
        select(
            Assessment.patient_id, Assessment.instrument, Assessment.observed_at,
            Assessment.answers, Assessment.total,
        ).where(
            Assessment.patient_id.in_(list(died)),
            Assessment.instrument.in_((*scoring.SYMPTOM_INSTRUMENTS, "roag")),
            Assessment.observed_at >= _day_start(first_possible),
            Assessment.observed_at < _day_after(period.end),
            flags.current_versions(),
        )
    )
    for patient_id, instrument, observed_at, answers, total in rows:
        day = observed_at.astimezone(STOCKHOLM).date()
        if not quality.in_last_week(day, died[patient_id]):
            continue
        week = found[patient_id]
        if instrument == "roag":
            week.roag = True
            continue
        week.pain = week.pain or quality.rates_pain(instrument, answers, total)
        week.other_symptoms = week.other_symptoms or quality.rates_other_symptoms(
            instrument, answers
        )
    return found


def patient_facts(
    patients: dict[int, Patient], ids: Select[Any], period: quality.Period
) -> list[quality.PatientFacts]:
    """What the indicators need about each patient, in a fixed number of queries."""
    begin, after = _day_start(period.start), _day_after(period.end)
    symptom = tuple(scoring.SYMPTOM_INSTRUMENTS)
    rated: dict[int, set[str]] = defaultdict(set)
    for patient_id, instrument in db.session.execute(
        select(Assessment.patient_id, Assessment.instrument)
        .where(
            Assessment.patient_id.in_(ids),
            Assessment.instrument.in_((*symptom, "roag")),
            Assessment.observed_at >= begin,
            Assessment.observed_at < after,
            flags.current_versions(),
        )
        .group_by(Assessment.patient_id, Assessment.instrument)
    ):
        rated[patient_id].add(instrument)

    died = {
        pid: p.died_on for pid, p in patients.items() if p.died_on and p.died_on in period
    }
    last_weeks = _last_weeks(died, period)

    with_plan = set(
        db.session.scalars(
            select(CarePlan.patient_id)
            .where(CarePlan.patient_id.in_(ids), CarePlan.created_at < after)
            .distinct()
        )
    )

    milestones: dict[int, set[str]] = defaultdict(set)
    first_brytpunktssamtal: dict[int, date] = {}
    death_answers: dict[int, tuple[bool | None, bool | None]] = {}
    for patient_id, kind, occurred_on, expected, free in db.session.execute(
        select(
            Milestone.patient_id, Milestone.kind, Milestone.occurred_on,
            Milestone.death_expected, Milestone.free_of_pressure_ulcers,
        )
        .where(Milestone.patient_id.in_(ids))
        .order_by(Milestone.id)
    ):
        if kind == MilestoneKind.DEATH:
            death_answers[patient_id] = (expected, free)  # one per patient; the newest wins
        elif kind == MilestoneKind.BRYTPUNKTSSAMTAL:
            earlier = first_brytpunktssamtal.get(patient_id, occurred_on)
            first_brytpunktssamtal[patient_id] = min(earlier, occurred_on)
        # Conversations count when held by the end of the period; the bereavement
        # conversation comes after death, so it counts whenever it was offered.
        if occurred_on <= period.end or kind == MilestoneKind.EFTERLEVANDESAMTAL_OFFERED:
            milestones[patient_id].add(kind)

    orders: dict[int, set[str]] = defaultdict(set)
    parenteral: dict[int, set[str]] = defaultdict(set)
    for patient_id, indication, route, start_at, stop_at in db.session.execute(
        select(
            PrnOrder.patient_id, PrnOrder.indication, PrnOrder.route, PrnOrder.start_at,
            PrnOrder.stop_at,
        ).where(
            PrnOrder.patient_id.in_(ids),
            PrnOrder.start_at < after,
            or_(PrnOrder.stop_at.is_(None), PrnOrder.stop_at > begin),
        )
    ):
        if not _in_force_on(_reference_day(patients[patient_id], period), start_at, stop_at):
            continue
        orders[patient_id].add(indication)
        if patient_id in died and route in scoring.PARENTERAL_ROUTES:
            parenteral[patient_id].add(indication)  # the reference day is the day of death

    facts = []
    for patient_id in patients:
        kinds = milestones[patient_id]
        seen = rated[patient_id]
        death = None
        if patient_id in died:
            died_on = died[patient_id]
            expected, free = death_answers.get(patient_id, (None, None))
            week = last_weeks[patient_id]
            bps = first_brytpunktssamtal.get(patient_id)
            death = quality.DeathFacts(
                died_on=died_on,
                expected=expected,
                pain_rated_last_week=week.pain,
                other_symptoms_rated_last_week=week.other_symptoms,
                roag_last_week=week.roag,
                parenteral_orders=frozenset(parenteral[patient_id]),
                brytpunktssamtal=bps is not None and bps <= died_on,
                free_of_pressure_ulcers=free,
                efterlevandesamtal_offered=MilestoneKind.EFTERLEVANDESAMTAL_OFFERED in kinds,
            )
        facts.append(
            quality.PatientFacts(
                patient_id=patient_id,
                rated_in_period=bool(seen & set(symptom)),
                roag_in_period="roag" in seen,
                care_plan=patient_id in with_plan,
                order_indications=frozenset(orders[patient_id]),
                svas_offered=bool(kinds & {MilestoneKind.SVAS_OFFERED, MilestoneKind.SVAS_HELD}),
                svas_held=MilestoneKind.SVAS_HELD in kinds,
                death=death,
            )
        )
    return facts


def quality_indicators(
    user: User,
    unit_public_id: str,
    period: quality.Period,
    *,
    audit_as: str | None = "quality_indicators",
    action: AuditAction = AuditAction.VIEW,
) -> QualityReport:
    """The unit's quality indicators for the period, both families, against their targets
    (INSTRUMENTS.md; definitions in docs/quality-indicators.md).

    Managers, physicians and nurses of the unit; `NotForQuality` for other roles and
    LookupError for a unit that is not one of the user's. Only patients the user may see count
    (`pallapp.access`); every patient counted is audit-logged (`audit_as` None: the caller
    logs what it shows). The number of queries does not grow with the number of patients.
    """
    unit = next((u for u in quality_units(user) if u.public_id == unit_public_id), None)
    if unit is None:
        raise LookupError(unit_public_id)
    if period.end > today_local():
        raise LookupError("period in the future")
    query = _unit_patients(user, unit, period)
    patients = {patient.id: patient for patient in db.session.scalars(query)}
    facts = patient_facts(patients, query.with_only_columns(Patient.id), period) if patients else []
    if audit_as is not None:
        audit.record_for_patients(
            action, patients.values(), user=user, object_type=audit_as,
            detail=f"{period.start}/{period.end}",
        )
    return QualityReport(
        unit, period, quality.indicators(facts), patients, deaths=quality.deaths(facts)
    )


def _by_name(report: QualityReport, ids: tuple[int, ...]) -> list[Patient]:
    chosen = [report.patients[i] for i in ids]
    return sorted(chosen, key=lambda p: (p.family_name, p.given_name, p.id))


def quality_patients(
    user: User, unit_public_id: str, period: quality.Period, code: str
) -> tuple[QualityReport, quality.Indicator, list[Patient], list[Patient]]:
    """The patients one indicator counts and the ones it misses (sorted by name); the
    patients listed are audit-logged (`quality_patients`)."""
    if code not in quality.DEFINITIONS_BY_CODE:
        raise LookupError(code)
    report = quality_indicators(user, unit_public_id, period, audit_as=None)
    found = next(i for i in report.indicators if i.code == code)
    counted, missed = _by_name(report, found.counted), _by_name(report, found.missed)
    audit.record_for_patients(
        AuditAction.VIEW, [*counted, *missed], user=user, object_type="quality_patients",
        detail=f"{code} {period.start}/{period.end}",
    )
    return report, found, counted, missed


@dataclass
class DeathLists:
    expected: list[Patient]
    unexpected: list[Patient]
    unknown: list[Patient]


def quality_deaths(
    user: User, unit_public_id: str, period: quality.Period
) -> tuple[QualityReport, DeathLists]:
    """The unit's patients who died in the period, by whether the death was recorded as
    expected (only those are in the end-of-life denominator); audit-logged like the other
    lists."""
    report = quality_indicators(user, unit_public_id, period, audit_as=None)
    lists = DeathLists(
        expected=_by_name(report, report.deaths.expected),
        unexpected=_by_name(report, report.deaths.unexpected),
        unknown=_by_name(report, report.deaths.unknown),
    )
    audit.record_for_patients(
        AuditAction.VIEW, [*lists.expected, *lists.unexpected, *lists.unknown], user=user,
        object_type="quality_patients", detail=f"{DEATHS_LIST} {period.start}/{period.end}",
    )
    return report, lists
