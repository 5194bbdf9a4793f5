"""Who may see or change which patient: the one place that decides.

Every query for patient data starts from `visible_patients` or `find_patient` (or
`find_patient_and_needs`, which also says what else the user may do). Nothing else in
the app filters patients by role.

Rules:
- nurse, physician, manager: patients with an active episode in a unit where the user has an
  active membership today;
- patient: only their own record;
- relative: only patients with an active (not revoked) link; history only where the link allows;
- admin: no clinical data at all.

Relatives' access: the patient and the nurses and physicians of their units see who may act
for the patient and can end a relative's access (`MANAGE_RELATIVES`); deactivating the
patient's or a relative's account is for those staff only (`INVITE`, as creating one is).

As-needed medication: only physicians prescribe (`PRESCRIBE`); nurses and
physicians record doses (`RECORD_DOSE`), relatives too where one of the patient's units allows
it, and then they also see the orders (`VIEW_ORDERS`); patients do not see the orders.

EHR integrations (the FHIR API) read as an API client of one unit: its patients only
(`unit_client_patients`), as the unit's staff see them.

A patient the user may not see is reported as not found (`NotVisible` becomes a 404) so that
nobody learns whether a record exists; the refusal is audit-logged as `denied`.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Exists,
    Label,
    Select,
    and_,
    bindparam,
    exists,
    false,
    or_,
    select,
)
from sqlalchemy.orm import joinedload

from pallapp.extensions import db
from pallapp.models import CareUnit, Patient, PatientUnit, RelativeLink, Role, UnitMembership, User
from pallapp.timeutil import today_local


class Need(enum.StrEnum):
    """What the caller wants to do with the patient record."""

    VIEW = "view"
    VIEW_HISTORY = "view_history"
    CHANGE = "change"
    INVITE = "invite"
    # Submit a symptom rating for the patient (self-report, a relative, or staff).
    REPORT = "report"
    # Create, change or stop an as-needed order.
    PRESCRIBE = "prescribe"
    # Record an as-needed dose given, and its effect.
    RECORD_DOSE = "record_dose"
    # See the as-needed orders and the doses given.
    VIEW_ORDERS = "view_orders"
    # See the whole care plan with its history, and the milestones (patients and relatives
    # see the contacts and the part written for them through VIEW).
    VIEW_CARE_PLAN = "view_care_plan"
    # See the relatives who may act for the patient, and end a relative's access: the patient
    # themself and the staff who chart for them (the accounts themselves: INVITE).
    MANAGE_RELATIVES = "manage_relatives"


class NotVisible(Exception):
    """The user may not do `need` with this patient, or the patient does not exist."""

    def __init__(self, public_id: str, need: Need, patient: Patient | None = None) -> None:
        super().__init__(public_id)
        self.public_id = public_id
        self.need = need
        self.patient = patient


def _active_on(
    model: type[UnitMembership] | type[PatientUnit], day: date | ColumnElement[date]
) -> ColumnElement[bool]:
    return and_(model.start <= day, or_(model.end.is_(None), model.end > day))


def had_care_relationship(user_id: Any, patient_id: Any, day: date | ColumnElement[date]) -> Exists:
    """A SQL condition: the user (a column or value) was a member of a unit that followed the
    patient on `day` (a SQL date expression), the same rule that lets staff see a patient.
    For reviewing the audit log: which accesses came from outside the care relationship."""
    shared_unit = (
        select(PatientUnit.id)
        .join(UnitMembership, UnitMembership.unit_id == PatientUnit.unit_id)
        .where(
            PatientUnit.patient_id == patient_id,
            UnitMembership.user_id == user_id,
            _active_on(PatientUnit, day),
            _active_on(UnitMembership, day),
        )
    )
    return exists(shared_unit)


def _unit_lets_relatives_record_doses(day: date | ColumnElement[date]) -> Exists:
    allowing = (
        select(PatientUnit.id)
        .join(CareUnit, CareUnit.id == PatientUnit.unit_id)
        .where(
            PatientUnit.patient_id == Patient.id,
            CareUnit.relatives_may_record_doses.is_(True),
            _active_on(PatientUnit, day),
        )
    )
    return exists(allowing)


class _Test(enum.Enum):
    """The one SQL test that decides a need for a user; several needs share one test."""

    STAFF = "staff"  # an active episode in a unit where the user is an active member
    OWN_RECORD = "own_record"  # the patient's own account
    LINK = "link"  # an active relative link
    LINK_HISTORY = "link_history"  # ... that allows viewing the history
    LINK_DOSES = "link_doses"  # ... and a unit of the patient lets relatives record doses


_CHARTING = frozenset(
    {
        Need.CHANGE,
        Need.INVITE,
        Need.REPORT,
        Need.PRESCRIBE,
        Need.RECORD_DOSE,
        Need.MANAGE_RELATIVES,
    }
)
# A patient reads their own record and reports symptoms; the orders are the care team's.
_STAFF_ONLY = frozenset(
    {
        Need.CHANGE,
        Need.INVITE,
        Need.PRESCRIBE,
        Need.RECORD_DOSE,
        Need.VIEW_ORDERS,
        Need.VIEW_CARE_PLAN,
    }
)


def _test_for(user: User, need: Need) -> _Test | None:
    """Which test decides whether `user` may `need` a patient; None: no patient, whoever it is
    (known from the account alone, so nobody has to ask the database)."""
    if not user.is_authenticated or not user.active:
        return None
    role = user.role_enum
    if role.is_staff:
        if need in _CHARTING and role is Role.MANAGER:
            # Managers read their units' records for quality work; they do not chart.
            return None
        if need is Need.PRESCRIBE and role is not Role.PHYSICIAN:
            return None
        return _Test.STAFF
    if role is Role.PATIENT:
        if need in _STAFF_ONLY or user.patient_id is None:
            return None
        return _Test.OWN_RECORD
    if role is Role.RELATIVE:
        if need in (Need.RECORD_DOSE, Need.VIEW_ORDERS):
            return _Test.LINK_DOSES
        if need is Need.VIEW_HISTORY:
            return _Test.LINK_HISTORY
        if need in (Need.VIEW, Need.REPORT):
            return _Test.LINK
        # Answering as proxy, rather than helping, is checked against the link by the service.
        return None
    return None  # admin and anything unknown: no clinical data


def _condition(test: _Test, user: User, day: date) -> ColumnElement[bool]:
    return _condition_on(test, user.id, user.patient_id, day)


def _condition_on(
    test: _Test, user_id: Any, own_patient_id: Any, day: date | ColumnElement[date]
) -> ColumnElement[bool]:
    """`_condition` with the user's id, the user's own patient id and the day as values or
    bound parameters (for statements built once)."""
    if test is _Test.STAFF:
        return had_care_relationship(user_id, Patient.id, day)
    if test is _Test.OWN_RECORD:
        own: ColumnElement[bool] = Patient.id == own_patient_id
        return own
    link = select(RelativeLink.id).where(
        RelativeLink.patient_id == Patient.id,
        RelativeLink.relative_id == user_id,
        RelativeLink.revoked_at.is_(None),
    )
    if test is _Test.LINK_DOSES:
        return and_(exists(link), _unit_lets_relatives_record_doses(day))
    if test is _Test.LINK_HISTORY:
        link = link.where(RelativeLink.may_view_history.is_(True))
    return exists(link)


def patient_condition(
    user: User, need: Need = Need.VIEW, day: date | None = None
) -> ColumnElement[bool]:
    """A SQL condition on `Patient` that is true for the patients `user` may `need`."""
    test = _test_for(user, need)
    if test is None:
        return false()
    return _condition(test, user, day or today_local())


@functools.cache
def _bound_condition(test: _Test) -> ColumnElement[bool]:
    return _condition_on(
        test,
        bindparam("access_user_id"),
        bindparam("access_own_patient_id"),
        bindparam("access_day"),
    )


def bound_patient_condition(
    user: User, need: Need = Need.VIEW, day: date | None = None
) -> tuple[ColumnElement[bool], dict[str, Any]] | None:
    """`patient_condition` for statements built once: the condition with the user and the day
    as bound parameters, and the values to execute it with. The condition is the same object
    for every user whom the same test decides, so a statement built around it can be kept by
    it. None: the account alone says no patient (where `patient_condition` says `false()`)."""
    test = _test_for(user, need)
    if test is None:
        return None
    return _bound_condition(test), _bound_values(user, day)


def _bound_values(user: User, day: date | None = None) -> dict[str, Any]:
    """The values of `_bound_condition`'s parameters for `user` on `day` (default today)."""
    return {
        "access_user_id": user.id,
        "access_own_patient_id": user.patient_id,
        "access_day": day or today_local(),
    }


