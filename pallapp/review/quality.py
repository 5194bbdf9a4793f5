"""Quality indicators: definitions, targets and the arithmetic. No database, no Flask.

The service (`services.quality_indicators`) gathers one `PatientFacts` per patient of the unit
(a constant number of queries); everything here is plain counting on those facts, so it is
tested on its own (tests/unit/test_quality_arithmetic.py). The definitions are documented in
docs/quality-indicators.md; the targets come from INSTRUMENTS.md, "Quality indicators".

Titles are msgids (marked with `N_`), translated when shown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date

from pallapp.scoring import N_

#: The four expected symptoms at the end of life that need an as-needed order (INSTRUMENTS.md).
FOUR_INDICATIONS: tuple[str, ...] = ("pain", "nausea", "anxiety", "death_rattle")


@dataclass(frozen=True)
class Target:
    """A national target: the share must be at least `percent` (or above it, when `strict`)."""

    percent: int
    strict: bool = False

    def met_by(self, percent: float) -> bool:
        return percent > self.percent if self.strict else percent >= self.percent

    @property
    def text(self) -> str:
        """As INSTRUMENTS.md writes it: "100 %", "≥ 90 %", "> 90 %"."""
        if self.strict:
            return f"> {self.percent} %"
        return f"{'' if self.percent == 100 else '≥ '}{self.percent} %"


@dataclass(frozen=True)
class Figure:
    """Numerator over denominator; `percent` and `meets_target` are None when nobody counts."""

    numerator: int
    denominator: int
    target: Target

    @property
    def percent(self) -> float | None:
        return share(self.numerator, self.denominator)

    @property
    def meets_target(self) -> bool | None:
        percent = self.percent
        return None if percent is None else self.target.met_by(percent)


def share(numerator: int, denominator: int) -> float | None:
    """Percentage, rounded to one decimal; None when the denominator is 0 (no figure at all,
    rather than a misleading 0 % or 100 %)."""
    if numerator < 0 or denominator < 0 or numerator > denominator:
        raise ValueError(f"not a share: {numerator}/{denominator}")
    if denominator == 0:
        return None
    return round(100 * numerator / denominator, 1)


@dataclass(frozen=True)
class PatientFacts:
    """What the indicators need to know about one patient of the unit in the period."""

    patient_id: int
    #: IPOS (patient or staff), ESAS-r or Abbey observed in the period.
    rated_in_period: bool = False
    #: ROAG observed in the period.
    roag_in_period: bool = False
    #: A care plan (any version) stored by the end of the period.
    care_plan: bool = False
    #: Indications of the as-needed orders in force on the reference day (the last day of the
    #: period, or the day of death for a patient who died in the period).
    order_indications: frozenset[str] = frozenset()
    svas_offered: bool = False  # offered or held by the end of the period
    svas_held: bool = False
    #: In the end-of-life phase or deceased (the brytpunktssamtal denominator).
    end_of_life_or_deceased: bool = False
    brytpunktssamtal: bool = False
    died_in_period: bool = False
    rated_last_week_of_life: bool = False
    roag_last_week_of_life: bool = False
    efterlevandesamtal_offered: bool = False


@dataclass(frozen=True)
class Definition:
    code: str
    title: str  # msgid
    target: Target
    #: Who is in the denominator.
    counts: Callable[[PatientFacts], bool]
    #: Who of them is in the numerator.
    meets: Callable[[PatientFacts], bool]
    group: str = "all"  # "all" patients of the unit, or "deceased" in the period


def _all(_facts: PatientFacts) -> bool:
    return True


def _died(facts: PatientFacts) -> bool:
    return facts.died_in_period


def _has_all_four(facts: PatientFacts) -> bool:
    return set(FOUR_INDICATIONS) <= facts.order_indications


def _has(indication: str) -> Callable[[PatientFacts], bool]:
    return lambda facts: indication in facts.order_indications


FULL = Target(100)

DEFINITIONS: tuple[Definition, ...] = (
    Definition(
        "symptom_rated",
        N_("Symptom-rated with a structured instrument (IPOS, ESAS-r or Abbey)"),
        FULL, _all, lambda f: f.rated_in_period,
    ),
    Definition("care_plan", N_("Documented care plan"), FULL, _all, lambda f: f.care_plan),
    Definition(
        "orders_all_four",
        N_("As-needed orders for all four expected symptoms"),
        FULL, _all, _has_all_four,
    ),
    Definition("order_pain", N_("As-needed order for pain"), FULL, _all, _has("pain")),
    Definition("order_nausea", N_("As-needed order for nausea"), FULL, _all, _has("nausea")),
    Definition("order_anxiety", N_("As-needed order for anxiety"), FULL, _all, _has("anxiety")),
    Definition(
        "order_death_rattle", N_("As-needed order for death rattle"), FULL, _all,
        _has("death_rattle"),
    ),
    Definition(
        "roag", N_("Oral health assessed with ROAG"), Target(90, strict=True), _all,
        lambda f: f.roag_in_period,
    ),
    Definition(
        "svas_offered", N_("Serious illness conversation offered"), FULL, _all,
        lambda f: f.svas_offered,
    ),
    Definition(
        "svas_held", N_("Serious illness conversation held"), Target(90), _all,
        lambda f: f.svas_held,
    ),
    Definition(
        "brytpunktssamtal",
        N_("Conversation on transition to end-of-life care held (end-of-life phase)"),
        FULL, lambda f: f.end_of_life_or_deceased, lambda f: f.brytpunktssamtal,
    ),
    Definition(
        "rated_last_week",
        N_("Symptom-rated in the last week of life"),
        FULL, _died, lambda f: f.rated_last_week_of_life, group="deceased",
    ),
    Definition(
        "roag_last_week",
        N_("Oral health assessed with ROAG in the last week of life"),
        Target(90, strict=True), _died, lambda f: f.roag_last_week_of_life, group="deceased",
    ),
    Definition(
        "orders_at_death",
        N_("As-needed orders for all four expected symptoms at death"),
        FULL, _died, _has_all_four, group="deceased",
    ),
    Definition(
        "efterlevandesamtal_offered",
        N_("Bereavement conversation offered to relatives"),
        FULL, _died, lambda f: f.efterlevandesamtal_offered, group="deceased",
    ),
)
DEFINITIONS_BY_CODE = {definition.code: definition for definition in DEFINITIONS}


@dataclass(frozen=True)
class Indicator:
    definition: Definition
    figure: Figure
    counted: tuple[int, ...] = field(default=())  # patient ids in the numerator
    missed: tuple[int, ...] = field(default=())  # in the denominator, not in the numerator

    @property
    def code(self) -> str:
        return self.definition.code


def indicator(definition: Definition, facts: Iterable[PatientFacts]) -> Indicator:
    """One indicator over the patients' facts, with who counts and who is missed."""
    counted, missed = [], []
    for fact in facts:
        if not definition.counts(fact):
            continue
        (counted if definition.meets(fact) else missed).append(fact.patient_id)
    figure = Figure(len(counted), len(counted) + len(missed), definition.target)
    return Indicator(definition, figure, tuple(counted), tuple(missed))


def indicators(facts: Iterable[PatientFacts]) -> list[Indicator]:
    """Every indicator, in the order of `DEFINITIONS`."""
    facts = list(facts)
    return [indicator(definition, facts) for definition in DEFINITIONS]


@dataclass(frozen=True)
class Period:
    """From `start` to `end`, both days included (Swedish dates)."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError("the period ends before it starts")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1
