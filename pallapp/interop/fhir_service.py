"""Reading what the FHIR resources are built from, for the unit export and the API.

The patients come in already checked (`pallapp.access` for people, `api_access` for API
clients) and audited by the caller; this module reads their records in a fixed number of
queries and turns them into `pallapp.interop.fhir` records.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime

from flask import current_app, has_request_context, request
from flask_babel import force_locale
from sqlalchemy import ColumnElement, exists, or_, select
from sqlalchemy.orm import aliased

from pallapp import audit
from pallapp.access import Need, visible_patients
from pallapp.extensions import db
from pallapp.i18n import gettext, pgettext
from pallapp.interop import fhir
from pallapp.models import (
    Assessment,
    AuditAction,
    CareUnit,
    Milestone,
    MilestoneKind,
    Patient,
    PatientUnit,
    PrnAdministration,
    PrnOrder,
    RelativeLink,
    Role,
    User,
    utcnow,
)
from pallapp.timeutil import today_local


def fhir_base() -> str:
    """Where the canonical URLs point: PALLAPP_FHIR_BASE_URL, else <PALLAPP_BASE_URL>/fhir,
    else (development, tests) this request's host + /fhir."""
    configured = current_app.config.get("FHIR_BASE_URL")
    if configured:
        return str(configured).rstrip("/")
    base = current_app.config.get("BASE_URL")
    if base:
        return f"{str(base).rstrip('/')}/fhir"
    if has_request_context():
        return f"{request.host_url.rstrip('/')}/fhir"
    return "http://localhost/fhir"


def _swedish(msgid: str) -> str:
    with force_locale("sv"):
        return gettext(msgid)


def _english(msgid: str) -> str:
    with force_locale("en"):
        return gettext(msgid)


def _swedish_in(context: str, msgid: str) -> str:
    with force_locale("sv"):
        return pgettext(context, msgid)


def _english_in(context: str, msgid: str) -> str:
    with force_locale("en"):
        return pgettext(context, msgid)


def terms() -> fhir.Terms:
    return fhir.Terms(fhir_base(), _english, _swedish, _english_in, _swedish_in)


def _current_assessments() -> ColumnElement[bool]:
    newer = aliased(Assessment)
    return ~exists(select(newer.id).where(newer.supersedes_id == Assessment.id))


def _current_doses() -> ColumnElement[bool]:
    newer = aliased(PrnAdministration)
    return ~exists(select(newer.id).where(newer.supersedes_id == PrnAdministration.id))


def _person(user: User | None, patient: Patient, links: dict[tuple[int, int], str]) -> fhir.Person | None:
    if user is None:
        return None
    role = user.role_enum
    if role is Role.PATIENT and user.patient_id == patient.id:
        return fhir.Person("Patient", patient.public_id, patient.name)
    if role is Role.RELATIVE:
        return fhir.Person(
            "RelatedPerson", f"{user.public_id}/{patient.public_id}", user.name,
            links.get((user.id, patient.id), ""),
        )
    return fhir.Person("Practitioner", user.public_id, user.name)


def _keeper(people: dict[str, fhir.Person]) -> Callable[[fhir.Person | None], fhir.Person | None]:
    """A function that remembers each person other than the patient, once, and returns it."""

    def keep(person: fhir.Person | None) -> fhir.Person | None:
        if person is not None and person.kind != "Patient":
            people.setdefault(person.ref, person)
        return person

    return keep


