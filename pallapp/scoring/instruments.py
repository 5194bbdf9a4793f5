"""The five instruments as data: the single place where their items are listed.

Item codes, ranges, subscales and bands follow `INSTRUMENTS.md` (a stable contract). Labels are
short descriptive English msgids written by us; the licensed official IPOS and ESAS-r wording is
not reproduced. A unit that holds the licence can put the official wording in the translation
catalogue without code changes.
"""

from __future__ import annotations

from ._frozen import FrozenMap
from .definitions import (
    CANNOT_ASSESS,
    NOT_APPLICABLE,
    Band,
    ContextField,
    Display,
    InstrumentDefinition,
    ItemDefinition,
    JointAnswer,
    Subscale,
)
from .i18n import N_, NC_

__all__ = [
    "ABBEY",
    "ABBEY_HOW_MUCH",
    "ABBEY_HOW_OFTEN",
    "ESAS_R",
    "INSTRUMENTS",
    "IPOS_PATIENT",
    "IPOS_STAFF",
    "RECALL_PERIOD_INSTRUCTIONS",
    "RECALL_PERIOD_LABELS",
    "RESPONDENT_LABELS",
    "ROAG",
    "SCORING_VERSION",
    "SPECIAL_VALUE_LABELS",
    "in_display_order",
    "special_value_label",
]

#: Version of the scoring rules as a whole; stored with every assessment's scores. Bump it (and
#: the affected definition's `version`) whenever a score or band could change for the same answers.
#: 2026.2: IPOS `item_rise` became its own rule (any rise to 2 or more) and ROAG accepts "no own
#: teeth". No score or band of answers valid under 2026.1 changed, but flags of the same answers
#: did, and 2026.1 rejects some answers 2026.2 stores: the version says which rules apply.
SCORING_VERSION = "2026.2"

RECALL_PERIOD_LABELS: FrozenMap[str, str] = FrozenMap(
    {
        "3d": N_("Last 3 days"),
        "7d": N_("Last 7 days"),
        "now": N_("Now"),
    }
)

#: The recall period as the form says it, on every step: the period a respondent thinks of.
#: IPOS only; ESAS-r says "now" through its own `instruction`.
RECALL_PERIOD_INSTRUCTIONS: FrozenMap[str, str] = FrozenMap(
    {
        "3d": N_("Over the past 3 days"),
        "7d": N_("Over the past 7 days"),
    }
)

RESPONDENT_LABELS: FrozenMap[str, str] = FrozenMap(
    {
        "patient": N_("Patient"),
        "relative": N_("Relative"),
        "staff": N_("Staff"),
    }
)

SPECIAL_VALUE_LABELS: FrozenMap[str, str] = FrozenMap(
    {
        CANNOT_ASSESS: N_("Cannot assess"),
        NOT_APPLICABLE: N_("Not applicable (no dentures)"),
    }
)


def special_value_label(item: ItemDefinition, value: str) -> str:
    """The msgid of special answer `value` on `item`: the item's own wording if it has one
    (ROAG teeth and gums: "No own teeth ..."), else the general label. KeyError if `value` is
    no special answer at all."""
    return item.special_label(value) or SPECIAL_VALUE_LABELS[value]

# --- IPOS ---------------------------------------------------------------------------------
# Source: pos-pal.org, "IPOS: how to score" and "how to interpret"; subscale structure from
# Murtagh et al., Palliative Medicine 2019;33(8):1045-57. Higher is always worse; Q6-Q9 are
# stored already reversed (the "always at peace" option is 0).

