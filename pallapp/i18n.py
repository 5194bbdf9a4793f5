"""Languages (Swedish by default, English), dates shown in Europe/Stockholm, and the
translation functions the app uses (`gettext`, `lazy_gettext` as `_l`, ...).

The translation functions are Flask-Babel's, with a shorter path to the request's catalogue.
Flask-Babel's module functions find the domain, the catalogue and the locale through `g` again
for every text (about five context lookups each), which was a sixth of a long page's time.
Here a text looks in the request's Flask-Babel state for the catalogue already found for the
current locale (`RequestDomain` keeps it there) and only falls back to Flask-Babel when there is
none: the first text of a request, after `flask_babel.refresh`, inside and after `force_locale`
(each changes the locale object the catalogue is kept with), or with another domain set as the
default. Outside an application context a text stays untranslated, as with Flask-Babel. Lazy
texts are Flask-Babel's `LazyString`, resolved each time they are shown.

In templates `_()` and `gettext()` answer what Jinja's i18n extension answers (newstyle:
`Markup(translation) % values` when autoescaping), by a shorter path: the extension's `_` looks
`gettext` up in the context and calls it through the context twice, and inside a block or loop
builds a derived context for each call; here one call with the evaluation context (for
autoescaping) alone. A text without values is kept, as the template got it, with the catalogue
it came from (`_template_text`): a page's sixty texts are mostly the same as the last page's.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, date, datetime, time
from typing import Any, cast

import flask_babel
from babel import Locale, support
from babel.dates import (
    DateTimePattern,
    get_date_format,
    get_datetime_format,
    get_time_format,
    parse_pattern,
)
from flask import Flask, current_app, g, request, session
from flask.globals import _cv_app
from flask_babel import LazyString, get_locale, get_timezone
from flask_login import current_user
from jinja2 import pass_eval_context
from jinja2.nodes import EvalContext
from markupsafe import Markup

from pallapp.extensions import babel


def current_translations() -> support.NullTranslations:
    """The catalogue of the current locale (what Flask-Babel's `get_translations` answers)."""
    # The context variable itself, not `g`: each access through Flask's proxy is a lookup.
    context = _cv_app.get(None)
    if context is None:
        return support.NullTranslations()  # Flask-Babel's answer outside an app context
    state = context.g.__dict__.get("_flask_babel")
    if state is not None:
        known = state.__dict__
        cached = known.get("pallapp_translations")
        if (
            cached is not None
            and cached[0] is known.get("babel_locale")
            and known.get("babel_domain", babel.domain_instance) is babel.domain_instance
        ):
            return cached[1]  # type: ignore[no-any-return]  # Flask-Babel is untyped
    return flask_babel.get_domain().get_translations()  # type: ignore[no-any-return]


def gettext(string: str, **variables: Any) -> str:
    text: str = current_translations().ugettext(string)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
    variables.setdefault("num", num)
    text: str = current_translations().ungettext(singular, plural, num)
    return text % variables


def pgettext(context: str, string: str, **variables: Any) -> str:
    text: str = current_translations().upgettext(context, string)
    return text % variables if variables else text


def npgettext(context: str, singular: str, plural: str, num: int, **variables: Any) -> str:
    variables.setdefault("num", num)
    text: str = current_translations().unpgettext(context, singular, plural, num)
    return text % variables


def lazy_gettext(string: str, **variables: Any) -> LazyString:
    return LazyString(gettext, string, **variables)


def lazy_pgettext(context: str, string: str, **variables: Any) -> LazyString:
    return LazyString(pgettext, context, string, **variables)


def lazy_ngettext(singular: str, plural: str, num: int, **variables: Any) -> LazyString:
    return LazyString(ngettext, singular, plural, num, **variables)


def select_locale() -> str:
    """The user's own setting, else a choice made before logging in, else the browser, else sv.

    Error pages never ask the database (it may be what failed): there the language comes from
    the session, which keeps the user's own setting from the login on (`begin_session`).
    """
    languages = current_app.config["LANGUAGES"]
    if (
        not g.get("without_database")
        and current_user
        and current_user.is_authenticated
        and current_user.language in languages
    ):
        return str(current_user.language)
    chosen = session.get("language")
    if chosen in languages:
        return str(chosen)
    best = request.accept_languages.best_match(languages)
    return best or current_app.config["BABEL_DEFAULT_LOCALE"]


def language_choices() -> list[tuple[str, str]]:
    """Every configured language (`LANGUAGES`), each named in itself from Babel's locale data:
    the language switch and the form that receives it are built from this list, so adding a
    language is a catalogue (`flask translate init`) and a configuration entry."""
    return list(_named_languages(tuple(current_app.config["LANGUAGES"])))


@functools.cache
def _named_languages(codes: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    # Every page's language switch needs the names: Babel's locale data is read once.
    return tuple(
        (code, (Locale.parse(code).get_display_name(code) or code).capitalize())
        for code in codes
    )


# Dates and times: what Flask-Babel's format_date, format_datetime and format_time answer, the
# same text, at a tenth of the cost. Each of those finds the locale's pattern and parses it again
# on every call (about 0.1 ms, most of it not the formatting itself); here the patterns of a
# locale and style are found once per process and applied to the value converted to the request's
# time zone (Europe/Stockholm) exactly as Flask-Babel converts it. Flask-Babel's own
# `date_formats` overrides are not consulted: the app sets none (its defaults are all None).
#
# Applying a parsed pattern and converting to Stockholm time still cost about 20 microseconds
# (Babel formats field by field, pytz converts in Python), and a page shows a few dozen dates and
# times, mostly the same ones as the last time it was shown. The text of each instant is kept per
# locale, style and time zone, and below it the text of a day or of a time of day per pattern
# (`_LocaleFormats`), the latter only when the pattern reads nothing else (no time zone name, no
# fraction of a second). What is kept depends on nothing of a request or a user, so it outlives
# the request; the store is emptied when it grows past `_KEPT_TEXTS`.
_NAMED_STYLES = ("full", "long", "medium", "short")
#: Pattern letters whose text depends on the day alone (Unicode TR35 date field symbols).
_DAY_FIELDS = frozenset("GyYuUrQqMLlwWdDFgEec")
#: Pattern letters whose text depends on the hour, minute and second alone.
_TIME_OF_DAY_FIELDS = frozenset("aBbhHKkms")
_FIELD = re.compile(r"%\(([^)]+)\)s")
#: How many texts one locale keeps before it starts again (a few years of days and a day of
#: minutes fit).
_KEPT_TEXTS = 20_000


class _Pattern:
    """A parsed Babel pattern and what its text depends on: "day", "time" (of day), "both", or
    "" (something else: a time zone, a fraction of a second), when it is not kept."""

    def __init__(self, pattern: DateTimePattern) -> None:
        self.pattern = pattern
        # Babel types `format` as its formatter; it is the pattern as a %-format string.
        letters = {name[0] for name in _FIELD.findall(str(pattern.format))}
        day = bool(letters & _DAY_FIELDS)
        clock = bool(letters & _TIME_OF_DAY_FIELDS)
        if letters - _DAY_FIELDS - _TIME_OF_DAY_FIELDS:
            self.depends_on = ""
        else:
            self.depends_on = "both" if day and clock else "time" if clock else "day"


class _LocaleFormats:
    """The parsed patterns of one locale, and the texts they gave."""

    def __init__(self, locale: Locale) -> None:
        self.locale = locale
        self.date_patterns: dict[str, _Pattern] = {}
        self.time_patterns: dict[str, _Pattern] = {}
        self.joints: dict[str, str] = {}
        self.texts: dict[tuple[object, ...], str] = {}

    def date_pattern(self, style: str) -> _Pattern:
        found = self.date_patterns.get(style)
        if found is None:
            found = self.date_patterns[style] = _Pattern(
                parse_pattern(
                    get_date_format(style, self.locale) if style in _NAMED_STYLES else style  # type: ignore[arg-type]  # a style name here
                )
            )
        return found

    def time_pattern(self, style: str) -> _Pattern:
        found = self.time_patterns.get(style)
        if found is None:
            found = self.time_patterns[style] = _Pattern(
                parse_pattern(
                    get_time_format(style, self.locale) if style in _NAMED_STYLES else style  # type: ignore[arg-type]  # a style name here
                )
            )
        return found

    def joint(self, style: str) -> str:
        # Babel joins a named style's time ({0}) and date ({1}) with the locale's pattern,
        # quotes dropped.
        found = self.joints.get(style)
        if found is None:
            found = self.joints[style] = str(
                get_datetime_format(style, self.locale)  # type: ignore[arg-type]  # a style name here
            ).replace("'", "")
        return found

    def apply(
        self, parsed: _Pattern, value: date | datetime | time, reference_date: date | None = None
    ) -> str:
        """`parsed.pattern.apply(value, locale)`, kept when it depends on the day or the time of
        day only. `value` is a date for a day pattern, a time for a time-of-day pattern, a
        datetime for a pattern with both."""
        depends_on = parsed.depends_on
        if depends_on == "day":
            day = value.date() if isinstance(value, datetime) else value
            key: tuple[object, ...] = (parsed, day)
        elif depends_on == "time":
            key = (parsed, value.hour, value.minute, value.second)  # type: ignore[union-attr]  # a time here
        elif depends_on == "both":
            moment = cast(datetime, value)
            key = (parsed, moment.date(), moment.hour, moment.minute, moment.second)
        else:
            return parsed.pattern.apply(value, self.locale, reference_date=reference_date)
        text = self.texts.get(key)
        if text is None:
            text = self.keep(
                key, parsed.pattern.apply(value, self.locale, reference_date=reference_date)
            )
        return text

    def keep(self, key: tuple[object, ...], text: str) -> str:
        if len(self.texts) >= _KEPT_TEXTS:
            self.texts.clear()
        self.texts[key] = text
        return text


_locale_formats: dict[tuple[str | None, ...], _LocaleFormats] = {}


def _formats(locale: Locale) -> _LocaleFormats:
    """The patterns and texts of `locale` (of an equal Locale: each request has its own)."""
    key = (locale.language, locale.territory, locale.script, locale.variant, locale.modifier)
    found = _locale_formats.get(key)
    if found is None:
        found = _locale_formats[key] = _LocaleFormats(locale)
    return found


def _locale_and_zone() -> tuple[Locale, Any]:
    """Flask-Babel's `get_locale()` and `get_timezone()`, read straight from the request's
    Flask-Babel state once both are known (each of its functions looks `g` up twice)."""
    context = _cv_app.get(None)
    state = None if context is None else context.g.__dict__.get("_flask_babel")
    if state is not None:
        known = state.__dict__
        locale = known.get("babel_locale")
        zone = known.get("babel_tzinfo")
        if locale is not None and zone is not None:
            return locale, zone
    return get_locale(), get_timezone()


def _local(moment: datetime, zone: Any) -> datetime:
    """`moment` in the time zone `zone` (pytz), as Flask-Babel and Babel convert it: naive is UTC,
    and the result normalized."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return zone.normalize(moment.astimezone(zone))  # type: ignore[no-any-return]  # pytz is untyped


def _instant(value: datetime) -> datetime:
    """`value` as an aware UTC datetime (naive is UTC), to key the texts of instants by: aware
    datetimes of one zone compare by their wall time, so the two 02:30 of a night leaving
    summer time would be one key."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def date_text(value: date | datetime, style: str = "medium") -> str:
    """The day of `value` in the reader's language; a datetime's day in Europe/Stockholm.

    The same text as `flask_babel.format_date(value, style)`: `style` is a named style (short,
    medium, long, full) or a Babel date pattern ("LLLL y").
    """
    locale, zone = _locale_and_zone()
    formats = _formats(locale)
    if not isinstance(value, datetime):
        return formats.apply(formats.date_pattern(style), value)
    key = ("date", style, zone, _instant(value))
    text = formats.texts.get(key)
    if text is None:
        day = _local(value, zone).date()
        text = formats.keep(key, formats.apply(formats.date_pattern(style), day))
    return text


def datetime_text(value: datetime, style: str = "medium") -> str:
    """`value` as a Europe/Stockholm date and time in the reader's language: the same text as
    `flask_babel.format_datetime(value, style)`."""
    locale, zone = _locale_and_zone()
    formats = _formats(locale)
    key = ("datetime", style, zone, _instant(value))
    text = formats.texts.get(key)
    if text is not None:
        return text
    moment = _local(value, zone)
    if style not in _NAMED_STYLES:
        return formats.keep(key, formats.apply(formats.date_pattern(style), moment))
    clock = formats.apply(
        formats.time_pattern(style), moment.timetz(), reference_date=moment.date()
    )
    day = formats.apply(formats.date_pattern(style), moment.date())
    return formats.keep(key, formats.joint(style).replace("{0}", clock).replace("{1}", day))


def time_text(value: datetime, style: str = "medium") -> str:
    """The Europe/Stockholm time of day of `value` in the reader's language: the same text as
    `flask_babel.format_time(value, style)`."""
    # Babel's reference date (for time zone names) is the date before conversion.
    reference = value.date()
    locale, zone = _locale_and_zone()
    formats = _formats(locale)
    key = ("time", style, zone, _instant(value), reference)
    text = formats.texts.get(key)
    if text is None:
        clock = _local(value, zone).timetz()
        text = formats.keep(
            key, formats.apply(formats.time_pattern(style), clock, reference_date=reference)
        )
    return text


#: The attribute of a catalogue that keeps its texts as autoescaped templates got them.
_TEMPLATE_TEXTS = "pallapp_template_texts"
#: How many texts one catalogue keeps before it starts again (the templates have about 700
#: `_()` calls; more only if a template translates data).
_KEPT_TEMPLATE_TEXTS = 5_000


@pass_eval_context
def template_gettext(eval_context: EvalContext, string: str, /, **variables: Any) -> str:
    """`_()` and `gettext()` in templates: Jinja's newstyle gettext with the app's catalogue.

    A text without values in an autoescaped template is kept with the catalogue of the current
    locale (each locale has its own, and `force_locale` or another user's language finds
    another); lazy texts and texts with values are translated each time, as before.
    """
    translations = current_translations()
    if variables or not eval_context.autoescape or type(string) is not str:
        text = translations.ugettext(string)
        if eval_context.autoescape:
            text = Markup(text)  # noqa: S704 (our catalogue, as Jinja's _() trusts it)
        # Jinja always formats, with or without values ("%%" becomes "%").
        return text % variables
    kept: dict[str, Markup] | None = translations.__dict__.get(_TEMPLATE_TEXTS)
    if kept is None:
        kept = translations.__dict__[_TEMPLATE_TEXTS] = {}
    found = kept.get(string)
    if found is None:
        if len(kept) >= _KEPT_TEMPLATE_TEXTS:
            kept.clear()
        found = kept[string] = Markup(translations.ugettext(string)) % {}  # noqa: S704 (as above)
    return found


def install_i18n(app: Flask) -> None:
    translations = current_translations
    # The same callables Flask-Babel installs, with the short path to the catalogue.
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]  # from Jinja's i18n extension
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
        newstyle=True,
    )
    # `_` (the extension's alias, which looked `gettext` up in the context) and `gettext`.
    app.jinja_env.globals["_"] = app.jinja_env.globals["gettext"] = template_gettext

    @app.template_filter("local_date")
    def local_date(value: date | datetime | None, style: str = "medium") -> str:
        # Flask-Babel converts datetimes to Europe/Stockholm before taking the date.
        return "" if value is None else date_text(value, style)

    @app.template_filter("local_datetime")
    def local_datetime(value: datetime | None, style: str = "short") -> str:
        return "" if value is None else datetime_text(value, style)

    @app.template_filter("without_none")
    def without_none(attributes: dict[str, object]) -> dict[str, object]:
        """Drop unset HTML attributes (WTForms would render None as the text "None")."""
        return {
            key: value
            for key, value in attributes.items()
            if value is not None and value is not False
        }

    @app.context_processor
    def language_context() -> dict[str, object]:
        return {"current_language": str(get_locale() or "sv"), "languages": language_choices()}
