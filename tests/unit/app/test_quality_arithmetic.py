"""Quality indicator arithmetic on facts built by hand: no database, no Flask.

The expected figures are counted by hand from the rules in INSTRUMENTS.md ("Quality
indicators") and docs/quality-indicators.md, with the counting written beside them.
"""

from __future__ import annotations

import ast
from datetime import date
from pathlib import Path

import pytest

from pallapp import scoring
from pallapp.review import quality
from pallapp.review.quality import (
    FOUR_INDICATIONS,
    DeathFacts,
    Family,
    Figure,
    PatientFacts,
    Period,
    Setting,
    Target,
    TargetSource,
    in_last_week,
    last_week_of_life,
    rates_other_symptoms,
    rates_pain,
    share,
)


def test_share_rounds_to_one_decimal_and_has_no_figure_without_a_denominator():
    assert share(2, 3) == 66.7  # 66.66... rounded
    assert share(3, 3) == 100.0
    assert share(0, 4) == 0.0
    assert share(0, 0) is None  # nobody to count: no figure, not 0 % or 100 %


@pytest.mark.parametrize(("numerator", "denominator"), [(4, 3), (-1, 3), (0, -1)])
def test_share_refuses_what_is_not_a_share(numerator, denominator):
    with pytest.raises(ValueError, match="not a share"):
        share(numerator, denominator)


def test_at_least_90_is_met_by_exactly_90_and_above_90_is_not():
    # 9 of 10 = 90.0 %: "≥ 90 %" (e.g. ROAG in the last week) is met ...
    assert share(9, 10) == 90.0
    assert Figure(9, 10, Target(90)).meets_target is True
    # ... "> 90 %" (ROAG in life) is not; it needs more than 90 %, e.g. 10 of 11 = 90.9 %.
    assert Figure(9, 10, Target(90, strict=True)).meets_target is False
    assert Figure(10, 11, Target(90, strict=True)).meets_target is True
    # Just below: 17 of 19 = 89.47... -> 89.5 % misses "≥ 90 %".
    assert Figure(17, 19, Target(90)).meets_target is False
    # 98 %: 49 of 50 = 98.0 % meets "≥ 98 %", 48 of 50 = 96.0 % does not.
    assert Figure(49, 50, Target(98)).meets_target is True
    assert Figure(48, 50, Target(98)).meets_target is False


def test_target_texts_and_sources():
    assert Target(90, strict=True).text == "> 90 %"
    assert Target(100).text == "100 %"
    assert Target(90).text == "≥ 90 %"
    assert Target(98, source=TargetSource.SOCIALSTYRELSEN).source_label == "Socialstyrelsen"
    assert Target(100).source is TargetSource.REGION


def test_a_figure_without_patients_or_without_a_target_has_no_verdict():
    empty = Figure(0, 0, Target(100))
    assert (empty.percent, empty.meets_target) == (None, None)
    shown_only = Figure(1, 2, None)  # e.g. s.c. orders for nausea: no national target
    assert (shown_only.percent, shown_only.meets_target) == (50.0, None)


# --- What counts as a rating ------------------------------------------------------------------


def test_pain_is_rated_by_an_answered_pain_item_or_a_complete_abbey():
    assert rates_pain("esas_r", {"pain": 0}, total=None)  # 0 is an answer: "no pain"
    assert rates_pain("ipos_staff", {"pain": 3}, total=None)
    assert rates_pain("ipos_patient", {"pain": 1, "nausea": None}, total=None)
    # Not answered, or "cannot assess" (unconscious patient): not a pain rating.
    assert not rates_pain("esas_r", {"pain": None, "nausea": 4}, total=None)
    assert not rates_pain("ipos_staff", {"pain": "cannot_assess"}, total=None)
    assert not rates_pain("ipos_staff", {}, total=None)
    # The Abbey rates pain as its total: complete (total 0..18) counts, incomplete does not.
    assert rates_pain("abbey", {"vocalisation": 0}, total=0)
    assert not rates_pain("abbey", {"vocalisation": 2}, total=None)
    # ROAG is not a pain instrument.
    assert not rates_pain("roag", {"voice": 1}, total=None)


