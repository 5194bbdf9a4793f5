"""Rules across records: as-needed doses and overdue assessments, both sides of every boundary.

Convention under test: a window of length W ending at `now` is (now - W, now]; a dose exactly
24 h before `now` is outside a 24-hour window.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from pallapp.scoring import (
    PRN_INDICATIONS,
    REQUIRED_PRN_INDICATIONS,
    AssessmentSeen,
    DoseGiven,
    Flag,
    PrnOrderRule,
    Thresholds,
    assessment_overdue,
    prn_frequent,
    prn_missing,
    prn_over_limit,
    roag_overdue,
)

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
NAIVE = datetime(2026, 3, 10, 12, 0)
TICK = timedelta(microseconds=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def dose(ago: timedelta, indication: str = "pain", order_id: str = "o1") -> DoseGiven:
    return DoseGiven(order_id=order_id, indication=indication, given_at=NOW - ago)


def order(**changes: object) -> PrnOrderRule:
    values: dict[str, object] = {
        "order_id": "o1",
        "indication": "pain",
        "start": NOW - 10 * DAY,
        "max_doses_per_24h": 3,
        "min_interval": 4 * HOUR,
    }
    values.update(changes)
    return PrnOrderRule(**values)  # type: ignore[arg-type]


# --- prn_frequent -------------------------------------------------------------------------


def test_prn_frequent_fires_at_three_doses_within_24_hours() -> None:
    doses = [dose(1 * HOUR), dose(5 * HOUR), dose(24 * HOUR - TICK)]
    assert prn_frequent(doses, NOW) == [
        Flag(
            "prn_frequent",
            "medium",
            ("pain",),
            {"threshold": 3, "window_hours": 24, "doses": 3},
        )
    ]


def test_prn_frequent_a_dose_exactly_24_hours_ago_is_outside() -> None:
    doses = [dose(1 * HOUR), dose(5 * HOUR), dose(24 * HOUR)]
    assert prn_frequent(doses, NOW) == []


def test_prn_frequent_a_dose_at_now_is_inside_and_later_doses_are_ignored() -> None:
    doses = [dose(timedelta(0)), dose(5 * HOUR), dose(6 * HOUR), dose(-TICK)]
    assert prn_frequent(doses, NOW)[0].params["doses"] == 3
    assert prn_frequent(doses[1:], NOW) == []  # two in the window, one in the future


def test_prn_frequent_counts_per_indication() -> None:
    doses = [
        dose(HOUR, "pain"),
        dose(2 * HOUR, "pain"),
        dose(HOUR, "anxiety"),
        dose(2 * HOUR, "anxiety", order_id="o2"),  # several orders, same indication
        dose(3 * HOUR, "anxiety"),
        dose(3 * HOUR, "nausea"),
        dose(4 * HOUR, "death_rattle"),
        dose(5 * HOUR, "death_rattle"),
        dose(6 * HOUR, "death_rattle"),
        dose(7 * HOUR, "death_rattle"),
    ]
    flags = prn_frequent(doses, NOW)
    assert [flag.items for flag in flags] == [("anxiety",), ("death_rattle",)]
    assert [flag.params["doses"] for flag in flags] == [3, 4]


def test_prn_frequent_tunable() -> None:
    doses = [dose(HOUR), dose(30 * HOUR)]
    unit = Thresholds(prn_frequent_doses=2, prn_frequent_window_hours=48)
    assert prn_frequent(doses, NOW, unit)[0].params == {
        "threshold": 2,
        "window_hours": 48,
        "doses": 2,
    }
    assert prn_frequent(doses, NOW, Thresholds(prn_frequent_doses=2)) == []


# --- prn_over_limit -----------------------------------------------------------------------


def test_prn_over_limit_within_limits() -> None:
    # Two earlier doses in 24 h (limit 3) and the last one exactly 4 h ago (interval met).
    assert prn_over_limit(order(), [dose(4 * HOUR), dose(10 * HOUR)], NOW) is None
    assert prn_over_limit(order(), [], NOW) is None


def test_prn_over_limit_max_doses_reached() -> None:
    doses = [dose(4 * HOUR), dose(10 * HOUR), dose(24 * HOUR - TICK)]
    flag = prn_over_limit(order(), doses, NOW)
    assert flag == Flag(
        "prn_over_limit",
        "high",
        ("pain",),
        {"max_doses_per_24h": 3, "doses_in_24h": 3},
    )


def test_prn_over_limit_dose_exactly_24_hours_ago_does_not_count() -> None:
    doses = [dose(4 * HOUR), dose(10 * HOUR), dose(24 * HOUR)]
    assert prn_over_limit(order(), doses, NOW) is None


def test_prn_over_limit_min_interval_both_sides() -> None:
    too_early = prn_over_limit(order(), [dose(4 * HOUR - TICK)], NOW)
    assert too_early is not None
    assert too_early.params == {"min_interval_minutes": 240, "minutes_since_last_dose": 239}
    assert prn_over_limit(order(), [dose(4 * HOUR)], NOW) is None


def test_prn_over_limit_a_dose_at_the_same_moment_is_too_early() -> None:
    flag = prn_over_limit(order(), [dose(timedelta(0))], NOW)
    assert flag is not None
    assert flag.params["minutes_since_last_dose"] == 0


def test_prn_over_limit_both_limits_in_one_flag() -> None:
    doses = [dose(HOUR), dose(2 * HOUR), dose(3 * HOUR)]
    flag = prn_over_limit(order(indication="anxiety"), doses, NOW)
    assert flag is not None
    assert flag.items == ("anxiety",)
    assert flag.params == {
        "max_doses_per_24h": 3,
        "doses_in_24h": 3,
        "min_interval_minutes": 240,
        "minutes_since_last_dose": 60,
    }


def test_prn_over_limit_counts_only_this_order_and_earlier_doses() -> None:
    doses = [
        dose(HOUR, order_id="other-order"),
        dose(2 * HOUR, order_id="other-order"),
        dose(3 * HOUR, order_id="other-order"),
        dose(-HOUR),  # recorded for a later time: not before this dose
    ]
    assert prn_over_limit(order(), doses, NOW) is None


def test_prn_over_limit_without_limits() -> None:
    unlimited = order(max_doses_per_24h=None, min_interval=None)
    assert prn_over_limit(unlimited, [dose(timedelta(0))] * 10, NOW) is None


def test_prn_over_limit_only_interval_or_only_count() -> None:
    only_count = order(min_interval=None, max_doses_per_24h=1)
    assert prn_over_limit(only_count, [dose(HOUR)], NOW) is not None
    only_interval = order(max_doses_per_24h=None, min_interval=30 * timedelta(minutes=1))
    assert prn_over_limit(only_interval, [dose(timedelta(minutes=29))], NOW) is not None
    assert prn_over_limit(only_interval, [dose(timedelta(minutes=30))], NOW) is None


# --- prn_missing --------------------------------------------------------------------------


def _full_set(start: datetime = NOW - DAY) -> list[PrnOrderRule]:
    return [
        order(order_id=indication, indication=indication, start=start)
        for indication in REQUIRED_PRN_INDICATIONS
    ]


def test_prn_missing_not_in_end_of_life() -> None:
    assert prn_missing([], NOW, end_of_life_since=None) is None
    assert prn_missing([], NOW, end_of_life_since=NOW + TICK) is None


def test_prn_missing_all_four_present() -> None:
    assert prn_missing(_full_set(), NOW, end_of_life_since=NOW - DAY) is None


def test_prn_missing_fires_from_the_moment_of_brytpunktssamtal() -> None:
    flag = prn_missing([], NOW, end_of_life_since=NOW)
    assert flag == Flag("prn_missing", "medium", REQUIRED_PRN_INDICATIONS)


def test_prn_missing_lists_what_is_missing_in_order() -> None:
    orders = [o for o in _full_set() if o.indication not in {"nausea", "death_rattle"}]
    orders.append(order(order_id="x", indication="dyspnoea"))  # not one of the four
    flag = prn_missing(orders, NOW, end_of_life_since=NOW - DAY)
    assert flag is not None
    assert flag.items == ("nausea", "death_rattle")


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
    now_local = NOW.astimezone(stockholm)  # 13:00 CET
    exactly_24h = DoseGiven("o1", "pain", (NOW - 24 * HOUR).astimezone(timezone(HOUR * -5)))
    doses = [dose(HOUR), dose(2 * HOUR), exactly_24h]
    assert prn_frequent(doses, now_local) == []


def test_daylight_saving_change_uses_elapsed_time() -> None:
    stockholm = ZoneInfo("Europe/Stockholm")
    # 29 March 2026: clocks go from 02:00 to 03:00 in Sweden, so this wall-clock day is 23 h.
    before = datetime(2026, 3, 28, 12, 0, tzinfo=stockholm)
    after = datetime(2026, 3, 29, 12, 0, tzinfo=stockholm)
    assert after.astimezone(UTC) - before.astimezone(UTC) == 23 * HOUR
    doses = [DoseGiven("o1", "pain", before + k * HOUR) for k in (0, 1, 2)]
    assert doses[0].given_at == before  # the same instant, stored in UTC
    assert doses[0].given_at.tzinfo is UTC
    # 23 h elapsed: still inside the 24-hour window.
    assert prn_frequent(doses, after)[0].params["doses"] == 3


@pytest.mark.parametrize(
    "call",
    [
        lambda: prn_frequent([], NAIVE),
        lambda: prn_over_limit(order(), [], NAIVE),
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
        prn_frequent([], datetime(2026, 1, 1, tzinfo=NoOffset()))


@pytest.mark.parametrize("value", ["2026-03-10T12:00:00+00:00", 1_700_000_000, None])
def test_non_datetimes_are_rejected(value: object) -> None:
    with pytest.raises(TypeError, match="must be a datetime"):
        prn_frequent([], value)  # type: ignore[arg-type]


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
