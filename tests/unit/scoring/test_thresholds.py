"""Thresholds: documented defaults, tunable numbers, high rules that cannot be switched off."""

from __future__ import annotations

import dataclasses

import pytest

from pallapp.scoring import DEFAULT_THRESHOLDS, Thresholds


def test_defaults_are_those_of_instruments_md() -> None:
    assert DEFAULT_THRESHOLDS.as_dict() == {
        "ipos_severe_item": 3,
        "esas_severe_item": 7,
        "esas_moderate_item": 4,
        "ipos_item_rise": 1,
        "ipos_item_rise_floor": 2,
        "esas_item_rise": 2,
        "esas_total_rise": 4,
        "abbey_high": 8,
        "abbey_medium": 3,
        "prn_frequent_doses": 3,
        "prn_frequent_window_hours": 24,
        "assessment_interval_days": 7,
        "assessment_interval_end_of_life_days": 2,
        "roag_interval_days": 7,
        "previous_window_days": 30,
    }


def test_thresholds_are_immutable_and_hashable() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        DEFAULT_THRESHOLDS.esas_item_rise = 1  # type: ignore[misc]
    assert hash(Thresholds()) == hash(DEFAULT_THRESHOLDS)


# (name, lowest valid, highest valid) given the other defaults.
RANGES = [
    ("ipos_severe_item", 1, 4),
    # Not below esas_moderate_item (4): the error then names esas_moderate_item.
    ("esas_severe_item", 4, 10),
    ("esas_moderate_item", 1, 7),  # not above esas_severe_item (7)
    ("ipos_item_rise", 1, 4),  # IPOS items are 0-4: a rise of 5 could never happen
    ("ipos_item_rise_floor", 1, 4),
    ("esas_item_rise", 1, 10),
    ("esas_total_rise", 1, 90),
    ("abbey_high", 3, 18),  # not below abbey_medium (3); the error names abbey_medium
    ("abbey_medium", 1, 8),  # not above abbey_high (8)
    ("prn_frequent_doses", 1, 100),
    ("prn_frequent_window_hours", 1, 168),
    ("assessment_interval_days", 1, 365),
    ("assessment_interval_end_of_life_days", 1, 365),
    ("roag_interval_days", 1, 365),
    ("previous_window_days", 1, 365),
]


@pytest.mark.parametrize(("name", "low", "high"), RANGES)
def test_each_threshold_accepts_its_range_and_rejects_just_outside(
    name: str, low: int, high: int
) -> None:
    assert getattr(Thresholds(**{name: low}), name) == low
    assert getattr(Thresholds(**{name: high}), name) == high
    partner = {"esas_severe_item": "esas_moderate_item", "abbey_high": "abbey_medium"}
    with pytest.raises(ValueError, match=partner.get(name, name)):
        Thresholds(**{name: low - 1})
    with pytest.raises(ValueError, match=name):
        Thresholds(**{name: high + 1})


@pytest.mark.parametrize("name", [name for name, _low, _high in RANGES])
@pytest.mark.parametrize("value", [True, 3.0, "3", None])
def test_thresholds_must_be_whole_numbers(name: str, value: object) -> None:
    with pytest.raises(ValueError, match=name):
        Thresholds(**{name: value})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "off_value"),
    [
        ("ipos_severe_item", 5),  # IPOS items stop at 4: a 5 could never fire
        ("esas_severe_item", 11),  # ESAS-r items stop at 10
        ("abbey_high", 19),  # the Abbey total stops at 18
        ("ipos_severe_item", 0),
    ],
)
def test_high_rules_cannot_be_switched_off(name: str, off_value: int) -> None:
    with pytest.raises(ValueError, match=name):
        Thresholds(**{name: off_value})


def test_from_mapping_overrides_defaults() -> None:
    unit = Thresholds.from_mapping(
        {"assessment_interval_days": 14, "ipos_item_rise_floor": 3, "esas_item_rise": 3}
    )
    assert unit.assessment_interval_days == 14
    assert (unit.ipos_item_rise, unit.ipos_item_rise_floor) == (1, 3)
    assert unit.esas_item_rise == 3
    assert unit.esas_severe_item == 7
    assert Thresholds.from_mapping({}) == DEFAULT_THRESHOLDS


def test_a_stored_item_rise_keeps_its_meaning_for_esas_r() -> None:
    # Before the split, one `item_rise` applied to both families; ESAS-r keeps that rule.
    unit = Thresholds.from_mapping({"item_rise": 3})
    assert unit == Thresholds(esas_item_rise=3)
    assert (unit.ipos_item_rise, unit.ipos_item_rise_floor) == (1, 2)  # IPOS: its own defaults
    assert "item_rise" not in unit.as_dict()
    with pytest.raises(ValueError, match="esas_item_rise"):
        Thresholds.from_mapping({"item_rise": 0})
    with pytest.raises(ValueError, match="esas_item_rise given twice"):
        Thresholds.from_mapping({"item_rise": 3, "esas_item_rise": 2})


def test_from_mapping_rejects_unknown_names_and_bad_values() -> None:
    with pytest.raises(ValueError, match="unknown thresholds: severe, zzz"):
        Thresholds.from_mapping({"zzz": 1, "severe": 2})
    with pytest.raises(ValueError, match="abbey_high"):
        Thresholds.from_mapping({"abbey_high": 0})
