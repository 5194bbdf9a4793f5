"""The Today page's patient cards, drawn in Python (pallapp.patients.today_markup), come out
byte for byte as the template's loop drew them: the loop is kept here as the reference and both
are compared in both languages, for patients with and without open flags, with high flags, with
no unit, several units, and names, units and ids that need escaping."""

from __future__ import annotations

import pytest
from flask import Flask, render_template_string

from pallapp import create_app
from pallapp.flags import FlagCounts
from pallapp.i18n import gettext
from pallapp.models import Phase
from pallapp.patients.services import ListedPatient
from pallapp.patients.today_markup import patient_cards
from pallapp.urls import url_builder

#: patients/today.html's list as it was before the cards were drawn in Python.
REFERENCE = """{% set patient_url = url_builder('patients.show', 'public_id') %}
<ul class="patient-list">
  {% for patient in patients %}
  <li>
    <a class="patient-card" href="{{ patient_url(patient.public_id) }}">
      <span class="name">{{ patient.family_name }}, {{ patient.given_name }}</span>
      <span class="meta">{{ patient.masked_personnummer }} · {{ phase_labels[patient.phase] }}</span>
      <span class="meta">{{ patient.unit_names|join(" · ") }}</span>
      {% set counts = patient.open_flags %}
      {% if counts %}
      <span class="flag-counts{% if counts.high %} has-high{% endif %}">{{ flag_texts[counts] }}</span>
      {% endif %}
    </a>
  </li>
  {% endfor %}
</ul>"""

DRAWN = """
<ul class="patient-list">
  {{ patient_cards }}
</ul>"""


@pytest.fixture(scope="module")
def app() -> Flask:
    return create_app(
        {"ENV_NAME": "testing", "DATABASE_URL": "sqlite:///:memory:", "WTF_CSRF_ENABLED": False}
    )


def _patients() -> list[ListedPatient]:
    return [
        ListedPatient(
            id=1,
            public_id="a1b2c3",
            family_name="Åberg <b>&",
            given_name='Anna "A" O\'Hara',
            masked_personnummer="19400101-****",
            phase=Phase.END_OF_LIFE,
            unit_names=["Avd 1 <Nord>", "ASIH & hemsjukvård"],
            open_flags=FlagCounts(high=2, medium=3),
        ),
        ListedPatient(
            id=2,
            public_id="d4e5f6",
            family_name="Berg",
            given_name="Bo",
            masked_personnummer="19500202-****",
            phase=Phase.EARLY,
            unit_names=["Avd 2"],
            open_flags=FlagCounts(high=0, medium=1),
        ),
        ListedPatient(
            id=3,
            public_id="id with space/<slash>",  # url_for escapes it
            family_name="Ceder",
            given_name="Cecilia",
            masked_personnummer="19600303-****",
            phase=Phase.EARLY,
            unit_names=[],
            open_flags=None,
        ),
        ListedPatient(
            id=4,
            public_id="g7h8i9",
            family_name="Dahl",
            given_name="David",
            masked_personnummer="19700404-****",
            phase=Phase.DISCHARGED,
            unit_names=["Avd 1 <Nord>"],
            open_flags=FlagCounts(high=2, medium=3),
        ),
    ]


@pytest.mark.parametrize("language", ["en", "sv"])
def test_cards_drawn_in_python_match_the_template(app: Flask, language: str) -> None:
    with app.test_request_context(headers={"Accept-Language": language}):
        patients = _patients()
        # As the view gives them to the template: each phase and each pair of counts once.
        phase_labels = {patient.phase: patient.phase.label for patient in patients}
        flag_texts = {
            counts: gettext(
                "Open flags: %(high)d high, %(medium)d medium",
                high=counts.high,
                medium=counts.medium,
            )
            for counts in {patient.open_flags for patient in patients if patient.open_flags}
        }
        reference = render_template_string(
            REFERENCE, patients=patients, phase_labels=phase_labels, flag_texts=flag_texts
        )
        cards = patient_cards(
            patients, url_builder("patients.show", "public_id"), phase_labels, flag_texts
        )
        drawn = render_template_string(DRAWN, patient_cards=cards)
    assert drawn == reference
    # The cases cover what the comparison is for.
    for expected in (
        "Åberg &lt;b&gt;&amp;",
        "Anna &#34;A&#34; O&#39;Hara",
        "Avd 1 &lt;Nord&gt; · ASIH &amp; hemsjukvård",
        "flag-counts has-high",
        '"flag-counts"',
        "%3Cslash%3E",
    ):
        assert expected in drawn
    assert ("Livets slutskede" if language == "sv" else "End-of-life phase") in drawn


def test_no_patients_no_cards(app: Flask) -> None:
    with app.test_request_context():
        assert patient_cards([], url_builder("patients.show", "public_id"), {}, {}) == ""
