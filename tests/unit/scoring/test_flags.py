"""Every per-assessment flag rule, firing and not firing, with thresholds on both sides."""

from __future__ import annotations

import dataclasses

import pytest

from pallapp.scoring import (
    DEFAULT_THRESHOLDS,
    FLAG_CODES,
    SEVERITY_LABELS,
    Flag,
    Thresholds,
    flags_for,
    score,
)

ESAS_ZERO = {
    "pain": 0,
    "tiredness": 0,
    "drowsiness": 0,
    "nausea": 0,
    "lack_of_appetite": 0,
    "shortness_of_breath": 0,
    "depression": 0,
    "anxiety": 0,
    "wellbeing": 0,
}


def _codes(flags: list[Flag]) -> list[str]:
    return [flag.code for flag in flags]


def _only(flags: list[Flag], code: str) -> Flag:
    found = [flag for flag in flags if flag.code == code]
    assert len(found) == 1, flags
    return found[0]


# --- severe_item --------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["ipos_patient", "ipos_staff"])
def test_ipos_severe_item_fires_at_3_and_4_not_at_2(code: str) -> None:
    s = score(code, {"pain": 3, "nausea": 2, "depression": 4, "information": 2})
    flag = _only(flags_for(s), "severe_item")
    assert flag.severity == "high"
    assert flag.items == ("pain", "depression")  # definition order; nausea 2 < 3
    assert flag.params == {"threshold": 3}
    assert flags_for(score(code, {"pain": 2, "at_peace": 2})) == []


def test_ipos_severe_item_covers_q6_to_q9() -> None:
    s = score("ipos_patient", {"practical_problems": 4, "at_peace": 3, "information": 3})
    assert _only(flags_for(s), "severe_item").items == (
        "at_peace",
        "information",
        "practical_problems",
    )


def test_ipos_other_symptoms_rated_severe_fire_severe_item() -> None:
    s = score(
        "ipos_patient",
        {
            "poor_mobility": 3,
            "patient_anxiety": 4,
            "other_symptoms": [
                {"label": "Itching", "rating": 2},
                {"label": "Hiccups", "rating": 3},
            ],
        },
    )
    # other_symptoms sits after poor_mobility, the last Q2 item.
    assert _only(flags_for(s), "severe_item").items == (
        "poor_mobility",
        "other_symptoms",
        "patient_anxiety",
    )


def test_ipos_other_symptoms_below_threshold_do_not_fire() -> None:
    s = score("ipos_patient", {"other_symptoms": [{"label": "Itching", "rating": 2}]})
    assert flags_for(s) == []


def test_ipos_cannot_assess_never_fires() -> None:
    s = score("ipos_staff", {"pain": "cannot_assess", "nausea": "cannot_assess"})
    assert flags_for(s) == []


def test_ipos_severe_threshold_is_tunable_on_both_sides() -> None:
    s = score("ipos_patient", {"pain": 3, "nausea": 4})
    strict = Thresholds(ipos_severe_item=4)
    assert _only(flags_for(s, thresholds=strict), "severe_item").items == ("nausea",)
    loose = Thresholds(ipos_severe_item=2)
    s2 = score("ipos_patient", {"pain": 2, "nausea": 1})
    assert _only(flags_for(s2, thresholds=loose), "severe_item").items == ("pain",)


@pytest.mark.parametrize(("value", "fires"), [(6, False), (7, True), (10, True)])
@pytest.mark.parametrize("item", ["pain", "wellbeing", "other"])
def test_esas_severe_item_boundary(item: str, value: int, fires: bool) -> None:
    flags = flags_for(score("esas_r", {item: value}))
    assert ("severe_item" in _codes(flags)) is fires
    if fires:
        flag = _only(flags, "severe_item")
        assert flag.items == (item,)
        assert flag.severity == "high"
        assert flag.params == {"threshold": 7}


