"""Rules across records: as-needed orders and doses, overdue assessments; both sides of every
boundary.

Conventions under test (pallapp/scoring/records.py):
- reminder rules: a window of length W ending at `now` is (now - W, now];
- dose rules look both ways in time: the minimum interval must hold to the nearest dose before
  and after (exactly the interval is allowed), and every window [start, start + W) containing
  the dose counts: doses share a window when they are less than W apart.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from pallapp.scoring import (
    FLAG_CODES,
    PARENTERAL_ROUTES,
    PRN_INDICATIONS,
    PRN_ROUTES,
    REQUIRED_PRN_INDICATIONS,
    AssessmentSeen,
    DoseGiven,
    DoseRange,
    Flag,
    InvalidDose,
    LimitCheck,
    PrnOrderRule,
    Thresholds,
    assessment_overdue,
    check_limits,
    decimal_text,
    normalise_unit,
    parse_amount,
    parse_dose,
    prn_dose_mismatch,
    prn_frequent,
    prn_limits_missing,
    prn_missing,
    prn_over_limit,
    roag_overdue,
)

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
NAIVE = datetime(2026, 3, 10, 12, 0)
TICK = timedelta(microseconds=1)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def dose(ago: timedelta, indication: str = "pain", order_id: str = "o1") -> DoseGiven:
    return DoseGiven(order_id=order_id, indication=indication, given_at=NOW - ago)


def at(hour: int, minute: int = 0, indication: str = "pain", order_id: str = "o1") -> DoseGiven:
    """A dose on 10 March 2026 at hour:minute UTC (hours past 23 run into the next day)."""
    moment = datetime(2026, 3, 10, tzinfo=UTC) + timedelta(hours=hour, minutes=minute)
    return DoseGiven(order_id, indication, moment, dose_id=f"{hour:02d}:{minute:02d}")


def order(**changes: object) -> PrnOrderRule:
    """Max 3 doses per 24 h, at least 4 h apart; 2,5 mg s.c."""
    values: dict[str, object] = {
        "order_id": "o1",
        "indication": "pain",
        "start": NOW - 10 * DAY,
        "max_doses_per_24h": 3,
        "min_interval": 4 * HOUR,
        "route": "sc",
        "dose": DoseRange(Decimal("2.5"), Decimal("2.5")),
        "dose_unit": "mg",
    }
    values.update(changes)
    return PrnOrderRule(**values)  # type: ignore[arg-type]


def only_interval(**changes: object) -> PrnOrderRule:
    return order(max_doses_per_24h=None, **changes)


def only_count(limit: int, **changes: object) -> PrnOrderRule:
    return order(min_interval=None, max_doses_per_24h=limit, **changes)


# --- prn_over_limit: the example from the issue --------------------------------------------


def test_a_back_dated_dose_before_three_existing_ones_is_over_both_limits() -> None:
    # Max 3 per 24 h, at least 4 h apart; doses at 10:00, 14:00 and 18:00. A dose entered for
    # 09:00 is 60 min before the next dose (60 < 240) and the 4th within the 24 h from 09:00
    # (09:00, 10:00, 14:00, 18:00: 4 > 3).
    existing = [at(10), at(14), at(18)]
    check = check_limits(order(), existing, at(9).given_at)
    assert check.flag == Flag(
        "prn_over_limit",
        "high",
        ("pain",),
        {
            "min_interval_minutes": 240,
            "minutes_to_next_dose": 60,
            "max_doses_per_24h": 3,
            "doses_in_window": 4,
        },
    )
    assert check.too_close == (existing[0],)
    assert check.crowded == tuple(existing)
    assert [d.dose_id for d in check.colliding] == ["10:00", "14:00", "18:00"]
    assert prn_over_limit(order(), existing, at(9).given_at) == check.flag


def test_within_limits_names_nothing() -> None:
    check = check_limits(order(), [at(6), at(14)], at(10).given_at)  # 4 h either side, 3 in 24 h
    assert check == LimitCheck(None)
    assert check.colliding == ()
    assert prn_over_limit(order(), [], NOW) is None


# --- the minimum interval, on both sides ---------------------------------------------------


def test_minimum_interval_before_the_dose_both_sides_of_the_boundary() -> None:
    # Exactly 4 h after the previous dose: 240 >= 240, allowed.
    assert prn_over_limit(only_interval(), [at(6)], at(10).given_at) is None
    # One minute less: 239 < 240.
    flag = prn_over_limit(only_interval(), [at(6, 1)], at(10).given_at)
    assert flag is not None
    assert flag.params == {"min_interval_minutes": 240, "minutes_since_last_dose": 239}


def test_minimum_interval_after_the_dose_both_sides_of_the_boundary() -> None:
    # A dose entered for 10:00 when one is recorded at 14:00: exactly 4 h before it, allowed.
    assert prn_over_limit(only_interval(), [at(14)], at(10).given_at) is None
    # At 10:01 it is 3 h 59 min before the next: 239 < 240.
    check = check_limits(only_interval(), [at(14)], at(10, 1).given_at)
    assert check.flag is not None
    assert check.flag.params == {"min_interval_minutes": 240, "minutes_to_next_dose": 239}
    assert [d.dose_id for d in check.too_close] == ["14:00"]


def test_a_dose_between_two_existing_ones() -> None:
    # 06:00 and 14:00: a dose at 10:00 is exactly 4 h from both, allowed.
    assert prn_over_limit(only_interval(), [at(6), at(14)], at(10).given_at) is None
    # 07:00 and 13:00: at 10:00 it is 3 h after one and 3 h before the other; both are named.
    check = check_limits(only_interval(), [at(13), at(7)], at(10).given_at)
    assert check.flag is not None
    assert check.flag.params == {
        "min_interval_minutes": 240,
        "minutes_since_last_dose": 180,
        "minutes_to_next_dose": 180,
    }
    assert [d.dose_id for d in check.too_close] == ["07:00", "13:00"]


def test_only_the_nearest_dose_on_each_side_is_compared() -> None:
    # 02:00 and 06:00 before, 14:00 and 18:00 after a dose at 10:00: the nearest are 4 h away.
    assert prn_over_limit(only_interval(), [at(2), at(6), at(14), at(18)], at(10).given_at) is None


def test_a_dose_at_the_same_moment_is_too_close() -> None:
    flag = prn_over_limit(only_interval(), [dose(timedelta(0))], NOW)
    assert flag is not None
    assert flag.params == {"min_interval_minutes": 240, "minutes_since_last_dose": 0}


# --- the maximum per 24 h: every window that contains the dose ------------------------------


def test_windows_at_exactly_24_hours_before() -> None:
    # At most 2 per 24 h; doses at 10:00 and 22:00. A dose the next day at 10:00 is exactly
    # 24 h after the first: they never share a window, so the fullest window holds 22:00 and
    # the new dose, 2 <= 2.
    existing = [at(10), at(22)]
    assert prn_over_limit(only_count(2), existing, at(34).given_at) is None
    # One minute earlier (09:59 next day), all three fit within 24 h: 3 > 2.
    check = check_limits(only_count(2), existing, at(33, 59).given_at)
    assert check.flag is not None
    assert check.flag.params == {"max_doses_per_24h": 2, "doses_in_window": 3}
    assert check.crowded == tuple(existing)


def test_windows_at_exactly_24_hours_after() -> None:
    # Doses at 22:00 and 10:00 the next day; a back-dated dose at 10:00 the first day is
    # exactly 24 h before the later one: 2 <= 2. At 10:01 it is 23 h 59 min before it: 3 > 2.
    existing = [at(22), at(34)]
    assert prn_over_limit(only_count(2), existing, at(10).given_at) is None
    flag = prn_over_limit(only_count(2), existing, at(10, 1).given_at)
    assert flag is not None
    assert flag.params == {"max_doses_per_24h": 2, "doses_in_window": 3}


def test_a_window_that_neither_ends_nor_starts_at_the_dose() -> None:
    # At most 2 per 24 h; doses 12 h before and 11 h after a dose at 12:00. The 24 h ending at
    # the dose hold 2 (00:00, 12:00), the 24 h starting at it hold 2 (12:00, 23:00), but the
    # window from 00:00 to 24:00 holds all 3: over the limit.
    existing = [at(0), at(23)]
    flag = prn_over_limit(only_count(2), existing, at(12).given_at)
    assert flag is not None
    assert flag.params == {"max_doses_per_24h": 2, "doses_in_window": 3}
    # 13 h before and 11 h after: 24 h apart, never in one window with each other.
    assert prn_over_limit(only_count(2), [at(-1), at(23)], at(12).given_at) is None


def test_the_fullest_window_is_named() -> None:
    # At most 3 per 24 h. Before the dose at 12:00: 00:01 and 06:00; after it: 20:00, 23:00
    # and 11:00 the next day. The window from 06:00 holds 06:00, 12:00, 20:00, 23:00 (4); the
    # one from 12:00 holds 12:00, 20:00, 23:00, 11:00 (4); from 00:01: 00:01, 06:00, 12:00,
    # 20:00, 23:00 (5), the fullest.
    existing = [at(0, 1), at(6), at(20), at(23), at(35)]
    check = check_limits(only_count(3), existing, at(12).given_at)
    assert check.flag is not None
    assert check.flag.params["doses_in_window"] == 5
    assert [d.dose_id for d in check.crowded] == ["00:01", "06:00", "20:00", "23:00"]


def test_the_nth_dose_is_allowed_the_next_is_not() -> None:
    # Max 3: two other doses within 24 h -> this is the 3rd, allowed; three -> the 4th, over.
    assert prn_over_limit(only_count(3), [at(1), at(2)], at(3).given_at) is None
    flag = prn_over_limit(only_count(3), [at(1), at(2), at(4)], at(3).given_at)
    assert flag is not None
    assert flag.params == {"max_doses_per_24h": 3, "doses_in_window": 4}


def test_a_dose_named_twice_is_listed_once() -> None:
    # 10:00 is both too close (1 h) and in the crowded window.
    check = check_limits(order(max_doses_per_24h=1), [at(10)], at(11).given_at)
    assert [d.dose_id for d in check.too_close] == ["10:00"]
    assert [d.dose_id for d in check.crowded] == ["10:00"]
    assert [d.dose_id for d in check.colliding] == ["10:00"]


def test_only_doses_of_this_order_count_before_and_after() -> None:
    others = [at(9, order_id="o2"), at(10, 30, order_id="o2"), at(11, order_id="o2")]
    assert prn_over_limit(order(), others, at(10).given_at) is None


def test_without_limits_nothing_is_checked() -> None:
    unlimited = order(max_doses_per_24h=None, min_interval=None)
    assert prn_over_limit(unlimited, [dose(timedelta(0))] * 10, NOW) is None
    assert not unlimited.has_limits
    assert not order(max_doses_per_24h=None).has_limits
    assert not order(min_interval=None).has_limits
    assert order().has_limits


def test_other_time_zones_and_daylight_saving_use_elapsed_time() -> None:
    stockholm = ZoneInfo("Europe/Stockholm")
    # 29 March 2026: clocks go from 02:00 to 03:00 in Sweden, so this wall-clock day is 23 h.
    before = datetime(2026, 3, 28, 12, 0, tzinfo=stockholm)
    after = datetime(2026, 3, 29, 12, 0, tzinfo=stockholm)
    assert after.astimezone(UTC) - before.astimezone(UTC) == 23 * HOUR
    existing = [DoseGiven("o1", "pain", before + k * HOUR) for k in (0, 1)]
    assert existing[0].given_at == before  # the same instant, stored in UTC
    assert existing[0].given_at.tzinfo is UTC
    # 23 h elapsed: all three within one 24-hour window.
    flag = prn_over_limit(only_count(2), existing, after.astimezone(timezone(-5 * HOUR)))
    assert flag is not None
    assert flag.params["doses_in_window"] == 3


# --- prn_frequent: any window that contains the dose ---------------------------------------


def test_prn_frequent_a_third_dose_entered_before_two_existing_ones() -> None:
    # 10:00 and 14:00 recorded; a dose entered for 09:00: 3 within 24 h (INSTRUMENTS.md: >= 3).
    flag = prn_frequent([at(10), at(14)], at(9))
    assert flag == Flag(
        "prn_frequent",
        "medium",
        ("pain",),
        {"threshold": 3, "window_hours": 24, "doses": 3},
    )
    assert prn_frequent([at(10)], at(9)) is None  # two doses: 2 < 3


def test_prn_frequent_windows_at_exactly_24_hours() -> None:
    # Others at 10:00 and 10:00 the next day; the dose at 10:00 + 1 h: the first and the last
    # are exactly 24 h apart, so no window holds all three: 2 < 3.
    assert prn_frequent([at(10), at(34)], at(11)) is None
    # The later one a minute earlier: 10:00, 11:00, 09:59 next day all within 24 h: 3.
    flag = prn_frequent([at(10), at(33, 59)], at(11))
    assert flag is not None
    assert flag.params["doses"] == 3


def test_prn_frequent_a_window_around_the_dose() -> None:
    # 11 h before and 12 h after the dose: 23 h apart, one window holds all three.
    assert prn_frequent([at(1), at(24)], at(12)) is not None
    # 12 h before and 12 h after: 24 h apart, never together.
    assert prn_frequent([at(0), at(24)], at(12)) is None


def test_prn_frequent_counts_the_indication_over_all_its_orders() -> None:
    doses = [
        at(9, indication="anxiety", order_id="o2"),
        at(10, indication="anxiety", order_id="o3"),
        at(10, indication="pain"),
        at(11, indication="nausea"),
    ]
    flag = prn_frequent(doses, at(12, indication="anxiety", order_id="o2"))
    assert flag is not None
    assert (flag.items, flag.params["doses"]) == (("anxiety",), 3)
    assert prn_frequent(doses, at(12, indication="nausea")) is None


def test_prn_frequent_does_not_count_the_dose_twice() -> None:
    new = at(12)
    assert prn_frequent([at(10), new], new) is None  # 10:00 and 12:00: 2 < 3


def test_prn_frequent_tunable() -> None:
    unit = Thresholds(prn_frequent_doses=2, prn_frequent_window_hours=48)
    flag = prn_frequent([at(40)], at(0), unit)  # 40 h apart: within 48 h
    assert flag is not None
    assert flag.params == {"threshold": 2, "window_hours": 48, "doses": 2}
    assert prn_frequent([at(40)], at(0), Thresholds(prn_frequent_doses=2)) is None


# --- doses as numbers ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("2,5", "2.5"),
        ("2.5", "2.5"),
        (" 10 ", "10"),
        ("0,5", "0.5"),
        ("2,50", "2.5"),
        ("007", "7"),
        ("0,0001", "0.0001"),  # 4 decimals: the most the database keeps exactly
        ("0,00010", "0.0001"),  # trailing zeros are not decimals
        ("99999999", "99999999"),  # 8 digits
    ],
)
def test_parse_amount_reads_a_number_with_comma_or_point(text: str, value: str) -> None:
    assert parse_amount(text) == Decimal(value)
    assert parse_dose(text) == DoseRange(Decimal(value), Decimal(value))


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("abc", "not_a_number"),
        ("2,5 mg", "not_a_number"),
        (",5", "not_a_number"),
        ("2,5,5", "not_a_number"),
        ("1e3", "not_a_number"),
        ("-1", "not_a_number"),
        ("NaN", "not_a_number"),
        ("Infinity", "not_a_number"),
        ("\u0663", "not_a_number"),  # an Arabic-Indic digit three
        ("0", "not_positive"),
        ("0,0", "not_positive"),
        ("0,00001", "too_precise"),
        ("100000000", "too_large"),
    ],
)
def test_parse_amount_refuses_anything_else(text: str, reason: str) -> None:
    with pytest.raises(InvalidDose) as refused:
        parse_amount(text)
    assert refused.value.reason == reason
    assert isinstance(refused.value, ValueError)


def test_parse_amount_refuses_a_range_and_non_text() -> None:
    with pytest.raises(InvalidDose, match="not_a_number"):
        parse_amount("2,5-5")
    with pytest.raises(TypeError, match="as text"):
        parse_amount(2.5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [
        ("2,5–5", "2.5", "5"),
        ("2,5-5", "2.5", "5"),
        ("2.5 — 5", "2.5", "5"),
        ("1−2", "1", "2"),
        (" 1 - 2 ", "1", "2"),
        ("2,5-2,5", "2.5", "2.5"),
    ],
)
def test_parse_dose_reads_a_range(text: str, low: str, high: str) -> None:
    assert parse_dose(text) == DoseRange(Decimal(low), Decimal(high))


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("5-2,5", "range_reversed"),
        ("0-5", "not_positive"),
        ("2,5-", "not_a_number"),
        ("2,5–5 mg", "not_a_number"),
        ("2,5 till 5", "not_a_number"),
        ("1-2-3", "not_a_number"),
        ("", "empty"),
        ("1-0,00001", "too_precise"),
    ],
)
def test_parse_dose_refuses_anything_else(text: str, reason: str) -> None:
    with pytest.raises(InvalidDose) as refused:
        parse_dose(text)
    assert refused.value.reason == reason


def test_dose_range_includes_both_ends() -> None:
    ordered = DoseRange(Decimal("2.5"), Decimal("5"))
    assert ordered.contains(Decimal("2.5"))
    assert ordered.contains(Decimal("5.0000"))
    assert not ordered.contains(Decimal("2.4999"))
    assert not ordered.contains(Decimal("5.0001"))


@pytest.mark.parametrize(
    ("low", "high"),
    [
        (Decimal("5"), Decimal("2.5")),
        (Decimal("0"), Decimal("1")),
        (Decimal("-1"), Decimal("1")),
        (Decimal("NaN"), Decimal("1")),
        (Decimal("1"), Decimal("Infinity")),
        (2.5, Decimal("5")),
    ],
)
def test_dose_range_rejects_nonsense(low: object, high: object) -> None:
    with pytest.raises(ValueError, match="dose range|positive Decimal"):
        DoseRange(low, high)  # type: ignore[arg-type]


def test_decimal_text() -> None:
    assert decimal_text(Decimal("2.5000")) == "2.5"
    assert decimal_text(Decimal("100")) == "100"
    assert decimal_text(Decimal("0.0001")) == "0.0001"


@pytest.mark.parametrize(
    ("written", "compared"),
    [
        ("mg", "mg"),
        ("MG", "mg"),
        (" mg. ", "mg"),
        ("milligram", "mg"),
        ("ml", "ml"),
        ("mL", "ml"),
        ("µg", "µg"),  # the micro sign
        ("μg", "µg"),  # the Greek letter mu
        ("mikrog", "µg"),
        ("Mikrogram", "µg"),
        ("mcg", "µg"),
        ("E", "E"),
        ("e", "E"),
        ("enheter", "E"),
        ("IE", "ie"),  # not the same as E: never merged
        ("mg/ml", "mg/ml"),
        ("mg / ml", "mg/ml"),
        ("droppar", "droppar"),
    ],
)
def test_normalise_unit(written: str, compared: str) -> None:
    assert normalise_unit(written) == compared


# --- prn_dose_mismatch ---------------------------------------------------------------------


def test_the_ordered_dose_is_not_a_mismatch() -> None:
    assert prn_dose_mismatch(order(), Decimal("2.5"), "mg", "sc") is None
    assert prn_dose_mismatch(order(), Decimal("2.50"), " MG ", "sc") is None


def test_a_tenfold_dose_is_a_mismatch() -> None:
    # 25 mg given against an order of 2,5 mg: outside [2,5, 2,5].
    flag = prn_dose_mismatch(order(), Decimal("25"), "mg", "sc")
    assert flag == Flag(
        "prn_dose_mismatch",
        "high",
        ("pain",),
        {"given_amount": "25", "ordered_low": "2.5", "ordered_high": "2.5"},
    )


def test_a_range_includes_both_ends_exactly() -> None:
    ranged = order(dose=DoseRange(Decimal("2.5"), Decimal("5")))
    for within in ("2.5", "3", "5"):
        assert prn_dose_mismatch(ranged, Decimal(within), "mg", "sc") is None
    for outside in ("2.4999", "5.0001"):
        flag = prn_dose_mismatch(ranged, Decimal(outside), "mg", "sc")
        assert flag is not None
        assert flag.params["given_amount"] == outside


def test_another_unit_is_a_mismatch_and_amounts_are_not_compared_across_units() -> None:
    assert prn_dose_mismatch(order(dose_unit="mikrog"), Decimal("2.5"), "µg", "sc") is None
    assert prn_dose_mismatch(order(dose_unit="E"), Decimal("2.5"), "enheter", "sc") is None
    flag = prn_dose_mismatch(order(), Decimal("0.25"), "ml", "sc")
    assert flag is not None
    assert flag.params == {"given_unit": "ml", "ordered_unit": "mg"}
    ie = prn_dose_mismatch(order(dose_unit="E"), Decimal("2.5"), "IE", "sc")
    assert ie is not None
    assert ie.params == {"given_unit": "ie", "ordered_unit": "E"}


def test_another_route_is_a_mismatch_alone_or_with_the_amount() -> None:
    flag = prn_dose_mismatch(order(), Decimal("2.5"), "mg", "iv")
    assert flag is not None
    assert flag.params == {"given_route": "iv", "ordered_route": "sc"}
    both = prn_dose_mismatch(order(), Decimal("5"), "mg", "po")
    assert both is not None
    assert set(both.params) == {
        "given_amount",
        "ordered_low",
        "ordered_high",
        "given_route",
        "ordered_route",
    }


def test_a_dose_written_as_text_is_not_compared_but_unit_and_route_are() -> None:
    text_order = order(dose=None)
    assert prn_dose_mismatch(text_order, Decimal("250"), "mg", "sc") is None
    flag = prn_dose_mismatch(text_order, Decimal("250"), "ml", "sc")
    assert flag is not None
    assert set(flag.params) == {"given_unit", "ordered_unit"}


@pytest.mark.parametrize("amount", [2.5, 2, Decimal("0"), Decimal("-2.5"), Decimal("NaN"), "2,5"])
def test_prn_dose_mismatch_rejects_amounts_that_are_not_positive_decimals(amount: object) -> None:
    with pytest.raises(ValueError, match="positive Decimal"):
        prn_dose_mismatch(order(), amount, "mg", "sc")  # type: ignore[arg-type]


def test_prn_dose_mismatch_rejects_an_unknown_route() -> None:
    with pytest.raises(ValueError, match="unknown route"):
        prn_dose_mismatch(order(), Decimal("2.5"), "mg", "im")


# --- prn_limits_missing --------------------------------------------------------------------


def test_prn_limits_missing_none_when_every_order_has_both_limits() -> None:
    assert prn_limits_missing([order(), order(order_id="o2", indication="nausea")], NOW) is None
    assert prn_limits_missing([], NOW) is None


def test_prn_limits_missing_names_the_indications_in_order() -> None:
    orders = [
        order(order_id="a", indication="anxiety", min_interval=None),
        order(order_id="b", indication="pain", max_doses_per_24h=None),
        order(order_id="c", indication="pain", max_doses_per_24h=None, min_interval=None),
        order(order_id="d", indication="nausea"),
    ]
    assert prn_limits_missing(orders, NOW) == Flag(
        "prn_limits_missing", "medium", ("pain", "anxiety")
    )


def test_prn_limits_missing_counts_orders_not_stopped_at_now() -> None:
    unlimited = {"max_doses_per_24h": None, "min_interval": None}
    assert prn_limits_missing([order(stop=NOW, **unlimited)], NOW) is None  # stopped at now
    assert prn_limits_missing([order(stop=NOW + TICK, **unlimited)], NOW) is not None
    later = order(start=NOW + DAY, **unlimited)  # due to start tomorrow: still to be changed
    assert prn_limits_missing([later], NOW) is not None


# --- prn_missing --------------------------------------------------------------------------


def _full_set(start: datetime = NOW - DAY, route: str = "sc") -> list[PrnOrderRule]:
    return [
        order(order_id=indication, indication=indication, start=start, route=route)
        for indication in REQUIRED_PRN_INDICATIONS
    ]


def test_prn_missing_not_in_end_of_life() -> None:
    assert prn_missing([], NOW, end_of_life_since=None) is None
    assert prn_missing([], NOW, end_of_life_since=NOW + TICK) is None


def test_prn_missing_all_four_present() -> None:
    assert prn_missing(_full_set(), NOW, end_of_life_since=NOW - DAY) is None
    assert prn_missing(_full_set(route="iv"), NOW, end_of_life_since=NOW - DAY) is None


def test_prn_missing_fires_from_the_moment_of_brytpunktssamtal() -> None:
    flag = prn_missing([], NOW, end_of_life_since=NOW)
    assert flag == Flag("prn_missing", "medium", REQUIRED_PRN_INDICATIONS)


def test_prn_missing_lists_what_is_missing_in_order() -> None:
    orders = [o for o in _full_set() if o.indication not in {"nausea", "death_rattle"}]
    orders.append(order(order_id="x", indication="dyspnoea"))  # not one of the four
    flag = prn_missing(orders, NOW, end_of_life_since=NOW - DAY)
    assert flag is not None
    assert flag.items == ("nausea", "death_rattle")


@pytest.mark.parametrize("route", ["po", "buccal", "rectal", "nasal", "other"])
def test_prn_missing_only_parenteral_orders_count(route: str) -> None:
    orders = _full_set()
    orders[0] = order(order_id="p", indication="pain", start=NOW - DAY, route=route)
    flag = prn_missing(orders, NOW, end_of_life_since=NOW - DAY)
    assert flag is not None
    assert flag.items == ("pain",)
    # The same indication with a parenteral order as well: covered.
    orders.append(order(order_id="q", indication="pain", start=NOW - DAY, route="iv"))
    assert prn_missing(orders, NOW, end_of_life_since=NOW - DAY) is None


def test_parenteral_routes_are_sc_and_iv() -> None:
    assert frozenset({"sc", "iv"}) == PARENTERAL_ROUTES
    assert set(PARENTERAL_ROUTES) < set(PRN_ROUTES)


def test_prn_missing_only_active_orders_count() -> None:
    orders = _full_set()
    orders[0] = order(order_id="p", indication="pain", start=NOW - DAY, stop=NOW)  # stopped
    orders[1] = order(order_id="n", indication="nausea", start=NOW + TICK)  # not yet started
    flag = prn_missing(orders, NOW, end_of_life_since=NOW - DAY)
    assert flag is not None
    assert flag.items == ("pain", "nausea")
    # Just before the stop, and exactly at the start, the orders are active.
    still = _full_set()
    still[0] = order(order_id="p", indication="pain", start=NOW - DAY, stop=NOW + TICK)
    still[1] = order(order_id="n", indication="nausea", start=NOW)
    assert prn_missing(still, NOW, end_of_life_since=NOW - DAY) is None


# --- assessment_overdue -------------------------------------------------------------------


def seen(instrument: str, ago: timedelta) -> AssessmentSeen:
    return AssessmentSeen(instrument=instrument, observed_at=NOW - ago)


@pytest.mark.parametrize("instrument", ["ipos_patient", "ipos_staff", "esas_r", "abbey"])
def test_assessment_overdue_boundary_7_days(instrument: str) -> None:
    assert assessment_overdue([seen(instrument, 7 * DAY - TICK)], NOW) is None
    flag = assessment_overdue([seen(instrument, 7 * DAY)], NOW)
    assert flag == Flag("assessment_overdue", "info", (), {"interval_days": 7})


def test_assessment_overdue_no_assessment_at_all() -> None:
    assert assessment_overdue([], NOW) is not None


def test_assessment_overdue_roag_does_not_count_and_latest_wins() -> None:
    assert assessment_overdue([seen("roag", HOUR)], NOW) is not None
    history = [seen("esas_r", 20 * DAY), seen("abbey", DAY), seen("ipos_staff", 9 * DAY)]
    assert assessment_overdue(history, NOW) is None


def test_assessment_overdue_ignores_assessments_after_now() -> None:
    assert assessment_overdue([seen("esas_r", -HOUR)], NOW) is not None


def test_assessment_overdue_end_of_life_interval() -> None:
    eol = NOW - 10 * DAY
    assert assessment_overdue([seen("esas_r", 2 * DAY - TICK)], NOW, end_of_life_since=eol) is None
    flag = assessment_overdue([seen("esas_r", 2 * DAY)], NOW, end_of_life_since=eol)
    assert flag is not None
    assert flag.params == {"interval_days": 2}
    # A brytpunktssamtal planned for later does not shorten the interval yet.
    later = NOW + TICK
    assert assessment_overdue([seen("esas_r", 2 * DAY)], NOW, end_of_life_since=later) is None


def test_assessment_overdue_tunable() -> None:
    unit = Thresholds(assessment_interval_days=14, assessment_interval_end_of_life_days=1)
    assert assessment_overdue([seen("abbey", 13 * DAY)], NOW, thresholds=unit) is None
    flag = assessment_overdue(
        [seen("abbey", DAY)], NOW, end_of_life_since=NOW - DAY, thresholds=unit
    )
    assert flag is not None
    assert flag.params == {"interval_days": 1}


# --- roag_overdue -------------------------------------------------------------------------


def test_roag_overdue_only_in_end_of_life() -> None:
    assert roag_overdue([], NOW, end_of_life_since=None) is None
    assert roag_overdue([], NOW, end_of_life_since=NOW + TICK) is None
    assert roag_overdue([], NOW, end_of_life_since=NOW) == Flag(
        "roag_overdue", "info", (), {"interval_days": 7}
    )


def test_roag_overdue_boundary_7_days() -> None:
    eol = NOW - 30 * DAY
    assert roag_overdue([seen("roag", 7 * DAY - TICK)], NOW, end_of_life_since=eol) is None
    assert roag_overdue([seen("roag", 7 * DAY)], NOW, end_of_life_since=eol) is not None


def test_roag_overdue_other_instruments_do_not_count() -> None:
    history = [seen("esas_r", HOUR), seen("abbey", HOUR), seen("roag", 8 * DAY)]
    assert roag_overdue(history, NOW, end_of_life_since=NOW - DAY) is not None


def test_roag_overdue_tunable() -> None:
    unit = Thresholds(roag_interval_days=3)
    flag = roag_overdue([seen("roag", 3 * DAY)], NOW, end_of_life_since=NOW, thresholds=unit)
    assert flag is not None
    assert flag.params == {"interval_days": 3}


# --- time zones and input validation ------------------------------------------------------


def test_other_time_zones_compare_by_instant() -> None:
    stockholm = ZoneInfo("Europe/Stockholm")
    new = DoseGiven("o1", "pain", NOW.astimezone(stockholm))  # 13:00 CET
    exactly_24h = DoseGiven("o1", "pain", (NOW - 24 * HOUR).astimezone(timezone(HOUR * -5)))
    assert prn_frequent([dose(HOUR), exactly_24h], new) is None  # 2 in any 24 h
    assert prn_frequent([dose(HOUR), dose(2 * HOUR)], new) is not None


def test_daylight_saving_change_uses_elapsed_time_for_prn_frequent() -> None:
    stockholm = ZoneInfo("Europe/Stockholm")
    # 29 March 2026: clocks go from 02:00 to 03:00 in Sweden, so this wall-clock day is 23 h.
    before = datetime(2026, 3, 28, 12, 0, tzinfo=stockholm)
    after = datetime(2026, 3, 29, 12, 0, tzinfo=stockholm)
    doses = [DoseGiven("o1", "pain", before + k * HOUR) for k in (0, 1)]
    # 23 h elapsed: all three inside one 24-hour window.
    flag = prn_frequent(doses, DoseGiven("o1", "pain", after))
    assert flag is not None
    assert flag.params["doses"] == 3


@pytest.mark.parametrize(
    "call",
    [
        lambda: prn_over_limit(order(), [], NAIVE),
        lambda: check_limits(order(), [], NAIVE),
        lambda: prn_limits_missing([], NAIVE),
        lambda: prn_missing([], NAIVE, end_of_life_since=None),
        lambda: prn_missing([], NOW, end_of_life_since=NAIVE),
        lambda: assessment_overdue([], NAIVE),
        lambda: assessment_overdue([], NOW, end_of_life_since=NAIVE),
        lambda: roag_overdue([], NAIVE, end_of_life_since=NOW),
        lambda: roag_overdue([], NOW, end_of_life_since=NAIVE),
        lambda: DoseGiven("o1", "pain", NAIVE),
        lambda: AssessmentSeen("esas_r", NAIVE),
        lambda: order(start=NAIVE),
        lambda: order(stop=NAIVE),
        lambda: order().is_active(NAIVE),
    ],
)
def test_naive_datetimes_are_rejected(call: object) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        call()  # type: ignore[operator]


def test_tzinfo_without_offset_counts_as_naive() -> None:
    from datetime import tzinfo

    class NoOffset(tzinfo):
        def utcoffset(self, dt: datetime | None) -> None:
            return None

        def dst(self, dt: datetime | None) -> None:
            return None

        def tzname(self, dt: datetime | None) -> str:
            return "none"

    with pytest.raises(ValueError, match="timezone-aware"):
        prn_over_limit(order(), [], datetime(2026, 1, 1, tzinfo=NoOffset()))


@pytest.mark.parametrize("value", ["2026-03-10T12:00:00+00:00", 1_700_000_000, None])
def test_non_datetimes_are_rejected(value: object) -> None:
    with pytest.raises(TypeError, match="must be a datetime"):
        prn_over_limit(order(), [], value)  # type: ignore[arg-type]


@pytest.mark.parametrize("indication", ["Pain", "breakthrough", "", None, "dyspnea"])
def test_unknown_indications_are_rejected(indication: object) -> None:
    with pytest.raises(ValueError, match="indication"):
        DoseGiven("o1", indication, NOW)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="indication"):
        order(indication=indication)


def test_indications_are_the_contract() -> None:
    assert tuple(PRN_INDICATIONS) == (
        "pain",
        "nausea",
        "anxiety",
        "death_rattle",
        "dyspnoea",
        "other",
    )
    assert REQUIRED_PRN_INDICATIONS == ("pain", "nausea", "anxiety", "death_rattle")


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"stop": NOW - 11 * DAY}, "stop before it starts"),
        ({"max_doses_per_24h": 0}, "max_doses_per_24h"),
        ({"max_doses_per_24h": True}, "max_doses_per_24h"),
        ({"max_doses_per_24h": 2.0}, "max_doses_per_24h"),
        ({"min_interval": timedelta(0)}, "min_interval"),
        ({"min_interval": -HOUR}, "min_interval"),
        ({"min_interval": 4}, "min_interval"),
        ({"route": "im"}, "unknown route"),
        ({"route": None}, "unknown route"),
        ({"dose": "2,5"}, "DoseRange"),
        ({"dose_unit": None}, "dose_unit"),
    ],
)
def test_invalid_orders_are_rejected(changes: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        order(**changes)


def test_order_may_stop_when_it_starts() -> None:
    empty = order(start=NOW, stop=NOW)
    assert not empty.is_active(NOW)


def test_unknown_instrument_in_assessment_seen() -> None:
    with pytest.raises(ValueError, match="unknown instrument"):
        AssessmentSeen("esas", NOW)


def test_the_new_flag_codes_are_in_the_contract() -> None:
    assert FLAG_CODES["prn_dose_mismatch"].severities == ("high",)
    assert FLAG_CODES["prn_limits_missing"].severities == ("medium",)
    assert "order itself" in FLAG_CODES["prn_dose_mismatch"].source
    assert "cannot be checked" in FLAG_CODES["prn_limits_missing"].source
