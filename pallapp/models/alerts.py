"""Alerts that reach a person, the outbox that delivers them, and per-patient reporting plans."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pallapp.extensions import Model
from pallapp.models.assessments import Flag
from pallapp.models.people import Patient, User
from pallapp.models.types import UTCDateTime, new_public_id, utcnow
from pallapp.models.units import CareUnit


class Alert(Model):
    """A high flag routed to the people who must act on it: one per flag and unit.

    `respond_by` is set only when the flag came in the unit's coverage hours: outside them the
    patient was told whom to call, and nobody is promised to answer.
    """

    __tablename__ = "alert"
    __table_args__ = (UniqueConstraint("flag_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    flag_id: Mapped[int] = mapped_column(ForeignKey("flag.id"), index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("care_unit.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    in_coverage: Mapped[bool] = mapped_column(default=False)
    respond_by: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # Against alert fatigue: a later high flag of the same rule and items, while this alert is
    # open, is counted here instead of raising (and mailing) a new alert.
    repeats: Mapped[int] = mapped_column(default=0)
    last_repeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    flag: Mapped[Flag] = relationship()
    patient: Mapped[Patient] = relationship()
    unit: Mapped[CareUnit] = relationship()
    acknowledged_by: Mapped[User | None] = relationship()

    @property
    def is_open(self) -> bool:
        return self.acknowledged_at is None


class OutboxMessage(Model):
    """One message to send. `key` is unique: whoever enqueues the same send twice (a job run
    twice, on two hosts) gets one row, and a row is claimed by one sender at a time.

    Never holds clinical content: reminders and alert mails carry a link, nothing more.
    """

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_message_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(160), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # reminder, alert, escalation
    channel: Mapped[str] = mapped_column(String(10))  # email, sms
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patient.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("care_unit.id"), index=True)
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alert.id"))
    # pending → sending (claimed until `claimed_until`) → sent; or failed after the last try.
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ReportingPlanEntry(Model):
    """A patient's own reporting plan line, set by staff with a reason; it replaces the unit's
    default for that phase. Never edited: a change closes the line (`replaced_at`) and adds one."""

    __tablename__ = "reporting_plan_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    phase: Mapped[str] = mapped_column(String(20))
    instrument: Mapped[str] = mapped_column(String(20))
    respondent: Mapped[str] = mapped_column(String(10))  # patient, relative, staff
    interval_days: Mapped[int] = mapped_column()
    reason: Mapped[str] = mapped_column(Text)
    set_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    replaced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ExpectedLevel(Model):
    """Staff mark a level of one item as expected for a patient for a while ("pain 3 is
    expected: alert only above 3, for 7 days"), with a reason. High flags at or below the
    level still stand on the record; they raise no alert. Ends by itself at `expires_at`, or
    earlier when staff end it (`ended_at`); never deleted."""

    __tablename__ = "expected_level"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    # The scale is the instrument's: ESAS-r pain 3 (of 10) is not IPOS pain 3 (of 4).
    instrument: Mapped[str] = mapped_column(String(20))
    item: Mapped[str] = mapped_column(String(40))
    level: Mapped[int] = mapped_column()
    reason: Mapped[str] = mapped_column(Text)
    set_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    set_by: Mapped[User] = relationship(foreign_keys=[set_by_id])

    def is_active_at(self, moment: datetime) -> bool:
        return self.created_at <= moment < self.expires_at and (
            self.ended_at is None or moment < self.ended_at
        )
