"""Helpers that make pages cheaper must draw exactly what the slower way drew."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask, url_for
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectChoice
from wtforms.validators import InputRequired, Optional

from pallapp import create_app
from pallapp.forms import radio_options
from pallapp.forms.instruments import ScaleField
from pallapp.urls import fixed_url, url_builder


@pytest.fixture(scope="module")
def app() -> Flask:
    return create_app(
        {"ENV_NAME": "testing", "DATABASE_URL": "sqlite:///:memory:", "WTF_CSRF_ENABLED": False}
    )


class _Form(FlaskForm):
    scale = ScaleField("Pain", [Optional()], low=0, high=4, meanings={0: "Not at all"},
                       specials=("cannot_assess",))
    who = RadioField("Who", [InputRequired()], choices=[SelectChoice("a", "Alone"), SelectChoice("b", "")],
                     render_kw={"class": "choice"})


@pytest.fixture
def form(app: Flask) -> Iterator[_Form]:
    # "scale=3" chosen, "who" sent empty: an error on it after validation.
    with app.test_request_context(method="POST", data={"scale": "3", "who": ""}):
        bound = _Form()
        bound.validate()
        yield bound


def _aria(field: RadioField) -> dict[str, object]:
    if not field.errors:
        return {}
    return {"aria-describedby": f"{field.id}-error", "aria-invalid": "true"}


@pytest.mark.parametrize("name", ["scale", "who"])
def test_radio_options_draw_what_iterating_the_field_draws(form: _Form, name: str) -> None:
    field = form[name]
    expected = [(option.data, option.label.text, str(option(**_aria(field)))) for option in field]
    drawn = [(o.value, str(o.label), str(o.input)) for o in radio_options(field, _aria(field))]
    assert drawn == expected
    # The cases the comparison has to cover are there: a checked option, the required flag,
    # the field's render_kw, the error attributes and an empty label shown as its value.
    inputs = " ".join(markup for _value, _label, markup in drawn)
    if name == "scale":
        assert 'checked id="scale-3"' in inputs
    else:
        assert 'aria-invalid="true"' in inputs
        assert 'class="choice"' in inputs
        assert " required " in inputs
        assert drawn[1][1] == "b"


@pytest.mark.parametrize("public_id", ["aB3_-x9", "a b/ä?"])
def test_url_builder_gives_what_url_for_gives(app: Flask, public_id: str) -> None:
    with app.test_request_context():
        build = url_builder("patients.show", "public_id")
        assert build(public_id) == url_for("patients.show", public_id=public_id)
        assert build("abc") == "/patients/abc"


def test_fixed_url_gives_what_url_for_gives_under_each_script_root(app: Flask) -> None:
    # Kept per script root: an app mounted under a prefix must not get the URLs of the root.
    with app.test_request_context():
        assert fixed_url("patients.today") == url_for("patients.today") == "/today"
        assert fixed_url("auth.logout") == url_for("auth.logout")
        assert fixed_url("patients.today") == "/today"  # the kept one, again
    with app.test_request_context(base_url="http://localhost/pallapp"):
        assert fixed_url("patients.today") == url_for("patients.today") == "/pallapp/today"
    with app.test_request_context():
        assert fixed_url("patients.today") == "/today"
