"""The patient page's repeated parts drawn in Python (pallapp.patients.show_markup) come out byte
for byte as the templates drew them: the old loops are kept here as the reference (the order row
and the milestone list are still templates, included by the orders and milestones pages, and the
`key_scores` macro by the overview), and both are compared in both languages, for each
combination of what the role may do (record doses, prescribe), with and without doses, effects,
limits, instructions, route notes and the rest, empty lists, and names, drugs and notes that
need escaping."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import product
from typing import Any

import pytest
from flask import Flask, render_template_string

from pallapp import create_app
from pallapp.carerecord import DoseOrder, Named, ShownDose, ShownMilestone
from pallapp.flags.orders import Prescriber, ShownOrder
from pallapp.homevisit import FlagGroupView, OrderRow
from pallapp.patients import show_markup
from pallapp.present import rule_view
from pallapp.review.common import KeyScore, LatestRating

#: `careplan/_home_visit.html`'s loops as they were before they were drawn in Python.
FLAGS = """{% for group in visit.flag_groups %}{% set flag = group.view %}
  <details class="flag flag-{{ flag.severity }}" data-code="{{ flag.code }}">
    <summary><strong>{{ flag.title }}</strong> · <span class="severity">{{ flag.severity_label }}</span>{% if group["items"] %} · {{ group["items"]|join(", ") }}{% endif %}
      <span class="flag-when">· {% if group.count > 1 %}{{ ngettext("%(num)d time, first %(first)s, newest %(newest)s", "%(num)d times, first %(first)s, newest %(newest)s", group.count, first=group.first|local_datetime, newest=group.newest|local_datetime) }}{% else %}{{ group.first|local_datetime }}{% endif %} · {{ group.sources|join(", ") }}</span></summary>
    <p>{{ flag.explanation }}</p>
    {% if flag.code == "prn_missing" %}{% for note in visit.route_notes %}<p>{{ note }}</p>{% endfor %}{% endif %}
  </details>
  {% else %}
  <p>{{ _("No open flags.") }}</p>
  {% endfor %}"""

ORDERS = """{% with may_record_dose = visit.may_record_dose, may_prescribe = visit.may_prescribe %}{% for row in visit.orders %}{% include "careplan/_order_row.html" %}{% else %}<li>{{ _("No as-needed order is in force.") }}</li>{% endfor %}{% endwith %}"""

TO_EVALUATE = """{%- set evaluate_url = url_for('careplan.evaluate_dose', public_id=patient.public_id, dose_id="~dose~") %}{% for dose in visit.to_evaluate %}
    <li><a class="button secondary wide" href="{{ evaluate_url|replace("~dose~", dose.public_id) }}">{{ _("%(drug)s %(dose)s at %(when)s: record the effect", drug=dose.order.drug, dose=given_dose(dose), when=dose.given_at|local_datetime) }}</a></li>
    {% endfor %}"""

MILESTONES = """{% with milestones = visit.milestones %}{% include "careplan/_milestone_list.html" %}{% endwith %}"""

KEY_SCORES = """{% from "review/_macros.html" import key_scores %}{{ key_scores(scores) }}"""

NOW = datetime(2026, 11, 30, 10, 15, tzinfo=UTC)


@pytest.fixture(scope="module")
def app() -> Flask:
    return create_app(
        {"ENV_NAME": "testing", "DATABASE_URL": "sqlite:///:memory:", "WTF_CSRF_ENABLED": False}
    )


class _Patient:
    public_id = "p4t1ent"


class _Visit:
    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)


def _order(n: int, **changes: Any) -> ShownOrder:
    values: dict[str, Any] = {
        "id": n,
        "public_id": f"order{n}",
        "series_id": f"series{n}",
        "indication": "pain",
        "indication_text": "",
        "drug": "Morfin",
        "strength": "10 mg/ml",
        "dose": "2.5",
        "dose_min": Decimal("2.5"),
        "dose_max": Decimal("2.5"),
        "dose_unit": "mg",
        "route": "sc",
        "min_interval_minutes": 60,
        "max_doses_per_24h": 6,
        "instructions": "",
        "start_at": NOW - timedelta(days=2),
        "stop_at": None,
        "prescriber": Prescriber("Dr <Läkare> & co"),
    }
    values.update(changes)
    return ShownOrder(**values)


def _dose(n: int, order: ShownOrder, **changes: Any) -> ShownDose:
    values: dict[str, Any] = {
        "public_id": f"dose{n}",
        "given_at": NOW - timedelta(hours=n),
        "dose": "2.5",
        "amount": Decimal("2.5"),
        "dose_unit": "mg",
        "effect": None,
        "order": DoseOrder(order.series_id, order.drug),
    }
    values.update(changes)
    return ShownDose(**values)


def _orders() -> list[OrderRow]:
    plain = _order(1)
    ranged = _order(
        2,
        indication="anxiety",
        indication_text="vid oro <natt>",
        drug='Midazolam "M"',
        strength="",
        dose_min=Decimal("1"),
        dose_max=Decimal("2"),
        min_interval_minutes=90,
        max_doses_per_24h=None,
        instructions="Ge <b>inte</b> & ring",
    )
    unchecked = _order(
        3,
        indication="nausea",
        drug="Haloperidol",
        dose="en halv & en",
        dose_min=None,
        dose_max=None,
        route="po",
        min_interval_minutes=None,
        max_doses_per_24h=3,
    )
    no_limits = _order(4, indication="dyspnoea", min_interval_minutes=None, max_doses_per_24h=None)
    return [
        OrderRow(
            plain,
            "Pain",
            [
                _dose(1, plain, effect="better"),
                _dose(2, plain, effect="worse"),
                _dose(3, plain, amount=None, dose="lite <mer>"),
            ],
        ),
        OrderRow(ranged, "Anxiety: vid oro <natt>", [_dose(4, ranged, amount=Decimal("1.5"))]),
        OrderRow(unchecked, "Nausea", []),
        OrderRow(no_limits, "Breathlessness", []),
    ]


def _flag_groups() -> list[FlagGroupView]:
    first = NOW - timedelta(days=1, hours=3)
    return [
        FlagGroupView(
            rule_view("severe_item", "high", ["Pain", "Breathlessness"]),
            ["Pain", "Breathlessness <svår>"],
            3,
            first,
            NOW,
            ["ESAS-r symptom rating", "IPOS & more"],
        ),
        FlagGroupView(
            rule_view("prn_missing", "medium", []), [], 1, first, first, ["as-needed doses"]
        ),
        FlagGroupView(
            rule_view("prn_missing", "medium", ["Anxiety"]),
            ["Anxiety"],
            2,
            first,
            first,
            ["reminder"],
        ),
    ]


def _milestones() -> list[ShownMilestone]:
    return [
        ShownMilestone(
            "death",
            date(2026, 11, 29),
            "Anna & <Bo>",
            "Lugn <död>",
            "home",
            True,
            False,
            Named("Sköterska 'S'"),
        ),
        ShownMilestone("death", date(2026, 11, 28), "", "", None, None, None, Named("X")),
        ShownMilestone("svas_held", date(2026, 11, 1), "", "Note", None, None, None, Named("Y")),
        ShownMilestone("sip", date(2026, 10, 1), "Z", "", "hospital", None, None, Named("Z")),
    ]


def _key_scores() -> list[KeyScore]:
    rating = LatestRating(1, 1, "abbey", NOW, 4, "mild", {})
    return [
        KeyScore(
            "esas_r",
            "ESAS-r symptom rating",
            "Symptom distress score",
            6,
            90,
            None,
            None,
            NOW,
            rating,
        ),
        KeyScore(
            "abbey",
            "Abbey Pain Scale",
            "Total score",
            4,
            18,
            "mild",
            "Mild pain",
            NOW - timedelta(days=3),
            rating,
        ),
        KeyScore(
            "roag", "ROAG oral health", "Highest grade", None, 3, "severe<", "Severe", NOW, rating
        ),
    ]


def _compare(template: str, drawn: object, **context: Any) -> str:
    reference = render_template_string(template, **context)
    assert str(drawn) == reference
    return reference


@pytest.mark.parametrize("language", ["en", "sv"])
@pytest.mark.parametrize(
    ("may_record_dose", "may_prescribe"), list(product([True, False], repeat=2))
)
def test_order_rows_match_the_order_row_template(
    app: Flask, language: str, may_record_dose: bool, may_prescribe: bool
) -> None:
    with app.test_request_context(headers={"Accept-Language": language}):
        for rows in (_orders(), []):
            visit = _Visit(
                orders=rows, may_record_dose=may_record_dose, may_prescribe=may_prescribe
            )
            drawn = show_markup.order_rows(rows, _Patient.public_id, may_record_dose, may_prescribe)
            reference = _compare(ORDERS, drawn, visit=visit, patient=_Patient())
            if rows:
                assert "Ge &lt;b&gt;inte&lt;/b&gt; &amp; ring" in reference
                assert "Dr &lt;Läkare&gt; &amp; co" in reference
                assert ("/correct" in reference) is may_record_dose
                assert ("/stop" in reference) is may_prescribe
                assert 'class="message error"' in reference


@pytest.mark.parametrize("language", ["en", "sv"])
def test_flag_groups_match_the_loop(app: Flask, language: str) -> None:
    with app.test_request_context(headers={"Accept-Language": language}):
        notes = ["Pain: the order in force is <oral>, not by injection."]
        for groups, route_notes in ((_flag_groups(), notes), (_flag_groups(), []), ([], notes)):
            visit = _Visit(flag_groups=groups, route_notes=route_notes)
            drawn = show_markup.flag_groups(groups, route_notes)
            reference = _compare(FLAGS, drawn, visit=visit)
            if groups and route_notes:
                assert reference.count("&lt;oral&gt;") == 2  # under each prn_missing group


@pytest.mark.parametrize("language", ["en", "sv"])
def test_doses_to_evaluate_match_the_loop(app: Flask, language: str) -> None:
    with app.test_request_context(headers={"Accept-Language": language}):
        order = _order(1, drug="Morfin <&>")
        doses = [
            _dose(1, order),
            _dose(2, order, amount=None, dose="1 <tablett>"),
            _dose(30, order),
        ]
        url = show_markup.url_for(
            "careplan.evaluate_dose", public_id=_Patient.public_id, dose_id="~dose~"
        )
        drawn = show_markup.doses_to_evaluate(doses, url)
        reference = _compare(
            TO_EVALUATE, drawn, visit=_Visit(to_evaluate=doses), patient=_Patient()
        )
        assert "Morfin &lt;&amp;&gt;" in reference


@pytest.mark.parametrize("language", ["en", "sv"])
def test_milestones_match_the_milestone_list_template(app: Flask, language: str) -> None:
    with app.test_request_context(headers={"Accept-Language": language}):
        for milestones in (_milestones(), []):
            drawn = show_markup.milestone_list(milestones)
            reference = _compare(MILESTONES, drawn, visit=_Visit(milestones=milestones))
            if milestones:
                assert "Anna &amp; &lt;Bo&gt;" in reference


@pytest.mark.parametrize("language", ["en", "sv"])
def test_key_scores_match_the_macro(app: Flask, language: str) -> None:
    with app.test_request_context(headers={"Accept-Language": language}):
        for scores in (_key_scores(), []):
            _compare(KEY_SCORES, show_markup.key_scores(scores), scores=scores)
