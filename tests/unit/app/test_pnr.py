"""Personal identity numbers: validation, samordningsnummer, masking."""

from __future__ import annotations

from datetime import date

import pytest

from pallapp.demo import _luhn_check_digit, make_personnummer
from pallapp.pnr import InvalidPersonnummer, mask_personnummer, parse_personnummer


def luhn(nine: str) -> int:
    """Luhn by hand: double every other digit from the left, add the digits, round up to 10."""
    digits = [int(c) for c in nine]
    total = 0
    for index, value in enumerate(digits):
        doubled = value * 2 if index % 2 == 0 else value
        total += doubled - 9 if doubled > 9 else doubled
    return (10 - total % 10) % 10


def test_luhn_worked_example():
    # 121212-121?: 1*2=2, 2, 1*2=2, 2, 1*2=2, 2, 1*2=2, 2, 1*2=2 -> 2+2+2+2+2+2+2+2+2 = 18
    # check digit = (10 - 18 % 10) % 10 = 2, so Skatteverket's example 19121212-1212 is valid.
    assert luhn("121212121") == 2
    assert _luhn_check_digit("121212121") == 2


@pytest.mark.parametrize(
    "raw", ["19121212-1212", "191212121212", "19121212 1212", " 19121212-1212 "]
)
def test_valid_forms_normalise_to_twelve_digits(raw):
    identity = parse_personnummer(raw)
    assert identity.digits == "191212121212"
    assert identity.birth_date == date(1912, 12, 12)
    assert identity.is_coordination_number is False


def test_short_form_with_plus_means_a_hundred_years_or_more():
    assert parse_personnummer("121212+1212").digits == "191212121212"


def test_samordningsnummer_is_accepted_and_marked():
    # Day 63 = day 3 + 60. Check digit over 701063239: see luhn() -> computed below.
    check = luhn("701063239")
    identity = parse_personnummer(f"19701063-239{check}")
    assert identity.is_coordination_number is True
    assert identity.birth_date == date(1970, 10, 3)


@pytest.mark.parametrize("raw", ["19121212-1213", "19121212-1211", "19701063-2390"])
def test_bad_checksum_is_refused(raw):
    with pytest.raises(InvalidPersonnummer, match="checksum"):
        parse_personnummer(raw)


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "abc",
        "1912121-1212",
        "19121212-121",
        "19121212--1212",
        "19121212-12a2",
        "1912-12-12-1212",
    ],
)
def test_malformed_numbers_are_refused(raw):
    with pytest.raises(InvalidPersonnummer, match="format"):
        parse_personnummer(raw)


def test_impossible_date_is_refused():
    check = luhn("121312121")  # month 13
    with pytest.raises(InvalidPersonnummer):
        parse_personnummer(f"19121312-121{check}")


def test_masking_hides_the_last_four_digits():
    assert mask_personnummer("191212121212") == "19121212-****"


def test_demo_numbers_are_valid():
    import random

    rng = random.Random(1)
    for year in range(1930, 1966, 5):
        raw = make_personnummer(rng, date(year, 6, 15))
        assert parse_personnummer(raw).birth_date == date(year, 6, 15)
    raw = make_personnummer(rng, date(1950, 1, 2), coordination=True)
    assert parse_personnummer(raw).is_coordination_number is True