# --- moderate_item ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "fires"),
    [(0, False), (3, False), (4, True), (6, True), (7, False)],  # 7 is severe instead
)
@pytest.mark.parametrize("item", ["nausea", "anxiety", "other"])
def test_esas_moderate_item_boundaries(item: str, value: int, fires: bool) -> None:
    flags = flags_for(score("esas_r", {item: value}))
    assert ("moderate_item" in _codes(flags)) is fires
    if fires:
        flag = _only(flags, "moderate_item")
        assert flag.severity == "medium"
        assert flag.items == (item,)
        assert flag.params == {"threshold": 4, "severe_threshold": 7}


def test_esas_severe_and_moderate_together_list_their_own_items() -> None:
    s = score("esas_r", dict(ESAS_ZERO, pain=8, tiredness=5, nausea=4, anxiety=7, depression=3))
    flags = flags_for(s)
    assert _codes(flags) == ["severe_item", "moderate_item"]
    assert flags[0].items == ("pain", "anxiety")
    assert flags[1].items == ("tiredness", "nausea")


def test_moderate_item_only_for_esas() -> None:
    # IPOS 2 is "moderate" as an item band but there is no IPOS moderate_item rule.
    assert flags_for(score("ipos_patient", {"pain": 2})) == []


def test_esas_moderate_threshold_tunable() -> None:
    s = score("esas_r", {"pain": 3, "nausea": 5})
    flags = flags_for(s, thresholds=Thresholds(esas_moderate_item=3, esas_severe_item=5))
    assert _only(flags, "moderate_item").items == ("pain",)
    assert _only(flags, "severe_item").items == ("nausea",)


# --- item_rise ----------------------------------------------------------------------------


# IPOS (INSTRUMENTS.md): an item higher than in `previous` (by at least 1) AND now at least 2.
@pytest.mark.parametrize(
    ("before", "after", "fires"),
    [
        (0, 1, False),  # 1 - 0 = 1 >= 1, but 1 < 2: below the floor
        (1, 1, False),  # 1 - 1 = 0: not higher
        (0, 2, True),  # 2 - 0 = 2 >= 1, 2 >= 2
        (1, 2, True),  # 2 - 1 = 1 >= 1, 2 >= 2: the smallest worsening that flags
        (2, 2, False),  # 2 - 2 = 0: not higher, although at the floor
        (3, 2, False),  # 2 - 3 = -1: better
        (1, 3, True),  # 3 - 1 = 2
        (3, 4, True),  # 4 - 3 = 1 >= 1, 4 >= 2
        (2, 4, True),
        (4, 0, False),
    ],
)
@pytest.mark.parametrize("code", ["ipos_patient", "ipos_staff"])
def test_ipos_item_rise(code: str, before: int, after: int, fires: bool) -> None:
    previous = score(code, {"constipation": before})
    current = score(code, {"constipation": after})
    flags = flags_for(current, previous)
    assert ("item_rise" in _codes(flags)) is fires
    if fires:
        flag = _only(flags, "item_rise")
        assert flag.severity == "medium"
        assert flag.items == ("constipation",)
        assert flag.params == {"rule": "ipos", "threshold": 1, "floor": 2}


# ESAS-r keeps its rule: an item at least 2 points higher than in `previous`.
@pytest.mark.parametrize(
    ("before", "after", "fires"),
    [
        (3, 4, False),  # 4 - 3 = 1 < 2
        (1, 2, False),  # 2 - 1 = 1 < 2: the IPOS floor rule does not apply to ESAS-r
        (3, 5, True),  # 5 - 3 = 2 >= 2
        (0, 2, True),  # 2 - 0 = 2
        (0, 10, True),
        (5, 4, False),
    ],
)
def test_esas_item_rise(before: int, after: int, fires: bool) -> None:
    flags = flags_for(score("esas_r", {"tiredness": after}), score("esas_r", {"tiredness": before}))
    assert ("item_rise" in _codes(flags)) is fires
    if fires:
        assert _only(flags, "item_rise").params == {"rule": "esas_r", "threshold": 2}


