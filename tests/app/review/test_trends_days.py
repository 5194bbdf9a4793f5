"""The shortcuts the trends page takes over a long stay give what the plain steps gave: the
Stockholm day of a moment (`charts.local_day`), a moment read from the database made aware UTC
(`trends.as_utc`), and each period's highest value (`charts.highest_of_each_period`, against
the plain rule written out here: the highest of the values present, None when none is)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from pallapp.models.types import UTCDateTime
from pallapp.review import charts, trends
from pallapp.timeutil import STOCKHOLM


def test_the_stockholm_day_of_every_hour_across_summer_time_changes():
    # Every 20 minutes through 2024 and 2025 (four clock changes, every midnight of the year),
    # plus moments of the 1970s, 1900 and before (local mean time).
    start = datetime(2024, 1, 1, tzinfo=UTC)
    moments = [start + timedelta(minutes=20 * step) for step in range(2 * 366 * 72)]
    moments += [datetime(1899, 12, 31, 22, 50, tzinfo=UTC), datetime(1970, 1, 1, tzinfo=UTC)]
    moments += [datetime(1980, 4, 5, 23, 30, tzinfo=UTC), datetime(1980, 9, 27, 21, 59, tzinfo=UTC)]
    for moment in moments:
        assert charts.local_day(moment) == moment.astimezone(STOCKHOLM).date(), moment


@pytest.mark.parametrize(
    "zone", [STOCKHOLM, ZoneInfo("America/New_York"), timezone(timedelta(hours=-5)), ZoneInfo("UTC")]
)
def test_the_stockholm_day_of_a_moment_in_another_zone(zone):
    for hour in range(48):
        moment = datetime(2025, 3, 29, tzinfo=UTC).astimezone(zone) + timedelta(hours=hour)
        assert charts.local_day(moment) == moment.astimezone(STOCKHOLM).date()


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2025, 3, 30, 1, 30),  # naive: UTC, as SQLite stores it
        datetime(2025, 3, 30, 1, 30, tzinfo=UTC),
        datetime(2025, 3, 30, 1, 30, tzinfo=ZoneInfo("Etc/UTC")),  # PostgreSQL's session zone
        datetime(1969, 12, 31, 23, 59, 59, 999_999, fold=1, tzinfo=ZoneInfo("Etc/UTC")),
        datetime(2025, 3, 30, 1, 30, tzinfo=ZoneInfo("UTC")),
        datetime(2025, 3, 30, 3, 30, tzinfo=STOCKHOLM),
        datetime(2025, 10, 26, 2, 30, fold=1, tzinfo=STOCKHOLM),
        datetime(2025, 3, 30, 1, 30, tzinfo=timezone(timedelta(hours=2))),
    ],
)
def test_a_moment_is_made_utc_as_the_column_type_makes_it(moment):
    expected = UTCDateTime().process_result_value(moment, dialect=None)  # type: ignore[arg-type]
    found = trends.as_utc(moment)
    assert found == expected
    assert found.tzinfo is UTC
    assert found.timetuple() == expected.timetuple()
    assert (found.microsecond, found.fold) == (expected.microsecond, expected.fold)


def _plain_highest(chart: charts.Chart, monthly_before: date | None) -> list[list[tuple]]:
    """Each series' points as the plain rule gives them: the values of each period (a week, or
    a calendar month before `monthly_before`, Stockholm days) and the highest one present."""
    periods: dict[tuple[date, date, bool], list[int]] = {}
    for index, (moment, _value) in enumerate(chart.series[0].points):
        day = moment.astimezone(STOCKHOLM).date()
        if monthly_before is not None and day < monthly_before:
            first, last = charts.month_of(day)
            key = (first, last, True)
        else:
            monday = day - timedelta(days=day.weekday())
            key = (max(monday, monthly_before or monday), monday + timedelta(days=6), False)
        periods.setdefault(key, []).append(index)
    result = []
    for series in chart.series:
        points = []
        for key in sorted(periods):
            values = [series.points[i][1] for i in periods[key]]
            present = [value for value in values if value is not None]
            points.append((key, max(present) if present else None, len(values)))
        result.append(points)
    return result


def test_each_period_keeps_its_highest_value_present():
    chance = random.Random(20251130)
    start = datetime(2023, 1, 1, tzinfo=UTC)
    moments = sorted(start + timedelta(minutes=chance.randrange(3 * 365 * 24 * 60)) for _ in range(400))
    series = [
        charts.Series(
            name,
            [(moment, None if chance.random() < 0.2 else chance.randrange(11)) for moment in moments],
        )
        for name in ("total", "a", "b")
    ]
    chart = charts.Chart("k", "t", "y", 0, 10, series)
    cut = date(2025, 2, 1)
    expected = _plain_highest(chart, cut)
    charts.highest_of_each_period(chart, cut)
    periods = list(chart.periods.items())
    for found, wanted in zip(chart.series, expected, strict=True):
        assert len(found.points) == len(wanted) == len(periods)
        for (middle, value), ((first, last, monthly), highest, count), (at, period) in zip(
            found.points, wanted, periods, strict=True
        ):
            assert middle == at
            assert (period.first, period.last, period.monthly, period.count) == (
                first, last, monthly, count
            )
            assert value == highest
    assert chart.weekly
    assert chart.monthly_before == cut