_IPOS_SYMPTOM_OPTIONS = (
    (0, N_("Not at all")),
    (1, N_("Slightly")),
    (2, N_("Moderately")),
    (3, N_("Severely")),
    (4, N_("Overwhelmingly")),
)
_IPOS_FREQUENCY_OPTIONS = (
    (0, N_("Not at all")),
    (1, N_("Occasionally")),
    (2, N_("Sometimes")),
    (3, N_("Most of the time")),
    (4, N_("Always")),
)
# Q6-Q8 ask about something good, so the frequency runs the other way round.
_IPOS_REVERSED_FREQUENCY_OPTIONS = (
    (0, N_("Always")),
    (1, N_("Most of the time")),
    (2, N_("Sometimes")),
    (3, N_("Occasionally")),
    (4, N_("Not at all")),
)
_IPOS_PRACTICAL_OPTIONS = (
    (0, N_("Addressed, or no problems")),
    (1, N_("Mostly addressed")),
    (2, N_("Partly addressed")),
    (3, N_("Hardly addressed")),
    (4, N_("Not addressed")),
)

_IPOS_PHYSICAL_GROUP = N_("Physical symptoms")
_IPOS_FEELINGS_GROUP = N_("Feelings and worries")
_IPOS_PRACTICAL_GROUP = N_("Information and practical matters")

# (code, label, options, group, problem label). Q6-Q9 ask about something good but are stored
# so that higher is worse; wherever their score stands without the question it is named by the
# problem end (INSTRUMENTS.md), e.g. at_peace 4 is "Not at peace", never "Feeling at peace: 4".
_IPOS_ITEM_SPECS: tuple[tuple[str, str, tuple[tuple[int, str], ...], str, str | None], ...] = (
    ("pain", N_("Pain"), _IPOS_SYMPTOM_OPTIONS, _IPOS_PHYSICAL_GROUP, None),
    (
        "shortness_of_breath",
        N_("Shortness of breath"),
        _IPOS_SYMPTOM_OPTIONS,
        _IPOS_PHYSICAL_GROUP,
        None,
    ),
    (
        "weakness",
        N_("Weakness or lack of energy"),
        _IPOS_SYMPTOM_OPTIONS,
        _IPOS_PHYSICAL_GROUP,
        None,
    ),
    ("nausea", N_("Nausea"), _IPOS_SYMPTOM_OPTIONS, _IPOS_PHYSICAL_GROUP, None),
    ("vomiting", N_("Vomiting"), _IPOS_SYMPTOM_OPTIONS, _IPOS_PHYSICAL_GROUP, None),
    ("poor_appetite", N_("Poor appetite"), _IPOS_SYMPTOM_OPTIONS, _IPOS_PHYSICAL_GROUP, None),
    ("constipation", N_("Constipation"), _IPOS_SYMPTOM_OPTIONS, _IPOS_PHYSICAL_GROUP, None),
    ("sore_dry_mouth", N_("Sore or dry mouth"), _IPOS_SYMPTOM_OPTIONS, _IPOS_PHYSICAL_GROUP, None),
    ("drowsiness", N_("Drowsiness"), _IPOS_SYMPTOM_OPTIONS, _IPOS_PHYSICAL_GROUP, None),
    ("poor_mobility", N_("Poor mobility"), _IPOS_SYMPTOM_OPTIONS, _IPOS_PHYSICAL_GROUP, None),
    (
        "patient_anxiety",
        N_("Anxiety or worry about the illness or its treatment"),
        _IPOS_FREQUENCY_OPTIONS,
        _IPOS_FEELINGS_GROUP,
        None,
    ),
    (
        "family_anxiety",
        N_("Family or friends worried about the patient"),
        _IPOS_FREQUENCY_OPTIONS,
        _IPOS_FEELINGS_GROUP,
        None,
    ),
    (
        "depression",
        N_("Feeling low or depressed"),
        _IPOS_FREQUENCY_OPTIONS,
        _IPOS_FEELINGS_GROUP,
        None,
    ),
    (
        "at_peace",
        N_("Feeling at peace"),
        _IPOS_REVERSED_FREQUENCY_OPTIONS,
        _IPOS_FEELINGS_GROUP,
        N_("Not at peace"),
    ),
    (
        "sharing_feelings",
        N_("Able to share feelings with family or friends"),
        _IPOS_REVERSED_FREQUENCY_OPTIONS,
        _IPOS_PRACTICAL_GROUP,
        N_("Cannot share feelings"),
    ),
    (
        "information",
        N_("Enough information"),
        _IPOS_REVERSED_FREQUENCY_OPTIONS,
        _IPOS_PRACTICAL_GROUP,
        N_("Lacks information"),
    ),
    (
        "practical_problems",
        N_("Practical problems addressed"),
        _IPOS_PRACTICAL_OPTIONS,
        _IPOS_PRACTICAL_GROUP,
        N_("Practical problems not addressed"),
    ),
)


