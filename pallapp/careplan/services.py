"""Care plans, milestones, as-needed orders, doses and reminder flags.

Every function that acts for a user takes the user and goes through `pallapp.access`; every
read and write of patient data is audit-logged. Services flush; the request boundary (or the
CLI command) commits once.

The app never proposes a drug or a dose: it records what the physician ordered and what was
given, and checks each dose against the order with the rules in `pallapp.scoring.records`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, joinedload, selectinload

from pallapp import audit, scoring
from pallapp.access import Need, find_patient
from pallapp.assessments.services import thresholds_for, unit_for
from pallapp.extensions import db
from pallapp.models import (
    CARE_PLAN_FIELDS,
    Assessment,
    AuditAction,
    CarePlan,
    CareUnit,
    Effect,
    Flag,
    Milestone,
    MilestoneKind,
    Patient,
    PatientUnit,
    Phase,
    PlaceOfDeath,
    PrnAdministration,
    PrnOrder,
    Route,
    StopCause,
    User,
    utcnow,
)
from pallapp.timeutil import STOCKHOLM, today_local

# Clock skew allowed between a tablet and the server before a time counts as "in the future"
# (the same tolerance as for assessments).
FUTURE_TOLERANCE = timedelta(minutes=5)
REMINDER_CODES = ("prn_missing", "prn_limits_missing", "assessment_overdue", "roag_overdue")
# Milestones that still make sense after the patient has died.
AFTER_DEATH = frozenset({MilestoneKind.EFTERLEVANDESAMTAL_OFFERED, MilestoneKind.SPR_REGISTERED})


class Refused(Exception):
    """The change cannot be made; `reason` is a code the view turns into words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class DoseNeedsConfirmation(Exception):
    """The dose breaks a rule of its order and was not confirmed with a reason: nothing was
    stored. `over_limit` is the `prn_over_limit` flag (or None) and `colliding` the recorded
    doses it collides with, in time order; `mismatch` is the `prn_dose_mismatch` flag (or
    None) for a dose with another amount, unit or route than the order's."""

    def __init__(
        self,
        over_limit: scoring.Flag | None,
        mismatch: scoring.Flag | None,
        colliding: list[PrnAdministration],
    ) -> None:
        codes = [flag.code for flag in (over_limit, mismatch) if flag is not None]
        super().__init__(", ".join(codes))
        self.over_limit = over_limit
        self.mismatch = mismatch
        self.colliding = colliding


def _now(now: datetime | None) -> datetime:
    return now or utcnow()


# --- care plan ---------------------------------------------------------------------------


def current_care_plan(patient: Patient) -> CarePlan | None:
    return db.session.scalar(
        select(CarePlan)
        .where(CarePlan.patient_id == patient.id)
        .order_by(CarePlan.version.desc())
        .limit(1)
    )


def patient_for_new_record(user: User, public_id: str, need: Need, object_type: str) -> Patient:
    """The patient for a form that adds a record (`need`, e.g. a new order or milestone); the
    form shows the patient, so opening it is audited as a view of `object_type`."""
    patient = find_patient(user, public_id, need)
    audit.record(AuditAction.VIEW, user=user, patient=patient, object_type=object_type)
    return patient


def read_care_plan(user: User, public_id: str) -> tuple[Patient, CarePlan | None]:
    """The patient and the current care plan (anyone who may see the patient; the view shows
    patients and relatives only the contacts and the part written for them)."""
    patient = find_patient(user, public_id, Need.VIEW)
    plan = current_care_plan(patient)
    audit.record(
        AuditAction.VIEW, user=user, patient=patient, obj=plan, object_type="care_plan"
    )
    return patient, plan


def care_plan_history(user: User, public_id: str) -> tuple[Patient, list[CarePlan]]:
    """Every version of the care plan, newest first (staff caring for the patient)."""
    patient = find_patient(user, public_id, Need.VIEW_CARE_PLAN)
    versions = list(
        db.session.scalars(
            select(CarePlan)
            .where(CarePlan.patient_id == patient.id)
            .options(selectinload(CarePlan.created_by))
            .order_by(CarePlan.version.desc())
        )
    )
    audit.record(
        AuditAction.VIEW, user=user, patient=patient, object_type="care_plan", detail="history"
    )
    return patient, versions


def care_plan_for_editing(user: User, public_id: str) -> tuple[Patient, CarePlan | None]:
    """The patient and the current care plan, for someone who may change it."""
    patient = find_patient(user, public_id, Need.CHANGE)
    plan = current_care_plan(patient)
    audit.record(
        AuditAction.VIEW, user=user, patient=patient, obj=plan, object_type="care_plan"
    )
    return patient, plan


