"""A toy instrument registered for one test only: the proof that an instrument is one entry.

`register_toy(monkeypatch)` puts `TOY` into `pallapp.scoring.INSTRUMENTS` (the one registry
every page reads) and monkeypatch takes it out again after the test. Production code never
adds to the registry: it is immutable from the outside, so the fixture reaches into the
mapping's private dict, the only place a test can register an instrument without a code change.

The toy has three items rated 0-2 by patients, relatives and staff, a total (0-6) with item
bands and an overall band by total, and the `generic` family, which has no flag rules. Its
wording is not in the translation catalogue: the pages show the English msgids as they are.
"""

from __future__ import annotations

import pytest

from pallapp import scoring
from pallapp.scoring import Band, Display, FrozenMap, InstrumentDefinition, ItemDefinition

TOY_CODE = "toy_wellbeing"
_OPTIONS = ((0, "Not at all"), (1, "A little"), (2, "A lot"))


def _item(code: str, label: str) -> ItemDefinition:
    return ItemDefinition(code, label, 0, 2, _OPTIONS, "Toy questions")


TOY = InstrumentDefinition(
    code=TOY_CODE,
    family="generic",
    title="Toy wellbeing check",
    version="0.1",
    items=(
        _item("toy_tired", "Toy tiredness"),
        _item("toy_worried", "Toy worry"),
        _item("toy_lonely", "Toy loneliness"),
    ),
    context_fields=(),
    subscales=FrozenMap(),
    total_label="Toy total",
    total_items=("toy_tired", "toy_worried", "toy_lonely"),
    item_bands=(Band("none", "No problem", 0, 0), Band("mild", "Mild problem", 1, 1),
                Band("severe", "Severe problem", 2, 2)),
    bands=(Band("none", "Toy calm", 0, 1), Band("moderate", "Toy troubled", 2, 6)),
    recall_periods=("now",),
    respondents=("patient", "relative", "staff"),
    sources=("A toy for tests; no clinical source",),
    display=Display(purpose="A toy form for tests."),
)


def register_toy(monkeypatch: pytest.MonkeyPatch) -> InstrumentDefinition:
    """Register `TOY` until the end of the test (monkeypatch restores the registry)."""
    monkeypatch.setitem(scoring.INSTRUMENTS._data, TOY_CODE, TOY)
    return TOY
