"""The unit overview's rows in words: flag groups, the items at the worst band, doses.

A page of 25 rows names the same few rules, items and indications again and again; each
distinct text is translated once per request (`Words`) instead of once per flag (gettext cost
more than the rest of the row). A `Words` lives for one request in one language: nothing is
kept between requests.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any, NamedTuple

from flask import g
from flask_babel import get_locale
from markupsafe import Markup

from pallapp import present, scoring
from pallapp.i18n import current_translations, gettext, ngettext
from pallapp.models import Phase
from pallapp.review import charts
from pallapp.review.common import KeyScore
from pallapp.review.ordering import FlagEntry, GroupedFlags, WorstItem
from pallapp.timeutil import STOCKHOLM


class Words:
    """gettext and ngettext, each distinct call answered once (for one request)."""

    def __init__(self) -> None:
        self._known: dict[tuple[Any, ...], str] = {}

    def text(self, msgid: str) -> str:
        key = ("text", msgid)
        found = self._known.get(key)
        if found is None:
            found = self._known[key] = gettext(msgid)
        return found

    def number(self, msgid: str, num: int) -> str:
        """`gettext(msgid, num=num)`."""
        key = ("number", msgid, num)
        found = self._known.get(key)
        if found is None:
            found = self._known[key] = gettext(msgid, num=num)
        return found

    def plural(self, singular: str, plural: str, num: int) -> str:
        key = ("plural", singular, plural, num)
        found = self._known.get(key)
        if found is None:
            found = self._known[key] = ngettext(singular, plural, num)
        return found

    def phase(self, phase: str) -> str:
        key = ("phase", phase)
        found = self._known.get(key)
        if found is None:
            found = self._known[key] = Phase(phase).label
        return found

    def indication(self, code: str) -> str:
        key = ("indication", code)
        found = self._known.get(key)
        if found is None:
            found = self._known[key] = charts.indication_name(code)
        return found

    def flag_item(self, entry: FlagEntry, code: str) -> str:
        """An item a flag names: a dose or reminder flag's items are indications."""
        if entry.source in ("dose", "reminder"):
            return self.indication(code)
        key = ("flag_item", entry.instrument, code)
        found = self._known.get(key)
        if found is None:
            found = self._known[key] = present.flag_item_label(entry.instrument, code)
        return found


def flag_group_words(group: GroupedFlags, words: Words, today: date) -> dict[str, object]:
    """A group of open flags of one rule in words: "Severe symptom: pain, shortness of breath ·
    for 3 days · 3 times"."""
    items: list[str] = []
    named: set[tuple[str, str | None, str]] = set()
    for entry in group.entries:
        for code in entry.items:
            # Repeats of a rule name the same items again: each named once.
            key = (entry.source, entry.instrument, code)
            if key in named:
                continue
            named.add(key)
            label = words.flag_item(entry, code)
            if label not in items:
                items.append(label)
    days = (today - group.since.astimezone(STOCKHOLM).date()).days
    parts = [
        words.plural("for %(num)d day", "for %(num)d days", days)
        if days
        else words.text("since today"),
    ]
    if group.count > 1:
        parts.append(words.plural("%(num)d time", "%(num)d times", group.count))
    return {
        "title": words.text(scoring.FLAG_CODES[group.code].title),
        "severity": group.severity,
        "severity_label": words.text(scoring.SEVERITY_LABELS[group.severity]),
        "items": items,
        "when": " · ".join(parts),
        # The table's short form: "2×, 3 d".
        "short": ", ".join(
            ([words.number("%(num)d×", group.count)] if group.count > 1 else [])
            + [words.number("%(num)d d", days)]
        ),
    }


def worst_items_words(worst_items: list[WorstItem], words: Words) -> list[str]:
    """'Pain 8' for each item at the patient's worst current band (at most four, each label
    once)."""
    result: list[str] = []
    seen: set[str] = set()
    for item in worst_items:
        definition = scoring.INSTRUMENTS[item.instrument]
        if item.code is None:
            label = words.text(definition.total_label or "Total score")
            label = f"{words.text(definition.title)}: {label}"
        else:
            label = words.text(definition.item(item.code).score_label)
        if label in seen:
            continue
        seen.add(label)
        result.append(f"{label} {item.value}" if item.value is not None else label)
    return result[:4]


def dose_counts_in_words(counts: dict[str, int], words: Words) -> list[str]:
    """'Pain 2' for each indication with doses, in the order of the indications."""
    order = list(scoring.PRN_INDICATIONS)
    ranked = sorted(counts.items(), key=lambda item: order.index(item[0]) if item[0] in order else 99)
    return [
        gettext(
            "%(indication)s %(count)d",
            indication=words.indication(code),
            count=count,
        )
        for code, count in ranked
    ]



class KeyScoreWords(NamedTuple):
    """One key score as the `key_scores` macro shows it: its texts translated."""

    title: Markup
    label: Markup
    value: Markup | str  # "12/40", or "incomplete" translated
    band: str | None
    band_label: Markup | None
    observed_on: date


def _template_text(msgid: str) -> Markup:
    # What `_(msgid)` gives in an autoescaped template (Jinja's newstyle gettext): the
    # translation trusted as markup and formatted with no variables ("%%" becomes "%").
    return Markup(current_translations().ugettext(msgid)) % {}  # noqa: S704 (our catalogue, as _() trusts it)


def key_score_words(scores: Iterable[KeyScore]) -> list[KeyScoreWords]:
    """The texts of the `key_scores` macro (template filter). The overview shows about a
    hundred key scores with the same few titles, labels and bands: each distinct score is put
    in words once per request (three or four translations a score cost more than the rest of
    the list). Kept in `g` by locale, so nothing outlives the request."""
    known: dict[tuple[Any, ...], tuple[Markup, Markup, Markup | str, Markup | None]] = (
        g.setdefault("pallapp_key_score_words", {})
    )
    texts: dict[tuple[Any, str], Markup] = g.setdefault("pallapp_key_score_texts", {})
    locale = get_locale()

    def text(msgid: str) -> Markup:
        # Each distinct text translated once per request: the scores repeat a few titles,
        # labels and bands with a different value each.
        found = texts.get((locale, msgid))
        if found is None:
            found = texts[(locale, msgid)] = _template_text(msgid)
        return found

    result = []
    for score in scores:
        key = (locale, score.title, score.label, score.value, score.maximum, score.band_label)
        words = known.get(key)
        if words is None:
            words = known[key] = (
                text(score.title),
                text(score.label),
                text("incomplete") if score.value is None else f"{score.value}/{score.maximum}",
                None if not score.band_label else text(score.band_label),
            )
        title, label, value, band_label = words
        result.append(KeyScoreWords(title, label, value, score.band, band_label, score.observed_on))
    return result
