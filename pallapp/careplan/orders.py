"""As-needed orders: writing, changing and stopping what the physician ordered.

The app never proposes a drug or a dose: it records what the physician ordered."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from pallapp import audit, flags, scoring
from pallapp.access import Need, find_patient, find_patient_with
from pallapp.careplan.common import Refused, now_or_utc
from pallapp.extensions import db
from pallapp.models import (
    AuditAction,
    Patient,
    Phase,
    PrnOrder,
    Route,
    StopCause,
    User,
)
from pallapp.refusals import DOSE_PROBLEMS, Reason


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
            raise Refused(Reason.UNKNOWN_INDICATION)
        if details.indication == "other" and not details.indication_text:
            raise Refused(Reason.INDICATION_TEXT_REQUIRED)
        if details.indication != "other":
            details = dataclasses.replace(details, indication_text="")
        if details.route not in set(Route):
            raise Refused(Reason.UNKNOWN_ROUTE)
        if not (details.drug and details.dose and details.dose_unit):
            raise Refused(Reason.DRUG_AND_DOSE_REQUIRED)
        details.dose_range()
        # Both limits, or the doses given under the order cannot be checked (INSTRUMENTS.md).
        if details.min_interval_minutes is None:
            raise Refused(Reason.MIN_INTERVAL_REQUIRED)
        if details.max_doses_per_24h is None:
            raise Refused(Reason.MAX_DOSES_REQUIRED)
        for limit in (details.min_interval_minutes, details.max_doses_per_24h):
            if limit < 1:
                raise Refused(Reason.LIMIT_OUT_OF_RANGE)
        return details

    def dose_range(self) -> scoring.DoseRange:
        """The dose as numbers; `Refused` (`DOSE_PROBLEMS`) if it is not a number or range."""
        try:
            return scoring.parse_dose(self.dose)
        except scoring.InvalidDose as invalid:
            raise Refused(DOSE_PROBLEMS[invalid.reason]) from None


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


def _with_order(find: Select[Patient]) -> Select[Any]:
    """`find` (the access layer's statement that finds the patient) with the patient's order
    `order_public_id` beside it, or None: one statement where there were two (the dose form
    is opened at every dose given)."""
    return find.add_columns(PrnOrder).outerjoin(
        PrnOrder,
        and_(
            PrnOrder.patient_id == Patient.id,
            PrnOrder.public_id == bindparam("order_public_id"),
        ),
    )


def get_order(user: User, public_id: str, order_public_id: str, need: Need) -> PrnOrder:
    """One order of the patient, for a page that acts on it (`need`); audited as a view."""
    patient, (found,) = find_patient_with(
        user, public_id, need, _with_order, {"order_public_id": order_public_id}
    )
    order: PrnOrder | None = found
    if order is None:
        raise Refused(Reason.NO_SUCH_ORDER)
    set_committed_value(order, "patient", patient)  # as `order_of` does
    audit.record(AuditAction.VIEW, user=user, patient=patient, obj=order)
    return order


def order_of(patient: Patient, order_public_id: str) -> PrnOrder:
    order = db.session.scalar(
        select(PrnOrder).where(
            PrnOrder.patient_id == patient.id, PrnOrder.public_id == order_public_id
        )
    )
    if order is None:
        raise Refused(Reason.NO_SUCH_ORDER)
    # The page names the patient: without this, `order.patient` is loaded again (the session
    # keeps no strong reference to the patient once the caller's goes).
    set_committed_value(order, "patient", patient)
    return order


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
        raise Refused(Reason.PATIENT_DECEASED)
    now = now_or_utc(now)
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
    flags.evaluate_reminders(patient, now=now, user=user)
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
    now = now_or_utc(now)
    # From the start of this minute, as for a new order: a dose written to the minute right
    # after the change belongs to the new version.
    changed_at = now.replace(second=0, microsecond=0)
    old = order_of(patient, order_public_id)
    if not reason.strip():
        raise Refused(Reason.REASON_REQUIRED)
    if not old.is_active(now) or old.superseded_by is not None:
        raise Refused(Reason.ORDER_NOT_ACTIVE)
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
        raise Refused(Reason.ORDER_NOT_ACTIVE) from None  # someone changed it at the same moment
    old.stop_at = changed_at
    old.stop_cause = StopCause.CHANGED.value
    old.stopped_by_id = user.id
    db.session.flush()
    audit.record(AuditAction.CORRECT, user=user, patient=patient, obj=new)
    flags.evaluate_reminders(patient, now=now, user=user)
    return new


def stop_order(
    user: User, public_id: str, order_public_id: str, *, reason: str, now: datetime | None = None
) -> PrnOrder:
    """Stop an order from `now`, with the physician's reason (physicians only)."""
    patient = find_patient(user, public_id, Need.PRESCRIBE)
    now = now_or_utc(now)
    order = order_of(patient, order_public_id)
    if not reason.strip():
        raise Refused(Reason.REASON_REQUIRED)
    if order.stop_at is not None and order.stop_at <= now:
        raise Refused(Reason.ORDER_NOT_ACTIVE)
    order.stop_at = max(now, order.start_at)
    order.stop_cause = StopCause.STOPPED.value
    order.stop_reason = reason.strip()
    order.stopped_by_id = user.id
    db.session.flush()
    audit.record(AuditAction.UPDATE, user=user, patient=patient, obj=order, detail="stopped")
    flags.evaluate_reminders(patient, now=now, user=user)
    return order