def save_care_plan(
    user: User, public_id: str, values: Mapping[str, str | None], *, based_on: int | None
) -> CarePlan:
    """Store a new version of the care plan; the earlier versions stay as they were.

    `based_on` is the version the user edited (None for the first plan): if someone saved in
    between, `Refused("stale")` asks the user to look at the newer version first. Saving
    without any change is `Refused("no_change")`.
    """
    patient = find_patient(user, public_id, Need.CHANGE)
    current = current_care_plan(patient)
    if (current.version if current else None) != based_on:
        raise Refused("stale")
    clean = {name: (values.get(name) or "").strip() for name in CARE_PLAN_FIELDS}
    if clean["preferred_place_of_death_code"] not in {"", *PlaceOfDeath}:
        raise Refused("unknown_place")
    if current is None:
        changed = [name for name in CARE_PLAN_FIELDS if clean[name]]
    else:
        changed = [name for name in CARE_PLAN_FIELDS if getattr(current, name) != clean[name]]
    if not changed:
        raise Refused("no_change")
    plan = CarePlan(
        patient_id=patient.id,
        version=current.version + 1 if current else 1,
        changed_fields=changed,
        created_by_id=user.id,
        **clean,
    )
    try:
        with db.session.begin_nested():
            db.session.add(plan)
            db.session.flush()
    except IntegrityError:
        raise Refused("stale") from None
    action = AuditAction.UPDATE if current else AuditAction.CREATE
    audit.record(action, user=user, patient=patient, obj=plan)
    return plan


# --- milestones --------------------------------------------------------------------------


def list_milestones(user: User, public_id: str) -> tuple[Patient, list[Milestone]]:
    patient = find_patient(user, public_id, Need.VIEW_CARE_PLAN)
    milestones = milestones_of(patient)
    audit.record(AuditAction.VIEW, user=user, patient=patient, object_type="milestone")
    return patient, milestones


def milestones_of(patient: Patient) -> list[Milestone]:
    return list(
        db.session.scalars(
            select(Milestone)
            .where(Milestone.patient_id == patient.id)
            .options(joinedload(Milestone.recorded_by, innerjoin=True))
            .order_by(Milestone.occurred_on.desc(), Milestone.id.desc())
        )
    )


def record_milestone(
    user: User,
    public_id: str,
    *,
    kind: str,
    occurred_on: date,
    participants: str = "",
    note: str = "",
    place: str | None = None,
    death_expected: bool | None = None,
    free_of_pressure_ulcers: bool | None = None,
    now: datetime | None = None,
) -> Milestone:
    """Record a milestone. A brytpunktssamtal moves the patient into the end-of-life phase; a
    death sets the date and place of death, stops every open order and closes the reminder
    flags. A death needs its place and both answers the quality indicators count: whether it
    was expected and whether the patient was free of pressure ulcers."""
    patient = find_patient(user, public_id, Need.CHANGE)
    milestone_kind = MilestoneKind(kind)
    if occurred_on > today_local():
        raise Refused("in_future")
    deceased = patient.phase == Phase.DECEASED
    if deceased and milestone_kind not in AFTER_DEATH:
        raise Refused("patient_deceased")
    if milestone_kind is MilestoneKind.DEATH:
        if place is None:
            raise Refused("place_required")
        place = PlaceOfDeath(place).value
        if death_expected is None:
            raise Refused("expected_required")
        if free_of_pressure_ulcers is None:
            raise Refused("pressure_ulcers_required")
    else:
        place = death_expected = free_of_pressure_ulcers = None
    milestone = Milestone(
        patient_id=patient.id,
        kind=milestone_kind.value,
        occurred_on=occurred_on,
        participants=participants.strip(),
        note=note.strip(),
        place=place,
        death_expected=death_expected,
        free_of_pressure_ulcers=free_of_pressure_ulcers,
        recorded_by_id=user.id,
    )
    db.session.add(milestone)
    db.session.flush()
    audit.record(AuditAction.CREATE, user=user, patient=patient, obj=milestone)
    if milestone_kind is MilestoneKind.BRYTPUNKTSSAMTAL and patient.phase == Phase.EARLY:
        patient.phase = Phase.END_OF_LIFE.value
        audit.record(AuditAction.UPDATE, user=user, patient=patient, obj=patient, detail="phase")
        evaluate_reminders(patient, now=now, user=user)
    elif milestone_kind is MilestoneKind.DEATH:
        _record_death(user, patient, milestone, _now(now))
    return milestone


def _record_death(user: User, patient: Patient, milestone: Milestone, now: datetime) -> None:
    patient.phase = Phase.DECEASED.value
    patient.died_on = milestone.occurred_on
    patient.place_of_death = milestone.place
    audit.record(AuditAction.UPDATE, user=user, patient=patient, obj=patient, detail="death")
    for order in open_orders(patient, now):
        # An order that had not started yet ends where it would have begun.
        order.stop_at = max(now, order.start_at)
        order.stop_cause = StopCause.DECEASED.value
        order.stopped_by_id = user.id
        audit.record(AuditAction.UPDATE, user=user, patient=patient, obj=order, detail="stopped")
    for flag in _open_reminder_flags(patient):
        _close(flag, now, "patient_deceased", user)


# --- as-needed orders --------------------------------------------------------------------


