"""Reads of a patient's care record that several features show: the current care plan,
milestones, the orders in force and the doses given. The caller has found the patient through
`pallapp.access` and audit-logs the page; these only query.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    CompoundSelect,
    Integer,
    Select,
    Table,
    bindparam,
    cast,
    exists,
    func,
    literal,
    null,
    select,
    union_all,
)
from sqlalchemy.orm import aliased, joinedload

from pallapp import flags
from pallapp.extensions import db
from pallapp.flags.due import OpenFlag, latest_ratings_query, open_flags_query
from pallapp.flags.orders import ShownOrder, shown_order, shown_orders_query
from pallapp.models import CarePlan, Milestone, Patient, PrnAdministration, PrnOrder, User
from pallapp.models.careplan import MilestoneWords

# The patient page's queries are built once, with the patient (and times) as bound parameters:
# building an ORM statement costs more than running one of these small ones.


@functools.cache
def _care_plan_query() -> Select[CarePlan]:
    return (
        select(CarePlan)
        .where(CarePlan.patient_id == bindparam("patient_id"))
        .order_by(CarePlan.version.desc())
        .limit(1)
    )


def current_care_plan(patient: Patient) -> CarePlan | None:
    """The newest version of the patient's care plan (None before the first)."""
    return db.session.scalar(_care_plan_query(), {"patient_id": patient.id})


@functools.cache
def _milestones_query() -> Select[Milestone]:
    return (
        select(Milestone)
        .where(Milestone.patient_id == bindparam("patient_id"))
        # Only the name of who recorded it is shown.
        .options(joinedload(Milestone.recorded_by, innerjoin=True).load_only(User.name))
        .order_by(Milestone.occurred_on.desc(), Milestone.id.desc())
    )


def milestones_of(patient: Patient) -> list[Milestone]:
    """The patient's milestones, newest first, with who recorded them."""
    return list(db.session.scalars(_milestones_query(), {"patient_id": patient.id}))


def active_orders(patient: Patient, now: datetime) -> list[PrnOrder]:
    """The orders in force at `now`, in the order of the indications."""
    return flags.in_force(flags.open_orders(patient, now), now)


@functools.cache
def current_doses() -> ColumnElement[bool]:
    """Condition: the dose has not been replaced by a correction.

    Built once: the alias it needs costs more to make than the rest of a page's query, and the
    condition is the same in every statement (elements are immutable, so sharing is safe)."""
    newer = aliased(PrnAdministration)
    return ~exists(select(newer.id).where(newer.supersedes_id == PrnAdministration.id))


@functools.cache
def _doses_since_query() -> Select[PrnAdministration]:
    return (
        select(PrnAdministration)
        .where(
            PrnAdministration.patient_id == bindparam("patient_id"),
            PrnAdministration.given_at > bindparam("since"),
            current_doses(),
        )
        .options(joinedload(PrnAdministration.order, innerjoin=True))
        .order_by(PrnAdministration.given_at.desc())
    )


@functools.cache
def _doses_to_evaluate_query() -> Select[PrnAdministration]:
    return (
        select(PrnAdministration)
        .where(
            PrnAdministration.patient_id == bindparam("patient_id"),
            PrnAdministration.evaluated_at.is_(None),
            current_doses(),
        )
        .options(joinedload(PrnAdministration.order, innerjoin=True))
        .order_by(PrnAdministration.given_at.desc())
        .limit(bindparam("limit"))
    )


def doses_since(patient: Patient, since: datetime) -> list[PrnAdministration]:
    """Doses (current versions) given after `since`, newest first, with their orders."""
    return list(
        db.session.scalars(_doses_since_query(), {"patient_id": patient.id, "since": since})
    )


def doses_to_evaluate(patient: Patient, limit: int = 20) -> list[PrnAdministration]:
    """Doses whose effect has not been recorded yet, newest first."""
    return list(
        db.session.scalars(_doses_to_evaluate_query(), {"patient_id": patient.id, "limit": limit})
    )


