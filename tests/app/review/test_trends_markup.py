"""The trends page's loops, drawn in Python (pallapp.review.trends_markup), come out byte for byte
as review/trends.html's loops drew them before: the loops are kept here as the reference, and both
are compared in English and Swedish over a long stay (heat map columns by month and by rating,
IPOS patient and staff versions, a special answer, weekly and monthly chart tables, a chart with a
version, doses by day, by month and one by one) and with data that needs escaping."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask, render_template_string

from pallapp import create_app
from pallapp.i18n import gettext
from pallapp.review import charts, heatmap, trends_markup
from pallapp.timeutil import STOCKHOLM
from tests.app.review.test_overview import IPOS_ITEMS
from tests.app.review.test_views import ESAS_CALM

TODAY = date(2026, 2, 15)

#: The loops of review/trends.html as they were before they were drawn in Python, each between
#: the same text the template keeps around the call that replaced it.
REFERENCE = {
    "heat_columns": """<tr><th scope="col">{{ _("Item") }}</th>{% for column in heat.columns %}{% if column.month %}<th scope="col" class="heat-when heat-month" data-month="{{ column.month.isoformat()[:7] }}">{{ month_label(column.month) }}{% if column.version_label %}<span class="version version-{{ column.instrument }}">{{ _(column.version_label) }}</span>{% endif %}<span class="heat-count">{{ ngettext("highest of %(num)d rating", "highest of %(num)d ratings", column.count) }}</span></th>{% else %}<th scope="col" class="heat-when" data-assessment="{{ column.public_id }}">{{ moment_label(column.observed_at) }}{% if column.version_label %}<span class="version version-{{ column.instrument }}">{{ _(column.version_label) }}</span>{% endif %}</th>{% endif %}{% endfor %}</tr>""",
    "heat_rows": """      <tbody>
        {% for row in heat.rows %}
        <tr data-item="{{ row.code }}"><th scope="row">{{ _(row.label) }}</th>{{ heat_row_cells(row) }}</tr>
        {% endfor %}
      </tbody>""",
    "chart_rows": """      <tbody>
        {% for moment, values in chart.table() %}
        <tr><th scope="row">{% if chart.weekly %}{{ chart.period_label(moment) }}{% else %}{{ moment_label(moment) }}{% endif %}</th>{% if chart.version_label %}<td class="version">{{ chart.version_label }}</td>{% endif %}{% for value in values %}<td>{% if value is none %}–{% else %}{{ value }}{% endif %}</td>{% endfor %}{% if chart.weekly %}<td>{{ chart.periods[moment].count }}</td>{% endif %}</tr>
        {% endfor %}
      </tbody>""",
    "dose_days": """{%- set not_evaluated, effect_word, row_in_table = _("not evaluated"), _("effect"), _("(row in the dose table)") %}
  <ol class="dose-days no-print" aria-labelledby="dose-days-heading">
    {% for point in dose_days %}
    <li><details class="dose-day">
      <summary><span class="dose-day-date">{{ point.day|local_date }}</span> {{ indication_name(point.indication) }}: {{ ngettext("%(num)d dose", "%(num)d doses", point.doses|length) }}</summary>
      <ul class="plain">
        {% for row, dose in point.doses %}
        <li><a href="#dose-{{ row }}"><span class="dose-time">{{ time_label(dose.given_at) }}</span><span class="visually-hidden"> {{ row_in_table }}</span></a> {{ dose.drug }} <span class="dose-amount">{{ dose.dose }}</span>, {{ dose.route }}; {{ effect_word }}: {{ dose.effect or not_evaluated }}</li>
        {% endfor %}
      </ul>
    </details></li>
    {% endfor %}
  </ol>""",
    "dose_month_rows": """      <tbody>
        {% for row in dose_months %}
        <tr data-month="{{ row.first.isoformat()[:7] }}" data-indication="{{ row.indication }}"><th scope="row">{{ month_label(row.first) }}</th><td>{{ indication_name(row.indication) }}</td><td class="dose-count">{{ row.count }}</td><td>{{ row.drugs|join(", ") }}</td></tr>
        {% endfor %}
      </tbody>""",
    "dose_rows": """{%- set not_evaluated = _("not evaluated") %}
      <tbody>
        {% for dose in doses %}
        <tr id="dose-{{ loop.index }}"><th scope="row">{{ moment_label(dose.given_at) }}</th><td>{{ indication_name(dose.indication) }}</td><td>{{ dose.drug }}</td><td class="dose-amount">{{ dose.dose }}</td><td>{{ dose.route }}</td><td>{{ dose.effect or not_evaluated }}</td></tr>
        {% endfor %}
      </tbody>""",
}
#: The same text around each call, as review/trends.html has it now.
DRAWN = {
    "heat_columns": """<tr><th scope="col">{{ _("Item") }}</th>{{ markup.heat_columns(heat) }}</tr>""",
    "heat_rows": """      <tbody>
        {{ markup.heat_rows(heat) }}
      </tbody>""",
    "chart_rows": """      <tbody>
        {{ markup.chart_rows(chart) }}
      </tbody>""",
    "dose_days": """
  <ol class="dose-days no-print" aria-labelledby="dose-days-heading">
    {{ markup.dose_days(dose_days) }}
  </ol>""",
    "dose_month_rows": """      <tbody>
        {{ markup.dose_month_rows(dose_months) }}
      </tbody>""",
    "dose_rows": """
      <tbody>
        {{ markup.dose_rows(doses) }}
      </tbody>""",
}


@pytest.fixture(scope="module")
def app() -> Flask:
    return create_app(
        {"ENV_NAME": "testing", "DATABASE_URL": "sqlite:///:memory:", "WTF_CSRF_ENABLED": False}
    )


def _rating(instrument: str, observed_at: datetime, answers: dict[str, object]) -> SimpleNamespace:
    numbers = [value for value in answers.values() if isinstance(value, int)]
    return SimpleNamespace(
        id=int(observed_at.timestamp()) * 10 + len(instrument),
        public_id=f"{instrument}-<{observed_at:%Y%m%d%H%M}>&",
        instrument=instrument,
        observed_at=observed_at,
        total=sum(numbers),
        scores={"subscales": {}, "max_grade": None},
        answers=answers,
    )


def _stay() -> list[SimpleNamespace]:
    """Two years of ESAS-r (daily for the last five months: charts by week and month, heat map
    columns by month) and of both IPOS versions, with a special answer and a missing one."""
    ratings = []
    start = datetime(2024, 3, 1, 9, 30, tzinfo=STOCKHOLM)
    for day in range(0, 700, 9):
        moment = start + timedelta(days=day)
        ratings.append(_rating("esas_r", moment, dict(ESAS_CALM, pain=day % 11)))
        staff = dict.fromkeys(IPOS_ITEMS, 1) | {"pain": day % 5}
        if day % 2:
            staff["depression"] = "cannot_assess"
            del staff["nausea"]
        ratings.append(_rating("ipos_staff", moment + timedelta(hours=2), staff))
        if day % 3 == 0:
            patient = dict.fromkeys(IPOS_ITEMS, 2) | {"pain": (day + 1) % 5}
            ratings.append(_rating("ipos_patient", moment + timedelta(hours=3), patient))
    for day in range(150):
        moment = datetime(2025, 9, 18, 23, 45, tzinfo=STOCKHOLM) + timedelta(days=day)
        ratings.append(_rating("esas_r", moment, dict(ESAS_CALM, pain=(day * 7) % 11)))
    return sorted(ratings, key=lambda rating: (rating.observed_at, rating.id))


def _doses() -> list[charts.DoseMark]:
    doses = []
    start = datetime(2024, 6, 1, 8, 5, tzinfo=STOCKHOLM)
    for number in range(260):
        doses.append(
            charts.DoseMark(
                start + timedelta(hours=61 * number),
                ("pain", "nausea", "anxiety", "<unknown>")[number % 4],
                ("Morfin <inj> & co", "Haloperidol", 'Midazolam "M"')[number % 3],
                ("2,5 mg", "1 ml", "5 <mg>")[number % 3],
                ("Subkutant", "i.v. & s.c.")[number % 2],
                (None, "Bättre <b>", "", "unchanged")[number % 4],
            )
        )
    return doses


@pytest.mark.parametrize("language", ["en", "sv"])
def test_loops_drawn_in_python_match_the_template(app: Flask, language: str) -> None:
    ratings = _stay()
    doses = _doses()
    dose_months, recent, _cut = charts.doses_by_month(doses, TODAY)
    assert dose_months
    assert recent
    with app.test_request_context(headers={"Accept-Language": language}):
        heat_maps = heatmap.heatmaps(ratings, TODAY)
        built = charts.build_charts(ratings, today=TODAY)
        assert len(heat_maps) == 2
        assert any(column.month for column in heat_maps[1].columns)
        assert any(chart.weekly for chart in built)
        assert any(not chart.weekly for chart in built)
        assert any(chart.version_label for chart in built)
        context: dict[str, Any] = {
            "heat_row_cells": heatmap.cells_writer(gettext),
            "dose_days": charts.dose_days(recent),
            "dose_months": dose_months,
            "doses": recent,
            "moment_label": charts.moment_label,
            "month_label": charts.month_label,
            "time_label": charts.time_label,
            "indication_name": charts.indication_name,
        }
        cases = [
            (key, {"heat": heat}) for heat in heat_maps for key in ("heat_columns", "heat_rows")
        ]
        cases += [("chart_rows", {"chart": chart}) for chart in built]
        cases += [(key, {}) for key in ("dose_days", "dose_month_rows", "dose_rows")]
        markup = trends_markup.TrendsMarkup(gettext)
        for key, values in cases:
            reference = render_template_string(REFERENCE[key], **context, **values)
            drawn = render_template_string(DRAWN[key], markup=markup, **context, **values)
            assert drawn == reference, key
        everything = "".join(
            render_template_string(DRAWN[key], markup=markup, **context, **values)
            for key, values in cases
        )
    # The cases cover what the comparison is for.
    for expected in (
        "&lt;inj&gt; &amp; co",
        "&#34;M&#34;",
        "5 &lt;mg&gt;",
        "&lt;b&gt;",
        "heat-month",
        "version-ipos_patient",
        "version-ipos_staff",
        "heat-count",
        "&lt;unknown&gt;",
        'class="version"',
        "<td>–</td>",
        "dose-count",
        'data-assessment="esas_r-&lt;',
    ):
        assert expected in everything, expected
    assert ("inte utvärderad" if language == "sv" else "not evaluated") in everything
