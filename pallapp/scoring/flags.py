"""Deterioration and safety flags for one assessment: `flags_for(current, previous)`.

The rules, their severities and their default numbers come from INSTRUMENTS.md ("Flags"). A
care unit may tune the numbers through `Thresholds`, but can never switch off a `high` rule:
the constructor rejects any high-rule threshold outside the scale it applies to.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Literal

from ._frozen import FrozenMap, adopt, slot_setter
from .i18n import N_
from .instruments import INSTRUMENTS
from .scorer import Score

__all__ = [
    "DEFAULT_THRESHOLDS",
    "FLAG_CODES",
    "SEVERITY_LABELS",
    "Flag",
    "FlagCode",
    "Severity",
    "Thresholds",
    "flags_for",
]

Severity = Literal["high", "medium", "info"]

#: Severity msgids, and the order in which a unit overview sorts them.
SEVERITY_LABELS: FrozenMap[str, str] = FrozenMap(
    {"high": N_("High priority"), "medium": N_("Medium priority"), "info": N_("For information")}
)

_SEVERITY_RANK = {"info": 0, "medium": 1, "high": 2}


@dataclass(frozen=True, slots=True)
class Flag:
    """One raised flag: what rule, how urgent, which items met it, with which parameters.

    `items` are item codes in definition order (for as-needed medication flags: indication
    codes; for overdue flags: empty). `params` holds the rule's numbers, e.g.
    `{"threshold": 7}`. Flags are immutable, hashable and compare by value.
    """

    code: str
    severity: Severity
    items: tuple[str, ...] = ()
    params: Mapping[str, int | str] = FrozenMap()

    def __post_init__(self) -> None:
        severities = _SEVERITIES_OF.get(self.code)
        if severities is None:
            raise ValueError(f"unknown flag code {self.code!r}")
        if self.severity not in severities:
            raise ValueError(f"flag {self.code!r} cannot have severity {self.severity!r}")
        if type(self.params) is not FrozenMap:
            object.__setattr__(self, "params", FrozenMap(self.params))

    @property
    def rank(self) -> int:
        """2 for high, 1 for medium, 0 for info: sort open flags by `-flag.rank`."""
        return _SEVERITY_RANK[self.severity]


@dataclass(frozen=True, slots=True)
class FlagCode:
    """What a flag code means: a title and a plain-language explanation (msgids), its possible
    severities, and where the rule comes from."""

    code: str
    title: str
    explanation: str
    severities: tuple[Severity, ...]
    source: str


#: Every flag code, per assessment and across records (INSTRUMENTS.md, "Flags").
FLAG_CODES: FrozenMap[str, FlagCode] = FrozenMap(
    {
        info.code: info
        for info in (
            FlagCode(
                "severe_item",
                N_("Severe symptom"),
                N_(
                    "At least one symptom or concern was rated severe. "
                    "It needs a timely clinical response."
                ),
                ("high",),
                "pos-pal.org (IPOS items 3-4); Selby 2010 (ESAS-r items 7-10)",
            ),
            FlagCode(
                "moderate_item",
                N_("Moderate symptom"),
                N_("At least one symptom was rated moderate. It warrants further assessment."),
                ("medium",),
                "Selby 2010 (ESAS-r 4 or more warrants further assessment)",
            ),
            FlagCode(
                "item_rise",
                N_("Symptom worse than last time"),
                N_(
                    "A symptom or concern is worse than in the previous assessment with the "
                    "same instrument. IPOS: rated higher than last time and now at least "
                    "moderate. ESAS-r: rated clearly higher (by default 2 points or more)."
                ),
                ("medium",),
                "IPOS: pos-pal.org how to interpret (act on items at 3-4 or when scores "
                "change), any rise to 2 or more; the floor of 2 is a project choice. "
                "ESAS-r: MCID is 1 point (Hui 2015); 2 points limit noise (project choice)",
            ),
            FlagCode(
                "total_rise",
                N_("Overall symptom burden increased"),
                N_(
                    "The ESAS-r total is clearly higher than in the previous assessment: "
                    "a clinically meaningful deterioration."
                ),
                ("medium",),
                "Hui 2016 (minimal clinically important deterioration of the ESAS total)",
            ),
            FlagCode(
                "pain_behaviour",
                N_("Signs of pain"),
                N_(
                    "The Abbey score suggests pain. Treat the cause or the pain, "
                    "and assess again about one hour after the intervention."
                ),
                ("medium", "high"),
                "Abbey 2004 (3-7 mild, 8 or more moderate to severe pain)",
            ),
            FlagCode(
                "oral_health",
                N_("Oral health problem"),
                N_(
                    "ROAG shows a problem in the mouth. Grade 2: mouth care according to the "
                    "unit's routine. Grade 3: contact dental care or a physician."
                ),
                ("medium", "high"),
                "Senior alert ROAG-J guidance",
            ),
            FlagCode(
                "prn_frequent",
                N_("Frequent as-needed doses"),
                N_(
                    "Several as-needed doses for the same symptom were given within a short "
                    "time. Review the regular medication."
                ),
                ("medium",),
                "Swedish palliative practice; project default (3 doses in 24 hours)",
            ),
            FlagCode(
                "prn_over_limit",
                N_("Dose outside the order's limits"),
                N_(
                    "With this dose the order's maximum number of doses within 24 hours is "
                    "exceeded, or it is closer than the order's minimum interval to another "
                    "dose, before or after it. Check the order and record the reason."
                ),
                ("high",),
                "the as-needed order itself",
            ),
            FlagCode(
                "prn_missing",
                N_("Missing as-needed orders"),
                N_(
                    "The patient is in the end-of-life phase and lacks an active as-needed order "
                    "given by injection (subcutaneous or intravenous) for at least one of pain, "
                    "nausea, anxiety and death rattle. An order by mouth does not count: a dying "
                    "patient often cannot swallow."
                ),
                ("medium",),
                "Socialstyrelsen (target 98 % for pain and anxiety); Svenska palliativregistret "
                "(injection orders); nationella vårdprogrammet för palliativ vård (as-needed "
                "drugs in the last days primarily s.c.)",
            ),
            FlagCode(
                "assessment_overdue",
                N_("Symptom assessment overdue"),
                N_("No IPOS, ESAS-r or Abbey assessment within the unit's interval."),
                ("info",),
                "national target: every patient symptom-rated; interval is a project default",
            ),
            FlagCode(
                "roag_overdue",
                N_("Oral assessment overdue"),
                N_(
                    "The patient is in the end-of-life phase and has had no ROAG assessment "
                    "within the interval."
                ),
                ("info",),
                "national target: more than 90 % with a documented mouth assessment",
            ),
            FlagCode(
                "prn_dose_mismatch",
                N_("Dose differs from the order"),
                N_(
                    "A dose was recorded with another amount, unit or route than the as-needed "
                    "order says. Check that the right dose was given and entered."
                ),
                ("high",),
                "the order itself; guards against entry errors such as a tenfold dose",
            ),
            FlagCode(
                "prn_limits_missing",
                N_("As-needed order without limits"),
                N_(
                    "An as-needed order in force lacks its minimum interval or its maximum "
                    "number of doses in 24 hours, so doses under it cannot be checked. The "
                    "physician should change the order to give both."
                ),
                ("medium",),
                "the order itself: an order without limits cannot be checked",
            ),
        )
    }
)


# Plain dict for the check in Flag.__post_init__, which runs for every flag raised.
_SEVERITIES_OF: dict[str, tuple[Severity, ...]] = {
    code: info.severities for code, info in FLAG_CODES.items()
}


def _check_int(name: str, value: object, low: int, high: int) -> None:
    if type(value) is not int or not low <= value <= high:
        raise ValueError(f"threshold {name} must be a whole number {low}-{high}, not {value!r}")


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The tunable numbers of the flag rules, with the defaults of INSTRUMENTS.md.

    A unit may change any number, but the `high` rules (`severe_item`, `pain_behaviour` high)
    must stay able to fire: their thresholds are limited to the instrument's scale, and the
    constructor raises ValueError otherwise. Every value must be a whole number (not a bool).
    """

    # severe_item, IPOS: an item >= 3 needs a timely response (pos-pal.org). High: 1-4.
    ipos_severe_item: int = 3
    # severe_item, ESAS-r: an item >= 7 is severe (Selby 2010). High: 1-10.
    esas_severe_item: int = 7
    # moderate_item, ESAS-r: 4-6 warrants further assessment (Selby 2010). 1..esas_severe_item.
    esas_moderate_item: int = 4
    # item_rise, IPOS: an item higher than in `previous` (by at least this much, 1-4) and now at
    # least `ipos_item_rise_floor` (1-4). pos-pal.org "how to interpret": act on items at 3-4
    # *or when scores change*; the floor of 2 keeps a 0 -> 1 change quiet (project choice).
    ipos_item_rise: int = 1
    ipos_item_rise_floor: int = 2
    # item_rise, ESAS-r: an item at least this many points higher than in `previous`. MCID is
    # 1 point (Hui 2015); 2 limits noise (project choice). 1-10.
    esas_item_rise: int = 2
    # total_rise, ESAS-r: deterioration MCID of the total (Hui 2016). 1-90.
    esas_total_rise: int = 4
    # pain_behaviour high: Abbey total >= 8, moderate or severe pain (Abbey 2004). High: 1-18.
    abbey_high: int = 8
    # pain_behaviour medium: Abbey total >= 3, mild pain (Abbey 2004). 1..abbey_high.
    abbey_medium: int = 3
    # prn_frequent: 3 or more doses for one indication (Swedish practice; project default).
    prn_frequent_doses: int = 3
    # prn_frequent: within 24 hours (project default). 1-168.
    prn_frequent_window_hours: int = 24
    # assessment_overdue: IPOS, ESAS-r or Abbey at least weekly (project default). 1-365.
    assessment_interval_days: int = 7
    # assessment_overdue in the end-of-life phase: every 2 days (project default). 1-365.
    assessment_interval_end_of_life_days: int = 2
    # roag_overdue in the end-of-life phase: weekly (INSTRUMENTS.md). 1-365.
    roag_interval_days: int = 7
    # `previous` for flags_for is the latest earlier assessment within 30 days (INSTRUMENTS.md);
    # the app's services apply this window when they fetch `previous`. 1-365.
    previous_window_days: int = 30

    def __post_init__(self) -> None:
        _check_int("ipos_severe_item", self.ipos_severe_item, 1, 4)
        _check_int("esas_severe_item", self.esas_severe_item, 1, 10)
        _check_int("esas_moderate_item", self.esas_moderate_item, 1, self.esas_severe_item)
        # Within the IPOS scale (0-4) the IPOS rule can always fire (0 -> 4).
        _check_int("ipos_item_rise", self.ipos_item_rise, 1, 4)
        _check_int("ipos_item_rise_floor", self.ipos_item_rise_floor, 1, 4)
        _check_int("esas_item_rise", self.esas_item_rise, 1, 10)
        _check_int("esas_total_rise", self.esas_total_rise, 1, 90)
        _check_int("abbey_high", self.abbey_high, 1, 18)
        _check_int("abbey_medium", self.abbey_medium, 1, self.abbey_high)
        _check_int("prn_frequent_doses", self.prn_frequent_doses, 1, 100)
        _check_int("prn_frequent_window_hours", self.prn_frequent_window_hours, 1, 168)
        _check_int("assessment_interval_days", self.assessment_interval_days, 1, 365)
        _check_int(
            "assessment_interval_end_of_life_days",
            self.assessment_interval_end_of_life_days,
            1,
            365,
        )
        _check_int("roag_interval_days", self.roag_interval_days, 1, 365)
        _check_int("previous_window_days", self.previous_window_days, 1, 365)

    @classmethod
    def from_mapping(cls, values: Mapping[str, object]) -> Thresholds:
        """Defaults overridden by `values` (e.g. a unit's stored settings).

        Also accepts the former name `item_rise` (see `_FORMER_NAMES`). Raises ValueError for an
        unknown name, a former name given together with its new one, or an invalid number.
        """
        renamed: dict[str, object] = {}
        for name, value in values.items():
            new_name = _FORMER_NAMES.get(name, name)
            if new_name in renamed:
                raise ValueError(f"threshold {new_name} given twice (also as {name})")
            renamed[new_name] = value
        known = {field.name for field in fields(cls)}
        unknown = sorted(str(name) for name in renamed if name not in known)
        if unknown:
            raise ValueError(f"unknown thresholds: {', '.join(unknown)}")
        return cls(**renamed)  # type: ignore[arg-type]  # each value is checked in __post_init__

    def as_dict(self) -> dict[str, int]:
        """All thresholds by name, e.g. to store a unit's settings."""
        return {field.name: getattr(self, field.name) for field in fields(self)}