# --- the same records read as plain columns, for the patient page ------------------------------
# The patient page only shows these: building ORM objects (identity map, instance state, the
# joined order or account of each row) cost more than running the queries. Run on the session's
# connection (same transaction), built once with the values bound.


def _table(model: type[Any]) -> Table:
    table: Table = model.__table__
    return table


def _rows(query: Select[Any], params: dict[str, Any]) -> Sequence[Any]:
    # `all()`: the rows fetched at once, not one by one as iterating the result does.
    return db.session.connection().execute(query, params).all()


@dataclass(frozen=True, slots=True)
class Named:
    """Who prescribed or recorded something, as pages name them."""

    name: str


@dataclass(frozen=True, slots=True)
class DoseOrder:
    """Of a dose's order, what the patient page shows or matches doses by."""

    series_id: str
    drug: str


@dataclass(frozen=True, slots=True)
class ShownDose:
    """A dose (its current version) as the patient and order pages show it."""

    public_id: str
    given_at: datetime
    dose: str
    amount: Decimal | None
    dose_unit: str
    effect: str | None
    order: DoseOrder


@functools.cache
def _shown_doses_query(to_evaluate: bool) -> Select[Any]:
    doses, orders = _table(PrnAdministration), _table(PrnOrder)
    newer = doses.alias("newer")
    query = (
        select(
            doses.c.public_id,
            doses.c.given_at,
            doses.c.dose,
            doses.c.amount,
            doses.c.dose_unit,
            doses.c.effect,
            orders.c.series_id,
            orders.c.drug,
        )
        .join(orders, orders.c.id == doses.c.order_id)
        .where(
            doses.c.patient_id == bindparam("patient_id"),
            # The current version: not replaced by a correction (as `current_doses`).
            ~exists(select(newer.c.id).where(newer.c.supersedes_id == doses.c.id)),
        )
        .order_by(doses.c.given_at.desc())
    )
    if to_evaluate:
        return query.where(doses.c.evaluated_at.is_(None)).limit(bindparam("limit"))
    return query.where(doses.c.given_at > bindparam("since"))


def _shown_doses(rows: Sequence[Any]) -> list[ShownDose]:
    return [
        ShownDose(public_id, given_at, dose, amount, unit, effect, DoseOrder(series_id, drug))
        for public_id, given_at, dose, amount, unit, effect, series_id, drug in rows
    ]


@functools.cache
def _shown_doses_both_query() -> Select[Any]:
    # Both lists in one statement (the patient page shows both): each part as its own query
    # (the doses to evaluate with their limit), told apart by `part`.
    parts = [
        select(literal(part).label("part"), _shown_doses_query(bool(part)).subquery())
        for part in (0, 1)
    ]
    both = union_all(*parts).subquery("both")
    return select(both).order_by(both.c.part, both.c.given_at.desc())


def shown_doses(
    patient: Patient, since: datetime, limit: int = 20
) -> tuple[list[ShownDose], list[ShownDose]]:
    """`shown_doses_since(patient, since)` and `shown_doses_to_evaluate(patient, limit)`, read
    in one statement."""
    rows = _rows(
        _shown_doses_both_query(), {"patient_id": patient.id, "since": since, "limit": limit}
    )
    recent = _shown_doses([row[1:] for row in rows if row[0] == 0])
    to_evaluate = _shown_doses([row[1:] for row in rows if row[0] == 1])
    return recent, to_evaluate


def shown_doses_since(patient: Patient, since: datetime) -> list[ShownDose]:
    """`doses_since`, as plain values."""
    params = {"patient_id": patient.id, "since": since}
    return _shown_doses(_rows(_shown_doses_query(False), params))


def shown_doses_to_evaluate(patient: Patient, limit: int = 20) -> list[ShownDose]:
    """`doses_to_evaluate`, as plain values."""
    params = {"patient_id": patient.id, "limit": limit}
    return _shown_doses(_rows(_shown_doses_query(True), params))


