"""Scores, subscales and bands of every instrument, with the arithmetic written out by hand."""

from __future__ import annotations

import pytest

from pallapp.scoring import INSTRUMENTS, SCORING_VERSION, InvalidAnswers, Score, score

IPOS_PHYSICAL = (
    "pain",
    "shortness_of_breath",
    "weakness",
    "nausea",
    "vomiting",
    "poor_appetite",
    "constipation",
    "sore_dry_mouth",
    "drowsiness",
    "poor_mobility",
)
IPOS_EMOTIONAL = ("patient_anxiety", "family_anxiety", "depression", "at_peace")
IPOS_COMMUNICATION = ("sharing_feelings", "information", "practical_problems")
ESAS_NINE = (
    "pain",
    "tiredness",
    "drowsiness",
    "nausea",
    "lack_of_appetite",
    "shortness_of_breath",
    "depression",
    "anxiety",
    "wellbeing",
)
ABBEY_ITEMS = (
    "vocalisation",
    "facial_expression",
    "body_language",
    "behaviour",
    "physiological",
    "physical",
)
ROAG_AREAS = (
    "voice",
    "lips",
    "mucous_membranes",
    "tongue",
    "gums",
    "teeth",
    "dentures",
    "saliva",
    "swallowing",
)

IPOS_EXAMPLE = {
    "pain": 3,
    "shortness_of_breath": 2,
    "weakness": 4,
    "nausea": 0,
    "vomiting": 0,
    "poor_appetite": 1,
    "constipation": 2,
    "sore_dry_mouth": 1,
    "drowsiness": 2,
    "poor_mobility": 3,
    "patient_anxiety": 2,
    "family_anxiety": 3,
    "depression": 1,
    "at_peace": 0,
    "sharing_feelings": 1,
    "information": 0,
    "practical_problems": 2,
}


# --- IPOS ---------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["ipos_patient", "ipos_staff"])
def test_ipos_complete_scores(code: str) -> None:
    s = score(code, IPOS_EXAMPLE)
    physical = 3 + 2 + 4 + 0 + 0 + 1 + 2 + 1 + 2 + 3  # = 18
    emotional = 2 + 3 + 1 + 0  # = 6
    communication = 1 + 0 + 2  # = 3
    assert s.subscales == {
        "physical": physical,
        "emotional": emotional,
        "communication_practical": communication,
    }
    assert s.total == physical + emotional + communication  # = 27
    assert s.instrument == code
    assert s.band is None
    assert s.missing == ()
    assert s.max_grade is None
    assert dict(s.areas_at) == {}
    assert s.scoring_version == SCORING_VERSION


def test_ipos_extremes() -> None:
    everything_zero = dict.fromkeys(IPOS_EXAMPLE, 0)
    everything_four = dict.fromkeys(IPOS_EXAMPLE, 4)
    assert score("ipos_patient", everything_zero).total == 0
    top = score("ipos_patient", everything_four)
    assert top.total == 17 * 4  # = 68
    assert top.subscales == {
        "physical": 10 * 4,  # = 40
        "emotional": 4 * 4,  # = 16
        "communication_practical": 3 * 4,  # = 12
    }


def test_ipos_missing_item_blanks_only_its_subscale_and_the_total() -> None:
    answers = dict(IPOS_EXAMPLE, depression=None)
    del answers["information"]
    s = score("ipos_patient", answers)
    assert s.total is None
    assert s.subscales["physical"] == 3 + 2 + 4 + 0 + 0 + 1 + 2 + 1 + 2 + 3  # = 18
    assert s.subscales["emotional"] is None
    assert s.subscales["communication_practical"] is None
    assert s.missing == ("depression", "information")  # definition order
    assert "depression" not in s.item_bands
    assert s.answers["depression"] is None
    assert s.answers["information"] is None


