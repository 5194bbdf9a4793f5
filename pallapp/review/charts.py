"""Trend charts of a patient's ratings: series built from the instrument definitions, drawn by
pygal as SVG, and the same numbers as a data table for screen readers and print. A chart with
more than `MAX_CHART_POINTS` moments shows the highest value of each week instead, and of each
calendar month for ratings more than a year old (`highest_of_each_period`; docs/instruments.md,
"Trend charts over a long period").

pygal adds a small configuration <script> even when its JavaScript is switched off; it is
removed from the tree before serialising, and the SVG is served with a CSP that forbids
scripts, so the charts never run code (they are shown through <img>).

A chart image is the most requested kind of response, so pygal's work for every chart is cut
where its general code did the same thing again and again: configurations from defaults worked
out once per process, one style and one filled-in style sheet per list of colours, values, dots
and lines made without pygal's per-point option look-ups and node maker, and the tree written
in one walk (`_svg_text`). Each of those parts is pygal's own steps for the charts drawn here
and hands anything else to pygal; the SVG is the same, byte for byte, as pygal's own code and
ElementTree's writer draw it (`test_every_chart_is_drawn_as_before`), so CHART_FORMAT is
unchanged.

Line charts are for totals and subscales only; single items are in the heat maps
(`pallapp.review.heatmap`). All charts of one range share one time axis (`Axis`) and one plot area
(the same left and right margins whatever their labels), so a point of one chart lies above the
same moment in the next; as-needed doses have a lane of their own
(`dose_chart`) on that axis, counted per day and indication, instead of markers drawn on a
score scale where they looked like maximal ratings. IPOS patient and staff ratings are separate
charts: a staff rating and a self-report are not one line.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Protocol, TypeVar
from xml.etree import ElementTree

import pygal
import pygal.graph.base
from pygal.adapters import decimal_to_float
from pygal.config import BaseConfig, Config, Key, SerieConfig
from pygal.graph.time import date_to_datetime, datetime_to_timestamp
from pygal.serie import Serie
from pygal.style import Style
from pygal.svg import Svg
from pygal.util import compose, merge, minify_css, template, text_len
from pygal.view import View

from pallapp import scoring
from pallapp.i18n import date_text, datetime_text, gettext, time_text
from pallapp.timeutil import STOCKHOLM

# High-contrast series colours (Okabe-Ito palette and darker companions), distinguishable with
# common colour-vision deficiencies; every series also has a legend entry and a table column.
COLOURS = (
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#000000", "#E69F00", "#56B4E9",
    "#7a3b00", "#4b0082", "#1e6b34", "#a4161a", "#555555",
)
THRESHOLD_COLOUR = "#6b6b6b"
T = TypeVar("T")


class Rated(Protocol):
    """A rating as the charts read it: the trends page's light row (`trends.Rating`) or an
    `Assessment`; of the scores, `subscales` and `max_grade`."""

    @property
    def instrument(self) -> str: ...

    @property
    def observed_at(self) -> datetime: ...

    @property
    def total(self) -> int | None: ...

    @property
    def scores(self) -> Mapping[str, Any]: ...


R = TypeVar("R", bound=Rated)

# A chart with more time points than this is drawn, and tabled, one point per calendar week (and
# per calendar month for ratings more than a year old, `MONTHLY_AFTER_MONTHS`).
# 120 is about four months of daily ratings: on a 960 px chart the dots are still told apart
# (8 px each) and a table of 120 rows is still read. Past it every rating made the SVG and the
# page bigger and slower (three years, 511 ratings: 1.1 MB of SVG and 550 ms for IPOS items)
# while adding nothing a reader could see.
MAX_CHART_POINTS = 120
# An aggregated chart shows ratings older than this many months one point per calendar month: a
# stay of three years is then about 52 weeks and 24 months (76 points) instead of 157 weeks,
# which on a 960 px chart were 5 px apart and cost 3x the drawing time. The last year, the part
# a team acts on, keeps its weekly peaks.
MONTHLY_AFTER_MONTHS = 12
# Every chart's score labels are given room for this many digits (scores reach 3 digits at
# most), so every plot area of a page starts at the same x whatever its labels ("4" or "100").
Y_LABEL_DIGITS = 3


@dataclass(frozen=True)
class Axis:
    """The time axis every chart of one trends page shares: from local midnight of the first
    day of the range to local midnight after today (both in Stockholm time), so it changes once
    a day, not with every request (the chart validators rely on that)."""

    start: datetime
    end: datetime

    def ticks(self, count: int = 7) -> list[datetime]:
        """About `count` evenly spaced whole days from start to end (midday, Stockholm)."""
        first = self.start.astimezone(STOCKHOLM).date()
        days = max(1, (self.end.astimezone(STOCKHOLM).date() - first).days)
        step = max(1, -(-days // (count - 1)))
        return [
            datetime.combine(first + timedelta(days=offset), time(12), tzinfo=STOCKHOLM)
            for offset in range(0, days, step)
        ]


def axis_for(first_day: date, today: date) -> Axis:
    """The axis from the start of `first_day` to the end of `today` (Stockholm)."""
    return Axis(
        datetime.combine(first_day, time(0), tzinfo=STOCKHOLM),
        datetime.combine(today + timedelta(days=1), time(0), tzinfo=STOCKHOLM),
    )


@dataclass(frozen=True)
class Period:
    """The days one aggregated point stands for (Stockholm dates, both included)."""

    first: date
    last: date
    count: int  # ratings in the period
    monthly: bool = False


@dataclass
class Series:
    name: str
    points: list[tuple[datetime, int | None]]


@dataclass
class Threshold:
    label: str
    value: int


@dataclass
class Chart:
    key: str
    title: str
    y_title: str
    y_min: int
    y_max: int
    series: list[Series]
    thresholds: list[Threshold] = field(default_factory=list)
    lines: list[tuple[datetime, str]] = field(default_factory=list)  # milestones
    #: The shared time axis of the range (None: from the first to the last point).
    axis: Axis | None = None
    #: The respondent version every row of the chart is (IPOS), named in the table.
    version_label: str | None = None
    #: Distance between the labelled ticks of the score axis (whole numbers only).
    y_step: int = 1
    #: Set by `highest_of_each_period`: each point is the highest value of a week (or of a
    #: month, before `monthly_before`), at the middle of the period; `periods` says which days
    #: and how many ratings each point stands for.
    weekly: bool = False
    monthly_before: date | None = None
    periods: dict[datetime, Period] = field(default_factory=dict)

    @property
    def rating_count(self) -> int:
        """How many ratings the chart shows (every series has a point for each rating)."""
        if self.weekly:
            return sum(period.count for period in self.periods.values())
        return len(self.series[0].points) if self.series else 0

    @property
    def weekly_note(self) -> str:
        """The aggregation in words, for the chart and the table (empty when there is none)."""
        if not self.weekly:
            return ""
        # Always plural: a chart is weekly only with more than MAX_CHART_POINTS ratings.
        if self.monthly_before is not None:
            return gettext(
                "Each point is the highest rating of its month before %(date)s, then of its week "
                "(%(count)d ratings)",
                date=date_text(self.monthly_before, "short"),
                count=self.rating_count,
            )
        return gettext(
            "Each point is the highest rating of its week (%(count)d ratings)",
            count=self.rating_count,
        )

    def period_label(self, moment: datetime) -> str:
        """The week or month of an aggregated point, in words."""
        period = self.periods[moment]
        if period.monthly:
            return month_label(period.first)
        return week_label(moment, first=period.first)

    @property
    def moments(self) -> list[datetime]:
        return sorted({moment for series in self.series for moment, _value in series.points})

    def table(self) -> list[tuple[datetime, list[int | None]]]:
        """One row per moment: the value of each series then (None: not rated then)."""
        by_series = [dict(series.points) for series in self.series]
        return [(moment, [values.get(moment) for values in by_series]) for moment in self.moments]

    @property
    def height(self) -> int:
        """Room for the plot, labels on the time axis and a two-column legend below it (three
        columns cut long Swedish subscale names)."""
        entries = len(self.series) + len(self.thresholds) + len(self.lines)
        return 440 + 34 * -(-entries // 2)

    @property
    def threshold_text(self) -> str:
        return "; ".join(f"{t.label} {t.value}" for t in self.thresholds)


def local_day(moment: datetime) -> date:
    """`moment.astimezone(STOCKHOLM).date()`, the day in the clinic's calendar, without the
    conversion where it cannot change the day: Stockholm is one or two hours ahead of UTC
    (CET, CEST; before 1900 local mean time, 1:12 ahead), so a UTC moment before 22:00 falls on
    the same day there. A long stay's page asks the day of every rating and dose several
    times, and each conversion cost more than the rest of the step."""
    if moment.tzinfo is UTC and moment.hour < 22:
        return moment.date()
    return moment.astimezone(STOCKHOLM).date()


def week_of(moment: datetime) -> date:
    """The Monday of the ISO week of `moment`, in Stockholm time (the clinic's calendar)."""
    local = local_day(moment)
    return local - timedelta(days=local.weekday())


def week_middle(monday: date) -> datetime:
    """Where a week's point is drawn: Thursday noon in Stockholm, so no rating of the week is
    more than three and a half days from its point."""
    return datetime.combine(monday + timedelta(days=3), time(12), tzinfo=STOCKHOLM)


def month_label(day: date) -> str:
    """The calendar month of `day` in words, e.g. 'november 2025' (Swedish)."""
    return date_text(day, "LLLL y")


def week_label(moment: datetime, first: date | None = None) -> str:
    """'Week 5, 2025 (1/27/25 – 2/2/25)' for the week whose point is at `moment`; `first`: the
    week's first day when it is cut by the start of the weekly part of a chart."""
    monday = week_of(moment)
    year, week, _weekday = monday.isocalendar()
    return gettext(
        "Week %(week)d, %(year)d (%(first)s – %(last)s)",
        week=week,
        year=year,
        first=date_text(max(monday, first or monday), "short"),
        last=date_text(monday + timedelta(days=6), "short"),
    )


def monthly_before(today: date) -> date:
    """The first day of the weekly part of an aggregated chart: the first of the month
    `MONTHLY_AFTER_MONTHS` months before this one (older ratings are shown by month)."""
    months = today.year * 12 + today.month - 1 - MONTHLY_AFTER_MONTHS
    return date(months // 12, months % 12 + 1, 1)


def monthly_cut(count: int, today: date | None) -> date | None:
    """The rule every long list of the trends page shares with the charts: with more than
    `MAX_CHART_POINTS` entries (ratings of a chart or heat map, doses of the dose table), those
    before the day returned are shown one per calendar month (`monthly_before`); None: every
    entry as it is (at most that many, or no `today` to count a year back from)."""
    if today is None or count <= MAX_CHART_POINTS:
        return None
    return monthly_before(today)


def month_of(day: date) -> tuple[date, date]:
    """The first and last day of the calendar month of `day`."""
    first = day.replace(day=1)
    following = (first + timedelta(days=31)).replace(day=1)
    return first, following - timedelta(days=1)


def split_by_month(
    entries: Iterable[T], moment_of: Callable[[T], datetime], cut: date | None
) -> tuple[dict[tuple[date, date], list[T]], list[T]]:
    """The entries before `cut` (a Stockholm date; None: none) by calendar month in Stockholm
    time, months and entries in the order given, and the entries from `cut` on."""
    if cut is None:  # the usual case: nothing by month, no day to work out
        return {}, list(entries)
    months: dict[tuple[date, date], list[T]] = {}
    recent: list[T] = []
    # Each month's first and last day worked out once, not for each entry.
    known: dict[tuple[int, int], tuple[date, date]] = {}
    for entry in entries:
        day = local_day(moment_of(entry))
        if day < cut:
            month = known.get((day.year, day.month))
            if month is None:
                month = known[(day.year, day.month)] = month_of(day)
            months.setdefault(month, []).append(entry)
        else:
            recent.append(entry)
    return months, recent


def highest_of_each_period(chart: Chart, monthly_before: date | None = None) -> Chart:
    """The chart with one point per calendar week (ISO weeks, Stockholm time), or per calendar
    month for ratings before `monthly_before` (None: weeks only), and series: the highest value
    of that series in the period.

    Why the highest: a trend chart is read for peaks, and a period's mean or last value would
    hide the day the pain was 9; the highest never hides one (a conservative summary). Values
    that are missing stay missing: a period's point is the highest of the values present, never
    an imputed one, and a period with no value for a series has no point for it. Each series is
    taken on its own, so in one period the highest total and the highest subscale may come from
    different ratings. The individual ratings are in the assessment history. A point is drawn
    at the middle of its period (a week: Thursday noon; the week cut by `monthly_before`: the
    middle of its days from then on), so no rating is further from its point than half the
    period.
    """
    # Each point's period, then each series' highest value of each period in one pass over
    # its points (a list of values per period and series, then the highest of each, was most
    # of the time of a long stay's charts). Each day's and each month's period is worked out once
    # (a long stay has several ratings a day, and a month of ratings on many days).
    period_of_day: dict[date, tuple[date, date, bool]] = {}
    period_of_month: dict[tuple[int, int], tuple[date, date, bool]] = {}
    keys: list[tuple[date, date, bool]] = []
    for moment, _value in chart.series[0].points if chart.series else []:
        day = local_day(moment)
        key = period_of_day.get(day)
        if key is None:
            if monthly_before is not None and day < monthly_before:
                key = period_of_month.get((day.year, day.month))
                if key is None:
                    key = period_of_month[(day.year, day.month)] = (*month_of(day), True)
            else:
                monday = day - timedelta(days=day.weekday())  # `week_of`, from the day
                first = max(monday, monthly_before) if monthly_before else monday
                key = (first, monday + timedelta(days=6), False)
            period_of_day[day] = key
        keys.append(key)
    periods = sorted(set(keys))
    slot_of = {period: slot for slot, period in enumerate(periods)}
    slots = [slot_of[key] for key in keys]
    counts = [0] * len(periods)
    for slot in slots:
        counts[slot] += 1
    middles = [
        datetime.combine(first + timedelta(days=(last - first).days // 2), time(12), tzinfo=STOCKHOLM)
        for first, last, _monthly in periods
    ]
    for series in chart.series:
        # The highest of each period's values present, None when none is present: a missing
        # value is never filled in, and a period's highest never hides its worst rating.
        best: list[int | None] = [None] * len(periods)
        for slot, (_moment, value) in zip(slots, series.points, strict=True):
            if value is not None:
                known = best[slot]
                if known is None or value > known:
                    best[slot] = value
        series.points = list(zip(middles, best, strict=True))
    chart.periods = {
        middle: Period(first, last, count, monthly)
        for middle, (first, last, monthly), count in zip(middles, periods, counts, strict=True)
    }
    chart.weekly = True
    if any(monthly for _first, _last, monthly in periods):
        chart.monthly_before = monthly_before
    return chart


def _band_thresholds(bands: tuple[scoring.Band, ...], skip_first: bool = True) -> list[Threshold]:
    """A threshold line where each band above the lowest starts."""
    chosen = bands[1:] if skip_first else bands
    return [
        Threshold(gettext("%(band)s from", band=gettext(band.label)), band.low) for band in chosen
    ]


def _total_label(definition: scoring.InstrumentDefinition) -> str:
    return gettext(definition.total_label) if definition.total_label else gettext("Total score")


def _of(assessments: Sequence[R], codes: tuple[str, ...]) -> list[R]:
    return [a for a in assessments if a.instrument in codes]


def _y_title(low: int, high: int, *, grades: bool = False) -> str:
    if grades:
        return gettext("Grade (%(low)d–%(high)d)", low=low, high=high)
    return gettext("Score (%(low)d–%(high)d)", low=low, high=high)


def _chart_title(definition: scoring.InstrumentDefinition) -> str:
    return gettext(definition.display.chart_title or definition.title)


def _total_chart(definition: scoring.InstrumentDefinition, chosen: Sequence[Rated]) -> Chart:
    """The total and every subscale, with a line where each overall band starts (Abbey)."""
    series = [Series(_total_label(definition), [(a.observed_at, a.total) for a in chosen])]
    if definition.subscales:
        # Each rating's subscales looked up once, not once per subscale.
        moments = [a.observed_at for a in chosen]
        subscales = [a.scores.get("subscales", {}) for a in chosen]
        for subscale_code, subscale in definition.subscales.items():
            series.append(
                Series(
                    gettext(subscale.label),
                    [
                        (moment, of.get(subscale_code))
                        for moment, of in zip(moments, subscales, strict=True)
                    ],
                )
            )
    low, high = definition.total_min or 0, definition.total_max or 0
    version = definition.display.version_label
    return Chart(
        key=definition.chart_key,
        title=_chart_title(definition),
        y_title=_y_title(low, high),
        y_min=low,
        y_max=high,
        series=series,
        thresholds=_band_thresholds(definition.bands),
        version_label=gettext(version) if version else None,
        y_step=definition.display.chart_step,
    )


def _grade_chart(definition: scoring.InstrumentDefinition, chosen: Sequence[Rated]) -> Chart:
    """The highest grade of an instrument without a summed score (ROAG), with its bands."""
    low = min(band.low for band in definition.bands)
    high = max(band.high for band in definition.bands)
    return Chart(
        key=definition.chart_key,
        title=_chart_title(definition),
        y_title=_y_title(low, high, grades=True),
        y_min=low,
        y_max=high,
        series=[
            Series(
                gettext("Highest grade"),
                [(a.observed_at, a.scores.get("max_grade")) for a in chosen],
            )
        ],
        thresholds=_band_thresholds(definition.bands),
        y_step=definition.display.chart_step,
    )


def _charted() -> dict[str, scoring.InstrumentDefinition]:
    """Each chart by key, in display order: one per instrument with a total or with bands (an
    IPOS patient and staff rating are separate charts: they are not one line)."""
    return {
        definition.chart_key: definition
        for definition in scoring.in_display_order()
        if definition.total_items or definition.bands
    }


def _build(definition: scoring.InstrumentDefinition, assessments: Sequence[Rated]) -> Chart | None:
    chosen = _of(assessments, (definition.code,))
    if not chosen:
        return None
    if definition.total_items:
        return _total_chart(definition, chosen)
    return _grade_chart(definition, chosen)


#: The as-needed dose lane, drawn from doses rather than ratings.
DOSES_KEY = "doses"


def chart_keys() -> tuple[str, ...]:
    """Every chart's key, in the order shown, and the dose lane's."""
    return (*_charted(), DOSES_KEY)


def chart_instruments(key: str) -> tuple[str, ...]:
    """The instrument codes the chart `key` is drawn from (none for the dose lane), so one
    chart's image loads only the ratings it draws."""
    definition = _charted().get(key)
    return (definition.code,) if definition else ()


def build_chart(
    key: str,
    assessments: Sequence[Rated],
    *,
    lines: list[tuple[datetime, str]] | None = None,
    axis: Axis | None = None,
    today: date | None = None,
) -> Chart | None:
    """The chart `key` (None: no data for it), with milestone lines, on `axis`; with more than
    `MAX_CHART_POINTS` moments, one point per week, and per month for ratings more than
    `MONTHLY_AFTER_MONTHS` before `today` (None: weeks only; `highest_of_each_period`)."""
    chart = _build(_charted()[key], assessments)
    if chart is None:
        return None
    chart.lines = list(lines or [])
    chart.axis = axis
    count = len(chart.moments)  # sorted from every series: once
    if count > MAX_CHART_POINTS:
        highest_of_each_period(chart, monthly_cut(count, today))
    return chart


def build_charts(
    assessments: Sequence[Rated],
    *,
    lines: list[tuple[datetime, str]] | None = None,
    axis: Axis | None = None,
    today: date | None = None,
) -> list[Chart]:
    """The charts that have data, in a fixed order, with milestone lines, on one axis."""
    built = (
        build_chart(key, assessments, lines=lines, axis=axis, today=today) for key in _charted()
    )
    return [chart for chart in built if chart is not None]


@dataclass(frozen=True)
class DoseMark:
    """One as-needed dose as the trends page shows it."""

    given_at: datetime
    indication: str  # code
    drug: str
    dose: str  # amount and unit as given, e.g. "2,5 mg"
    route: str  # code
    effect: str | None  # better, unchanged, worse; None: not evaluated


def doses_per_day(doses: list[DoseMark]) -> dict[str, list[tuple[datetime, int]]]:
    """(midday of the day, number of doses) per indication, in the order of the indications,
    days in Stockholm time (the clinic's day, as the 24-hour limits are read on the ward)."""
    rank = {code: index for index, code in enumerate(scoring.PRN_INDICATIONS)}
    per_day: dict[str, dict[date, int]] = {}
    for dose in sorted(doses, key=lambda d: (rank.get(d.indication, 99), d.given_at)):
        day = local_day(dose.given_at)
        days = per_day.setdefault(dose.indication, {})
        days[day] = days.get(day, 0) + 1
    return {
        indication: [
            (datetime.combine(day, time(12), tzinfo=STOCKHOLM), count)
            for day, count in sorted(days.items())
        ]
        for indication, days in per_day.items()
    }


@dataclass(frozen=True)
class DoseMonth:
    """The doses of one calendar month and one indication, more than a year old, as one row of
    the page's monthly dose table: how many were given, and which drugs."""

    first: date  # the month's first day
    indication: str  # code
    count: int
    drugs: tuple[str, ...]


def doses_by_month(
    doses: list[DoseMark], today: date | None
) -> tuple[list[DoseMonth], list[DoseMark], date | None]:
    """The dose table bounded by the charts' rule (`monthly_cut`): with more than
    `MAX_CHART_POINTS` doses, those before the cut summed per month and indication (months
    oldest first, indications in their order); (those rows, the doses from the cut on, each
    on its own, and the cut, None when nothing is summed). `doses`: oldest first."""
    rank = {code: index for index, code in enumerate(scoring.PRN_INDICATIONS)}
    cut = monthly_cut(len(doses), today)
    months, recent = split_by_month(doses, lambda dose: dose.given_at, cut)
    rows = []
    for (first, _last), in_month in months.items():
        by_indication: dict[str, list[DoseMark]] = {}
        for dose in in_month:
            by_indication.setdefault(dose.indication, []).append(dose)
        for indication in sorted(by_indication, key=lambda code: (rank.get(code, 99), code)):
            given = by_indication[indication]
            drugs = tuple(sorted({dose.drug for dose in given}))
            rows.append(DoseMonth(first, indication, len(given), drugs))
    return rows, recent, cut if months else None


#: The dose lane's points listed under it, newest kept: 120, as for the chart points (four
#: months of a point a day). Three years of a dose every 7 hours are 1,095 points; each dose
#: is in the dose table all the same.
MAX_DOSE_DAYS_LISTED = 120


@dataclass(frozen=True)
class DoseDay:
    """The doses of one day (Stockholm) and one indication: one point of the dose lane, which
    the page also lists under the lane so that a tap or a key shows each dose of the point."""

    day: date
    indication: str  # code
    #: (row number in the dose table, from 1; the dose), oldest first.
    doses: list[tuple[int, DoseMark]]


def dose_days(doses: list[DoseMark]) -> list[DoseDay]:
    """The points of the dose lane as the page lists them: by day (left to right on the time
    axis), then in the order of the indications; each dose with its row in the dose table,
    whose rows are `doses` in the order given (oldest first)."""
    rank = {code: index for index, code in enumerate(scoring.PRN_INDICATIONS)}
    grouped: dict[tuple[date, str], list[tuple[int, DoseMark]]] = {}
    for row, dose in enumerate(doses, start=1):
        key = (local_day(dose.given_at), dose.indication)
        grouped.setdefault(key, []).append((row, dose))
    ordered = sorted(grouped, key=lambda key: (key[0], rank.get(key[1], 99), key[1]))
    return [DoseDay(day, indication, grouped[(day, indication)]) for day, indication in ordered]


def dose_chart(
    doses: list[DoseMark],
    *,
    lines: list[tuple[datetime, str]] | None = None,
    axis: Axis | None = None,
) -> Chart | None:
    """The dose lane: doses per day for each indication, on the shared axis (None: no doses)."""
    per_day = doses_per_day(doses)
    if not per_day:
        return None
    highest = max(count for points in per_day.values() for _day, count in points)
    series = [
        Series(indication_name(indication), [(day, count) for day, count in points])
        for indication, points in per_day.items()
    ]
    return Chart(
        key=DOSES_KEY,
        title=gettext("As-needed doses per day"),
        y_title=gettext("Doses"),
        y_min=0,
        y_max=max(4, highest),
        series=series,
        lines=list(lines or []),
        axis=axis,
        y_step=1 if highest <= 12 else 2,
    )


STYLE_OPTIONS = dict(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#1b1f24",
    foreground_strong="#1b1f24",
    foreground_subtle="#4a5561",
    font_family="system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif",
    label_font_size=15,
    major_label_font_size=15,
    legend_font_size=16,
    title_font_size=20,
    value_font_size=14,
    guide_stroke_color="#c8d0d8",
    major_guide_stroke_color="#8a96a3",
    stroke_width="3",
    stroke_width_hover="4",
    stroke_opacity="1",
    opacity="1",
    dot_opacity="1",
)

#: A milestone's name on the time axis is cut after this many characters, after its date
#: ("2025-01-16 Coordinated…"); the whole name is the label's <title> (pygal writes one for every
#: label it cuts), a legend entry of the chart, and in the page's list of milestones. The widest
#: axis label sets the right margin of the plot: "Coordinated individual plan (SIP)" at the end
#: of the axis took 370 px of a 960 px chart, and every chart of the page shares that margin.
MILESTONE_NAME_CHARS = 12

#: Milestone lines: one dark colour, far from every series colour (they are also named on the
#: time axis and in the legend, never told apart by colour alone).
MILESTONE_COLOUR = "#3d1f5c"


def _style(chart: Chart) -> Style:
    """pygal colours series by position: data series first, then grey thresholds and the
    milestone lines."""
    colours = [COLOURS[i % len(COLOURS)] for i in range(len(chart.series))]
    colours += [THRESHOLD_COLOUR] * len(chart.thresholds)
    colours += [MILESTONE_COLOUR] * len(chart.lines)
    return _kept_style(tuple(colours))


@functools.lru_cache(maxsize=256)
def _kept_style(colours: tuple[str, ...]) -> Style:
    """One style per list of colours, made once per process: pygal only reads a style while it
    draws, and the same style object lets `_style_sheets` keep the chart's style sheet."""
    return Style(colors=colours, **STYLE_OPTIONS)


def indication_name(code: str) -> str:
    """The indication in words (an unknown code as it is)."""
    label = scoring.PRN_INDICATIONS.get(code)
    return gettext(label) if label else code


def _local_labels(lines: list[tuple[datetime, str]]) -> Callable[[datetime], str]:
    """The date of a moment in Stockholm, each day formatted once (pygal asks for every dot,
    and a long chart has thousands of dots on a few hundred days); a milestone's moment is
    labelled with its date and the milestone's name, so the axis says what happened that day
    (the date first: a long name is cut, `MILESTONE_NAME_CHARS`)."""
    labels: dict[date, str] = {}
    named = {round(moment.timestamp()): label for moment, label in lines}

    def label(moment: datetime) -> str:
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)  # pygal hands back naive UTC
        day = moment.astimezone(STOCKHOLM).date()
        if round(moment.timestamp()) in named:
            return f"{date_text(day, 'short')} {named[round(moment.timestamp())]}"
        if day not in labels:
            labels[day] = date_text(day, "short")
        return labels[day]

    return label


#: Stands for a chart's own id (`#chart-<uuid> `, a new one for every chart) while its style
#: sheet is minified: the minified text is then the same for every chart of the same look and is
#: kept, and the chart's id is put in after. Hex digits and hyphens, like the id: the minifier
#: treats both alike (it only touches white space and punctuation).
_CSS_ID_STAND_IN = "chart-" + "0" * 8 + "-0000-0000-0000-" + "0" * 12


@functools.cache
def _css_template(name: str) -> str:
    """One of pygal's own style sheets (`base.css`, `style.css`, `graph.css`), read once per
    process: they are files of the installed package."""
    return (Path(pygal.__file__).parent / "css" / name).read_text(encoding="utf-8")


@functools.lru_cache(maxsize=256)
def _minified(css_text: str) -> str:
    """pygal's minifier (a dozen regular expressions over 10 kB) once per distinct style sheet.
    The key is the whole text, which depends only on the style and the number and strokes of
    the series, never on a patient's data (the chart id is a stand-in, `_CSS_ID_STAND_IN`)."""
    return str(minify_css(css_text))


@functools.lru_cache(maxsize=256)
def _style_sheets(names: tuple[str, ...], style: Style, order: int, strokes: str) -> str:
    """pygal's style sheets of a chart (`Svg.add_styles`: each sheet filled in with the style,
    the colours of `order` series and the series' strokes, then minified), with the stand-in
    id, once per style, number of series and strokes: filling in the sheets was a tenth of a
    small chart's time. The style is one of `_kept_style`, never changed."""
    prefix = f"#{_CSS_ID_STAND_IN} "
    colours = style.get_colors(prefix, order)
    return "\n".join(
        _minified(template(_css_template(name), style=style, colors=colours, strokes=strokes, id=prefix))
        for name in names
    )


class _SvgWithKeptStyles(Svg):
    """pygal's SVG writer, with the style sheets read and minified once per process instead of
    for every chart (a fixed cost of every chart image), and without the configuration script,
    which `_without_scripts_and_tooltips` removes anyway (building it walked every option).
    The text written is pygal's own: `test_charts_are_drawn_as_pygal_draws_them` compares."""

    id: str  # "#chart-<uuid> ", pygal's prefix of every rule of the chart's style sheet

    def add_styles(self) -> None:
        graph = self.graph
        names = [name.removeprefix("file://") for name in ("file://base.css", *graph.css)]
        if (
            graph.pretty_print
            or graph.style._google_fonts
            or graph.no_prefix
            or not all(name.endswith(".css") and "/" not in name for name in names)
            # pygal reads a file of that name in the working directory first
            or any(os.path.exists(name) for name in names)
        ):
            super().add_styles()  # not drawn here: pygal's own way
            return
        chart_id = self.id
        self.id = f"#{_CSS_ID_STAND_IN} "
        try:
            strokes = self.get_strokes()
        finally:
            self.id = chart_id
        sheets = _style_sheets(tuple(names), graph.style, graph._order, strokes)
        style_text = sheets.replace(_CSS_ID_STAND_IN, chart_id.strip().lstrip("#"))
        self.node(self.defs, "style", type="text/css").text = style_text

    def add_scripts(self) -> None:
        return None


@functools.cache
def _serie_option_names() -> tuple[str, ...]:
    """The names `dir()` gives for a series configuration: the same for every one (its
    options are class attributes and it sets no others)."""
    return tuple(dir(SerieConfig()))


@functools.cache
def _config_defaults(cls: type) -> tuple[tuple[tuple[str, Any], ...], frozenset[str]]:
    """What pygal's `BaseConfig.__init__` sets on a new configuration of `cls` (each option's
    default, in its order), worked out once per process, and the options whose default is a
    list (each configuration gets its own copy, as in pygal)."""
    reference: Any = object.__new__(cls)
    BaseConfig.__init__(reference)
    lists = frozenset(
        name
        for name in reference.__dict__
        if isinstance(option := getattr(cls, name, None), Key) and option.is_list and option.value is not None
    )
    return tuple(reference.__dict__.items()), lists


@functools.cache
def _config_names(cls: type) -> frozenset[str]:
    """The names `dir()` gives for the class `cls` (a configuration's own are its options)."""
    return frozenset(dir(cls))


class _KeptDefaults:
    """pygal's `BaseConfig.__init__` and `__call__` (`_update`) with the defaults and the
    option names worked out once per process (`_config_defaults`), not with `dir()` and a
    look-up of each of ~180 options for every chart and series: a tenth of a small chart's
    time. Only dunder methods: pygal copies a chart configuration's class dictionary into its
    drawing state (`State`), where a name with two underscores is never read."""

    def __init__(self, **kwargs: Any) -> None:
        defaults, lists = _config_defaults(type(self))  # type: ignore[arg-type]  # a class is hashable
        values = self.__dict__
        for name, value in defaults:
            values[name] = list(value) if name in lists else value
        self.__call__(**kwargs)

    def __call__(self, **kwargs: Any) -> None:
        names = _config_names(type(self))  # type: ignore[arg-type]  # a class is hashable
        values = self.__dict__
        merge(
            values,
            {
                key: value
                for key, value in kwargs.items()
                if not key.startswith("_") and (key in names or key in values)
            },
        )


class _ConfigWithKeptDefaults(_KeptDefaults, Config):
    """A chart's configuration (`_KeptDefaults`); the options and values are pygal's own."""


class _SerieConfigWithKeptNames(_KeptDefaults, SerieConfig):
    """pygal's series configuration, whose `dir()` is worked out once per process. pygal asks
    for it once per chart option (about 90) for every series, before each series is drawn:
    it was the largest fixed cost of a chart. The names are pygal's own."""

    def __dir__(self) -> tuple[str, ...]:
        return _serie_option_names()


# pygal makes each series configuration from this name of its module: no option chooses it.
pygal.graph.base.SerieConfig = _SerieConfigWithKeptNames


@functools.cache
def _serie_option_set() -> frozenset[str]:
    """`_serie_option_names` as a set: pygal asks whether each of the chart's ~180 options is
    one of them, for every series."""
    return frozenset(_serie_option_names())


def _same_value(value: Any) -> Any:
    return value


#: pygal's value adapter of a line chart (no adapters of its own, then Decimal to float) and of
#: a date line's x values, as `BaseGraph.prepare_values` makes them.
_ADAPT = functools.reduce(compose, [_same_value, decimal_to_float])
_X_ADAPT = functools.reduce(compose, pygal.DateTimeLine._x_adapters)


_object_attribute = object.__getattribute__


class _DateTimeLineWithoutTooltips(pygal.DateTimeLine):
    """pygal's date line without the per-dot tooltip data, which only its script reads (and
    there is none): writing it was a quarter of the time of a long chart; and with the plot
    area at the same place in every chart. Should pygal rename the hooks,
    `_without_scripts_and_tooltips` still removes the data (only slower), and the alignment
    test fails."""

    def __getattribute__(self, name: str) -> Any:
        """pygal's rule (`BaseGraph.__getattribute__`): while a chart is drawn, a value of the
        drawing's state before the graph's own; without asking for `state` three times through
        this same method on every one of the ~2,700 attribute reads of a chart (a third of the
        drawing time of a long chart). The values read are pygal's: the SVG is the same, byte
        for byte (`test_charts_are_drawn_as_pygal_draws_them` compares with pygal's method)."""
        if name[:2] != "__" and name != "state":
            try:
                state = _object_attribute(self, "state")
            except AttributeError:  # before pygal's __init__ sets it: no state yet
                state = None
            if state is not None:
                values = state.__dict__
                if name in values:
                    return values[name]
        return _object_attribute(self, name)

    def __setattr__(self, name: str, value: Any) -> None:
        """pygal's rule (`BaseGraph.__setattr__`): while a chart is drawn, into its state."""
        try:
            state = _object_attribute(self, "state")
        except AttributeError:
            state = None
        if name[:2] == "__" or state is None:
            object.__setattr__(self, name, value)
        else:
            setattr(state, name, value)

    def _tooltip_data(self, *args: object, **kwargs: object) -> None:
        return None

    def _format(self, *args: object, **kwargs: object) -> str:
        # The value of a dot in words, used only by tooltips and printed values (both off):
        # formatting it (a date through Babel for every dot) was a third of a chart's time.
        return ""

    def prepare_values(self, raw: Any, offset: int = 0) -> Any:
        """pygal's `BaseGraph.prepare_values` for the charts drawn here (lists of (moment,
        value) pairs, no metadata, no logarithmic scale): the same series of
        [timestamp, value] pairs, without asking the chart's options (through
        `__getattribute__`) again for every point, which was a fifth of a long chart's time.
        Anything else is pygal's own code."""
        if (
            not raw
            or self.strict
            or self.logarithmic
            or self._adapters
            or type(self)._x_adapters is not pygal.DateTimeLine._x_adapters
            or not all(
                type(values) is list and all(type(pair) is tuple and len(pair) == 2 for pair in values)
                for values, _options in raw
            )
        ):
            return super().prepare_values(raw, offset)
        super().prepare_values([], offset)  # the options pygal tidies before the values
        self._adapt = _ADAPT
        self._x_adapt = _X_ADAPT
        width = max([len(values) for values, _options in raw] + [len(self.x_labels or [])])
        options = self.state.__dict__.items()
        names = _serie_option_set()
        series: list[Serie] = []
        for raw_values, serie_config_kwargs in raw:
            # pygal: each x through date_to_datetime then datetime_to_timestamp, each y through
            # decimal_to_float (twice, as pygal does); missing pairs at the end are None, None.
            values: list[list[Any]] = [
                [
                    datetime_to_timestamp(date_to_datetime(x)),
                    decimal_to_float(decimal_to_float(y)),
                ]
                for x, y in raw_values
            ]
            values += [[None, None] for _ in range(width - len(raw_values))]
            serie_config = pygal.graph.base.SerieConfig()
            serie_config(**{key: value for key, value in options if key in names})
            serie_config(**serie_config_kwargs)
            series.append(Serie(offset + len(series), values, serie_config, {}))
        return series

    def line(self, serie: Any, rescale: bool = False) -> None:
        """pygal's `Line.line` for the charts drawn here (no metadata, tooltips, printed values,
        interpolation, fill or logarithmic scale): the same dots and lines, each dot's nodes
        made straight in the tree instead of through pygal's general node maker and its
        tooltip and value hooks (which do nothing here), the largest part of a long chart's
        drawing. Anything else is pygal's own code."""
        view = self.view
        if (
            pygal.etree.etree.lxml  # pygal's nodes are lxml's, not ElementTree's
            or (rescale and self.secondary_series)
            or self.logarithmic
            or self.horizontal
            or self.interpolate
            or self.print_values
            or self.print_labels
            or self.dynamic_print_values
            or type(view) is not View
            or serie.metadata
            or serie.show_only_major_dots
            or serie.fill
            or not serie.allow_interruptions
        ):
            super().line(serie, rescale)
            return
        serie_node = self.svg.serie(serie)
        # `View.__call__`, the same arithmetic in the same order.
        box = view.box
        xmin, ymin, box_width, box_height = box.xmin, box.ymin, box.width, box.height
        width, height = view.width, view.height
        view_values = [
            (
                None if x is None else width * (x - xmin) / box_width,
                None if y is None else height - height * (y - ymin) / box_height,
            )
            for x, y in serie.points
        ]
        if serie.show_dots:
            overlay = serie_node["overlay"]
            radius = str(serie.dots_size)
            sub_element = ElementTree.SubElement
            for x, y in view_values:
                if x is None or y is None:
                    continue
                # pygal's node maker: each value as str(), `class_` written last as `class`.
                dots = sub_element(overlay, "g", {"class": "dots"})
                sub_element(
                    dots,
                    "circle",
                    {"cx": str(x), "cy": str(y), "r": radius, "class": "dot reactive tooltip-trigger"},
                )
        if serie.stroke:
            # pygal splits the line where a value is missing (allow_interruptions).
            sequences = []
            current: list[tuple[Any, Any]] = []
            for x, y in view_values:
                if y is None:
                    if current:
                        sequences.append(current)
                        current = []
                    continue
                current.append((x, y))
            if current:
                sequences.append(current)
            for sequence in sequences:
                self.svg.line(
                    serie_node["plot"], sequence, close=self._self_close, class_="line reactive nofill"
                )

    def _draw(self) -> None:
        # pygal makes its SVG writer in `setup`, with no hook to choose another: this chart's
        # writer is given the kept style sheets before anything is drawn.
        self.svg.__class__ = _SvgWithKeptStyles
        super()._draw()

    def _compute_margin(self) -> None:
        """pygal's margins, with the score labels always given room for `Y_LABEL_DIGITS`
        characters: the plot areas of a page (charts and dose lane) then share their left edge,
        as they share the right one (same time labels), so a dose lies under the ratings of its
        day. pygal sizes text by its number of characters (`text_len`)."""
        super()._compute_margin()
        if self.show_y_labels and self._y_labels:
            widest = max(len(str(label)) for label, _position in self._y_labels)
            size = self.style.label_font_size
            # pygal's room for the labels: their width, at least one line's height (upright).
            given = max(text_len(widest, size), size)
            self.margin_box.left += max(text_len(max(Y_LABEL_DIGITS, widest), size), size) - given


def render_svg(chart: Chart) -> bytes:
    """The chart as a standalone SVG document without scripts."""
    moments = chart.moments
    first: datetime | None
    last: datetime | None
    if chart.axis is not None:
        first, last = chart.axis.start, chart.axis.end
    elif moments:
        first, last = moments[0], moments[-1]
    else:
        first = last = None
    x_labels = chart.axis.ticks() if chart.axis is not None else None
    if x_labels is not None:
        # Milestones are named on the axis; a day tick next to one would collide with it.
        named = [moment for moment, _label in chart.lines]
        near = timedelta(days=max(1, ((last - first).days if first and last else 0) // 14))
        x_labels = sorted(
            [tick for tick in x_labels if all(abs(tick - m) > near for m in named)] + named
        )
    truncation = -1  # no label is cut
    if chart.lines:
        # Room for the longest date and MILESTONE_NAME_CHARS of a name (pygal's cut keeps
        # `truncation` - 1 characters and adds "…").
        days = [moment.astimezone(STOCKHOLM).date() for moment in (x_labels or moments)]
        widest_date = max((len(date_text(day, "short")) for day in days), default=10)
        truncation = widest_date + 1 + MILESTONE_NAME_CHARS + 1
    plot = _DateTimeLineWithoutTooltips(
        _ConfigWithKeptDefaults,
        style=_style(chart),
        width=960,
        height=chart.height,
        js=[],
        title=f"{chart.title}\n{chart.weekly_note}" if chart.weekly else chart.title,
        y_title=chart.y_title,
        range=(chart.y_min, chart.y_max),
        # Whole grades and scores only: a tick at 1.2 on a scale of whole grades means nothing.
        y_labels=list(range(chart.y_min, chart.y_max + 1, chart.y_step)),
        xrange=(first, last) if chart.axis is not None else None,
        x_labels=x_labels,
        include_x_axis=False,
        show_dots=True,
        dots_size=5,
        legend_at_bottom=True,
        legend_at_bottom_columns=2,
        truncate_legend=-1,
        truncate_label=truncation,
        x_label_rotation=20,
        x_value_formatter=_local_labels(chart.lines),
        allow_interruptions=True,
        show_minor_x_labels=chart.axis is not None,
        x_labels_major_count=None if chart.axis is not None else 6,
        no_data_text=gettext("No ratings in this period"),
        tooltip_border_radius=0,
    )
    for series in chart.series:
        if chart.key == DOSES_KEY:
            # Counts per day are separate events, not a course: dots, no joining line.
            plot.add(series.name, series.points, stroke=False, dots_size=7)
        else:
            plot.add(series.name, series.points)
    if first is not None and last is not None:
        for threshold in chart.thresholds:
            # pygal has no band shading: thresholds are dashed grey lines with a legend entry,
            # drawn across the whole range, not only between the first and last rating.
            plot.add(
                threshold.label + f" {threshold.value}",
                [(first, threshold.value), (last, threshold.value)],
                show_dots=False,
                stroke_style={"width": 2, "dasharray": "8, 6"},
            )
        for moment, label in chart.lines:
            plot.add(
                label,
                [(moment, chart.y_min), (moment, chart.y_max)],
                show_dots=False,
                stroke_style={"width": 3, "dasharray": "2, 4"},
            )
    return _without_scripts_and_tooltips(plot.render_tree())


_XML_DECLARATION = "<?xml version='1.0' encoding='utf-8'?>\n"
# More decimals than a pixel needs (pygal writes 15); two keep the drawing exact on screen.
_LONG_DECIMAL = re.compile(r"(\d\.\d\d)\d+")


def _without_scripts_and_tooltips(tree: ElementTree.Element) -> bytes:
    """The SVG without pygal's configuration script and without the data its tooltips read
    (each dot carried its value and coordinates in <desc> elements, nearly half the bytes of a
    long chart; the script that shows them never runs: there is none, and the CSP forbids it),
    with every decimal of an attribute cut after two places (`_LONG_DECIMAL`)."""
    try:
        text = _svg_text(tree)
    except _UnusualTree:  # not a tree pygal makes here: ElementTree's own way
        text = _svg_text_by_elementtree(tree)
    return (_XML_DECLARATION + text).encode("utf-8")


class _UnusualTree(Exception):
    """A tree `_svg_text` does not write (a namespaced or non-text name or value)."""


def _first_group(match: re.Match[str]) -> str:
    return match.group(1)


def _escaped_attribute(text: str) -> str:
    """ElementTree's escaping of an attribute value (`_escape_attrib`), in its order: that of
    character data first, then the quote and the white space."""
    text = _escaped_text(text)
    if '"' in text:
        text = text.replace('"', "&quot;")
    if "\r" in text:
        text = text.replace("\r", "&#13;")
    if "\n" in text:
        text = text.replace("\n", "&#10;")
    if "\t" in text:
        text = text.replace("\t", "&#09;")
    return text


def _escaped_text(text: str) -> str:
    """ElementTree's escaping of character data (`_escape_cdata`)."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


def _left_out(element: ElementTree.Element) -> bool:
    """pygal's <script> and the tooltips' <desc> elements (with their tails) are not written."""
    tag = str(element.tag)
    return tag.endswith("script") or tag.endswith("desc")


def _svg_text(tree: ElementTree.Element) -> str:
    """The text ElementTree writes for the tree (`tostring(tree, encoding="unicode")`) without
    the elements `_left_out` and with long decimals cut, in one walk of the tree written as a
    list of strings: ElementTree's writer first walked the whole tree for namespaces, then
    wrote it through a call per element and a write per piece, after two walks here to take
    the tooltips out and cut the decimals (together two fifths of a long chart's time). Only a
    tree without namespaces or processing instructions (as pygal's tree with ElementTree):
    anything else raises `_UnusualTree`. `test_the_svg_text_is_the_one_elementtree_writes`
    compares with ElementTree."""
    parts: list[str] = []
    append = parts.append
    cut = _LONG_DECIMAL.sub
    comment = ElementTree.Comment

    def write(element: ElementTree.Element) -> None:
        tag: Any = element.tag  # a name, or ElementTree's Comment function for a comment
        text = element.text
        if tag is comment:
            append(f"<!--{text}-->")
        elif type(tag) is not str or tag[:1] == "{":
            raise _UnusualTree(repr(tag))
        else:
            append("<" + tag)
            for name, value in element.items():
                if type(name) is not str or name[:1] == "{" or type(value) is not str:
                    raise _UnusualTree(repr(name))
                if "." in value:  # most attributes are names and classes: no regular expression
                    value = cut(_first_group, value)
                append(f' {name}="{_escaped_attribute(value)}"')
            if text or len(element):
                append(">")
                if text:
                    append(_escaped_text(text))
                for child in element:
                    if not _left_out(child):
                        write(child)
                append(f"</{tag}>")
            else:
                append(" />")
        if element.tail:
            append(_escaped_text(element.tail))

    write(tree)
    return "".join(parts)


def _svg_text_by_elementtree(tree: ElementTree.Element) -> str:
    """What `_svg_text` writes, through ElementTree's own writer (any tree)."""
    for parent in list(tree.iter()):
        for child in list(parent):
            if _left_out(child):
                parent.remove(child)
    for element in tree.iter():
        for name, value in element.attrib.items():
            if "." in value:
                element.attrib[name] = _LONG_DECIMAL.sub(r"\1", value)
    return ElementTree.tostring(tree, encoding="unicode")


def moment_label(moment: datetime) -> str:
    return datetime_text(moment.astimezone(STOCKHOLM), "short")


def time_label(moment: datetime) -> str:
    """The time of day of `moment` in Stockholm, e.g. 14:05."""
    return time_text(moment.astimezone(STOCKHOLM), "short")
