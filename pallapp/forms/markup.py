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
from typing import Any

from flask_babel import get_locale
from markupsafe import Markup, escape
from wtforms import Field, RadioField
from wtforms.widgets import HiddenInput, Input, html_params

from pallapp.forms import kept_markup, radio_input_attributes
from pallapp.forms.instruments import AssessmentForm, Block, ScaleField, Section
from pallapp.i18n import current_translations, gettext


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


def _translated(msgid: str, **variables: object) -> str:
    """What `_(msgid, **variables)` gives in an autoescaped template: the translation trusted
    (our catalogue), the variables escaped."""
    return str(Markup(current_translations().ugettext(msgid)) % variables)  # noqa: S704 (our catalogue, as _() trusts it)


def instrument_steps(
    form: AssessmentForm,
    sections: Sequence[Section],
    skipped_codes: Iterable[str],
    recall_label: object = None,
    context_block: object = None,
) -> Markup:
    """The steps of an assessment form (`<section class="step">` each, with its heading,
    progress, recall period, blocks and step buttons; the submit area in the last), as the
    loop of the `instrument_form` macro drew them. `context_block`: what the macro's call
    block gave (a correction's reason field), or None. Jinja spent a millisecond a form on
    the loop's translations and tests."""
    definition = form.definition
    recall = f'<p class="recall">{escape(recall_label)}</p>' if recall_label else ""
    instruction = (
        f'<p class="recall">{_translated(definition.instruction)}</p>'
        if definition.instruction
        else ""
    )
    back = _translated("Back")
    forward = _translated("Next")
    drawn = []
    last = len(sections) - 1
    for index, section in enumerate(sections):
        number = section.number
        count = section.count
        title = _translated(section.title)
        if count > 1:
            heading = _translated(
                "Step %(number)s of %(count)s: %(title)s",
                number=number,
                count=count,
                title=Markup(title),  # noqa: S704 (a translation, as above)
            )
            progress = (
                f'\n    <progress class="step-progress" max="{escape(count)}"'
                f' value="{escape(number)}" aria-hidden="true"></progress>\n    '
            )
        else:
            heading = title
            progress = ""
        submit = ""
        if index == last:
            context = (
                f'<div class="context-block">{escape(context_block)}</div>'
                if context_block is not None
                else ""
            )
            submit = (
                f'\n    {context}\n    <div class="submit-area">'
                '\n      <button type="submit" class="button primary submit-button">'
                f"{escape(form.submit_label)}</button>\n    </div>\n    "
            )
        nav = ""
        if count > 1:
            back_button = (
                f'<button type="button" class="button secondary" data-step-back>{back}</button>'
                if index > 0
                else ""
            )
            next_button = (
                f'<button type="button" class="button primary" data-step-next>{forward}</button>'
                if index < last
                else ""
            )
            nav = (
                f'\n    <div class="step-nav" hidden>\n      {back_button}'
                f"\n      {next_button}\n    </div>\n    "
            )
        drawn.append(
            f'\n  <section class="step" id="step-{escape(number)}"'
            f' aria-labelledby="step-{escape(number)}-heading">'
            f'\n    <h2 class="step-heading" id="step-{escape(number)}-heading" tabindex="-1">'
            f"{heading}</h2>\n    {progress}{recall}\n    {instruction}"
            f"\n    {instrument_blocks(form, section.blocks, skipped_codes)}\n    "
            f"{submit}\n    {nav}\n  </section>\n  "
        )
    return Markup("".join(drawn))  # noqa: S704 (texts escaped above, blocks drawn escaped)


def hidden_input(field: Field) -> Markup:
    """What WTForms draws for a hidden field (`{{ form.csrf_token }}`), attributes in
    `html_params`' order."""
    return Markup(  # noqa: S704 (every value put in is escaped)
        f'<input id="{escape(field.id)}" name="{escape(field.name)}" type="hidden"'
        f' value="{escape(field._value())}">'
    )


def hidden_field(form: Any, name: str) -> Markup:
    """`{{ form.<name> }}` for a hidden field: its input, or nothing when the form has no such
    field (the CSRF field, with CSRF off)."""
    field = form._fields.get(name)
    return Markup("") if field is None else hidden_input(field)


def hidden_inputs(form: AssessmentForm) -> Markup:
    """What `form.hidden_tag("csrf_token", "client_token")` drew: each of the two that the form
    has as a hidden input, one a line, attributes in `html_params`' order. WTForms renders each
    through its meta and widget, which looks through every flag of the field (`dir`)."""
    drawn = [
        hidden_input(field)
        for field in (form._fields.get("csrf_token"), form._fields.get("client_token"))
        if field is not None and isinstance(field.widget, HiddenInput)
    ]
    return Markup("\n".join(drawn))  # noqa: S704 (every value put in is escaped)


