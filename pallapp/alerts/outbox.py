"""The outbox: every message to send is a row with a unique key, sent at most once per key.

- `enqueue` inserts with ON CONFLICT DO NOTHING: the same send asked for twice (a job run twice,
  or on two hosts at once) leaves one row.
- `deliver_due` claims a row with a conditional UPDATE (pending, or a claim that ran out) before
  it sends, and commits the claim first: two senders never both claim a row. A sender that dies
  between handing a message to the SMTP server and recording it leaves a claim that runs out
  after `CLAIM_SECONDS`; that message is then sent again (at least once, not exactly once, in
  that one case; the Message-ID is the same so mail systems can tell).
- A failed send is tried again after a growing pause; after `MAX_ATTEMPTS` it is `failed`,
  listed for staff on the alerts page. Every send and failure is audit-logged.

`deliver_due` is a job boundary like a request: it commits, and only it does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from pallapp import audit
from pallapp.alerts.delivery import DeliveryError, Sender
from pallapp.extensions import db
from pallapp.models import AuditAction, OutboxMessage, Patient

#: How long a claimed message is reserved for the sender that claimed it.
CLAIM_SECONDS = 300
#: Tries before a message is given up and shown as failed (project choice: about a day with
#: the pauses below: 1, 5, 15, 60, 240 minutes, then 4 h each).
MAX_ATTEMPTS = 8
_PAUSES_MINUTES = (1, 5, 15, 60, 240)

PENDING = "pending"
SENDING = "sending"
SENT = "sent"
FAILED = "failed"


def enqueue(
    *,
    key: str,
    kind: str,
    channel: str,
    recipient: str,
    subject: str,
    body: str,
    now: datetime,
    patient_id: int | None = None,
    user_id: int | None = None,
    unit_id: int | None = None,
    alert_id: int | None = None,
) -> bool:
    """Queue one message under `key`; False when a message with that key exists already."""
    values = {
        "key": key,
        "kind": kind,
        "channel": channel,
        "recipient": recipient,
        "subject": subject[:200],
        "body": body,
        "patient_id": patient_id,
        "user_id": user_id,
        "unit_id": unit_id,
        "alert_id": alert_id,
        "status": PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }
    dialect = db.session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    statement = (
        module.insert(OutboxMessage)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(OutboxMessage.id)
    )
    # A row comes back only when one was inserted (rowcount is not reliable for this on
    # every driver).
    return db.session.execute(statement).scalar() is not None


def _claimable(now: datetime) -> ColumnElement[bool]:
    return or_(
        and_(OutboxMessage.status == PENDING, OutboxMessage.next_attempt_at <= now),
        and_(OutboxMessage.status == SENDING, OutboxMessage.claimed_until < now),
    )


def _claim(message_id: int, now: datetime) -> bool:
    result = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, _claimable(now))
        .values(
            status=SENDING,
            claimed_until=now + timedelta(seconds=CLAIM_SECONDS),
            attempts=OutboxMessage.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return bool(result.rowcount)  # type: ignore[attr-defined]  # an UPDATE's result is a CursorResult


def pause_after(attempts: int) -> timedelta:
    """The pause before the next try after `attempts` failed tries."""
    index = min(attempts, len(_PAUSES_MINUTES)) - 1
    return timedelta(minutes=_PAUSES_MINUTES[max(index, 0)])


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0

    def __str__(self) -> str:
        return f"{self.sent} sent, {self.retrying} to retry, {self.failed} failed"


def deliver_due(
    now: datetime,
    senders: Callable[[str], Sender],
    *,
    limit: int = 500,
    progress: Callable[[str], None] | None = None,
) -> DeliveryReport:
    """Send every claimable message (at most `limit`); commits after each step."""
    report = DeliveryReport()
    candidates = db.session.scalars(
        select(OutboxMessage.id).where(_claimable(now)).order_by(OutboxMessage.id).limit(limit)
    ).all()
    db.session.commit()
    for message_id in candidates:
        if not _claim(message_id, now):
            continue  # another sender has it
        message = db.session.get(OutboxMessage, message_id, populate_existing=True)
        assert message is not None  # noqa: S101  (just claimed; rows are never deleted)
        try:
            senders(message.channel).send(message)
        except DeliveryError as error:
            message.last_error = str(error)[:254]
            message.claimed_until = None
            if message.attempts >= MAX_ATTEMPTS:
                message.status = FAILED
                report.failed += 1
            else:
                message.status = PENDING
                message.next_attempt_at = now + pause_after(message.attempts)
                report.retrying += 1
            outcome = "failed"
        else:
            message.status = SENT
            message.sent_at = now
            message.claimed_until = None
            report.sent += 1
            outcome = "ok"
        audit.record(
            AuditAction.SEND,
            object_type="outbox_message",
            object_id=message.key[:64],
            outcome=outcome,
            detail=f"{message.kind} by {message.channel}, attempt {message.attempts}",
            patient=db.session.get(Patient, message.patient_id) if message.patient_id else None,
        )
        db.session.commit()
        if progress is not None:
            progress(f"{message.kind} {message.id}: {outcome}")
    return report

