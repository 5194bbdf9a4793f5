"""What the care plan, order and patient pages show: labels, warnings in words, the home visit.

Labels are msgids, translated with gettext at render time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from flask_babel import format_datetime, format_decimal, gettext
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from pallapp import carerecord, flags, scoring
from pallapp.access import Need, needs_for
from pallapp.assessments.present import FlagView, flag_view
from pallapp.careplan import doses as dose_service
from pallapp.extensions import db
from pallapp.models import (
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


def amount_words(value: Decimal) -> str:
    """A dose amount in the reader's language: "2,5" in Swedish, up to 4 decimals."""
    return format_decimal(value, format="#,##0.####")


def ordered_dose(order: PrnOrder) -> str:
    """The order's dose and unit ("2,5 mg", "2,5–5 mg"), or its text when it could not be read
    as a number (an order written before doses were numbers): then said to be unchecked."""
    if order.dose_min is None or order.dose_max is None:
        return gettext(
            "dose written as text: %(text)s %(unit)s (not checked)",
            text=order.dose,
            unit=order.dose_unit,
        )
    if order.dose_min == order.dose_max:
        amount = amount_words(order.dose_min)
    else:
        amount = f"{amount_words(order.dose_min)}–{amount_words(order.dose_max)}"
    return f"{amount} {order.dose_unit}"


def given_dose(dose: PrnAdministration) -> str:
    """The amount and unit given ("2,5 mg"), or its text for a dose recorded before doses were
    numbers whose text could not be read as one."""
    if dose.amount is None:
        return gettext(
            "dose written as text: %(text)s %(unit)s", text=dose.dose, unit=dose.dose_unit
        )
    return f"{amount_words(dose.amount)} {dose.dose_unit}"


def over_limit_words(params: Mapping[str, object]) -> list[str]:
    """The broken limits of a `prn_over_limit` flag, each as a sentence."""
    words = []
    if "max_doses_per_24h" in params:
        words.append(
            gettext(
                "The order allows at most %(max)d doses in 24 hours; with this dose, %(count)d "
                "doses would have been given within 24 hours.",
                max=params["max_doses_per_24h"],
                count=params["doses_in_window"],
            )
        )
    if "minutes_since_last_dose" in params:
        words.append(
            gettext(
                "The order says at least %(interval)s between doses, but the previous dose was "
                "given only %(since)s before this one.",
                interval=interval_words(int(params["min_interval_minutes"])),  # type: ignore[call-overload]
                since=interval_words(int(params["minutes_since_last_dose"])),  # type: ignore[call-overload]
            )
        )
    if "minutes_to_next_dose" in params:
        words.append(
            gettext(
                "The order says at least %(interval)s between doses, but the next dose was "
                "given only %(until)s after this one.",
                interval=interval_words(int(params["min_interval_minutes"])),  # type: ignore[call-overload]
                until=interval_words(int(params["minutes_to_next_dose"])),  # type: ignore[call-overload]
            )
        )
    return words


def colliding_words(doses: list[PrnAdministration]) -> list[str]:
    """The doses a dose collides with: when (Swedish time), amount and unit, who gave it."""
    return [
        gettext(
            "%(when)s: %(dose)s, given by %(name)s",
            when=format_datetime(dose.given_at, "short"),
            dose=given_dose(dose),
            name=dose.given_by.name,
        )
        for dose in doses
    ]


def _times(larger: Decimal, smaller: Decimal) -> str:
    return format_decimal(larger / smaller, format="#,##0.#")


def mismatch_words(params: Mapping[str, object], order: PrnOrder) -> list[str]:
    """What differs between a dose and its order (`prn_dose_mismatch`), each as a sentence; a
    dose several times the ordered one (a slip of the decimal sign) is said so."""
    words = []
    if "given_unit" in params:
        words.append(
            gettext(
                "The unit given, %(given)s, is not the order's unit, %(ordered)s. Units are "
                "not converted: write the amount in the order's unit, or confirm.",
                given=params["given_unit"],
                ordered=order.dose_unit,
            )
        )
    if "given_amount" in params:
        given = Decimal(str(params["given_amount"]))
        low = Decimal(str(params["ordered_low"]))
        high = Decimal(str(params["ordered_high"]))
        words.append(
            gettext(
                "%(given)s %(unit)s was entered, but the order says %(ordered)s.",
                given=amount_words(given),
                unit=order.dose_unit,
                ordered=ordered_dose(order),
            )
        )
        if given >= 2 * high:
            words.append(
                gettext(
                    "That is %(times)s times the ordered dose. Check the decimal sign.",
                    times=_times(given, high),
                )
            )
        elif given * 2 <= low:
            words.append(
                gettext(
                    "The ordered dose is %(times)s times larger. Check the decimal sign.",
                    times=_times(low, given),
                )
            )
    if "given_route" in params:
        words.append(
            gettext(
                "The route given, %(given)s, is not the order's route, %(ordered)s.",
                given=Route(str(params["given_route"])).label,
                ordered=Route(str(params["ordered_route"])).label,
            )
        )
    return words


@dataclass
class DoseWarning:
    """The warning page for a dose that needs confirmation, in words."""

    over_limit: list[str] = field(default_factory=list)
    colliding: list[str] = field(default_factory=list)
    mismatch: list[str] = field(default_factory=list)


def dose_warning(
    over_limit: scoring.Flag | None,
    mismatch: scoring.Flag | None,
    colliding: list[PrnAdministration],
    order: PrnOrder,
) -> DoseWarning:
    """The words of the warning page for a dose that `dose_service.DoseNeedsConfirmation` held
    back: the broken limits, the doses it collides with, what differs from the order."""
    return DoseWarning(
        over_limit=over_limit_words(over_limit.params) if over_limit is not None else [],
        colliding=colliding_words(colliding),
        mismatch=mismatch_words(mismatch.params, order) if mismatch is not None else [],
    )


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
    # Why an order in force does not count for `prn_missing` (not by injection).
    route_notes: list[str] = field(default_factory=list)


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
    open_orders = flags.open_orders(patient, now) if may_see_plan or may_see_orders else []
    if may_see_plan:
        flags.evaluate_reminders(patient, now=now, user=user, orders=open_orders)
    open_now: list[Flag] = []
    milestones: list[Milestone] = []
    if may_see_plan:
        open_now = list(
            db.session.scalars(
                select(Flag)
                .where(Flag.patient_id == patient.id, Flag.closed_at.is_(None))
                .options(joinedload(Flag.assessment))
            )
        )
        milestones = carerecord.milestones_of(patient)
    return HomeVisit(
        plan=carerecord.current_care_plan(patient),
        may_see_plan=may_see_plan,
        may_see_orders=may_see_orders,
        may_prescribe=Need.PRESCRIBE in needs,
        may_record_dose=may_record,
        may_change=Need.CHANGE in needs,
        flags=flag_rows(open_now),
        orders=order_rows(patient, now, open_orders) if may_see_orders else [],
        to_evaluate=dose_service.doses_to_evaluate(patient) if may_record else [],
        milestones=milestones,
        route_notes=route_notes(patient, open_orders, now) if may_see_orders else [],
    )