def _field_errors(field: Field) -> str:
    """The error paragraph of the `field` macro, with the white space around it."""
    if not field.errors:
        return ""
    messages = "".join(f"{escape(error)} " for error in field.errors)
    return f'\n  <p class="error" id="{escape(field.id)}-error">{messages}</p>\n  '


def form_field(
    field: Field,
    autocomplete: str | None = None,
    inputmode: str | None = None,
    autofocus: bool = False,
) -> Markup:
    """What the `field` macro of `_forms.html` draws, white space included; the label and the
    input drawn by WTForms, with the same attributes."""
    classes = "field has-error" if field.errors else "field"
    if field.type == "BooleanField":
        attributes = {"aria-describedby": f"{field.id}-error"} if field.errors else {}
        middle = f'\n  <label class="check">{field(**attributes)} {escape(field.label.text)}</label>\n  '
    else:
        description = field.description
        described = " ".join(
            part
            for part in (
                f"{field.id}-hint" if description else "",
                f"{field.id}-error" if field.errors else "",
            )
            if part
        )
        given = {
            "autocomplete": autocomplete,
            "inputmode": inputmode,
            "autofocus": autofocus,
            "aria-invalid": "true" if field.errors else None,
            "aria-describedby": described or None,
        }
        hint = (
            f'<p class="hint" id="{escape(field.id)}-hint">{escape(description)}</p>'
            if description
            else ""
        )
        # As the macro's `without_none` filter leaves them.
        drawn_input = field(
            **{name: value for name, value in given.items() if value is not None and value is not False}
        )
        middle = (
            f'\n  {field.label(**{"class": "label"})}\n  {hint}\n  \n  {drawn_input}\n  '
        )
    return Markup(  # noqa: S704 (WTForms escapes what it draws; the rest is escaped above)
        f'\n<div class="{classes}">\n  {middle}\n  {_field_errors(field)}\n</div>\n'
    )


#: The input types whose only value of the request is their `value` attribute.
_VALUE_INPUTS = frozenset(
    {"text", "number", "datetime-local", "date", "time", "email", "tel", "url", "search"}
)
#: Stands for a field's description in kept markup (the view may set it per request).
_DESCRIPTION = "pallapp-kept-description"


def kept_form_field(
    form: object,
    field: Field,
    autocomplete: str | None = None,
    inputmode: str | None = None,
    autofocus: bool = False,
) -> Markup:
    """`form_field`, kept per language, form class and field for a text-like input while the
    field shows nothing posted and no error: its value and its description (which a view may
    set per request: the ordered dose) are put into the kept markup, never kept themselves.
    Every other kind of field is drawn each time. For forms whose labels are fixed in their
    class (the label is part of the key all the same)."""
    widget = field.widget
    if (
        field.errors
        or field.raw_data
        or not isinstance(widget, Input)
        or widget.input_type not in _VALUE_INPUTS
    ):
        return form_field(field, autocomplete, inputmode, autofocus)
    description = field.description
    key = (
        str(get_locale()),
        type(form),
        field.name,
        field.id,
        "field",
        str(field.label.text),
        bool(description),
        autocomplete,
        inputmode,
        autofocus,
    )
    kept = kept_markup()
    drawn: str | None = kept.get(key)
    if drawn is None:
        data = field.data
        field.data = None
        if description:
            field.description = _DESCRIPTION
        try:
            drawn = kept[key] = str(form_field(field, autocomplete, inputmode, autofocus))
        finally:
            field.data = data
            field.description = description
    if description:
        drawn = drawn.replace(_DESCRIPTION, str(escape(description)), 1)
    value = field._value()
    if value:
        # The input's value="" is its only one: the label and hint come before the <input>.
        start = drawn.index("<input ")
        drawn = drawn[:start] + drawn[start:].replace(' value=""', f' value="{escape(value)}"', 1)
    return Markup(drawn)  # noqa: S704 (drawn as form_field draws it; the values escaped)


def kept_submit(form: object, field: Field, css_class: str) -> Markup:
    """`field(class=css_class)` for a submit button, kept per language, form class and field:
    it shows nothing of the request."""
    key = (str(get_locale()), type(form), field.name, field.id, "submit", str(field.label.text), css_class)
    kept = kept_markup()
    drawn: str | None = kept.get(key)
    if drawn is None:
        drawn = kept[key] = str(field(**{"class": css_class}))
    return Markup(drawn)  # noqa: S704 (drawn by WTForms, which escapes)