# Names care units may have stored before a rule was split per instrument family. One
# `item_rise` (default 2 points) used to apply to IPOS and ESAS-r alike; ESAS-r keeps exactly that
# rule, so a stored `item_rise` keeps its meaning as `esas_item_rise`, while IPOS now follows its
# own rule (INSTRUMENTS.md). Accepting the old name here needs no data migration.
_FORMER_NAMES = {"item_rise": "esas_item_rise"}

DEFAULT_THRESHOLDS = Thresholds()

# Where IPOS `other_symptoms` (free-text symptoms rated 0-4 like Q2) sits among the items.
_IPOS_SEVERE_ORDER = tuple(
    code
    for item_code in INSTRUMENTS["ipos_patient"].item_codes
    for code in ((item_code, "other_symptoms") if item_code == "poor_mobility" else (item_code,))
)


# Looked up once, not per call.
_FAMILY = {code: definition.family for code, definition in INSTRUMENTS.items()}
_ESAS_TOTAL_ITEMS = INSTRUMENTS["esas_r"].total_items
_ROAG_CODES = INSTRUMENTS["roag"].item_codes


def _ints(answers: Mapping[str, object]) -> dict[str, int]:
    """The integer answers, in item order (skips None, special values and context fields,
    none of which is an int)."""
    return {code: value for code, value in answers.items() if type(value) is int}


