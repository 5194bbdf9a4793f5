"""The trends page's long loops drawn in Python, for `review/trends.html`.

Over a long stay ("all" at 100x history: 485 ratings over three years) Jinja spent about a third
of the page's time in its loops: the header of each heat map column (150 of them, a date or a
month and a count each), the rows of the chart tables, the days listed under the dose lane and
the rows of the dose tables, with an attribute lookup, an escape and often a gettext or a date
format per value. Here each loop is drawn with string joins; texts that repeat are translated
once per request (`RowTexts`, as on the overview) and each moment, day and month is formatted
once per request. Data (drugs, amounts, routes, identifiers) is escaped as the template escaped
it, and translations are trusted as Jinja's `_()` trusts them.

Each method returns what its loop in the template wrote, white space included: the template
keeps the text around each call, and tests/app/review/test_trends_markup.py keeps the loops as
they were and compares the two byte for byte, in English and Swedish.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime

from markupsafe import Markup

from pallapp.i18n import datetime_text
from pallapp.review import charts, heatmap
from pallapp.review.charts import Chart, DoseDay, DoseMark, DoseMonth, Period
from pallapp.review.heatmap import HeatMap
from pallapp.review.overview_markup import RowTexts, _e


class TrendsMarkup:
    """The loops of one trends page, for one request in one language (nothing outlives it)."""

    def __init__(self, gettext: Callable[[str], str]) -> None:
        self._texts = RowTexts()
        self._cells = heatmap.cells_writer(gettext)
        self._moments: dict[datetime, str] = {}
        self._months: dict[date, str] = {}
        self._times: dict[datetime, str] = {}
        self._indications: dict[str, str] = {}
        self._periods: dict[tuple[datetime, date, date, bool], str] = {}
        self._values: dict[int | None, str] = {}
        self._versions: dict[tuple[str, str | None], str] = {}
        self._given: dict[tuple[str, str, str, str | None, bool], str] = {}

    # --- the values the loops repeat, each worked out once -----------------------------------
    def _moment(self, moment: datetime) -> str:
        """`moment_label(moment)`, escaped."""
        found = self._moments.get(moment)
        if found is None:
            # `moment_label` without its conversion to Stockholm time: `datetime_text` converts
            # to the reader's zone itself, and keys its texts by the instant.
            found = self._moments[moment] = _e(datetime_text(moment, "short"))
        return found

    def _month(self, first: date) -> str:
        """`month_label(first)`, escaped."""
        found = self._months.get(first)
        if found is None:
            found = self._months[first] = _e(charts.month_label(first))
        return found

    def _time(self, moment: datetime) -> str:
        """`time_label(moment)`, escaped."""
        found = self._times.get(moment)
        if found is None:
            found = self._times[moment] = _e(charts.time_label(moment))
        return found

    def _indication(self, code: str) -> str:
        """`indication_name(code)`, escaped."""
        found = self._indications.get(code)
        if found is None:
            found = self._indications[code] = _e(charts.indication_name(code))
        return found

    def _value(self, value: object) -> str:
        """The cell of one value of a chart table ("–": none), kept for the page."""
        cell = "<td>–</td>" if value is None else f"<td>{_e(value)}</td>"
        if value is None or type(value) is int:
            self._values[value] = cell
        return cell

    def _period(self, chart: Chart, moment: datetime, period: Period) -> str:
        """`chart.period_label(moment)`, escaped: the charts of a page share their weeks and
        months, and a label is the week or month of the point, whatever its count."""
        key = (moment, period.first, period.last, period.monthly)
        found = self._periods.get(key)
        if found is None:
            found = self._periods[key] = _e(chart.period_label(moment))
        return found

    def _version(self, instrument: str, label: str | None) -> str:
        if not label:
            return ""
        found = self._versions.get((instrument, label))
        if found is None:
            found = self._versions[(instrument, label)] = (
                f'<span class="version version-{_e(instrument)}">{self._texts.text(label)}</span>'
            )
        return found

    def _dose_given(self, dose: DoseMark, cells: bool, effect_word: str, not_evaluated: str) -> str:
        """What a dose's row (`cells`: of the dose table) or list entry says of the drug, the
        amount, the route and the effect, escaped; once per page for each such four (a long
        stay repeats a few)."""
        key = (dose.drug, dose.dose, dose.route, dose.effect, cells)
        found = self._given.get(key)
        if found is None:
            effect = _e(dose.effect) if dose.effect else not_evaluated
            if cells:
                found = (
                    f'<td>{_e(dose.drug)}</td><td class="dose-amount">{_e(dose.dose)}</td>'
                    f"<td>{_e(dose.route)}</td><td>{effect}</td>"
                )
            else:
                found = (
                    f'{_e(dose.drug)} <span class="dose-amount">{_e(dose.dose)}</span>, '
                    f"{_e(dose.route)}; {effect_word}: {effect}"
                )
            self._given[key] = found
        return found

    # --- heat maps ------------------------------------------------------------------------------
    def heat_columns(self, heat: HeatMap) -> Markup:
        """The `<th>` of each column of a heat map (a month's, then one rating's each)."""
        texts = self._texts
        parts = []
        for column in heat.columns:
            version = self._version(column.instrument, column.version_label)
            if column.month:
                count = texts.plural(
                    "highest of %(num)d rating", "highest of %(num)d ratings", column.count
                )
                parts.append(
                    '<th scope="col" class="heat-when heat-month" '
                    f'data-month="{_e(column.month.isoformat()[:7])}">{self._month(column.month)}'
                    f'{version}<span class="heat-count">{count}</span></th>'
                )
            else:
                parts.append(
                    f'<th scope="col" class="heat-when" data-assessment="{_e(column.public_id)}">'
                    f"{self._moment(column.observed_at)}{version}</th>"
                )
        return Markup("".join(parts))  # noqa: S704 (every value above is escaped)

    def heat_rows(self, heat: HeatMap) -> Markup:
        """The `<tr>` of each item of a heat map, its cells by `heatmap.cells_writer`."""
        texts = self._texts
        cells = self._cells
        return Markup(  # noqa: S704 (codes escaped, labels our catalogue's, cells escaped there)
            "".join(
                f'\n        <tr data-item="{_e(row.code)}"><th scope="row">{texts.text(row.label)}'
                f"</th>{cells(row)}</tr>\n        "
                for row in heat.rows
            )
        )

    # --- chart tables ---------------------------------------------------------------------------
    def chart_rows(self, chart: Chart) -> Markup:
        """The rows of a chart's table: the date, or the week or month of an aggregated point,
        then each series' value ("–": none) and, aggregated, how many ratings the period holds."""
        weekly = chart.weekly
        version = (
            f'<td class="version">{_e(chart.version_label)}</td>' if chart.version_label else ""
        )
        parts = []
        periods = chart.periods
        known = self._values
        for moment, values in chart.table():
            when = self._period(chart, moment, periods[moment]) if weekly else self._moment(moment)
            # Only a whole number (or none) is looked up: True or 1.0 would find 1's cell.
            cells = "".join(
                [
                    known.get(value) or self._value(value)
                    if value is None or type(value) is int
                    else self._value(value)
                    for value in values
                ]
            )
            count = f"<td>{_e(periods[moment].count)}</td>" if weekly else ""
            parts.append(
                f'\n        <tr><th scope="row">{when}</th>{version}{cells}{count}</tr>\n        '
            )
        return Markup("".join(parts))  # noqa: S704 (every value above is escaped)

    # --- the dose lane --------------------------------------------------------------------------
    def dose_days(self, points: Iterable[DoseDay]) -> Markup:
        """The list under the dose lane: each point (a day and an indication) with its doses,
        each linking to its row in the dose table."""
        texts = self._texts
        in_table = texts.text("(row in the dose table)")
        effect_word = texts.text("effect")
        not_evaluated = texts.text("not evaluated")
        parts = []
        for point in points:
            count = texts.plural("%(num)d dose", "%(num)d doses", len(point.doses))
            parts.append(
                '\n    <li><details class="dose-day">\n      <summary><span class="dose-day-date">'
                f"{texts.day(point.day)}</span> {self._indication(point.indication)}: {count}"
                '</summary>\n      <ul class="plain">\n        '
            )
            for row, dose in point.doses:
                given = self._dose_given(dose, False, effect_word, not_evaluated)
                parts.append(
                    f'\n        <li><a href="#dose-{_e(row)}"><span class="dose-time">'
                    f"{self._time(dose.given_at)}</span>"
                    f'<span class="visually-hidden"> {in_table}</span></a> {given}'
                    "</li>\n        "
                )
            parts.append("\n      </ul>\n    </details></li>\n    ")
        return Markup("".join(parts))  # noqa: S704 (every value above is escaped)

    def dose_month_rows(self, months: Iterable[DoseMonth]) -> Markup:
        """The rows of the table of doses counted per month and indication."""
        return Markup(  # noqa: S704 (every value is escaped)
            "".join(
                f'\n        <tr data-month="{_e(row.first.isoformat()[:7])}" '
                f'data-indication="{_e(row.indication)}"><th scope="row">{self._month(row.first)}'
                f"</th><td>{self._indication(row.indication)}</td>"
                f'<td class="dose-count">{_e(row.count)}</td>'
                f"<td>{', '.join(_e(drug) for drug in row.drugs)}</td></tr>\n        "
                for row in months
            )
        )

    def dose_rows(self, doses: Iterable[DoseMark]) -> Markup:
        """The rows of the dose table, numbered from 1 (`#dose-N`, as the list above links)."""
        not_evaluated = self._texts.text("not evaluated")
        given = self._dose_given
        return Markup(  # noqa: S704 (every value is escaped)
            "".join(
                f'\n        <tr id="dose-{number}"><th scope="row">{self._moment(dose.given_at)}'
                f"</th><td>{self._indication(dose.indication)}</td>"
                f"{given(dose, True, '', not_evaluated)}</tr>\n        "
                for number, dose in enumerate(doses, start=1)
            )
        )
