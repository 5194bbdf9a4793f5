"""Trend charts of a patient's ratings: series built from the instrument definitions, drawn by
pygal as SVG, and the same numbers as a data table for screen readers and print.

pygal adds a small configuration <script> even when its JavaScript is switched off; it is
removed from the tree before serialising, and the SVG is served with a CSP that forbids
scripts, so the charts never run code (they are shown through <img>).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from xml.etree import ElementTree

import pygal
from flask_babel import format_date, format_datetime, gettext
from pygal.style import Style

from pallapp import scoring
from pallapp.models import Assessment
from pallapp.timeutil import STOCKHOLM

IPOS_CODES = ("ipos_patient", "ipos_staff")
# IPOS items that were ever at least this high get a line of their own (the issue: "items
# that were ever >= 2"); the others would only crowd the chart.
IPOS_ITEM_SHOWN_FROM = 2

# High-contrast series colours (Okabe-Ito palette and darker companions), distinguishable with
# common colour-vision deficiencies; every series also has a legend entry and a table column.
COLOURS = (
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#000000", "#E69F00", "#56B4E9",
    "#7a3b00", "#4b0082", "#1e6b34", "#a4161a", "#555555",
)
THRESHOLD_COLOUR = "#6b6b6b"


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
    markers: list[tuple[datetime, str]] = field(default_factory=list)  # doses: (when, indication)
    lines: list[tuple[datetime, str]] = field(default_factory=list)  # milestones

    @property
    def moments(self) -> list[datetime]:
        return sorted({moment for series in self.series for moment, _value in series.points})

    def table(self) -> list[tuple[datetime, list[int | None]]]:
        """One row per moment: the value of each series then (None: not rated then)."""
        by_series = [dict(series.points) for series in self.series]
        return [(moment, [values.get(moment) for values in by_series]) for moment in self.moments]

    @property
    def height(self) -> int:
        """Room for the plot and a three-column legend below it."""
        entries = len(self.series) + len(self.thresholds) + len(self.lines) + len(self.marker_groups)
        return 420 + 34 * -(-entries // 3)

    @property
    def marker_groups(self) -> dict[str, list[datetime]]:
        """Dose moments per indication, in the order of the indications (one legend entry and
        one colour each)."""
        groups: dict[str, list[datetime]] = {}
        rank = {code: index for index, code in enumerate(scoring.PRN_INDICATIONS)}
        for moment, indication in sorted(self.markers, key=lambda m: (rank.get(m[1], 99), m[0])):
            groups.setdefault(indication, []).append(moment)
        return groups

    @property
    def threshold_text(self) -> str:
        return "; ".join(f"{t.label} {t.value}" for t in self.thresholds)


def _band_thresholds(bands: tuple[scoring.Band, ...], skip_first: bool = True) -> list[Threshold]:
    """A threshold line where each band above the lowest starts."""
    chosen = bands[1:] if skip_first else bands
    return [
        Threshold(gettext("%(band)s from", band=gettext(band.label)), band.low) for band in chosen
    ]


def _total_label(definition: scoring.InstrumentDefinition) -> str:
    return gettext(definition.total_label) if definition.total_label else gettext("Total score")


def _of(assessments: list[Assessment], codes: tuple[str, ...]) -> list[Assessment]:
    return [a for a in assessments if a.instrument in codes]


def _esas_item_chart(assessments: list[Assessment]) -> Chart | None:
    esas = _of(assessments, ("esas_r",))
    if not esas:
        return None
    definition = scoring.INSTRUMENTS["esas_r"]
    series = []
    for item in definition.items:
        points = [(a.observed_at, _int(a.answers.get(item.code))) for a in esas]
        if item.optional and all(value is None for _moment, value in points):
            continue
        series.append(Series(gettext(item.label), points))
    return Chart(
        key="esas_items",
        title=gettext("ESAS-r: each symptom"),
        y_title=gettext("Rating (0–10)"),
        y_min=0,
        y_max=10,
        series=series,
        thresholds=_band_thresholds(definition.item_bands)[1:],  # moderate and severe
    )


def _total_and_subscales_chart(
    assessments: list[Assessment],
    codes: tuple[str, ...],
    *,
    key: str,
    title: str,
    y_title: str,
) -> Chart | None:
    """The total and every subscale of the instrument `codes[0]` (same scales for all codes)."""
    chosen = _of(assessments, codes)
    if not chosen:
        return None
    definition = scoring.INSTRUMENTS[codes[0]]
    series = [Series(_total_label(definition), [(a.observed_at, a.total) for a in chosen])]
    for code, subscale in definition.subscales.items():
        series.append(
            Series(
                gettext(subscale.label),
                [(a.observed_at, a.scores.get("subscales", {}).get(code)) for a in chosen],
            )
        )
    return Chart(
        key=key,
        title=title,
        y_title=y_title,
        y_min=0,
        y_max=definition.total_max or 0,
        series=series,
    )


def _esas_total_chart(assessments: list[Assessment]) -> Chart | None:
    return _total_and_subscales_chart(
        assessments,
        ("esas_r",),
        key="esas_total",
        title=gettext("ESAS-r: symptom distress score"),
        y_title=gettext("Score (0–90)"),
    )


def _ipos_subscale_chart(assessments: list[Assessment]) -> Chart | None:
    return _total_and_subscales_chart(
        assessments,
        IPOS_CODES,
        key="ipos_subscales",
        title=gettext("IPOS: total and subscales"),
        y_title=gettext("Score (0–68)"),
    )


def _ipos_item_chart(assessments: list[Assessment]) -> Chart | None:
    ipos = _of(assessments, IPOS_CODES)
    definition = scoring.INSTRUMENTS["ipos_patient"]
    series = []
    for item in definition.items:
        points = [(a.observed_at, _int(a.answers.get(item.code))) for a in ipos]
        if any(value is not None and value >= IPOS_ITEM_SHOWN_FROM for _m, value in points):
            series.append(Series(gettext(item.label), points))
    if not series:
        return None
    return Chart(
        key="ipos_items",
        title=gettext("IPOS: items that were 2 or higher"),
        y_title=gettext("Rating (0–4)"),
        y_min=0,
        y_max=4,
        series=series,
        thresholds=_band_thresholds(definition.item_bands)[1:],  # moderate and severe
    )


def _abbey_chart(assessments: list[Assessment]) -> Chart | None:
    abbey = _of(assessments, ("abbey",))
    if not abbey:
        return None
    definition = scoring.INSTRUMENTS["abbey"]
    return Chart(
        key="abbey",
        title=gettext("Abbey Pain Scale: total score"),
        y_title=gettext("Score (0–18)"),
        y_min=0,
        y_max=definition.total_max or 18,
        series=[Series(_total_label(definition), [(a.observed_at, a.total) for a in abbey])],
        thresholds=_band_thresholds(definition.bands),
    )


def _roag_chart(assessments: list[Assessment]) -> Chart | None:
    roag = _of(assessments, ("roag",))
    if not roag:
        return None
    definition = scoring.INSTRUMENTS["roag"]
    return Chart(
        key="roag",
        title=gettext("ROAG: highest grade"),
        y_title=gettext("Grade (1–3)"),
        y_min=1,
        y_max=3,
        series=[
            Series(gettext("Highest grade"), [(a.observed_at, a.scores.get("max_grade")) for a in roag])
        ],
        thresholds=_band_thresholds(definition.bands),
    )


BUILDERS = (
    _esas_item_chart,
    _esas_total_chart,
    _ipos_subscale_chart,
    _ipos_item_chart,
    _abbey_chart,
    _roag_chart,
)
CHART_KEYS = ("esas_items", "esas_total", "ipos_subscales", "ipos_items", "abbey", "roag")


def _int(value: object) -> int | None:
    # "cannot_assess" and "not_applicable" are not points on the scale.
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def build_charts(
    assessments: list[Assessment],
    *,
    markers: list[tuple[datetime, str]] | None = None,
    lines: list[tuple[datetime, str]] | None = None,
) -> list[Chart]:
    """The charts that have data, in a fixed order, with dose markers and milestone lines."""
    charts = []
    for builder in BUILDERS:
        chart = builder(assessments)
        if chart is not None:
            chart.markers = list(markers or [])
            chart.lines = list(lines or [])
            charts.append(chart)
    return charts


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


def _style(chart: Chart) -> Style:
    """pygal colours series by position: data series first, then grey thresholds, milestone
    lines and the dose markers."""
    colours = [COLOURS[i % len(COLOURS)] for i in range(len(chart.series))]
    colours += [THRESHOLD_COLOUR] * len(chart.thresholds)
    colours += ["#4b0082"] * len(chart.lines)
    colours += [MARKER_COLOURS[i % len(MARKER_COLOURS)] for i in range(len(chart.marker_groups))]
    return Style(colors=tuple(colours), **STYLE_OPTIONS)


#: Dose marker colours, one per indication shown (dark enough on white for AA contrast).
MARKER_COLOURS = ("#a4161a", "#6a4c00", "#00546b", "#5c2d91", "#1d5c2e", "#7a2e00")


def indication_name(code: str) -> str:
    """The indication in words (an unknown code as it is)."""
    label = scoring.PRN_INDICATIONS.get(code)
    return gettext(label) if label else code


def _local_label(moment: datetime) -> str:
    return format_date(moment.astimezone(STOCKHOLM), "short")


def render_svg(chart: Chart) -> bytes:
    """The chart as a standalone SVG document without scripts."""
    moments = chart.moments
    plot = pygal.DateTimeLine(
        style=_style(chart),
        width=960,
        height=chart.height,
        js=[],
        title=chart.title,
        y_title=chart.y_title,
        range=(chart.y_min, chart.y_max),
        include_x_axis=False,
        show_dots=True,
        dots_size=5,
        legend_at_bottom=True,
        legend_at_bottom_columns=3,
        truncate_legend=-1,
        x_label_rotation=20,
        x_value_formatter=_local_label,
        allow_interruptions=True,
        show_minor_x_labels=False,
        x_labels_major_count=6,
        no_data_text=gettext("No ratings in this period"),
        tooltip_border_radius=0,
    )
    for series in chart.series:
        plot.add(series.name, series.points)
    if moments:
        first, last = moments[0], moments[-1]
        for threshold in chart.thresholds:
            # pygal has no band shading: thresholds are dashed grey lines with a legend entry.
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
                stroke_style={"width": 2, "dasharray": "2, 4"},
            )
        for indication, dose_moments in chart.marker_groups.items():
            # One series per indication, each named in the legend: never colour alone.
            plot.add(
                gettext("As-needed doses: %(indication)s", indication=indication_name(indication)),
                [(moment, chart.y_max) for moment in dose_moments],
                stroke=False,
                dots_size=7,
            )
    tree = plot.render_tree()
    for parent in list(tree.iter()):
        for child in list(parent):
            if str(child.tag).endswith("script"):
                parent.remove(child)
    return ElementTree.tostring(tree, encoding="utf-8", xml_declaration=True)


def moment_label(moment: datetime) -> str:
    return format_datetime(moment.astimezone(STOCKHOLM), "short")