def _same_other_problem(current: Score, previous: Score) -> bool:
    """True when both ESAS-r assessments name the same `other` problem."""
    now_label = current.answers.get("other_label")
    then_label = previous.answers.get("other_label")
    return (
        isinstance(now_label, str)
        and isinstance(then_label, str)
        and now_label.strip().casefold() == then_label.strip().casefold()
    )


def _any_rated_at_least(other_symptoms: tuple[object, ...], threshold: int) -> bool:
    """True if any IPOS `other_symptoms` entry is rated `threshold` or more."""
    for entry in other_symptoms:
        # FrozenMap, as score() makes them, is checked first: isinstance with an ABC costs more.
        rating = (
            entry.get("rating")
            if type(entry) is FrozenMap or isinstance(entry, Mapping)
            else None
        )
        if type(rating) is int and rating >= threshold:
            return True
    return False


#: How many distinct flags one rule keeps (see `_Rule`). Flags repeat a lot (the same items at
#: the same threshold): a kept flag is only looked up, not built. When a rule has kept this
#: many it keeps no more, so memory stays bounded (under 1 MB a rule). It does not start
#: afresh: the combinations that repeat most are met early and stay kept, while starting afresh
#: made a rule with more distinct combinations than this (IPOS severe items: about 7,000 in
#: 20,000 assessments) build most of its flags again and again.
_KEPT_FLAGS = 4096

