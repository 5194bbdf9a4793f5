"""The `field` macro of `_forms.html`, drawn in Python (pallapp.forms.markup.form_field and the
kept variant the dose form uses), comes out byte for byte as the macro draws it: text, number,
date-time, select, text area and check box fields, with and without a description, a value,
errors and the macro's options, in both languages; the kept variant twice (the second time from
what is kept) with the value and description of each request put in. Hidden inputs and the
submit button as WTForms draws them."""

from __future__ import annotations

from datetime import datetime

import pytest
from flask import Flask, render_template_string
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import NumberInput

from pallapp import create_app
from pallapp.forms import KeptFieldsMeta, KeptMessagesMeta
from pallapp.forms.markup import (
    form_field,
    hidden_field,
    hidden_input,
    kept_form_field,
    kept_submit,
)
from pallapp.i18n import lazy_gettext as _l

MACRO = '{% from "_forms.html" import field %}{{ field(f, **options) }}'


class SampleForm(FlaskForm):
    class Meta(KeptFieldsMeta, KeptMessagesMeta):
        pass

    when = DateTimeLocalField(
        _l("When was it given?"), validators=[InputRequired()], format="%Y-%m-%dT%H:%M"
    )
    amount = StringField(_l("Dose given"), validators=[DataRequired(), Length(max=40)])
    rating = IntegerField(
        _l("Symptom before the dose (0-10)"),
        validators=[Optional(), NumberRange(0, 10)],
        widget=NumberInput(min=0, max=10),
        description=_l("0 = none, 10 = worst possible. Leave empty if not rated."),
    )
    route = SelectField(
        _l("Route"), choices=[SelectChoice("sc", "s.c. <sub>"), SelectChoice("po", "p.o.")]
    )
    reason = TextAreaField(_l("Why is the dose corrected?"), validators=[Optional()])
    confirm = BooleanField(_l("I have read the warning and the dose was given anyway"))
    client_token = HiddenField()
    submit = SubmitField(_l("Save the dose"))


@pytest.fixture(scope="module")
def app() -> Flask:
    return create_app({"ENV_NAME": "testing", "DATABASE_URL": "sqlite:///:memory:"})


def _macro(field: object, **options: object) -> str:
    return render_template_string(MACRO, f=field, options=options)


CASES = [
    ("when", {}),
    ("amount", {"inputmode": "decimal", "autofocus": True}),
    ("amount", {"inputmode": "decimal", "autofocus": False}),
    ("amount", {"autocomplete": "off"}),
    ("rating", {}),
    ("route", {}),
    ("reason", {}),
    ("confirm", {}),
]


@pytest.mark.parametrize("language", ["en", "sv"])
@pytest.mark.parametrize(("name", "options"), CASES)
def test_form_field_is_the_macro(
    app: Flask, language: str, name: str, options: dict[str, object]
) -> None:
    with app.test_request_context(headers={"Accept-Language": language}):
        form = SampleForm(data={"amount": 'a "5" <mg>', "route": "po", "confirm": True})
        field = form[name]
        assert str(form_field(field, **options)) == _macro(field, **options)
        field.description = "Ordered: 5 <mg> & more"
        field.errors = ["Not a valid <value>.", "Too long"]
        assert str(form_field(field, **options)) == _macro(field, **options)
        assert "has-error" in _macro(field, **options)


@pytest.mark.parametrize("language", ["en", "sv"])
@pytest.mark.parametrize(("name", "options"), CASES)
def test_kept_form_field_is_the_macro(
    app: Flask, language: str, name: str, options: dict[str, object]
) -> None:
    with app.test_request_context(headers={"Accept-Language": language}):
        for description, data in (
            ("Ordered: 5 mg", {}),
            (
                "Ordered: 2.5 <ml> & more",
                {"amount": "2,5", "rating": 3, "when": datetime(2026, 3, 1, 8, 5)},
            ),
            ("", {"amount": 'a "5"'}),
        ):
            form = SampleForm(data=data)
            field = form[name]
            if description:
                field.description = description
            shown = field.description
            for _ in range(2):  # drawn, then from what is kept
                assert str(kept_form_field(form, field, **options)) == _macro(field, **options)
            assert field.description == shown  # put back after drawing what is kept


def test_kept_form_field_draws_posted_and_wrong_fields_anew(app: Flask) -> None:
    with app.test_request_context(method="POST", data={"amount": "x" * 50, "rating": "11"}):
        form = SampleForm()
        form.validate()
        for name in ("amount", "rating"):
            assert form[name].errors
            drawn = str(kept_form_field(form, form[name]))
            assert drawn == _macro(form[name])
            assert 'aria-invalid="true"' in drawn


@pytest.mark.parametrize("language", ["en", "sv"])
def test_hidden_input_and_submit_are_what_wtforms_draws(app: Flask, language: str) -> None:
    with app.test_request_context(headers={"Accept-Language": language}):
        form = SampleForm(data={"client_token": 'abc"<>'})
        for field in (form.csrf_token, form.client_token):
            assert hidden_input(field) == field()
        for _ in range(2):
            assert kept_submit(form, form.submit, "button primary") == form.submit(
                class_="button primary"
            )


def test_hidden_field_of_a_form_without_it_is_nothing(app: Flask) -> None:
    with app.test_request_context():
        form = SampleForm(meta={"csrf": False})
        assert "csrf_token" not in form._fields
        assert hidden_field(form, "csrf_token") == ""
        assert hidden_field(form, "client_token") == form.client_token()
