"""Quality indicators: definitions, targets and the arithmetic. No database, no Flask.

Two families, each with its own denominator (INSTRUMENTS.md, "Quality indicators"):

- **In life** (`in_life`): every patient of the unit in the period, the regions' own indicators
  (Tabell 4 of Region Dalarna's plan for palliative care).
- **End of life** (`end_of_life`): the unit's patients who died an *expected* death in the
  period, comparable with Svenska palliativregistret and Socialstyrelsen's target levels
  (Socialstyrelsen, "Nationella riktlinjer – Målnivåer. Palliativ vård i livets slutskede",
  2017).

The service (`quality_service.quality_indicators`) gathers one `PatientFacts` per patient of
the unit (a constant number of queries); everything here is plain counting and date arithmetic
on those facts, tested on its own (tests/unit/app/test_quality_arithmetic.py). The definitions
in words: docs/quality-indicators.md.

Titles and other words are msgids (marked with `N_`), translated when shown.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from pallapp.scoring import N_, REQUIRED_PRN_INDICATIONS

#: The four expected symptoms at the end of life that need an as-needed order: pain, nausea,
#: anxiety, death rattle (INSTRUMENTS.md; the four Svenska palliativregistret asks about).
FOUR_INDICATIONS: tuple[str, ...] = REQUIRED_PRN_INDICATIONS


#: "The last week of life": the day of death and the six days before it, both included (seven
#: calendar days, Swedish dates). Only the date of death is recorded, so whole days are
#: counted; a rating on the seventh day before the date of death may lie more than a week
#: before the death and is not counted. See `in_last_week`.
LAST_WEEK_DAYS = 7

#: The pain item of each instrument that rates pain as one item (INSTRUMENTS.md item codes).
#: The Abbey Pain Scale rates pain as a whole: see `rates_pain`.
PAIN_ITEM: Mapping[str, str] = {"ipos_patient": "pain", "ipos_staff": "pain", "esas_r": "pain"}

_IPOS_OTHER_SYMPTOMS = (
    # Q2, the physical symptoms other than pain ...
    "shortness_of_breath", "weakness", "nausea", "vomiting", "poor_appetite", "constipation",
    "sore_dry_mouth", "drowsiness", "poor_mobility",
    # ... and the patient's own anxiety (Q3) and depression (Q5), which Svenska
    # palliativregistret counts among the symptoms (anxiety is one of its four).
    "patient_anxiety", "depression",
)
#: Items that rate a symptom other than pain, per instrument (INSTRUMENTS.md item codes). Left
#: out on purpose: ESAS-r `wellbeing` (not a symptom) and IPOS items about the family, peace,
#: information and practical matters; IPOS Q2 free-text further symptoms are not rated items.
#: ESAS-r `other` is a symptom the patient names and rates 0-10: it counts.
OTHER_SYMPTOM_ITEMS: Mapping[str, tuple[str, ...]] = {
    "ipos_patient": _IPOS_OTHER_SYMPTOMS,
    "ipos_staff": _IPOS_OTHER_SYMPTOMS,
    "esas_r": (
        "tiredness", "drowsiness", "nausea", "lack_of_appetite", "shortness_of_breath",
        "depression", "anxiety", "other",
    ),
}


def _answered(answers: Mapping[str, object], code: str) -> bool:
    """A rating was given: a whole number (not missing, not "cannot_assess")."""
    value = answers.get(code)
    return isinstance(value, int) and not isinstance(value, bool)


def rates_pain(instrument: str, answers: Mapping[str, object], total: int | None) -> bool:
    """Whether an assessment rated pain with a validated instrument: the IPOS (patient or staff
    version) or ESAS-r pain item answered with a number, or a complete Abbey Pain Scale (its
    total exists: the Abbey rates pain as the sum of six observations, and without imputation an
    incomplete one has no result). An IPOS pain item marked "cannot assess" is not a rating:
    that is when the Abbey is the instrument to use."""
    if instrument == "abbey":
        return total is not None
    item = PAIN_ITEM.get(instrument)
    return item is not None and _answered(answers, item)


def rates_other_symptoms(instrument: str, answers: Mapping[str, object]) -> bool:
    """Whether an assessment rated at least one symptom other than pain (`OTHER_SYMPTOM_ITEMS`)
    with a number."""
    return any(_answered(answers, code) for code in OTHER_SYMPTOM_ITEMS.get(instrument, ()))


def last_week_of_life(died_on: date) -> tuple[date, date]:
    """The first and the last day of the last week of life, both included."""
    return died_on - timedelta(days=LAST_WEEK_DAYS - 1), died_on


def in_last_week(day: date, died_on: date) -> bool:
    """Whether `day` (a Swedish date) lies in the last week of life."""
    first, last = last_week_of_life(died_on)
    return first <= day <= last


# --- Targets and figures ----------------------------------------------------------------------


class TargetSource(enum.StrEnum):
    SOCIALSTYRELSEN = "socialstyrelsen"  # a national target level
    REGION = "region"  # the regions' own target (Dalarna plan, Tabell 4)


TARGET_SOURCE_LABELS: Mapping[TargetSource, str] = {
    TargetSource.SOCIALSTYRELSEN: N_("Socialstyrelsen"),
    TargetSource.REGION: N_("regional target"),
}


@dataclass(frozen=True)
class Target:
    """A target: the share must be at least `percent` (or above it, when `strict`)."""

    percent: int
    strict: bool = False
    source: TargetSource = TargetSource.REGION

    def met_by(self, percent: float) -> bool:
        return percent > self.percent if self.strict else percent >= self.percent

    @property
    def text(self) -> str:
        """As INSTRUMENTS.md writes it: "100 %", "≥ 90 %", "> 90 %"."""
        if self.strict:
            return f"> {self.percent} %"
        return f"{'' if self.percent == 100 else '≥ '}{self.percent} %"

    @property
    def source_label(self) -> str:
        return TARGET_SOURCE_LABELS[self.source]


@dataclass(frozen=True)
class Figure:
    """Numerator over denominator. `percent` is None when nobody counts; `meets_target` is None
    then, and when the indicator has no target (shown for information)."""

    numerator: int
    denominator: int
    target: Target | None

    @property
    def percent(self) -> float | None:
        return share(self.numerator, self.denominator)

    @property
    def meets_target(self) -> bool | None:
        percent = self.percent
        if percent is None or self.target is None:
            return None
        return self.target.met_by(percent)


def share(numerator: int, denominator: int) -> float | None:
    """Percentage, rounded to one decimal; None when the denominator is 0 (no figure at all,
    rather than a misleading 0 % or 100 %)."""
    if numerator < 0 or denominator < 0 or numerator > denominator:
        raise ValueError(f"not a share: {numerator}/{denominator}")
    if denominator == 0:
        return None
    return round(100 * numerator / denominator, 1)


# --- Regional figures from 2021 ---------------------------------------------------------------


class Setting(enum.StrEnum):
    """The kinds of care Region Dalarna's plan reports its 2021 figures for."""

    MUNICIPAL = "municipal"
    HOSPITAL = "hospital"
    SPECIALISED = "specialised"


