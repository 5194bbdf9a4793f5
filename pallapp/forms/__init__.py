"""WTForms classes, one module per feature."""

import re
from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any
from weakref import WeakKeyDictionary

from babel import support
from flask import Flask, current_app, has_request_context
from flask_babel import get_locale
from markupsafe import Markup, escape
from wtforms import Field, IntegerField, RadioField, SelectField
from wtforms.csrf.core import CSRFTokenField
from wtforms.fields.core import UnboundField
from wtforms.i18n import messages_path
from wtforms.widgets import RadioInput, Select, html_params

#: Per application: markup drawn once per language (pallapp.forms.markup, KeptOptionsSelect).
#: An application's catalogues do not change while it runs; a new one (a test) starts afresh.
_KEPT: WeakKeyDictionary[Flask, dict[tuple[object, ...], Any]] = WeakKeyDictionary()


def kept_markup() -> dict[tuple[object, ...], Any]:
    """This application's store of markup that only the language and the code decide; never
    put an answer, an error or a token in it."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]  # the proxy's documented accessor
    kept = _KEPT.get(app)
    if kept is None:
        kept = _KEPT[app] = {}
    return kept


class KeptOptionsSelect(Select):
    """WTForms' `Select`, each option's `<option>` (chosen and not) drawn once per language.

    For a field whose choices are fixed in its class (the routes of a dose): WTForms draws
    every option with `html_params` and translates its lazy label on each request. The
    `<select>` tag, and which option is chosen, are drawn from the field as WTForms does.
    """

    def __call__(self, field: SelectField, **kwargs: Any) -> Markup:
        kwargs.setdefault("id", field.id)
        if self.multiple or field.has_groups():
            return super().__call__(field, **kwargs)
        for flag in self.validation_attrs:
            value = vars(field.flags).get(flag)
            if value is not None and flag not in kwargs:
                kwargs[flag] = value
        key = ("select", id(self), field.name, str(get_locale()))
        kept = kept_markup()
        options: list[tuple[object, str, str]] | None = kept.get(key)
        if options is None:
            options = kept[key] = [
                (
                    choice.value,
                    self._option(choice.value, choice.label, choice.render_kw, selected=False),
                    self._option(choice.value, choice.label, choice.render_kw, selected=True),
                )
                for choice in field.iter_choices()
            ]
        drawn = "".join(
            chosen if field.coerce(value) == field.data else plain
            for value, plain, chosen in options
        )
        return Markup(f"<select {html_params(name=field.name, **kwargs)}>{drawn}</select>")  # noqa: S704 (html_params and _option escape)

    @staticmethod
    def _option(value: object, label: object, render_kw: Mapping[str, object] | None, *, selected: bool) -> str:
        if isinstance(value, bool):
            value = str(value)
        attributes: dict[str, object] = {"value": value, **(render_kw or {})}
        if selected:
            attributes["selected"] = True
        return f"<option {html_params(**attributes)}>{escape(label or value)}</option>"

#: More digits than any number a form here asks for (intervals, counts, ratings).
_MAX_DIGITS = 9


class WholeNumberField(IntegerField):
    """An IntegerField that refuses over-long input before converting it.

    WTForms' NumberRange calls math.isnan() on the value, which raises OverflowError for a
    huge int: a 400-digit number made a server error (found by fuzzing the forms).
    """

    data: int | None

    def process_formdata(self, valuelist: list[str]) -> None:
        if valuelist and len(str(valuelist[0]).strip()) > _MAX_DIGITS:
            self.data = None
            raise ValueError(self.gettext("Not a valid integer value."))
        super().process_formdata(valuelist)


@cache
def _wtforms_catalogue(locale: str) -> support.Translations | support.NullTranslations:
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class WTFormsMessages:
    """WTForms' own messages ("Not a valid integer value.", a field's default label) in the
    request's language, each language's catalogue read once per process.

    Flask-WTF reads the catalogue from disk again in every request that translates one of
    them, and every form with a hidden field without a label does (WTForms translates the
    default label): about a millisecond a form page. The catalogue is part of the installed
    WTForms, so it cannot change while the process runs. Outside a request, or without
    Flask-Babel, the messages stay in English, as Flask-WTF leaves them.
    """

    def _catalogue(self) -> support.Translations | support.NullTranslations | None:
        if not has_request_context() or "babel" not in current_app.extensions:
            return None
        return _wtforms_catalogue(str(get_locale()))

    def gettext(self, string: str) -> str:
        catalogue = self._catalogue()
        return string if catalogue is None else catalogue.ugettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        catalogue = self._catalogue()
        if catalogue is None:
            return singular if n == 1 else plural
        return catalogue.ungettext(singular, plural, n)


wtforms_messages = WTFormsMessages()


class KeptMessagesMeta:
    """A form's `Meta` mixin: WTForms' messages from `wtforms_messages` (see there), unless
    `WTF_I18N_ENABLED` is off."""

    def get_translations(self, form: Any) -> Any:
        if not current_app.config.get("WTF_I18N_ENABLED", True):
            return super().get_translations(form)  # type: ignore[misc]  # DefaultMeta's, next in the form's Meta
        return wtforms_messages


#: What a bound field holds of its form and request; everything else in it is the same for
#: every form of its class.
_FORM_ATTRIBUTES = frozenset({"_form", "meta", "_translations"})


class KeptFieldsMeta:
    """A form's `Meta` mixin: each field is built once per form class and copied for each form.

    WTForms builds every field anew for each form (its `__init__` sorts out label, flags,
    validators, widget and choices): a third of an assessment form page's own time, for the
    same result each time. A field's state after `__init__` depends only on its class and
    arguments, and on the form only through `_form`, `meta` and `_translations`, which are put
    in for each form; what a request sets (data, errors) is set on the copy by `process` and
    `validate`. Only for forms whose views replace attributes rather than change the shared
    objects in them (labels, choices, flags, `render_kw`). The CSRF field is made for each
    form by Flask-WTF and is bound as usual.
    """

    def bind_field(self, form: Any, unbound_field: UnboundField, options: dict[str, Any]) -> Field:
        if issubclass(unbound_field.field_class, CSRFTokenField):
            return super().bind_field(form, unbound_field, options)  # type: ignore[misc]  # DefaultMeta's, next in the form's Meta
        key = (options.get("name"), options.get("prefix", ""))
        kept: dict[tuple[object, object], dict[str, Any]] = unbound_field.__dict__.setdefault(
            "_kept_fields", {}
        )
        state = kept.get(key)
        if state is None:
            field: Field = super().bind_field(form, unbound_field, options)  # type: ignore[misc]  # as above
            kept[key] = {
                name: value for name, value in vars(field).items() if name not in _FORM_ATTRIBUTES
            }
            return field
        # Not copy.copy: Field.__new__ makes an UnboundField when called without `_form`.
        field = object.__new__(unbound_field.field_class)
        field.__dict__.update(state)
        field._form = form
        field.meta = form.meta
        if options.get("translations") is not None:
            field._translations = options["translations"]
        return field


#: The largest value of a 32-bit signed integer column (PostgreSQL `integer`).
_MAX_ROW_NUMBER = 2**31 - 1


def parse_row_number(text: str | None) -> int | None:
    """A posted row number or version as an int, or None for anything else.

    Only ASCII digits count (`str.isdigit` also accepts e.g. "²", which `int` refuses), and the
    value must fit an integer column: a longer number would make the database driver fail.
    """
    if text is None or not re.fullmatch(r"[0-9]{1,10}", text):
        return None
    number = int(text)
    return number if number <= _MAX_ROW_NUMBER else None


class RadioOption:
    """One radio button of a `RadioField`, as `radio_options` gives it to a template."""

    __slots__ = ("_label", "input", "value")

    def __init__(self, value: str, label: object, markup: Markup) -> None:
        self.value = value
        self._label = label
        self.input = markup

    @property
    def label(self) -> object:
        """The option's label as WTForms shows it: its text, else its value."""
        return self._label or self.value


