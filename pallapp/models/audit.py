"""The append-only audit log."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, event
from sqlalchemy.orm import Mapped, Session, mapped_column

from pallapp.extensions import Model
from pallapp.models.types import UTCDateTime, utcnow


class AuditAction(enum.StrEnum):
    VIEW = "view"
    CREATE = "create"
    UPDATE = "update"
    CORRECT = "correct"
    EXPORT = "export"
    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    LOGOUT = "logout"
    DENIED = "denied"
    INVITE = "invite"
    REVOKE = "revoke"
    SEND = "send"
    ESCALATE = "escalate"


class AuditEvent(Model):
    """Who did what to which record, when and from where; never a clinical value."""

    __tablename__ = "audit_event"
    __table_args__ = (
        # Whether a user viewed a patient's page in the last minutes (`audit.viewed_since`,
        # asked by every chart image): with an index on `at` alone that read every event of
        # everyone in those minutes. Also serves what an index on patient_id alone served.
        Index("ix_audit_event_patient_user_at", "patient_id", "user_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    action: Mapped[str] = mapped_column(String(20))
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patient.id"))
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(20), default="ok")
    client_address: Mapped[str | None] = mapped_column(String(64))
    # Set when an EHR integration acted (the FHIR API): which credential; `user_id` is empty.
    api_client_id: Mapped[int | None] = mapped_column(ForeignKey("api_client.id"), index=True)
    # Free detail without clinical content, e.g. the e-mail tried at a failed login.
    detail: Mapped[str | None] = mapped_column(String(254))


class AppendOnlyError(RuntimeError):
    """An attempt to change or delete an audit event."""


@event.listens_for(Session, "before_flush")
def _refuse_audit_changes(session: Session, flush_context: object, instances: object) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEvent) and (obj in session.deleted or session.is_modified(obj)):
            raise AppendOnlyError("audit events are append-only")