Params = tuple[tuple[str, int | str], ...]


# Each field of `Flag` set through its slot's descriptor (see `slot_setter`).
_new_object = object.__new__
_set_code = slot_setter(Flag, "code")
_set_severity = slot_setter(Flag, "severity")
_set_items = slot_setter(Flag, "items")
_set_params = slot_setter(Flag, "params")


class _Rule:
    """One flag rule at fixed thresholds: its code, severity and params, and the flags it has
    raised, by their items.

    Flags are immutable, so one raised for the same items again is the kept one: the hot path
    is `rule.raised.get(items) or rule.flag(items)`, one dict lookup. The rules' codes,
    severities and params are fixed in this module and right by construction, so the checks
    `Flag.__post_init__` makes for flags built elsewhere are skipped (a test compares each
    with one built through the public constructor). Every flag of a rule shares the rule's
    one params map (immutable, like the flags)."""

    __slots__ = ("code", "params", "raised", "severity")

    def __init__(self, code: str, severity: Severity, params: Params) -> None:
        self.code = code
        self.severity: Severity = severity
        self.params: FrozenMap[str, int | str] = adopt(dict(params))
        self.raised: dict[tuple[str, ...], Flag] = {}

    def flag(self, items: tuple[str, ...]) -> Flag:
        """The flag of this rule for `items`, built, and kept while fewer than `_KEPT_FLAGS`
        are."""
        flag: Flag = _new_object(Flag)
        _set_code(flag, self.code)
        _set_severity(flag, self.severity)
        _set_items(flag, items)
        _set_params(flag, self.params)
        if len(self.raised) < _KEPT_FLAGS:
            self.raised[items] = flag
        return flag


