"""As-needed orders as the flag rules read them (dose checks and reminders share these)."""

from __future__ import annotations

import functools
from datetime import datetime, timedelta

from sqlalchemy import Select, bindparam, or_, select
from sqlalchemy.orm import joinedload

from pallapp import scoring
from pallapp.extensions import db
from pallapp.models import Patient, PrnOrder, User


def order_rule(order: PrnOrder) -> scoring.PrnOrderRule:
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


def in_force(orders: list[PrnOrder], now: datetime) -> list[PrnOrder]:
    """Those of `orders` in force at `now`, in the order of the indications."""
    rank = {code: index for index, code in enumerate(scoring.PRN_INDICATIONS)}
    return sorted(
        (order for order in orders if order.is_active(now)),
        key=lambda order: (rank[order.indication], order.start_at),
    )
