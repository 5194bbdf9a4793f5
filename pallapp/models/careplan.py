"""Care plans, milestones, as-needed ("vid behov") orders and the doses given under them.

Nothing here is deleted or rewritten: a care plan change is a new version, an order change is
a new order version that supersedes the old one. The only fields written after a row is
stored are lifecycle fields that go from empty to set once: an order's stop, a dose's
evaluation (both keep who and when).
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pallapp.extensions import Model
from pallapp.i18n import lazy_gettext as _l
from pallapp.models.people import Patient, User
from pallapp.models.types import UTCDateTime, new_public_id, utcnow


class CarePlan(Model):
    """One version of a patient's care plan. The current plan is the highest `version`."""

    __tablename__ = "care_plan"
    # Two people saving at once cannot both write version n + 1.
    __table_args__ = (UniqueConstraint("patient_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    version: Mapped[int] = mapped_column()
    goals_and_wishes: Mapped[str] = mapped_column(Text, default="")
    preferred_place_of_care: Mapped[str] = mapped_column(String(200), default="")
    preferred_place_of_death: Mapped[str] = mapped_column(String(200), default="")
    # The same wish as one of the places a death is recorded at (PlaceOfDeath; "" not chosen),
    # so that "died where they wished", a question of Svenska palliativregistret, can be read.
    preferred_place_of_death_code: Mapped[str] = mapped_column(String(20), default="")
    # Whom to call, day and night (24/7), in the words the patient and relatives will read.
    contacts: Mapped[str] = mapped_column(Text, default="")
    # Fast vårdkontakt: the named nurse and physician responsible.
    responsible_nurse: Mapped[str] = mapped_column(String(200), default="")
    responsible_physician: Mapped[str] = mapped_column(String(200), default="")
    # Written as the care that IS given (e.g. "treatment at home, no transfer to hospital").
    treatment_limitations: Mapped[str] = mapped_column(Text, default="")
    deterioration_signs: Mapped[str] = mapped_column(Text, default="")
    # The part written for the patient and relatives, in plain words.
    for_patient_and_relatives: Mapped[str] = mapped_column(Text, default="")
    # Names of the fields that differ from the previous version (all of them for version 1).
    changed_fields: Mapped[list[str]] = mapped_column(JSON)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    patient: Mapped[Patient] = relationship()
    created_by: Mapped[User] = relationship()

    def shown(self, name: str) -> str:
        """A field as the page shows it: a chosen place in words, text as written."""
        value: str = getattr(self, name)
        if name == "preferred_place_of_death_code" and value:
            return PlaceOfDeath(value).label
        return value


#: The fields of a care plan version that people write, in the order the page shows them.
CARE_PLAN_FIELDS: tuple[str, ...] = (
    "goals_and_wishes",
    "preferred_place_of_care",
    "preferred_place_of_death",
    "preferred_place_of_death_code",
    "contacts",
    "responsible_nurse",
    "responsible_physician",
    "treatment_limitations",
    "deterioration_signs",
    "for_patient_and_relatives",
)

CARE_PLAN_FIELD_LABELS = {
    "goals_and_wishes": _l("Goals and wishes"),
    "preferred_place_of_care": _l("Preferred place of care"),
    "preferred_place_of_death": _l("Preferred place of death"),
    "preferred_place_of_death_code": _l("Preferred place of death, as a place of death"),
    "contacts": _l("Whom to call, day and night"),
    "responsible_nurse": _l("Responsible nurse"),
    "responsible_physician": _l("Responsible physician"),
    "treatment_limitations": _l("Care that is given"),
    "deterioration_signs": _l("Signs of deterioration and what to do"),
    "for_patient_and_relatives": _l("For the patient and relatives"),
}


class MilestoneKind(enum.StrEnum):
    SVAS_OFFERED = "svas_offered"
    SVAS_HELD = "svas_held"
    BRYTPUNKTSSAMTAL = "brytpunktssamtal"
    SIP = "sip"
    CARE_PLAN_AGREED = "care_plan_agreed"
    DEATH = "death"
    EFTERLEVANDESAMTAL_OFFERED = "efterlevandesamtal_offered"
    SPR_REGISTERED = "spr_registered"

    @property
    def label(self) -> str:
        return str(MILESTONE_LABELS[self])


MILESTONE_LABELS = {
    MilestoneKind.SVAS_OFFERED: _l("Serious illness conversation offered"),
    MilestoneKind.SVAS_HELD: _l("Serious illness conversation held"),
    MilestoneKind.BRYTPUNKTSSAMTAL: _l("Conversation on transition to end-of-life care"),
    MilestoneKind.SIP: _l("Coordinated individual plan (SIP)"),
    MilestoneKind.CARE_PLAN_AGREED: _l("Care plan agreed"),
    MilestoneKind.DEATH: _l("Death"),
    MilestoneKind.EFTERLEVANDESAMTAL_OFFERED: _l("Bereavement conversation offered"),
    MilestoneKind.SPR_REGISTERED: _l("Registered in the Swedish Palliative Care Register"),
}


class PlaceOfDeath(enum.StrEnum):
    HOME = "home"
    NURSING_HOME = "nursing_home"
    HOSPITAL = "hospital"
    HOSPICE = "hospice"

    @property
    def label(self) -> str:
        return str(PLACE_OF_DEATH_LABELS[self])


PLACE_OF_DEATH_LABELS = {
    PlaceOfDeath.HOME: _l("At home"),
    PlaceOfDeath.NURSING_HOME: _l("Nursing home"),
    PlaceOfDeath.HOSPITAL: _l("Hospital"),
    PlaceOfDeath.HOSPICE: _l("Hospice or palliative ward"),
}


class MilestoneWords:
    """What a milestone says in words, for the model and for a milestone read as plain columns
    (`carerecord.ShownMilestone`): both have these four columns."""

    __slots__ = ()

    kind: str
    place: str | None
    death_expected: bool | None
    free_of_pressure_ulcers: bool | None

    @property
    def kind_enum(self) -> MilestoneKind:
        return MilestoneKind(self.kind)

    @property
    def place_label(self) -> str | None:
        return PlaceOfDeath(self.place).label if self.place else None

    @property
    def death_expected_label(self) -> str | None:
        """For a death: whether it was expected, in words ("not recorded" when unknown)."""
        return self._death_answer(self.death_expected, DEATH_EXPECTED_LABELS)

    @property
    def pressure_ulcers_label(self) -> str | None:
        """For a death: whether the patient was free of pressure ulcers, in words."""
        return self._death_answer(self.free_of_pressure_ulcers, PRESSURE_ULCER_LABELS)

    def _death_answer(self, answer: bool | None, labels: dict[bool | None, object]) -> str | None:
        if self.kind != MilestoneKind.DEATH:
            return None
        return str(labels[answer])


class Milestone(MilestoneWords, Model):
    """A conversation, plan or event in the patient's care, recorded once."""

    __tablename__ = "milestone"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    occurred_on: Mapped[date] = mapped_column(Date)
    participants: Mapped[str] = mapped_column(Text, default="")
    note: Mapped[str] = mapped_column(Text, default="")
    # Only for kind `death`.
    place: Mapped[str | None] = mapped_column(String(20))
    # Only for kind `death`; None for deaths recorded before they were asked (unknown). An
    # expected death (väntat dödsfall) is the denominator of the end-of-life indicators, as in
    # Svenska palliativregistret; free of pressure ulcers at death is one of Socialstyrelsen's
    # target levels (>= 90 %). See docs/quality-indicators.md.
    death_expected: Mapped[bool | None] = mapped_column()
    free_of_pressure_ulcers: Mapped[bool | None] = mapped_column()
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    recorded_by: Mapped[User] = relationship()


DEATH_EXPECTED_LABELS = {
    True: _l("Expected death"),
    False: _l("Unexpected death"),
    None: _l("Not recorded whether the death was expected"),
}
PRESSURE_ULCER_LABELS = {
    True: _l("Free of pressure ulcers at death"),
    False: _l("Pressure ulcers at death"),
    None: _l("Not recorded whether there were pressure ulcers at death"),
}


class Route(enum.StrEnum):
    SC = "sc"
    IV = "iv"
    PO = "po"
    BUCCAL = "buccal"
    RECTAL = "rectal"
    NASAL = "nasal"
    OTHER = "other"

    @property
    def label(self) -> str:
        return str(ROUTE_LABELS[self])


ROUTE_LABELS = {
    Route.SC: _l("subcutaneous (s.c.)"),
    Route.IV: _l("intravenous (i.v.)"),
    Route.PO: _l("by mouth (p.o.)"),
    Route.BUCCAL: _l("buccal"),
    Route.RECTAL: _l("rectal"),
    Route.NASAL: _l("nasal"),
    Route.OTHER: _l("other route"),
}


class StopCause(enum.StrEnum):
    STOPPED = "stopped"  # a physician stopped it (reason in stop_reason)
    CHANGED = "changed"  # replaced by a new version
    DECEASED = "deceased"  # the patient died


class OrderWords:
    """What an order version says beyond its columns, for the model and for an order read as
    plain columns (`flags.orders.ShownOrder`): both have these five columns."""

    __slots__ = ()

    route: str
    min_interval_minutes: int | None
    max_doses_per_24h: int | None
    start_at: datetime
    stop_at: datetime | None

    def is_active(self, at: datetime) -> bool:
        return self.start_at <= at and (self.stop_at is None or at < self.stop_at)

    @property
    def route_enum(self) -> Route:
        return Route(self.route)

    @property
    def has_limits(self) -> bool:
        """Both limits are written, so doses under the order can be checked."""
        return self.min_interval_minutes is not None and self.max_doses_per_24h is not None


class PrnOrder(OrderWords, Model):
    """One version of an as-needed order. A change is a new row with `supersedes_id`; the
    old version stops at the new one's start. All versions of one order share `series_id`."""

    __tablename__ = "prn_order"
    __table_args__ = (
        CheckConstraint("max_doses_per_24h IS NULL OR max_doses_per_24h >= 1", name="max_doses"),
        CheckConstraint(
            "min_interval_minutes IS NULL OR min_interval_minutes >= 1", name="min_interval"
        ),
        CheckConstraint(
            "(dose_min IS NULL AND dose_max IS NULL) OR (dose_min > 0 AND dose_max >= dose_min)",
            name="dose_range",
        ),
        Index("ix_prn_order_patient_stop", "patient_id", "stop_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    series_id: Mapped[str] = mapped_column(String(32), index=True, default=new_public_id)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    indication: Mapped[str] = mapped_column(String(20))
    # Only for indication `other`: what it is for.
    indication_text: Mapped[str] = mapped_column(String(200), default="")
    drug: Mapped[str] = mapped_column(String(200))
    strength: Mapped[str] = mapped_column(String(100), default="")
    # The dose as the physician wrote it ("2,5" or a range, "2,5-5"), kept as written; the
    # same as numbers in `dose_min` and `dose_max` (equal for one number), which the doses
    # given are compared with. Both numbers are empty only for an order written before doses
    # were numbers whose text could not be read as one: it is shown as text, its amount
    # unchecked, until the order is changed.
    dose: Mapped[str] = mapped_column(String(40))
    dose_min: Mapped[Decimal | None] = mapped_column(Numeric(12, 4))
    dose_max: Mapped[Decimal | None] = mapped_column(Numeric(12, 4))
    dose_unit: Mapped[str] = mapped_column(String(20))
    route: Mapped[str] = mapped_column(String(10))
    # Both limits are required for a new order or a change; empty only in orders written
    # before they were (flagged `prn_limits_missing` until changed or stopped).
    min_interval_minutes: Mapped[int | None] = mapped_column()
    max_doses_per_24h: Mapped[int | None] = mapped_column()
    instructions: Mapped[str] = mapped_column(Text, default="")
    prescriber_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    stop_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stop_cause: Mapped[str | None] = mapped_column(String(20))
    stop_reason: Mapped[str | None] = mapped_column(Text)
    stopped_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("prn_order.id"), unique=True)
    change_reason: Mapped[str | None] = mapped_column(Text)

    patient: Mapped[Patient] = relationship()
    prescriber: Mapped[User] = relationship(foreign_keys=[prescriber_id])
    stopped_by: Mapped[User | None] = relationship(foreign_keys=[stopped_by_id])
    supersedes: Mapped[PrnOrder | None] = relationship(
        remote_side=[id], foreign_keys=[supersedes_id], back_populates="superseded_by"
    )
    superseded_by: Mapped[PrnOrder | None] = relationship(
        foreign_keys=[supersedes_id], back_populates="supersedes", uselist=False
    )


class PrnAdministration(Model):
    """One as-needed dose given, and later its effect. Never deleted."""

    __tablename__ = "prn_administration"
    __table_args__ = (
        CheckConstraint(
            "symptom_before IS NULL OR symptom_before BETWEEN 0 AND 10", name="before_range"
        ),
        CheckConstraint(
            "symptom_after IS NULL OR symptom_after BETWEEN 0 AND 10", name="after_range"
        ),
        CheckConstraint("amount IS NULL OR amount > 0", name="amount_positive"),
        Index("ix_prn_administration_patient_given", "patient_id", "given_at"),
        # The chart validator counts the patient's doses and evaluations from it alone.
        Index("ix_prn_administration_patient_version", "patient_id", "id", "evaluated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))
    order_id: Mapped[int] = mapped_column(ForeignKey("prn_order.id"), index=True)
    given_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The amount given as written ("2,5"), kept; `amount` is the same number, compared with
    # the order. `amount` is empty only for a dose recorded before doses were numbers whose
    # text could not be read as one (shown as text, unchecked).
    dose: Mapped[str] = mapped_column(String(40))
    amount: Mapped[Decimal | None] = mapped_column(Numeric(12, 4))
    dose_unit: Mapped[str] = mapped_column(String(20))
    route: Mapped[str] = mapped_column(String(10))
    given_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    # Who wrote this row: the giver, or whoever entered a correction.
    entered_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    # The symptom the dose was for, rated 0-10 before it was given (optional).
    symptom_before: Mapped[int | None] = mapped_column()
    # Set when a dose outside the order's limits was given on purpose.
    over_limit_reason: Mapped[str | None] = mapped_column(Text)
    # Set when a dose with another amount, unit or route than the order's was confirmed.
    dose_mismatch_reason: Mapped[str | None] = mapped_column(Text)
    # Makes a resubmitted form a no-op (double tap, back button).
    client_token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    effect: Mapped[str | None] = mapped_column(String(10))  # better, unchanged, worse
    symptom_after: Mapped[int | None] = mapped_column()
    evaluated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    evaluated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # A correction (wrong time, dose or route entered) is a new row pointing at the one it
    # corrects; each dose is corrected at most once, so the history is a chain.
    supersedes_id: Mapped[int | None] = mapped_column(
        ForeignKey("prn_administration.id"), unique=True
    )
    correction_reason: Mapped[str | None] = mapped_column(Text)

    order: Mapped[PrnOrder] = relationship()
    given_by: Mapped[User] = relationship(foreign_keys=[given_by_id])
    entered_by: Mapped[User] = relationship(foreign_keys=[entered_by_id])
    evaluated_by: Mapped[User | None] = relationship(foreign_keys=[evaluated_by_id])
    supersedes: Mapped[PrnAdministration | None] = relationship(
        remote_side=[id], foreign_keys=[supersedes_id], back_populates="superseded_by"
    )
    superseded_by: Mapped[PrnAdministration | None] = relationship(
        foreign_keys=[supersedes_id], back_populates="supersedes", uselist=False
    )


class Effect(enum.StrEnum):
    BETTER = "better"
    UNCHANGED = "unchanged"
    WORSE = "worse"

    @property
    def label(self) -> str:
        return str(EFFECT_LABELS[self])


EFFECT_LABELS = {
    Effect.BETTER: _l("Better"),
    Effect.UNCHANGED: _l("Unchanged"),
    Effect.WORSE: _l("Worse"),
}