@dataclass(frozen=True)
class OrderDetails:
    """What the physician writes in an as-needed order."""

    indication: str
    drug: str
    dose: str
    dose_unit: str
    route: str
    strength: str = ""
    indication_text: str = ""
    min_interval_minutes: int | None = None
    max_doses_per_24h: int | None = None
    instructions: str = ""

    def cleaned(self) -> OrderDetails:
        """The details with text trimmed; `Refused` for anything the order cannot hold."""
        texts = {
            name: getattr(self, name).strip()
            for name in ("drug", "dose", "dose_unit", "strength", "indication_text", "instructions")
        }
        details = dataclasses.replace(self, **texts)
        if details.indication not in scoring.PRN_INDICATIONS:
            raise Refused("unknown_indication")
        if details.indication == "other" and not details.indication_text:
            raise Refused("indication_text_required")
        if details.indication != "other":
            details = dataclasses.replace(details, indication_text="")
        if details.route not in set(Route):
            raise Refused("unknown_route")
        if not (details.drug and details.dose and details.dose_unit):
            raise Refused("drug_and_dose_required")
        details.dose_range()
        # Both limits, or the doses given under the order cannot be checked (INSTRUMENTS.md).
        if details.min_interval_minutes is None:
            raise Refused("min_interval_required")
        if details.max_doses_per_24h is None:
            raise Refused("max_doses_required")
        for limit in (details.min_interval_minutes, details.max_doses_per_24h):
            if limit < 1:
                raise Refused("limit_out_of_range")
        return details

    def dose_range(self) -> scoring.DoseRange:
        """The dose as numbers; `Refused("dose_<reason>")` if it is not a number or range."""
        try:
            return scoring.parse_dose(self.dose)
        except scoring.InvalidDose as invalid:
            raise Refused(f"dose_{invalid.reason}") from None


def _order_row(details: OrderDetails) -> dict[str, object]:
    ordered = details.dose_range()
    return {**dataclasses.asdict(details), "dose_min": ordered.low, "dose_max": ordered.high}


def list_orders(user: User, public_id: str) -> tuple[Patient, list[PrnOrder]]:
    """Every order version of the patient, newest first (who may see orders)."""
    patient = find_patient(user, public_id, Need.VIEW_ORDERS)
    orders = list(
        db.session.scalars(
            select(PrnOrder)
            .where(PrnOrder.patient_id == patient.id)
            .options(
                joinedload(PrnOrder.prescriber, innerjoin=True),
                selectinload(PrnOrder.superseded_by),
            )
            .order_by(PrnOrder.start_at.desc(), PrnOrder.id.desc())
        )
    )
    audit.record(AuditAction.VIEW, user=user, patient=patient, object_type="prn_order")
    return patient, orders


def get_order(user: User, public_id: str, order_public_id: str, need: Need) -> PrnOrder:
    """One order of the patient, for a page that acts on it (`need`); audited as a view."""
    patient = find_patient(user, public_id, need)
    order = _order(patient, order_public_id)
    audit.record(AuditAction.VIEW, user=user, patient=patient, obj=order)
    return order


def _order(patient: Patient, order_public_id: str) -> PrnOrder:
    order = db.session.scalar(
        select(PrnOrder).where(
            PrnOrder.patient_id == patient.id, PrnOrder.public_id == order_public_id
        )
    )
    if order is None:
        raise Refused("no_such_order")
    return order


def open_orders(patient: Patient, now: datetime) -> list[PrnOrder]:
    """Orders in force now or due to start later, with their prescribers."""
    return list(
        db.session.scalars(
            select(PrnOrder)
            .where(
                PrnOrder.patient_id == patient.id,
                or_(PrnOrder.stop_at.is_(None), PrnOrder.stop_at > now),
            )
            .options(joinedload(PrnOrder.prescriber, innerjoin=True))
        )
    )


def in_force(orders: list[PrnOrder], now: datetime) -> list[PrnOrder]:
    """Those of `orders` in force at `now`, in the order of the indications."""
    rank = {code: index for index, code in enumerate(scoring.PRN_INDICATIONS)}
    return sorted(
        (order for order in orders if order.is_active(now)),
        key=lambda order: (rank[order.indication], order.start_at),
    )


def active_orders(patient: Patient, now: datetime) -> list[PrnOrder]:
    """The orders in force at `now`, in the order of the indications."""
    return in_force(open_orders(patient, now), now)


def create_order(
    user: User,
    public_id: str,
    details: OrderDetails,
    *,
    start_at: datetime | None = None,
    now: datetime | None = None,
) -> PrnOrder:
    """A new as-needed order (physicians only); closes a `prn_missing` flag it completes."""
    patient = find_patient(user, public_id, Need.PRESCRIBE)
    if patient.phase == Phase.DECEASED:
        raise Refused("patient_deceased")
    now = _now(now)
    order = PrnOrder(
        patient_id=patient.id,
        prescriber_id=user.id,
        # "From now" means from this minute: times are written to the minute (the "in force
        # from" field, the time of a dose), and a dose given in the minute the order was written
        # must fall inside it, not a few seconds before its start.
        start_at=start_at or now.replace(second=0, microsecond=0),
        **_order_row(details.cleaned()),
    )
    db.session.add(order)
    db.session.flush()
    audit.record(AuditAction.CREATE, user=user, patient=patient, obj=order)
    evaluate_reminders(patient, now=now, user=user)
    return order


