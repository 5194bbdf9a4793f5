"""Svenska palliativregistret pre-fill and registration list: what is read, for whom.

Unit staff (nurses, physicians, managers with an active membership in the unit) read the
pre-fill of the unit's deceased patients, through `pallapp.access` (`Need.VIEW_CARE_PLAN`: the
pre-fill shows milestones and orders, which are the care team's). Every patient shown is
audit-logged (`view`, object type `spr_prefill` or `spr_registrations`); the CSV logs `export`.
What the answers are, and why: `pallapp.interop.spr` and docs/spr.md.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, Select, exists, or_, select
from sqlalchemy.orm import aliased

from pallapp import audit, scoring
from pallapp.access import Need, visible_patients
from pallapp.csvout import csv_text
from pallapp.extensions import db
from pallapp.interop import spr
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
    User,
)
from pallapp.timeutil import STOCKHOLM, today_local


class NotForSpr(LookupError):
    """Not one of the user's units, or not a deceased patient of it the user may see (404)."""


def spr_units(user: User) -> list[CareUnit]:
    """The units whose deaths `user` may prepare for the register: their own active units
    (care staff only)."""
    if not (user.is_authenticated and user.is_staff):
        return []
    return sorted(user.active_units(today_local()), key=lambda unit: unit.name)


def _unit(user: User, unit_public_id: str) -> CareUnit:
    unit = next((u for u in spr_units(user) if u.public_id == unit_public_id), None)
    if unit is None:
        raise NotForSpr(unit_public_id)
    return unit


def _deceased_in_unit(user: User, unit: CareUnit) -> Select[Patient]:
    """The deceased patients `user` may see whose episode in `unit` was active on the day of
    death (the unit where the death occurred registers it)."""
    episode = exists(
        select(PatientUnit.id).where(
            PatientUnit.patient_id == Patient.id,
            PatientUnit.unit_id == unit.id,
            PatientUnit.start <= Patient.died_on,
            or_(PatientUnit.end.is_(None), PatientUnit.end > Patient.died_on),
        )
    )
    return visible_patients(user, Need.VIEW_CARE_PLAN).where(
        Patient.died_on.is_not(None), episode
    )


@dataclass
class UnitDeaths:
    unit: CareUnit
    registrations: list[spr.Registration]

    @property
    def figure(self) -> tuple[int, int, float | None]:
        return spr.registration_share(self.registrations)

    @property
    def not_registered(self) -> list[spr.Registration]:
        return [r for r in self.registrations if r.registered_on is None]


def unit_deaths(user: User, unit_public_id: str) -> UnitDeaths:
    """The unit's deaths, newest first, each with the date it was marked registered in the
    register (the first `spr_registered` milestone), or None."""
    unit = _unit(user, unit_public_id)
    patients = list(
        db.session.scalars(
            _deceased_in_unit(user, unit).order_by(Patient.died_on.desc(), Patient.id)
        )
    )
    registered: dict[int, tuple[date, str]] = {}
    if patients:
        rows = db.session.execute(
            select(Milestone.patient_id, Milestone.occurred_on, Milestone.public_id)
            .where(
                Milestone.patient_id.in_([p.id for p in patients]),
                Milestone.kind == MilestoneKind.SPR_REGISTERED.value,
            )
            .order_by(Milestone.occurred_on, Milestone.id)
        )
        for patient_id, occurred_on, public_id in rows:
            registered.setdefault(patient_id, (occurred_on, public_id))
    audit.record_for_patients(
        AuditAction.VIEW, patients, user=user, object_type="spr_registrations"
    )
    registrations = []
    for patient in patients:
        died_on = _died_on(patient)
        found = registered.get(patient.id)
        registrations.append(
            spr.Registration(
                patient.public_id, patient.name, died_on,
                found[0] if found else None, found[1] if found else None,
            )
        )
    return UnitDeaths(unit, registrations)


def _died_on(patient: Patient) -> date:
    """The date of death of a patient the queries here found as deceased."""
    if patient.died_on is None:  # the queries ask for it: never
        raise NotForSpr(patient.public_id)
    return patient.died_on


def _current_versions() -> ColumnElement[bool]:
    newer = aliased(Assessment)
    return ~exists(select(newer.id).where(newer.supersedes_id == Assessment.id))


