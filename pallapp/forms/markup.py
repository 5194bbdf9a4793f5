"""The items of an assessment form drawn in Python, for `assessments/_instrument_form.html`.

A Jinja macro per item and per option cost most of a form page's time (an IPOS form has some
150 radio buttons): here each item is drawn by string joins from parts kept per application,
language and form class. What is kept is what the field's class and the language fix (labels,
descriptions, option faces, each option's `<input>` checked and not): never an answer, an error
message or a token. The answers, errors and skipped notes of this request are put in as they are
drawn, so a draft, a form with errors and a pre-filled correction come out as before.

The markup is the same as the macros drew it (tests/app/test_instrument_markup.py compares them):
`ScaleField` and `RadioField` items as in `_scale` and `_choices`, text fields as the `field`
macro of `_forms.html` draws them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from flask_babel import get_locale
from markupsafe import Markup, escape
from wtforms import Field, RadioField
from wtforms.widgets import HiddenInput, html_params

from pallapp.forms import kept_markup, radio_input_attributes
from pallapp.forms.instruments import AssessmentForm, Block, ScaleField
from pallapp.i18n import gettext


@dataclass(frozen=True, slots=True)
class _Option:
    """One radio button: the markup before its input, the input unchecked and checked, and
    the markup after it."""

    value: str
    before: str
    unchecked: str
    checked: str
    after: str


def _inputs(field: RadioField, with_errors: bool) -> list[tuple[str, object, str, str]]:
    """(value, label, input, checked input) per option, as `pallapp.forms.radio_options`
    draws them: the field's `render_kw`, the flags its validators set, the aria attributes
    that point at its errors, `id`, `name`, `type`, `value`."""
    aria = {"aria-describedby": f"{field.id}-error", "aria-invalid": "true"} if with_errors else None
    drawn = []
    for choice, own in radio_input_attributes(field, aria):
        checked = dict(own)
        checked.setdefault("checked", True)
        drawn.append(
            (
                str(choice.value),
                choice.label,
                f"<input {html_params(name=field.name, **own)}>",
                f"<input {html_params(name=field.name, **checked)}>",
            )
        )
    return drawn


def _scale_options(field: ScaleField, with_errors: bool) -> list[_Option]:
    fully_labelled = field.fully_labelled
    options = []
    for value, _label, unchecked, checked in _inputs(field, with_errors):
        number, meaning = field.option_parts(value)
        face = '<span class="option-face">'
        if number is not None:
            face += f'<span class="option-number">{escape(number)}</span>'
        if meaning:
            hidden = " visually-hidden" if number is not None and not fully_labelled else ""
            face += f' <span class="option-meaning{hidden}">{escape(meaning)}</span>'
        special = " scale-special" if number is None else ""
        options.append(
            _Option(
                value,
                f'\n<label class="scale-option{special}">\n',
                unchecked,
                checked,
                f"\n{face}</span>\n</label>",
            )
        )
    return options


def _choice_options(field: RadioField, with_errors: bool) -> list[_Option]:
    return [
        _Option(
            value,
            '\n<label class="scale-option">\n',
            unchecked,
            checked,
            '\n<span class="option-face"><span class="option-meaning">'
            f"{escape(label or value)}</span></span>\n</label>",
        )
        for value, label, unchecked, checked in _inputs(field, with_errors)
    ]


def _options(form: AssessmentForm, field: RadioField, language: str) -> list[_Option]:
    with_errors = bool(field.errors)
    key = (language, type(form), field.name, field.id, "options", with_errors)
    kept = kept_markup()
    options: list[_Option] | None = kept.get(key)
    if options is None:
        if isinstance(field, ScaleField):
            options = _scale_options(field, with_errors)
        else:
            options = _choice_options(field, with_errors)
        kept[key] = options
    return options


def _drawn_options(field: RadioField, options: Sequence[_Option]) -> str:
    chosen = field.data
    return "".join(
        option.before
        + (option.checked if field.coerce(option.value) == chosen else option.unchecked)
        + option.after
        for option in options
    )


def _untouched(field: Field) -> bool:
    """True when the field shows nothing of this request: no answer, no error."""
    return not field.errors and field.data in (None, "") and not field.raw_data


def _errors(field: Field) -> str:
    if not field.errors:
        return ""
    messages = "".join(f"{escape(error)} " for error in field.errors)
    return f'\n<p class="error" id="{escape(field.id)}-error">{messages}</p>'


def _scale(
    form: AssessmentForm, field: ScaleField, language: str, *, skipped: bool, optional: bool
) -> str:
    """What the `_scale` macro drew; kept while the field shows nothing of this request."""
    if not _untouched(field):
        return _drawn_scale(form, field, language, skipped=skipped, optional=optional)
    key = (language, type(form), field.name, field.id, "scale", skipped, optional)
    kept = kept_markup()
    drawn: str | None = kept.get(key)
    if drawn is None:
        drawn = kept[key] = _drawn_scale(form, field, language, skipped=skipped, optional=optional)
    return drawn


def _drawn_scale(
    form: AssessmentForm, field: ScaleField, language: str, *, skipped: bool, optional: bool
) -> str:
    field_id = escape(field.id)
    classes = "item"
    if field.errors:
        classes += " has-error"
    if skipped:
        classes += " is-skipped"
    description = field.description
    head = f'\n<fieldset class="{classes}" id="{field_id}-group"'
    if optional:
        head += " data-optional"
    if description:
        head += f' aria-describedby="{field_id}-description"'
    head += f'>\n<legend class="item-label">{escape(field.label.text)}</legend>'
    if description:
        head += f'\n<p class="item-description" id="{field_id}-description">{escape(description)}</p>'
    if skipped:
        note = gettext("Not answered yet.")  # outside the f-string, where pybabel finds it
        head += f'\n<p class="skipped-note">{escape(note)}</p>'
    fully_labelled = field.fully_labelled
    if not fully_labelled:
        anchors = field.anchors
        if anchors:
            spans = "".join(
                f"<span>{escape(number)} = {escape(meaning)}</span>" for number, meaning in anchors
            )
            head += f'\n<p class="scale-anchors">{spans}</p>'
    kind = "scale-labelled" if fully_labelled else "scale-numeric"
    return (
        f'{head}\n<div class="scale {kind}">'
        + _drawn_options(field, _options(form, field, language))
        + f"\n</div>{_errors(field)}\n</fieldset>\n"
    )


def _choices(form: AssessmentForm, field: RadioField, language: str, *, optional: bool) -> str:
    """What the `_choices` macro drew; kept while the field shows nothing of this request."""
    if not _untouched(field):
        return _drawn_choices(form, field, language, optional=optional)
    key = (language, type(form), field.name, field.id, "choices", optional)
    kept = kept_markup()
    drawn: str | None = kept.get(key)
    if drawn is None:
        drawn = kept[key] = _drawn_choices(form, field, language, optional=optional)
    return drawn


def _drawn_choices(
    form: AssessmentForm, field: RadioField, language: str, *, optional: bool
) -> str:
    field_id = escape(field.id)
    classes = "item has-error" if field.errors else "item"
    optional_attribute = " data-optional" if optional else ""
    return (
        f'\n<fieldset class="{classes}" id="{field_id}-group"{optional_attribute}>\n'
        f'<legend class="item-label">{escape(field.label.text)}</legend>\n'
        '<div class="scale scale-choices">'
        + _drawn_options(field, _options(form, field, language))
        + f"\n</div>{_errors(field)}\n</fieldset>\n"
    )


def text_field(field: Field, autocomplete: str | None = None) -> str:
    """What the `field` macro of `_forms.html` draws for a text or date field."""
    field_id = escape(field.id)
    description = field.description
    described = " ".join(
        part
        for part in (
            f"{field.id}-hint" if description else "",
            f"{field.id}-error" if field.errors else "",
        )
        if part
    )
    attributes = {
        "autocomplete": autocomplete,
        "aria-invalid": "true" if field.errors else None,
        "aria-describedby": described or None,
    }
    classes = "field has-error" if field.errors else "field"
    drawn = f'\n<div class="{classes}">\n' + str(field.label(**{"class": "label"}))
    if description:
        drawn += f'\n<p class="hint" id="{field_id}-hint">{escape(description)}</p>'
    drawn += "\n" + str(field(**{k: v for k, v in attributes.items() if v is not None}))
    return drawn + _errors(field) + "\n</div>\n"


def _kept_text_field(
    form: AssessmentForm, field: Field, language: str, autocomplete: str | None
) -> str:
    """`text_field`, kept while the field has no error. A value of this request (the time
    filled in on a new form) is put into the kept markup, never kept itself."""
    if field.errors or field.raw_data:
        return text_field(field, autocomplete)
    key = (language, type(form), field.name, field.id, "text", autocomplete)
    kept = kept_markup()
    drawn: str | None = kept.get(key)
    if drawn is None:
        if field.data in (None, ""):
            drawn = kept[key] = text_field(field, autocomplete)
        else:
            data, field.data = field.data, None
            try:
                drawn = kept[key] = text_field(field, autocomplete)
            finally:
                field.data = data
    value = field._value()
    if not value:
        return drawn
    # The input's value="" is its only one: the label and hint come before the <input>.
    start = drawn.index("<input ")
    return drawn[:start] + drawn[start:].replace(' value=""', f' value="{escape(value)}"', 1)


def _block(
    form: AssessmentForm, block: Block, language: str, skipped_codes: Iterable[str]
) -> str:
    """What the `_block` macro drew."""
    kind = block.kind
    if kind == "item":
        return _scale(
            form,
            block.field,
            language,
            skipped=block.code in skipped_codes,
            optional=not block.expected,
        )
    if kind in ("respondent", "choice"):
        return _choices(form, block.field, language, optional=not block.expected)
    if kind == "observed_at":
        return f'<div class="context-block">{_kept_text_field(form, block.field, language, None)}</div>'
    if kind == "text":
        return f'<div class="context-block">{_kept_text_field(form, block.field, language, "off")}</div>'
    if kind == "text_list":
        fields = "".join(_kept_text_field(form, f, language, "off") for f in block.fields)
        hint = gettext("Optional. Write one in each box.")
        return (
            '<fieldset class="item context-block">\n'
            f'<legend class="item-label">{escape(block.label)}</legend>\n'
            f'<p class="hint">{escape(hint)}</p>\n'
            f"{fields}\n</fieldset>"
        )
    if kind == "rated_list":
        hint = gettext(
            "Optional. Write the name of each other symptom and choose how much it has been a"
            " problem."
        )
        rows = "".join(
            '\n<div class="rated-row">\n'
            + _kept_text_field(form, label_field, language, "off")
            + "\n"
            + _scale(form, rating_field, language, skipped=False, optional=True)
            + "\n</div>"
            for label_field, rating_field in block.rows
        )
        return (
            '<fieldset class="item context-block">\n'
            f'<legend class="item-label">{escape(block.label)}</legend>\n'
            f'<p class="hint">{escape(hint)}</p>{rows}\n</fieldset>'
        )
    raise ValueError(f"no markup for a {kind!r} block")


def instrument_blocks(
    form: AssessmentForm, blocks: Iterable[Block], skipped_codes: Iterable[str]
) -> Markup:
    """The blocks of one step of an assessment form, as the template shows them."""
    skipped = set(skipped_codes)
    language = str(get_locale())
    return Markup("".join("\n" + _block(form, block, language, skipped) for block in blocks))  # noqa: S704 (every text put in is escaped above)


def hidden_inputs(form: AssessmentForm) -> Markup:
    """What `form.hidden_tag("csrf_token", "client_token")` drew: each of the two that the form
    has as a hidden input, one a line, attributes in `html_params`' order. WTForms renders each
    through its meta and widget, which looks through every flag of the field (`dir`)."""
    drawn = []
    for name in ("csrf_token", "client_token"):
        field = form._fields.get(name)
        if field is None or not isinstance(field.widget, HiddenInput):
            continue
        drawn.append(
            f'<input id="{escape(field.id)}" name="{escape(field.name)}" type="hidden"'
            f' value="{escape(field._value())}">'
        )
    return Markup("\n".join(drawn))  # noqa: S704 (every value put in is escaped)
