"""What the care plan and order pages show: doses and warnings in words.

The labels and the home visit that other features' pages show too are in the shared modules
`pallapp.present` and `pallapp.homevisit`. Labels are msgids, translated with gettext at render
time.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from babel import Locale
from babel.numbers import NumberPattern, parse_pattern
from flask_babel import format_decimal, get_locale

from pallapp import scoring

# The care plan's order page shows the orders in force as the patient page does.
from pallapp.homevisit import order_rows as order_rows
from pallapp.homevisit import route_notes as route_notes
from pallapp.i18n import datetime_text, gettext
from pallapp.models import PrnAdministration, PrnOrder, Route
from pallapp.present import indication_label as indication_label
from pallapp.present import interval_words as interval_words
from pallapp.present import order_label as order_label


@functools.cache
def _amount_pattern() -> NumberPattern:
    # Parsed once: Babel's format_decimal parses its pattern again on every call, half its cost
    # (the patient page formats every order's dose and every dose given).
    return parse_pattern("#,##0.####")


def amount_words(value: Decimal) -> str:
    """A dose amount in the reader's language: "2,5" in Swedish, up to 4 decimals."""
    return _amount_text(str(value), get_locale())


@functools.lru_cache(maxsize=1024)
def _amount_text(value: str, locale: Locale) -> str:
    # Each distinct amount formatted once per language in this process: the patient page shows
    # the amount of every dose of the last day and of those to evaluate, mostly the same few.
    # A number in words is no patient data (the amount alone, keyed by its exact digits).
    return _amount_pattern().apply(Decimal(value), locale)


def ordered_dose(order: PrnOrder) -> str:
    """The order's dose and unit ("2,5 mg", "2,5–5 mg"), or its text when it could not be read
    as a number (an order written before doses were numbers): then said to be unchecked."""
    if order.dose_min is None or order.dose_max is None:
        return gettext(
            "dose written as text: %(text)s %(unit)s (not checked)",
            text=order.dose,
            unit=order.dose_unit,
        )
    if order.dose_min == order.dose_max:
        amount = amount_words(order.dose_min)
    else:
        amount = f"{amount_words(order.dose_min)}–{amount_words(order.dose_max)}"
    return f"{amount} {order.dose_unit}"


def given_dose(dose: PrnAdministration) -> str:
    """The amount and unit given ("2,5 mg"), or its text for a dose recorded before doses were
    numbers whose text could not be read as one."""
    if dose.amount is None:
        return gettext(
            "dose written as text: %(text)s %(unit)s", text=dose.dose, unit=dose.dose_unit
        )
    return f"{amount_words(dose.amount)} {dose.dose_unit}"


def over_limit_words(params: Mapping[str, int | str]) -> list[str]:
    """The broken limits of a `prn_over_limit` flag, each as a sentence."""
    words = []
    if "max_doses_per_24h" in params:
        words.append(
            gettext(
                "The order allows at most %(max)d doses in 24 hours; with this dose, %(count)d "
                "doses would have been given within 24 hours.",
                max=params["max_doses_per_24h"],
                count=params["doses_in_window"],
            )
        )
    if "minutes_since_last_dose" in params:
        words.append(
            gettext(
                "The order says at least %(interval)s between doses, but the previous dose was "
                "given only %(since)s before this one.",
                interval=interval_words(int(params["min_interval_minutes"])),
                since=interval_words(int(params["minutes_since_last_dose"])),
            )
        )
    if "minutes_to_next_dose" in params:
        words.append(
            gettext(
                "The order says at least %(interval)s between doses, but the next dose was "
                "given only %(until)s after this one.",
                interval=interval_words(int(params["min_interval_minutes"])),
                until=interval_words(int(params["minutes_to_next_dose"])),
            )
        )
    return words


def colliding_words(doses: list[PrnAdministration]) -> list[str]:
    """The doses a dose collides with: when (Swedish time), amount and unit, who gave it."""
    return [
        gettext(
            "%(when)s: %(dose)s, given by %(name)s",
            when=datetime_text(dose.given_at, "short"),
            dose=given_dose(dose),
            name=dose.given_by.name,
        )
        for dose in doses
    ]


def _times(larger: Decimal, smaller: Decimal) -> str:
    return format_decimal(larger / smaller, format="#,##0.#")


def mismatch_words(params: Mapping[str, object], order: PrnOrder) -> list[str]:
    """What differs between a dose and its order (`prn_dose_mismatch`), each as a sentence; a
    dose several times the ordered one (a slip of the decimal sign) is said so."""
    words = []
    if "given_unit" in params:
        words.append(
            gettext(
                "The unit given, %(given)s, is not the order's unit, %(ordered)s. Units are "
                "not converted: write the amount in the order's unit, or confirm.",
                given=params["given_unit"],
                ordered=order.dose_unit,
            )
        )
    if "given_amount" in params:
        given = Decimal(str(params["given_amount"]))
        low = Decimal(str(params["ordered_low"]))
        high = Decimal(str(params["ordered_high"]))
        words.append(
            gettext(
                "%(given)s %(unit)s was entered, but the order says %(ordered)s.",
                given=amount_words(given),
                unit=order.dose_unit,
                ordered=ordered_dose(order),
            )
        )
        if given >= 2 * high:
            words.append(
                gettext(
                    "That is %(times)s times the ordered dose. Check the decimal sign.",
                    times=_times(given, high),
                )
            )
        elif given * 2 <= low:
            words.append(
                gettext(
                    "The ordered dose is %(times)s times larger. Check the decimal sign.",
                    times=_times(low, given),
                )
            )
    if "given_route" in params:
        words.append(
            gettext(
                "The route given, %(given)s, is not the order's route, %(ordered)s.",
                given=Route(str(params["given_route"])).label,
                ordered=Route(str(params["ordered_route"])).label,
            )
        )
    return words


@dataclass
class DoseWarning:
    """The warning page for a dose that needs confirmation, in words."""

    over_limit: list[str] = field(default_factory=list)
    colliding: list[str] = field(default_factory=list)
    mismatch: list[str] = field(default_factory=list)


def dose_warning(
    over_limit: scoring.Flag | None,
    mismatch: scoring.Flag | None,
    colliding: list[PrnAdministration],
    order: PrnOrder,
) -> DoseWarning:
    """The words of the warning page for a dose that `dose_service.DoseNeedsConfirmation` held
    back: the broken limits, the doses it collides with, what differs from the order."""
    return DoseWarning(
        over_limit=over_limit_words(over_limit.params) if over_limit is not None else [],
        colliding=colliding_words(colliding),
        mismatch=mismatch_words(mismatch.params, order) if mismatch is not None else [],
    )
