"""The home-visit hub of the patient page: the care plan, the open flags grouped by rule, the
orders in force with the doses given under each in the last 24 hours, the doses whose effect is
not yet recorded, and the milestones. The care plan's order page shows the same order rows.

Shared like `pallapp.carerecord`: it imports no feature. The caller has found the patient
through `pallapp.access` and audit-logs the page.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import joinedload

from pallapp import carerecord, flags, scoring
from pallapp.access import Need, needs_for
from pallapp.extensions import db
from pallapp.i18n import gettext
from pallapp.models import (
    Assessment,
    CarePlan,
    Flag,
    Milestone,
    Patient,
    Phase,
    PrnAdministration,
    PrnOrder,
    Route,
    User,
)
from pallapp.present import (
    FlagView,
    flag_item_labels,
    flag_view,
    indication_label,
    order_label,
)

# An order's limit is "max doses per 24 h" (INSTRUMENTS.md); the patient page counts doses in
# the same window.
DOSE_WINDOW = timedelta(hours=24)


def route_notes(patient: Patient, orders: list[PrnOrder], now: datetime) -> list[str]:
    """For a patient in the end-of-life phase: each of the four standard indications covered
    only by orders that are not given by injection, and why those do not count (`prn_missing`
    counts s.c. and i.v. orders only; INSTRUMENTS.md)."""
    if patient.phase != Phase.END_OF_LIFE:
        return []
    notes = []
    for code in scoring.REQUIRED_PRN_INDICATIONS:
        routes = [
            order.route
            for order in orders
            if order.indication == code and order.is_active(now)
        ]
        if routes and not any(route in scoring.PARENTERAL_ROUTES for route in routes):
            notes.append(
                gettext(
                    "%(indication)s: the order in force is %(routes)s, not by injection. It "
                    "does not count in the end-of-life phase: a dying patient often cannot "
                    "swallow, and as-needed drugs are then given by injection, in the first "
                    "place subcutaneously (s.c.).",
                    indication=indication_label(code),
                    routes=", ".join(sorted({str(Route(route).label) for route in routes})),
                )
            )
    return notes


def _items(flag: Flag) -> list[str]:
    # Dose and reminder flags list indications; the others the instrument's items.
    if flag.source in ("dose", "reminder"):
        return [
            indication_label(code) if code in scoring.PRN_INDICATIONS else code
            for code in flag.items
        ]
    return flag_item_labels(flag, _instrument(flag))


def _instrument(flag: Flag) -> str | None:
    return flag.assessment.instrument if flag.assessment is not None else None


@dataclass
class FlagGroupView:
    """Open flags of one rule: three identical "Severe symptom" rows become one, with the
    items of all of them, when the first and the newest were raised, and from what."""

    view: FlagView  # the most severe flag of the group, for title, severity and explanation
    items: list[str]
    count: int
    first: datetime
    newest: datetime
    sources: list[str]


def _moment(flag: Flag) -> datetime:
    # The time the rating describes (a late entry is old news); else when it was raised.
    return flag.assessment.observed_at if flag.assessment is not None else flag.created_at


def _source(flag: Flag) -> str:
    if flag.assessment is not None:
        return gettext(scoring.INSTRUMENTS[flag.assessment.instrument].title)
    if flag.source == "dose":
        return gettext("as-needed doses")
    return gettext("reminder")


def flag_groups(flags: list[Flag]) -> list[FlagGroupView]:
    """Open flags grouped by rule, most urgent first, then the newest."""
    rank = {"high": 0, "medium": 1, "info": 2}
    groups: dict[str, FlagGroupView] = {}
    for flag in sorted(flags, key=lambda f: (rank.get(f.severity, 3), -f.id)):
        items, moment, source = _items(flag), _moment(flag), _source(flag)
        group = groups.get(flag.code)
        if group is None:
            # The group's first flag is the most severe: the only one shown in full.
            view = FlagView(**{**flag_view(flag, _instrument(flag)).__dict__, "items": items})
            groups[flag.code] = FlagGroupView(view, list(items), 1, moment, moment, [source])
            continue
        group.count += 1
        group.items += [item for item in items if item not in group.items]
        group.first = min(group.first, moment)
        group.newest = max(group.newest, moment)
        if source not in group.sources:
            group.sources.append(source)
    return list(groups.values())


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
    orders: list[OrderRow]
    to_evaluate: list[PrnAdministration]
    milestones: list[Milestone]
    # Why an order in force does not count for `prn_missing` (not by injection).
    route_notes: list[str] = field(default_factory=list)
    # The open flags grouped by rule, with dates and sources (what the page shows).
    flag_groups: list[FlagGroupView] = field(default_factory=list)


def order_rows(
    patient: Patient, now: datetime, orders: list[PrnOrder] | None = None
) -> list[OrderRow]:
    """The orders in force with the doses given under each in the last 24 hours. `orders`: the
    patient's orders (at least those open at `now`) if the caller has loaded them already."""
    in_force = (
        carerecord.active_orders(patient, now) if orders is None else flags.in_force(orders, now)
    )
    rows = {order.series_id: OrderRow(order, order_label(order)) for order in in_force}
    for dose in carerecord.doses_since(patient, now - DOSE_WINDOW):
        row = rows.get(dose.order.series_id)
        if row is not None:
            row.doses.append(dose)
    return list(rows.values())


@functools.cache
def _open_flags_query() -> Select[Flag]:
    # Built once, the patient bound at each call (as the queries of `carerecord`).
    return (
        select(Flag)
        .where(Flag.patient_id == bindparam("patient_id"), Flag.closed_at.is_(None))
        # Only what the groups show of the rating (its instrument and when it applies): the
        # answers and scores are JSON, decoding them for every open flag was wasted.
        .options(joinedload(Flag.assessment).load_only(Assessment.instrument, Assessment.observed_at))
    )


def _open_flags_shown(patient: Patient) -> list[Flag]:
    """The patient's open flags, with the assessments that raised them."""
    return list(db.session.scalars(_open_flags_query(), {"patient_id": patient.id}))


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
    # Loaded once for the reminders and the page: the open orders, the milestones and the
    # open flags.
    open_orders = flags.open_orders(patient, now) if may_see_plan or may_see_orders else []
    open_now: list[Flag] = []
    milestones: list[Milestone] = []
    if may_see_plan:
        milestones = carerecord.milestones_of(patient)
        open_now = _open_flags_shown(patient)
        changes = flags.evaluate_reminders(
            patient,
            now=now,
            user=user,
            orders=open_orders,
            milestones=milestones,
            open_now=open_now,
        )
        if changes.opened:
            # Rare (a reminder fell due since the last view): read the flags again.
            open_now = _open_flags_shown(patient)
        else:
            open_now = [flag for flag in open_now if flag.is_open]
    return HomeVisit(
        plan=carerecord.current_care_plan(patient),
        may_see_plan=may_see_plan,
        may_see_orders=may_see_orders,
        may_prescribe=Need.PRESCRIBE in needs,
        may_record_dose=may_record,
        may_change=Need.CHANGE in needs,
        orders=order_rows(patient, now, open_orders) if may_see_orders else [],
        to_evaluate=carerecord.doses_to_evaluate(patient) if may_record else [],
        milestones=milestones,
        route_notes=route_notes(patient, open_orders, now) if may_see_orders else [],
        flag_groups=flag_groups(open_now),
    )