class _Rules:
    """Every per-assessment rule at one set of thresholds, with the numbers it compares."""

    __slots__ = (
        "abbey_high",
        "abbey_high_at",
        "abbey_medium",
        "abbey_medium_at",
        "esas_item_rise",
        "esas_moderate",
        "esas_moderate_at",
        "esas_rise",
        "esas_severe",
        "esas_severe_at",
        "esas_total_rise",
        "esas_total_rise_by",
        "ipos_floor",
        "ipos_item_rise",
        "ipos_rise",
        "ipos_severe",
        "ipos_severe_at",
        "roag_high",
        "roag_medium",
    )

    def __init__(self, t: Thresholds) -> None:
        self.ipos_severe_at = t.ipos_severe_item
        self.ipos_severe = _Rule("severe_item", "high", (("threshold", t.ipos_severe_item),))
        self.ipos_rise = t.ipos_item_rise
        self.ipos_floor = t.ipos_item_rise_floor
        self.ipos_item_rise = _Rule(
            "item_rise",
            "medium",
            (("rule", "ipos"), ("threshold", t.ipos_item_rise), ("floor", t.ipos_item_rise_floor)),
        )
        self.esas_severe_at = t.esas_severe_item
        self.esas_severe = _Rule("severe_item", "high", (("threshold", t.esas_severe_item),))
        self.esas_moderate_at = t.esas_moderate_item
        self.esas_moderate = _Rule(
            "moderate_item",
            "medium",
            (("threshold", t.esas_moderate_item), ("severe_threshold", t.esas_severe_item)),
        )
        self.esas_rise = t.esas_item_rise
        self.esas_item_rise = _Rule(
            "item_rise", "medium", (("rule", "esas_r"), ("threshold", t.esas_item_rise))
        )
        self.esas_total_rise_by = t.esas_total_rise
        self.esas_total_rise = _Rule("total_rise", "medium", (("threshold", t.esas_total_rise),))
        self.abbey_high_at = t.abbey_high
        self.abbey_high = _Rule("pain_behaviour", "high", (("threshold", t.abbey_high),))
        self.abbey_medium_at = t.abbey_medium
        self.abbey_medium = _Rule("pain_behaviour", "medium", (("threshold", t.abbey_medium),))
        self.roag_high = _Rule("oral_health", "high", (("threshold", 3),))
        self.roag_medium = _Rule("oral_health", "medium", (("threshold", 2),))


_DEFAULT_RULES = _Rules(DEFAULT_THRESHOLDS)
#: The rules of other thresholds (units' own), made on first use; a few at most in practice,
#: and started afresh past 64.
_RULES_OF: dict[Thresholds, _Rules] = {}


def _rules_for(thresholds: Thresholds) -> _Rules:
    rules = _RULES_OF.get(thresholds)
    if rules is None:
        if len(_RULES_OF) >= 64:
            _RULES_OF.clear()
        rules = _RULES_OF[thresholds] = _Rules(thresholds)
    return rules


def _ipos_flags(current: Score, previous: Score | None, rules: _Rules) -> list[Flag]:
    flags: list[Flag] = []
    now = current._numbers
    if now is None:
        now = _ints(current.answers)
    severe_at = rules.ipos_severe_at
    # A score() result's answers are a FrozenMap, whose `get` is a Python call: its dict is
    # read directly instead (same package).
    answers = current.answers
    other_symptoms = (
        answers._data.get("other_symptoms")
        if type(answers) is FrozenMap
        else answers.get("other_symptoms")
    )
    if isinstance(other_symptoms, tuple) and _any_rated_at_least(other_symptoms, severe_at):
        severe = tuple(
            [
                code
                for code in _IPOS_SEVERE_ORDER
                if code == "other_symptoms" or now.get(code, -1) >= severe_at
            ]
        )
    else:
        # `now` holds the int answers in item order, which is _IPOS_SEVERE_ORDER's without
        # other_symptoms.
        severe = tuple([code for code, value in now.items() if value >= severe_at])
    if severe:
        rule = rules.ipos_severe
        flags.append(rule.raised.get(severe) or rule.flag(severe))
    if previous is not None:
        # item_rise: IPOS items answered with an int in both assessments that are higher now
        # (by at least `ipos_item_rise`) and now at least `ipos_item_rise_floor`: 1 -> 2
        # flags, 0 -> 1 does not.
        then = previous._numbers
        if then is None:
            then = _ints(previous.answers)
        rise = rules.ipos_rise
        floor = rules.ipos_floor
        risen = tuple(
            [
                code
                for code, value in now.items()
                if value >= floor and code in then and value - then[code] >= rise
            ]
        )
        if risen:
            rule = rules.ipos_item_rise
            flags.append(rule.raised.get(risen) or rule.flag(risen))
    return flags


