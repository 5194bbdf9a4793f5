"""Credentials of EHR integrations that read a unit's data through the FHIR API."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pallapp.extensions import Model
from pallapp.models.people import User
from pallapp.models.types import UTCDateTime, new_public_id, utcnow
from pallapp.models.units import CareUnit


class ApiClient(Model):
    """One integration's bearer token for one unit, issued by a manager of the unit.

    Only a SHA-256 digest of the token is stored (as for invitations): a copy of the database
    gives nobody a working credential. A credential is never changed back: it expires, or a
    manager revokes it (who and when are kept), and a new one is issued.
    """

    __tablename__ = "api_client"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    unit_id: Mapped[int] = mapped_column(ForeignKey("care_unit.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    unit: Mapped[CareUnit] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])

    def status(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if now >= self.expires_at:
            return "expired"
        return "active"