SETTING_LABELS: Mapping[Setting, str] = {
    Setting.MUNICIPAL: N_("municipal care"),
    Setting.HOSPITAL: N_("hospital care"),
    Setting.SPECIALISED: N_("specialised palliative care"),
}

#: Which kind of care a unit compares itself with, by its kind (`pallapp.models.UnitKind`
#: values). Primary care has no figure of its own in the plan, and its patients die in the care
#: of all three settings, so a primary care unit sees all three.
SETTING_OF_UNIT_KIND: Mapping[str, Setting] = {
    "municipal_home_care": Setting.MUNICIPAL,
    "specialised_palliative": Setting.SPECIALISED,
    "ward": Setting.HOSPITAL,
}

#: Where the regional figures come from (shown with them).
REGIONAL_SOURCE = N_("Region Dalarna's plan for palliative care: results for 2021")


@dataclass(frozen=True)
class Regional:
    """A 2021 value from Region Dalarna's plan, per setting or one for all settings (the values
    as INSTRUMENTS.md lists them)."""

    by_setting: Mapping[Setting, str] = field(default_factory=dict)
    all_settings: str | None = None

    def for_unit_kind(self, unit_kind: str) -> list[tuple[Setting | None, str]]:
        """(setting, value) pairs to show beside a unit of this kind; setting None: all."""
        if self.all_settings is not None:
            return [(None, self.all_settings)]
        setting = SETTING_OF_UNIT_KIND.get(unit_kind)
        if setting is not None and setting in self.by_setting:
            return [(setting, self.by_setting[setting])]
        return list(self.by_setting.items())


def _by_setting(municipal: int, hospital: int, specialised: int) -> Regional:
    return Regional(
        {
            Setting.MUNICIPAL: f"≈ {municipal} %",
            Setting.HOSPITAL: f"≈ {hospital} %",
            Setting.SPECIALISED: f"≈ {specialised} %",
        }
    )


