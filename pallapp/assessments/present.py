"""Turn a stored assessment into what a result or detail page shows (labels, bands, flags).

Everything is read from the instrument definitions in `pallapp.scoring`; nothing here lists
items again. Labels are msgids, translated here with gettext at render time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pallapp import scoring
from pallapp.i18n import gettext, pgettext
from pallapp.models import Assessment, Respondent, Role
from pallapp.present import FlagView, flag_view
from pallapp.present import band_label as _band_label

# Shown on other features' pages too, so kept in the shared module; the result and detail
# pages of this feature use them from here.
from pallapp.present import instrument_title as instrument_title
from pallapp.present import overall_band as overall_band
from pallapp.present import score_rows as score_rows


@dataclass(frozen=True)
class AnswerRow:
    code: str
    label: str  # the question, as the form asked it
    value: str  # what was answered, in words ("3 – Severely", "Not answered", ...)
    band: str | None  # band code, for colour (never shown by colour alone)
    band_label: str | None
    # What the level is about, for an item that asks about something good and is scored so that
    # higher is worse (IPOS Q6-Q9): "Not at peace". None for every other item, or with no problem.
    problem: str | None = None


def instrument_purpose(code: str) -> str:
    """The chooser's line on what the form is for and about how long it takes (`Display.purpose`;
    the minutes are a project estimate from the number of items, about 15-20 s per
    tap-answered item as timed in the browser tests' flows, not a published figure)."""
    purpose = scoring.INSTRUMENTS[code].display.purpose
    return gettext(purpose) if purpose is not None else ""


def option_text(item: scoring.ItemDefinition, msgid: str) -> str:
    """An answer option's words in the reader's language, in the item's gettext context if it
    has one (Abbey: one English word, two Swedish ones)."""
    if item.options_context:
        return str(pgettext(item.options_context, msgid))
    return str(gettext(msgid))


def answer_rows(assessment: Assessment) -> list[AnswerRow]:
    definition = scoring.INSTRUMENTS[assessment.instrument]
    item_bands: dict[str, str] = assessment.scores.get("item_bands", {})
    rows = []
    for item in definition.items:
        value = assessment.answers.get(item.code)
        if value is None:
            shown = gettext("Not answered")
        elif isinstance(value, str):
            shown = gettext(scoring.special_value_label(item, value))
        else:
            option = item.label_for(value)
            shown = f"{value} – {option_text(item, option)}" if option else str(value)
        band = item_bands.get(item.code)
        if not definition.item_bands and not definition.total_items and isinstance(value, int):
            # Without a total the overall band is by the highest grade, so an area's grade maps
            # onto the bands by itself (ROAG: 1 healthy, 2, 3).
            band = next((b.name for b in definition.bands if b.contains(value)), None)
            band_label = _band_label(definition.bands, band)
        else:
            band_label = _band_label(definition.item_bands, band)
        problem = None
        if item.problem_label and band not in (None, "none"):
            problem = gettext(item.problem_label)
        rows.append(AnswerRow(item.code, gettext(item.label), shown, band, band_label, problem))
    return rows


def entry_line(assessment: Assessment) -> str:
    """Who gave the answers and who typed them, in one sentence for the result page.

    A relative who helps the patient answer is named as such ("Filled in by Anna Lindgren
    (relative) together with the patient"), so a reader never takes it for the patient alone.
    """
    entered_by = assessment.entered_by
    respondent = assessment.respondent_enum
    if respondent is Respondent.STAFF:
        line = gettext("Assessed by %(name)s (staff)", name=entered_by.name)
    elif respondent is Respondent.RELATIVE:
        answered_by = assessment.answered_by or entered_by
        line = gettext("Answered by %(name)s (relative) for the patient", name=answered_by.name)
    elif entered_by.role == Role.RELATIVE:
        line = gettext(
            "Filled in by %(name)s (relative) together with the patient", name=entered_by.name
        )
    elif entered_by.role == Role.PATIENT:
        line = gettext("Filled in by the patient")
    else:
        line = gettext(
            "Entered by %(name)s (staff) from the patient's answers", name=entered_by.name
        )
    return str(line)


def context_rows(assessment: Assessment) -> list[tuple[str, str]]:
    """Free text and other unscored answers, as (label, text) pairs."""
    definition = scoring.INSTRUMENTS[assessment.instrument]
    rows: list[tuple[str, str]] = []
    for field in definition.context_fields:
        value: Any = assessment.answers.get(field.code)
        if value in (None, [], ""):
            continue
        if field.kind == "choice":
            label = dict(field.choices).get(value, value)
            text = gettext(label)
        elif field.kind == "text_list":
            text = "; ".join(value)
        elif field.kind == "rated_list":
            text = "; ".join(f"{entry['label']}: {entry['rating']}" for entry in value)
        else:
            text = str(value)
        rows.append((gettext(field.label), text))
    return rows


def missing_labels(assessment: Assessment) -> list[str]:
    definition = scoring.INSTRUMENTS[assessment.instrument]
    return [gettext(definition.item(code).label) for code in assessment.scores.get("missing", [])]


def flag_views(assessment: Assessment) -> list[FlagView]:
    return [flag_view(flag, assessment.instrument) for flag in assessment.flags]