def test_ipos_staff_cannot_assess_is_kept_and_scored_as_missing() -> None:
    answers = dict(IPOS_EXAMPLE, pain="cannot_assess", at_peace="cannot_assess")
    s = score("ipos_staff", answers)
    assert s.answers["pain"] == "cannot_assess"
    assert s.answers["at_peace"] == "cannot_assess"
    assert s.missing == ("pain", "at_peace")
    assert s.total is None
    assert s.subscales["physical"] is None
    assert s.subscales["emotional"] is None
    assert s.subscales["communication_practical"] == 1 + 0 + 2  # = 3
    assert "pain" not in s.item_bands
    assert s.item_bands["weakness"] == "severe"


def test_ipos_empty_answers() -> None:
    s = score("ipos_patient", {})
    assert s.total is None
    assert s.missing == INSTRUMENTS["ipos_patient"].item_codes
    assert dict(s.item_bands) == {}
    assert s.subscales == {"physical": None, "emotional": None, "communication_practical": None}


@pytest.mark.parametrize(
    ("value", "band"),
    [(0, "none"), (1, "mild"), (2, "moderate"), (3, "severe"), (4, "severe")],
)
@pytest.mark.parametrize("item", ["pain", "at_peace", "practical_problems"])
def test_ipos_item_bands_every_value(item: str, value: int, band: str) -> None:
    # Bands 0 none | 1 mild | 2 moderate | 3-4 severe: every value is a boundary.
    assert score("ipos_patient", {item: value}).item_bands == {item: band}


def test_ipos_context_fields_are_kept_and_do_not_change_scores() -> None:
    answers = dict(
        IPOS_EXAMPLE,
        main_problems=["Pain at night", "Worried about my wife"],
        other_symptoms=[{"label": "Itching", "rating": 4}],
        completed_with="with_relative",
    )
    s = score("ipos_patient", answers)
    assert s.total == score("ipos_patient", IPOS_EXAMPLE).total
    assert s.answers["main_problems"] == ("Pain at night", "Worried about my wife")
    assert s.answers["completed_with"] == "with_relative"
    assert s.plain_answers()["other_symptoms"] == [{"label": "Itching", "rating": 4}]
    assert s.plain_answers()["main_problems"] == ["Pain at night", "Worried about my wife"]
    assert s.plain_answers()["pain"] == 3


def test_empty_lists_and_none_context_mean_not_given() -> None:
    s = score("ipos_patient", {"main_problems": [], "other_symptoms": (), "completed_with": None})
    assert "main_problems" not in s.answers
    assert "other_symptoms" not in s.answers
    assert "completed_with" not in s.answers


# --- ESAS-r -------------------------------------------------------------------------------

ESAS_EXAMPLE = {
    "pain": 7,
    "tiredness": 5,
    "drowsiness": 0,
    "nausea": 4,
    "lack_of_appetite": 1,
    "shortness_of_breath": 2,
    "depression": 3,
    "anxiety": 6,
    "wellbeing": 5,
}


def test_esas_complete_scores() -> None:
    s = score("esas_r", ESAS_EXAMPLE)
    physical = 7 + 5 + 0 + 4 + 1 + 2  # = 19
    emotional = 3 + 6  # = 9
    assert s.subscales == {"physical": physical, "emotional": emotional}
    assert s.total == physical + emotional + 5  # wellbeing; = 33
    assert s.band is None
    assert s.missing == ()


def test_esas_other_is_banded_but_never_in_totals_nor_missing() -> None:
    with_other = score("esas_r", dict(ESAS_EXAMPLE, other=9, other_label="Itching"))
    assert with_other.total == 7 + 5 + 0 + 4 + 1 + 2 + 3 + 6 + 5  # = 33, other left out
    assert with_other.item_bands["other"] == "severe"
    assert with_other.answers["other_label"] == "Itching"
    without_other = score("esas_r", ESAS_EXAMPLE)
    assert without_other.missing == ()
    assert without_other.answers["other"] is None
    assert "other" not in without_other.item_bands


def test_esas_extremes() -> None:
    assert score("esas_r", dict.fromkeys(ESAS_NINE, 0)).total == 0
    top = score("esas_r", dict.fromkeys(ESAS_NINE, 10))
    assert top.total == 9 * 10  # = 90
    assert top.subscales == {"physical": 6 * 10, "emotional": 2 * 10}  # 60, 20