def change_order(
    user: User,
    public_id: str,
    order_public_id: str,
    details: OrderDetails,
    *,
    reason: str,
    now: datetime | None = None,
) -> PrnOrder:
    """Replace an order in force with a new version from the start of the current minute; the
    old version is kept unchanged except that it stops then (physicians only). Doses given under earlier
    versions still count against the new version's limits."""
    patient = find_patient(user, public_id, Need.PRESCRIBE)
    now = _now(now)
    # From the start of this minute, as for a new order: a dose written to the minute right
    # after the change belongs to the new version.
    changed_at = now.replace(second=0, microsecond=0)
    old = _order(patient, order_public_id)
    if not reason.strip():
        raise Refused("reason_required")
    if not old.is_active(now) or old.superseded_by is not None:
        raise Refused("order_not_active")
    new = PrnOrder(
        patient_id=patient.id,
        series_id=old.series_id,
        prescriber_id=user.id,
        start_at=changed_at,
        supersedes_id=old.id,
        change_reason=reason.strip(),
        **_order_row(details.cleaned()),
    )
    try:
        with db.session.begin_nested():
            db.session.add(new)
            db.session.flush()
    except IntegrityError:
        raise Refused("order_not_active") from None  # someone changed it at the same moment
    old.stop_at = changed_at
    old.stop_cause = StopCause.CHANGED.value
    old.stopped_by_id = user.id
    db.session.flush()
    audit.record(AuditAction.CORRECT, user=user, patient=patient, obj=new)
    evaluate_reminders(patient, now=now, user=user)
    return new


def stop_order(
    user: User, public_id: str, order_public_id: str, *, reason: str, now: datetime | None = None
) -> PrnOrder:
    """Stop an order from `now`, with the physician's reason (physicians only)."""
    patient = find_patient(user, public_id, Need.PRESCRIBE)
    now = _now(now)
    order = _order(patient, order_public_id)
    if not reason.strip():
        raise Refused("reason_required")
    if order.stop_at is not None and order.stop_at <= now:
        raise Refused("order_not_active")
    order.stop_at = max(now, order.start_at)
    order.stop_cause = StopCause.STOPPED.value
    order.stop_reason = reason.strip()
    order.stopped_by_id = user.id
    db.session.flush()
    audit.record(AuditAction.UPDATE, user=user, patient=patient, obj=order, detail="stopped")
    evaluate_reminders(patient, now=now, user=user)
    return order


# --- doses -------------------------------------------------------------------------------


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


def _current_doses():  # type: ignore[no-untyped-def]
    """Condition: the dose has not been replaced by a correction."""
    newer = aliased(PrnAdministration)
    return ~exists(select(newer.id).where(newer.supersedes_id == PrnAdministration.id))


def _doses_around(
    patient: Patient,
    at: datetime,
    span: timedelta,
    *,
    client_token: str,
    leaving_out: int | None = None,
) -> list[scoring.DoseGiven]:
    """The patient's doses (current versions, every order) less than `span` before or after
    `at`, as the rules see them, `dose_id` being the row id; `leaving_out` the one corrected.
    A dose stored from the same form (`client_token`) is not another dose: the same form sent
    twice at once must meet the unique token, not warn about itself.

    Doses `span` or more away cannot matter to a rule whose interval and windows are at most
    `span` long: exactly the interval apart is allowed, and doses a window's length apart
    never share a window (`pallapp.scoring.records`)."""
    query = (
        select(
            PrnAdministration.id,
            PrnAdministration.given_at,
            PrnOrder.series_id,
            PrnOrder.indication,
        )
        .join(PrnOrder, PrnOrder.id == PrnAdministration.order_id)
        .where(
            PrnAdministration.patient_id == patient.id,
            PrnAdministration.given_at > at - span,
            PrnAdministration.given_at < at + span,
            PrnAdministration.client_token != client_token,
            _current_doses(),
        )
    )
    if leaving_out is not None:
        query = query.where(PrnAdministration.id != leaving_out)
    return [
        scoring.DoseGiven(series, indication, given_at, dose_id=str(row_id))
        for row_id, given_at, series, indication in db.session.execute(query)
    ]


def _rule_span(order: PrnOrder, thresholds: scoring.Thresholds) -> timedelta:
    """How far from a dose the dose rules look: the longest of the 24 h of an order's maximum,
    the unit's `prn_frequent` window and the order's minimum interval."""
    return max(
        timedelta(hours=24),
        timedelta(hours=thresholds.prn_frequent_window_hours),
        timedelta(minutes=order.min_interval_minutes or 0),
    )