def test_item_rise_lists_every_risen_item_in_order() -> None:
    previous = score("ipos_patient", {"pain": 0, "nausea": 1, "depression": 2, "information": 0})
    current = score("ipos_patient", {"pain": 2, "nausea": 2, "depression": 4, "information": 2})
    # pain 0 -> 2, nausea 1 -> 2, depression 2 -> 4, information 0 -> 2: each higher, each >= 2.
    assert _only(flags_for(current, previous), "item_rise").items == (
        "pain",
        "nausea",
        "depression",
        "information",
    )


def test_ipos_item_rise_lists_only_items_that_met_both_conditions() -> None:
    previous = score("ipos_staff", {"pain": 0, "nausea": 2, "vomiting": 3, "weakness": 1})
    current = score("ipos_staff", {"pain": 1, "nausea": 2, "vomiting": 2, "weakness": 3})
    # pain 0 -> 1 (below 2), nausea 2 -> 2 (not higher), vomiting 3 -> 2 (better): none;
    # weakness 1 -> 3: higher and 3 >= 2.
    assert _only(flags_for(current, previous), "item_rise").items == ("weakness",)


@pytest.mark.parametrize(
    ("before", "after"),
    [(None, 4), (0, None), ("cannot_assess", 4), (0, "cannot_assess")],
)
def test_item_rise_ignores_missing_and_cannot_assess(before: object, after: object) -> None:
    previous = score("ipos_staff", {"pain": before})
    current = score("ipos_staff", {"pain": after})
    assert "item_rise" not in _codes(flags_for(current, previous))


def test_esas_item_rise_threshold_tunable() -> None:
    previous = score("esas_r", {"pain": 1})
    current = score("esas_r", {"pain": 2})
    assert "item_rise" not in _codes(flags_for(current, previous))  # 2 - 1 = 1 < 2
    flags = flags_for(current, previous, Thresholds(esas_item_rise=1))  # 1 >= 1
    assert _only(flags, "item_rise").params == {"rule": "esas_r", "threshold": 1}


def test_ipos_item_rise_and_floor_tunable() -> None:
    def rises(before: int, after: int, thresholds: Thresholds) -> bool:
        flags = flags_for(
            score("ipos_patient", {"pain": after}),
            score("ipos_patient", {"pain": before}),
            thresholds,
        )
        return "item_rise" in _codes(flags)

    by_two = Thresholds(ipos_item_rise=2)
    assert not rises(1, 2, by_two)  # 2 - 1 = 1 < 2
    assert rises(1, 3, by_two)  # 3 - 1 = 2 >= 2, 3 >= 2
    floor_3 = Thresholds(ipos_item_rise_floor=3)
    assert not rises(1, 2, floor_3)  # higher, but 2 < 3
    assert rises(2, 3, floor_3)  # 3 >= 3
    floor_1 = Thresholds(ipos_item_rise_floor=1)
    assert rises(0, 1, floor_1)  # any worsening
    flags = flags_for(
        score("ipos_patient", {"pain": 1}), score("ipos_patient", {"pain": 0}), floor_1
    )
    assert _only(flags, "item_rise").params == {"rule": "ipos", "threshold": 1, "floor": 1}
    # The ESAS-r number does not touch IPOS, nor the IPOS numbers ESAS-r.
    assert rises(1, 2, Thresholds(esas_item_rise=10))
    esas = flags_for(
        score("esas_r", {"pain": 2}), score("esas_r", {"pain": 1}), Thresholds(ipos_item_rise=1)
    )
    assert "item_rise" not in _codes(esas)  # 2 - 1 = 1 < esas_item_rise 2


def test_esas_other_rise_only_when_the_same_problem_is_named() -> None:
    before = {"other": 1, "other_label": "Itching"}
    previous = score("esas_r", before)
    same = score("esas_r", {"other": 5, "other_label": " itching "})
    assert _only(flags_for(same, previous), "item_rise").items == ("other",)
    different = score("esas_r", {"other": 5, "other_label": "Hiccups"})
    assert "item_rise" not in _codes(flags_for(different, previous))
    unnamed = score("esas_r", {"other": 5})
    assert "item_rise" not in _codes(flags_for(unnamed, previous))
    assert "item_rise" not in _codes(flags_for(same, score("esas_r", {"other": 1})))


