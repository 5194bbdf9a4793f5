"""The unit overview's rows drawn in Python, for `review/overview.html`.

Jinja spent most of the overview's time in the two loops over its 25 rows (the table line and the
card of each patient, with a `key_scores` macro call per card): attribute lookups, escaping and
gettext calls per cell. Here each row is drawn with string joins; the texts that every row
repeats are translated once per request (`RowTexts`, kept for one request in one language:
nothing outlives it). Names, units and other data are escaped here as the template escaped them,
and translations are trusted as Jinja's `_()` trusts them.

The markup is the same as the template drew it (tests/app/review/test_overview_markup.py keeps
the template's loops and compares).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from babel import Locale
from flask_babel import get_locale
from markupsafe import Markup, escape

from pallapp.i18n import current_translations, date_text
from pallapp.review.overview_words import KeyScoreWords


def _e(value: object) -> str:
    """`escape(value)` as text. Plain strings are escaped here as markupsafe escapes them (the
    same five characters, the same entities) and markup and whole numbers are taken as they
    are, as it takes them, without making a `Markup` of each: a page escapes about two
    thousand values."""
    kind = type(value)
    if kind is str:
        return (
            value.replace("&", "&amp;")  # type: ignore[attr-defined]  # a str, as `kind` says
            .replace(">", "&gt;")
            .replace("<", "&lt;")
            .replace("'", "&#39;")
            .replace('"', "&#34;")
        )
    if kind is Markup or kind is int:
        return str(value)
    return str(escape(value))


class RowTexts:
    """What `_()` and `ngettext()` give in the autoescaped template, each distinct call answered
    once (for one request, in one language): the translation trusted, its variables escaped."""

    def __init__(self) -> None:
        self._translations = current_translations()
        self._locale = get_locale()
        self._known: dict[tuple[Any, ...], str] = {}
        self._dates: dict[date, str] = {}
        self._days: dict[date, str] = {}

    def text(self, msgid: str) -> str:
        key = ("text", msgid)
        found = self._known.get(key)
        if found is None:
            found = self._known[key] = str(Markup(self._translations.ugettext(msgid)) % {})  # noqa: S704 (our catalogue, as _() trusts it)
        return found

    def formatted(self, msgid: str, **variables: Any) -> str:
        """`_(msgid, **variables)`, each distinct call answered once (the counts of flags repeat
        from row to row)."""
        key = ("formatted", msgid, *variables.items())
        found = self._known.get(key)
        if found is None:
            found = self._known[key] = str(Markup(self._translations.ugettext(msgid)) % variables)  # noqa: S704 (our catalogue, as _() trusts it)
        return found

    def plural(self, singular: str, plural: str, num: int) -> str:
        key = ("plural", singular, plural, num)
        found = self._known.get(key)
        if found is None:
            found = self._known[key] = str(
                Markup(self._translations.ungettext(singular, plural, num)) % {"num": num}  # noqa: S704 (our catalogue, as ngettext() trusts it)
            )
        return found

    def local_date(self, value: date) -> str:
        """`value|local_date` (the page shows the same few days again and again)."""
        found = self._dates.get(value)
        if found is None:
            found = self._dates[value] = _day_text(self._locale, value)
        return found

    def day(self, value: date) -> str:
        """`value|local_date`, escaped."""
        found = self._days.get(value)
        if found is None:
            found = self._days[value] = _e(self.local_date(value))
        return found


@functools.lru_cache(maxsize=4096)
def _day_text(locale: Locale, value: date) -> str:
    # A day's text in one language never changes: kept by language and day for the process
    # (a page names about a hundred days, most of them the same from one request to the next,
    # and formatting one cost more than the rest of a row's cell). `date_text` reads the
    # request's language, which is `locale`.
    return date_text(value)


def table_row(item: Mapping[str, Any], texts: RowTexts) -> Markup:
    """The `<tr>` of one patient in the compact table."""
    row = item["row"]
    patient = row.patient
    details = row.details
    name = f"{_e(patient.family_name)}, {_e(patient.given_name)}"
    trends_url = _e(item["trends_url"])
    days_in_phase = None if not details else details.days_in_phase
    phase = _e(item["phase"])
    if days_in_phase is not None:
        phase += f'<span class="meta"> · {texts.plural("%(num)d day", "%(num)d days", days_in_phase)}</span>'
    worst_words = item["worst"]
    if worst_words:
        worst = (
            f'<span class="heat-cell band-{_e(row.worst_band)} worst-band">{texts.text(item["worst_band"])}</span> '
            + _e(", ".join(worst_words[:2]))
            + (" …" if len(worst_words) > 2 else "")
        )
    else:
        worst = f'<span class="meta">{texts.text("not rated")}</span>'
    groups = item["flags"]
    if groups:
        parts = ['<ul class="flag-groups">']
        for index, group in enumerate(groups[:2]):
            items = group["items"]
            listed = ""
            if index == 0 and items:
                listed = ": " + _e(", ".join(items[:2])) + (" …" if len(items) > 2 else "")
            when = _e(group["when"])
            parts.append(
                f'<li class="flag-{_e(group["severity"])}"><span class="visually-hidden">'
                f'{_e(group["severity_label"])}: </span>{_e(group["title"])}{listed} '
                f'<span class="meta" title="{when}">({_e(group["short"])})'
                f'<span class="visually-hidden"> {when}</span></span></li>'
            )
        if len(groups) > 2:
            more = texts.plural("%(num)d more kind", "%(num)d more kinds", len(groups) - 2)
            parts.append(
                f'<li class="more"><a class="more-flags" href="{_e(item["flags_url"])}">{more}'
                f'<span class="visually-hidden"> – {_e(patient.name)}</span></a></li>'
            )
        parts.append("</ul>")
        flag_cell = "".join(parts)
    else:
        flag_cell = f'<span class="meta">{texts.text("none")}</span>'
    doses = _e(", ".join(item["doses"])) if item["doses"] else "0"
    if row.last_rating_at:
        age = row.rating_age_days
        last = (
            texts.text("today")
            if age == 0
            else texts.plural("%(num)d day ago", "%(num)d days ago", age)
        )
    else:
        last = texts.text("never")
    if row.overdue:
        last += f' <strong class="overdue-label">{texts.text("overdue")}</strong>'
    if details and (details.responsible_nurse or details.responsible_physician):
        responsible = f"{_e(details.responsible_nurse or '–')}<br>{_e(details.responsible_physician or '–')}"
    else:
        responsible = f'<span class="meta">{texts.text("not named")}</span>'
    return Markup(  # noqa: S704 (every value above is escaped)
        f'<tr class="overview-line" data-patient="{_e(patient.public_id)}">\n'
        f'      <th scope="row"><a href="{trends_url}">{name}</a>\n'
        f'        <span class="meta pnr">{_e(patient.masked_personnummer)}</span></th>\n'
        f'      <td class="phase-cell">{phase}</td>\n'
        f'      <td class="worst">{worst}</td>\n'
        f'      <td class="flags-cell">{flag_cell}</td>\n'
        f"      <td>{doses}</td>\n"
        f'      <td class="{"overdue" if row.overdue else ""}">{last}</td>\n'
        f'      <td class="responsible">{responsible}</td>\n'
        "    </tr>"
    )


def key_scores(scores: Iterable[KeyScoreWords], texts: RowTexts) -> str:
    """The `key_scores` macro of review/_macros.html."""
    parts = ['\n<ul class="key-scores">\n  ']
    empty = True
    for score in scores:
        empty = False
        band = (
            f'<span class="band band-{_e(score.band)}">{_e(score.band_label)}</span>'
            if score.band_label
            else ""
        )
        parts.append(
            f'\n  <li><span class="ks-title">{_e(score.title)}</span>\n'
            f'    <span class="ks-value">{_e(score.label)}: {_e(score.value)}</span>\n'
            f"    {band}\n"
            f'    <span class="meta">{texts.day(score.observed_on)}</span></li>\n  '
        )
    if empty:
        parts.append(f'\n  <li class="meta">{texts.text("No ratings yet.")}</li>\n  ')
    parts.append("\n</ul>\n")
    return "".join(parts)


def list_item(item: Mapping[str, Any], scores: Iterable[KeyScoreWords], texts: RowTexts) -> Markup:
    """The card (`<li>`) of one patient in the narrow-screen list."""
    row = item["row"]
    patient = row.patient
    trends_url = _e(item["trends_url"])
    hidden_name = f'<span class="visually-hidden"> – {_e(patient.name)}</span>'
    if row.last_rating_at:
        rating = (
            f'<span class="{"overdue" if row.overdue else ""}">'
            + texts.formatted(
                "Last symptom rating: %(date)s (%(days)d days since; interval %(interval)d days)",
                date=texts.local_date(row.last_rating_on),
                days=row.rating_age_days,
                interval=row.interval_days,
            )
            + "</span>"
        )
    else:
        rating = f'<span class="overdue">{texts.text("Never symptom-rated")}</span>'
    overdue = (
        f'<strong class="overdue-label">{texts.text("Rating overdue")}</strong>' if row.overdue else ""
    )
    doses = (
        texts.formatted("As-needed doses in the last 24 hours: %(doses)s", doses=", ".join(item["doses"]))
        if item["doses"]
        else texts.text("No as-needed doses in the last 24 hours.")
    )
    groups = item["flags"]
    flag_list = ""
    if groups:
        lines = []
        for group in groups:
            listed = f': {_e(", ".join(group["items"]))}' if group["items"] else ""
            lines.append(
                f'<li class="flag-{_e(group["severity"])}">{_e(group["title"])} '
                f'({_e(group["severity_label"])}){listed} · {_e(group["when"])}</li>'
            )
        flag_list = f'\n    <ul class="flag-list">\n      {"".join(lines)}\n    </ul>\n    '
    return Markup(  # noqa: S704 (every value above is escaped)
        f'<li class="card overview-row" data-patient="{_e(patient.public_id)}">\n'
        f'    <h2><a href="{trends_url}">{_e(patient.family_name)}, {_e(patient.given_name)}</a></h2>\n'
        f'    <p class="meta">{_e(patient.masked_personnummer)} · <span class="phase phase-{_e(patient.phase)}">'
        f'{_e(item["phase"])}</span> · {_e(" · ".join(item["units"]))}</p>\n'
        '    <p class="counts">\n'
        f'      <span class="count count-high">{texts.formatted("High flags: %(count)d", count=row.counts.high)}</span>\n'
        f'      <span class="count count-medium">{texts.formatted("Medium flags: %(count)d", count=row.counts.medium)}</span>\n'
        f"      \n      {rating}\n      \n"
        f"      {overdue}\n"
        "    </p>\n"
        f"    {key_scores(scores, texts)}\n"
        f'    <p class="doses-24h">{doses}</p>\n'
        f"    {flag_list}\n"
        '    <p class="actions">\n'
        f'      <a href="{trends_url}">{texts.text("Trends")}{hidden_name}</a>\n'
        f'      <a href="{_e(item["flags_url"])}">{texts.text("Flags")}{hidden_name}</a>\n'
        f'      <a href="{_e(item["summary_url"])}">{texts.text("Summary")}{hidden_name}</a>\n'
        "    </p>\n"
        "  </li>"
    )
