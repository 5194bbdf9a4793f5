"""Every kind of invalid input is rejected with InvalidAnswers naming the item and the value."""

from __future__ import annotations

from typing import Any

import pytest

from pallapp.scoring import InvalidAnswers, score


def _rejects(code: Any, answers: Any, item: object, value: object) -> InvalidAnswers:
    with pytest.raises(InvalidAnswers) as caught:
        score(code, answers)
    error = caught.value
    assert isinstance(error, ValueError)
    assert error.item == item
    assert error.value == value or (error.value is value)
    assert repr(item) in str(error)
    return error


@pytest.mark.parametrize(
    "value",
    [
        True,  # bools are ints in Python, not answers here
        False,
        3.0,  # floats, even whole ones
        2.5,
        float("nan"),
        "3",  # digit strings
        " 3",
        b"3",
        [3],
        {"value": 3},
        -1,  # out of range, both sides
        5,
        10**20,
        "severe",
        "",
        "cannot_assess",  # only ipos_staff
        "not_applicable",  # only ROAG dentures, teeth and gums
    ],
)
def test_ipos_patient_rejects(value: object) -> None:
    error = _rejects("ipos_patient", {"pain": value}, "pain", value)
    assert "0-4" in str(error)


@pytest.mark.parametrize("value", [True, 2.0, "2", 11, -1, "cannot_assess", "not_applicable"])
def test_esas_rejects(value: object) -> None:
    _rejects("esas_r", {"wellbeing": value}, "wellbeing", value)


@pytest.mark.parametrize("value", [True, 1.0, "1", 4, -1, "cannot_assess", "not_applicable"])
def test_abbey_rejects(value: object) -> None:
    _rejects("abbey", {"behaviour": value}, "behaviour", value)


@pytest.mark.parametrize("value", [True, 1.0, "1", 0, 4, "cannot_assess", "not_applicable"])
def test_roag_rejects(value: object) -> None:
    _rejects("roag", {"saliva": value}, "saliva", value)


@pytest.mark.parametrize("value", [True, 0, 4, "1", "cannot_assess"])
def test_roag_dentures_rejects_everything_but_1_to_3_and_not_applicable(value: object) -> None:
    _rejects("roag", {"dentures": value}, "dentures", value)


@pytest.mark.parametrize("area", ["teeth", "gums"])
@pytest.mark.parametrize("value", [True, 0, 4, "1", "cannot_assess", "Not_applicable"])
def test_roag_teeth_and_gums_reject_everything_but_1_to_3_and_no_own_teeth(
    area: str, value: object
) -> None:
    _rejects("roag", {area: value}, area, value)


@pytest.mark.parametrize(
    ("answers", "lacking"),
    [
        ({"teeth": "not_applicable"}, "gums"),  # gums left out
        ({"teeth": "not_applicable", "gums": None}, "gums"),
        ({"teeth": "not_applicable", "gums": 1}, "gums"),
        ({"gums": "not_applicable", "teeth": 2}, "teeth"),
        ({"gums": "not_applicable", "teeth": 3, "dentures": "not_applicable"}, "teeth"),
    ],
)
def test_roag_no_own_teeth_only_for_teeth_and_gums_together(
    answers: dict[str, object], lacking: str
) -> None:
    error = _rejects("roag", answers, lacking, answers.get(lacking))
    # The message names both areas, and the one given alone.
    assert "gums and teeth together" in str(error)
    given = "teeth" if lacking == "gums" else "gums"
    assert f"given for {given} only" in str(error)


def test_roag_an_invalid_value_is_reported_before_a_lone_no_own_teeth() -> None:
    _rejects("roag", {"teeth": "not_applicable", "saliva": 9}, "saliva", 9)


@pytest.mark.parametrize("value", [True, 5, "not_applicable", "Cannot_assess", "4"])
def test_ipos_staff_rejects(value: object) -> None:
    error = _rejects("ipos_staff", {"vomiting": value}, "vomiting", value)
    assert "'cannot_assess'" in str(error)


def test_int_subclass_is_rejected() -> None:
    class Score3(int):
        pass

    _rejects("esas_r", {"pain": Score3(3)}, "pain", Score3(3))


def test_one_bad_value_among_good_ones_is_named() -> None:
    answers = {"pain": 2, "nausea": 1, "vomiting": 9, "drowsiness": 0}
    _rejects("ipos_patient", answers, "vomiting", 9)


@pytest.mark.parametrize("key", ["Pain", "pain ", "total", "tiredness", "", "other_label"])
def test_unknown_item_codes(key: str) -> None:
    # "tiredness" is ESAS-r, "other_label" an ESAS-r context field: unknown to IPOS.
    error = _rejects("ipos_patient", {"pain": 1, key: 1}, key, 1)
    assert "unknown item" in str(error)