def test_previous_must_be_the_same_instrument() -> None:
    patient = score("ipos_patient", {"pain": 1})
    staff = score("ipos_staff", {"pain": 4})
    with pytest.raises(ValueError, match="same instrument"):
        flags_for(staff, patient)
    with pytest.raises(ValueError, match="same instrument"):
        flags_for(score("abbey", {}), score("roag", {}))


def test_previous_none_gives_no_rise_flags() -> None:
    s = score("esas_r", dict(ESAS_ZERO, pain=5))
    assert "item_rise" not in _codes(flags_for(s))
    assert "total_rise" not in _codes(flags_for(s))


# --- total_rise ---------------------------------------------------------------------------


@pytest.mark.parametrize(("rise", "fires"), [(3, False), (4, True), (5, True), (-4, False)])
def test_esas_total_rise_boundary(rise: int, fires: bool) -> None:
    previous_answers = dict(ESAS_ZERO, tiredness=5, wellbeing=5)
    previous = score("esas_r", previous_answers)
    # Spread the rise over single points so that item_rise does not fire at all.
    changes = ("pain", "drowsiness", "nausea", "depression", "anxiety")  # definition order
    current_answers = dict(previous_answers)
    if rise >= 0:
        for item in changes[:rise]:
            current_answers[item] = 1
    else:
        current_answers["tiredness"] = 5 + rise // 2  # 5 - 2 = 3
        current_answers["wellbeing"] = 5 + rise // 2  # 3
    current = score("esas_r", current_answers)
    assert current.total == previous.total + rise  # type: ignore[operator]
    flags = flags_for(current, previous)
    assert "item_rise" not in _codes(flags)
    assert ("total_rise" in _codes(flags)) is fires
    if fires:
        flag = _only(flags, "total_rise")
        assert flag.severity == "medium"
        assert flag.items == changes[:rise]
        assert flag.params == {"threshold": 4}


def test_total_rise_needs_both_totals() -> None:
    previous = score("esas_r", dict(ESAS_ZERO, pain=None))
    current = score("esas_r", dict(ESAS_ZERO, nausea=1, tiredness=1, anxiety=1, depression=1))
    assert current.total == 1 + 1 + 1 + 1  # = 4
    assert "total_rise" not in _codes(flags_for(current, previous))
    assert "total_rise" not in _codes(flags_for(previous, current))


def test_total_rise_ignores_other() -> None:
    previous = score("esas_r", dict(ESAS_ZERO, other=0, other_label="Itching"))
    current = score("esas_r", dict(ESAS_ZERO, other=10, other_label="Itching"))
    assert _codes(flags_for(current, previous)) == ["severe_item", "item_rise"]


def test_total_rise_threshold_tunable() -> None:
    previous = score("esas_r", ESAS_ZERO)
    current = score("esas_r", dict(ESAS_ZERO, pain=1))
    flags = flags_for(current, previous, Thresholds(esas_total_rise=1))
    assert _only(flags, "total_rise").items == ("pain",)


def test_ipos_has_no_total_rise() -> None:
    previous = score("ipos_patient", dict.fromkeys(_ipos_codes(), 0))
    current = score("ipos_patient", dict.fromkeys(_ipos_codes(), 1))
    assert current.total == 17 * 1  # = 17 higher than 0
    # Every item 0 -> 1: higher, but 1 < 2, so no item_rise either.
    assert flags_for(current, previous) == []


def _ipos_codes() -> tuple[str, ...]:
    from pallapp.scoring import INSTRUMENTS

    return INSTRUMENTS["ipos_patient"].item_codes


# --- pain_behaviour (Abbey) ---------------------------------------------------------------

ABBEY_ITEMS = (
    "vocalisation",
    "facial_expression",
    "body_language",
    "behaviour",
    "physiological",
    "physical",
)