def _needs_columns(
    user: User, needs: Iterable[Need], day: date
) -> tuple[dict[Need, _Test | None], list[_Test], list[Label[bool]]]:
    """For each need, its test; and one labelled boolean column per distinct test."""
    tests = {need: _test_for(user, need) for need in needs}
    distinct = [test for test in _Test if test in tests.values()]
    columns = [_condition(test, user, day).label(f"may_{test.value}") for test in distinct]
    return tests, distinct, columns


def _needs_from_row(
    tests: dict[Need, _Test | None], distinct: list[_Test], values: Sequence[object]
) -> frozenset[Need]:
    passed = {test for test, value in zip(distinct, values, strict=True) if value}
    return frozenset(need for need, test in tests.items() if test in passed)


def visible_patients(user: User, need: Need = Need.VIEW) -> Select[Patient]:
    """A query for every patient `user` may `need` (add ordering and filters to it)."""
    return select(Patient).where(patient_condition(user, need))


@functools.cache
def _visible_patients_query(test: _Test | None) -> Select[Patient]:
    if test is None:
        return select(Patient).where(false())
    return select(Patient).where(_bound_condition(test))


def visible_patients_bound(
    user: User, need: Need = Need.VIEW
) -> tuple[Select[Patient], dict[str, Any]]:
    """`visible_patients` as a statement built once per test (the role decides which), with the
    values to run it with (those of `bound_patient_condition`). A caller may build its own
    statement on it once and keep it, keyed by this statement: building the conditions cost
    more than running the query."""
    return _visible_patients_query(_test_for(user, need)), _bound_values(user)