def test_non_string_key() -> None:
    _rejects("esas_r", {1: 2}, 1, 2)


@pytest.mark.parametrize("code", ["IPOS", "ipos", "esas", "", "abbey ", None, 1])
def test_unknown_instrument(code: object) -> None:
    with pytest.raises(InvalidAnswers, match="unknown instrument"):
        score(code, {})  # type: ignore[arg-type]


@pytest.mark.parametrize("answers", [None, [("pain", 1)], "pain=1", 3])
def test_answers_must_be_a_mapping(answers: object) -> None:
    with pytest.raises(InvalidAnswers, match="mapping"):
        score("esas_r", answers)  # type: ignore[arg-type]


def test_long_values_are_shortened_in_the_message() -> None:
    value = "x" * 500
    error = _rejects("esas_r", {"pain": value}, "pain", value)
    assert "..." in str(error)
    assert len(str(error)) < 300


# --- context fields -----------------------------------------------------------------------


def test_completed_with_only_in_the_patient_version() -> None:
    assert score("ipos_patient", {"completed_with": "alone"}).answers["completed_with"] == "alone"
    _rejects("ipos_staff", {"completed_with": "alone"}, "completed_with", "alone")


@pytest.mark.parametrize("value", ["Alone", "with_doctor", "", 1, True, ["alone"]])
def test_completed_with_choices(value: object) -> None:
    _rejects("ipos_patient", {"completed_with": value}, "completed_with", value)


@pytest.mark.parametrize("value", ["chronic", "acute", "acute_on_chronic"])
def test_pain_type_choices(value: str) -> None:
    assert score("abbey", {"pain_type": value}).answers["pain_type"] == value


@pytest.mark.parametrize("value", ["neuropathic", "", 0, ("acute",)])
def test_pain_type_rejects(value: object) -> None:
    _rejects("abbey", {"pain_type": value}, "pain_type", value)


@pytest.mark.parametrize("value", ["", "   ", "x" * 101, 3, b"itch", ["itch"]])
def test_other_label_rejects(value: object) -> None:
    _rejects("esas_r", {"other_label": value}, "other_label", value)


def test_other_label_limit() -> None:
    label = "x" * 100
    assert score("esas_r", {"other_label": label}).answers["other_label"] == label


@pytest.mark.parametrize(
    ("value", "bad"),
    [
        ("Pain at night", "Pain at night"),  # a string is not a list of strings
        (["a", "b", "c", "d"], ["a", "b", "c", "d"]),  # more than 3
        (["ok", ""], ""),
        (["ok", "  "], "  "),
        (["ok", 3], 3),
        (["x" * 501], "x" * 501),
        ({"a"}, {"a"}),
    ],
)
def test_main_problems_rejects(value: object, bad: object) -> None:
    _rejects("ipos_staff", {"main_problems": value}, "main_problems", bad)


def test_main_problems_accepts_up_to_three() -> None:
    problems = ("a", "b", "x" * 500)
    assert score("ipos_staff", {"main_problems": list(problems)}).answers["main_problems"] == (
        problems
    )


@pytest.mark.parametrize(
    ("value", "bad"),
    [
        ("Itching 3", "Itching 3"),
        ([{"label": "a", "rating": 1}] * 4, [{"label": "a", "rating": 1}] * 4),
        ([("Itching", 3)], ("Itching", 3)),
        ([{"label": "Itching"}], {"label": "Itching"}),
        ([{"label": "Itching", "rating": 3, "x": 1}], {"label": "Itching", "rating": 3, "x": 1}),
        ([{"label": 3, "rating": 3}], 3),
        ([{"label": "", "rating": 3}], ""),
        ([{"label": "x" * 101, "rating": 3}], "x" * 101),
        ([{"label": "Itching", "rating": 5}], 5),
        ([{"label": "Itching", "rating": -1}], -1),
        ([{"label": "Itching", "rating": True}], True),
        ([{"label": "Itching", "rating": 3.0}], 3.0),
        ([{"label": "Itching", "rating": "3"}], "3"),
        ([{"label": "Itching", "rating": None}], None),
    ],
)
def test_other_symptoms_rejects(value: object, bad: object) -> None:
    _rejects("ipos_patient", {"other_symptoms": value}, "other_symptoms", bad)


def test_other_symptoms_accepts_both_ends_of_the_scale() -> None:
    entries = [{"label": "Itching", "rating": 0}, {"label": "Hiccups", "rating": 4}]
    s = score("ipos_staff", {"other_symptoms": entries})
    assert s.plain_answers()["other_symptoms"] == entries
    stored = s.answers["other_symptoms"]
    assert isinstance(stored, tuple)
    with pytest.raises(TypeError):
        stored[0]["rating"] = 1  # type: ignore[index]
