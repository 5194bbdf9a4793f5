"""The Today page's list of patients drawn in Python, for `patients/today.html`.

Up to 200 patients, each a card of five lines: in the template's loop, attribute lookups,
filters and escaping per card were a fifth of the page's time. Here each card is one string;
names, units and the other data are escaped as the autoescaped template escaped them
(`markupsafe.escape`, which also leaves a lazy translated text as the template left it).

The markup is the same as the template's loop drew it: tests/app/patients/test_today_markup.py
keeps the loop and compares, in both languages.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import TypeVar

from markupsafe import Markup, escape

from pallapp.flags import FlagCounts
from pallapp.models import Phase
from pallapp.patients.services import ListedPatient

#: What `markupsafe.escape` replaces in a string.
_SPECIAL = re.compile(r"[&<>'\"]")

Key = TypeVar("Key")


def _text(value: object) -> str:
    """`escape(value)` as a string, without building a Markup for the usual plain text (eight
    values a card: building one each was a third of the list's time)."""
    if type(value) is str and _SPECIAL.search(value) is None:
        return value
    return str(escape(value))


def _escaped(texts: Mapping[Key, object]) -> dict[Key, str]:
    return {key: _text(value) for key, value in texts.items()}


def patient_cards(
    patients: Iterable[ListedPatient],
    patient_url: Callable[[str], str],
    phase_labels: Mapping[Phase, object],
    flag_texts: Mapping[FlagCounts, object],
) -> Markup:
    """The `<li>` of each patient, with the white space between them that the loop gave."""
    phases = _escaped(phase_labels)
    flag_lines = {
        counts: f'\n      <span class="flag-counts{" has-high" if counts.high else ""}">'
        f"{text}</span>\n      "
        for counts, text in _escaped(flag_texts).items()
    }
    cards = [
        f'\n  <li>\n    <a class="patient-card" href="{_text(patient_url(patient.public_id))}">'
        f'\n      <span class="name">{_text(patient.family_name)}, {_text(patient.given_name)}</span>'
        f'\n      <span class="meta">{_text(patient.masked_personnummer)} · '
        f"{phases[patient.phase]}</span>"
        f'\n      <span class="meta">{_text(" · ".join(patient.unit_names))}</span>'
        f"\n      \n      {flag_lines[patient.open_flags] if patient.open_flags else ''}"
        "\n    </a>\n  </li>\n  "
        for patient in patients
    ]
    return Markup("".join(cards))  # noqa: S704 (every value above is escaped)