@dataclass(frozen=True, slots=True)
class ShownMilestone(MilestoneWords):
    """A milestone as the patient page lists it (`careplan/_milestone_list.html`)."""

    kind: str
    occurred_on: date
    participants: str
    note: str
    place: str | None
    death_expected: bool | None
    free_of_pressure_ulcers: bool | None
    recorded_by: Named


@functools.cache
def _shown_milestones_query() -> Select[Any]:
    milestones, users = _table(Milestone), _table(User)
    return (
        select(
            milestones.c.kind,
            milestones.c.occurred_on,
            milestones.c.participants,
            milestones.c.note,
            milestones.c.place,
            milestones.c.death_expected,
            milestones.c.free_of_pressure_ulcers,
            users.c.name,
        )
        .join(users, users.c.id == milestones.c.recorded_by_id)
        .where(milestones.c.patient_id == bindparam("patient_id"))
        .order_by(milestones.c.occurred_on.desc(), milestones.c.id.desc())
    )


def shown_milestones(patient: Patient) -> list[ShownMilestone]:
    """`milestones_of`, as plain values."""
    return [
        ShownMilestone(kind, day, participants, note, place, expected, free, Named(name))
        for kind, day, participants, note, place, expected, free, name in _rows(
            _shown_milestones_query(), {"patient_id": patient.id}
        )
    ]


@functools.cache
def _shown_care_plan_query() -> Select[Any]:
    plans = _table(CarePlan)
    return (
        # What the patient page shows of it (`careplan/_home_visit.html`, `_for_patient.html`).
        select(
            plans.c.patient_id,
            plans.c.contacts,
            plans.c.responsible_nurse,
            plans.c.responsible_physician,
            plans.c.treatment_limitations,
            plans.c.deterioration_signs,
            plans.c.for_patient_and_relatives,
        )
        .where(plans.c.patient_id == bindparam("patient_id"))
        .order_by(plans.c.version.desc())
        .limit(1)
    )


class ShownCarePlan(NamedTuple):
    """Of `current_care_plan`, what the patient page shows (read by name, as the model's
    attributes)."""

    patient_id: int
    contacts: str
    responsible_nurse: str
    responsible_physician: str
    treatment_limitations: str
    deterioration_signs: str
    for_patient_and_relatives: str


def shown_care_plan(patient: Patient) -> ShownCarePlan | None:
    """Of `current_care_plan`, what the patient page shows."""
    rows = _rows(_shown_care_plan_query(), {"patient_id": patient.id})
    return ShownCarePlan(*rows[0]) if rows else None


# --- the patient page's care record in one statement -------------------------------------------
# The patient page reads up to seven parts of the record (the orders, milestones, open flags and
# latest rating times that the reminders need, the care plan, the recent doses and those to
# evaluate): each statement cost the page about as much as the rows it read (PostgreSQL round
# trip, result set-up). The parts are the queries above and in `pallapp.flags`, unchanged, read
# as the labelled parts of one UNION ALL.

#: The parts `care_record` reads, in the order it takes them.
CARE_RECORD_PARTS = ("orders", "milestones", "flags", "latest", "plan", "recent", "to_evaluate")


def _part_query(name: str) -> Select[Any] | CompoundSelect[*tuple[Any, ...]]:
    queries: dict[str, Select[Any] | CompoundSelect[*tuple[Any, ...]]] = {
        "orders": shown_orders_query(),
        "milestones": _shown_milestones_query(),
        "flags": open_flags_query(),
        "latest": latest_ratings_query(),
        "plan": _shown_care_plan_query(),
        "recent": _shown_doses_query(False),
        "to_evaluate": _shown_doses_query(True),
    }
    return queries[name]