def test_other_symptoms_are_items_other_than_pain_that_are_symptoms():
    assert rates_other_symptoms("esas_r", {"pain": None, "tiredness": 2})
    assert rates_other_symptoms("esas_r", {"other": 5})  # a symptom the patient names
    assert rates_other_symptoms("ipos_staff", {"pain": "cannot_assess", "nausea": 0})
    assert rates_other_symptoms("ipos_patient", {"patient_anxiety": 2})
    # Pain alone, wellbeing, and IPOS items that are not the patient's symptoms do not count.
    assert not rates_other_symptoms("esas_r", {"pain": 5, "wellbeing": 3})
    assert not rates_other_symptoms(
        "ipos_patient", {"pain": 2, "family_anxiety": 3, "at_peace": 1, "information": 0}
    )
    assert not rates_other_symptoms("ipos_staff", {"nausea": "cannot_assess"})
    assert not rates_other_symptoms("abbey", {"vocalisation": 2})


def test_the_last_week_of_life_is_the_day_of_death_and_the_six_days_before():
    died = date(2026, 3, 10)
    assert last_week_of_life(died) == (date(2026, 3, 4), date(2026, 3, 10))  # 10 - 6 = 4
    # Both edges, each from both sides.
    assert in_last_week(date(2026, 3, 4), died)  # first day: counted
    assert not in_last_week(date(2026, 3, 3), died)  # the day before it: 7 days before death
    assert in_last_week(date(2026, 3, 10), died)  # the day of death: counted
    assert not in_last_week(date(2026, 3, 11), died)  # after death
    # Across a month end: died 2 March -> from 24 February (2026 is not a leap year).
    assert last_week_of_life(date(2026, 3, 2))[0] == date(2026, 2, 24)


# --- The two families -------------------------------------------------------------------------

ALL_FOUR = frozenset(FOUR_INDICATIONS)
DIED = date(2026, 3, 10)
FACTS = [
    # 1: rated, plan, all four orders, ROAG, SVAS held (so offered). Alive.
    PatientFacts(1, rated_in_period=True, roag_in_period=True, care_plan=True,
                 order_indications=ALL_FOUR, svas_offered=True, svas_held=True),
    # 2: rated, plan, pain and anxiety only, SVAS offered. Alive.
    PatientFacts(2, rated_in_period=True, care_plan=True,
                 order_indications=frozenset({"pain", "anxiety"}), svas_offered=True),
    # 3: nothing documented; died an expected death with nothing in place either.
    PatientFacts(3, death=DeathFacts(DIED, expected=True)),
    # 4: everything in place; expected death; s.c. orders for all four, brytpunktssamtal,
    # pain and other symptoms rated, free of pressure ulcers, bereavement offered; no ROAG in
    # the last week.
    PatientFacts(4, rated_in_period=True, care_plan=True, order_indications=ALL_FOUR,
                 death=DeathFacts(DIED, expected=True, pain_rated_last_week=True,
                                  other_symptoms_rated_last_week=True,
                                  parenteral_orders=ALL_FOUR, brytpunktssamtal=True,
                                  free_of_pressure_ulcers=True,
                                  efterlevandesamtal_offered=True)),
    # 5: expected death; pain rated only; s.c. order for anxiety only (its pain order was
    # oral, so not here); ROAG in the last week; pressure ulcers not recorded.
    PatientFacts(5, rated_in_period=True, order_indications=frozenset({"pain", "anxiety"}),
                 death=DeathFacts(DIED, expected=True, pain_rated_last_week=True,
                                  roag_last_week=True,
                                  parenteral_orders=frozenset({"anxiety"}))),
    # 6: an unexpected death with everything in place: not in the end-of-life denominator.
    PatientFacts(6, rated_in_period=True, care_plan=True, order_indications=ALL_FOUR,
                 death=DeathFacts(DIED, expected=False, pain_rated_last_week=True,
                                  parenteral_orders=ALL_FOUR, brytpunktssamtal=True,
                                  free_of_pressure_ulcers=True)),
    # 7: died; whether expected is not recorded (an old death): not in the denominator either.
    PatientFacts(7, death=DeathFacts(DIED, expected=None, pain_rated_last_week=True)),
]


def by_code(facts):
    return {found.code: found for found in quality.indicators(facts)}


def counts(found):
    return (found.figure.numerator, found.figure.denominator)


