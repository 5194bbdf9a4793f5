"""What the pages of several features show alike: an instrument's title, its score rows and
band, a flag in words, an as-needed order's label and the interval between doses.

Each feature keeps its own presentation (`assessments.present`, `careplan.present`); what more
than one of them shows is here, so that no feature imports another's. Everything is read from
the instrument definitions in `pallapp.scoring`; labels are msgids, translated with gettext at
render time.
"""

from __future__ import annotations

from dataclasses import dataclass

from pallapp import scoring
from pallapp.i18n import gettext
from pallapp.models import Assessment, Flag, PrnOrder


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


def band_label(bands: tuple[scoring.Band, ...], name: str | None) -> str | None:
    for band in bands:
        if band.name == name:
            return gettext(band.label)
    return None


def score_rows(assessment: Assessment) -> list[ScoreRow]:
    definition = scoring.INSTRUMENTS[assessment.instrument]
    rows = []
    if definition.total_label is not None:
        rows.append(
            ScoreRow(gettext(definition.total_label), assessment.total, definition.total_max)
        )
    subscales: dict[str, int | None] = assessment.scores.get("subscales", {})
    for code, subscale in definition.subscales.items():
        rows.append(ScoreRow(gettext(subscale.label), subscales.get(code), subscale.max))
    return rows


def overall_band(assessment: Assessment) -> tuple[str | None, str | None]:
    definition = scoring.INSTRUMENTS[assessment.instrument]
    return assessment.band, band_label(definition.bands, assessment.band)


def flag_item_label(instrument: str | None, code: str) -> str:
    """An item a flag names, in words: the item's score label, or a context field's label, of
    the flag's rating's `instrument`; else the code as it is."""
    label = None
    if instrument is not None:
        definition = scoring.INSTRUMENTS[instrument]
        if code in definition.item_codes:
            # A flag names the score, not the question: Q6-Q9 of IPOS by their problem end.
            label = gettext(definition.item(code).score_label)
        elif any(field.code == code for field in definition.context_fields):
            label = gettext(definition.context_field(code).label)
    return label or code


def flag_view(flag: Flag, instrument: str | None) -> FlagView:
    return rule_view(
        flag.code,
        flag.severity,
        flag_item_labels(flag, instrument),
        is_open=flag.is_open,
        close_reason=flag.close_reason,
    )


def rule_view(
    code: str,
    severity: str,
    items: list[str],
    *,
    is_open: bool = True,
    close_reason: str | None = None,
) -> FlagView:
    """A flag in words from its rule, severity and items in words: `flag_view` of a record, and
    of an open flag read as plain columns (the patient page)."""
    info = scoring.FLAG_CODES[code]
    return FlagView(
        code=code,
        severity=severity,
        severity_label=gettext(scoring.SEVERITY_LABELS[severity]),
        title=gettext(info.title),
        explanation=gettext(info.explanation),
        items=items,
        is_open=is_open,
        close_reason=close_reason,
    )


def flag_item_labels(flag: Flag, instrument: str | None) -> list[str]:
    """The flag's items in words: what `flag_view` shows, for a page that needs no more."""
    return [flag_item_label(instrument, code) for code in flag.items]


def indication_label(code: str, text: str = "") -> str:
    label = gettext(scoring.PRN_INDICATIONS[code])
    return f"{label}: {text}" if text else label


def order_label(order: PrnOrder) -> str:
    return indication_label(order.indication, order.indication_text)


def interval_words(minutes: int | None) -> str | None:
    if minutes is None:
        return None
    hours, rest = divmod(minutes, 60)
    if hours == 0:  # also 0: "0 min", not "0 h", for a dose in the same minute as the last
        return gettext("%(minutes)d min", minutes=rest)
    if rest == 0:
        return gettext("%(hours)d h", hours=hours)
    return gettext("%(hours)d h %(minutes)d min", hours=hours, minutes=rest)