@functools.cache
def _care_record_query(
    parts: tuple[str, ...],
) -> tuple[Select[Any], list[Callable[[Any], tuple[Any, ...]]]]:
    """One statement reading `parts`, and for each part what takes its columns from a row.

    Each row has the index of its part in `parts`, its position in the part's order (the part's
    ORDER BY, kept by `row_number`: a UNION ALL keeps no order of its own), then the part's
    columns. A column of the statement holds the columns of one type (the same type of each
    part, in order), so the rows are as wide as the widest part, not as all parts together
    (each column read costs on every row): the other parts' NULLs in it are cast to that type
    (PostgreSQL takes two untyped NULLs of a UNION for text, which matches no other type)."""
    subqueries = []
    slot_keys: list[str] = []  # the type of each shared column, as `repr` tells types apart
    slot_types: list[Any] = []
    placed: list[dict[int, ColumnElement[Any]]] = []  # of each part: shared column -> its own
    for name in parts:
        query = _part_query(name)
        order = query._order_by_clauses if isinstance(query, Select) else ()
        if isinstance(query, Select) and order:
            position = func.row_number().over(order_by=order).label("position")
            sub = query.add_columns(position).subquery()
        else:
            sub = query.subquery()
        own: dict[int, ColumnElement[Any]] = {}
        for column in sub.c:
            if column.key == "position":
                continue
            key = repr(column.type)
            slot = next(
                (i for i, k in enumerate(slot_keys) if k == key and i not in own), None
            )
            if slot is None:
                slot_keys.append(key)
                slot_types.append(column.type)
                slot = len(slot_keys) - 1
            own[slot] = column
        subqueries.append((sub, bool(order)))
        placed.append(own)
    selects = []
    for index, ((sub, ordered), own) in enumerate(zip(subqueries, placed, strict=True)):
        row: list[ColumnElement[Any]] = [
            literal(index, Integer),
            sub.c.position if ordered else cast(null(), BigInteger),
            *(
                own[slot] if slot in own else cast(null(), slot_types[slot])
                for slot in range(len(slot_keys))
            ),
        ]
        selects.append(select(*(column.label(f"c{n}") for n, column in enumerate(row))))
    both = union_all(*selects).subquery("record")
    # Each part's columns in its query's order (a dict keeps the order they were placed in).
    takers = [_taker([2 + slot for slot in own]) for own in placed]
    return select(both).order_by(both.c.c0, both.c.c1), takers


def _taker(indexes: list[int]) -> Callable[[Any], tuple[Any, ...]]:
    if len(indexes) == 1:
        return lambda row: (row[indexes[0]],)
    return operator.itemgetter(*indexes)


@dataclass(slots=True)
class CareRecord:
    """What `care_record` read: each part as its own read gives it (`shown_open_orders`,
    `shown_milestones`, `open_flags_shown`, the rows of `latest_ratings_query`,
    `shown_care_plan`, `shown_doses`); the parts not asked for are empty."""

    orders: list[ShownOrder]
    milestones: list[ShownMilestone]
    open_flags: list[OpenFlag]
    latest: list[tuple[str, datetime | None]]
    plan: ShownCarePlan | None
    recent: list[ShownDose]
    to_evaluate: list[ShownDose]


def care_record(
    patient: Patient, parts: tuple[str, ...], now: datetime, since: datetime, limit: int = 20
) -> CareRecord:
    """The `parts` (of CARE_RECORD_PARTS, in that order) of the patient's record in one
    statement: the orders open at `now` and the latest ratings up to `now`, the doses given
    after `since` and at most `limit` to evaluate."""
    query, takers = _care_record_query(parts)
    found: list[list[Any]] = [[] for _ in parts]
    for row in _rows(query, {"patient_id": patient.id, "now": now, "since": since, "limit": limit}):
        found[row[0]].append(takers[row[0]](row))
    read = dict(zip(parts, found, strict=True))
    plan = read.get("plan", [])
    return CareRecord(
        orders=[shown_order(row) for row in read.get("orders", [])],
        milestones=[
            ShownMilestone(kind, day, participants, note, place, expected, free, Named(name))
            for kind, day, participants, note, place, expected, free, name in read.get(
                "milestones", []
            )
        ],
        open_flags=[OpenFlag(*row) for row in read.get("flags", [])],
        latest=[(instrument, at) for instrument, at in read.get("latest", [])],
        plan=ShownCarePlan(*plan[0]) if plan else None,
        recent=_shown_doses(read.get("recent", [])),
        to_evaluate=_shown_doses(read.get("to_evaluate", [])),
    )
