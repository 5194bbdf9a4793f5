"""Assessment forms generated from the instrument definitions (no database needed)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from html.parser import HTMLParser
from typing import Any

import pytest
from flask import Flask, render_template_string

from pallapp import create_app
from pallapp.forms.instruments import ScaleField, assessment_form_class
from pallapp.scoring import INSTRUMENTS, SPECIAL_VALUE_LABELS, score, special_value_label
from pallapp.timeutil import STOCKHOLM

CODES = list(INSTRUMENTS)
TOKEN = "0123456789abcdef0123456789abcdef"

# Every item answered with min, min+1, ... cycling through its range, in definition order.
# IPOS: 0,1,2,3,4 x3, 0,1 -> 31 (physical 0+1+2+3+4 twice = 20); ESAS-r: 0..8 on the nine
# total items (other = 9 is never in totals) -> 36; Abbey: 0,1,2,3,0,1 -> 7; ROAG has no total.
EXPECTED_TOTAL = {"ipos_patient": 31, "ipos_staff": 31, "esas_r": 36, "abbey": 7, "roag": None}

RENDER = (
    '{% from "assessments/_instrument_form.html" import instrument_form %}'
    "{{ instrument_form(form, recall_label=recall_label, skipped_labels=skipped_labels) }}"
)


@pytest.fixture(scope="module")
def app() -> Flask:
    return create_app(
        {"ENV_NAME": "testing", "DATABASE_URL": "sqlite:///:memory:", "WTF_CSRF_ENABLED": False}
    )


def form_class(
    code: str, *, staff_entry: bool = False, observed: bool = False, proxy: bool = False
):  # type: ignore[no-untyped-def]
    return assessment_form_class(
        code, staff_entry=staff_entry, ask_observed_at=observed, proxy_choice=proxy
    )


def cycling_answers(code: str) -> dict[str, str]:
    """Post data answering every item with min, min+1, ... (cycling through the range)."""
    data = {}
    for index, item in enumerate(INSTRUMENTS[code].items):
        data[f"item_{item.code}"] = str(item.min + index % (item.max - item.min + 1))
    return data


def context_data(code: str) -> dict[str, str]:
    """One value for every context field the instrument has."""
    data: dict[str, str] = {}
    for context in INSTRUMENTS[code].context_fields:
        if context.kind == "text_list":
            data[f"ctx_{context.code}_1"] = "  Pain at night  "
            data[f"ctx_{context.code}_2"] = "   "
            data[f"ctx_{context.code}_3"] = "Worried about my son"
        elif context.kind == "rated_list":
            data[f"ctx_{context.code}_1_label"] = "Itching"
            data[f"ctx_{context.code}_1_rating"] = str(context.rating_max)
        elif context.kind == "choice":
            data[f"ctx_{context.code}"] = context.choices[-1][0]
        else:
            data[f"ctx_{context.code}"] = " Hiccups "
    return data


@contextmanager
def posted(app: Flask, code: str, data: dict[str, str], **kwargs: bool) -> Iterator[Any]:
    """A bound form of `code` inside a POST request context carrying `data`."""
    body = {"client_token": TOKEN, **data}
    with app.test_request_context(method="POST", data=body, headers={"Accept-Language": "en"}):
        yield form_class(code, **kwargs)()


@pytest.fixture
def request_context(app: Flask) -> Iterator[None]:
    with app.test_request_context(headers={"Accept-Language": "en"}):
        yield


# --- structure --------------------------------------------------------------------------------


@pytest.mark.parametrize("code", CODES)
def test_one_scale_field_per_item_with_the_definitions_choices(app, code):
    definition = INSTRUMENTS[code]
    with posted(app, code, {}) as form:
        scales = [name for name, field in form._fields.items() if name.startswith("item_")]
        assert scales == [f"item_{code_}" for code_ in definition.item_codes]
        for item in definition.items:
            field = form[f"item_{item.code}"]
            assert isinstance(field, ScaleField)
            assert not field.flags.required
            values = [choice.value for choice in field.iter_choices()]
            assert values == [str(v) for v in range(item.min, item.max + 1)] + list(
                item.special_values
            )
            assert str(field.label.text) == item.label


@pytest.mark.parametrize("code", CODES)
def test_option_labels_carry_number_and_meaning(app, code):
    with posted(app, code, {}) as form:
        for item in form.definition.items:
            labels = {c.value: str(c.label) for c in form[f"item_{item.code}"].iter_choices()}
            for value in item.values:
                meaning = item.label_for(value)
                expected = f"{value} – {meaning}" if meaning else str(value)
                assert labels[str(value)] == expected
            for special in item.special_values:
                assert labels[special] == special_value_label(item, special)


def test_special_values_come_from_the_definition(app):
    for code in CODES:
        with posted(app, code, {}) as form:
            specials = {
                c.value for f in form if isinstance(f, ScaleField) for c in f.iter_choices()
            }
            assert ("cannot_assess" in specials) is (code == "ipos_staff")
            assert ("not_applicable" in specials) is (code == "roag")
    with posted(app, "roag", {}) as form:
        assert [c.value for c in form.item_dentures.iter_choices()][-1] == "not_applicable"
        assert "not_applicable" not in [c.value for c in form.item_voice.iter_choices()]
        # Each special answer in the words of its item: no dentures, or no own teeth.
        last = {
            name: [(c.value, str(c.label)) for c in form[name].iter_choices()][-1]
            for name in ("item_dentures", "item_teeth", "item_gums")
        }
        assert last == {
            "item_dentures": ("not_applicable", SPECIAL_VALUE_LABELS["not_applicable"]),
            "item_teeth": ("not_applicable", "No own teeth (teeth and gums are not assessed)"),
            "item_gums": ("not_applicable", "No own teeth (teeth and gums are not assessed)"),
        }


@pytest.mark.parametrize("code", CODES)
def test_context_fields_follow_the_definition(app, code):
    definition = INSTRUMENTS[code]
    expected: set[str] = set()
    for context in definition.context_fields:
        if context.kind == "text_list":
            expected |= {f"ctx_{context.code}_{n}" for n in range(1, context.max_entries + 1)}
        elif context.kind == "rated_list":
            for n in range(1, context.max_entries + 1):
                expected |= {f"ctx_{context.code}_{n}_label", f"ctx_{context.code}_{n}_rating"}
        else:
            expected.add(f"ctx_{context.code}")
    with posted(app, code, {}) as form:
        assert {name for name in form._fields if name.startswith("ctx_")} == expected
        for context in definition.context_fields:
            if context.kind == "choice":
                choices = [
                    (c.value, str(c.label)) for c in form[f"ctx_{context.code}"].iter_choices()
                ]
                assert choices == list(context.choices)
            if context.kind == "rated_list":
                rating = form[f"ctx_{context.code}_1_rating"]
                assert [c.value for c in rating.iter_choices()] == [
                    str(v) for v in range(context.rating_min, context.rating_max + 1)
                ]


def test_optional_fields_only_when_asked(app):
    with posted(app, "esas_r", {}) as form:
        assert "observed_at" not in form._fields
        assert "respondent" not in form._fields
        assert "recall_period" not in form._fields
    with posted(app, "esas_r", {}, observed=True, proxy=True) as form:
        assert "observed_at" in form._fields
        assert [c.value for c in form.respondent.iter_choices()] == ["patient", "relative"]


def test_classes_are_cached_per_argument_tuple():
    assert form_class("abbey") is form_class("abbey")
    assert form_class("abbey") is not form_class("abbey", staff_entry=True)
    assert form_class("abbey").definition is INSTRUMENTS["abbey"]


@pytest.mark.parametrize("code", CODES)
def test_steps_follow_the_groups_and_hold_every_field(app, code):
    definition = INSTRUMENTS[code]
    with posted(app, code, {}, observed=True, proxy=True) as form:
        steps = form.steps()
        assert [title for title, _fields in steps] == list(definition.groups)
        shown = [field.name for _title, fields in steps for field in fields]
        visible = {name for name in form._fields} - {"client_token", "confirm_incomplete"}
        assert sorted(shown) == sorted(visible)
        first_names = [field.name for field in steps[0][1]]
        assert first_names[:2] == ["respondent", "observed_at"]
        for title, fields in steps:
            items = [f.name[5:] for f in fields if f.name.startswith("item_")]
            assert items == [i.code for i in definition.items if i.group == title]


def test_context_fields_placed_sensibly(app):
    with posted(app, "ipos_patient", {}) as form:
        steps = form.steps()
        first = [field.name for field in steps[0][1]]
        assert first[0] == "ctx_main_problems_1"
        assert first.index("ctx_other_symptoms_1_label") > first.index("item_poor_mobility")
        assert steps[-1][1][-1].name == "ctx_completed_with"
    with posted(app, "abbey", {}) as form:
        assert form.steps()[-1][1][-1].name == "ctx_pain_type"
    with posted(app, "esas_r", {}) as form:
        last = [field.name for field in form.steps()[-1][1]]
        assert last.index("ctx_other_label") + 1 == last.index("item_other")


# --- answers ----------------------------------------------------------------------------------


@pytest.mark.parametrize("code", CODES)
def test_a_full_post_scores(app, code):
    data = cycling_answers(code) | context_data(code) | {"respondent": "patient"}
    with posted(app, code, data, proxy=True) as form:
        assert form.validate(), form.errors
        answers = form.answers()
        result = score(code, answers)
        assert result.total == EXPECTED_TOTAL[code]
        assert result.missing == ()
        assert form.skipped() == []
        assert not form.needs_confirmation()
        if code == "ipos_patient":
            assert result.subscales["physical"] == 20
            assert answers["main_problems"] == ["Pain at night", "Worried about my son"]
            assert answers["other_symptoms"] == [{"label": "Itching", "rating": 4}]
            assert answers["completed_with"] == "with_staff"
        if code == "abbey":
            assert answers["pain_type"] == "acute_on_chronic"
        if code == "esas_r":
            assert answers["other_label"] == "Hiccups"
        if code == "roag":
            assert result.max_grade == 3


@pytest.mark.parametrize("code", CODES)
def test_an_empty_post_is_valid_and_every_item_is_skipped(app, code):
    with posted(app, code, {}) as form:
        assert form.validate(), form.errors
        answers = form.answers()
        assert set(answers) == set(INSTRUMENTS[code].item_codes)
        assert all(value is None for value in answers.values())
        score(code, answers)
        required = [item.code for item in INSTRUMENTS[code].items if not item.optional]
        assert form.skipped() == required
        assert form.needs_confirmation()


@pytest.mark.parametrize("code", CODES)
def test_skipped_items_in_definition_order(app, code):
    items = INSTRUMENTS[code].items
    data = cycling_answers(code)
    left_out = [items[-1].code, items[0].code, items[len(items) // 2].code]
    for item_code in left_out:
        del data[f"item_{item_code}"]
    data[f"item_{items[1].code}"] = ""  # an empty value is no answer either
    with posted(app, code, data) as form:
        assert form.validate(), form.errors
        expected = [
            item.code
            for item in items
            if (item.code in left_out or item.code == items[1].code) and not item.optional
        ]
        assert form.skipped() == expected
        assert [str(label) for label in form.skipped_item_labels()] == [
            INSTRUMENTS[code].item(c).label for c in expected
        ]
        assert score(code, form.answers()).missing == tuple(expected)


def test_confirmation_is_remembered(app):
    with posted(app, "abbey", {"confirm_incomplete": "1"}) as form:
        assert form.validate()
        assert form.skipped()
        assert not form.needs_confirmation()


def test_special_values_are_passed_as_strings(app):
    with posted(
        app, "ipos_staff", cycling_answers("ipos_staff") | {"item_pain": "cannot_assess"}
    ) as form:
        assert form.validate(), form.errors
        assert form.answers()["pain"] == "cannot_assess"
        assert score("ipos_staff", form.answers()).missing == ("pain",)
        assert "pain" not in form.skipped()
    with posted(app, "roag", cycling_answers("roag") | {"item_dentures": "not_applicable"}) as form:
        assert form.validate(), form.errors
        assert form.answers()["dentures"] == "not_applicable"


NO_TEETH_MISMATCH = (
    "A person with no own teeth has no gums either: choose \u201cNo own teeth\u201d for both "
    "Gums and Teeth, or grade both."
)


def test_no_own_teeth_on_teeth_and_gums_together_is_one_complete_answer(app):
    data = cycling_answers("roag") | {"item_teeth": "not_applicable", "item_gums": "not_applicable"}
    with posted(app, "roag", data, staff_entry=True) as form:
        assert form.validate(), form.errors
        answers = form.answers()
        assert (answers["teeth"], answers["gums"]) == ("not_applicable", "not_applicable")
        assert form.skipped() == []
        result = score("roag", answers)
        assert result.missing == ()
        assert result.max_grade is not None


@pytest.mark.parametrize(
    ("given", "other", "other_value"),
    [
        ("item_teeth", "item_gums", None),  # gums left unanswered
        ("item_gums", "item_teeth", None),
        ("item_teeth", "item_gums", "1"),  # gums graded although there are no teeth
        ("item_gums", "item_teeth", "2"),
    ],
)
def test_no_own_teeth_on_one_area_only_is_an_error_on_the_other(app, given, other, other_value):
    data = cycling_answers("roag") | {given: "not_applicable"}
    data.pop(other)
    if other_value is not None:
        data[other] = other_value
    with posted(app, "roag", data, staff_entry=True) as form:
        assert not form.validate()
        assert form.errors == {other: [NO_TEETH_MISMATCH]}
        # Nothing the nurse chose is thrown away for the re-shown form.
        assert form[given].data == "not_applicable"
        assert form[other].data == other_value
        page = render(form)
        assert f'id="{other}-error"' in page.html
        assert f'href="#{other}-0"' in page.html


def test_load_answers_shows_no_own_teeth_on_both_areas(app):
    stored = dict.fromkeys(INSTRUMENTS["roag"].item_codes, 1) | {
        "teeth": "not_applicable",
        "gums": "not_applicable",
    }
    with app.test_request_context(headers={"Accept-Language": "en"}):
        correction = form_class("roag", staff_entry=True)()
        correction.load_answers(stored)
        assert (correction.item_teeth.data, correction.item_gums.data) == (
            "not_applicable",
            "not_applicable",
        )
        assert correction.answers() == stored


FORGED = [
    ("ipos_patient", "item_pain", "5"),
    ("ipos_patient", "item_pain", "-1"),
    ("ipos_patient", "item_depression", "cannot_assess"),
    ("ipos_patient", "item_nausea", "not_applicable"),
    ("ipos_patient", "item_pain", "abc"),
    ("ipos_patient", "item_pain", "2.0"),
    ("ipos_patient", "ctx_other_symptoms_1_rating", "9"),
    ("ipos_patient", "ctx_completed_with", "by_the_cat"),
    ("ipos_staff", "item_pain", "9"),
    ("ipos_staff", "item_pain", "not_applicable"),
    ("esas_r", "item_pain", "11"),
    ("esas_r", "item_other", "cannot_assess"),
    ("esas_r", "item_tiredness", " 3"),
    ("abbey", "item_vocalisation", "4"),
    ("abbey", "ctx_pain_type", "sharp"),
    ("roag", "item_voice", "0"),
    ("roag", "item_voice", "not_applicable"),
    ("roag", "item_dentures", "cannot_assess"),
]


@pytest.mark.parametrize(("code", "name", "value"), FORGED)
def test_forged_values_fail_on_their_field_only(app, code, name, value):
    data = cycling_answers(code) | {name: value}
    if name.startswith("ctx_other_symptoms"):
        data["ctx_other_symptoms_1_label"] = "Itching"
    with posted(app, code, data) as form:
        assert not form.validate()
        assert list(form.errors) == [name]
        # Everything else that was answered is kept for the re-shown form.
        for other, answer in cycling_answers(code).items():
            if other != name:
                assert form[other].data == answer


def test_client_token_must_be_32_hex_characters(app):
    for bad in ["", "xyz", TOKEN.upper(), TOKEN + "0", TOKEN[:-1] + "g"]:
        with posted(app, "abbey", {"client_token": bad}) as form:
            assert not form.validate()
            assert list(form.errors) == ["client_token"]
            # The re-shown form carries a fresh valid token, so it can be sent again.
            assert re.fullmatch("[0-9a-f]{32}", form.client_token.data)


def test_fill_client_token_keeps_a_valid_one(request_context):
    form = form_class("abbey")()
    form.fill_client_token()
    token = form.client_token.data
    assert re.fullmatch("[0-9a-f]{32}", token)
    form.fill_client_token()
    assert form.client_token.data == token


def test_respondent_is_required_when_asked(app):
    with posted(app, "esas_r", {}, proxy=True) as form:
        assert not form.validate()
        assert list(form.errors) == ["respondent"]
        assert len(form.errors["respondent"]) == 1
    with posted(app, "esas_r", {"respondent": "neighbour"}, proxy=True) as form:
        assert not form.validate()
        assert list(form.errors) == ["respondent"]
    with posted(app, "esas_r", {"respondent": "relative"}, proxy=True) as form:
        assert form.validate()
        assert form.respondent.data == "relative"


def test_observed_at_is_optional_swedish_local_time(app):
    with posted(app, "abbey", {"observed_at": "2026-03-28T14:30"}, observed=True) as form:
        assert form.validate(), form.errors
        assert form.observed_at_value() == datetime(2026, 3, 28, 14, 30, tzinfo=STOCKHOLM)
    with posted(app, "abbey", {"observed_at": ""}, observed=True) as form:
        assert form.validate(), form.errors
        assert form.observed_at_value() is None
    with posted(app, "abbey", {"observed_at": "yesterday"}, observed=True) as form:
        assert not form.validate()
        assert list(form.errors) == ["observed_at"]


def test_other_symptom_needs_both_name_and_rating(app):
    with posted(app, "ipos_patient", {"ctx_other_symptoms_2_label": "Itching"}) as form:
        assert not form.validate()
        assert list(form.errors) == ["ctx_other_symptoms_2_rating"]
    with posted(app, "ipos_staff", {"ctx_other_symptoms_3_rating": "2"}) as form:
        assert not form.validate()
        assert list(form.errors) == ["ctx_other_symptoms_3_label"]
    with posted(app, "ipos_staff", {"ctx_other_symptoms_1_label": "   "}) as form:
        assert form.validate()
        assert "other_symptoms" not in form.answers()


def test_text_longer_than_the_definition_allows_fails(app):
    limit = INSTRUMENTS["esas_r"].context_field("other_label").max_length
    with posted(app, "esas_r", {"ctx_other_label": "x" * (limit + 1)}) as form:
        assert not form.validate()
        assert list(form.errors) == ["ctx_other_label"]


@pytest.mark.parametrize("code", CODES)
def test_load_answers_round_trips(app, code):
    with posted(app, code, cycling_answers(code) | context_data(code)) as form:
        assert form.validate(), form.errors
        answers = form.answers()
    with app.test_request_context(headers={"Accept-Language": "en"}):
        correction = form_class(code, staff_entry=True)()
        correction.load_answers(answers)
        assert correction.answers() == answers
        # Stored answers are plain JSON values: specials and missing items too.
        stored = dict.fromkeys(INSTRUMENTS[code].item_codes) | {
            item.code: item.special_values[0]
            for item in INSTRUMENTS[code].items
            if item.special_values
        }
        correction.load_answers(stored)
        assert correction.answers() == stored


# --- the template ------------------------------------------------------------------------------


class Page(HTMLParser):
    """Collects radios with the text of their enclosing label, headings and script tags."""

    def __init__(self) -> None:
        super().__init__()
        self.radios: list[tuple[str, str, str]] = []  # (name, value, label text)
        self.headings: list[str] = []
        self.scripts: list[dict[str, str | None]] = []
        self.script_text = ""
        self.styles: list[str] = []
        self.handlers: list[str] = []
        self._label: list[str] | None = None
        self._pending: list[tuple[str, str]] = []
        self._heading: list[str] | None = None
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if "style" in attributes:
            self.styles.append(tag)
        self.handlers += [name for name, _value in attrs if name.startswith("on")]
        if tag == "label":
            self._label = []
        elif tag == "input" and attributes.get("type") == "radio":
            assert self._label is not None, f"radio outside a label: {attributes}"
            self._pending.append((attributes["name"] or "", attributes["value"] or ""))
        elif tag == "h2":
            self._heading = []
        elif tag == "script":
            self.scripts.append(attributes)
            self._in_script = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "label" and self._label is not None:
            text = " ".join("".join(self._label).split())
            self.radios += [(name, value, text) for name, value in self._pending]
            self._label, self._pending = None, []
        elif tag == "h2" and self._heading is not None:
            self.headings.append(" ".join("".join(self._heading).split()))
            self._heading = None
        elif tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._label is not None:
            self._label.append(data)
        if self._heading is not None:
            self._heading.append(data)
        if self._in_script:
            self.script_text += data


def render(form, **kwargs: object) -> Page:  # type: ignore[no-untyped-def]
    html = render_template_string(
        RENDER,
        form=form,
        recall_label=kwargs.get("recall_label"),
        skipped_labels=kwargs.get("skipped_labels"),
    )
    page = Page()
    page.feed(html)
    page.close()
    page.html = html  # type: ignore[attr-defined]
    return page


@pytest.mark.parametrize("code", CODES)
def test_the_macro_renders_every_option_as_a_labelled_radio(app, code):
    definition = INSTRUMENTS[code]
    with posted(app, code, {}, observed=True, proxy=True) as form:
        page = render(form, recall_label="Over the past 7 days")
        for item in definition.items:
            rendered = [(v, t) for n, v, t in page.radios if n == f"item_{item.code}"]
            assert [v for v, _t in rendered] == [str(v) for v in item.values] + list(
                item.special_values
            )
            for value, text in rendered:
                if value in item.special_values:
                    assert text == special_value_label(item, value)
                    continue
                meaning = item.label_for(int(value))
                assert text == (f"{value} {meaning}" if meaning else value)
        radio_fields = [f for f in form if f.type in ("ScaleField", "RadioField")]
        assert len(page.radios) == sum(len(f.iter_choices()) for f in radio_fields)
        count = len(definition.groups)
        assert page.headings == [
            f"Step {n} of {count}: {group}" for n, group in enumerate(definition.groups, 1)
        ]
        assert page.styles == []
        assert page.handlers == []
        assert page.script_text.strip() == ""
        # Fingerprinted URLs (?v=<content hash>): tests/app/test_static_files.py.
        assert [script.get("src").split("?")[0] for script in page.scripts] == [
            "/static/assessment.js"
        ]
        assert 'href="/static/assessment.css?v=' in page.html
        # The period is on every step (a phone shows one step at a time).
        assert page.html.count('<p class="recall">Over the past 7 days</p>') == count
        assert f'value="{TOKEN}"' in page.html
        assert 'name="confirm_incomplete"' not in page.html
        assert "Some questions have no answer" not in page.html


def test_the_macro_keeps_answers_and_shows_errors(app):
    data = {"item_pain": "3", "item_nausea": "9", "ctx_main_problems_1": "Tired all day"}
    with posted(app, "ipos_patient", data) as form:
        assert not form.validate()
        page = render(form)
        html = page.html
        assert re.search(
            r'<input[^>]*checked[^>]*name="item_pain"[^>]*value="3"', html
        ) or re.search(r'<input[^>]*name="item_pain"[^>]*value="3"[^>]*checked', html)
        assert 'value="Tired all day"' in html
        assert 'id="item_nausea-error"' in html
        assert 'aria-describedby="item_nausea-error"' in html
        assert 'href="#item_nausea-0"' in html
        assert 'data-unsaved="1"' in html


def test_the_macro_asks_to_confirm_skipped_items(app):
    with posted(app, "abbey", {"item_vocalisation": "1"}) as form:
        assert form.validate()
        labels = [str(label) for label in form.skipped_item_labels()]
        page = render(form, skipped_labels=labels)
        html = page.html
        assert "Some questions have no answer" in html
        for label in labels:
            assert f"<li>{label}</li>" in html
        assert re.search(r'<button[^>]*name="confirm_incomplete"[^>]*value="1"', html)
        # Only the button carries the confirmation: no hidden input could send it by itself.
        assert html.count('name="confirm_incomplete"') == 1
        assert html.count('class="skipped-note"') == len(labels)
        assert 'data-show-all="1"' in html


def test_the_macro_uses_staff_wording_and_renders_special_values(app):
    with posted(app, "ipos_staff", {}, staff_entry=True) as form:
        page = render(form)
        assert ">Save</button>" in page.html
        assert ("item_pain", "cannot_assess", "Cannot assess") in page.radios
    with posted(app, "esas_r", {}) as form:
        page = render(form)
        assert ">Send</button>" in page.html
        assert "0 = No pain" in page.html


@pytest.mark.parametrize("code", CODES)
def test_the_macro_marks_which_answers_a_step_waits_for(app, code):
    """assessment.js moves on from a step once its expected answers are tapped: the scored
    items that are not optional and who is answering. Optional items, the choices and the
    ratings of a rated list (other symptoms) are never waited for."""
    definition = INSTRUMENTS[code]
    with posted(app, code, {}, observed=True, proxy=True) as form:
        html = render(form).html
        questions = dict(re.findall(r'<fieldset [^>]*id="([a-z_0-9]+)-group"( data-optional)?', html))
        waited = {
            f"item_{item.code}": "" if not item.optional else " data-optional"
            for item in definition.items
        }
        waited["respondent"] = ""
        waited |= {
            f"ctx_{context.code}": " data-optional"
            for context in definition.context_fields
            if context.kind == "choice"
        }
        waited |= {
            f"ctx_{context.code}_{n}_rating": " data-optional"
            for context in definition.context_fields
            if context.kind == "rated_list"
            for n in range(1, context.max_entries + 1)
        }
        assert questions == waited
        blocks = [block for section in form.sections() for block in section.blocks]
        assert {block.code for block in blocks if block.expected} == {
            item.code for item in definition.items if not item.optional
        } | {"respondent"}
        # The hint that the form moves on by itself, shown by the script (hidden without it).
        steps = len(definition.groups)
        assert html.count("data-steps-hint hidden") == (1 if steps > 1 else 0)
