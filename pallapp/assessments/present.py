"""Turn a stored assessment into what a result or detail page shows (labels, bands, flags).

Everything is read from the instrument definitions in `pallapp.scoring`; nothing here lists
items again. Labels are msgids, translated here with gettext at render time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext, pgettext
from flask_babel import lazy_gettext as _l

from pallapp import scoring
from pallapp.models import Assessment, Flag, Respondent, Role


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


@dataclass(frozen=True)
class ScoreRow:
    label: str
    value: int | None
    maximum: int | None


@dataclass(frozen=True)
class FlagView:
    code: str
    severity: str
    severity_label: str
    title: str
    explanation: str
    items: list[str]
    is_open: bool
    close_reason: str | None


def instrument_title(code: str) -> str:
    return gettext(scoring.INSTRUMENTS[code].title)


#: One line per form on the chooser: what it is for and about how long it takes. The minutes
#: are a project estimate from the number of items (about 15-20 s per tap-answered item, as
#: timed in the browser tests' flows), not a published figure.
INSTRUMENT_PURPOSES = {
    "ipos_patient": _l("Your symptoms and worries over the last few days. About 5 minutes."),
    "esas_r": _l("How nine common symptoms feel right now. About 2 minutes."),
    "ipos_staff": _l("The patient's symptoms and concerns, as you judge them. About 5 minutes."),
    "abbey": _l("Pain in a person who cannot tell you, from what you see. About 2 minutes."),
    "roag": _l("The mouth, area by area. About 3 minutes."),
}


def instrument_purpose(code: str) -> str:
    purpose = INSTRUMENT_PURPOSES.get(code)
    return str(purpose) if purpose is not None else ""


def _band_label(bands: tuple[scoring.Band, ...], name: str | None) -> str | None:
    for band in bands:
        if band.name == name:
            return gettext(band.label)
    return None


def option_text(item: scoring.ItemDefinition, msgid: str) -> str:
    """An answer option's words in the reader's language, in the item's gettext context if it
    has one (Abbey: one English word, two Swedish ones)."""
    return pgettext(item.options_context, msgid) if item.options_context else gettext(msgid)


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
        if not definition.item_bands and definition.family == "roag" and isinstance(value, int):
            # A ROAG area's grade maps onto the ROAG bands by itself (1 healthy, 2, 3).
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


def score_rows(assessment: Assessment) -> list[ScoreRow]:
    definition = scoring.INSTRUMENTS[assessment.instrument]
    rows = []
    if definition.total_label is not None:
        rows.append(ScoreRow(gettext(definition.total_label), assessment.total, definition.total_max))
    subscales: dict[str, int | None] = assessment.scores.get("subscales", {})
    for code, subscale in definition.subscales.items():
        rows.append(ScoreRow(gettext(subscale.label), subscales.get(code), subscale.max))
    return rows


def overall_band(assessment: Assessment) -> tuple[str | None, str | None]:
    definition = scoring.INSTRUMENTS[assessment.instrument]
    return assessment.band, _band_label(definition.bands, assessment.band)


def missing_labels(assessment: Assessment) -> list[str]:
    definition = scoring.INSTRUMENTS[assessment.instrument]
    return [gettext(definition.item(code).label) for code in assessment.scores.get("missing", [])]


def flag_view(flag: Flag, instrument: str | None) -> FlagView:
    info = scoring.FLAG_CODES[flag.code]
    item_labels = []
    for code in flag.items:
        label = None
        if instrument is not None:
            definition = scoring.INSTRUMENTS[instrument]
            if code in definition.item_codes:
                # A flag names the score, not the question: Q6-Q9 of IPOS by their problem end.
                label = gettext(definition.item(code).score_label)
            elif any(field.code == code for field in definition.context_fields):
                label = gettext(definition.context_field(code).label)
        item_labels.append(label or code)
    return FlagView(
        code=flag.code,
        severity=flag.severity,
        severity_label=gettext(scoring.SEVERITY_LABELS[flag.severity]),
        title=gettext(info.title),
        explanation=gettext(info.explanation),
        items=item_labels,
        is_open=flag.is_open,
        close_reason=flag.close_reason,
    )


def flag_views(assessment: Assessment) -> list[FlagView]:
    return [flag_view(flag, assessment.instrument) for flag in assessment.flags]
