"""The overview's rows, drawn in Python (pallapp.review.overview_markup), come out as the
template's loops drew them before: the loops and the `key_scores` macro are kept here as the
reference, and both are compared in both languages for rows with and without flags, worst items,
doses, ratings, responsible staff and key scores, and with names that need escaping. Only runs of
white space may differ."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask, render_template_string

from pallapp import create_app
from pallapp.flags import FlagCounts
from pallapp.review import overview_markup
from pallapp.review.common import KeyScore
from pallapp.review.compact import RowDetails
from pallapp.review.overview import OverviewRow
from pallapp.review.overview_words import key_score_words
from pallapp.timeutil import today_local

#: review/overview.html's two loops over the rows and review/_macros.html's `key_scores`, as
#: they were before the rows were drawn in Python.
REFERENCE = """{% macro key_scores(scores) %}
<ul class="key-scores">
  {% for score in scores|key_score_words %}
  <li><span class="ks-title">{{ score.title }}</span>
    <span class="ks-value">{{ score.label }}: {{ score.value }}</span>
    {% if score.band_label %}<span class="band band-{{ score.band }}">{{ score.band_label }}</span>{% endif %}
    <span class="meta">{{ score.observed_on|local_date }}</span></li>
  {% else %}
  <li class="meta">{{ _("No ratings yet.") }}</li>
  {% endfor %}
</ul>
{% endmacro %}
{% set not_rated, no_flags, today, never, overdue, not_named = _("not rated"), _("none"), _("today"), _("never"), _("overdue"), _("not named") %}{% set never_rated, rating_overdue, no_doses = _("Never symptom-rated"), _("Rating overdue"), _("No as-needed doses in the last 24 hours.") %}{% set trends_label, flags_label, summary_label = _("Trends"), _("Flags"), _("Summary") %}
<tbody>
    {% for item in rows %}
    {% set row, patient, details, age = item.row, item.row.patient, item.row.details, item.row.rating_age_days %}
    <tr class="overview-line" data-patient="{{ patient.public_id }}">
      <th scope="row"><a href="{{ item.trends_url }}">{{ patient.family_name }}, {{ patient.given_name }}</a>
        <span class="meta pnr">{{ patient.masked_personnummer }}</span></th>
      <td class="phase-cell">{{ item.phase }}{% if details and details.days_in_phase is not none %}<span class="meta"> · {{ ngettext("%(num)d day", "%(num)d days", details.days_in_phase) }}</span>{% endif %}</td>
      <td class="worst">{% if item.worst %}<span class="heat-cell band-{{ row.worst_band }} worst-band">{{ _(item.worst_band) }}</span> {{ item.worst[:2]|join(", ") }}{% if item.worst|length > 2 %} …{% endif %}{% else %}<span class="meta">{{ not_rated }}</span>{% endif %}</td>
      <td class="flags-cell">{% if item.flags %}<ul class="flag-groups">{% for group in item.flags[:2] %}<li class="flag-{{ group.severity }}"><span class="visually-hidden">{{ group.severity_label }}: </span>{{ group.title }}{% if loop.first and group["items"] %}: {{ group["items"][:2]|join(", ") }}{% if group["items"]|length > 2 %} …{% endif %}{% endif %} <span class="meta" title="{{ group.when }}">({{ group.short }})<span class="visually-hidden"> {{ group.when }}</span></span></li>{% endfor %}{% if item.flags|length > 2 %}<li class="more"><a class="more-flags" href="{{ item.flags_url }}">{{ ngettext("%(num)d more kind", "%(num)d more kinds", item.flags|length - 2) }}<span class="visually-hidden"> – {{ patient.name }}</span></a></li>{% endif %}</ul>{% else %}<span class="meta">{{ no_flags }}</span>{% endif %}</td>
      <td>{% if item.doses %}{{ item.doses|join(", ") }}{% else %}0{% endif %}</td>
      <td class="{% if row.overdue %}overdue{% endif %}">{% if row.last_rating_at %}{% if age == 0 %}{{ today }}{% else %}{{ ngettext("%(num)d day ago", "%(num)d days ago", age) }}{% endif %}{% else %}{{ never }}{% endif %}{% if row.overdue %} <strong class="overdue-label">{{ overdue }}</strong>{% endif %}</td>
      <td class="responsible">{% if details and (details.responsible_nurse or details.responsible_physician) %}{{ details.responsible_nurse or "–" }}<br>{{ details.responsible_physician or "–" }}{% else %}<span class="meta">{{ not_named }}</span>{% endif %}</td>
    </tr>
    {% endfor %}
