"""Use cases around patient records: lists, the patient page, enrolment, invitations."""

from __future__ import annotations

import enum
import functools
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import (
    Date,
    Integer,
    Select,
    String,
    Table,
    and_,
    bindparam,
    func,
    literal,
    null,
    or_,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import selectinload

from pallapp import audit, carerecord, flags
from pallapp.access import Need as Need  # the views name needs through the services
from pallapp.access import (
    can,
    find_patient,
    find_patient_and_needs,
    visible_patients,
    visible_patients_bound,
)
from pallapp.auth.services import IssuedInvitation, email_taken, issue_invitation
from pallapp.extensions import db
from pallapp.flags.expected import SetBy, ShownMarking
from pallapp.models import (
    AuditAction,
    CarePlan,
    CareUnit,
    ExpectedLevel,
    Invitation,
    Patient,
    PatientUnit,
    Phase,
    RelativeLink,
    Role,
    User,
    utcnow,
)
from pallapp.pnr import IdentityNumber, mask_personnummer
from pallapp.timeutil import today_local

LIST_LIMIT = 200


def current_care_plans(patients: list[Patient]) -> dict[int, CarePlan | None]:
    """The current care plan of each listed patient (already shown, so already audited)."""
    return {patient.id: carerecord.current_care_plan(patient) for patient in patients}


@dataclass(frozen=True, slots=True)
class ListedPatient:
    """A patient as the Today list shows them, read as plain columns in one query: building
    records with their episodes and units, then counting their flags, was over a third of the
    page's time for a list of 200."""

    id: int
    public_id: str
    family_name: str
    given_name: str
    masked_personnummer: str
    phase: Phase
    #: The units following the patient today, the longest-standing first.
    unit_names: list[str]
    #: Open high and medium flags; None when there are none.
    open_flags: flags.FlagCounts | None


class _SearchKind(enum.Enum):
    NONE = "none"
    DIGITS = "digits"
    NAME = "name"


@functools.cache
def _today_query(visible: Select[Patient], kind: _SearchKind) -> Select[Any]:
    """The Today list's statement for one access statement (`visible_patients_bound`) and one
    kind of search, built once: the user, the day and the search are bound parameters
    (`digits` or `pattern`, and `today`). Building it for every request was about a seventh of
    the page's time."""
    query = visible.with_only_columns(
        Patient.id,
        Patient.public_id,
        Patient.family_name,
        Patient.given_name,
        Patient.personnummer,
        Patient.phase,
    )
    if kind is _SearchKind.DIGITS:
        query = query.where(Patient.personnummer.contains(bindparam("digits", type_=String)))
    elif kind is _SearchKind.NAME:
        pattern = bindparam("pattern", type_=String)
        full_name = func.lower(Patient.given_name + " " + Patient.family_name)
        query = query.where(
            or_(
                func.lower(Patient.given_name).like(pattern),
                func.lower(Patient.family_name).like(pattern),
                full_name.like(pattern),
            )
        )
    listed = (
        query.order_by(Patient.family_name, Patient.given_name, Patient.id)
        .limit(LIST_LIMIT + 1)
        .subquery("listed")
    )
    # The listed patients with the units of today's episodes (a row per episode) and their open
    # flags counted, in one statement: no list of ids sent back for the rest.
    day = bindparam("today", type_=Date)
    high, medium = flags.open_flag_count_columns(listed.c.id)
    return (
        select(listed, CareUnit.name, high, medium)
        .select_from(listed)
        .outerjoin(
            PatientUnit,
            and_(
                PatientUnit.patient_id == listed.c.id,
                PatientUnit.start <= day,
                or_(PatientUnit.end.is_(None), PatientUnit.end > day),
            ),
        )
        .outerjoin(CareUnit, CareUnit.id == PatientUnit.unit_id)
        .order_by(
            listed.c.family_name,
            listed.c.given_name,
            listed.c.id,
            PatientUnit.start,
            PatientUnit.id,
        )
    )


def patients_for_today(user: User, search: str = "") -> tuple[list[ListedPatient], bool]:
    """The patients of the user's units, filtered by name or personal identity number.

    Returns the patients (at most LIST_LIMIT, by family name) and whether more matched; each
    patient shown is audited.
    """
    visible, values = visible_patients_bound(user, Need.VIEW)
    search = search.strip()
    kind = _SearchKind.NONE
    if search:
        digits = re.sub(r"\D", "", search)
        if len(digits) >= 4 and len(digits) >= len(search.replace("-", "").replace(" ", "")):
            kind = _SearchKind.DIGITS
            values["digits"] = digits
        else:
            kind = _SearchKind.NAME
            values["pattern"] = f"%{search.lower()}%"
    values["today"] = today_local()
    rows = db.session.execute(_today_query(visible, kind), values)
    found: dict[int, ListedPatient] = {}
    for patient_id, public_id, family, given, digits, phase, unit, high_count, medium_count in rows:
        patient = found.get(patient_id)
        if patient is None:
            patient = found[patient_id] = ListedPatient(
                id=patient_id,
                public_id=public_id,
                family_name=family,
                given_name=given,
                masked_personnummer=mask_personnummer(digits),
                phase=Phase(phase),
                unit_names=[],
                open_flags=(
                    flags.FlagCounts(high=high_count, medium=medium_count)
                    if high_count or medium_count
                    else None
                ),
            )
        if unit is not None:
            patient.unit_names.append(unit)
    patients = list(found.values())
    shown = patients[:LIST_LIMIT]
    # One event per patient shown, naming the patient (never the search text), so that the
    # access review by patient and the patient's own access list find it; one insert for all.
    audit.record_for_patient_ids(
        AuditAction.VIEW,
        [patient.id for patient in shown],
        object_type="patient_list",
        detail="search" if search else None,
    )
    return shown, len(patients) > LIST_LIMIT


def open_patient(user: User, public_id: str, need: Need = Need.VIEW) -> Patient:
    """The patient record if `user` may `need` it, else NotVisible (a 404); audited."""
    patient = find_patient(user, public_id, need)
    audit.record(AuditAction.VIEW, patient=patient, obj=patient)
    return patient


def open_patient_and_needs(
    user: User, public_id: str, need: Need = Need.VIEW
) -> tuple[Patient, frozenset[Need]]:
    """`open_patient`, with everything else the user may do with the record (`needs_for`)
    and the episodes with their units (the patient page names them) from the same query."""
    patient, needs = find_patient_and_needs(user, public_id, need, with_episodes=True)
    # The event `open_patient` adds, written at once as a plain row.
    audit.record_for_patients(AuditAction.VIEW, [patient], object_type="patient", user=user)
    return patient, needs


@functools.cache
def _relative_links_query() -> Select[Any]:
    # Built once (the patient page shows the relatives on every view), the patient bound at
    # each call; plain columns, of the account only the name (what the page shows).
    links: Table = RelativeLink.__table__  # type: ignore[assignment]  # a mapped class's table
    users: Table = User.__table__  # type: ignore[assignment]
    return (
        select(
            links.c.relation, links.c.may_answer_as_proxy, links.c.may_view_history, users.c.name
        )
        .join(users, users.c.id == links.c.relative_id)
        .where(links.c.patient_id == bindparam("patient_id"), links.c.revoked_at.is_(None))
        .order_by(links.c.created_at)
    )


@dataclass(frozen=True, slots=True)
class Relative:
    name: str


@dataclass(frozen=True, slots=True)
class ShownRelativeLink:
    """An active link as the patient page lists it, read as plain columns: building the ORM
    objects of the links and accounts cost more than the query."""

    relation: str
    may_answer_as_proxy: bool
    may_view_history: bool
    relative: Relative


def active_relative_links(patient: Patient) -> list[ShownRelativeLink]:
    """The patient's active links, oldest first, with the relatives' names (the page names
    them)."""
    rows = db.session.connection().execute(_relative_links_query(), {"patient_id": patient.id})
    return [
        ShownRelativeLink(relation, proxy, history, Relative(name))
        for relation, proxy, history, name in rows
    ]


@functools.cache
def _relatives_and_markings_query() -> Select[Any]:
    # The relatives' query (`_relative_links_query`) and the expected levels' (pallapp.flags.
    # expected.markings_for) as one statement: each part's rows in its own order, numbered,
    # the columns the other part has not left NULL. Built once, the values bound at each call.
    links: Table = RelativeLink.__table__  # type: ignore[assignment]  # a mapped class's table
    markings: Table = ExpectedLevel.__table__  # type: ignore[assignment]
    users: Table = User.__table__  # type: ignore[assignment]
    relatives = users.alias("relative_account")
    setters = users.alias("set_by_account")
    marking_columns = [
        markings.c[name]
        for name in (
            "id",
            "public_id",
            "instrument",
            "item",
            "level",
            "reason",
            "created_at",
            "expires_at",
            "ended_at",
        )
    ]
    links_part = (
        select(
            # Labelled: unlabelled NULLs would be taken for one column.
            literal(0, Integer).label("part"),
            func.row_number().over(order_by=links.c.created_at).label("position"),
            links.c.relation,
            links.c.may_answer_as_proxy,
            links.c.may_view_history,
            relatives.c.name,
            # Typed as the markings' columns (the times are UTCDateTime).
            *(
                type_coerce(null(), column.type).label(f"marking_{column.name}")
                for column in marking_columns
            ),
        )
        .join(relatives, relatives.c.id == links.c.relative_id)
        .where(links.c.patient_id == bindparam("patient_id"), links.c.revoked_at.is_(None))
    )
    markings_part = (
        select(
            literal(1, Integer),
            func.row_number().over(order_by=markings.c.created_at.desc()),
            type_coerce(null(), links.c.relation.type),
            type_coerce(null(), links.c.may_answer_as_proxy.type),
            type_coerce(null(), links.c.may_view_history.type),
            setters.c.name,
            *marking_columns,
        )
        .join(setters, setters.c.id == markings.c.set_by_id)
        .where(
            markings.c.patient_id == bindparam("patient_id"),
            markings.c.expires_at > bindparam("since"),
        )
    )
    both = union_all(links_part, markings_part).subquery()
    return select(both).order_by(both.c.part, both.c.position)


def relatives_and_markings(
    patient: Patient, now: datetime, *, days_back: int = 30
) -> tuple[list[ShownRelativeLink], list[ShownMarking]]:
    """`active_relative_links(patient)` and `flags.expected.markings_for(patient, now)` in one
    query (the patient page shows both to staff; the caller has opened and audited the
    record)."""
    rows = db.session.connection().execute(
        _relatives_and_markings_query(),
        {"patient_id": patient.id, "since": now - timedelta(days=days_back)},
    )
    links: list[ShownRelativeLink] = []
    markings: list[ShownMarking] = []
    for row in rows:
        if row[0] == 0:
            links.append(ShownRelativeLink(row[2], row[3], row[4], Relative(row[5])))
        else:
            markings.append(ShownMarking(*row[6:], SetBy(row[5])))  # type: ignore[call-arg]  # mypy cannot count a row's columns
    return links, markings


def units_to_enrol_in(user: User) -> list[CareUnit]:
    return sorted(user.active_units(today_local()), key=lambda unit: unit.name)


class DuplicatePatient(Exception):
    """A patient with this personal identity number is already registered.

    `visible_public_id` is the record's id when the user may already see it (their own unit
    follows the patient), else None: then nothing tells the user whether the number belongs to
    another unit's patient, to a patient no unit follows any more, or why it was refused.
    """

    def __init__(self, visible_public_id: str | None) -> None:
        super().__init__(visible_public_id)
        self.visible_public_id = visible_public_id


def enrol_patient(
    user: User,
    *,
    identity: IdentityNumber,
    given_name: str,
    family_name: str,
    main_diagnosis: str,
    enrolled_on: date,
    unit: CareUnit,
) -> Patient:
    """Register a patient and start an episode in `unit` (one of the user's active units)."""
    if unit not in units_to_enrol_in(user) or user.role not in (Role.NURSE, Role.PHYSICIAN):
        raise PermissionError("not a member of this unit")
    existing = db.session.scalar(select(Patient).where(Patient.personnummer == identity.digits))
    if existing is not None:
        # The refusal itself tells the user that the number is registered: logged as a look at
        # that patient, so the patient's units see it in their access review and the patient in
        # their own access list.
        audit.record(AuditAction.VIEW, user=user, patient=existing, object_type="enrolment_check")
        raise DuplicatePatient(existing.public_id if can(user, existing, Need.VIEW) else None)
    patient = Patient(
        personnummer=identity.digits,
        is_coordination_number=identity.is_coordination_number,
        birth_date=identity.birth_date,
        given_name=given_name.strip(),
        family_name=family_name.strip(),
        main_diagnosis=main_diagnosis.strip(),
        enrolled_on=enrolled_on,
    )
    db.session.add(patient)
    db.session.flush()
    db.session.add(PatientUnit(patient_id=patient.id, unit_id=unit.id, start=enrolled_on))
    db.session.flush()
    audit.record(AuditAction.CREATE, patient=patient, obj=patient)
    return patient


def invite_to_patient(
    user: User,
    patient_public_id: str,
    *,
    who: str,
    name: str,
    email: str,
    relation: str | None,
    may_answer_as_proxy: bool,
    may_view_history: bool,
) -> IssuedInvitation:
    """Invite the patient or a relative; only staff caring for the patient may."""
    patient = find_patient(user, patient_public_id, Need.INVITE)
    if email_taken(email):
        raise ValueError("email_taken")
    role = Role.PATIENT if who == "patient" else Role.RELATIVE
    return issue_invitation(
        created_by=user,
        email=email,
        name=name,
        role=role,
        valid_for=timedelta(hours=current_app.config["INVITATION_VALID_HOURS"]),
        patient_id=patient.id,
        relation=relation if role is Role.RELATIVE else None,
        may_answer_as_proxy=may_answer_as_proxy if role is Role.RELATIVE else False,
        may_view_history=may_view_history if role is Role.RELATIVE else False,
    )


def own_patients(user: User) -> list[Patient]:
    """For a patient or a relative: the records their start page shows."""
    query = visible_patients(user, Need.VIEW).options(
        selectinload(Patient.episodes).selectinload(PatientUnit.unit)
    )
    patients = list(db.session.scalars(query.order_by(Patient.family_name)))
    for patient in patients:
        audit.record(AuditAction.VIEW, patient=patient, obj=patient, detail="start page")
    return patients


def open_invitations(patient: Patient) -> list[Invitation]:
    """The patient's and relatives' invitations that can still be used, oldest first (for the
    care team, who may withdraw them; the page that shows them is already audited)."""
    return list(
        db.session.scalars(
            select(Invitation)
            .where(
                Invitation.patient_id == patient.id,
                Invitation.used_at.is_(None),
                Invitation.revoked_at.is_(None),
                Invitation.expires_at > utcnow(),
            )
            .order_by(Invitation.created_at, Invitation.id)
        )
    )