# --- Facts and definitions --------------------------------------------------------------------


@dataclass(frozen=True)
class DeathFacts:
    """What the end-of-life indicators need about a patient who died in the period."""

    died_on: date
    #: Recorded on the death milestone; None: not recorded (deaths before the question existed).
    expected: bool | None
    pain_rated_last_week: bool = False
    other_symptoms_rated_last_week: bool = False
    roag_last_week: bool = False
    #: Indications of the parenteral (`scoring.PARENTERAL_ROUTES`: s.c., i.v.) orders in force on the day of death.
    parenteral_orders: frozenset[str] = frozenset()
    #: A brytpunktssamtal recorded on or before the day of death.
    brytpunktssamtal: bool = False
    #: Recorded on the death milestone; None: not recorded, which does not count as free.
    free_of_pressure_ulcers: bool | None = None
    efterlevandesamtal_offered: bool = False


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
    #: Indications of the as-needed orders (any route) in force on the reference day: the last
    #: day of the period, or the day of death for a patient who died in the period.
    order_indications: frozenset[str] = frozenset()
    svas_offered: bool = False  # offered or held by the end of the period
    svas_held: bool = False
    #: Set when the patient died in the period.
    death: DeathFacts | None = None


class Family(enum.StrEnum):
    IN_LIFE = "in_life"
    END_OF_LIFE = "end_of_life"


@dataclass(frozen=True)
class FamilyInfo:
    family: Family
    title: str  # msgid
    #: Who the denominator is, in plain words (msgid).
    denominator: str


FAMILIES: tuple[FamilyInfo, ...] = (
    FamilyInfo(
        Family.IN_LIFE,
        N_("In life: all patients with palliative care needs"),
        N_(
            "Counted: every patient who was enrolled in the unit on at least one day of the "
            "period and had not died before it began. These are the regions' own indicators "
            "for palliative care before the end of life."
        ),
    ),
    FamilyInfo(
        Family.END_OF_LIFE,
        N_("End of life: expected deaths"),
        N_(
            "Counted: the unit's patients who died an expected death in the period, as recorded "
            "with the death. \"Last week\" means the day of death and the six days before it. "
            "Comparable with Svenska palliativregistret and Socialstyrelsen's target levels."
        ),
    ),
)
FAMILY_INFO: Mapping[Family, FamilyInfo] = {info.family: info for info in FAMILIES}


def _in_family(family: Family) -> Callable[[PatientFacts], bool]:
    if family is Family.IN_LIFE:
        return lambda facts: True
    return lambda facts: facts.death is not None and facts.death.expected is True


@dataclass(frozen=True)
class Definition:
    code: str
    title: str  # msgid
    family: Family
    #: None: shown without a target (no national target exists).
    target: Target | None
    #: Who of the family's denominator is in the numerator.
    meets: Callable[[PatientFacts], bool]
    regional: Regional | None = None

    def counts(self, facts: PatientFacts) -> bool:
        """Whether the patient is in this indicator's denominator."""
        return _in_family(self.family)(facts)


def _death(check: Callable[[DeathFacts], bool]) -> Callable[[PatientFacts], bool]:
    return lambda facts: facts.death is not None and check(facts.death)


def _has_all_four(facts: PatientFacts) -> bool:
    return set(FOUR_INDICATIONS) <= facts.order_indications


def _parenteral(indication: str) -> Callable[[PatientFacts], bool]:
    return _death(lambda death: indication in death.parenteral_orders)


FULL = Target(100)
NATIONAL_FULL = Target(100, source=TargetSource.SOCIALSTYRELSEN)
NATIONAL_90 = Target(90, source=TargetSource.SOCIALSTYRELSEN)
NATIONAL_98 = Target(98, source=TargetSource.SOCIALSTYRELSEN)
#: The as-needed order figure of Dalarna's plan covers the last week, all kinds of care.
ORDERS_2021 = Regional(all_settings="96–98 %")