@functools.cache
def _find_patient_query(visible: Select[Patient]) -> Select[Patient]:
    return visible.where(Patient.public_id == bindparam("public_id"))


@functools.cache
def _find_patient_with_query(
    visible: Select[Patient], extend: Callable[[Select[Patient]], Select[Any]]
) -> Select[Any]:
    return extend(_find_patient_query(visible))


def _not_visible(public_id: str, need: Need) -> NotVisible:
    # Looked up only so the denial can name the record in the audit log.
    existing = db.session.scalar(select(Patient).where(Patient.public_id == public_id))
    return NotVisible(public_id, need, existing)


def find_patient(user: User, public_id: str, need: Need = Need.VIEW) -> Patient:
    """The patient with `public_id` if `user` may `need` it; else raise `NotVisible`."""
    visible, values = visible_patients_bound(user, need)
    patient = db.session.scalar(_find_patient_query(visible), {**values, "public_id": public_id})
    if patient is None:
        raise _not_visible(public_id, need)
    return patient


def find_patient_with(
    user: User,
    public_id: str,
    need: Need,
    extend: Callable[[Select[Patient]], Select[Any]],
    values: dict[str, Any],
) -> tuple[Patient, tuple[Any, ...]]:
    """`find_patient`, with more columns in the same statement: `extend` adds them to the
    statement that finds the patient (correlated to `Patient`, or bound to the parameter
    `public_id`), and `values` binds their own parameters. Returns the patient and the
    values of the added columns. For small answers asked on every request (a chart's validator),
    where a second round trip cost as much as the rest. `extend` must be a module-level
    function: the statement is built once for each (access test, `extend`)."""
    visible, bound = visible_patients_bound(user, need)
    row = db.session.execute(
        _find_patient_with_query(visible, extend), {**values, **bound, "public_id": public_id}
    ).one_or_none()
    if row is None:
        raise _not_visible(public_id, need)
    return row[0], tuple(row[1:])