</tbody>
<ol>
  {% for item in rows %}
  {% set row, patient = item.row, item.row.patient %}
  <li class="card overview-row" data-patient="{{ patient.public_id }}">
    <h2><a href="{{ item.trends_url }}">{{ patient.family_name }}, {{ patient.given_name }}</a></h2>
    <p class="meta">{{ patient.masked_personnummer }} · <span class="phase phase-{{ patient.phase }}">{{ item.phase }}</span> · {{ item.units|join(" · ") }}</p>
    <p class="counts">
      <span class="count count-high">{{ _("High flags: %(count)d", count=row.counts.high) }}</span>
      <span class="count count-medium">{{ _("Medium flags: %(count)d", count=row.counts.medium) }}</span>
      {% if row.last_rating_at %}
      <span class="{% if row.overdue %}overdue{% endif %}">{{ _("Last symptom rating: %(date)s (%(days)d days since; interval %(interval)d days)", date=row.last_rating_on|local_date, days=row.rating_age_days, interval=row.interval_days) }}</span>
      {% else %}
      <span class="overdue">{{ never_rated }}</span>
      {% endif %}
      {% if row.overdue %}<strong class="overdue-label">{{ rating_overdue }}</strong>{% endif %}
    </p>
    {{ key_scores(row.scores) }}
    <p class="doses-24h">{% if item.doses %}{{ _("As-needed doses in the last 24 hours: %(doses)s", doses=item.doses|join(", ")) }}{% else %}{{ no_doses }}{% endif %}</p>
    {% if item.flags %}
    <ul class="flag-list">
      {% for group in item.flags %}<li class="flag-{{ group.severity }}">{{ group.title }} ({{ group.severity_label }}){% if group["items"] %}: {{ group["items"]|join(", ") }}{% endif %} · {{ group.when }}</li>{% endfor %}
    </ul>
    {% endif %}
    <p class="actions">
      <a href="{{ item.trends_url }}">{{ trends_label }}<span class="visually-hidden"> – {{ patient.name }}</span></a>
      <a href="{{ item.flags_url }}">{{ flags_label }}<span class="visually-hidden"> – {{ patient.name }}</span></a>
      <a href="{{ item.summary_url }}">{{ summary_label }}<span class="visually-hidden"> – {{ patient.name }}</span></a>
    </p>
  </li>
  {% endfor %}
</ol>"""

DRAWN = """<tbody>
    {% for item in rows %}
    {{ item.table_row }}
    {% endfor %}
</tbody>
<ol>
  {% for item in rows %}
  {{ item.list_item }}
  {% endfor %}
