"""The home-visit hub of the patient page: the care plan, the open flags grouped by rule, the
orders in force with the doses given under each in the last 24 hours, the doses whose effect is
not yet recorded, and the milestones. The care plan's order page shows the same order rows.

Shared like `pallapp.carerecord`: it imports no feature. The caller has found the patient
through `pallapp.access` and audit-logs the page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pallapp import carerecord, flags, scoring
from pallapp.access import Need, needs_for
from pallapp.carerecord import ShownCarePlan, ShownDose, ShownMilestone
from pallapp.flags.due import OpenFlag, open_flags_shown
from pallapp.flags.orders import ShownOrder
from pallapp.i18n import gettext
from pallapp.models import Patient, Phase, PrnOrder, Route, User
from pallapp.present import FlagView, flag_item_label, indication_label, rule_view

# An order's limit is "max doses per 24 h" (INSTRUMENTS.md); the patient page counts doses in
# the same window.
DOSE_WINDOW = timedelta(hours=24)


def route_notes(
    patient: Patient, orders: Sequence[PrnOrder | ShownOrder], now: datetime
) -> list[str]:
    """For a patient in the end-of-life phase: each of the four standard indications covered
    only by orders that are not given by injection, and why those do not count (`prn_missing`
    counts s.c. and i.v. orders only; INSTRUMENTS.md)."""
    if patient.phase != Phase.END_OF_LIFE:
        return []
    notes = []
    for code in scoring.REQUIRED_PRN_INDICATIONS:
        routes = [
            order.route for order in orders if order.indication == code and order.is_active(now)
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


def _items(flag: OpenFlag) -> list[str]:
    # Dose and reminder flags list indications; the others the instrument's items
    # (`present.flag_item_labels`).
    if flag.source in ("dose", "reminder"):
        return [
            indication_label(code) if code in scoring.PRN_INDICATIONS else code
            for code in flag.items
        ]
    return [flag_item_label(flag.instrument, code) for code in flag.items]


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


def _moment(flag: OpenFlag) -> datetime:
    # The time the rating describes (a late entry is old news); else when it was raised.
    return flag.observed_at if flag.observed_at is not None else flag.created_at


def _source(flag: OpenFlag) -> str:
    if flag.instrument is not None:
        return gettext(scoring.INSTRUMENTS[flag.instrument].title)
    if flag.source == "dose":
        return gettext("as-needed doses")
    return gettext("reminder")


def flag_groups(flags: list[OpenFlag]) -> list[FlagGroupView]:
    """Open flags grouped by rule, most urgent first, then the newest."""
    rank = {"high": 0, "medium": 1, "info": 2}
    groups: dict[str, FlagGroupView] = {}
    for flag in sorted(flags, key=lambda f: (rank.get(f.severity, 3), -f.id)):
        items, moment, source = _items(flag), _moment(flag), _source(flag)
        group = groups.get(flag.code)
        if group is None:
            # The group's first flag is the most severe: the only one shown in full.
            view = rule_view(flag.code, flag.severity, items)
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
    order: PrnOrder | ShownOrder
    label: str
    doses: list[ShownDose] = field(default_factory=list)  # in the last 24 h


@dataclass
class HomeVisit:
    """Everything the patient page shows beyond the record itself."""

    plan: ShownCarePlan | None  # what the page shows of the current care plan
    may_see_plan: bool
    may_see_orders: bool
    may_prescribe: bool
    may_record_dose: bool
    may_change: bool
    orders: list[OrderRow]
    to_evaluate: list[ShownDose]
    milestones: list[ShownMilestone]
    # Why an order in force does not count for `prn_missing` (not by injection).
    route_notes: list[str] = field(default_factory=list)
    # The open flags grouped by rule, with dates and sources (what the page shows).
    flag_groups: list[FlagGroupView] = field(default_factory=list)


def order_rows(
    patient: Patient,
    now: datetime,
    orders: Sequence[PrnOrder | ShownOrder] | None = None,
    doses: list[ShownDose] | None = None,
) -> list[OrderRow]:
    """The orders in force with the doses given under each in the last 24 hours. `orders`: the
    patient's orders (at least those open at `now`; models or `shown_open_orders`), and
    `doses`, those given in the 24 hours before `now`, if the caller has loaded them
    already."""
    in_force: Sequence[PrnOrder | ShownOrder] = (
        carerecord.active_orders(patient, now) if orders is None else flags.in_force(orders, now)
    )
    # `present.order_label`, for either kind of order.
    rows = {
        order.series_id: OrderRow(order, indication_label(order.indication, order.indication_text))
        for order in in_force
    }
    if doses is None:
        doses = carerecord.shown_doses_since(patient, now - DOSE_WINDOW)
    for dose in doses:
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
    # Read once for the reminders and the page, in one statement (`carerecord.care_record`):
    # the open orders, the milestones, the open flags, the latest rating times, the care plan
    # and the doses of the last 24 hours (under the orders) and those to evaluate. The page
    # only shows them: they are read as plain columns (`shown_*`), which costs a fraction of
    # building ORM objects.
    parts = [
        name
        for name, wanted in (
            ("orders", may_see_plan or may_see_orders),
            ("milestones", may_see_plan),
            ("flags", may_see_plan),
            ("latest", may_see_plan),
            ("plan", True),
            ("recent", may_see_orders or may_record),
            ("to_evaluate", may_see_orders or may_record),
        )
        if wanted
    ]
    record = carerecord.care_record(patient, tuple(parts), now, now - DOSE_WINDOW)
    open_orders = record.orders
    open_now = record.open_flags
    milestones = record.milestones
    if may_see_plan:
        changes = flags.evaluate_reminders(
            patient,
            now=now,
            user=user,
            orders=open_orders,
            milestones=milestones,
            open_now=open_now,
            latest=record.latest,
        )
        if changes.opened or changes.closed:
            # Rare (a reminder fell due, or no longer is, since the last view): read the flags
            # again (flushed by `evaluate_reminders`).
            open_now = open_flags_shown(patient)
    recent, to_evaluate = record.recent, record.to_evaluate
    return HomeVisit(
        plan=record.plan,
        may_see_plan=may_see_plan,
        may_see_orders=may_see_orders,
        may_prescribe=Need.PRESCRIBE in needs,
        may_record_dose=may_record,
        may_change=Need.CHANGE in needs,
        orders=order_rows(patient, now, open_orders, recent) if may_see_orders else [],
        to_evaluate=to_evaluate if may_record else [],
        milestones=milestones,
        route_notes=route_notes(patient, open_orders, now) if may_see_orders else [],
        flag_groups=flag_groups(open_now),
    )