def radio_input_attributes(
    field: RadioField, attributes: Mapping[str, object] | None = None
) -> Iterator[tuple[Any, dict[str, object]]]:
    """Each choice of `field` with the attributes of its `<input>` as WTForms renders them,
    `checked` left out: the field's `render_kw`, then `attributes`, the `required`/`disabled`
    flags its validators set, `type`, `id` `<field id>-<n>` and `value`."""
    common: dict[str, object] = dict(field.render_kw or {})
    common.update(attributes or {})
    for flag in RadioInput.validation_attrs:
        value = vars(field.flags).get(flag)
        if value is not None and flag not in common:
            common[flag] = value() if callable(value) else value
    common.setdefault("type", "radio")
    for number, choice in enumerate(field.iter_choices()):
        own = dict(common)
        own.setdefault("id", f"{field.id}-{number}")
        own["value"] = str(choice.value)
        yield choice, own


def radio_options(field: RadioField, attributes: Mapping[str, object] | None = None) -> list[RadioOption]:
    """The radio buttons of `field`, each `<input>` the same as `option(**attributes)` would
    render when iterating the field, without building a WTForms field per option.

    Iterating a RadioField binds and processes a sub-field for every option, and rendering
    one runs `dir()` over the field's flags: an assessment form (a hundred options) spent
    most of its time there (benchmarks/RESULTS.md, "Page speed"). The attributes are the
    same, in WTForms' order (`html_params` sorts them): the field's `render_kw`, the
    `required`/`disabled` flags its validators set, `id` `<field id>-<n>`, `name`, `type`,
    `value` and `checked`.
    """
    options = []
    for choice, own in radio_input_attributes(field, attributes):
        if choice.selected:
            own.setdefault("checked", True)
        markup = Markup(f"<input {html_params(name=field.name, **own)}>")  # noqa: S704 (html_params escapes every value)
        options.append(RadioOption(choice.value, choice.label, markup))
    return options