def patient_records(
    patients: Iterable[Patient],
    *,
    assessments: Iterable[Assessment] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[fhir.PatientRecord]:
    """Everything the FHIR export holds about `patients` (already checked and audited).
    `assessments`: those to include (default: the current versions of all of them);
    `since`/`until` bound the assessments by `observed_at` when they are read here."""
    patients = list(patients)
    ids = [p.id for p in patients]
    if not ids:
        return []
    if assessments is None:
        query = select(Assessment).where(Assessment.patient_id.in_(ids), _current_assessments())
        if since is not None:
            query = query.where(Assessment.observed_at >= since)
        if until is not None:
            query = query.where(Assessment.observed_at < until)
        assessments = db.session.scalars(query.order_by(Assessment.observed_at, Assessment.id))
    assessments = list(assessments)
    by_patient: dict[int, list[Assessment]] = defaultdict(list)
    for assessment in assessments:
        by_patient[assessment.patient_id].append(assessment)

    doses = list(
        db.session.execute(
            select(PrnAdministration, PrnOrder)
            .join(PrnOrder, PrnOrder.id == PrnAdministration.order_id)
            .where(PrnAdministration.patient_id.in_(ids), _current_doses())
            .order_by(PrnAdministration.given_at, PrnAdministration.id)
        )
    )
    milestones = list(
        db.session.scalars(
            select(Milestone)
            .where(Milestone.patient_id.in_(ids), Milestone.kind == MilestoneKind.BRYTPUNKTSSAMTAL.value)
            .order_by(Milestone.occurred_on, Milestone.id)
        )
    )
    user_ids = {a.entered_by_id for a in assessments} | {
        a.answered_by_id for a in assessments if a.answered_by_id
    } | {dose.given_by_id for dose, _order in doses} | {m.recorded_by_id for m in milestones}
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(user_ids)))} if user_ids else {}
    links = {
        (link.relative_id, link.patient_id): link.relation
        for link in db.session.scalars(select(RelativeLink).where(RelativeLink.patient_id.in_(ids)))
    }
    episodes: dict[int, list[tuple[PatientUnit, CareUnit]]] = defaultdict(list)
    for episode, unit in db.session.execute(
        select(PatientUnit, CareUnit)
        .join(CareUnit, CareUnit.id == PatientUnit.unit_id)
        .where(PatientUnit.patient_id.in_(ids))
        .order_by(PatientUnit.start, PatientUnit.id)
    ):
        episodes[episode.patient_id].append((episode, unit))

    records = []
    for patient in patients:
        people: dict[str, fhir.Person] = {}
        keep = _keeper(people)

        own = fhir.Person("Patient", patient.public_id, patient.name)
        assessment_records = []
        for a in by_patient[patient.id]:
            answered = users.get(a.answered_by_id) if a.answered_by_id else None
            entered = users[a.entered_by_id]
            if a.respondent == "patient":
                source = own
            elif a.respondent == "relative":
                # A relative without an account (answers read out to staff): a RelatedPerson
                # of this response only, so the proxy answer is still told from the patient's.
                source = _person(answered, patient, links) or fhir.Person(
                    "RelatedPerson", f"respondent/{a.public_id}", ""
                )
            else:
                source = _person(answered or entered, patient, links) or own
            author = _person(entered, patient, links) or own
            keep(source)
            keep(author)
            assessment_records.append(
                fhir.AssessmentRecord(
                    a.public_id, a.instrument, a.observed_at, a.respondent, a.answers,
                    a.scores, a.total, a.band, source, author,
                )
            )
        procedures = tuple(
            fhir.ProcedureRecord(m.public_id, m.occurred_on, keep(_person(users.get(m.recorded_by_id), patient, links)))
            for m in milestones
            if m.patient_id == patient.id
        )
        dose_records = []
        for dose, order in doses:
            if dose.patient_id != patient.id:
                continue
            giver = keep(_person(users[dose.given_by_id], patient, links)) or own
            dose_records.append(
                fhir.DoseRecord(
                    dose.public_id, dose.given_at, order.drug, dose.dose, dose.dose_unit,
                    dose.route, order.indication, giver,
                )
            )
        records.append(
            fhir.PatientRecord(
                public_id=patient.public_id,
                personnummer=patient.personnummer,
                is_coordination_number=patient.is_coordination_number,
                family_name=patient.family_name,
                given_name=patient.given_name,
                birth_date=patient.birth_date,
                died_on=patient.died_on,
                assessments=tuple(assessment_records),
                episodes=tuple(
                    fhir.EpisodeRecord(f"{patient.public_id}/{unit.public_id}/{e.start.isoformat()}",
                                       unit.public_id, unit.name, e.start, e.end)
                    for e, unit in episodes[patient.id]
                ),
                brytpunktssamtal=procedures,
                doses=tuple(dose_records),
                people=tuple(people.values()),
            )
        )
    return records


def unit_bundle(user: User, unit_public_id: str) -> dict[str, object]:
    """The FHIR export of a unit for one of its staff: the patients `user` may see with an
    episode in the unit today, and everything about them. Every patient is audit-logged as an
    `export` (object type `assessments`, detail `fhir`), and the unit once more.
    `LookupError` for a unit that is not one of the user's."""
    from pallapp.interop.spr_service import spr_units

    unit = next((u for u in spr_units(user) if u.public_id == unit_public_id), None)
    if unit is None:
        raise LookupError(unit_public_id)
    today = today_local()
    in_unit = exists(
        select(PatientUnit.id).where(
            PatientUnit.patient_id == Patient.id,
            PatientUnit.unit_id == unit.id,
            PatientUnit.start <= today,
            or_(PatientUnit.end.is_(None), PatientUnit.end > today),
        )
    )
    patients = list(
        db.session.scalars(visible_patients(user, Need.VIEW).where(in_unit).order_by(Patient.id))
    )
    audit.record_for_patients(
        AuditAction.EXPORT, patients, user=user, object_type="assessments", detail="fhir"
    )
    audit.record(AuditAction.EXPORT, user=user, obj=unit, detail=f"fhir: {len(patients)} patients")
    return fhir.bundle(terms(), patient_records(patients), timestamp=utcnow())