def _esas_flags(current: Score, previous: Score | None, rules: _Rules) -> list[Flag]:
    flags: list[Flag] = []
    now = current._numbers
    if now is None:
        now = _ints(current.answers)
    severe_at = rules.esas_severe_at
    moderate_at = rules.esas_moderate_at
    # One pass sorts the items into severe and moderate; most are below both.
    severe: list[str] = []
    moderate: list[str] = []
    for code, value in now.items():
        if value >= moderate_at:
            if value >= severe_at:
                severe.append(code)
            else:
                moderate.append(code)
    if severe:
        items = tuple(severe)
        rule = rules.esas_severe
        flags.append(rule.raised.get(items) or rule.flag(items))
    if moderate:
        items = tuple(moderate)
        rule = rules.esas_moderate
        flags.append(rule.raised.get(items) or rule.flag(items))
    if previous is None:
        return flags
    # item_rise: ESAS-r items answered with an int in both assessments that rose by
    # `esas_item_rise` points or more.
    then = previous._numbers
    if then is None:
        then = _ints(previous.answers)
    rise = rules.esas_rise
    risen = [code for code, value in now.items() if code in then and value - then[code] >= rise]
    # `other` may be a different problem each time; compare it only when it is named the same.
    if risen:
        if "other" in risen and not _same_other_problem(current, previous):
            risen.remove("other")
        if risen:
            items = tuple(risen)
            rule = rules.esas_item_rise
            flags.append(rule.raised.get(items) or rule.flag(items))
    total = current.total
    if total is not None:
        then_total = previous.total
        if then_total is not None and total - then_total >= rules.esas_total_rise_by:
            items = tuple([code for code in _ESAS_TOTAL_ITEMS if now[code] > then[code]])
            rule = rules.esas_total_rise
            flags.append(rule.raised.get(items) or rule.flag(items))
    return flags


def _abbey_flags(current: Score, rules: _Rules) -> list[Flag]:
    now = current._numbers
    if now is None:
        now = _ints(current.answers)
    # Flags work on what was answered: the sum of the answered items is a lower bound of the
    # total, so a flag raised on it can only be confirmed (or raised in severity) later.
    observed = sum(now.values())
    if observed >= rules.abbey_high_at:
        rule = rules.abbey_high
    elif observed >= rules.abbey_medium_at:
        rule = rules.abbey_medium
    else:
        return []
    items = tuple([code for code, value in now.items() if value > 0])
    return [rule.raised.get(items) or rule.flag(items)]


def _roag_flags(current: Score, rules: _Rules) -> list[Flag]:
    areas_at = current.areas_at
    if type(areas_at) is FrozenMap:
        at_2 = areas_at._data.get(2, ())  # see _ipos_flags
        at_3 = areas_at._data.get(3, ())
    else:
        at_2 = areas_at.get(2, ())
        at_3 = areas_at.get(3, ())
    if at_3:
        rule = rules.roag_high
    elif at_2:
        rule = rules.roag_medium
    else:
        return []
    items = tuple([code for code in _ROAG_CODES if code in at_2 or code in at_3])
    return [rule.raised.get(items) or rule.flag(items)]


def flags_for(
    current: Score,
    previous: Score | None = None,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> list[Flag]:
    """The per-assessment flags of `current`, at most one per code, in a fixed code order.

    `previous` is the latest earlier assessment of the same instrument code for the same
    patient within `thresholds.previous_window_days` (the caller selects it), or None; it is
    used by `item_rise` (IPOS, ESAS-r: each family with its own rule) and `total_rise`
    (ESAS-r). Items that are missing or `cannot_assess` in either assessment never trigger
    `item_rise`. Raises ValueError if `previous` is of another instrument, or if the instrument
    belongs to a family without flag rules here (never silently another family's rules).
    """
    instrument = current.instrument
    if previous is not None and previous.instrument != instrument:
        raise ValueError(
            f"previous assessment is {previous.instrument!r}, "
            f"not {instrument!r}: compare only the same instrument"
        )
    rules = _DEFAULT_RULES if thresholds is DEFAULT_THRESHOLDS else _rules_for(thresholds)
    family = _FAMILY.get(instrument) or INSTRUMENTS[instrument].family
    if family == "ipos":
        return _ipos_flags(current, previous, rules)
    if family == "esas_r":
        return _esas_flags(current, previous, rules)
    if family == "abbey":
        return _abbey_flags(current, rules)
    if family == "roag":
        return _roag_flags(current, rules)
    if family == "generic":
        return []
    raise ValueError(f"no flag rules for instrument family {family!r} ({instrument!r})")