@pytest.mark.parametrize(
    ("values", "severity"),
    [
        ((0, 0, 0, 0, 0, 0), None),
        ((1, 1, 0, 0, 0, 0), None),  # 1 + 1 = 2
        ((1, 1, 1, 0, 0, 0), "medium"),  # 1 + 1 + 1 = 3
        ((3, 3, 1, 0, 0, 0), "medium"),  # 3 + 3 + 1 = 7
        ((3, 3, 2, 0, 0, 0), "high"),  # 3 + 3 + 2 = 8
        ((3, 3, 3, 3, 3, 3), "high"),  # 6 * 3 = 18
    ],
)
def test_pain_behaviour_boundaries(values: tuple[int, ...], severity: str | None) -> None:
    s = score("abbey", dict(zip(ABBEY_ITEMS, values, strict=True)))
    flags = flags_for(s)
    if severity is None:
        assert flags == []
        return
    flag = _only(flags, "pain_behaviour")
    assert flag.severity == severity
    assert flag.items == tuple(item for item, v in zip(ABBEY_ITEMS, values, strict=True) if v > 0)
    assert flag.params == {"threshold": 8 if severity == "high" else 3}


def test_pain_behaviour_works_on_what_was_answered() -> None:
    # Four items missing: the total is unknown, but 3 + 3 = 6 is already at least "mild".
    s = score("abbey", {"vocalisation": 3, "facial_expression": 3})
    assert s.total is None
    flag = _only(flags_for(s), "pain_behaviour")
    assert flag.severity == "medium"
    assert flag.items == ("vocalisation", "facial_expression")


def test_pain_behaviour_thresholds_tunable() -> None:
    s = score("abbey", dict(zip(ABBEY_ITEMS, (2, 2, 0, 0, 0, 0), strict=True)))  # 2 + 2 = 4
    assert flags_for(s, thresholds=Thresholds(abbey_high=4))[0].severity == "high"
    assert flags_for(s, thresholds=Thresholds(abbey_medium=5)) == []


# --- oral_health (ROAG) -------------------------------------------------------------------

ROAG_HEALTHY = dict.fromkeys(
    ("voice", "lips", "mucous_membranes", "tongue", "gums", "teeth", "dentures", "saliva"), 1
) | {"swallowing": 1}


@pytest.mark.parametrize(
    ("grades", "severity", "items"),
    [
        ({}, None, ()),
        ({"dentures": "not_applicable"}, None, ()),
        ({"lips": 2}, "medium", ("lips",)),
        ({"saliva": 2, "lips": 2}, "medium", ("lips", "saliva")),
        ({"saliva": 3}, "high", ("saliva",)),
        ({"saliva": 3, "lips": 2}, "high", ("lips", "saliva")),
    ],
)
def test_oral_health(grades: dict[str, object], severity: str | None, items: tuple[str]) -> None:
    s = score("roag", {**ROAG_HEALTHY, **grades})
    flags = flags_for(s)
    if severity is None:
        assert flags == []
        return
    flag = _only(flags, "oral_health")
    assert flag.severity == severity
    assert flag.items == items
    assert flag.params == {"threshold": 3 if severity == "high" else 2}


def test_oral_health_on_an_incomplete_roag() -> None:
    s = score("roag", {"gums": 3})
    assert s.band is None
    assert _only(flags_for(s), "oral_health").severity == "high"


def test_oral_health_no_own_teeth_is_grade_1() -> None:
    no_teeth = {"teeth": "not_applicable", "gums": "not_applicable"}
    assert flags_for(score("roag", {**ROAG_HEALTHY, **no_teeth})) == []
    flag = _only(flags_for(score("roag", {**ROAG_HEALTHY, **no_teeth, "tongue": 2})), "oral_health")
    assert (flag.severity, flag.items) == ("medium", ("tongue",))


def test_an_instrument_family_without_rules_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from pallapp.scoring import flags as flag_rules

    s = score("roag", {**ROAG_HEALTHY, "saliva": 3})
    monkeypatch.setitem(flag_rules._FAMILY, "roag", "dental")
    with pytest.raises(ValueError, match="no flag rules for instrument family 'dental'"):
        flags_for(s)


def test_abbey_and_roag_ignore_previous() -> None:
    assert flags_for(score("abbey", {}), score("abbey", {"behaviour": 3})) == []
    assert flags_for(score("roag", ROAG_HEALTHY), score("roag", ROAG_HEALTHY)) == []