DEFINITIONS: tuple[Definition, ...] = (
    # A. In life (Dalarna plan, Tabell 4; INSTRUMENTS.md).
    Definition(
        "symptom_rated",
        N_("Symptom-rated with a structured instrument (IPOS, ESAS-r or Abbey)"),
        Family.IN_LIFE, FULL, lambda f: f.rated_in_period,
    ),
    Definition(
        "care_plan", N_("Documented care plan"), Family.IN_LIFE, FULL, lambda f: f.care_plan
    ),
    Definition(
        "orders_all_four",
        N_("As-needed drugs ordered for all four expected symptoms (pain, anxiety, nausea, "
           "death rattle)"),
        Family.IN_LIFE, FULL, _has_all_four,
    ),
    Definition(
        "roag", N_("Oral health assessed with ROAG"), Family.IN_LIFE,
        Target(90, strict=True), lambda f: f.roag_in_period,
    ),
    Definition(
        "svas_offered", N_("Serious illness conversation offered"), Family.IN_LIFE, FULL,
        lambda f: f.svas_offered,
    ),
    Definition(
        "svas_held", N_("Serious illness conversation held"), Family.IN_LIFE, Target(90),
        lambda f: f.svas_held,
    ),
    # B. End of life (Socialstyrelsen's target levels 2017; INSTRUMENTS.md).
    Definition(
        "pain_rated_last_week",
        N_("Pain rated with a validated instrument in the last week"),
        Family.END_OF_LIFE, NATIONAL_FULL, _death(lambda d: d.pain_rated_last_week),
        regional=_by_setting(municipal=50, hospital=25, specialised=70),
    ),
    Definition(
        "other_symptoms_rated_last_week",
        N_("Other symptoms rated with a validated instrument in the last week"),
        Family.END_OF_LIFE, FULL, _death(lambda d: d.other_symptoms_rated_last_week),
        regional=_by_setting(municipal=30, hospital=20, specialised=60),
    ),
    Definition(
        "roag_last_week",
        N_("Oral health assessed with ROAG in the last week"),
        Family.END_OF_LIFE, NATIONAL_90, _death(lambda d: d.roag_last_week),
        regional=_by_setting(municipal=52, hospital=60, specialised=82),
    ),
    Definition(
        "parenteral_pain",
        N_("As-needed order for pain (opioid), s.c. or i.v., at death"),
        Family.END_OF_LIFE, NATIONAL_98, _parenteral("pain"), regional=ORDERS_2021,
    ),
    Definition(
        "parenteral_anxiety",
        N_("As-needed order for anxiety (anxiolytic), s.c. or i.v., at death"),
        Family.END_OF_LIFE, NATIONAL_98, _parenteral("anxiety"), regional=ORDERS_2021,
    ),
    Definition(
        "parenteral_nausea",
        N_("As-needed order for nausea, s.c. or i.v., at death"),
        Family.END_OF_LIFE, None, _parenteral("nausea"),
    ),
    Definition(
        "parenteral_death_rattle",
        N_("As-needed order for death rattle, s.c. or i.v., at death"),
        Family.END_OF_LIFE, None, _parenteral("death_rattle"),
    ),
    Definition(
        "brytpunktssamtal",
        N_("Conversation on transition to end-of-life care (brytpunktssamtal) held before death"),
        Family.END_OF_LIFE, NATIONAL_98, _death(lambda d: d.brytpunktssamtal),
    ),
    Definition(
        "free_of_pressure_ulcers",
        N_("Free of pressure ulcers at death"),
        Family.END_OF_LIFE, NATIONAL_90, _death(lambda d: d.free_of_pressure_ulcers is True),
    ),
    Definition(
        "efterlevandesamtal_offered",
        N_("Bereavement conversation offered to relatives"),
        Family.END_OF_LIFE, FULL, _death(lambda d: d.efterlevandesamtal_offered),
    ),
)
DEFINITIONS_BY_CODE: Mapping[str, Definition] = {d.code: d for d in DEFINITIONS}


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
    counted: list[int] = []
    missed: list[int] = []
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
class Deaths:
    """The patients who died in the period, by whether the death was recorded as expected.
    Only the expected ones are in the end-of-life denominator; the others are shown, never
    silently dropped."""

    expected: tuple[int, ...] = ()
    unexpected: tuple[int, ...] = ()
    unknown: tuple[int, ...] = ()

    @property
    def total(self) -> int:
        return len(self.expected) + len(self.unexpected) + len(self.unknown)


def deaths(facts: Iterable[PatientFacts]) -> Deaths:
    expected: list[int] = []
    unexpected: list[int] = []
    unknown: list[int] = []
    for fact in facts:
        if fact.death is None:
            continue
        group = {True: expected, False: unexpected, None: unknown}[fact.death.expected]
        group.append(fact.patient_id)
    return Deaths(tuple(expected), tuple(unexpected), tuple(unknown))


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

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end
