"""The items of an assessment form, drawn in Python (pallapp.forms.markup), come out as the
Jinja macros drew them before: the macros are kept here as the reference, and both are compared
for every instrument, role and language, untouched (twice: the second from what is kept),
answered, with errors and with skipped items. Only runs of white space may differ."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import pytest
from flask import Flask, render_template_string

from pallapp import create_app
from pallapp.forms.instruments import assessment_form_class
from pallapp.forms.markup import hidden_inputs, instrument_blocks
from pallapp.scoring import INSTRUMENTS

TOKEN = "0123456789abcdef0123456789abcdef"

#: The item macros of assessments/_instrument_form.html as they were before the items were
#: drawn in Python.
REFERENCE = """{% from "_forms.html" import field as text_field %}

{% macro _error_target(f) -%}
{{ f.id ~ "-0" if f.type in ("ScaleField", "RadioField") else f.id }}
{%- endmacro %}

{% macro _errors(f) %}
{% if f.errors %}<p class="error" id="{{ f.id }}-error">{% for error in f.errors %}{{ error }} {% endfor %}</p>{% endif %}
{% endmacro %}

{#- optional: never waited for, and tapping it never moves the form on (see the top). -#}
{% macro _scale(f, skipped=False, optional=False) %}
<fieldset class="item{% if f.errors %} has-error{% endif %}{% if skipped %} is-skipped{% endif %}" id="{{ f.id }}-group"{% if optional %} data-optional{% endif %}{% if f.description %} aria-describedby="{{ f.id }}-description"{% endif %}>
  <legend class="item-label">{{ f.label.text }}</legend>
  {% if f.description %}<p class="item-description" id="{{ f.id }}-description">{{ f.description }}</p>{% endif %}
  {% if skipped %}<p class="skipped-note">{{ _("Not answered yet.") }}</p>{% endif %}
  {% if not f.fully_labelled and f.anchors %}
  <p class="scale-anchors">{% for number, meaning in f.anchors %}<span>{{ number }} = {{ meaning }}</span>{% endfor %}</p>
  {% endif %}
  {%- set fully_labelled = f.fully_labelled %}
  <div class="scale {{ 'scale-labelled' if fully_labelled else 'scale-numeric' }}">
    {#- Each input the same as `option(**attributes)` renders it when iterating the field
        (pallapp.forms.radio_options: iterating builds a WTForms field per option). -#}
    {% for option in radio_options(f, {"aria-describedby": (f.id ~ "-error") if f.errors else None,
                                       "aria-invalid": "true" if f.errors else None}|without_none) %}
    {% set parts = f.option_parts(option.value) %}
    <label class="scale-option{% if parts[0] is none %} scale-special{% endif %}">
      {{ option.input }}
      <span class="option-face">
        {%- if parts[0] is not none %}<span class="option-number">{{ parts[0] }}</span>{% endif -%}
        {%- if parts[1] %} <span class="option-meaning{% if parts[0] is not none and not fully_labelled %} visually-hidden{% endif %}">{{ parts[1] }}</span>{% endif -%}
      </span>
    </label>
    {% endfor %}
  </div>
  {{ _errors(f) }}
</fieldset>
{% endmacro %}

{% macro _choices(f, optional) %}
<fieldset class="item{% if f.errors %} has-error{% endif %}" id="{{ f.id }}-group"{% if optional %} data-optional{% endif %}>
  <legend class="item-label">{{ f.label.text }}</legend>
  <div class="scale scale-choices">
    {#- Each input the same as `option(**attributes)` renders it when iterating the field
        (pallapp.forms.radio_options: iterating builds a WTForms field per option). -#}
    {% for option in radio_options(f, {"aria-describedby": (f.id ~ "-error") if f.errors else None,
                                       "aria-invalid": "true" if f.errors else None}|without_none) %}
    <label class="scale-option">
      {{ option.input }}
      <span class="option-face"><span class="option-meaning">{{ option.label }}</span></span>
    </label>
    {% endfor %}
  </div>
  {{ _errors(f) }}
</fieldset>
{% endmacro %}

{% macro _block(block, skipped_codes) %}
{% if block.kind == "item" %}
{{ _scale(block.field, skipped=block.code in skipped_codes, optional=not block.expected) }}
{% elif block.kind in ("respondent", "choice") %}
{{ _choices(block.field, not block.expected) }}
{% elif block.kind == "observed_at" %}
<div class="context-block">{{ text_field(block.field) }}</div>
{% elif block.kind == "text" %}
<div class="context-block">{{ text_field(block.field, autocomplete="off") }}</div>
{% elif block.kind == "text_list" %}
<fieldset class="item context-block">
  <legend class="item-label">{{ block.label }}</legend>
  <p class="hint">{{ _("Optional. Write one in each box.") }}</p>
  {% for f in block.fields %}{{ text_field(f, autocomplete="off") }}{% endfor %}
</fieldset>
{% elif block.kind == "rated_list" %}
<fieldset class="item context-block">
  <legend class="item-label">{{ block.label }}</legend>
  <p class="hint">{{ _("Optional. Write the name of each other symptom and choose how much it has been a problem.") }}</p>
  {% for label_field, rating_field in block.rows %}
  <div class="rated-row">
    {{ text_field(label_field, autocomplete="off") }}
    {{ _scale(rating_field, optional=True) }}
  </div>
  {% endfor %}
</fieldset>
{% endif %}
{% endmacro %}
{%- for block in blocks %}{{ _block(block, skipped_codes) }}{% endfor -%}"""

ROLES = {
    "staff": {"staff_entry": True, "ask_observed_at": True, "proxy_choice": False},
    "patient": {"staff_entry": False, "ask_observed_at": False, "proxy_choice": False},
    "relative": {"staff_entry": False, "ask_observed_at": False, "proxy_choice": True},
}


@pytest.fixture(scope="module")
def app() -> Flask:
    return create_app(
        {"ENV_NAME": "testing", "DATABASE_URL": "sqlite:///:memory:", "WTF_CSRF_ENABLED": False}
    )


def _same_but_white_space(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@contextmanager
def _request(app: Flask, language: str, data: dict[str, str] | None) -> Iterator[None]:
    method = "GET" if data is None else "POST"
    with app.test_request_context(
        method=method, data=data, headers={"Accept-Language": language}
    ):
        yield


def _answers(code: str, *, invalid: bool) -> dict[str, str]:
    definition = INSTRUMENTS[code]
    data = {"client_token": TOKEN, "respondent": "relative"}
    for index, item in enumerate(definition.items[::2]):
        data[f"item_{item.code}"] = "99" if invalid and index == 0 else str(item.max)
    for context in definition.context_fields:
        if context.kind == "text_list":
            data[f"ctx_{context.code}_1"] = "Pain <at> night & \"day\""
        elif context.kind == "rated_list":
            data[f"ctx_{context.code}_1_label"] = "Itching"
            data[f"ctx_{context.code}_1_rating"] = "2"
        elif context.kind == "choice":
            data[f"ctx_{context.code}"] = "nonsense" if invalid else context.choices[0][0]
        else:
            data[f"ctx_{context.code}"] = "x" * (context.max_length + 1) if invalid else "Hiccups"
    if invalid:
        data["observed_at"] = "yesterday"
    return data


def _both(form: Any, skipped: list[str]) -> tuple[str, str]:
    drawn = "".join(str(instrument_blocks(form, s.blocks, skipped)) for s in form.sections())
    reference = "".join(
        render_template_string(REFERENCE, blocks=s.blocks, skipped_codes=skipped)
        for s in form.sections()
    )
    return _same_but_white_space(drawn), _same_but_white_space(reference)


@pytest.mark.parametrize("language", ["sv", "en"])
@pytest.mark.parametrize("role", list(ROLES))
@pytest.mark.parametrize("code", list(INSTRUMENTS))
def test_items_are_drawn_as_the_macros_drew_them(
    app: Flask, code: str, role: str, language: str
) -> None:
    form_class = assessment_form_class(code, **ROLES[role])
    for _ in range(2):  # the second time from the markup kept the first time
        with _request(app, language, None):
            drawn, reference = _both(form_class(), [])
            assert drawn == reference
    if ROLES[role]["ask_observed_at"]:  # a new form as staff get it: the time filled in
        with _request(app, language, None):
            form = form_class()
            form.observed_at.data = datetime(2026, 11, 30, 9, 5)
            drawn, reference = _both(form, [])
            assert drawn == reference
            assert 'value="2026-11-30T09:05"' in drawn
    answers: dict[str, object] | None = None
    for invalid in (False, True):
        with _request(app, language, _answers(code, invalid=invalid)):
            form = form_class()
            assert form.validate() is not invalid
            drawn, reference = _both(form, form.skipped())
            assert drawn == reference
            assert ("has-error" in drawn) is invalid
            assert "checked" in drawn
            assert "is-skipped" in drawn
            answers = None if invalid else form.answers()
    with _request(app, language, None):  # a correction: the stored answers filled in
        form = form_class()
        form.load_answers(answers or {})
        drawn, reference = _both(form, [])
        assert drawn == reference
        for text in ("Hiccups", "Pain &lt;at&gt; night &amp; &#34;day&#34;"):
            assert (text in drawn) is (text in reference)


@pytest.mark.parametrize("csrf", [True, False])
def test_hidden_inputs_are_drawn_as_hidden_tag_drew_them(csrf: bool) -> None:
    app = create_app(
        {"ENV_NAME": "testing", "DATABASE_URL": "sqlite:///:memory:", "WTF_CSRF_ENABLED": csrf}
    )
    form_class = assessment_form_class("esas_r", **ROLES["staff"])
    # A posted token that is not one (the form gives a fresh one), and one with markup in it.
    for data in (None, {"client_token": '<b>"&'}, {"client_token": TOKEN}):
        with _request(app, "sv", data):
            form = form_class()
            form.validate()
            drawn = str(hidden_inputs(form))
            assert drawn == str(form.hidden_tag("csrf_token", "client_token"))
            assert drawn.count("<input ") == (2 if csrf else 1)
            assert "<b>" not in drawn
