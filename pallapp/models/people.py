"""Accounts, patients, care episodes, relatives and invitations."""

from __future__ import annotations

import enum
import secrets
from datetime import date, datetime

from flask_login import UserMixin
from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pallapp.extensions import Model
from pallapp.i18n import lazy_gettext as _l
from pallapp.models.types import UTCDateTime, new_public_id, utcnow
from pallapp.models.units import CareUnit, UnitMembership
from pallapp.pnr import mask_personnummer


class Role(enum.StrEnum):
    PATIENT = "patient"
    RELATIVE = "relative"
    NURSE = "nurse"
    PHYSICIAN = "physician"
    MANAGER = "manager"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return str(ROLE_LABELS[self])

    @property
    def is_staff(self) -> bool:
        """Care staff: they see the patients of the units they are members of."""
        return self in STAFF_ROLES


STAFF_ROLES = frozenset({Role.NURSE, Role.PHYSICIAN, Role.MANAGER})

ROLE_LABELS = {
    Role.PATIENT: _l("Patient"),
    Role.RELATIVE: _l("Relative"),
    Role.NURSE: _l("Nurse"),
    Role.PHYSICIAN: _l("Physician"),
    Role.MANAGER: _l("Unit manager"),
    Role.ADMIN: _l("Administrator"),
}


class Phase(enum.StrEnum):
    EARLY = "early"
    END_OF_LIFE = "end_of_life"
    DECEASED = "deceased"
    DISCHARGED = "discharged"

    @property
    def label(self) -> str:
        return str(PHASE_LABELS[self])


PHASE_LABELS = {
    Phase.EARLY: _l("Early palliative phase"),
    Phase.END_OF_LIFE: _l("End-of-life phase"),
    Phase.DECEASED: _l("Deceased"),
    Phase.DISCHARGED: _l("Discharged"),
}


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


class User(UserMixin, Model):
    __tablename__ = "user_account"
    __table_args__ = (
        # One identity at a provider belongs to one account at most.
        UniqueConstraint("identity_provider", "identity_claim"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    # None until the invitation has been accepted and a password set.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    language: Mapped[str | None] = mapped_column(String(5))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Flask-Login's session id; replacing it ends every session of the account.
    session_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_session_token)
    # For role patient: the patient record this account belongs to.
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patient.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Patients and relatives: no e-mail reminders when a report is due (their own choice).
    reminders_opt_out: Mapped[bool] = mapped_column(Boolean, default=False)
    # The OpenID Connect identity bound to the account through an invitation, once: the
    # provider's name in the configuration ("staff", "citizen") and the value of its chosen
    # stable claim (HSA-id, personnummer). Never matched on e-mail.
    identity_provider: Mapped[str | None] = mapped_column(String(20))
    identity_claim: Mapped[str | None] = mapped_column(String(200))
    identity_bound_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The TOTP second factor (RFC 6238): the shared secret (base32) once enrolment is
    # confirmed, and the last time step accepted, so that a code is never accepted twice.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)

    memberships: Mapped[list[UnitMembership]] = relationship(
        back_populates="user", order_by="UnitMembership.start"
    )
    patient: Mapped[Patient | None] = relationship(foreign_keys=[patient_id])

    # Flask-Login
    def get_id(self) -> str:
        return self.session_token

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def role_enum(self) -> Role:
        return Role(self.role)

    @property
    def is_staff(self) -> bool:
        return self.role_enum.is_staff

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    def active_units(self, day: date) -> list[CareUnit]:
        return [m.unit for m in self.memberships if m.is_active_on(day)]

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class Patient(Model):
    __tablename__ = "patient"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    # Twelve digits, YYYYMMDDNNNC; validated by pallapp.pnr before it gets here.
    personnummer: Mapped[str] = mapped_column(String(12), unique=True)
    is_coordination_number: Mapped[bool] = mapped_column(Boolean, default=False)
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100))
    birth_date: Mapped[date] = mapped_column(Date)
    main_diagnosis: Mapped[str] = mapped_column(String(200), default="")
    enrolled_on: Mapped[date] = mapped_column(Date)
    phase: Mapped[str] = mapped_column(String(20), default=Phase.EARLY.value)
    died_on: Mapped[date | None] = mapped_column(Date)
    place_of_death: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    episodes: Mapped[list[PatientUnit]] = relationship(
        back_populates="patient", order_by="PatientUnit.start"
    )
    relative_links: Mapped[list[RelativeLink]] = relationship(
        back_populates="patient", order_by="RelativeLink.created_at"
    )

    @property
    def name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @property
    def masked_personnummer(self) -> str:
        return mask_personnummer(self.personnummer)

    @property
    def formatted_personnummer(self) -> str:
        return f"{self.personnummer[:8]}-{self.personnummer[8:]}"

    @property
    def phase_enum(self) -> Phase:
        return Phase(self.phase)

    def age_on(self, day: date) -> int:
        born = self.birth_date
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))

    def active_episodes(self, day: date) -> list[PatientUnit]:
        return [e for e in self.episodes if e.is_active_on(day)]

    def __repr__(self) -> str:
        return f"<Patient {self.public_id}>"


class PatientUnit(Model):
    """A care unit follows a patient from `start` until `end` (exclusive; None: still)."""

    __tablename__ = "patient_unit"
    __table_args__ = (UniqueConstraint("patient_id", "unit_id", "start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("care_unit.id"), index=True)
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date | None] = mapped_column(Date)

    patient: Mapped[Patient] = relationship(back_populates="episodes")
    # Loaded with the episode: the patient pages name the units of `active_episodes`, and one
    # query per unit was one per episode.
    unit: Mapped[CareUnit] = relationship(lazy="joined", innerjoin=True)

    def is_active_on(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day < self.end)


class RelativeLink(Model):
    """A relative's account linked to one patient, with what the patient allowed."""

    __tablename__ = "relative_link"
    __table_args__ = (UniqueConstraint("relative_id", "patient_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    relative_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    relation: Mapped[str] = mapped_column(String(100))
    may_answer_as_proxy: Mapped[bool] = mapped_column(Boolean, default=False)
    may_view_history: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # Why the access ended, in the words of whoever ended it (the patient or the care team).
    revoked_reason: Mapped[str | None] = mapped_column(Text)

    relative: Mapped[User] = relationship(foreign_keys=[relative_id])
    revoked_by: Mapped[User | None] = relationship(foreign_keys=[revoked_by_id])
    patient: Mapped[Patient] = relationship(back_populates="relative_links")

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class Invitation(Model):
    """A one-time, expiring link with which a new user sets a password.

    Only a SHA-256 digest of the token is stored: a copy of the database does not give
    anyone working links.
    """

    __tablename__ = "invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patient.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("care_unit.id"))
    relation: Mapped[str | None] = mapped_column(String(100))
    may_answer_as_proxy: Mapped[bool] = mapped_column(Boolean, default=False)
    may_view_history: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    patient: Mapped[Patient | None] = relationship()
    unit: Mapped[CareUnit | None] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])

    def status(self, now: datetime) -> str:
        if self.used_at is not None:
            return "used"
        if self.revoked_at is not None:
            return "revoked"
        if now >= self.expires_at:
            return "expired"
        return "open"


class RecoveryCode(Model):
    """A one-time code that stands in for the second factor when the phone is lost.

    Only a SHA-256 digest is kept: the codes are 50 random bits each (not chosen by people),
    so a slow password hash would add nothing but time to every check.
    """

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
