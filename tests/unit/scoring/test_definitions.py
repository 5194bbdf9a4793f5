"""The instrument definitions match the contract in INSTRUMENTS.md and are read-only."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest

from pallapp.scoring import (
    INSTRUMENTS,
    N_,
    NC_,
    RECALL_PERIOD_INSTRUCTIONS,
    RECALL_PERIOD_LABELS,
    RESPONDENT_LABELS,
    SCORING_VERSION,
    SPECIAL_VALUE_LABELS,
    FrozenMap,
    JointAnswer,
    special_value_label,
)
from pallapp.scoring.definitions import Band, InstrumentDefinition, ItemDefinition
from pallapp.scoring.instruments import ABBEY_HOW_MUCH, ABBEY_HOW_OFTEN

SCORING_DIR = Path(__file__).resolve().parents[3] / "pallapp" / "scoring"

EXPECTED_ITEMS = {
    "ipos_patient": (
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
        "patient_anxiety",
        "family_anxiety",
        "depression",
        "at_peace",
        "sharing_feelings",
        "information",
        "practical_problems",
    ),
    "esas_r": (
        "pain",
        "tiredness",
        "drowsiness",
        "nausea",
        "lack_of_appetite",
        "shortness_of_breath",
        "depression",
        "anxiety",
        "wellbeing",
        "other",
    ),
    "abbey": (
        "vocalisation",
        "facial_expression",
        "body_language",
        "behaviour",
        "physiological",
        "physical",
    ),
    "roag": (
        "voice",
        "lips",
        "mucous_membranes",
        "tongue",
        "gums",
        "teeth",
        "dentures",
        "saliva",
        "swallowing",
    ),
}
EXPECTED_ITEMS["ipos_staff"] = EXPECTED_ITEMS["ipos_patient"]


def test_instrument_codes() -> None:
    assert list(INSTRUMENTS) == ["ipos_patient", "ipos_staff", "esas_r", "abbey", "roag"]
    for code, definition in INSTRUMENTS.items():
        assert definition.code == code
        assert definition.version
        assert definition.title
        assert definition.sources


@pytest.mark.parametrize("code", list(EXPECTED_ITEMS))
def test_item_codes(code: str) -> None:
    assert INSTRUMENTS[code].item_codes == EXPECTED_ITEMS[code]


@pytest.mark.parametrize(
    ("code", "low", "high"),
    [
        ("ipos_patient", 0, 4),
        ("ipos_staff", 0, 4),
        ("esas_r", 0, 10),
        ("abbey", 0, 3),
        ("roag", 1, 3),
    ],
)
def test_item_ranges_and_labels(code: str, low: int, high: int) -> None:
    for item in INSTRUMENTS[code].items:
        assert (item.min, item.max) == (low, high)
        assert item.values == tuple(range(low, high + 1))
        assert item.label
        assert item.group in INSTRUMENTS[code].groups
        for value, label in item.options:
            assert low <= value <= high
            assert label
            assert item.label_for(value) == label


def test_esas_options_label_only_the_anchors() -> None:
    pain = INSTRUMENTS["esas_r"].item("pain")
    assert [value for value, _label in pain.options] == [0, 10]
    assert pain.label_for(5) is None


def test_each_esas_item_has_anchors_of_its_own() -> None:
    # The revision gave every item its own 0 and 10 words ("No pain" ... "Worst possible pain").
    anchors = [
        (item.label_for(0), item.label_for(10)) for item in INSTRUMENTS["esas_r"].items
    ]
    flat = [anchor for pair in anchors for anchor in pair]
    assert None not in flat
    assert len(set(flat)) == len(flat) == 2 * len(INSTRUMENTS["esas_r"].items)
    assert INSTRUMENTS["esas_r"].item("pain").options == ((0, "No pain"), (10, "Worst possible pain"))
    # Wellbeing is the one item whose 0 is the good end by name.
    assert INSTRUMENTS["esas_r"].item("wellbeing").label_for(0) == "Best possible wellbeing"


def test_esas_defines_the_terms_people_misread_and_asks_about_now() -> None:
    esas = INSTRUMENTS["esas_r"]
    defined = {item.code for item in esas.items if item.description}
    assert defined == {
        "tiredness", "drowsiness", "lack_of_appetite", "depression", "anxiety", "wellbeing",
    }
    assert esas.instruction == "Rate how you feel now"
    assert esas.recall_periods == ("now",)
    # Only ESAS-r asks the respondent about a moment; the others name no instruction.
    assert [d.code for d in INSTRUMENTS.values() if d.instruction] == ["esas_r"]


def test_every_abbey_item_has_its_examples_beside_it() -> None:
    abbey = INSTRUMENTS["abbey"]
    assert all(item.description for item in abbey.items)
    # The English form's words for every item; the Swedish version asks items 1-2 how often,
    # items 3-6 how much: two gettext contexts of the same English words.
    english = ("Absent", "Mild", "Moderate", "Severe")
    assert all(tuple(label for _value, label in item.options) == english for item in abbey.items)
    contexts = {item.code: item.options_context for item in abbey.items}
    assert contexts == {
        "vocalisation": ABBEY_HOW_OFTEN,
        "facial_expression": ABBEY_HOW_OFTEN,
        "body_language": ABBEY_HOW_MUCH,
        "behaviour": ABBEY_HOW_MUCH,
        "physiological": ABBEY_HOW_MUCH,
        "physical": ABBEY_HOW_MUCH,
    }
    assert ABBEY_HOW_OFTEN != ABBEY_HOW_MUCH
    # Every other instrument's options are plain msgids.
    assert {
        code for code, d in INSTRUMENTS.items() if any(i.options_context for i in d.items)
    } == {"abbey"}


@pytest.mark.parametrize("code", ["ipos_patient", "ipos_staff"])
def test_ipos_items_asking_about_something_good_are_named_by_the_problem(code: str) -> None:
    definition = INSTRUMENTS[code]
    problems = {
        item.code: item.score_label for item in definition.items if item.problem_label
    }
    assert problems == {
        "at_peace": "Not at peace",
        "sharing_feelings": "Cannot share feelings",
        "information": "Lacks information",
        "practical_problems": "Practical problems not addressed",
    }
    for item in definition.items:
        # Exactly the items whose best answer is stored as 0 with a word other than "Not at all"
        # (Q6-Q9: "Always", "Addressed, or no problems") carry a problem label.
        reversed_scale = item.label_for(0) != "Not at all"
        assert (item.problem_label is not None) is reversed_scale
        if not reversed_scale:
            assert item.score_label == item.label


def test_special_values() -> None:
    specials = {
        (code, item.code): item.special_values
        for code, definition in INSTRUMENTS.items()
        for item in definition.items
        if item.special_values
    }
    expected = {("ipos_staff", code): ("cannot_assess",) for code in EXPECTED_ITEMS["ipos_staff"]}
    expected[("roag", "dentures")] = ("not_applicable",)
    # No own teeth: teeth and gums are not assessed (Region Jönköpings län's ROAG guidance).
    expected[("roag", "teeth")] = ("not_applicable",)
    expected[("roag", "gums")] = ("not_applicable",)
    assert specials == expected
    assert set(SPECIAL_VALUE_LABELS) == {"cannot_assess", "not_applicable"}


def test_teeth_and_gums_share_no_own_teeth_and_say_so() -> None:
    roag = INSTRUMENTS["roag"]
    assert [(j.value, j.items) for j in roag.joint_answers] == [
        ("not_applicable", ("gums", "teeth"))
    ]
    assert roag.joint_answers[0].mismatch
    no_teeth = "No own teeth (teeth and gums are not assessed)"
    assert special_value_label(roag.item("teeth"), "not_applicable") == no_teeth
    assert special_value_label(roag.item("gums"), "not_applicable") == no_teeth
    assert roag.item("teeth").special_label("cannot_assess") is None
    # Dentures keep their own meaning of not applicable: no dentures.
    dentures = roag.item("dentures")
    assert dentures.special_label("not_applicable") is None
    assert special_value_label(dentures, "not_applicable") == "Not applicable (no dentures)"
    staff_pain = INSTRUMENTS["ipos_staff"].item("pain")
    assert special_value_label(staff_pain, "cannot_assess") == "Cannot assess"
    with pytest.raises(KeyError):
        special_value_label(staff_pain, "made_up")
    for definition in INSTRUMENTS.values():
        if definition.code != "roag":
            assert definition.joint_answers == ()


def test_a_joint_answer_needs_every_item_to_accept_it() -> None:
    roag = INSTRUMENTS["roag"]
    joint = JointAnswer("not_applicable", ("gums", "voice"), "msgid")
    fields = {f.name: getattr(roag, f.name) for f in dataclasses.fields(roag)}
    with pytest.raises(ValueError, match="'voice' must accept 'not_applicable'"):
        InstrumentDefinition(**{**fields, "joint_answers": (joint,)})


def test_only_esas_other_is_optional() -> None:
    optional = [
        (code, item.code)
        for code, definition in INSTRUMENTS.items()
        for item in definition.items
        if item.optional
    ]
    assert optional == [("esas_r", "other")]


def test_every_required_item_is_in_the_total() -> None:
    # The scorer relies on this: one missing required item means no total.
    for code in ("ipos_patient", "ipos_staff", "esas_r", "abbey"):
        definition = INSTRUMENTS[code]
        required = tuple(item.code for item in definition.items if not item.optional)
        assert definition.total_items == required


def test_subscales_and_totals() -> None:
    ipos = INSTRUMENTS["ipos_patient"]
    assert {code: sub.items for code, sub in ipos.subscales.items()} == {
        "physical": EXPECTED_ITEMS["ipos_patient"][:10],
        "emotional": ("patient_anxiety", "family_anxiety", "depression", "at_peace"),
        "communication_practical": ("sharing_feelings", "information", "practical_problems"),
    }
    assert ipos.total_items == EXPECTED_ITEMS["ipos_patient"]
    assert (ipos.total_min, ipos.total_max) == (0, 17 * 4)  # 0-68
    esas = INSTRUMENTS["esas_r"]
    assert esas.total_items == EXPECTED_ITEMS["esas_r"][:9]
    assert (esas.total_min, esas.total_max) == (0, 9 * 10)  # 0-90
    assert {code: (sub.min, sub.max) for code, sub in esas.subscales.items()} == {
        "physical": (0, 6 * 10),
        "emotional": (0, 2 * 10),
    }
    abbey = INSTRUMENTS["abbey"]
    assert (abbey.total_min, abbey.total_max) == (0, 6 * 3)  # 0-18
    roag = INSTRUMENTS["roag"]
    assert roag.total_items == ()
    assert (roag.total_min, roag.total_max) == (None, None)
    assert roag.total_label is None
    for definition in INSTRUMENTS.values():
        for sub in definition.subscales.values():
            assert sub.label
            assert sub.min == sum(definition.item(c).min for c in sub.items)
            assert sub.max == sum(definition.item(c).max for c in sub.items)


def _covers_exactly(bands: tuple[Band, ...], low: int, high: int) -> None:
    values = [value for band in bands for value in range(band.low, band.high + 1)]
    assert values == list(range(low, high + 1)), bands


def test_bands_cover_every_value_once() -> None:
    _covers_exactly(INSTRUMENTS["ipos_patient"].item_bands, 0, 4)
    _covers_exactly(INSTRUMENTS["esas_r"].item_bands, 0, 10)
    _covers_exactly(INSTRUMENTS["abbey"].bands, 0, 18)
    _covers_exactly(INSTRUMENTS["roag"].bands, 1, 3)
    assert [b.name for b in INSTRUMENTS["abbey"].bands] == ["none", "mild", "moderate", "severe"]
    assert [b.name for b in INSTRUMENTS["roag"].bands] == ["healthy", "moderate", "severe"]
    assert [b.name for b in INSTRUMENTS["esas_r"].item_bands] == [
        "none",
        "mild",
        "moderate",
        "severe",
    ]
    assert INSTRUMENTS["abbey"].item_bands == ()
    assert INSTRUMENTS["roag"].item_bands == ()
    assert INSTRUMENTS["esas_r"].bands == ()


def test_context_fields() -> None:
    def fields(code: str) -> list[str]:
        return [f.code for f in INSTRUMENTS[code].context_fields]

    assert fields("ipos_patient") == ["main_problems", "other_symptoms", "completed_with"]
    assert fields("ipos_staff") == ["main_problems", "other_symptoms"]
    assert fields("esas_r") == ["other_label"]
    assert fields("abbey") == ["pain_type"]
    assert fields("roag") == []
    completed_with = INSTRUMENTS["ipos_patient"].context_field("completed_with")
    assert [c for c, _label in completed_with.choices] == ["alone", "with_relative", "with_staff"]
    pain_type = INSTRUMENTS["abbey"].context_field("pain_type")
    assert [c for c, _label in pain_type.choices] == ["chronic", "acute", "acute_on_chronic"]
    other = INSTRUMENTS["ipos_staff"].context_field("other_symptoms")
    assert (other.kind, other.max_entries, other.rating_min, other.rating_max) == (
        "rated_list",
        3,
        0,
        4,
    )


def test_lookups_raise_key_error_for_unknown_codes() -> None:
    with pytest.raises(KeyError):
        INSTRUMENTS["esas_r"].item("itch")
    with pytest.raises(KeyError):
        INSTRUMENTS["esas_r"].context_field("itch")


def test_recall_periods_and_respondents() -> None:
    def meta(code: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        return INSTRUMENTS[code].recall_periods, INSTRUMENTS[code].respondents

    assert meta("ipos_patient") == (("3d", "7d"), ("patient", "relative"))
    assert meta("ipos_staff") == (("3d", "7d"), ("staff",))
    assert meta("esas_r") == (("now",), ("patient", "relative", "staff"))
    assert meta("abbey") == (("now",), ("staff",))
    assert meta("roag") == (("now",), ("staff",))
    for definition in INSTRUMENTS.values():
        assert set(definition.recall_periods) <= set(RECALL_PERIOD_LABELS)
        assert set(definition.respondents) <= set(RESPONDENT_LABELS)


def test_groups_split_the_forms_into_steps() -> None:
    assert len(INSTRUMENTS["ipos_patient"].groups) == 3
    assert len(INSTRUMENTS["esas_r"].groups) == 2
    assert INSTRUMENTS["abbey"].guidance
    assert INSTRUMENTS["roag"].guidance
    assert INSTRUMENTS["esas_r"].guidance is None


def test_definitions_are_read_only() -> None:
    with pytest.raises(TypeError):
        INSTRUMENTS["x"] = INSTRUMENTS["roag"]  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        INSTRUMENTS["roag"].version = "x"  # type: ignore[misc]
    item = INSTRUMENTS["roag"].items[0]
    assert isinstance(item, ItemDefinition)
    with pytest.raises(dataclasses.FrozenInstanceError):
        item.max = 9  # type: ignore[misc]
    assert isinstance(INSTRUMENTS, FrozenMap)
    assert hash(INSTRUMENTS["esas_r"]) == hash(INSTRUMENTS["esas_r"])


def test_versions() -> None:
    assert SCORING_VERSION == "2026.2"
    assert INSTRUMENTS["roag"].version == "roag-2026.2"
    assert INSTRUMENTS["ipos_patient"].version == INSTRUMENTS["ipos_staff"].version


# --- i18n ---------------------------------------------------------------------------------


def test_marker_returns_its_argument() -> None:
    assert N_("Pain") == "Pain"
    assert NC_("Abbey answer: how often", "Mild") == "Mild"


def _n_calls(marker: str = "N_") -> list[ast.Call]:
    calls = []
    for path in sorted(SCORING_DIR.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        calls += [
            node
            for node in ast.walk(tree)
            if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == marker
        ]
    return calls


def test_every_marker_has_one_plain_string_literal() -> None:
    # pybabel can only extract literals: no f-strings, variables or concatenation.
    calls = _n_calls()
    assert len(calls) > 100
    for call in calls:
        assert len(call.args) == 1
        assert not call.keywords
        assert isinstance(call.args[0], ast.Constant)
        assert isinstance(call.args[0].value, str)
    # NC_: a context and a msgid, both literals (`pybabel extract -k NC_:1c,2`).
    with_context = _n_calls("NC_")
    assert len(with_context) == 8  # Abbey's four answers in each of its two wordings
    for call in with_context:
        assert len(call.args) == 2
        assert not call.keywords
        assert all(isinstance(arg, ast.Constant) and isinstance(arg.value, str) for arg in call.args)


def test_every_label_is_an_extracted_msgid() -> None:
    # (context, msgid): a msgid marked with NC_ is only known in its context, so an item's
    # `options_context` must be the literal its NC_ calls name.
    msgids = {(None, call.args[0].value) for call in _n_calls()}  # type: ignore[attr-defined]
    msgids |= {
        (call.args[0].value, call.args[1].value)  # type: ignore[attr-defined]
        for call in _n_calls("NC_")
    }
    options: set[tuple[str | None, str]] = set()
    labels: set[str] = set()
    for definition in INSTRUMENTS.values():
        labels.add(definition.title)
        labels.update(g for g in definition.groups)
        labels.update(sub.label for sub in definition.subscales.values())
        labels.update(band.label for band in definition.item_bands + definition.bands)
        if definition.total_label:
            labels.add(definition.total_label)
        if definition.guidance:
            labels.add(definition.guidance)
        if definition.instruction:
            labels.add(definition.instruction)
        for item in definition.items:
            labels.add(item.label)
            labels.add(item.score_label)
            if item.description:
                labels.add(item.description)
            options.update((item.options_context, label) for _value, label in item.options)
            labels.update(label for _value, label in item.special_labels)
        labels.update(joint.mismatch for joint in definition.joint_answers)
        shown = definition.display
        labels.update(
            text
            for text in (shown.purpose, shown.chart_title, shown.heatmap_title, shown.version_label)
            if text
        )
        for context in definition.context_fields:
            labels.add(context.label)
            labels.update(label for _value, label in context.choices)
    labels.update(RECALL_PERIOD_LABELS.values())
    labels.update(RECALL_PERIOD_INSTRUCTIONS.values())
    labels.update(RESPONDENT_LABELS.values())
    labels.update(SPECIAL_VALUE_LABELS.values())
    assert {(None, label) for label in labels} | options <= msgids