def _ipos_items(special_values: tuple[str, ...]) -> tuple[ItemDefinition, ...]:
    return tuple(
        ItemDefinition(
            code=code,
            label=label,
            min=0,
            max=4,
            options=options,
            group=group,
            special_values=special_values,
            problem_label=problem_label,
        )
        for code, label, options, group, problem_label in _IPOS_ITEM_SPECS
    )


_IPOS_PHYSICAL = (
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
_IPOS_EMOTIONAL = ("patient_anxiety", "family_anxiety", "depression", "at_peace")
_IPOS_COMMUNICATION = ("sharing_feelings", "information", "practical_problems")

_IPOS_SUBSCALES: FrozenMap[str, Subscale] = FrozenMap(
    {
        "physical": Subscale("physical", N_("Physical symptoms"), _IPOS_PHYSICAL, 0, 40),
        "emotional": Subscale("emotional", N_("Emotional concerns"), _IPOS_EMOTIONAL, 0, 16),
        "communication_practical": Subscale(
            "communication_practical",
            N_("Communication and practical issues"),
            _IPOS_COMMUNICATION,
            0,
            12,
        ),
    }
)

# Item bands: pos-pal "how to interpret" — 0 none, 1 mild, 2 moderate, 3-4 severe; items at 3-4
# need a timely clinical response. The same labels are used for ESAS-r item bands.
_BAND_NONE = N_("No problem")
_BAND_MILD = N_("Mild problem")
_BAND_MODERATE = N_("Moderate problem")
_BAND_SEVERE = N_("Severe problem")

_IPOS_ITEM_BANDS = (
    Band("none", _BAND_NONE, 0, 0),
    Band("mild", _BAND_MILD, 1, 1),
    Band("moderate", _BAND_MODERATE, 2, 2),
    Band("severe", _BAND_SEVERE, 3, 4),
)

_MAIN_PROBLEMS = ContextField(
    code="main_problems",
    label=N_("Main problems or concerns"),
    kind="text_list",
    max_entries=3,
    max_length=500,
)
# IPOS Q2 leaves room for up to three further symptoms, each rated on the Q2 scale (0-4).
_OTHER_SYMPTOMS = ContextField(
    code="other_symptoms",
    label=N_("Other symptoms"),
    kind="rated_list",
    max_entries=3,
    max_length=100,
    rating_min=0,
    rating_max=4,
)
_COMPLETED_WITH = ContextField(
    code="completed_with",
    label=N_("How the form was completed"),
    kind="choice",
    choices=(
        ("alone", N_("On my own")),
        ("with_relative", N_("With help from a relative or friend")),
        ("with_staff", N_("With help from staff")),
    ),
)

_IPOS_SOURCES = (
    "pos-pal.org: IPOS, how to score and how to interpret",
    "Murtagh FEM et al. Palliat Med 2019;33(8):1045-57 (subscale structure)",
)

IPOS_PATIENT = InstrumentDefinition(
    code="ipos_patient",
    family="ipos",
    title=N_("IPOS (patient version)"),
    version="ipos-2026.1",
    items=_ipos_items(()),
    context_fields=(_MAIN_PROBLEMS, _OTHER_SYMPTOMS, _COMPLETED_WITH),
    subscales=_IPOS_SUBSCALES,
    total_label=N_("Total score"),
    total_items=_IPOS_PHYSICAL + _IPOS_EMOTIONAL + _IPOS_COMMUNICATION,
    item_bands=_IPOS_ITEM_BANDS,
    bands=(),
    recall_periods=("3d", "7d"),
    respondents=("patient", "relative"),
    sources=_IPOS_SOURCES,
    display=Display(
        purpose=N_("Your symptoms and worries over the last few days. About 5 minutes."),
        minutes=10,
        order=2,
        chart_title=N_("IPOS patient version: total and subscales"),
        chart_step=4,
        heatmap_key="ipos_heatmap",
        heatmap_title=N_("IPOS: each item"),
        version_label=N_("Patient version"),
    ),
)

# Q10 (who helped to complete the form) exists only in the patient version.
IPOS_STAFF = InstrumentDefinition(
    code="ipos_staff",
    family="ipos",
    title=N_("IPOS (staff version)"),
    version="ipos-2026.1",
    items=_ipos_items((CANNOT_ASSESS,)),
    context_fields=(_MAIN_PROBLEMS, _OTHER_SYMPTOMS),
    subscales=_IPOS_SUBSCALES,
    total_label=N_("Total score"),
    total_items=_IPOS_PHYSICAL + _IPOS_EMOTIONAL + _IPOS_COMMUNICATION,
    item_bands=_IPOS_ITEM_BANDS,
    bands=(),
    recall_periods=("3d", "7d"),
    respondents=("staff",),
    sources=_IPOS_SOURCES,
    display=Display(
        purpose=N_("The patient's symptoms and concerns, as you judge them. About 5 minutes."),
        minutes=10,
        order=3,
        chart_title=N_("IPOS staff version: total and subscales"),
        chart_step=4,
        heatmap_key="ipos_heatmap",
        heatmap_title=N_("IPOS: each item"),
        version_label=N_("Staff version"),
    ),
)

# --- ESAS-r -------------------------------------------------------------------------------
# Source: Watanabe et al., J Pain Symptom Manage 2011;41(2):456-68 (the revision); Alberta
# Health Services ESAS-r administration manual (rated "now", 0-10, symptom distress score);
# Selby et al., J Pain Symptom Manage 2010;39(2):241-9 (cut-offs 1-3 / 4-6 / 7-10).
# What the revision changed and the form shows: the instruction to rate how you feel now, each
# item with its own 0 and 10 anchors, and a definition beside the terms people misread
# (tiredness = lack of energy, drowsiness = feeling sleepy, depression = feeling sad, anxiety =
# feeling nervous, wellbeing = how you feel overall; the ESAS-r form defines no term for
# appetite, so that definition is ours). Swedish terms: Palliativt utvecklingscentrum's Swedish
# ESAS-r (2017). Where IPOS or the as-needed indications use the same English word with another
# Swedish term, the ESAS-r item has an English msgid of its own (drowsiness -> "Sleepiness",
# sömnighet; shortness of breath -> "Breathlessness", andnöd; anxiety -> "Anxiety or worry",
# oro/ångest), so each instrument keeps its published Swedish wording.

_ESAS_SYMPTOMS_GROUP = N_("Symptoms")
_ESAS_MOOD_GROUP = N_("Mood and wellbeing")


def _esas_item(
    code: str,
    label: str,
    group: str,
    anchors: tuple[str, str],
    description: str | None = None,
    *,
    optional: bool = False,
) -> ItemDefinition:
    return ItemDefinition(
        code=code,
        label=label,
        min=0,
        max=10,
        options=((0, anchors[0]), (10, anchors[1])),
        group=group,
        optional=optional,
        description=description,
    )


_ESAS_PHYSICAL = (
    "pain",
    "tiredness",
    "drowsiness",
    "nausea",
    "lack_of_appetite",
    "shortness_of_breath",
)
_ESAS_EMOTIONAL = ("depression", "anxiety")

ESAS_R = InstrumentDefinition(
    code="esas_r",
    family="esas_r",
    title=N_("ESAS-r symptom rating"),
    version="esas_r-2026.1",
    items=(
        _esas_item(
            "pain",
            N_("Pain"),
            _ESAS_SYMPTOMS_GROUP,
            (N_("No pain"), N_("Worst possible pain")),
        ),
        _esas_item(
            "tiredness",
            N_("Tiredness"),
            _ESAS_SYMPTOMS_GROUP,
            (N_("No tiredness"), N_("Worst possible tiredness")),
            N_("Tiredness means lack of energy. It is not the same as sleepiness."),
        ),
        _esas_item(
            "drowsiness",
            N_("Sleepiness"),
            _ESAS_SYMPTOMS_GROUP,
            (N_("No sleepiness"), N_("Worst possible sleepiness")),
            N_("Sleepiness means feeling drowsy, as if you could fall asleep."),
        ),
        _esas_item(
            "nausea",
            N_("Nausea"),
            _ESAS_SYMPTOMS_GROUP,
            (N_("No nausea"), N_("Worst possible nausea")),
        ),
        _esas_item(
            "lack_of_appetite",
            N_("Lack of appetite"),
            _ESAS_SYMPTOMS_GROUP,
            (N_("No lack of appetite"), N_("Worst possible lack of appetite")),
            N_("Lack of appetite means not feeling like eating."),
        ),
        _esas_item(
            "shortness_of_breath",
            N_("Breathlessness"),
            _ESAS_SYMPTOMS_GROUP,
            (N_("No breathlessness"), N_("Worst possible breathlessness")),
        ),
        _esas_item(
            "depression",
            N_("Depression"),
            _ESAS_MOOD_GROUP,
            (N_("No depression"), N_("Worst possible depression")),
            N_("Depression means feeling sad or low."),
        ),
        _esas_item(
            "anxiety",
            N_("Anxiety or worry"),
            _ESAS_MOOD_GROUP,
            (N_("No anxiety or worry"), N_("Worst possible anxiety or worry")),
            N_("Anxiety means feeling nervous or worried."),
        ),
        _esas_item(
            "wellbeing",
            N_("Wellbeing"),
            _ESAS_MOOD_GROUP,
            (N_("Best possible wellbeing"), N_("Worst possible wellbeing")),
            N_("Wellbeing means how you feel overall, all things considered."),
        ),
        _esas_item(
            "other",
            N_("Other problem"),
            _ESAS_MOOD_GROUP,
            (N_("No such problem"), N_("Worst possible problem")),
            optional=True,
        ),
    ),
    context_fields=(
        ContextField(
            code="other_label",
            label=N_("Name of the other problem"),
            kind="text",
            max_length=100,
        ),
    ),
    subscales=FrozenMap(
        {
            "physical": Subscale("physical", N_("Physical symptoms"), _ESAS_PHYSICAL, 0, 60),
            "emotional": Subscale("emotional", N_("Emotional symptoms"), _ESAS_EMOTIONAL, 0, 20),
        }
    ),
    total_label=N_("Symptom distress score"),
    total_items=_ESAS_PHYSICAL + _ESAS_EMOTIONAL + ("wellbeing",),
    # Selby 2010: 0 none, 1-3 mild, 4-6 moderate, 7-10 severe.
    item_bands=(
        Band("none", _BAND_NONE, 0, 0),
        Band("mild", _BAND_MILD, 1, 3),
        Band("moderate", _BAND_MODERATE, 4, 6),
        Band("severe", _BAND_SEVERE, 7, 10),
    ),
    bands=(),
    recall_periods=("now",),
    respondents=("patient", "relative", "staff"),
    instruction=N_("Rate how you feel now"),
    sources=(
        "Watanabe SM et al. J Pain Symptom Manage 2011;41(2):456-68 (ESAS-r)",
        "Alberta Health Services: ESAS-r administration manual",
        "Selby D et al. J Pain Symptom Manage 2010;39(2):241-9 (cut-offs)",
        "Hui D et al. 2015/2016 (minimal clinically important difference)",
        "Palliativt utvecklingscentrum: ESAS-r, Swedish version (2017)",
    ),
    display=Display(
        purpose=N_("How nine common symptoms feel right now. About 2 minutes."),
        minutes=2,
        order=1,
        chart_key="esas_total",
        chart_title=N_("ESAS-r: symptom distress score"),
        chart_step=10,
        heatmap_key="esas_heatmap",
        heatmap_title=N_("ESAS-r: each symptom"),
    ),
)

# --- Abbey Pain Scale ---------------------------------------------------------------------
# Source: Abbey J et al., Int J Palliat Nurs 2004;10(1):6-13, and the published form
# (items 0-3, total 0-18; 0-2 no pain, 3-7 mild, 8-13 moderate, 14+ severe). Swedish wording:
# Svenska palliativregistret's Swedish version (translated 2011-07-25): item names, the examples
# beside them, response words, band names and pain types. That version asks items 1-2
# (vocalisation, facial expression) as how often (inte alls, sällan, ibland, ofta) and items 3-6
# as how much (inte alls, lite, måttligt, mycket), where the English form says absent, mild,
# moderate, severe for every item. Each language keeps its own form's words: the English msgids
# are the English form's, with a gettext context per Swedish wording (`NC_`), so "Mild" is
# "Sällan" in one and "Lite" in the other. Scores are the same 0-3 either way.

#: The gettext contexts of the two Swedish wordings; the `NC_` calls below repeat them as
#: literals (pybabel reads literals only).
ABBEY_HOW_OFTEN = "Abbey answer: how often"
ABBEY_HOW_MUCH = "Abbey answer: how much"
_ABBEY_HOW_OFTEN_OPTIONS = (
    (0, NC_("Abbey answer: how often", "Absent")),
    (1, NC_("Abbey answer: how often", "Mild")),
    (2, NC_("Abbey answer: how often", "Moderate")),
    (3, NC_("Abbey answer: how often", "Severe")),
)
_ABBEY_HOW_MUCH_OPTIONS = (
    (0, NC_("Abbey answer: how much", "Absent")),
    (1, NC_("Abbey answer: how much", "Mild")),
    (2, NC_("Abbey answer: how much", "Moderate")),
    (3, NC_("Abbey answer: how much", "Severe")),
)
_ABBEY_BEHAVIOUR_GROUP = N_("Behaviour and expression")
_ABBEY_BODY_GROUP = N_("Body changes")


def _abbey_item(
    code: str,
    label: str,
    description: str,
    group: str,
    how_often: bool = False,
) -> ItemDefinition:
    return ItemDefinition(
        code=code,
        label=label,
        min=0,
        max=3,
        options=_ABBEY_HOW_OFTEN_OPTIONS if how_often else _ABBEY_HOW_MUCH_OPTIONS,
        group=group,
        description=description,
        options_context=ABBEY_HOW_OFTEN if how_often else ABBEY_HOW_MUCH,
    )


ABBEY = InstrumentDefinition(
    code="abbey",
    family="abbey",
    title=N_("Abbey Pain Scale"),
    version="abbey-2026.1",
    items=(
        _abbey_item(
            "vocalisation",
            N_("Vocalisation"),
            N_("For example whimpering, groaning or making sounds"),
            _ABBEY_BEHAVIOUR_GROUP,
            how_often=True,
        ),
        _abbey_item(
            "facial_expression",
            N_("Facial expression"),
            N_("For example looking tense, frowning, grimacing or looking frightened"),
            _ABBEY_BEHAVIOUR_GROUP,
            how_often=True,
        ),
        _abbey_item(
            "body_language",
            N_("Change in body language"),
            N_("For example restless, rocking, guarding a part of the body or curled up"),
            _ABBEY_BEHAVIOUR_GROUP,
        ),
        _abbey_item(
            "behaviour",
            N_("Behavioural change"),
            N_("For example more confused, refusing to eat, more or less active than usual"),
            _ABBEY_BEHAVIOUR_GROUP,
        ),
        _abbey_item(
            "physiological",
            N_("Physiological change"),
            N_(
                "For example changed body temperature, pulse or blood pressure, sweating, "
                "flushing or pallor"
            ),
            _ABBEY_BODY_GROUP,
        ),
        _abbey_item(
            "physical",
            N_("Physical changes"),
            N_("That is skin tears, pressure sores, contractures or other injuries"),
            _ABBEY_BODY_GROUP,
        ),
    ),
    context_fields=(
        # Asked on the published form when the total is 3 or more; accepted at any total.
        ContextField(
            code="pain_type",
            label=N_("Type of pain"),
            kind="choice",
            choices=(
                ("chronic", N_("Chronic")),
                ("acute", N_("Acute")),
                ("acute_on_chronic", N_("Acute on chronic")),
            ),
        ),
    ),
    subscales=FrozenMap(),
    total_label=N_("Total score"),
    total_items=(
        "vocalisation",
        "facial_expression",
        "body_language",
        "behaviour",
        "physiological",
        "physical",
    ),
    item_bands=(),
    bands=(
        Band("none", N_("No pain"), 0, 2),
        Band("mild", N_("Mild pain"), 3, 7),
        Band("moderate", N_("Moderate pain"), 8, 13),
        Band("severe", N_("Severe pain"), 14, 18),
    ),
    recall_periods=("now",),
    respondents=("staff",),
    sources=(
        "Abbey J et al. Int J Palliat Nurs 2004;10(1):6-13, and the published form",
        "Svenska palliativregistret: Abbey Pain Scale, Swedish version (2011)",
    ),
    guidance=N_(
        "Observe the person while they are moved or cared for. "
        "Assess again one hour after an intervention."
    ),
    display=Display(
        purpose=N_("Pain in a person who cannot tell you, from what you see. About 2 minutes."),
        minutes=2,
        order=4,
        chart_title=N_("Abbey Pain Scale: total score"),
        chart_step=2,
    ),
)

# --- ROAG ---------------------------------------------------------------------------------
# Source: Andersson P et al., Spec Care Dentist 2002;22(5):181-6 (ROAG); the nine areas as used
# in Swedish palliative care (Svenska palliativregistret's mouth assessment, teeth and dentures
# apart); bands and actions from Senior alert's ROAG-J guidance. No summed score is published
# for clinical use, so there is no total.

_ROAG_MOUTH_GROUP = N_("Voice, lips and mouth")
_ROAG_TEETH_GROUP = N_("Teeth, dentures, saliva and swallowing")


# No own teeth: "har personen inga tänder finns inget tandkött" (Region Jönköpings län, Senior
# alert's questions and answers on ROAG): teeth and gums are then not assessed, both together.
# The option reads the same on both areas, so the nurse sees that it covers the two of them.
_NO_OWN_TEETH = N_("No own teeth (teeth and gums are not assessed)")
_NO_OWN_TEETH_ANSWER = ((NOT_APPLICABLE, _NO_OWN_TEETH),)


def _roag_item(
    code: str,
    label: str,
    grades: tuple[str, str, str],
    group: str,
    special_values: tuple[str, ...] = (),
    special_labels: tuple[tuple[str, str], ...] = (),
) -> ItemDefinition:
    return ItemDefinition(
        code=code,
        label=label,
        min=1,
        max=3,
        options=((1, grades[0]), (2, grades[1]), (3, grades[2])),
        group=group,
        special_values=special_values,
        special_labels=special_labels,
    )


ROAG = InstrumentDefinition(
    code="roag",
    family="roag",
    title=N_("ROAG oral assessment"),
    # 2026.2: teeth and gums accept "not_applicable" together (no own teeth).
    version="roag-2026.2",
    items=(
        _roag_item(
            "voice",
            N_("Voice"),
            (N_("Normal"), N_("Dry or hoarse"), N_("Difficulty talking")),
            _ROAG_MOUTH_GROUP,
        ),
        _roag_item(
            "lips",
            N_("Lips"),
            (
                N_("Smooth and moist"),
                N_("Dry, cracked or sore corners"),
                N_("Ulcers or bleeding"),
            ),
            _ROAG_MOUTH_GROUP,
        ),
        _roag_item(
            "mucous_membranes",
            N_("Mucous membranes"),
            (
                N_("Pink and moist"),
                N_("Red, dry, coated or discoloured areas"),
                N_("Ulcers, blisters or bleeding"),
            ),
            _ROAG_MOUTH_GROUP,
        ),
        _roag_item(
            "tongue",
            N_("Tongue"),
            (
                N_("Pink and moist, with papillae"),
                N_("No papillae, red, dry or coated"),
                N_("Ulcers, blisters or bleeding"),
            ),
            _ROAG_MOUTH_GROUP,
        ),
        _roag_item(
            "gums",
            N_("Gums"),
            (N_("Pink and firm"), N_("Swollen or red"), N_("Bleeding spontaneously")),
            _ROAG_MOUTH_GROUP,
            special_values=(NOT_APPLICABLE,),
            special_labels=_NO_OWN_TEETH_ANSWER,
        ),
        _roag_item(
            "teeth",
            N_("Teeth"),
            (
                N_("Clean"),
                N_("Local plaque or debris, broken teeth"),
                N_("General plaque or debris"),
            ),
            _ROAG_TEETH_GROUP,
            special_values=(NOT_APPLICABLE,),
            special_labels=_NO_OWN_TEETH_ANSWER,
        ),
        _roag_item(
            "dentures",
            N_("Dentures"),
            (
                N_("Clean and working"),
                N_("Plaque or debris"),
                N_("Not used, or badly fitting"),
            ),
            _ROAG_TEETH_GROUP,
            special_values=(NOT_APPLICABLE,),
        ),
        _roag_item(
            "saliva",
            N_("Saliva"),
            (
                N_("Mirror glides easily"),
                N_("Mirror glides with resistance"),
                N_("Mirror does not glide"),
            ),
            _ROAG_TEETH_GROUP,
        ),
        _roag_item(
            "swallowing",
            N_("Swallowing"),
            (N_("Normal"), N_("Slight problems"), N_("Marked problems")),
            _ROAG_TEETH_GROUP,
        ),
    ),
    context_fields=(),
    subscales=FrozenMap(),
    total_label=None,
    total_items=(),
    item_bands=(),
    # By max_grade: all 1 healthy; any 2 and no 3 moderate; any 3 severe (Senior alert ROAG-J:
    # grade 2 -> mouth care per the unit's routine; grade 3 -> contact dental care or a physician).
    bands=(
        Band("healthy", N_("Healthy mouth"), 1, 1),
        Band("moderate", N_("Moderate oral problems"), 2, 2),
        Band("severe", N_("Severe oral problems"), 3, 3),
    ),
    recall_periods=("now",),
    respondents=("staff",),
    sources=(
        "Andersson P et al. Spec Care Dentist 2002;22(5):181-6 (ROAG)",
        "Svenska palliativregistret: mouth assessment (nine areas)",
        "Senior alert: ROAG-J guidance (bands and actions)",
        "Region Jönköpings län: questions and answers on ROAG (no own teeth, no gums)",
    ),
    guidance=N_("Use a dental mirror and a light. Grade each area from 1 (healthy) to 3."),
    joint_answers=(
        JointAnswer(
            NOT_APPLICABLE,
            ("gums", "teeth"),
            N_(
                "A person with no own teeth has no gums either: choose “No own teeth” "
                "for both Gums and Teeth, or grade both."
            ),
        ),
    ),
    display=Display(
        purpose=N_("The mouth, area by area. About 3 minutes."),
        minutes=5,
        order=5,
        chart_title=N_("ROAG: highest grade"),
    ),
)

#: Every instrument by code (read-only). The form chooser lists them in this order (for staff,
#: the ones only staff rate first); `Display.order` places them on the review pages.
INSTRUMENTS: FrozenMap[str, InstrumentDefinition] = FrozenMap(
    {definition.code: definition for definition in (IPOS_PATIENT, IPOS_STAFF, ESAS_R, ABBEY, ROAG)}
)


def in_display_order() -> tuple[InstrumentDefinition, ...]:
    """Every registered instrument by `Display.order` (equal ones in registry order): the order
    of the overview, the patient page, the trends page and the reporting plan. Read at call
    time, so an instrument registered later (a test's) is in it too."""
    return tuple(sorted(INSTRUMENTS.values(), key=lambda definition: definition.display.order))
