"""Types that describe an instrument as data.

Forms, result pages and exports are generated from these definitions; no other module lists the
items of an instrument again. Every `label` is an English msgid (see `pallapp.scoring.i18n`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ._frozen import FrozenMap

__all__ = [
    "CANNOT_ASSESS",
    "NOT_APPLICABLE",
    "SELF_REPORTING_ROLES",
    "Band",
    "ContextField",
    "ContextKind",
    "Display",
    "Family",
    "InstrumentDefinition",
    "ItemDefinition",
    "JointAnswer",
    "Subscale",
]

#: Special answer for staff-completed IPOS items (e.g. unconscious patient); scored as missing.
CANNOT_ASSESS = "cannot_assess"
#: Special answer for ROAG `dentures` (no dentures needed), and for ROAG `teeth` and `gums`
#: together (no own teeth); scored as grade 1.
NOT_APPLICABLE = "not_applicable"

#: How the scorer and the flag rules treat an instrument. `generic`: a plain sum (total and
#: subscales, item bands, an overall band by total if it has bands) with no per-assessment flag
#: rules; a new instrument starts there until its clinical flag rules are written.
Family = Literal["ipos", "esas_r", "abbey", "roag", "generic"]

#: Roles that answer about themselves or the person they care for (self-report forms).
SELF_REPORTING_ROLES = ("patient", "relative")

#: Context field kinds: one choice, one free text, a list of free texts, a list of
#: {"label": str, "rating": int} entries.
ContextKind = Literal["choice", "text", "text_list", "rated_list"]


@dataclass(frozen=True, slots=True)
class Band:
    """A named, inclusive range of values (an item band or an overall band)."""

    name: str
    label: str
    low: int
    high: int

    def contains(self, value: int) -> bool:
        """True if `low <= value <= high`."""
        return self.low <= value <= self.high


@dataclass(frozen=True, slots=True)
class ItemDefinition:
    """One scored item.

    Every `int` from `min` to `max` is a valid answer. `options` lists the values that have a
    label: all of them for IPOS, Abbey and ROAG, only the item's own two anchors (0 and 10) for
    ESAS-r. `special_values` are the extra string answers this item accepts. `special_labels`
    gives a special answer a wording of its own on this item, as (value, msgid) pairs (ROAG teeth
    and gums: "No own teeth ..."); a special answer without one uses the general label
    (`SPECIAL_VALUE_LABELS`). An `optional` item (ESAS-r `other`) never counts in scores and is
    not reported as missing.

    `label` is what the form asks about. `description` (optional) explains a term that people
    misread, shown beside the item on the form (ESAS-r definitions, Abbey examples).
    `problem_label` (optional) names the problem end of an item that asks about something good
    (IPOS Q6-Q9, stored so that higher is worse): it is shown wherever a score stands without its
    question (see `score_label`). `options_context` (optional) is the gettext context of the
    option msgids (marked `NC_`): translate them with pgettext in it (Abbey).
    """

    code: str
    label: str
    min: int
    max: int
    options: tuple[tuple[int, str], ...]
    group: str
    special_values: tuple[str, ...] = ()
    optional: bool = False
    description: str | None = None
    problem_label: str | None = None
    special_labels: tuple[tuple[str, str], ...] = ()
    options_context: str | None = None

    @property
    def values(self) -> tuple[int, ...]:
        """All valid integer answers, in ascending order."""
        return tuple(range(self.min, self.max + 1))

    @property
    def score_label(self) -> str:
        """The msgid to show beside a score without its question (flags, trends, exports).

        Higher is always worse, so an item that asks about something good ("Feeling at peace")
        is named by its problem end ("Not at peace"); every other item by its `label`.
        """
        return self.problem_label or self.label

    def label_for(self, value: int) -> str | None:
        """The msgid of the option labelled `value`, or None if that value has no label."""
        for option_value, label in self.options:
            if option_value == value:
                return label
        return None

    def special_label(self, value: str) -> str | None:
        """The msgid this item gives the special answer `value`, or None if it has none of its
        own (then the general label applies)."""
        for special, label in self.special_labels:
            if special == value:
                return label
        return None


@dataclass(frozen=True, slots=True)
class ContextField:
    """An unscored field passed with the answers; type-checked, never changes a score.

    - `choice`: one of `choices` (value, label msgid).
    - `text`: a non-blank string of at most `max_length` characters.
    - `text_list`: a list or tuple of at most `max_entries` such strings.
    - `rated_list`: a list or tuple of at most `max_entries` mappings with exactly the keys
      `"label"` (a non-blank string of at most `max_length` characters) and `"rating"` (an int
      from `rating_min` to `rating_max`).
    `None` always means "not given"; an empty list is accepted and also means "not given".
    """

    code: str
    label: str
    kind: ContextKind
    choices: tuple[tuple[str, str], ...] = ()
    max_entries: int = 1
    max_length: int = 200
    rating_min: int = 0
    rating_max: int = 0


@dataclass(frozen=True, slots=True)
class JointAnswer:
    """A special answer that several items take together or not at all.

    ROAG: a person with no own teeth has no gums either, only mucous membrane (Region
    Jönköpings län's ROAG guidance), so `teeth` and `gums` are `not_applicable` both or neither.
    The scorer rejects one without the others; `mismatch` is the msgid a form shows then.
    """

    value: str
    items: tuple[str, ...]
    mismatch: str


@dataclass(frozen=True, slots=True)
class Subscale:
    """A named sum of items, computed only when all of them are answered."""

    code: str
    label: str
    items: tuple[str, ...]
    min: int
    max: int


@dataclass(frozen=True, slots=True)
class Display:
    """Where and how the app's pages show an instrument; every field has a default, so a new
    instrument appears on every page without one.

    - `purpose`: the chooser's line on what the form is for and about how long it takes (msgid).
    - `minutes`: minutes the form usually takes, shown on the start page beside a report that is
      due (a project estimate from trying the forms, not a published figure).
    - `order`: its place in the overview, on the patient page, on the trends page and in the
      reporting plan (lower first; equal ones in the order of `INSTRUMENTS`).
    - `chart_key`: the trends chart's key in its URL (default: the instrument code).
    - `chart_title`: the trends chart's heading (msgid; default: the instrument's title).
    - `chart_step`: distance between the labelled ticks of the chart's score axis.
    - `heatmap_key`: the heat map's key (default: `<family>_heatmap`); one heat map per family.
    - `heatmap_title`: the heat map's heading (msgid; default: the instrument's title).
    - `version_label`: which respondent version this is, where a family has several (IPOS
      patient and staff), named in charts and heat maps (msgid).
    """

    purpose: str | None = None
    minutes: int | None = None
    order: int = 100
    chart_key: str | None = None
    chart_title: str | None = None
    chart_step: int = 1
    heatmap_key: str | None = None
    heatmap_title: str | None = None
    version_label: str | None = None


@dataclass(frozen=True, slots=True)
class InstrumentDefinition:
    """Everything a form generator, the scorer and an export need to know about an instrument.

    - `items`: scored items in form order; `group` on each item names the form step.
    - `subscales`: code -> Subscale (IPOS, ESAS-r); empty for Abbey and ROAG.
    - `total_items`: the items summed into `total` (empty for ROAG: no summed score).
    - `item_bands`: bands applied to each answered item (IPOS, ESAS-r); empty otherwise.
    - `bands`: the overall band, by `total` (Abbey) or by `max_grade` (ROAG); empty otherwise.
    - `recall_periods`: the periods a respondent may be asked about (`3d`, `7d`, `now`).
    - `respondents`: roles that may answer (`patient`, `relative`, `staff`).
    - `sources`: where the items, scores and bands come from.
    - `guidance`: a note for the person who observes (Abbey, ROAG), shown once on the form.
    - `instruction`: what the respondent is asked to rate (ESAS-r: how you feel now), shown on
      every step of the form.
    - `joint_answers`: special answers some items take only together (ROAG: no own teeth).
    - `display`: where and how the pages show it (`Display`).
    """

    code: str
    family: Family
    title: str
    version: str
    items: tuple[ItemDefinition, ...]
    context_fields: tuple[ContextField, ...]
    subscales: FrozenMap[str, Subscale]
    total_label: str | None
    total_items: tuple[str, ...]
    item_bands: tuple[Band, ...]
    bands: tuple[Band, ...]
    recall_periods: tuple[str, ...]
    respondents: tuple[str, ...]
    sources: tuple[str, ...]
    guidance: str | None = None
    instruction: str | None = None
    joint_answers: tuple[JointAnswer, ...] = ()
    display: Display = Display()

    def __post_init__(self) -> None:
        for joint in self.joint_answers:
            for code in joint.items:
                if joint.value not in self.item(code).special_values:
                    raise ValueError(
                        f"{self.code}: {code!r} must accept {joint.value!r} to share it"
                    )

    @property
    def item_codes(self) -> tuple[str, ...]:
        """The codes of `items`, in form order."""
        return tuple(item.code for item in self.items)

    def item(self, code: str) -> ItemDefinition:
        """The item with this code; KeyError if there is none."""
        for item in self.items:
            if item.code == code:
                return item
        raise KeyError(code)

    def context_field(self, code: str) -> ContextField:
        """The context field with this code; KeyError if there is none."""
        for context_field in self.context_fields:
            if context_field.code == code:
                return context_field
        raise KeyError(code)

    @property
    def self_report(self) -> bool:
        """True if patients or relatives answer it (a self-report form; staff may enter it on
        their behalf too); False for an instrument only staff rate."""
        return any(role in self.respondents for role in SELF_REPORTING_ROLES)

    @property
    def chart_key(self) -> str:
        """The key of its trends chart (`Display.chart_key`, else the code)."""
        return self.display.chart_key or self.code

    @property
    def heatmap_key(self) -> str:
        """The key of its family's heat map (`Display.heatmap_key`, else `<family>_heatmap`)."""
        return self.display.heatmap_key or f"{self.family}_heatmap"

    @property
    def groups(self) -> tuple[str, ...]:
        """The form steps (group msgids) in order of first appearance."""
        return tuple(dict.fromkeys(item.group for item in self.items))

    @property
    def total_min(self) -> int | None:
        """Lowest possible `total`, or None if the instrument has no total."""
        if not self.total_items:
            return None
        return sum(self.item(code).min for code in self.total_items)

    @property
    def total_max(self) -> int | None:
        """Highest possible `total`, or None if the instrument has no total."""
        if not self.total_items:
            return None
        return sum(self.item(code).max for code in self.total_items)
