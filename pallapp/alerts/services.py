"""Raising, routing, escalating and acknowledging alerts.

A high flag from a self-report raises one alert per care unit that follows the patient. In the
unit's coverage hours it goes to the unit's alert address and to the alert list of its staff,
and must be acknowledged within the unit's response time, or it escalates once (to the
escalation address, e.g. the physician on call). Outside coverage hours it waits in the alert
list; the patient was told on the result page whom to call now. Mails carry no clinical content
and no name: only that there is an alert, and a link.

Services flush; the request (or the job) commits.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app, url_for
from flask_babel import force_locale
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from pallapp import audit
from pallapp.access import Need, find_patient, visible_patients
from pallapp.alerts import outbox
from pallapp.alerts.coverage import in_coverage
from pallapp.extensions import db
from pallapp.flags.expected import items_beyond_expected
from pallapp.i18n import gettext
from pallapp.models import Alert, AuditAction, CareUnit, Flag, OutboxMessage, Patient, User
from pallapp.timeutil import STOCKHOLM

HIGH = "high"


class AlertNotOpen(Exception):
    """The alert was acknowledged already."""


def unit_in_coverage(unit: CareUnit, at: datetime) -> bool:
    return in_coverage(unit.coverage_weekdays, unit.coverage_start, unit.coverage_end, at)


def link(endpoint: str, **values: Any) -> str:
    """An absolute link for a message: the configured site (PALLAPP_BASE_URL), never a Host
    header; development and tests without one use http://localhost."""
    base = current_app.config.get("BASE_URL") or "http://localhost"
    with current_app.test_request_context(base_url=base):
        return url_for(endpoint, _external=True, **values)


def _mail_language() -> str:
    return str(current_app.config["BABEL_DEFAULT_LOCALE"])


def _enqueue_unit_mail(alert: Alert, kind: str, recipient: str, now: datetime) -> None:
    with force_locale(_mail_language()):
        if kind == "escalation":
            subject = gettext("pallapp: an alert has not been acknowledged")
            text = gettext(
                "An alert for a patient of %(unit)s has not been acknowledged within "
                "%(minutes)d minutes. Open the alert list:",
                unit=alert.unit.name,
                minutes=alert.unit.alert_response_minutes,
            )
        else:
            subject = gettext("pallapp: new alert")
            text = gettext(
                "A patient of %(unit)s has a new alert in pallapp. Open the alert list:",
                unit=alert.unit.name,
            )
    outbox.enqueue(
        key=f"{kind}:{alert.id}",
        kind=kind,
        channel="email",
        recipient=recipient,
        subject=subject,
        body=f"{text}\n{link('alerts.index')}\n",
        now=now,
        patient_id=alert.patient_id,
        unit_id=alert.unit_id,
        alert_id=alert.id,
    )


def _open_alert_like(patient: Patient, unit: CareUnit, flag: Flag) -> Alert | None:
    candidates = db.session.scalars(
        select(Alert)
        .join(Flag, Alert.flag_id == Flag.id)
        .where(
            Alert.patient_id == patient.id,
            Alert.unit_id == unit.id,
            Alert.acknowledged_at.is_(None),
            Flag.code == flag.code,
        )
        .order_by(Alert.id)
    ).all()
    return next((a for a in candidates if sorted(a.flag.items) == sorted(flag.items)), None)