@functools.cache
def _patient_and_needs_query(
    need_test: _Test, distinct: tuple[_Test, ...], with_episodes: bool
) -> Select[Patient, *tuple[bool, ...]]:
    """The statement of `find_patient_and_needs` for one test of the need asked and one set of
    tests (both follow from the role), the user, the day and the record bound at each call:
    building these conditions cost more than running the query."""
    user_id: BindParameter[int] = bindparam("user_id")
    own: BindParameter[int | None] = bindparam("own_patient_id")
    day: BindParameter[date] = bindparam("day")
    query: Select[Patient, *tuple[bool, ...]] = select(
        Patient,
        *[_condition_on(test, user_id, own, day).label(f"may_{test.value}") for test in distinct],
    ).where(_condition_on(need_test, user_id, own, day), Patient.public_id == bindparam("public_id"))
    if with_episodes:
        # The units of the episodes come with them (`PatientUnit.unit` is joined).
        query = query.options(joinedload(Patient.episodes))
    return query


def find_patient_and_needs(
    user: User, public_id: str, need: Need = Need.VIEW, *, with_episodes: bool = False
) -> tuple[Patient, frozenset[Need]]:
    """`find_patient`, and in the same query everything else `user` may do with the patient
    (as `needs_for`): for pages that show or hide many links and buttons. `with_episodes`:
    load the patient's episodes with their units in the same query (pages that name them)."""
    tests = {each: _test_for(user, each) for each in Need}
    distinct = tuple(test for test in _Test if test in tests.values())
    need_test = tests[need]
    row = None
    if need_test is not None:
        row = (
            db.session.execute(
                _patient_and_needs_query(need_test, distinct, with_episodes),
                {
                    "user_id": user.id,
                    "own_patient_id": user.patient_id,
                    "day": today_local(),
                    "public_id": public_id,
                },
            )
            .unique()
            .one_or_none()
        )
    if row is None:
        raise _not_visible(public_id, need)
    return row[0], _needs_from_row(tests, list(distinct), row[1:])


def needs_for(
    user: User, patient: Patient, needs: Iterable[Need] = tuple(Need)
) -> frozenset[Need]:
    """Which of `needs` `user` may do with `patient`, in one query (none when the account alone
    says no to all of them).

    The answer is a snapshot: ask again after changing memberships, episodes or relative links
    in the same request. Nothing here is remembered between calls.
    """
    tests, distinct, columns = _needs_columns(user, needs, today_local())
    if not distinct:
        return frozenset()
    values = db.session.execute(
        select(Patient.id, *columns).where(Patient.id == patient.id)
    ).one_or_none()
    if values is None:
        return frozenset()
    return _needs_from_row(tests, distinct, values[1:])


def can(user: User, patient: Patient, need: Need) -> bool:
    """Whether `user` may `need` `patient` (for showing or hiding links and buttons)."""
    return need in needs_for(user, patient, (need,))


def unit_client_patients(unit_id: int, day: date | None = None) -> Select[Patient]:
    """The patients an API client of unit `unit_id` may read: those with an episode in the unit
    that is active on `day` (today), the same rule that lets the unit's staff see them. A
    client belongs to one unit and acts for no person, so no other test applies."""
    today = day or today_local()
    in_unit = select(PatientUnit.id).where(
        PatientUnit.patient_id == Patient.id,
        PatientUnit.unit_id == unit_id,
        _active_on(PatientUnit, today),
    )
    return select(Patient).where(exists(in_unit))


def relative_link(user: User, patient: Patient) -> RelativeLink | None:
    """The active link between a relative and a patient, if any."""
    return db.session.scalar(
        select(RelativeLink).where(
            RelativeLink.relative_id == user.id,
            RelativeLink.patient_id == patient.id,
            RelativeLink.revoked_at.is_(None),
        )
    )