def _dose_for_token(user: User, patient: Patient, token: str) -> PrnAdministration | None:
    existing = db.session.scalar(
        select(PrnAdministration).where(PrnAdministration.client_token == token)
    )
    if existing is not None and (
        existing.patient_id != patient.id or existing.entered_by_id != user.id
    ):
        raise Refused("token_reused")
    return existing


@dataclass(frozen=True)
class RecordedDose:
    administration: PrnAdministration
    created: bool  # False: the same form was sent before; nothing new was stored
    flags: list[Flag]


@dataclass(frozen=True)
class DoseEntry:
    """What was given, as written on the dose form: `dose` is the amount as text ("2,5")."""

    given_at: datetime
    dose: str
    dose_unit: str
    route: str
    symptom_before: int | None = None


@dataclass(frozen=True)
class Confirmations:
    """What the giver confirmed after a warning, each with its reason."""

    over_limit: bool = False
    over_limit_reason: str = ""
    dose_mismatch: bool = False
    dose_mismatch_reason: str = ""

    def reason_for(self, flag: scoring.Flag | None) -> str | None:
        """The reason that lets a dose with `flag` be stored: None if there is no flag, or if
        it was not confirmed with a reason (then the dose needs confirmation)."""
        if flag is None:
            return None
        confirmed, reason = (
            (self.over_limit, self.over_limit_reason)
            if flag.code == "prn_over_limit"
            else (self.dose_mismatch, self.dose_mismatch_reason)
        )
        return reason.strip() if confirmed and reason.strip() else None


def record_dose(
    user: User,
    public_id: str,
    order_public_id: str,
    *,
    given_at: datetime,
    dose: str,
    dose_unit: str,
    route: str,
    client_token: str,
    symptom_before: int | None = None,
    over_limit_confirmed: bool = False,
    over_limit_reason: str = "",
    dose_mismatch_confirmed: bool = False,
    dose_mismatch_reason: str = "",
    now: datetime | None = None,
) -> RecordedDose:
    """Record one dose given under an order in force at `given_at`; `dose` is the amount
    given, a number as text ("2,5").

    The dose is checked against the order, looking both ways in time (a dose may be entered
    late): a dose closer than the minimum interval to another dose of the order, before or
    after it, or in a 24-hour window with more than the order's maximum, is over the limit; a
    dose with another amount (outside the ordered dose or range), unit or route than the
    order's is a mismatch. Either raises `DoseNeedsConfirmation` unless the giver confirmed it
    with a reason; then it is stored with its `prn_over_limit` or `prn_dose_mismatch` flag
    (high). `prn_frequent` is evaluated for the indication (at most one open flag per
    indication). The same `client_token` again stores nothing.
    """
    patient = find_patient(user, public_id, Need.RECORD_DOSE)
    existing = _dose_for_token(user, patient, client_token)
    if existing is not None:
        return RecordedDose(existing, created=False, flags=[])
    return _store_dose(
        user,
        patient,
        _order(patient, order_public_id),
        DoseEntry(given_at, dose, dose_unit, route, symptom_before),
        client_token=client_token,
        confirmed=Confirmations(
            over_limit_confirmed, over_limit_reason, dose_mismatch_confirmed, dose_mismatch_reason
        ),
        now=_now(now),
    )


def correct_dose(
    user: User,
    public_id: str,
    dose_public_id: str,
    entry: DoseEntry,
    *,
    reason: str,
    client_token: str,
    over_limit_confirmed: bool = False,
    over_limit_reason: str = "",
    dose_mismatch_confirmed: bool = False,
    dose_mismatch_reason: str = "",
    now: datetime | None = None,
) -> RecordedDose:
    """Correct a recorded dose (wrong time, dose or route): a new row that supersedes it, under
    the same order and giver; the old row is kept. The corrected dose is checked against the
    order like a new one (both ways in time), leaving out the version it replaces. An effect
    already recorded is carried over if it was made after the corrected time."""
    patient = find_patient(user, public_id, Need.RECORD_DOSE)
    existing = _dose_for_token(user, patient, client_token)
    if existing is not None:
        return RecordedDose(existing, created=False, flags=[])
    old = _dose(patient, dose_public_id)
    if not reason.strip():
        raise Refused("reason_required")
    if old.superseded_by is not None:
        raise Refused("already_corrected")
    return _store_dose(
        user,
        patient,
        old.order,
        entry,
        client_token=client_token,
        confirmed=Confirmations(
            over_limit_confirmed, over_limit_reason, dose_mismatch_confirmed, dose_mismatch_reason
        ),
        now=_now(now),
        corrects=old,
        correction_reason=reason.strip(),
    )


def _amount(entry: DoseEntry) -> Decimal:
    if not (entry.dose.strip() and entry.dose_unit.strip()):
        raise Refused("drug_and_dose_required")
    try:
        return scoring.parse_amount(entry.dose)
    except scoring.InvalidDose as invalid:
        raise Refused(f"amount_{invalid.reason}") from None