def raise_alerts(user: User, patient: Patient, flags: Iterable[Flag], now: datetime) -> list[Alert]:
    """Alerts for the high flags among `flags` (already flushed), one per unit following the
    patient today. A flag repeating an open alert's rule and items is counted on that alert."""
    raised: list[Alert] = []
    today = now.astimezone(STOCKHOLM).date()
    for flag in flags:
        if flag.severity != HIGH or not flag.is_open:
            continue
        if not items_beyond_expected(patient, flag, now):
            # Every item at or below a level staff marked as expected: the flag stands, no alert.
            audit.record(
                AuditAction.VIEW, user=user, patient=patient, obj=flag,
                detail="no alert: expected level",
            )
            continue
        for episode in patient.active_episodes(today):
            unit = episode.unit
            earlier = _open_alert_like(patient, unit, flag)
            if earlier is not None:
                earlier.repeats += 1
                earlier.last_repeat_at = now
                audit.record(
                    AuditAction.UPDATE, user=user, patient=patient, obj=earlier, detail="repeat"
                )
                continue
            covered = unit_in_coverage(unit, now)
            alert = Alert(
                flag_id=flag.id,
                patient_id=patient.id,
                unit_id=unit.id,
                created_at=now,
                in_coverage=covered,
                respond_by=(
                    now + timedelta(minutes=unit.alert_response_minutes) if covered else None
                ),
            )
            alert.unit = unit
            db.session.add(alert)
            db.session.flush()
            audit.record(
                AuditAction.CREATE, user=user, patient=patient, obj=alert,
                detail="in coverage hours" if covered else "outside coverage hours",
            )
            if covered and unit.alert_email:
                _enqueue_unit_mail(alert, "alert", unit.alert_email, now)
            raised.append(alert)
    return raised


def escalate_due(now: datetime) -> int:
    """Escalate, once, every alert raised in coverage hours and not acknowledged by its
    `respond_by`. Safe on several hosts at once: the claim is a conditional UPDATE."""
    due = db.session.scalars(
        select(Alert)
        .where(
            Alert.in_coverage.is_(True),
            Alert.acknowledged_at.is_(None),
            Alert.escalated_at.is_(None),
            Alert.respond_by <= now,
        )
        .options(selectinload(Alert.unit), selectinload(Alert.patient))
        .order_by(Alert.id)
    ).all()
    escalated = 0
    for alert in due:
        claimed = db.session.execute(
            update(Alert)
            .where(Alert.id == alert.id, Alert.escalated_at.is_(None))
            .values(escalated_at=now)
            .execution_options(synchronize_session=False)
        )
        if not claimed.rowcount:  # type: ignore[attr-defined]  # an UPDATE's result is a CursorResult
            continue
        address = alert.unit.escalation_email
        audit.record(
            AuditAction.ESCALATE, patient=alert.patient, obj=alert,
            outcome="ok" if address else "no_address",
        )
        if address:
            _enqueue_unit_mail(alert, "escalation", address, now)
        escalated += 1
    return escalated


@dataclass
class AlertList:
    alerts: list[Alert]
    failed_messages: list[OutboxMessage]


def _staff_unit_ids(user: User, day: date) -> list[int]:
    return [unit.id for unit in user.active_units(day)]


def alerts_for(user: User, now: datetime) -> AlertList:
    """Open alerts of the user's units for patients the user may see, newest first, and the
    messages of those units that could not be sent. Audited per patient shown."""
    unit_ids = _staff_unit_ids(user, now.astimezone(STOCKHOLM).date())
    visible = visible_patients(user).with_only_columns(Patient.id).scalar_subquery()
    alerts = list(
        db.session.scalars(
            select(Alert)
            .where(
                Alert.unit_id.in_(unit_ids),
                Alert.acknowledged_at.is_(None),
                Alert.patient_id.in_(visible),
            )
            .options(selectinload(Alert.patient), selectinload(Alert.flag), selectinload(Alert.unit))
            .order_by(Alert.created_at.desc(), Alert.id.desc())
            .limit(200)
        )
    )
    failed = list(
        db.session.scalars(
            select(OutboxMessage)
            .where(
                OutboxMessage.unit_id.in_(unit_ids),
                OutboxMessage.status == outbox.FAILED,
                (OutboxMessage.patient_id.is_(None)) | OutboxMessage.patient_id.in_(visible),
            )
            .order_by(OutboxMessage.id.desc())
            .limit(100)
        )
    )
    patients = {alert.patient.id: alert.patient for alert in alerts}
    audit.record_for_patients(AuditAction.VIEW, patients.values(), object_type="alert_list", user=user)
    return AlertList(alerts, failed)


