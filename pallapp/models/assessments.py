"""Assessments (never updated in place, never deleted) and the flags they raise."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Computed, ForeignKey, Index, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pallapp.extensions import Model
from pallapp.i18n import lazy_gettext as _l
from pallapp.models.people import Patient, User
from pallapp.models.types import JSONMember, UTCDateTime, new_public_id, utcnow
from pallapp.models.units import CareUnit


class Respondent(enum.StrEnum):
    """Who gave the answers (INSTRUMENTS.md, DESIGN.md)."""

    PATIENT = "patient"
    RELATIVE = "relative"
    STAFF = "staff"

    @property
    def label(self) -> str:
        return str(RESPONDENT_LABELS[self])


RESPONDENT_LABELS = {
    Respondent.PATIENT: _l("the patient"),
    Respondent.RELATIVE: _l("a relative, for the patient"),
    Respondent.STAFF: _l("staff"),
}


class Assessment(Model):
    """One completed instrument. A correction is a new row that `supersedes` this one."""

    __tablename__ = "assessment"
    __table_args__ = (
        # The latest rating of an instrument: walked from its newest end in the order the lists
        # read it (observed_at, then id), with no sort (review.common.latest_ratings).
        Index(
            "ix_assessment_patient_instrument_observed_id",
            "patient_id",
            "instrument",
            "observed_at",
            "id",
        ),
        # The patient's ratings; with the id, the chart validator counts them from the index
        # alone (review.chartcache). The same size as an index on patient_id alone.
        Index("ix_assessment_patient_id_id", "patient_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))
    # The unit whose thresholds produced the flags (one of the patient's units).
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("care_unit.id"))
    instrument: Mapped[str] = mapped_column(String(20))
    instrument_version: Mapped[str] = mapped_column(String(40))
    recall_period: Mapped[str | None] = mapped_column(String(5))
    respondent: Mapped[str] = mapped_column(String(10))
    # The account that answered, when the respondent has one (self-report, relative).
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    entered_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    observed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    scores: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Two parts of `scores`, kept by the database (generated columns: the app never writes
    # them): the subscales (an object) and ROAG's highest grade (a number or null), for the
    # trends page and its charts, which read them for every rating of a long stay. Taking them
    # out of `scores` parsed each whole stored document (mostly its item bands) again: on
    # PostgreSQL, where they are stored, 467 ratings of a three-year stay 2.1 -> 0.33 ms
    # (review.trends). The subscales are jsonb there, parsed once when the row is stored
    # (three members read out of a json object parsed it three times: 0.69 -> 0.33 ms). Not
    # loaded with the entity (deferred): nothing else needs them. The migration adds them
    # VIRTUAL on SQLite, which cannot add a stored column to a table.
    chart_subscales: Mapped[Any] = mapped_column(
        JSON().with_variant(JSONB(), "postgresql"),
        Computed(JSONMember("scores", "subscales", binary=True), persisted=True),
        nullable=True,
        deferred=True,
    )
    chart_max_grade: Mapped[Any] = mapped_column(
        JSON, Computed(JSONMember("scores", "max_grade"), persisted=True), nullable=True,
        deferred=True,
    )
    total: Mapped[int | None] = mapped_column()
    band: Mapped[str | None] = mapped_column(String(20))
    scoring_version: Mapped[str] = mapped_column(String(20))
    # Makes a resubmitted form a no-op (double tap, back button, flaky network).
    client_token: Mapped[str] = mapped_column(String(64), unique=True)
    # Each version is superseded at most once: the history is a chain, never a tree.
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("assessment.id"), unique=True)
    correction_reason: Mapped[str | None] = mapped_column(Text)

    patient: Mapped[Patient] = relationship()
    unit: Mapped[CareUnit | None] = relationship()
    answered_by: Mapped[User | None] = relationship(foreign_keys=[answered_by_id])
    entered_by: Mapped[User] = relationship(foreign_keys=[entered_by_id])
    supersedes: Mapped[Assessment | None] = relationship(
        remote_side=[id], foreign_keys=[supersedes_id], back_populates="superseded_by"
    )
    superseded_by: Mapped[Assessment | None] = relationship(
        foreign_keys=[supersedes_id], back_populates="supersedes", uselist=False
    )
    flags: Mapped[list[Flag]] = relationship(
        back_populates="assessment", order_by="Flag.id", foreign_keys="Flag.assessment_id"
    )

    @property
    def respondent_enum(self) -> Respondent:
        return Respondent(self.respondent)


class Flag(Model):
    """A raised flag. Open until closed: acknowledged by staff, superseded by a correction, or
    closed by the system with a note (e.g. a rise that no longer holds, `reevaluated`)."""

    __tablename__ = "flag"
    __table_args__ = (
        # The pages that matter most (Today, the overview, the patient page) ask for open
        # flags; a patient's closed ones pile up over the years (benchmarks/RESULTS.md).
        Index(
            "ix_flag_open_patient",
            "patient_id",
            postgresql_where=text("closed_at IS NULL"),
            sqlite_where=text("closed_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    assessment_id: Mapped[int | None] = mapped_column(ForeignKey("assessment.id"), index=True)
    source: Mapped[str] = mapped_column(String(20))  # assessment, dose, reminder
    code: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str] = mapped_column(String(10))
    items: Mapped[list[str]] = mapped_column(JSON)
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # acknowledged, superseded; reevaluated (a rise that no longer holds against a `previous`
    # stored later); reminders: resolved, patient_deceased
    close_reason: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)

    assessment: Mapped[Assessment | None] = relationship(
        back_populates="flags", foreign_keys=[assessment_id]
    )

    @property
    def is_open(self) -> bool:
        return self.closed_at is None