def _colliding_rows(check: scoring.LimitCheck) -> list[PrnAdministration]:
    """The recorded doses a limit check names, with who gave them, in time order."""
    ids = [int(dose.dose_id) for dose in check.colliding]
    if not ids:
        return []
    rows = db.session.scalars(
        select(PrnAdministration)
        .where(PrnAdministration.id.in_(ids))
        .options(joinedload(PrnAdministration.given_by, innerjoin=True))
    )
    by_id = {row.id: row for row in rows}
    return [by_id[row_id] for row_id in ids]


def _store_dose(
    user: User,
    patient: Patient,
    order: PrnOrder,
    entry: DoseEntry,
    *,
    client_token: str,
    confirmed: Confirmations,
    now: datetime,
    corrects: PrnAdministration | None = None,
    correction_reason: str | None = None,
) -> RecordedDose:
    if entry.given_at > now + FUTURE_TOLERANCE:
        raise Refused("given_in_future")
    if not order.is_active(entry.given_at):
        raise Refused("order_not_active")
    if entry.route not in set(Route):
        raise Refused("unknown_route")
    if entry.symptom_before is not None and not 0 <= entry.symptom_before <= 10:
        raise Refused("rating_out_of_range")
    amount = _amount(entry)
    rule = order_rule(order)
    thresholds = thresholds_for(unit_for(user, patient))
    others = _doses_around(
        patient,
        entry.given_at,
        _rule_span(order, thresholds),
        client_token=client_token,
        leaving_out=corrects.id if corrects else None,
    )
    limits = scoring.check_limits(rule, others, entry.given_at)
    mismatch = scoring.prn_dose_mismatch(rule, amount, entry.dose_unit, entry.route)
    over_limit_reason = confirmed.reason_for(limits.flag)
    mismatch_reason = confirmed.reason_for(mismatch)
    if (limits.flag is not None and over_limit_reason is None) or (
        mismatch is not None and mismatch_reason is None
    ):
        raise DoseNeedsConfirmation(limits.flag, mismatch, _colliding_rows(limits))
    administration = PrnAdministration(
        patient_id=patient.id,
        order_id=order.id,
        given_at=entry.given_at,
        dose=entry.dose.strip(),
        amount=amount,
        dose_unit=entry.dose_unit.strip(),
        route=entry.route,
        given_by_id=corrects.given_by_id if corrects else user.id,
        entered_by_id=user.id,
        symptom_before=entry.symptom_before,
        over_limit_reason=over_limit_reason,
        dose_mismatch_reason=mismatch_reason,
        client_token=client_token,
        supersedes_id=corrects.id if corrects else None,
        correction_reason=correction_reason,
    )
    evaluated = corrects.evaluated_at if corrects is not None else None
    if corrects is not None and evaluated is not None and evaluated >= entry.given_at:
        # An evaluation made before the corrected time cannot be about this dose: ask again.
        administration.effect = corrects.effect
        administration.symptom_after = corrects.symptom_after
        administration.evaluated_at = evaluated
        administration.evaluated_by_id = corrects.evaluated_by_id
    try:
        with db.session.begin_nested():
            db.session.add(administration)
            db.session.flush()
    except IntegrityError:
        # The same form was sent twice at once, or the dose was corrected meanwhile.
        stored = _dose_for_token(user, patient, client_token)
        if stored is None:
            raise Refused("already_corrected") from None
        return RecordedDose(stored, created=False, flags=[])
    action = AuditAction.CORRECT if corrects else AuditAction.CREATE
    audit.record(action, user=user, patient=patient, obj=administration)
    raised = [
        _add_dose_flag(patient, rule_flag, administration)
        for rule_flag in (limits.flag, mismatch)
        if rule_flag is not None
    ]
    this_dose = scoring.DoseGiven(
        rule.order_id, order.indication, entry.given_at, dose_id=str(administration.id)
    )
    frequent = scoring.prn_frequent(others, this_dose, thresholds)
    if frequent is not None:
        open_for_indication = [
            flag
            for flag in _open_flags(patient, "prn_frequent")
            if flag.items == list(frequent.items)
        ]
        if not open_for_indication:
            raised.append(_add_dose_flag(patient, frequent, administration))
    return RecordedDose(administration, created=True, flags=raised)


def _add_dose_flag(
    patient: Patient, rule_flag: scoring.Flag, administration: PrnAdministration
) -> Flag:
    flag = Flag(
        patient_id=patient.id,
        source="dose",
        code=rule_flag.code,
        severity=rule_flag.severity,
        items=list(rule_flag.items),
        params={**rule_flag.params, "dose": administration.public_id},
    )
    db.session.add(flag)
    db.session.flush()
    return flag


def _dose(patient: Patient, dose_public_id: str) -> PrnAdministration:
    dose = db.session.scalar(
        select(PrnAdministration).where(
            PrnAdministration.patient_id == patient.id,
            PrnAdministration.public_id == dose_public_id,
        )
    )
    if dose is None:
        raise Refused("no_such_dose")
    return dose