def acknowledge(user: User, alert_public_id: str, now: datetime) -> Alert:
    """Mark an alert as seen by `user` (who may change the patient's record). The flag itself
    stays open until acknowledged with a note on the flag page."""
    alert = db.session.scalar(select(Alert).where(Alert.public_id == alert_public_id))
    if alert is None:
        from pallapp.access import NotVisible

        raise NotVisible(alert_public_id, Need.CHANGE)
    patient = find_patient(user, alert.patient.public_id, Need.CHANGE)
    if alert.acknowledged_at is not None:
        raise AlertNotOpen
    alert.acknowledged_at = now
    alert.acknowledged_by_id = user.id
    audit.record(AuditAction.UPDATE, user=user, patient=patient, obj=alert, detail="acknowledged")
    return alert


@dataclass(frozen=True)
class WeekLoad:
    week: str  # ISO year and week, "2026-W48"
    alerts: int
    repeats: int
    in_coverage: int  # raised in coverage hours and acknowledged, or past their response time
    acknowledged_in_time: int

    @property
    def share_in_time(self) -> float | None:
        """Share of those (`in_coverage`) acknowledged by `respond_by`."""
        return self.acknowledged_in_time / self.in_coverage if self.in_coverage else None


def unit_load(user: User, now: datetime, weeks: int = 8) -> list[WeekLoad]:
    """Alerts per ISO week (Swedish time) over the user's units, newest week first."""
    unit_ids = _staff_unit_ids(user, now.astimezone(STOCKHOLM).date())
    rows = db.session.execute(
        select(
            Alert.created_at, Alert.repeats, Alert.in_coverage, Alert.respond_by,
            Alert.acknowledged_at,
        ).where(Alert.unit_id.in_(unit_ids), Alert.created_at > now - timedelta(weeks=weeks))
    ).all()
    counts: dict[str, list[int]] = {}
    for created, repeats, covered, respond_by, acknowledged in rows:
        year, week, _day = created.astimezone(STOCKHOLM).isocalendar()
        entry = counts.setdefault(f"{year}-W{week:02d}", [0, 0, 0, 0])
        entry[0] += 1
        entry[1] += repeats
        # Only alerts whose time has come count: one still within its response time is
        # neither in time nor late yet.
        if covered and respond_by is not None and (acknowledged is not None or respond_by <= now):
            entry[2] += 1
            if acknowledged is not None and acknowledged <= respond_by:
                entry[3] += 1
    return [WeekLoad(week, *values) for week, values in sorted(counts.items(), reverse=True)]


def alerts_for_assessment(assessment_flags: Iterable[Flag]) -> list[Alert]:
    """The alerts the flags of one assessment raised, for the result page: it promises an
    answer only for an alert raised in coverage hours by this very report."""
    flag_ids = [flag.id for flag in assessment_flags]
    if not flag_ids:
        return []
    return list(
        db.session.scalars(
            select(Alert)
            .where(Alert.flag_id.in_(flag_ids))
            .options(selectinload(Alert.unit))
            .order_by(Alert.id)
        )
    )


def open_alerts_repeated_by(patient: Patient, assessment_flags: Iterable[Flag]) -> list[Alert]:
    """Open alerts that high flags of this assessment were counted on as repeats (the flag
    raised no alert of its own), for the result page: that unit was alerted earlier."""
    found: list[Alert] = []
    for flag in assessment_flags:
        if flag.severity != HIGH or not flag.is_open:
            continue
        if db.session.scalar(select(Alert.id).where(Alert.flag_id == flag.id)) is not None:
            continue
        today = flag.created_at.astimezone(STOCKHOLM).date()
        for episode in patient.active_episodes(today):
            earlier = _open_alert_like(patient, episode.unit, flag)
            if earlier is not None and earlier not in found:
                found.append(earlier)
    return found