</ol>"""


@pytest.fixture(scope="module")
def app() -> Flask:
    return create_app(
        {"ENV_NAME": "testing", "DATABASE_URL": "sqlite:///:memory:", "WTF_CSRF_ENABLED": False}
    )


def _same_but_white_space(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _patient(number: int, family: str, given: str, phase: str) -> SimpleNamespace:
    return SimpleNamespace(
        public_id=f"p{number:04d}",
        family_name=family,
        given_name=given,
        name=f"{given} {family}",
        masked_personnummer=f"19400101-{number:04d}"[:-4] + "****",
        phase=phase,
    )


def _score(instrument: str, value: int | None, band: str | None, band_label: str | None, days_ago: int) -> KeyScore:
    return KeyScore(
        instrument=instrument,
        title="ESAS-r" if instrument == "esas_r" else "Abbey Pain Scale",
        label="Total score",
        value=value,
        maximum=90 if instrument == "esas_r" else 18,
        band=band,
        band_label=band_label,
        observed_at=datetime(2026, 3, 1, 23, 30, tzinfo=UTC) - timedelta(days=days_ago),
        assessment=None,  # type: ignore[arg-type]  # the markup never reads it
    )


def _group(title: str, severity: str, items: list[str], count: int) -> dict[str, object]:
    return {
        "title": title,
        "severity": severity,
        "severity_label": {"high": "High", "medium": "Medium"}[severity],
        "items": items,
        "when": f"for 3 days · {count} times",
        "short": f"{count}×, 3 d",
    }


def _rows() -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    today = today_local()
    cases: list[tuple[OverviewRow, dict[str, Any]]] = [
        (
            OverviewRow(
                patient=_patient(1, "Åberg <b>&", 'Anna "A"', "end_of_life"),  # type: ignore[arg-type]
                counts=FlagCounts(2, 3),
                open_flags=[],
                scores=[
                    _score("esas_r", 41, "severe", "Severe", 0),
                    _score("abbey", None, None, None, 2),
                ],
                last_rating_at=now,
                interval_days=1,
                overdue=True,
                worst_band="severe",
                details=RowDetails(today - timedelta(days=4), "Nurse <N>", ""),
            ),
            {
                "flags": [
                    _group("Severe symptom", "high", ["Pain", "Nausea", "Shortness of breath"], 3),
                    _group("Rising <score>", "medium", ["Pain", "Tiredness"], 1),
                    _group("Oral health", "medium", [], 2),
                ],
                "doses": ["Pain 2", "Anxiety & restlessness 1"],
                "worst": ["Pain 9", "Nausea 8", "Tiredness 7"],
                "worst_band": "severe",
            },
        ),
        (
            OverviewRow(
                patient=_patient(2, "Berg", "Bo", "early"),  # type: ignore[arg-type]
                counts=FlagCounts(0, 1),
                open_flags=[],
                scores=[_score("esas_r", 12, "mild", "Mild", 6)],
                last_rating_at=now - timedelta(days=6),
                interval_days=7,
                overdue=False,
                worst_band="moderate",
                details=RowDetails(None, "", "Dr <Läkare>"),
            ),
            {
                "flags": [_group("Pain behaviour", "medium", ["Pain"], 1)],
                "doses": [],
                "worst": ["Pain 5"],
                "worst_band": "moderate",
            },
        ),
        (
            OverviewRow(
                patient=_patient(3, "Ceder", "Cecilia", "early"),  # type: ignore[arg-type]
                counts=FlagCounts(0, 0),
                open_flags=[],
                scores=[],
                last_rating_at=None,
                interval_days=7,
                overdue=True,
                details=None,
            ),
            {"flags": [], "doses": [], "worst": [], "worst_band": None},
        ),
        (
            OverviewRow(
                patient=_patient(4, "Dahl", "David", "end_of_life"),  # type: ignore[arg-type]
                counts=FlagCounts(1, 0),
                open_flags=[],
                scores=[_score("esas_r", 30, "moderate", "Moderate", 0)],
                last_rating_at=now,
                interval_days=1,
                overdue=False,
                worst_band="severe",
                details=RowDetails(today, "", ""),
            ),
            {
                "flags": [
                    _group("Severe symptom", "high", ["Pain", "Nausea"], 1),
                    _group("Rising score", "medium", ["Pain", "Tiredness", "Drowsiness"], 2),
                ],
                "doses": ["Pain 1"],
                "worst": ["Pain 8", "Nausea 7"],
                "worst_band": "severe",
            },
        ),
    ]
    rows = []
    for row, words in cases:
        public_id = row.patient.public_id
        rows.append(
            {
                "row": row,
                "units": ["Avd 1 <Nord>", "ASIH & hemsjukvård"],
                "phase": "End-of-life phase" if row.patient.phase == "end_of_life" else "Early <phase>",
                "trends_url": f"/patients/{public_id}/trends?a=1&b=2",
                "flags_url": f"/patients/{public_id}/flags",
                "summary_url": f"/patients/{public_id}/summary",
                **words,
            }
        )
    return rows


@pytest.mark.parametrize("language", ["en", "sv"])
def test_rows_drawn_in_python_match_the_template(app: Flask, language: str) -> None:
    with app.test_request_context(headers={"Accept-Language": language}):
        rows = _rows()
        reference = render_template_string(REFERENCE, rows=rows)
        texts = overview_markup.RowTexts()
        for item in rows:
            item["table_row"] = overview_markup.table_row(item, texts)
            item["list_item"] = overview_markup.list_item(
                item, key_score_words(item["row"].scores), texts
            )
        drawn = render_template_string(DRAWN, rows=rows)
    assert _same_but_white_space(drawn) == _same_but_white_space(reference)
    # The cases cover what the comparison is for.
    for expected in ("&lt;b&gt;&amp;", "more-flags", " …", "<br>", "band band-", "overdue-label",
                     "flag-list", "a=1&amp;b=2", "&lt;Läkare&gt;"):
        assert expected in drawn
    assert (">Förlopp<" if language == "sv" else ">Trends<") in drawn
