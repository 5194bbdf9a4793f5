"""Flag rules across records: as-needed doses, missing orders, overdue assessments.

These are pure functions on small typed inputs (never ORM objects); the app's services build
the inputs from the database and decide what to do with the flags.

Time conventions (all rules):
- Every datetime must be timezone-aware; a naive datetime raises ValueError. The input
  dataclasses store their datetimes converted to UTC, and all arithmetic is done in UTC, so
  windows measure elapsed time (a day across a daylight-saving change is still 24 h).
- `now` is passed explicitly; records after `now` are ignored (the rule is evaluated as it
  stood at `now`).
- A window of length W ending at `now` is half-open: it holds the instants t with
  `now - W < t <= now`. A dose given exactly 24 h before `now` is outside a 24-hour window; an
  assessment observed exactly 7 days before `now` is outside a 7-day interval (so it is due).
- A minimum interval I between doses is met when `now - last_dose >= I`.

Return values: `prn_frequent` returns a list (one flag per indication); every other rule
returns one `Flag` or None.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ._frozen import FrozenMap
from .flags import DEFAULT_THRESHOLDS, Flag, Thresholds
from .i18n import N_
from .instruments import INSTRUMENTS

__all__ = [
    "PRN_INDICATIONS",
    "REQUIRED_PRN_INDICATIONS",
    "SYMPTOM_INSTRUMENTS",
    "AssessmentSeen",
    "DoseGiven",
    "PrnOrderRule",
    "assessment_overdue",
    "prn_frequent",
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

#: Instruments that count as structured symptom rating for `assessment_overdue`.
SYMPTOM_INSTRUMENTS: frozenset[str] = frozenset({"ipos_patient", "ipos_staff", "esas_r", "abbey"})

_MAX_DOSE_WINDOW = timedelta(hours=24)  # an order's limit is "max doses per 24 h"


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


@dataclass(frozen=True, slots=True)
class PrnOrderRule:
    """What the rules need of an as-needed order.

    Active from `start` (inclusive) until `stop` (exclusive; None: not stopped).
    `max_doses_per_24h` and `min_interval` are the order's limits (None: no such limit).
    """

    order_id: str
    indication: str
    start: datetime
    stop: datetime | None = None
    max_doses_per_24h: int | None = None
    min_interval: timedelta | None = None

    def __post_init__(self) -> None:
        _require_indication(self.indication)
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

    def is_active(self, at: datetime) -> bool:
        """True if the order is in force at `at` (start <= at < stop)."""
        at = _utc("at", at)
        return self.start <= at and (self.stop is None or at < self.stop)


@dataclass(frozen=True, slots=True)
class DoseGiven:
    """One recorded as-needed administration: which order, for what indication, when."""

    order_id: str
    indication: str
    given_at: datetime

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


def prn_frequent(
    doses: Iterable[DoseGiven],
    now: datetime,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> list[Flag]:
    """`prn_frequent` (medium): `prn_frequent_doses` (default 3) or more as-needed doses for the
    same indication within the last `prn_frequent_window_hours` (default 24) before `now`.

    Returns one flag per such indication, in the order of `PRN_INDICATIONS`; `items` is the
    indication code; `params` has `threshold`, `window_hours` and `doses` (the count).
    Source: Swedish palliative practice (review the regular medication); project default.
    """
    now = _utc("now", now)
    window = timedelta(hours=thresholds.prn_frequent_window_hours)
    counts = dict.fromkeys(PRN_INDICATIONS, 0)
    for dose in doses:
        if _in_window(dose.given_at, now, window):
            counts[dose.indication] += 1
    return [
        Flag(
            "prn_frequent",
            "medium",
            (indication,),
            FrozenMap(
                {
                    "threshold": thresholds.prn_frequent_doses,
                    "window_hours": thresholds.prn_frequent_window_hours,
                    "doses": count,
                }
            ),
        )
        for indication, count in counts.items()
        if count >= thresholds.prn_frequent_doses
    ]


def prn_over_limit(order: PrnOrderRule, doses: Iterable[DoseGiven], now: datetime) -> Flag | None:
    """`prn_over_limit` (high): would a dose under `order` given at `now` break its limits?

    Call it before recording the dose, so the app can warn and ask for a reason. Only doses of
    this order (same `order_id`) given at or before `now` count. The dose is over the limit if
    the order already has `max_doses_per_24h` doses in the window (now - 24 h, now], or if the
    latest earlier dose was less than `min_interval` before `now` (exactly `min_interval` is
    allowed). Returns None when within the limits.

    `params` holds the broken limits: `max_doses_per_24h` with `doses_in_24h`, and/or
    `min_interval_minutes` with `minutes_since_last_dose` (rounded down).

    Whether the order is in force at all is not checked here: offer only orders for which
    `order.is_active(now)` is true.
    """
    now = _utc("now", now)
    earlier = [dose.given_at for dose in doses if dose.order_id == order.order_id]
    earlier = [given_at for given_at in earlier if given_at <= now]
    params: dict[str, int | str] = {}
    limit = order.max_doses_per_24h
    if limit is not None:
        in_window = sum(1 for given_at in earlier if _in_window(given_at, now, _MAX_DOSE_WINDOW))
        if in_window >= limit:
            params["max_doses_per_24h"] = limit
            params["doses_in_24h"] = in_window
    interval = order.min_interval
    if interval is not None and earlier:
        since_last = now - max(earlier)
        if since_last < interval:
            params["min_interval_minutes"] = int(interval.total_seconds() // 60)
            params["minutes_since_last_dose"] = int(since_last.total_seconds() // 60)
    if not params:
        return None
    return Flag("prn_over_limit", "high", (order.indication,), FrozenMap(params))


def prn_missing(
    orders: Iterable[PrnOrderRule],
    now: datetime,
    *,
    end_of_life_since: datetime | None,
) -> Flag | None:
    """`prn_missing` (medium): in the end-of-life phase (brytpunktssamtal recorded at
    `end_of_life_since`, at or before `now`) without an active order at `now` for each of
    pain, nausea, anxiety and death rattle.

    `items` lists the indications without an active order, in that order. Returns None outside
    the end-of-life phase or when all four are covered.
    Source: Socialstyrelsen (target >= 98 % for pain and anxiety); Svenska palliativregistret.
    """
    now = _utc("now", now)
    if not _in_end_of_life(end_of_life_since, now):
        return None
    covered = {order.indication for order in orders if order.is_active(now)}
    lacking = tuple(code for code in REQUIRED_PRN_INDICATIONS if code not in covered)
    if not lacking:
        return None
    return Flag("prn_missing", "medium", lacking)


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
