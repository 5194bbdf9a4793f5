"""Quality indicator arithmetic on facts built by hand: no database, no Flask."""

from __future__ import annotations

import ast
from datetime import date
from pathlib import Path

import pytest

from pallapp.review import quality
from pallapp.review.quality import FOUR_INDICATIONS, Figure, PatientFacts, Period, Target, share


def test_share_rounds_to_one_decimal_and_has_no_figure_without_a_denominator():
    assert share(2, 3) == 66.7
    assert share(3, 3) == 100.0
    assert share(0, 4) == 0.0
    assert share(0, 0) is None  # nobody to count: no figure, not 0 % or 100 %


@pytest.mark.parametrize(("numerator", "denominator"), [(4, 3), (-1, 3), (0, -1)])
def test_share_refuses_what_is_not_a_share(numerator, denominator):
    with pytest.raises(ValueError, match="not a share"):
        share(numerator, denominator)


def test_targets_at_least_and_above():
    assert Target(100).met_by(100.0)
    assert not Target(100).met_by(99.9)
    assert Target(90).met_by(90.0)  # SVAS held: 90 % meets "90 %"
    assert not Target(90, strict=True).met_by(90.0)  # ROAG: "> 90 %", so 90 % does not
    assert Target(90, strict=True).met_by(90.1)
    assert Target(90, strict=True).text == "> 90 %"
    assert Target(100).text == "100 %"
    assert Target(90).text == "≥ 90 %"


def test_a_figure_without_patients_neither_meets_nor_misses():
    figure = Figure(0, 0, Target(100))
    assert figure.percent is None
    assert figure.meets_target is None
    assert Figure(9, 10, Target(90)).meets_target is True
    assert Figure(9, 10, Target(90, strict=True)).meets_target is False


ALL_FOUR = frozenset(FOUR_INDICATIONS)
FACTS = [
    # 1: rated, plan, all four orders, ROAG, SVAS held (so offered).
    PatientFacts(1, rated_in_period=True, roag_in_period=True, care_plan=True,
                 order_indications=ALL_FOUR, svas_offered=True, svas_held=True),
    # 2: rated, plan, pain and anxiety only, SVAS offered, end of life with brytpunktssamtal.
    PatientFacts(2, rated_in_period=True, care_plan=True,
                 order_indications=frozenset({"pain", "anxiety"}), svas_offered=True,
                 end_of_life_or_deceased=True, brytpunktssamtal=True),
    # 3: nothing documented, end of life without brytpunktssamtal.
    PatientFacts(3, end_of_life_or_deceased=True),
    # 4: died in the period with everything in place, but no ROAG in the last week.
    PatientFacts(4, rated_in_period=True, care_plan=True, order_indications=ALL_FOUR,
                 end_of_life_or_deceased=True, brytpunktssamtal=True, died_in_period=True,
                 rated_last_week_of_life=True, efterlevandesamtal_offered=True),
]


def by_code(facts):
    return {found.code: found for found in quality.indicators(facts)}


def test_indicators_count_numerators_denominators_and_who_is_missed():
    found = by_code(FACTS)
    # 4 patients; rated 1, 2, 4; 3 never rated -> 3/4 = 75 %, below 100 %.
    rated = found["symptom_rated"]
    assert (rated.figure.numerator, rated.figure.denominator) == (3, 4)
    assert (rated.counted, rated.missed) == ((1, 2, 4), (3,))
    assert rated.figure.percent == 75.0
    assert rated.figure.meets_target is False
    # All four indications: 1 and 4 -> 2/4; pain: 1, 2, 4 -> 3/4; nausea: 1, 4 -> 2/4.
    assert found["orders_all_four"].figure.numerator == 2
    assert found["order_pain"].figure.numerator == 3
    assert found["order_nausea"].figure.numerator == 2
    # SVAS offered 1, 2 -> 2/4; held 1 -> 1/4.
    assert found["svas_offered"].figure.numerator == 2
    assert found["svas_held"].figure.numerator == 1
    # Brytpunktssamtal: denominator only end of life or deceased (2, 3, 4); held 2, 4 -> 2/3.
    bps = found["brytpunktssamtal"]
    assert (bps.figure.numerator, bps.figure.denominator) == (2, 3)
    assert bps.missed == (3,)
    # Died in the period: only 4 -> rated 1/1, ROAG 0/1, orders 1/1, bereavement 1/1.
    assert found["rated_last_week"].figure.denominator == 1
    assert found["rated_last_week"].figure.meets_target is True
    assert found["roag_last_week"].figure.numerator == 0
    assert found["roag_last_week"].figure.meets_target is False
    assert found["orders_at_death"].figure.numerator == 1
    assert found["efterlevandesamtal_offered"].figure.numerator == 1


def test_without_deaths_the_after_death_indicators_have_no_figure():
    found = by_code(FACTS[:3])
    for code in ("rated_last_week", "roag_last_week", "orders_at_death",
                 "efterlevandesamtal_offered"):
        assert found[code].figure.denominator == 0
        assert found[code].figure.percent is None


def test_a_period_is_at_least_one_day():
    assert Period(date(2026, 1, 1), date(2026, 1, 1)).days == 1
    assert Period(date(2026, 1, 1), date(2026, 3, 31)).days == 90
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
