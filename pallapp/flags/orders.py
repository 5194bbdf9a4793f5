"""As-needed orders as the flag rules read them (dose checks and reminders share these)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import Select, Table, bindparam, or_, select
from sqlalchemy.orm import joinedload

from pallapp import scoring
from pallapp.extensions import db
from pallapp.models import Patient, PrnOrder, User
from pallapp.models.careplan import OrderWords


@dataclass(frozen=True, slots=True)
class Prescriber:
    name: str


@dataclass(frozen=True, slots=True)
class ShownOrder(OrderWords):
    """An order version read as plain columns, for the patient page: what the rules, the order
    rows and the route notes read of it, with its prescriber's name. Building ORM objects cost
    more than the query."""

    id: int
    public_id: str
    series_id: str
    indication: str
    indication_text: str
    drug: str
    strength: str
    dose: str
    dose_min: Decimal | None
    dose_max: Decimal | None
    dose_unit: str
    route: str
    min_interval_minutes: int | None
    max_doses_per_24h: int | None
    instructions: str
    start_at: datetime
    stop_at: datetime | None
    prescriber: Prescriber


#: An order as a model or as plain columns: the rules and the pages read the same attributes.
AnyOrder = TypeVar("AnyOrder", bound=PrnOrder | ShownOrder)


def order_rule(order: PrnOrder | ShownOrder) -> scoring.PrnOrderRule:
    """The order as the rules see it. All versions of one order share an id, so doses given
    under an earlier version count against the limits of the current one."""
    minutes = order.min_interval_minutes
    ordered = None
    if order.dose_min is not None and order.dose_max is not None:
        ordered = scoring.DoseRange(order.dose_min, order.dose_max)
    return scoring.PrnOrderRule(
        order_id=order.series_id,
        indication=order.indication,
        start=order.start_at,
        stop=order.stop_at,
        max_doses_per_24h=order.max_doses_per_24h,
        min_interval=timedelta(minutes=minutes) if minutes else None,
        route=order.route,
        dose=ordered,
        dose_unit=order.dose_unit,
    )


@functools.cache
def _open_orders_query() -> Select[PrnOrder]:
    # Built once (the patient page runs it on every view), the values bound at each call.
    return select(PrnOrder).where(
        PrnOrder.patient_id == bindparam("patient_id"),
        or_(PrnOrder.stop_at.is_(None), PrnOrder.stop_at > bindparam("now")),
    # Of the prescriber only the name is shown: the account's other columns (hashes,
    # second factor) were read, described and kept for nothing.
    ).options(joinedload(PrnOrder.prescriber, innerjoin=True).load_only(User.name))


def open_orders(patient: Patient, now: datetime) -> list[PrnOrder]:
    """Orders in force now or due to start later, with their prescribers."""
    return list(db.session.scalars(_open_orders_query(), {"patient_id": patient.id, "now": now}))


@functools.cache
def shown_orders_query() -> Select[Any]:
    orders: Table = PrnOrder.__table__  # type: ignore[assignment]  # a mapped class's table
    users: Table = User.__table__  # type: ignore[assignment]
    return (
        select(
            orders.c.id,
            orders.c.public_id,
            orders.c.series_id,
            orders.c.indication,
            orders.c.indication_text,
            orders.c.drug,
            orders.c.strength,
            orders.c.dose,
            orders.c.dose_min,
            orders.c.dose_max,
            orders.c.dose_unit,
            orders.c.route,
            orders.c.min_interval_minutes,
            orders.c.max_doses_per_24h,
            orders.c.instructions,
            orders.c.start_at,
            orders.c.stop_at,
            users.c.name,
        )
        .join(users, users.c.id == orders.c.prescriber_id)
        .where(
            orders.c.patient_id == bindparam("patient_id"),
            or_(orders.c.stop_at.is_(None), orders.c.stop_at > bindparam("now")),
        )
        # The statement of `open_orders` sorts nothing: the same rows in the order of the id,
        # which `in_force` and the rules do not depend on.
        .order_by(orders.c.id)
    )


def shown_open_orders(patient: Patient, now: datetime) -> list[ShownOrder]:
    """`open_orders`, as plain values (for the patient page, which only shows them and
    evaluates the reminders from them)."""
    rows = db.session.connection().execute(
        shown_orders_query(), {"patient_id": patient.id, "now": now}
    )
    return [shown_order(row) for row in rows]


def shown_order(row: Sequence[Any]) -> ShownOrder:
    """A row of `shown_orders_query` as the order it describes."""
    # The columns in the order of the fields, the prescriber's name last.
    return ShownOrder(*row[:-1], Prescriber(row[-1]))  # type: ignore[call-arg]  # mypy cannot count a row's columns


def in_force(orders: Sequence[AnyOrder], now: datetime) -> list[AnyOrder]:
    """Those of `orders` in force at `now`, in the order of the indications."""
    rank = {code: index for index, code in enumerate(scoring.PRN_INDICATIONS)}
    return sorted(
        (order for order in orders if order.is_active(now)),
        key=lambda order: (rank[order.indication], order.start_at),
    )
