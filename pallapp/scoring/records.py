"""Flag rules across records: as-needed orders and doses, missing orders, overdue assessments.

These are pure functions on small typed inputs (never ORM objects); the app's services build
the inputs from the database and decide what to do with the flags.

Time conventions (all rules):
- Every datetime must be timezone-aware; a naive datetime raises ValueError. The input
  dataclasses store their datetimes converted to UTC, and all arithmetic is done in UTC, so
  windows measure elapsed time (a day across a daylight-saving change is still 24 h).

Reminder rules (`prn_missing`, `prn_limits_missing`, `assessment_overdue`, `roag_overdue`):
- `now` is passed explicitly; records after `now` are ignored (the rule is evaluated as it
  stood at `now`).
- A window of length W ending at `now` is half-open: it holds the instants t with
  `now - W < t <= now`. An assessment observed exactly 7 days before `now` is outside a 7-day
  interval (so it is due).

Dose rules (`prn_over_limit`, `prn_frequent`) look **both ways in time** from the dose being
checked: a dose may be recorded late (back-dated) or corrected to another time, so every other
recorded dose counts, before it or after it. The caller leaves out the dose itself and, for a
correction, the version it replaces.
- A minimum interval I is kept on both sides: the nearest other dose at or before the dose
  (one at the same moment is 0 apart) must be at least I earlier, and the nearest one after it
  at least I later. Exactly I is allowed on either side; I minus one minute is not.
- A window of length W (24 h for an order's maximum; the unit's `prn_frequent_window_hours`
  for `prn_frequent`) is half-open, `[start, start + W)`, and may start at any moment: doses
  share a window when the first and the last of them are less than W apart. Two doses exactly
  24 h apart never share a 24-hour window; 24 h minus one minute apart, they do. A dose is
  checked against every window that contains it (sliding windows, not only the one ending at
  the dose), so a dose entered before two existing ones is checked with both.

Return values: `check_limits` returns a `LimitCheck`; every other rule returns one `Flag` or
None.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import KW_ONLY, dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from ._frozen import FrozenMap
from .flags import DEFAULT_THRESHOLDS, Flag, Thresholds
from .i18n import N_
from .instruments import INSTRUMENTS

__all__ = [
    "DOSE_DECIMALS",
    "DOSE_WHOLE_DIGITS",
    "PARENTERAL_ROUTES",
    "PRN_INDICATIONS",
    "PRN_ROUTES",
    "REQUIRED_PRN_INDICATIONS",
    "SYMPTOM_INSTRUMENTS",
    "AssessmentSeen",
    "DoseGiven",
    "DoseRange",
    "InvalidDose",
    "LimitCheck",
    "PrnOrderRule",
    "assessment_overdue",
    "check_limits",
    "decimal_text",
    "normalise_unit",
    "parse_amount",
    "parse_dose",
    "prn_dose_mismatch",
    "prn_frequent",
    "prn_limits_missing",
    "prn_missing",
    "prn_over_limit",
    "roag_overdue",
]

#: As-needed indications (INSTRUMENTS.md: the four recorded by Svenska palliativregistret,
#: then dyspnoea and other), code -> label msgid.
PRN_INDICATIONS: FrozenMap[str, str] = FrozenMap(
    {
        "pain": N_("Pain"),
        "nausea": N_("Nausea"),
        "anxiety": N_("Anxiety"),
        "death_rattle": N_("Death rattle"),
        "dyspnoea": N_("Breathlessness"),
        "other": N_("Other"),
    }
)

#: Every end-of-life patient should have an active order for each of these (Svenska
#: palliativregistret asks about all four; Socialstyrelsen's target is 98 % for pain, anxiety).
REQUIRED_PRN_INDICATIONS: tuple[str, ...] = ("pain", "nausea", "anxiety", "death_rattle")

#: The routes an order may have (INSTRUMENTS.md, "As-needed medication").
PRN_ROUTES: tuple[str, ...] = ("sc", "iv", "po", "buccal", "rectal", "nasal", "other")

#: The routes that count for `prn_missing`: subcutaneous and intravenous. In the last days of
#: life as-needed drugs are ordered parenterally, in the first place subcutaneously, since a
#: dying patient often cannot swallow and rectal uptake is uncertain (Nationellt vårdprogram
#: för palliativ vård i livets slutskede, Regionala cancercentrum i samverkan); Svenska
#: palliativregistret asks whether injection orders existed for pain, anxiety, nausea and
#: death rattle. An oral, buccal, rectal or nasal order does not cover the symptom.
PARENTERAL_ROUTES: frozenset[str] = frozenset({"sc", "iv"})

#: Instruments that count as structured symptom rating for `assessment_overdue`.
SYMPTOM_INSTRUMENTS: frozenset[str] = frozenset({"ipos_patient", "ipos_staff", "esas_r", "abbey"})

_MAX_DOSE_WINDOW = timedelta(hours=24)  # an order's limit is "max doses per 24 h"

#: A dose has at most this many decimals and whole-number digits: what the database stores
#: exactly (Numeric(12, 4)). 0,0001 mg to 99 999 999 covers every unit in use (mg, µg, ml, E).
DOSE_DECIMALS = 4
DOSE_WHOLE_DIGITS = 8


def _utc(name: str, value: object) -> datetime:
    """`value` as an aware UTC datetime; TypeError if not a datetime, ValueError if naive.

    Everything is compared in UTC: Python compares and subtracts two datetimes that share a
    tzinfo by wall-clock time, which is wrong across a daylight-saving change.
    """
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")
    return value.astimezone(UTC)


def _require_indication(value: object) -> None:
    if type(value) is not str or value not in PRN_INDICATIONS:
        raise ValueError(f"unknown as-needed indication {value!r}")


def _require_route(value: object) -> None:
    if type(value) is not str or value not in PRN_ROUTES:
        raise ValueError(f"unknown route {value!r}")


def _require_amount(name: str, value: object) -> Decimal:
    if not isinstance(value, Decimal) or not value.is_finite() or value <= 0:
        raise ValueError(f"{name} must be a positive Decimal, not {value!r}")
    return value


# --- doses as numbers and units ----------------------------------------------------------


class InvalidDose(ValueError):
    """A dose that is not a positive number or range; `reason` says what is wrong:
    `empty`, `not_a_number`, `not_positive`, `too_precise` (more than `DOSE_DECIMALS`
    decimals), `too_large` (more than `DOSE_WHOLE_DIGITS` digits before the decimal sign) or
    `range_reversed` (the first number of a range is the larger)."""

    def __init__(self, reason: str, text: str) -> None:
        super().__init__(f"{reason}: {text!r}")
        self.reason = reason


# A number with a decimal comma (Swedish) or point; digits 0-9 only, at least one before the sign.
_NUMBER = r"([0-9]+)(?:[.,]([0-9]+))?"
_AMOUNT = re.compile(rf"\s*{_NUMBER}\s*")
# Between the numbers of a range: a hyphen, an en dash, an em dash or a minus sign.
_RANGE = re.compile(rf"\s*{_NUMBER}\s*[-\u2013\u2014\u2212]\s*{_NUMBER}\s*")


def _number(whole: str, fraction: str | None, text: str) -> Decimal:
    fraction = (fraction or "").rstrip("0")
    whole = whole.lstrip("0") or "0"
    if len(fraction) > DOSE_DECIMALS:
        raise InvalidDose("too_precise", text)
    if len(whole) > DOSE_WHOLE_DIGITS:
        raise InvalidDose("too_large", text)
    value = Decimal(f"{whole}.{fraction}" if fraction else whole)
    if value == 0:
        raise InvalidDose("not_positive", text)
    return value


def _require_text(text: object) -> str:
    if not isinstance(text, str):
        raise TypeError(f"a dose must be given as text, not {type(text).__name__}")
    if not text.strip():
        raise InvalidDose("empty", text)
    return text


def parse_amount(text: str) -> Decimal:
    """The amount of a dose given, written as one number: "2,5" or "2.5" (decimal comma or
    point), spaces around it allowed. Raises `InvalidDose` for anything else (a range, a unit
    in the text, zero, more than `DOSE_DECIMALS` decimals) and TypeError for a non-string."""
    match = _AMOUNT.fullmatch(_require_text(text))
    if match is None:
        raise InvalidDose("not_a_number", text)
    return _number(match[1], match[2], text)


@dataclass(frozen=True, slots=True)
class DoseRange:
    """An ordered dose: from `low` to `high`, both included; equal for a single number."""

    low: Decimal
    high: Decimal

    def __post_init__(self) -> None:
        _require_amount("low", self.low)
        _require_amount("high", self.high)
        if self.high < self.low:
            raise ValueError(f"a dose range cannot end ({self.high}) below its start ({self.low})")

    def contains(self, amount: Decimal) -> bool:
        """True when `low <= amount <= high`: both ends are within the order."""
        return self.low <= amount <= self.high


def parse_dose(text: str) -> DoseRange:
    """An ordered dose: one number ("2,5") or a range ("2,5-5", "2,5–5", "1 - 2"), with a
    decimal comma or point. Raises `InvalidDose` for anything else, e.g. "2,5 mg" (the unit
    has its own field), "5-2,5" (`range_reversed`) or "0" (`not_positive`)."""
    _require_text(text)
    single = _AMOUNT.fullmatch(text)
    if single is not None:
        value = _number(single[1], single[2], text)
        return DoseRange(value, value)
    pair = _RANGE.fullmatch(text)
    if pair is None:
        raise InvalidDose("not_a_number", text)
    low = _number(pair[1], pair[2], text)
    high = _number(pair[3], pair[4], text)
    if high < low:
        raise InvalidDose("range_reversed", text)
    return DoseRange(low, high)


def decimal_text(value: Decimal) -> str:
    """A dose amount as plain text with a decimal point and no trailing zeros ("2.5", "100"),
    for flag parameters; the app formats numbers for people in their own language."""
    return format(_require_amount("value", value).normalize(), "f")


# The spellings of the units the rules treat as the same, each under the form compared. Swedish
# texts write micrograms "mikrog" (e.g. FASS) as well as "µg"; "E" is "enheter" (units). Units
# are never converted into each other: 0,5 ml of 10 mg/ml is not 5 mg to these rules.
_UNIT_SPELLINGS: dict[str, tuple[str, ...]] = {
    "µg": ("µg", "μg", "mikrog", "mikrogram", "mcg", "ug"),
    "mg": ("mg", "milligram"),
    "ml": ("ml", "milliliter"),
    "E": ("e", "enhet", "enheter"),
}
_UNIT_ALIASES = {
    spelling.casefold(): unit for unit, spellings in _UNIT_SPELLINGS.items() for spelling in spellings
}


def normalise_unit(text: str) -> str:
    """The unit as the rules compare it: spaces, a final full stop and case ignored, and the
    known spellings of mg, ml, µg (mikrog) and E (enheter) written one way each. Other units
    come back casefolded ("IE" -> "ie"), so they match only themselves."""
    key = "".join(text.split()).rstrip(".").casefold()
    return _UNIT_ALIASES.get(key, key)


# --- the inputs of the rules -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PrnOrderRule:
    """What the rules need of an as-needed order.

    Active from `start` (inclusive) until `stop` (exclusive; None: not stopped).
    `max_doses_per_24h` and `min_interval` are the order's limits; both are required for new
    orders, None only for an order written before they were (it cannot be checked:
    `prn_limits_missing`). `route` is one of `PRN_ROUTES`. `dose` is the ordered amount or
    range in `dose_unit`, or None when the order's dose is written as text that cannot be read
    as a number (its amount is then not checked).
    """

    order_id: str
    indication: str
    start: datetime
    stop: datetime | None = None
    max_doses_per_24h: int | None = None
    min_interval: timedelta | None = None
    _: KW_ONLY
    route: str
    dose: DoseRange | None = None
    dose_unit: str = ""

    def __post_init__(self) -> None:
        _require_indication(self.indication)
        _require_route(self.route)
        object.__setattr__(self, "start", _utc("start", self.start))
        if self.stop is not None:
            object.__setattr__(self, "stop", _utc("stop", self.stop))
            if self.stop < self.start:
                raise ValueError("an order cannot stop before it starts")
        limit = self.max_doses_per_24h
        if limit is not None and (type(limit) is not int or limit < 1):
            raise ValueError(f"max_doses_per_24h must be a whole number >= 1, not {limit!r}")
        interval = self.min_interval
        if interval is not None and (
            not isinstance(interval, timedelta) or interval <= timedelta(0)
        ):
            raise ValueError(f"min_interval must be a positive timedelta, not {interval!r}")
        if self.dose is not None and not isinstance(self.dose, DoseRange):
            raise ValueError(f"dose must be a DoseRange or None, not {self.dose!r}")
        if not isinstance(self.dose_unit, str):
            raise ValueError(f"dose_unit must be text, not {self.dose_unit!r}")

    def is_active(self, at: datetime) -> bool:
        """True if the order is in force at `at` (start <= at < stop)."""
        at = _utc("at", at)
        return self.start <= at and (self.stop is None or at < self.stop)

    @property
    def has_limits(self) -> bool:
        """True when the order has both a minimum interval and a maximum per 24 h."""
        return self.min_interval is not None and self.max_doses_per_24h is not None


@dataclass(frozen=True, slots=True)
class DoseGiven:
    """One recorded as-needed administration: which order, for what indication, when.

    `dose_id` identifies the record (the app's id), so that a check can name the doses it
    collides with; it plays no part in the rules.
    """

    order_id: str
    indication: str
    given_at: datetime
    dose_id: str = ""

    def __post_init__(self) -> None:
        _require_indication(self.indication)
        object.__setattr__(self, "given_at", _utc("given_at", self.given_at))


@dataclass(frozen=True, slots=True)
class AssessmentSeen:
    """One stored assessment, as the overdue rules see it: its instrument and when it applies."""

    instrument: str
    observed_at: datetime

    def __post_init__(self) -> None:
        if self.instrument not in INSTRUMENTS:
            raise ValueError(f"unknown instrument {self.instrument!r}")
        object.__setattr__(self, "observed_at", _utc("observed_at", self.observed_at))


def _in_window(moment: datetime, now: datetime, length: timedelta) -> bool:
    """The half-open window (now - length, now]."""
    return now - length < moment <= now


def _in_end_of_life(end_of_life_since: datetime | None, now: datetime) -> bool:
    if end_of_life_since is None:
        return False
    return _utc("end_of_life_since", end_of_life_since) <= now


def _minutes(elapsed: timedelta) -> int:
    """Whole minutes, rounded down."""
    return int(elapsed.total_seconds() // 60)


def _fullest_window(
    others: Sequence[DoseGiven], at: datetime, length: timedelta
) -> tuple[DoseGiven, ...]:
    """Of the windows `[start, start + length)` that contain `at`, the one holding the most of
    `others`: those doses, in time order (the earliest such window on a tie).

    Only windows starting at one of the doses, or at `at`, need to be tried: any window that
    contains `at` can be moved later until it starts at its first dose (or at `at`) without
    losing any dose it holds.
    """
    near = sorted((dose for dose in others if abs(dose.given_at - at) < length), key=_given_at)
    best: tuple[DoseGiven, ...] = ()
    for start in [dose.given_at for dose in near if dose.given_at <= at] + [at]:
        members = tuple(dose for dose in near if start <= dose.given_at < start + length)
        if len(members) > len(best):
            best = members
    return best


def _given_at(dose: DoseGiven) -> datetime:
    return dose.given_at


# --- the dose rules ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LimitCheck:
    """What `check_limits` found for one dose under its order.

    `flag` is the `prn_over_limit` flag, or None within the limits. `too_close` holds the
    nearest other dose before and the nearest after (at most one each, in time order) that are
    closer than the minimum interval; `crowded` the other doses of the fullest 24-hour window
    containing the dose, when that window holds more than the order's maximum (else empty).
    """

    flag: Flag | None
    too_close: tuple[DoseGiven, ...] = ()
    crowded: tuple[DoseGiven, ...] = ()

    @property
    def colliding(self) -> tuple[DoseGiven, ...]:
        """Every dose the check names, each once, in time order."""
        named: list[DoseGiven] = []
        for dose in sorted((*self.too_close, *self.crowded), key=_given_at):
            if not any(dose is seen for seen in named):
                named.append(dose)
        return tuple(named)


def check_limits(
    order: PrnOrderRule, doses: Iterable[DoseGiven], given_at: datetime
) -> LimitCheck:
    """Would a dose under `order` given at `given_at` break the order's limits, looking both
    ways in time? (`prn_over_limit`, high.)

    `doses` are the other recorded doses; only those of this order (same `order_id`: all its
    versions) count, before and after `given_at`. The dose is over the limit when:
    - the nearest dose at or before it is less than `min_interval` earlier, or the nearest dose
      after it is less than `min_interval` later (exactly `min_interval` is allowed); or
    - some 24-hour window `[start, start + 24 h)` containing it would hold more than
      `max_doses_per_24h` doses, this one included.
    A limit that is None is not checked (see `prn_limits_missing`).

    The flag's `params` hold what was broken: `min_interval_minutes` with
    `minutes_since_last_dose` and/or `minutes_to_next_dose` (whole minutes, rounded down);
    `max_doses_per_24h` with `doses_in_window` (the doses of the fullest window, this one
    included). Whether the order is in force at `given_at` is not checked here.
    Source: the order itself.
    """
    at = _utc("given_at", given_at)
    others = [dose for dose in doses if dose.order_id == order.order_id]
    params: dict[str, int | str] = {}
    too_close: list[DoseGiven] = []
    interval = order.min_interval
    if interval is not None:
        before = [dose for dose in others if dose.given_at <= at]
        after = [dose for dose in others if dose.given_at > at]
        if before:
            previous = max(before, key=_given_at)
            if at - previous.given_at < interval:
                too_close.append(previous)
                params["minutes_since_last_dose"] = _minutes(at - previous.given_at)
        if after:
            following = min(after, key=_given_at)
            if following.given_at - at < interval:
                too_close.append(following)
                params["minutes_to_next_dose"] = _minutes(following.given_at - at)
        if too_close:
            params["min_interval_minutes"] = _minutes(interval)
    crowded: tuple[DoseGiven, ...] = ()
    limit = order.max_doses_per_24h
    if limit is not None:
        fullest = _fullest_window(others, at, _MAX_DOSE_WINDOW)
        if len(fullest) + 1 > limit:
            crowded = fullest
            params["max_doses_per_24h"] = limit
            params["doses_in_window"] = len(fullest) + 1
    if not params:
        return LimitCheck(None)
    flag = Flag("prn_over_limit", "high", (order.indication,), FrozenMap(params))
    return LimitCheck(flag, tuple(too_close), crowded)


def prn_over_limit(
    order: PrnOrderRule, doses: Iterable[DoseGiven], given_at: datetime
) -> Flag | None:
    """`prn_over_limit` (high): `check_limits(order, doses, given_at).flag`."""
    return check_limits(order, doses, given_at).flag


def prn_frequent(
    doses: Iterable[DoseGiven],
    dose: DoseGiven,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> Flag | None:
    """`prn_frequent` (medium): with `dose`, `prn_frequent_doses` (default 3) or more doses for
    its indication (all orders of the indication together) within some window of
    `prn_frequent_window_hours` (default 24) that contains `dose`, looking both ways in time.

    `doses` are the other recorded doses (`dose` itself, if passed among them, is not counted
    twice). `items` is the indication; `params` has `threshold`, `window_hours` and `doses`
    (the count of the fullest window, `dose` included).
    Source: Swedish palliative practice (review the regular medication); project default.
    """
    window = timedelta(hours=thresholds.prn_frequent_window_hours)
    same = [
        other
        for other in doses
        if other is not dose and other.indication == dose.indication
    ]
    count = len(_fullest_window(same, dose.given_at, window)) + 1
    if count < thresholds.prn_frequent_doses:
        return None
    return Flag(
        "prn_frequent",
        "medium",
        (dose.indication,),
        FrozenMap(
            {
                "threshold": thresholds.prn_frequent_doses,
                "window_hours": thresholds.prn_frequent_window_hours,
                "doses": count,
            }
        ),
    )


def prn_dose_mismatch(
    order: PrnOrderRule, amount: Decimal, unit: str, route: str
) -> Flag | None:
    """`prn_dose_mismatch` (high): a dose given with another amount, unit or route than its
    order.

    - unit: `normalise_unit(unit)` differs from `normalise_unit(order.dose_unit)`. Units are
      never converted; amounts in different units are not compared (the unit alone is named).
    - amount: outside `order.dose`, both ends within (with 2,5-5 mg, 2,5 and 5 are within,
      2,4999 and 5,0001 are not). Not checked when the order's dose is text (`dose` None).
    - route: differs from `order.route`.

    `params` hold each broken part as text: `given_amount`, `ordered_low`, `ordered_high`
    (numbers as `decimal_text`); `given_unit`, `ordered_unit` (normalised); `given_route`,
    `ordered_route`. Raises ValueError for an amount that is not a positive Decimal or an
    unknown route.
    Source: the order itself; guards against entry errors such as a tenfold dose (25 mg
    entered for 2,5 mg).
    """
    _require_amount("amount", amount)
    _require_route(route)
    params: dict[str, int | str] = {}
    given_unit = normalise_unit(unit)
    ordered_unit = normalise_unit(order.dose_unit)
    if given_unit != ordered_unit:
        params["given_unit"] = given_unit
        params["ordered_unit"] = ordered_unit
    elif order.dose is not None and not order.dose.contains(amount):
        params["given_amount"] = decimal_text(amount)
        params["ordered_low"] = decimal_text(order.dose.low)
        params["ordered_high"] = decimal_text(order.dose.high)
    if route != order.route:
        params["given_route"] = route
        params["ordered_route"] = order.route
    if not params:
        return None
    return Flag("prn_dose_mismatch", "high", (order.indication,), FrozenMap(params))


# --- reminder rules ----------------------------------------------------------------------


def prn_missing(
    orders: Iterable[PrnOrderRule],
    now: datetime,
    *,
    end_of_life_since: datetime | None,
) -> Flag | None:
    """`prn_missing` (medium): in the end-of-life phase (brytpunktssamtal recorded at
    `end_of_life_since`, at or before `now`) without an active **parenteral** order (route in
    `PARENTERAL_ROUTES`: s.c. or i.v.) at `now` for each of pain, nausea, anxiety and death
    rattle. An oral, buccal, rectal, nasal or other order does not count.

    `items` lists the indications without one, in that order. Returns None outside the
    end-of-life phase or when all four are covered.
    Source: Socialstyrelsen (target >= 98 % for pain and anxiety); Svenska palliativregistret
    (injection orders); nationella vårdprogrammet (see `PARENTERAL_ROUTES`).
    """
    now = _utc("now", now)
    if not _in_end_of_life(end_of_life_since, now):
        return None
    covered = {
        order.indication
        for order in orders
        if order.route in PARENTERAL_ROUTES and order.is_active(now)
    }
    lacking = tuple(code for code in REQUIRED_PRN_INDICATIONS if code not in covered)
    if not lacking:
        return None
    return Flag("prn_missing", "medium", lacking)


def prn_limits_missing(orders: Iterable[PrnOrderRule], now: datetime) -> Flag | None:
    """`prn_limits_missing` (medium): an order not stopped at `now` (in force, or due to start
    later) lacks its minimum interval or its maximum per 24 h, so its doses cannot be checked.

    Such orders were written before both limits were required. `items` lists their
    indications in the order of `PRN_INDICATIONS`; the flag closes when every such order has
    been changed to have both limits, or stopped.
    Source: the order itself: an order without limits cannot be checked.
    """
    now = _utc("now", now)
    lacking = {
        order.indication
        for order in orders
        if not order.has_limits and (order.stop is None or now < order.stop)
    }
    items = tuple(code for code in PRN_INDICATIONS if code in lacking)
    if not items:
        return None
    return Flag("prn_limits_missing", "medium", items)


def _latest(
    assessments: Iterable[AssessmentSeen], codes: frozenset[str], now: datetime
) -> datetime | None:
    latest: datetime | None = None
    for seen in assessments:
        if (
            seen.instrument in codes
            and seen.observed_at <= now
            and (latest is None or seen.observed_at > latest)
        ):
            latest = seen.observed_at
    return latest


def assessment_overdue(
    assessments: Iterable[AssessmentSeen],
    now: datetime,
    *,
    end_of_life_since: datetime | None = None,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> Flag | None:
    """`assessment_overdue` (info): no IPOS (either version), ESAS-r or Abbey observed within
    the interval before `now`: `assessment_interval_days` (default 7), or
    `assessment_interval_end_of_life_days` (default 2) once the end-of-life phase has begun
    (`end_of_life_since` at or before `now`).

    A patient with no such assessment at all is overdue. `params` has `interval_days`.
    Source: national target that every patient is symptom-rated; the interval is a project
    default, tunable per unit.
    """
    now = _utc("now", now)
    if _in_end_of_life(end_of_life_since, now):
        days = thresholds.assessment_interval_end_of_life_days
    else:
        days = thresholds.assessment_interval_days
    latest = _latest(assessments, SYMPTOM_INSTRUMENTS, now)
    if latest is not None and _in_window(latest, now, timedelta(days=days)):
        return None
    return Flag("assessment_overdue", "info", (), FrozenMap({"interval_days": days}))


_ROAG_ONLY = frozenset({"roag"})


def roag_overdue(
    assessments: Iterable[AssessmentSeen],
    now: datetime,
    *,
    end_of_life_since: datetime | None,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> Flag | None:
    """`roag_overdue` (info): in the end-of-life phase (`end_of_life_since` at or before `now`)
    and no ROAG observed within `roag_interval_days` (default 7) before `now`.

    There is no grace period after the brytpunktssamtal: a patient who enters the end-of-life
    phase without a recent ROAG is due at once. `params` has `interval_days`.
    Source: national target of more than 90 % with a documented mouth assessment.
    """
    now = _utc("now", now)
    if not _in_end_of_life(end_of_life_since, now):
        return None
    days = thresholds.roag_interval_days
    latest = _latest(assessments, _ROAG_ONLY, now)
    if latest is not None and _in_window(latest, now, timedelta(days=days)):
        return None
    return Flag("roag_overdue", "info", (), FrozenMap({"interval_days": days}))