def get_dose(user: User, public_id: str, dose_public_id: str) -> PrnAdministration:
    patient = find_patient(user, public_id, Need.RECORD_DOSE)
    dose = _dose(patient, dose_public_id)
    audit.record(AuditAction.VIEW, user=user, patient=patient, obj=dose)
    return dose


def evaluate_dose(
    user: User,
    public_id: str,
    dose_public_id: str,
    *,
    effect: str,
    symptom_after: int | None = None,
    evaluated_at: datetime | None = None,
    now: datetime | None = None,
) -> PrnAdministration:
    """Record the effect of a dose, once (who and when are kept)."""
    dose = get_dose(user, public_id, dose_public_id)
    now = _now(now)
    evaluated_at = evaluated_at or now
    if dose.evaluated_at is not None:
        raise Refused("already_evaluated")
    if dose.superseded_by is not None:
        raise Refused("already_corrected")
    if evaluated_at < dose.given_at:
        raise Refused("evaluated_before_dose")
    if evaluated_at > now + FUTURE_TOLERANCE:
        raise Refused("evaluated_in_future")
    if symptom_after is not None and not 0 <= symptom_after <= 10:
        raise Refused("rating_out_of_range")
    dose.effect = Effect(effect).value
    dose.symptom_after = symptom_after
    dose.evaluated_at = evaluated_at
    dose.evaluated_by_id = user.id
    db.session.flush()
    audit.record(AuditAction.UPDATE, user=user, patient=dose.order.patient, obj=dose, detail="effect")
    return dose


def doses_since(patient: Patient, since: datetime) -> list[PrnAdministration]:
    return list(
        db.session.scalars(
            select(PrnAdministration)
            .where(
                PrnAdministration.patient_id == patient.id,
                PrnAdministration.given_at > since,
                _current_doses(),
            )
            .options(joinedload(PrnAdministration.order, innerjoin=True))
            .order_by(PrnAdministration.given_at.desc())
        )
    )


def dose_counts_by_indication(
    patient_ids: Select[Any], since: datetime
) -> dict[int, dict[str, int]]:
    """Doses (current versions) given after `since`, per patient and indication, in one grouped
    query for every patient in `patient_ids` (a select of ids): pages listing many patients."""
    query = (
        select(PrnAdministration.patient_id, PrnOrder.indication, func.count(PrnAdministration.id))
        .join(PrnOrder, PrnOrder.id == PrnAdministration.order_id)
        .where(
            PrnAdministration.patient_id.in_(patient_ids),
            PrnAdministration.given_at > since,
            _current_doses(),
        )
        .group_by(PrnAdministration.patient_id, PrnOrder.indication)
    )
    counts: dict[int, dict[str, int]] = {}
    for patient_id, indication, count in db.session.execute(query):
        counts.setdefault(patient_id, {})[indication] = count
    return counts


def doses_to_evaluate(patient: Patient, limit: int = 20) -> list[PrnAdministration]:
    """Doses whose effect has not been recorded yet, newest first."""
    return list(
        db.session.scalars(
            select(PrnAdministration)
            .where(
                PrnAdministration.patient_id == patient.id,
                PrnAdministration.evaluated_at.is_(None),
                _current_doses(),
            )
            .options(joinedload(PrnAdministration.order, innerjoin=True))
            .order_by(PrnAdministration.given_at.desc())
            .limit(limit)
        )
    )


# --- reminder flags ----------------------------------------------------------------------


def _open_flags(patient: Patient, code: str | None = None) -> list[Flag]:
    query = select(Flag).where(Flag.patient_id == patient.id, Flag.closed_at.is_(None))
    if code is not None:
        query = query.where(Flag.code == code)
    return list(db.session.scalars(query.order_by(Flag.id)))


def _open_reminder_flags(patient: Patient) -> list[Flag]:
    return [flag for flag in _open_flags(patient) if flag.source == "reminder"]


def _close(flag: Flag, now: datetime, reason: str, user: User | None) -> None:
    flag.closed_at = now
    flag.close_reason = reason
    flag.closed_by_id = user.id if user is not None else None


def end_of_life_since(patient: Patient) -> datetime | None:
    """When the end-of-life phase began: the start (Swedish time) of the day of the latest
    brytpunktssamtal; for a patient put in that phase without one recorded, the enrolment."""
    if patient.phase != Phase.END_OF_LIFE:
        return None
    day = db.session.scalar(
        select(Milestone.occurred_on)
        .where(
            Milestone.patient_id == patient.id,
            Milestone.kind == MilestoneKind.BRYTPUNKTSSAMTAL.value,
        )
        .order_by(Milestone.occurred_on.desc())
        .limit(1)
    )
    day = day or patient.enrolled_on
    return datetime.combine(day, time(0), tzinfo=STOCKHOLM)


