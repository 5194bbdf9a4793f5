"""Care units and staff memberships."""

from __future__ import annotations

import enum
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    String,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pallapp.extensions import Model
from pallapp.i18n import lazy_gettext as _l
from pallapp.models.types import UTCDateTime, new_public_id, utcnow

if TYPE_CHECKING:
    from pallapp.models.people import User


class UnitKind(enum.StrEnum):
    SPECIALISED_PALLIATIVE = "specialised_palliative"
    MUNICIPAL_HOME_CARE = "municipal_home_care"
    PRIMARY_CARE = "primary_care"
    WARD = "ward"

    @property
    def label(self) -> str:
        return str(UNIT_KIND_LABELS[self])


UNIT_KIND_LABELS = {
    UnitKind.SPECIALISED_PALLIATIVE: _l("Specialised palliative team"),
    UnitKind.MUNICIPAL_HOME_CARE: _l("Municipal home health care"),
    UnitKind.PRIMARY_CARE: _l("Primary care"),
    UnitKind.WARD: _l("Ward"),
}


class CareUnit(Model):
    __tablename__ = "care_unit"
    __table_args__ = (
        # Project defaults from INSTRUMENTS.md: 7 days, 2 days in the end-of-life phase.
        CheckConstraint("assessment_interval_days BETWEEN 1 AND 90", name="interval_range"),
        CheckConstraint("end_of_life_interval_days BETWEEN 1 AND 30", name="eol_interval_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    # The number patients and relatives are told to call (shown on severe ratings).
    phone: Mapped[str] = mapped_column(String(40))
    assessment_interval_days: Mapped[int] = mapped_column(default=7)
    end_of_life_interval_days: Mapped[int] = mapped_column(default=2)
    # IPOS recall period asked of this unit's patients: 3 or 7 days (INSTRUMENTS.md).
    ipos_recall_period: Mapped[str] = mapped_column(String(5), default="7d")
    # Overrides of pallapp.scoring.DEFAULT_THRESHOLDS (validated by scoring.Thresholds).
    flag_thresholds: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Whether relatives of this unit's patients may record as-needed doses they give (a
    # unit's decision, per its routine for delegating to relatives); off unless turned on.
    relatives_may_record_doses: Mapped[bool] = mapped_column(Boolean, default=False)
    # Coverage hours: when someone reads this unit's alerts (Swedish local time, ISO weekdays
    # as digits, "12345" = Monday to Friday). Empty: never; patients are then always told whom
    # to call instead of being promised an answer.
    coverage_weekdays: Mapped[str] = mapped_column(String(7), default="")
    coverage_start: Mapped[time | None] = mapped_column(Time)
    coverage_end: Mapped[time | None] = mapped_column(Time)
    # Where alerts go in coverage hours, and where they escalate when not acknowledged in time.
    alert_email: Mapped[str | None] = mapped_column(String(254))
    escalation_email: Mapped[str | None] = mapped_column(String(254))
    # Minutes within which an alert in coverage hours must be acknowledged (project default 60).
    alert_response_minutes: Mapped[int] = mapped_column(default=60)
    # Whether this unit's staff may reach patient data after a password alone where a second
    # factor is otherwise required (a unit without the region's identity provider that has
    # accepted the risk); off unless an administrator turns it on, audited when changed.
    password_alone_allowed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    memberships: Mapped[list[UnitMembership]] = relationship(back_populates="unit")

    @property
    def kind_label(self) -> str:
        return UnitKind(self.kind).label

    def __repr__(self) -> str:
        return f"<CareUnit {self.name!r}>"


class UnitMembership(Model):
    """A staff member works in a unit from `start` until `end` (exclusive; None: still)."""

    __tablename__ = "unit_membership"
    __table_args__ = (UniqueConstraint("user_id", "unit_id", "start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("care_unit.id"), index=True)
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date | None] = mapped_column(Date)

    user: Mapped[User] = relationship(back_populates="memberships")
    # Loaded with the membership: `User.active_units` reads the unit of every membership, and
    # one query per unit was one per membership on every page that lists the user's units.
    unit: Mapped[CareUnit] = relationship(
        back_populates="memberships", lazy="joined", innerjoin=True
    )

    def is_active_on(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day < self.end)
