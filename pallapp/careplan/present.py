"""What the care plan, order and patient pages show: labels, warnings in words, the home visit.

Labels are msgids, translated with gettext at render time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from pallapp import scoring
from pallapp.access import Need, needs_for
from pallapp.assessments.present import FlagView, flag_view
from pallapp.careplan import services
from pallapp.extensions import db
from pallapp.models import (
    CarePlan,
    Flag,
    Milestone,
    Patient,
    PrnAdministration,
    PrnOrder,
    User,
)

# An order's limit is "max doses per 24 h" (INSTRUMENTS.md); the patient page counts doses in
# the same window.
DOSE_WINDOW = timedelta(hours=24)


def indication_label(code: str, text: str = "") -> str:
    label = gettext(scoring.PRN_INDICATIONS[code])
    return f"{label}: {text}" if text else label


def order_label(order: PrnOrder) -> str:
    return indication_label(order.indication, order.indication_text)


def interval_words(minutes: int | None) -> str | None:
    if minutes is None:
        return None
    hours, rest = divmod(minutes, 60)
    if hours == 0:  # also 0: "0 min", not "0 h", for a dose in the same minute as the last
        return gettext("%(minutes)d min", minutes=rest)
    if rest == 0:
        return gettext("%(hours)d h", hours=hours)
    return gettext("%(hours)d h %(minutes)d min", hours=hours, minutes=rest)


def over_limit_words(params: Mapping[str, object]) -> list[str]:
    """The broken limits of a `prn_over_limit` flag, each as a sentence."""
    words = []
    if "max_doses_per_24h" in params:
        words.append(
            gettext(
                "The order allows at most %(max)d doses in 24 hours, and %(count)d have been "
                "given in the 24 hours before this dose.",
                max=params["max_doses_per_24h"],
                count=params["doses_in_24h"],
            )
        )
    if "min_interval_minutes" in params:
        words.append(
            gettext(
                "The order says at least %(interval)s between doses, but the previous dose was "
                "given only %(since)s before this one.",
                interval=interval_words(int(params["min_interval_minutes"])),  # type: ignore[call-overload]
                since=interval_words(int(params["minutes_since_last_dose"])),  # type: ignore[call-overload]
            )
        )
    return words


def flag_rows(flags: list[Flag]) -> list[FlagView]:
    """Open flags for the patient page, most urgent first; indications named in words."""
    rank = {"high": 0, "medium": 1, "info": 2}
    rows = []
    for flag in sorted(flags, key=lambda f: (rank.get(f.severity, 3), -f.id)):
        instrument = flag.assessment.instrument if flag.assessment is not None else None
        view = flag_view(flag, instrument)
        if flag.source in ("dose", "reminder"):
            items = [
                indication_label(code) if code in scoring.PRN_INDICATIONS else code
                for code in flag.items
            ]
            view = FlagView(**{**view.__dict__, "items": items})
        rows.append(view)
    return rows


@dataclass
class OrderRow:
    order: PrnOrder
    label: str
    doses: list[PrnAdministration] = field(default_factory=list)  # in the last 24 h


@dataclass
class HomeVisit:
    """Everything the patient page shows beyond the record itself."""

    plan: CarePlan | None
    may_see_plan: bool
    may_see_orders: bool
    may_prescribe: bool
    may_record_dose: bool
    may_change: bool
    flags: list[FlagView]
    orders: list[OrderRow]
    to_evaluate: list[PrnAdministration]
    milestones: list[Milestone]


def order_rows(
    patient: Patient, now: datetime, orders: list[PrnOrder] | None = None
) -> list[OrderRow]:
    """The orders in force with the doses given under each in the last 24 hours. `orders`: the
    patient's orders (at least those open at `now`) if the caller has loaded them already."""
    in_force = (
        services.active_orders(patient, now) if orders is None else services.in_force(orders, now)
    )
    rows = {order.series_id: OrderRow(order, order_label(order)) for order in in_force}
    for dose in services.doses_since(patient, now - DOSE_WINDOW):
        row = rows.get(dose.order.series_id)
        if row is not None:
            row.doses.append(dose)
    return list(rows.values())


def home_visit(
    user: User, patient: Patient, now: datetime, needs: frozenset[Need] | None = None
) -> HomeVisit:
    """The home-visit hub; the caller has opened (and audited) the patient record. Reminder
    flags are evaluated here for staff, so what they see is current.

    `needs`: what `access` says the user may do with the patient (`needs_for`), if the caller
    has asked already; evaluating reminders only writes flags, which decide no access.
    """
    if needs is None:
        needs = needs_for(user, patient)
    may_see_plan = Need.VIEW_CARE_PLAN in needs
    may_see_orders = Need.VIEW_ORDERS in needs
    may_record = Need.RECORD_DOSE in needs
    # Loaded once for the reminders and the order rows.
    open_orders = services.open_orders(patient, now) if may_see_plan or may_see_orders else []
    if may_see_plan:
        services.evaluate_reminders(patient, now=now, user=user, orders=open_orders)
    flags: list[Flag] = []
    milestones: list[Milestone] = []
    if may_see_plan:
        flags = list(
            db.session.scalars(
                select(Flag)
                .where(Flag.patient_id == patient.id, Flag.closed_at.is_(None))
                .options(joinedload(Flag.assessment))
            )
        )
        milestones = services.milestones_of(patient)
    return HomeVisit(
        plan=services.current_care_plan(patient),
        may_see_plan=may_see_plan,
        may_see_orders=may_see_orders,
        may_prescribe=Need.PRESCRIBE in needs,
        may_record_dose=may_record,
        may_change=Need.CHANGE in needs,
        flags=flag_rows(flags),
        orders=order_rows(patient, now, open_orders) if may_see_orders else [],
        to_evaluate=services.doses_to_evaluate(patient) if may_record else [],
        milestones=milestones,
    )