def reminder_thresholds(units: list[CareUnit]) -> scoring.Thresholds:
    """The intervals of the patient's units; with several units, the shortest one applies, so
    every unit sees the same flags whoever opens the record."""
    chosen: scoring.Thresholds | None = None
    for unit in units:
        unit_thresholds = dataclasses.replace(
            thresholds_for(unit),
            assessment_interval_days=unit.assessment_interval_days,
            assessment_interval_end_of_life_days=unit.end_of_life_interval_days,
        )
        if chosen is None:
            chosen = unit_thresholds
        else:
            chosen = dataclasses.replace(
                chosen,
                assessment_interval_days=min(
                    chosen.assessment_interval_days, unit_thresholds.assessment_interval_days
                ),
                assessment_interval_end_of_life_days=min(
                    chosen.assessment_interval_end_of_life_days,
                    unit_thresholds.assessment_interval_end_of_life_days,
                ),
                roag_interval_days=min(
                    chosen.roag_interval_days, unit_thresholds.roag_interval_days
                ),
            )
    return chosen or scoring.DEFAULT_THRESHOLDS


def _reminders_due(
    patient: Patient, now: datetime, orders: list[PrnOrder] | None = None
) -> list[scoring.Flag]:
    units = [episode.unit for episode in patient.active_episodes(now.astimezone(STOCKHOLM).date())]
    if patient.phase in (Phase.DECEASED, Phase.DISCHARGED) or not units:
        return []
    thresholds = reminder_thresholds(units)
    since = end_of_life_since(patient)
    # The rules only look at the latest assessment of each instrument up to `now`.
    latest = (
        select(Assessment.instrument, func.max(Assessment.observed_at))
        .where(Assessment.patient_id == patient.id, Assessment.observed_at <= now)
        .group_by(Assessment.instrument)
    )
    seen = [
        scoring.AssessmentSeen(instrument, observed_at)
        for instrument, observed_at in db.session.execute(latest)
    ]
    if orders is None:
        orders = open_orders(patient, now)
    rules = [order_rule(order) for order in orders]
    due = [
        scoring.prn_missing(rules, now, end_of_life_since=since),
        scoring.prn_limits_missing(rules, now),
        scoring.assessment_overdue(seen, now, end_of_life_since=since, thresholds=thresholds),
        scoring.roag_overdue(seen, now, end_of_life_since=since, thresholds=thresholds),
    ]
    return [flag for flag in due if flag is not None]


@dataclass(frozen=True)
class ReminderChanges:
    opened: int
    closed: int


def evaluate_reminders(
    patient: Patient,
    *,
    now: datetime | None = None,
    user: User | None = None,
    orders: list[PrnOrder] | None = None,
) -> ReminderChanges:
    """Open the reminder flags that are due and close those no longer due.

    Idempotent: an open flag with the same code and items is left as it is. A due flag whose
    items changed (e.g. one more order added, one still missing) replaces the open one. Called
    by the services after relevant changes, by the patient page and by `flask reminders`;
    the caller has already checked that the patient may be seen. `orders`: the patient's
    `open_orders` at `now` if the caller has them already (the patient page shows them too).
    """
    now = _now(now)
    due = {flag.code: flag for flag in _reminders_due(patient, now, orders)}
    opened = closed = 0
    for flag in _open_reminder_flags(patient):
        wanted = due.get(flag.code)
        if wanted is not None and list(wanted.items) == flag.items:
            del due[flag.code]  # still due, already open
        else:
            _close(flag, now, "resolved" if wanted is None else "superseded", None)
            closed += 1
    for rule_flag in due.values():
        flag = Flag(
            patient_id=patient.id,
            source="reminder",
            code=rule_flag.code,
            severity=rule_flag.severity,
            items=list(rule_flag.items),
            params=dict(rule_flag.params),
            created_at=now,
        )
        db.session.add(flag)
        db.session.flush()
        audit.record(AuditAction.CREATE, user=user, patient=patient, obj=flag, detail="reminder")
        opened += 1
    db.session.flush()
    return ReminderChanges(opened, closed)


def evaluate_all_reminders(now: datetime | None = None) -> ReminderChanges:
    """`evaluate_reminders` for every patient followed by a unit today, or with an open
    reminder flag (for the CLI; a system task, not a user's read)."""
    now = _now(now)
    day = now.astimezone(STOCKHOLM).date()
    followed = select(PatientUnit.patient_id).where(
        PatientUnit.start <= day, or_(PatientUnit.end.is_(None), PatientUnit.end > day)
    )
    flagged = select(Flag.patient_id).where(Flag.source == "reminder", Flag.closed_at.is_(None))
    patients = db.session.scalars(
        select(Patient)
        .where(or_(Patient.id.in_(followed), Patient.id.in_(flagged)))
        .options(selectinload(Patient.episodes).selectinload(PatientUnit.unit))
        .order_by(Patient.id)
    )
    opened = closed = 0
    for patient in patients:
        changes = evaluate_reminders(patient, now=now)
        opened += changes.opened
        closed += changes.closed
    return ReminderChanges(opened, closed)