def death_records(unit: CareUnit, patients: list[Patient]) -> dict[int, spr.DeathRecord]:
    """A `DeathRecord` per deceased patient, in a fixed number of queries."""
    ids = [p.id for p in patients]
    if not ids:
        return {}
    milestones: dict[int, list[spr.MilestoneFact]] = defaultdict(list)
    for m in db.session.scalars(
        select(Milestone).where(Milestone.patient_id.in_(ids)).order_by(Milestone.occurred_on, Milestone.id)
    ):
        milestones[m.patient_id].append(
            spr.MilestoneFact(
                m.public_id, m.kind, m.occurred_on, m.participants, m.place,
                m.death_expected, m.free_of_pressure_ulcers,
            )
        )
    plans: dict[int, CarePlan] = {}
    for version in db.session.scalars(
        select(CarePlan).where(CarePlan.patient_id.in_(ids)).order_by(CarePlan.version)
    ):
        plans[version.patient_id] = version  # the highest version wins
    assessments: dict[int, list[spr.AssessmentFact]] = defaultdict(list)
    for a in db.session.scalars(
        select(Assessment)
        .where(Assessment.patient_id.in_(ids), _current_versions())
        .order_by(Assessment.observed_at, Assessment.id)
    ):
        assessments[a.patient_id].append(
            spr.AssessmentFact(
                a.public_id, a.instrument, scoring.INSTRUMENTS[a.instrument].title,
                a.observed_at, a.answers, a.total,
            )
        )
    orders: dict[int, list[spr.OrderFact]] = defaultdict(list)
    for o in db.session.scalars(select(PrnOrder).where(PrnOrder.patient_id.in_(ids))):
        orders[o.patient_id].append(
            spr.OrderFact(o.public_id, o.indication, o.route, o.drug, o.start_at, o.stop_at)
        )
    episodes: dict[int, PatientUnit] = {}
    for in_unit in db.session.scalars(
        select(PatientUnit).where(PatientUnit.patient_id.in_(ids), PatientUnit.unit_id == unit.id)
    ):
        episodes.setdefault(in_unit.patient_id, in_unit)
    records = {}
    for patient in patients:
        plan = plans.get(patient.id)
        episode = episodes.get(patient.id)
        records[patient.id] = spr.DeathRecord(
            patient_public_id=patient.public_id,
            died_on=_died_on(patient),
            place_of_death=patient.place_of_death,
            unit_kind=unit.kind,
            episode_public_id=patient.public_id if episode else None,
            enrolled_on=episode.start if episode else None,
            plan=(
                spr.PlanFact(
                    plan.public_id, plan.version, plan.created_at.astimezone(STOCKHOLM).date(),
                    plan.preferred_place_of_death, plan.preferred_place_of_death_code or None,
                )
                if plan
                else None
            ),
            milestones=tuple(milestones[patient.id]),
            assessments=tuple(assessments[patient.id]),
            orders=tuple(orders[patient.id]),
        )
    return records


@dataclass
class Prefill:
    unit: CareUnit
    patient: Patient
    answers: list[spr.Answer]
    registered_on: date | None


def patient_prefill(user: User, unit_public_id: str, patient_public_id: str) -> Prefill:
    """The pre-fill of one deceased patient of the unit (audited as a `view`). A living patient
    of the unit gets an empty pre-fill (the page says the register asks about deaths); any
    other patient is not found."""
    unit = _unit(user, unit_public_id)
    patient = db.session.scalar(
        _deceased_in_unit(user, unit).where(Patient.public_id == patient_public_id)
    )
    if patient is None:
        living = db.session.scalar(
            visible_patients(user, Need.VIEW_CARE_PLAN).where(
                Patient.public_id == patient_public_id,
                Patient.died_on.is_(None),
                exists(
                    select(PatientUnit.id).where(
                        PatientUnit.patient_id == Patient.id, PatientUnit.unit_id == unit.id
                    )
                ),
            )
        )
        if living is None:
            raise NotForSpr(patient_public_id)
        audit.record(AuditAction.VIEW, user=user, patient=living, object_type="spr_prefill")
        return Prefill(unit, living, [], None)
    record = death_records(unit, [patient])[patient.id]
    registered = [m.occurred_on for m in record.milestones if m.kind == "spr_registered"]
    audit.record(AuditAction.VIEW, user=user, patient=patient, object_type="spr_prefill")
    return Prefill(unit, patient, spr.prefill(record), min(registered) if registered else None)


CSV_HEADER = (
    "patient", "personnummer", "died_on", "question", "spr_number", "answer", "detail",
    "sources", "codes", "reason",
)


def prefill_csv(user: User, unit_public_id: str, translate: Callable[[str], str]) -> str:
    """The pre-fill of every death of the unit not yet marked registered, one row per question
    (the unanswerable ones too, with the reason), for the staff member who registers. Every
    patient in it is audit-logged as `export`. `translate` turns msgids into the reader's
    language (the view passes `gettext`)."""
    unit = _unit(user, unit_public_id)
    patients = list(db.session.scalars(_deceased_in_unit(user, unit).order_by(Patient.died_on)))
    records = death_records(unit, patients)
    rows: list[list[object]] = []
    exported = []
    for patient in patients:
        record = records[patient.id]
        if any(m.kind == "spr_registered" for m in record.milestones):
            continue
        exported.append(patient)
        who = [patient.name, patient.formatted_personnummer, record.died_on.isoformat()]
        for answer in spr.prefill(record):
            rows.append([
                *who, answer.question.code, answer.question.number or "",
                answer.value.value if answer.value else "", answer.detail,
                " ".join(f"{s.kind.value}:{s.public_id}" for s in answer.sources),
                "; ".join(dict.fromkeys(code for s in answer.sources for code in s.codes)),
                translate(answer.reason) if answer.reason else "",
            ])
        for question, reason in spr.UNANSWERABLE:
            rows.append(
                [*who, question.code, question.number or "", "", "", "", "", translate(reason)]
            )
    audit.record_for_patients(AuditAction.EXPORT, exported, user=user, object_type="spr_prefill")
    audit.record(AuditAction.EXPORT, user=user, obj=unit, detail=f"spr prefill: {len(exported)} patients")
    return csv_text(CSV_HEADER, rows)
