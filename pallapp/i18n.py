"""Languages (Swedish by default, English) and dates shown in Europe/Stockholm."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from babel import Locale
from flask import Flask, current_app, g, request, session
from flask_babel import format_date, format_datetime, get_locale
from flask_login import current_user


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
    return [
        (code, (Locale.parse(code).get_display_name(code) or code).capitalize())
        for code in current_app.config["LANGUAGES"]
    ]


def _formatted(
    formatter: Callable[[Any, str], str], value: date | datetime, style: str
) -> str:
    """`formatter(value, style)`, each distinct value formatted once per request.

    Babel's formatting costs about a tenth of a millisecond a call, and a list shows the same
    day many times (the overview: two dates on each of 25 rows). Kept in `g`, so for one
    request, one locale and one time zone: nothing outlives the request.
    """
    seen: dict[tuple[object, ...], str] = g.setdefault("pallapp_formatted", {})
    key = (formatter, value, style, get_locale())
    text = seen.get(key)
    if text is None:
        text = seen[key] = formatter(value, style)
    return text


def install_i18n(app: Flask) -> None:
    from pallapp.extensions import babel

    def translations() -> Any:
        return babel.domain_instance.get_translations()

    # The same callables Flask-Babel installs, without its per-call lookup of the domain.
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]  # from Jinja's i18n extension
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
        newstyle=True,
    )

    @app.template_filter("local_date")
    def local_date(value: date | datetime | None, style: str = "medium") -> str:
        # Flask-Babel converts datetimes to Europe/Stockholm before taking the date.
        return "" if value is None else _formatted(format_date, value, style)

    @app.template_filter("local_datetime")
    def local_datetime(value: datetime | None, style: str = "short") -> str:
        return "" if value is None else _formatted(format_datetime, value, style)

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