def test_esas_missing_item() -> None:
    s = score("esas_r", dict(ESAS_EXAMPLE, anxiety=None))
    assert s.total is None
    assert s.subscales == {"physical": 7 + 5 + 0 + 4 + 1 + 2, "emotional": None}  # 19
    assert s.missing == ("anxiety",)


@pytest.mark.parametrize(
    ("value", "band"),
    [
        (0, "none"),
        (1, "mild"),  # 0 | 1 boundary
        (3, "mild"),
        (4, "moderate"),  # 3 | 4 boundary
        (6, "moderate"),
        (7, "severe"),  # 6 | 7 boundary
        (10, "severe"),
    ],
)
@pytest.mark.parametrize("item", ["pain", "wellbeing", "other"])
def test_esas_item_band_boundaries(item: str, value: int, band: str) -> None:
    assert score("esas_r", {item: value}).item_bands == {item: band}


# --- Abbey --------------------------------------------------------------------------------


def test_abbey_total_and_band() -> None:
    answers = dict(zip(ABBEY_ITEMS, (2, 3, 1, 0, 1, 2), strict=True))
    s = score("abbey", answers)
    assert s.total == 2 + 3 + 1 + 0 + 1 + 2  # = 9
    assert s.band == "moderate"  # 8-13
    assert dict(s.subscales) == {}
    assert dict(s.item_bands) == {}


def _abbey_with_total(total: int) -> dict[str, object]:
    """Abbey answers summing to `total`, filled up item by item (each at most 3)."""
    answers: dict[str, object] = {}
    left = total
    for item in ABBEY_ITEMS:
        answers[item] = min(3, left)
        left -= answers[item]  # type: ignore[operator]
    assert left == 0
    return answers


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "none"),
        (2, "none"),
        (3, "mild"),  # 2 | 3 boundary
        (7, "mild"),
        (8, "moderate"),  # 7 | 8 boundary
        (13, "moderate"),
        (14, "severe"),  # 13 | 14 boundary
        (18, "severe"),
    ],
)
def test_abbey_band_boundaries(total: int, band: str) -> None:
    s = score("abbey", _abbey_with_total(total))
    assert s.total == total
    assert s.band == band


def test_abbey_incomplete_has_no_total_and_no_band() -> None:
    s = score("abbey", {"vocalisation": 3, "facial_expression": 3, "pain_type": "acute"})
    assert s.total is None
    assert s.band is None
    assert s.missing == ABBEY_ITEMS[2:]
    assert s.answers["pain_type"] == "acute"


# --- ROAG ---------------------------------------------------------------------------------


def _roag(**grades: object) -> dict[str, object]:
    answers: dict[str, object] = dict.fromkeys(ROAG_AREAS, 1)
    answers.update(grades)
    return answers


def test_roag_all_healthy() -> None:
    s = score("roag", _roag())
    assert s.total is None
    assert s.max_grade == 1
    assert s.band == "healthy"
    assert s.areas_at == {2: (), 3: ()}
    assert s.missing == ()


def test_roag_moderate() -> None:
    s = score("roag", _roag(lips=2, saliva=2))
    assert s.max_grade == 2
    assert s.band == "moderate"
    assert s.areas_at == {2: ("lips", "saliva"), 3: ()}


def test_roag_severe_as_in_the_contract() -> None:
    s = score("roag", _roag(lips=2, saliva=3))
    assert s.max_grade == 3
    assert s.band == "severe"
    assert s.areas_at == {2: ("lips",), 3: ("saliva",)}


def test_roag_dentures_not_applicable_counts_as_grade_1() -> None:
    s = score("roag", _roag(dentures="not_applicable"))
    assert s.answers["dentures"] == "not_applicable"
    assert s.missing == ()
    assert s.max_grade == 1
    assert s.band == "healthy"
    assert "dentures" not in s.areas_at[2] + s.areas_at[3]