def test_in_life_counts_every_patient_of_the_unit_in_the_period():
    found = by_code(FACTS)
    # All 7 patients are in the denominator, the dead ones too.
    rated = found["symptom_rated"]
    # Rated: 1, 2, 4, 5, 6 -> 5 of 7 = 71.4 % (71.428...), below 100 %.
    assert counts(rated) == (5, 7)
    assert (rated.counted, rated.missed) == ((1, 2, 4, 5, 6), (3, 7))
    assert rated.figure.percent == 71.4
    assert rated.figure.meets_target is False
    assert counts(found["care_plan"]) == (4, 7)  # 1, 2, 4, 6
    # All four expected symptoms ordered (any route): 1, 4, 6.
    assert counts(found["orders_all_four"]) == (3, 7)
    assert counts(found["roag"]) == (1, 7)  # 1
    assert counts(found["svas_offered"]) == (2, 7)  # 1 (held, so offered) and 2
    assert counts(found["svas_held"]) == (1, 7)
    assert {f.definition.family for f in found.values() if f.code in (
        "symptom_rated", "care_plan", "orders_all_four", "roag", "svas_offered", "svas_held",
    )} == {Family.IN_LIFE}


def test_end_of_life_counts_expected_deaths_only():
    found = by_code(FACTS)
    # Denominator: expected deaths 3, 4, 5 (6 unexpected, 7 unknown are left out).
    pain = found["pain_rated_last_week"]
    assert counts(pain) == (2, 3)  # 4, 5
    assert pain.missed == (3,)
    assert 6 not in pain.counted + pain.missed
    assert 7 not in pain.counted + pain.missed
    assert pain.figure.percent == 66.7  # 2/3
    assert counts(found["other_symptoms_rated_last_week"]) == (1, 3)  # 4
    assert counts(found["roag_last_week"]) == (1, 3)  # 5
    # Parenteral orders at death: pain 4 only (5's was oral); anxiety 4 and 5.
    assert counts(found["parenteral_pain"]) == (1, 3)
    assert counts(found["parenteral_anxiety"]) == (2, 3)
    assert counts(found["parenteral_nausea"]) == (1, 3)
    assert found["parenteral_nausea"].figure.meets_target is None  # no national target
    assert counts(found["parenteral_death_rattle"]) == (1, 3)
    assert counts(found["brytpunktssamtal"]) == (1, 3)
    # Free of pressure ulcers: 4 (True); 3 and 5 not recorded -> not counted as free.
    assert counts(found["free_of_pressure_ulcers"]) == (1, 3)
    assert counts(found["efterlevandesamtal_offered"]) == (1, 3)


def test_deaths_are_split_by_expected_so_none_is_dropped_unseen():
    deaths = quality.deaths(FACTS)
    assert (deaths.expected, deaths.unexpected, deaths.unknown) == ((3, 4, 5), (6,), (7,))
    assert deaths.total == 5


def test_exactly_90_percent_meets_the_at_least_targets_and_misses_the_above_target():
    # Ten patients, all died an expected death; nine had ROAG in the period and in their last
    # week, and nine were free of pressure ulcers: 9/10 = 90.0 %.
    facts = [
        PatientFacts(n, roag_in_period=n != 10,
                     death=DeathFacts(DIED, expected=True, roag_last_week=n != 10,
                                      free_of_pressure_ulcers=n != 10))
        for n in range(1, 11)
    ]
    found = by_code(facts)
    assert found["roag_last_week"].figure.percent == 90.0
    assert found["roag_last_week"].figure.meets_target is True  # ≥ 90 %
    assert found["free_of_pressure_ulcers"].figure.meets_target is True  # ≥ 90 %
    assert found["roag"].figure.percent == 90.0
    assert found["roag"].figure.meets_target is False  # > 90 %


def test_without_deaths_the_end_of_life_indicators_have_no_figure():
    found = by_code(FACTS[:2])
    for definition in quality.DEFINITIONS:
        if definition.family is Family.END_OF_LIFE:
            assert found[definition.code].figure.denominator == 0
            assert found[definition.code].figure.percent is None
    assert quality.deaths(FACTS[:2]).total == 0


