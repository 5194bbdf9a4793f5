"""The steps of an assessment form, drawn in Python (pallapp.forms.markup.instrument_steps),
come out byte for byte as the `instrument_form` macro's loop drew them: the macro as it was is
kept here as the reference and compared with assessments/_instrument_form.html for every
instrument, role and language: a new form with and without a recall period, a form sent with
errors and skipped answers, one the same as a moment ago, and a correction with its call block."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import pytest
from flask import Flask, render_template_string

from pallapp import create_app
from pallapp.forms.instruments import assessment_form_class
from pallapp.forms.markup import instrument_blocks
from pallapp.scoring import INSTRUMENTS
from tests.app.test_instrument_markup import ROLES, _answers

#: assessments/_instrument_form.html's `instrument_form` macro before its steps were drawn in
#: Python.
REFERENCE = """{% macro _error_target(f) -%}
{{ f.id ~ "-0" if f.type in ("ScaleField", "RadioField") else f.id }}
{%- endmacro %}

{% macro instrument_form(form, recall_label=None, skipped_labels=None, extra=False, identical=None, device=False) %}
{%- set sections = form.sections() -%}
{%- set skipped_codes = form.skipped() if skipped_labels else [] -%}
<link rel="stylesheet" href="{{ url_for('static', filename='assessment.css') }}">
<script src="{{ url_for('static', filename='assessment.js') }}" defer></script>
<form method="post" novalidate class="assessment-form" data-assessment{% if device %} data-device-form{% endif %}{% if form.errors or skipped_labels or identical %} data-unsaved="1"{% endif %}{% if skipped_labels or identical %} data-show-all="1"{% endif %}>
  {#- The first submit button is the one Enter in a text box would press: a disabled one means
      Enter never sends (or confirms) a half-filled assessment by accident. -#}
  <button type="submit" class="implicit-submit-guard" disabled hidden></button>
  {{ hidden_inputs(form) }}
  {% if form.definition.guidance %}
  <p class="guidance">{{ _(form.definition.guidance) }}</p>
  {% endif %}

  {% if form.errors %}
  <div class="message error error-summary" role="alert">
    <p>{{ _("Please correct the marked fields. Nothing has been saved yet.") }}</p>
    <ul>
      {% for error in form.client_token.errors %}<li>{{ error }}</li>{% endfor %}
      {% for section in sections %}{% for f in section.fields if f.errors %}
      <li><a href="#{{ _error_target(f) }}">{{ f.label.text }}</a>: {% for error in f.errors %}{{ error }} {% endfor %}</li>
      {% endfor %}{% endfor %}
    </ul>
  </div>
  {% endif %}

  {% if identical %}
  <div class="message skipped-box" role="alert" aria-labelledby="identical-heading">
    <h2 id="identical-heading">{{ _("The same answers were saved a moment ago") }}</h2>
    <p>{{ _("An assessment with exactly these answers was saved at %(time)s. Nothing has been saved now.", time=identical.at.strftime("%H:%M")) }}</p>
    <p><a class="button primary" href="{{ identical.url }}">{{ _("Open the saved assessment") }}</a></p>
    {% if identical.incomplete_confirmed %}<input type="hidden" name="confirm_incomplete" value="1">{% endif %}
    <button type="submit" class="button secondary" name="confirm_identical" value="1">{{ _("Save it again as a new assessment") }}</button>
  </div>
  {% endif %}

  {% if skipped_labels %}
  <div class="message skipped-box" role="alert" aria-labelledby="skipped-heading">
    <h2 id="skipped-heading">{{ _("Some questions have no answer") }}</h2>
    <ul>
      {% for label in skipped_labels %}<li>{{ label }}</li>{% endfor %}
    </ul>
    <p>{{ _("Without these answers the assessment is scored as incomplete: scores that need them are left out.") }}</p>
    <p>{{ _("To answer them, choose an answer for each of these questions below, then press the button at the end of the form.") }}</p>
    <button type="submit" class="button secondary" name="confirm_incomplete" value="1">{{ form.confirm_label }}</button>
  </div>
  {% endif %}

  {% if sections|length > 1 %}
  {#- Shown by assessment.js, which does what it says: the move is announced beforehand, so it
      is no surprise (WCAG 3.2.2), and it only follows a tap, never the arrow keys. -#}
  <p class="hint steps-hint" data-steps-hint hidden>{{ _("After each tapped answer the form moves on by itself. “Back” takes you back.") }}</p>
  {% endif %}
  {% for section in sections %}
  <section class="step" id="step-{{ section.number }}" aria-labelledby="step-{{ section.number }}-heading">
    <h2 class="step-heading" id="step-{{ section.number }}-heading" tabindex="-1">
      {%- if section.count > 1 -%}
      {{ _("Step %(number)s of %(count)s: %(title)s", number=section.number, count=section.count, title=_(section.title)) }}
      {%- else -%}
      {{ _(section.title) }}
      {%- endif -%}
    </h2>
    {% if section.count > 1 %}
    <progress class="step-progress" max="{{ section.count }}" value="{{ section.number }}" aria-hidden="true"></progress>
    {% endif %}
    {#- On every step: one step at a time on a phone, and the period is what each answer is about. -#}
    {% if recall_label %}<p class="recall">{{ recall_label }}</p>{% endif %}
    {% if form.definition.instruction %}<p class="recall">{{ _(form.definition.instruction) }}</p>{% endif %}
    {#- Drawn in Python (pallapp/forms/markup.py): a macro per item and per option cost most of
        the page's time. #}
    {{ instrument_blocks(form, section.blocks, skipped_codes) }}
    {% if loop.last %}
    {% if caller is defined %}<div class="context-block">{{ caller() }}</div>{% endif %}
    <div class="submit-area">
      <button type="submit" class="button primary submit-button">{{ form.submit_label }}</button>
    </div>
    {% endif %}
    {% if section.count > 1 %}
    <div class="step-nav" hidden>
      {% if not loop.first %}<button type="button" class="button secondary" data-step-back>{{ _("Back") }}</button>{% endif %}
      {% if not loop.last %}<button type="button" class="button primary" data-step-next>{{ _("Next") }}</button>{% endif %}
    </div>
    {% endif %}
  </section>
  {% endfor %}
</form>
{% endmacro %}
"""

CALLS = {
    "new": "{{ instrument_form(form, recall_label=recall_label, skipped_labels=skipped_labels, identical=identical, device=True) }}",
    "correction": (
        "{% call instrument_form(form, recall_label=recall_label, extra=True) %}"
        '<label for="reason">Why <b>&</b></label><textarea id="reason"></textarea>{% endcall %}'
    ),
}
NOW_TEMPLATE = '{% from "assessments/_instrument_form.html" import instrument_form %}'


@pytest.fixture(scope="module")
def app() -> Flask:
    return create_app(
        {"ENV_NAME": "testing", "DATABASE_URL": "sqlite:///:memory:", "WTF_CSRF_ENABLED": False}
    )


@contextmanager
def _request(app: Flask, language: str, data: dict[str, str] | None) -> Iterator[None]:
    method = "GET" if data is None else "POST"
    with app.test_request_context(method=method, data=data, headers={"Accept-Language": language}):
        yield


def _both(form: Any, **context: Any) -> tuple[str, str]:
    values = {"recall_label": None, "skipped_labels": None, "identical": None, **context}
    call = CALLS[values.pop("call", "new")]
    # The reference's macro definitions leave their white space before the call's output.
    macros = REFERENCE.rstrip("\n")
    between = render_template_string(macros)
    reference = render_template_string(
        macros + call, form=form, instrument_blocks=instrument_blocks, **values
    )
    assert reference.startswith(between)
    reference = reference[len(between) :]
    drawn = render_template_string(NOW_TEMPLATE + call, form=form, **values)
    return drawn, reference


@pytest.mark.parametrize("language", ["sv", "en"])
@pytest.mark.parametrize("role", list(ROLES))
@pytest.mark.parametrize("code", list(INSTRUMENTS))
def test_steps_are_drawn_as_the_macro_drew_them(
    app: Flask, code: str, role: str, language: str
) -> None:
    form_class = assessment_form_class(code, **ROLES[role])
    for recall_label in (None, "Over the past <3> days & nights"):
        for _ in range(2):  # the second time from the markup kept the first time
            with _request(app, language, None):
                form = form_class()
                form.client_token.data = "0123456789abcdef0123456789abcdef"
                drawn, reference = _both(form, recall_label=recall_label)
                assert drawn == reference
                assert 'class="step"' in drawn
    with _request(app, language, _answers(code, invalid=True)):
        form = form_class()
        form.validate()
        skipped = [f"Item <{code}> & more" for code in form.skipped()] or ["Pain <x>"]
        drawn, reference = _both(form, skipped_labels=skipped, recall_label="Now")
        assert drawn == reference
        assert "has-error" in drawn
    with _request(app, language, _answers(code, invalid=False)):
        form = form_class()
        assert form.validate()
        identical = {
            "at": datetime(2026, 11, 30, 9, 5),
            "url": "/patients/p1/assessments/a1?x=1&y=2",
            "incomplete_confirmed": True,
        }
        drawn, reference = _both(form, identical=identical)
        assert drawn == reference
        drawn, reference = _both(form, call="correction", recall_label="Now")
        assert drawn == reference
        assert "Why <b>&</b>" in drawn