@pytest.mark.parametrize("dentures", [1, "not_applicable"])
def test_roag_no_own_teeth_counts_teeth_and_gums_as_grade_1(dentures: object) -> None:
    # No own teeth: teeth and gums "not_applicable" together; each counts as grade 1, so with
    # every other area at 1 the highest grade is max(1, 1, ..., 1) = 1: healthy, and complete.
    s = score("roag", _roag(teeth="not_applicable", gums="not_applicable", dentures=dentures))
    assert (s.answers["teeth"], s.answers["gums"]) == ("not_applicable", "not_applicable")
    assert s.answers["dentures"] == dentures
    assert s.missing == ()
    assert s.max_grade == 1
    assert s.band == "healthy"
    assert s.areas_at == {2: (), 3: ()}


def test_roag_no_own_teeth_never_hides_the_other_areas() -> None:
    # Lips 2 and saliva 3 with no own teeth: max(1 [teeth], 1 [gums], 2, 3) = 3, severe; teeth
    # and gums are in neither list of areas.
    s = score("roag", _roag(teeth="not_applicable", gums="not_applicable", lips=2, saliva=3))
    assert s.max_grade == 3
    assert s.band == "severe"
    assert s.areas_at == {2: ("lips",), 3: ("saliva",)}


def test_roag_incomplete_has_no_max_grade_but_lists_areas() -> None:
    answers = _roag(tongue=3, gums=2)
    del answers["swallowing"]
    s = score("roag", answers)
    assert s.max_grade is None
    assert s.band is None
    assert s.missing == ("swallowing",)
    assert s.areas_at == {2: ("gums",), 3: ("tongue",)}


@pytest.mark.parametrize(
    ("grades", "max_grade", "band"),
    [
        ({}, 1, "healthy"),
        ({"voice": 2}, 2, "moderate"),
        ({"voice": 2, "teeth": 2}, 2, "moderate"),
        ({"swallowing": 3}, 3, "severe"),
        ({"voice": 2, "swallowing": 3}, 3, "severe"),
    ],
)
def test_roag_band_boundaries(grades: dict[str, int], max_grade: int, band: str) -> None:
    s = score("roag", _roag(**grades))
    assert s.max_grade == max_grade
    assert s.band == band


# --- the Score value ----------------------------------------------------------------------


def test_score_is_immutable_and_hashable() -> None:
    s = score("esas_r", ESAS_EXAMPLE)
    with pytest.raises(AttributeError):
        s.total = 0  # type: ignore[misc]
    with pytest.raises(TypeError):
        s.subscales["physical"] = 0  # type: ignore[index]
    with pytest.raises(TypeError):
        s.answers["pain"] = 0  # type: ignore[index]
    assert hash(s) == hash(score("esas_r", dict(ESAS_EXAMPLE)))
    assert s == score("esas_r", dict(ESAS_EXAMPLE))


def test_input_mapping_changes_do_not_reach_the_score() -> None:
    answers = dict(ESAS_EXAMPLE)
    s = score("esas_r", answers)
    answers["pain"] = 0
    assert s.answers["pain"] == 7
    assert isinstance(s, Score)


def test_non_dict_mapping_is_accepted() -> None:
    from types import MappingProxyType

    s = score("esas_r", MappingProxyType(dict(ESAS_EXAMPLE, other_label="Itching")))
    assert s.total == 33
    assert s.answers["other_label"] == "Itching"


def test_context_fields_after_all_items_in_order() -> None:
    """Answers as forms and stored rows give them: every item in item order, then context
    fields. Those are checked and normalised the same way; None or an empty list is dropped."""
    codes = INSTRUMENTS["ipos_patient"].item_codes
    # 17 items all at 1: total 17 = physical 10 (10 items) + emotional 4 + communication 3.
    answers: dict[str, object] = dict.fromkeys(codes, 1)
    answers.update(main_problems=["Pain at night"], other_symptoms=[], completed_with=None)
    s = score("ipos_patient", answers)
    assert (s.total, dict(s.subscales)) == (
        17,
        {"physical": 10, "emotional": 4, "communication_practical": 3},
    )
    assert s.answers == {**dict.fromkeys(codes, 1), "main_problems": ("Pain at night",)}
    assert s.plain_answers()["main_problems"] == ["Pain at night"]
    with pytest.raises(InvalidAnswers, match="unknown item"):
        score("ipos_patient", {**dict.fromkeys(codes, 1), "Pain": 1})
