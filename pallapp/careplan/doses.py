"""As-needed doses: recording, correcting and evaluating what was given, each checked
against its order with the rules in `pallapp.scoring.records`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from pallapp import audit, carerecord, flags, scoring
from pallapp.access import Need, find_patient
from pallapp.alerts.services import raise_alerts
from pallapp.careplan.common import FUTURE_TOLERANCE, Refused, now_or_utc
from pallapp.careplan.orders import order_of
from pallapp.extensions import db
from pallapp.models import (
    AuditAction,
    Effect,
    Flag,
    Patient,
    PrnAdministration,
    PrnOrder,
    Route,
    User,
)
from pallapp.refusals import AMOUNT_PROBLEMS, Reason


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
            carerecord.current_doses(),
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
        raise Refused(Reason.TOKEN_REUSED)
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
    found: PrnOrder | None = None,
) -> RecordedDose:
    """Record one dose given under an order in force at `given_at`; `dose` is the amount
    given, a number as text ("2,5"). `found`: the order as `get_order` found it for `user`
    with `Need.RECORD_DOSE` in this request (its patient with it), so that neither is looked
    up again.

    The dose is checked against the order, looking both ways in time (a dose may be entered
    late): a dose closer than the minimum interval to another dose of the order, before or
    after it, or in a 24-hour window with more than the order's maximum, is over the limit; a
    dose with another amount (outside the ordered dose or range), unit or route than the
    order's is a mismatch. Either raises `DoseNeedsConfirmation` unless the giver confirmed it
    with a reason; then it is stored with its `prn_over_limit` or `prn_dose_mismatch` flag
    (high). `prn_frequent` is evaluated for the indication (at most one open flag per
    indication). The same `client_token` again stores nothing.
    """
    if (
        found is not None
        and found.public_id == order_public_id
        and found.patient.public_id == public_id
    ):
        patient, order = found.patient, found
    else:
        patient, order = find_patient(user, public_id, Need.RECORD_DOSE), None
    existing = _dose_for_token(user, patient, client_token)
    if existing is not None:
        return RecordedDose(existing, created=False, flags=[])
    return _store_dose(
        user,
        patient,
        order or order_of(patient, order_public_id),
        DoseEntry(given_at, dose, dose_unit, route, symptom_before),
        client_token=client_token,
        confirmed=Confirmations(
            over_limit_confirmed, over_limit_reason, dose_mismatch_confirmed, dose_mismatch_reason
        ),
        now=now_or_utc(now),
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
        raise Refused(Reason.REASON_REQUIRED)
    if old.superseded_by is not None:
        raise Refused(Reason.DOSE_ALREADY_CORRECTED)
    return _store_dose(
        user,
        patient,
        old.order,
        entry,
        client_token=client_token,
        confirmed=Confirmations(
            over_limit_confirmed, over_limit_reason, dose_mismatch_confirmed, dose_mismatch_reason
        ),
        now=now_or_utc(now),
        corrects=old,
        correction_reason=reason.strip(),
    )


def _amount(entry: DoseEntry) -> Decimal:
    if not (entry.dose.strip() and entry.dose_unit.strip()):
        raise Refused(Reason.DRUG_AND_DOSE_REQUIRED)
    try:
        return scoring.parse_amount(entry.dose)
    except scoring.InvalidDose as invalid:
        raise Refused(AMOUNT_PROBLEMS[invalid.reason]) from None


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
        raise Refused(Reason.GIVEN_IN_FUTURE)
    if not order.is_active(entry.given_at):
        raise Refused(Reason.ORDER_NOT_ACTIVE)
    if entry.route not in set(Route):
        raise Refused(Reason.UNKNOWN_ROUTE)
    if entry.symptom_before is not None and not 0 <= entry.symptom_before <= 10:
        raise Refused(Reason.RATING_OUT_OF_RANGE)
    amount = _amount(entry)
    rule = flags.order_rule(order)
    thresholds = flags.thresholds_for(flags.unit_for(user, patient))
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
            raise Refused(Reason.DOSE_ALREADY_CORRECTED) from None
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
            for flag in flags.open_flags(patient, "prn_frequent")
            if flag.items == list(frequent.items)
        ]
        if not open_for_indication:
            raised.append(_add_dose_flag(patient, frequent, administration))
    if not user.is_staff:
        # A relative giving doses at home: a dose outside the order must reach someone.
        raise_alerts(user, patient, raised, now)
    return RecordedDose(administration, created=True, flags=raised)


def _add_dose_flag(
    patient: Patient, rule_flag: scoring.Flag, administration: PrnAdministration
) -> Flag:
    flag = flags.new_flag(
        patient, rule_flag, source="dose", params={"dose": administration.public_id}
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
        raise Refused(Reason.NO_SUCH_DOSE)
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
    now = now_or_utc(now)
    evaluated_at = evaluated_at or now
    if dose.evaluated_at is not None:
        raise Refused(Reason.ALREADY_EVALUATED)
    if dose.superseded_by is not None:
        raise Refused(Reason.DOSE_ALREADY_CORRECTED)
    if evaluated_at < dose.given_at:
        raise Refused(Reason.EVALUATED_BEFORE_DOSE)
    if evaluated_at > now + FUTURE_TOLERANCE:
        raise Refused(Reason.EVALUATED_IN_FUTURE)
    if symptom_after is not None and not 0 <= symptom_after <= 10:
        raise Refused(Reason.RATING_OUT_OF_RANGE)
    dose.effect = Effect(effect).value
    dose.symptom_after = symptom_after
    dose.evaluated_at = evaluated_at
    dose.evaluated_by_id = user.id
    db.session.flush()
    audit.record(AuditAction.UPDATE, user=user, patient=dose.order.patient, obj=dose, detail="effect")
    return dose


# The patient page lists them too (`pallapp.homevisit`): the query is in the shared care record.
doses_to_evaluate = carerecord.doses_to_evaluate