# --- the Flag value -----------------------------------------------------------------------


def test_flag_is_immutable_hashable_and_compares_by_value() -> None:
    a = Flag("severe_item", "high", ("pain",), {"threshold": 7})
    b = Flag("severe_item", "high", ("pain",), {"threshold": 7})
    assert a == b
    assert hash(a) == hash(b)
    assert len({a, b}) == 1
    assert a != Flag("severe_item", "high", ("pain",), {"threshold": 3})
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.code = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        a.params["threshold"] = 1  # type: ignore[index]
    assert Flag("prn_missing", "medium").params == {}


def test_flag_rank_orders_severities() -> None:
    high = Flag("severe_item", "high")
    medium = Flag("item_rise", "medium")
    info = Flag("assessment_overdue", "info")
    assert sorted([info, high, medium], key=lambda f: -f.rank) == [high, medium, info]


def test_flag_rejects_unknown_codes_and_severities() -> None:
    with pytest.raises(ValueError, match="unknown flag code"):
        Flag("made_up", "high")
    with pytest.raises(ValueError, match="cannot have severity"):
        Flag("severe_item", "medium")
    with pytest.raises(ValueError, match="cannot have severity"):
        Flag("severe_item", "low")  # type: ignore[arg-type]


def test_flag_codes_are_the_contract() -> None:
    assert set(FLAG_CODES) == {
        "severe_item",
        "moderate_item",
        "item_rise",
        "total_rise",
        "pain_behaviour",
        "oral_health",
        "prn_frequent",
        "prn_over_limit",
        "prn_missing",
        "assessment_overdue",
        "roag_overdue",
        "prn_dose_mismatch",
        "prn_limits_missing",
    }
    severities = {code: info.severities for code, info in FLAG_CODES.items()}
    assert severities["severe_item"] == ("high",)
    assert set(severities["pain_behaviour"]) == {"medium", "high"}
    assert set(severities["oral_health"]) == {"medium", "high"}
    assert severities["prn_over_limit"] == ("high",)
    assert severities["assessment_overdue"] == ("info",)
    for code, info in FLAG_CODES.items():
        assert info.code == code
        assert info.title
        assert info.explanation
        assert info.source
    assert set(SEVERITY_LABELS) == {"high", "medium", "info"}


def test_flags_come_in_a_fixed_order_at_most_one_per_code() -> None:
    previous = score("esas_r", ESAS_ZERO)
    current = score("esas_r", dict(ESAS_ZERO, pain=9, nausea=5, tiredness=5))
    flags = flags_for(current, previous, DEFAULT_THRESHOLDS)
    assert _codes(flags) == ["severe_item", "moderate_item", "item_rise", "total_rise"]
    assert flags[2].items == ("pain", "tiredness", "nausea")


def test_a_rule_keeps_a_bounded_number_of_raised_flags(monkeypatch: pytest.MonkeyPatch) -> None:
    from pallapp.scoring import flags as flag_rules

    monkeypatch.setattr(flag_rules, "_KEPT_FLAGS", 2)
    rule = flag_rules._Rule("severe_item", "high", (("threshold", 3),))
    first = rule.flag(("pain",))
    assert rule.raised.get(("pain",)) is first
    rule.flag(("nausea",))
    # Full at two: the third is built but not kept (the first two stay), and each flag still
    # equals one built publicly.
    third = rule.flag(("vomiting",))
    assert list(rule.raised) == [("pain",), ("nausea",)]
    assert third == Flag("severe_item", "high", ("vomiting",), {"threshold": 3})
    assert rule.flag(("vomiting",)) == third
    # The rule's flags share its one params map.
    assert third.params is first.params


def test_oral_health_from_areas_given_as_a_plain_mapping() -> None:
    s = score("roag", {**ROAG_HEALTHY, "saliva": 2})
    # A score made another way, with a plain dict of areas: the same flag as from score().
    copied = dataclasses.replace(s, areas_at={2: ("saliva",), 3: ()})
    assert flags_for(copied) == flags_for(s)
    assert _only(flags_for(copied), "oral_health").items == ("saliva",)