def test_every_indicator_of_the_tables_has_its_target():
    targets = {d.code: (d.target.text if d.target else None, d.target and d.target.source.value)
               for d in quality.DEFINITIONS}
    assert targets == {
        "symptom_rated": ("100 %", "region"),
        "care_plan": ("100 %", "region"),
        "orders_all_four": ("100 %", "region"),
        "roag": ("> 90 %", "region"),
        "svas_offered": ("100 %", "region"),
        "svas_held": ("≥ 90 %", "region"),
        "pain_rated_last_week": ("100 %", "socialstyrelsen"),
        "other_symptoms_rated_last_week": ("100 %", "region"),
        "roag_last_week": ("≥ 90 %", "socialstyrelsen"),
        "parenteral_pain": ("≥ 98 %", "socialstyrelsen"),
        "parenteral_anxiety": ("≥ 98 %", "socialstyrelsen"),
        "parenteral_nausea": (None, None),
        "parenteral_death_rattle": (None, None),
        "brytpunktssamtal": ("≥ 98 %", "socialstyrelsen"),
        "free_of_pressure_ulcers": ("≥ 90 %", "socialstyrelsen"),
        "efterlevandesamtal_offered": ("100 %", "region"),
    }


def test_the_parenteral_routes_are_subcutaneous_and_intravenous():
    assert {"sc", "iv"} == scoring.PARENTERAL_ROUTES
    assert "po" not in scoring.PARENTERAL_ROUTES  # an oral order does not count at the end


# --- 2021 regional figures --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("municipal_home_care", [(Setting.MUNICIPAL, "≈ 50 %")]),
        ("ward", [(Setting.HOSPITAL, "≈ 25 %")]),
        ("specialised_palliative", [(Setting.SPECIALISED, "≈ 70 %")]),
        # Primary care has no figure of its own: all three.
        ("primary_care", [(Setting.MUNICIPAL, "≈ 50 %"), (Setting.HOSPITAL, "≈ 25 %"),
                          (Setting.SPECIALISED, "≈ 70 %")]),
    ],
)
def test_the_pain_rating_figure_of_2021_follows_the_units_kind(kind, expected):
    regional = quality.DEFINITIONS_BY_CODE["pain_rated_last_week"].regional
    assert regional.for_unit_kind(kind) == expected


def test_the_regional_figures_are_the_plans():
    def values(code, kind):
        regional = quality.DEFINITIONS_BY_CODE[code].regional
        return None if regional is None else regional.for_unit_kind(kind)

    assert values("other_symptoms_rated_last_week", "ward") == [(Setting.HOSPITAL, "≈ 20 %")]
    assert values("other_symptoms_rated_last_week", "municipal_home_care") == [
        (Setting.MUNICIPAL, "≈ 30 %")]
    assert values("roag_last_week", "specialised_palliative") == [(Setting.SPECIALISED, "≈ 82 %")]
    assert values("roag_last_week", "municipal_home_care") == [(Setting.MUNICIPAL, "≈ 52 %")]
    assert values("roag_last_week", "ward") == [(Setting.HOSPITAL, "≈ 60 %")]
    # As-needed orders: one range for all kinds of care.
    assert values("parenteral_pain", "ward") == [(None, "96–98 %")]
    assert values("parenteral_anxiety", "primary_care") == [(None, "96–98 %")]
    # The in-life indicators have no regional figure ("går ej att mäta idag").
    assert values("symptom_rated", "ward") is None


def test_a_period_is_at_least_one_day_and_holds_its_both_ends():
    assert Period(date(2026, 1, 1), date(2026, 1, 1)).days == 1
    period = Period(date(2026, 1, 1), date(2026, 3, 31))
    assert period.days == 90  # 31 + 28 + 31
    assert date(2026, 1, 1) in period
    assert date(2026, 3, 31) in period
    assert date(2025, 12, 31) not in period
    assert date(2026, 4, 1) not in period
    assert None not in period
    with pytest.raises(ValueError, match="ends before"):
        Period(date(2026, 1, 2), date(2026, 1, 1))


def test_the_arithmetic_module_touches_no_database_and_no_flask():
    tree = ast.parse(Path(quality.__file__).read_text(encoding="utf-8"))
    imported = {
        node.module if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert not {name for name in imported if name and name.split(".")[0] in {"flask", "sqlalchemy",
                                                                              "flask_babel"}}
    assert "pallapp.extensions" not in imported
    assert "pallapp.models" not in imported
