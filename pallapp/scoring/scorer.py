"""One generic scorer for every instrument: `score(code, answers) -> Score`.

Rules (INSTRUMENTS.md, "Common rules"):
- an answer is an `int` in the item's range or `None`; `bool`, `float`, digit strings, other
  types, out-of-range values and unknown codes raise `InvalidAnswers`;
- `"cannot_assess"` is accepted only by `ipos_staff` items and scored as missing;
  `"not_applicable"` only by ROAG `dentures` (no dentures), and by ROAG `teeth` and `gums`
  together (no own teeth: one without the other is rejected), and scored as grade 1;
- no imputation: a subscale or total is computed only when all its items are answered.

Per-instrument lookup tables are built once at import, so a call does one dict lookup per
answer and allocates only the result.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from itertools import filterfalse
from operator import itemgetter
from typing import Any, Union, cast

from ._frozen import FrozenMap, adopt, set_data
from .definitions import NOT_APPLICABLE, ContextField, Family, InstrumentDefinition
from .instruments import INSTRUMENTS, SCORING_VERSION

__all__ = ["AnswerValue", "InvalidAnswers", "OtherSymptom", "Score", "score"]

#: One entry of IPOS `other_symptoms`: {"label": str, "rating": int}.
OtherSymptom = FrozenMap[str, Union[str, int]]  # noqa: UP007 - runtime alias needs Union on 3.11

#: A validated answer: an item value (int, special string or None) or a context field value.
AnswerValue = Union[int, str, None, tuple[str, ...], tuple[OtherSymptom, ...]]  # noqa: UP007

_EMPTY_BANDS: FrozenMap[str, str] = FrozenMap()
_EMPTY_SUBSCALES: FrozenMap[str, int | None] = FrozenMap()
_EMPTY_AREAS: FrozenMap[int, tuple[str, ...]] = FrozenMap()
_NO_BANDS: dict[str, str] = {}  # never mutated: only read when building the Score


class InvalidAnswers(ValueError):
    """The answers do not fit the instrument; names the item (or field) and the value."""

    def __init__(self, instrument: object, item: object, value: object, reason: str) -> None:
        self.instrument = instrument
        self.item = item
        self.value = value
        self.reason = reason
        shown = repr(value)
        if len(shown) > 80:
            shown = shown[:77] + "..."
        if item is None:
            message = f"{instrument!r}: {reason}: {shown}"
        else:
            message = f"{instrument!r}: invalid answer for {item!r}: {shown} ({reason})"
        super().__init__(message)


@dataclass(frozen=True)
class Score:
    """The immutable result of scoring one assessment.

    - `total`: sum of the instrument's total items, or None when any is missing; always None
      for ROAG (no summed score is published for clinical use).
    - `subscales`: code -> sum or None (IPOS, ESAS-r; empty for Abbey and ROAG).
    - `band`: Abbey by total (`none`/`mild`/`moderate`/`severe`), ROAG by `max_grade`
      (`healthy`/`moderate`/`severe`); None when incomplete and for IPOS and ESAS-r.
    - `item_bands`: item code -> band for every answered item (IPOS, ESAS-r incl. `other`).
    - `missing`: unanswered or `cannot_assess` items in definition order (optional items such
      as ESAS-r `other` are never missing).
    - `max_grade`, `areas_at`: ROAG only: the highest grade (None when incomplete) and the areas
      at grade 2 and at grade 3 among those answered; None and empty for other instruments.
    - `answers`: every item code (value, special string or None) plus the context fields given.
    - `scoring_version`: the `SCORING_VERSION` that produced this score.

    A score made by `score()` also keeps, privately, its integer answers by item code in item
    order, for `flags_for`, which would otherwise pick them out of `answers` again for every
    assessment and for its previous one. It takes no part in comparison, hashing or repr, and a
    score made another way (`dataclasses.replace`) has none, so `flags_for` picks them out.

    Most callers never read `item_bands` and `subscales` (flags do not). A score made by
    `score()` for IPOS or ESAS-r has neither in its `__dict__` until first read: `__getattr__`
    (called only for a name the instance lacks) builds the map then from the int answers, and
    keeps it.
    Both read, compare, hash and print as if built at once. Fewer objects a score matter when
    many are kept alive (each patient's previous score in a re-flagging job): every one is
    another cache line to fetch and to free, and another object for the cyclic collector.
    """

    instrument: str
    total: int | None
    subscales: Mapping[str, int | None]
    band: str | None
    item_bands: Mapping[str, str]
    missing: tuple[str, ...]
    max_grade: int | None
    areas_at: Mapping[int, tuple[str, ...]]
    answers: Mapping[str, AnswerValue]
    scoring_version: str
    _numbers: Mapping[str, int] | None = field(default=None, init=False, repr=False, compare=False)

    def plain_answers(self) -> dict[str, object]:
        """The answers as plain JSON-ready values (lists and dicts), for storage."""
        plain: dict[str, object] = {}
        for code, value in self.answers.items():
            if isinstance(value, tuple):
                plain[code] = [
                    entry.to_dict() if isinstance(entry, FrozenMap) else entry for entry in value
                ]
            else:
                plain[code] = value
        return plain


@dataclass(frozen=True, slots=True)
class _Table:
    """Lookup tables for one instrument, built once."""

    definition: InstrumentDefinition
    family: Family
    item_codes: tuple[str, ...]
    # item code -> accepted special strings
    specials: dict[str, frozenset[str]]
    optional: frozenset[str]
    context: dict[str, ContextField]
    # context field code -> the values a choice field accepts (empty for other kinds)
    choices: dict[str, frozenset[str]]
    total_items: tuple[str, ...]
    # itemgetters return the tuple of values of several items at C speed
    total_getter: Callable[[dict[str, int]], tuple[int, ...]]
    subscales: tuple[tuple[str, tuple[str, ...], Callable[[dict[str, int]], tuple[int, ...]]], ...]
    # overall band by total (Abbey) or max_grade (ROAG), for every value the bands cover
    band_of: dict[int, str]
    has_item_bands: bool
    # for the vectorised fast path: per-item value tables in item order, and the item codes
    value_tables: tuple[dict[int, str], ...]
    # the same tables by item code, to build a score's item bands from its int answers
    bands_by_item: dict[str, dict[int, str]]
    item_set: frozenset[str]
    required: tuple[str, ...]
    # (special value, the items that take it only together), e.g. ROAG no own teeth
    joint: tuple[tuple[str, tuple[str, ...]], ...]


def _band_name(bands_of: InstrumentDefinition, value: int) -> str:
    for band in bands_of.item_bands:
        if band.contains(value):
            return band.name
    return ""


def _build_table(definition: InstrumentDefinition) -> _Table:
    value_tables = tuple(
        {value: _band_name(definition, value) for value in item.values} for item in definition.items
    )
    return _Table(
        definition=definition,
        family=definition.family,
        item_codes=definition.item_codes,
        specials={item.code: frozenset(item.special_values) for item in definition.items},
        optional=frozenset(item.code for item in definition.items if item.optional),
        context={field.code: field for field in definition.context_fields},
        choices={
            field.code: frozenset(choice for choice, _label in field.choices)
            for field in definition.context_fields
        },
        total_items=definition.total_items,
        # ROAG has no total: its getter (over all areas) is never used.
        total_getter=itemgetter(*(definition.total_items or definition.item_codes)),
        subscales=tuple(
            (sub.code, sub.items, itemgetter(*sub.items)) for sub in definition.subscales.values()
        ),
        band_of={
            value: band.name
            for band in definition.bands
            for value in range(band.low, band.high + 1)
        },
        has_item_bands=bool(definition.item_bands),
        value_tables=value_tables,
        bands_by_item=dict(zip(definition.item_codes, value_tables, strict=True)),
        item_set=frozenset(definition.item_codes),
        required=tuple(item.code for item in definition.items if not item.optional),
        joint=tuple((joint.value, joint.items) for joint in definition.joint_answers),
    )


_TABLES: dict[str, _Table] = {code: _build_table(d) for code, d in INSTRUMENTS.items()}


def _late_table(code: object) -> _Table:
    """The table of an instrument registered after import (a test's), built on each call and
    never kept, so it goes when the instrument goes; InvalidAnswers for an unknown code."""
    definition = INSTRUMENTS.get(code) if type(code) is str else None
    if definition is None:
        raise InvalidAnswers(code, None, code, "unknown instrument")
    return _build_table(definition)


def _text_problem(text: str, max_length: int) -> str:
    """Why `text`, found blank or too long, is not acceptable free text."""
    if not text.strip():
        return "blank text"
    return f"longer than {max_length} characters"


def _check_sequence(code: str, field: ContextField, value: object) -> tuple[object, ...]:
    if not isinstance(value, (list, tuple)):
        raise InvalidAnswers(code, field.code, value, "expected a list")
    if len(value) > field.max_entries:
        raise InvalidAnswers(code, field.code, value, f"more than {field.max_entries} entries")
    return tuple(value)


def _check_context(
    code: str, field: ContextField, choices: frozenset[str], value: object
) -> AnswerValue:
    """Validate one context field; return its normalised value (None: not given).

    `choices` are the values a `choice` field accepts (empty for the other kinds)."""
    kind = field.kind
    if kind == "choice":
        if type(value) is str and value in choices:
            return value
        allowed = ", ".join(choice for choice, _label in field.choices)
        raise InvalidAnswers(code, field.code, value, f"expected one of {allowed}")
    max_length = field.max_length
    if kind == "text":
        if type(value) is not str:
            raise InvalidAnswers(code, field.code, value, "expected text")
        if not value.strip() or len(value) > max_length:
            raise InvalidAnswers(code, field.code, value, _text_problem(value, max_length))
        return value
    entries = _check_sequence(code, field, value)
    if kind == "text_list":
        for entry in entries:
            if type(entry) is not str:
                raise InvalidAnswers(code, field.code, entry, "expected text")
            if not entry.strip() or len(entry) > max_length:
                raise InvalidAnswers(code, field.code, entry, _text_problem(entry, max_length))
        texts: Any = entries  # every entry a str now (no typing.cast: a call at run time)
        return texts or None
    rated: list[OtherSymptom] = []
    for entry in entries:
        # A dict, as forms send it, is checked first: isinstance with an ABC costs more.
        mapping = entry if type(entry) is dict or isinstance(entry, Mapping) else None
        if (
            mapping is None
            or len(mapping) != 2
            or "label" not in mapping
            or "rating" not in mapping
        ):
            raise InvalidAnswers(
                code, field.code, entry, 'expected {"label": text, "rating": number}'
            )
        label = mapping["label"]
        rating = mapping["rating"]
        if type(label) is not str:
            raise InvalidAnswers(code, field.code, label, "expected text as label")
        if not label.strip() or len(label) > max_length:
            raise InvalidAnswers(code, field.code, label, _text_problem(label, max_length))
        if type(rating) is not int or not field.rating_min <= rating <= field.rating_max:
            raise InvalidAnswers(
                code,
                field.code,
                rating,
                f"expected a whole number {field.rating_min}-{field.rating_max} as rating",
            )
        symptom: OtherSymptom = _new_object(FrozenMap)
        set_data(symptom, {"label": label, "rating": rating})
        rated.append(symptom)
    return tuple(rated) or None


def _invalid_item(table: _Table, code: str, item_code: str, value: object) -> InvalidAnswers:
    item = table.definition.item(item_code)
    accepted = f"a whole number {item.min}-{item.max}"
    if item.special_values:
        accepted += ", " + ", ".join(repr(special) for special in item.special_values)
    return InvalidAnswers(code, item_code, value, f"expected {accepted} or None")


_INT_OR_NONE = frozenset({int, type(None)})
# dict.get as a plain two-argument function, for map() over (table, value) pairs
_dict_get = cast("Callable[[dict[int, str], object], str | None]", dict.get)


def _check_items(
    table: _Table, code: str, values: list[object]
) -> tuple[dict[str, AnswerValue], dict[str, int], dict[str, str], list[str]]:
    """Item by item validation, for answers with special values or wrong types."""
    item_values: dict[str, AnswerValue] = {}
    numbers: dict[str, int] = {}
    item_bands: dict[str, str] = {}
    for item_code, value, valid in zip(table.item_codes, values, table.value_tables, strict=True):
        if type(value) is int:
            band = valid.get(value)
            if band is None:
                raise _invalid_item(table, code, item_code, value)
            numbers[item_code] = value
            if table.has_item_bands:
                item_bands[item_code] = band
        elif type(value) is str and value in table.specials[item_code]:
            if value == NOT_APPLICABLE:
                # ROAG: no dentures needed, or no own teeth: counted as grade 1
                numbers[item_code] = 1
            # cannot_assess: kept in the answers, scored as missing
        elif value is not None:
            raise _invalid_item(table, code, item_code, value)
        item_values[item_code] = value
    for special, items in table.joint:
        given = [item for item in items if item_values[item] == special]
        if given and len(given) < len(items):
            lacking = next(item for item in items if item not in given)
            raise InvalidAnswers(
                code,
                lacking,
                item_values[lacking],
                f"{special!r} goes with {' and '.join(items)} together, "
                f"but was given for {', '.join(given)} only",
            )
    missing = [item_code for item_code in table.required if item_code not in numbers]
    return item_values, numbers, item_bands, missing


def _subscale_sums(source: tuple[str, dict[str, int], tuple[str, ...]]) -> dict[str, int | None]:
    """Each subscale's sum, or None when any of its items is missing (no imputation), from
    (instrument code, int answers, missing items)."""
    code, numbers, missing = source
    table = _TABLES.get(code) or _late_table(code)
    if not missing:
        return {sub: sum(getter(numbers)) for sub, _items, getter in table.subscales}
    missing_set = frozenset(missing)
    return {
        sub: sum(getter(numbers)) if missing_set.isdisjoint(items) else None
        for sub, items, getter in table.subscales
    }


def _late_field(result: Score, name: str) -> object:
    """`item_bands` or `subscales` of a score() result, built on first read and kept in its
    `__dict__` (see `Score`); AttributeError for any other name the score lacks."""
    fields = result.__dict__
    numbers = fields.get("_numbers")
    value: FrozenMap[Any, Any]
    if numbers is None:  # not made by score(): every field was given
        raise AttributeError(f"{type(result).__name__!r} object has no attribute {name!r}")
    if name == "item_bands":
        code = result.instrument
        bands = (_TABLES.get(code) or _late_table(code)).bands_by_item
        value = adopt({item: bands[item][number] for item, number in numbers.items()})
    elif name == "subscales":
        value = adopt(_subscale_sums((result.instrument, numbers, result.missing)))
    else:
        raise AttributeError(f"{type(result).__name__!r} object has no attribute {name!r}")
    fields[name] = value
    return value


# Set after the class, not in its body: to mypy a Score has just its fields, and reading any
# other name stays an error it reports.
setattr(Score, "__getattr__", _late_field)  # noqa: B010


_new_object = object.__new__
# The setter of a Score's `__dict__`: score() hands a new Score all its fields in one dict it
# has just built, in one call, instead of setting eleven fields one by one (see below).
_set_fields: Callable[[Score, dict[str, object]], None] = Score.__dict__["__dict__"].__set__


def score(code: str, answers: Mapping[str, object]) -> Score:
    """Validate `answers` for instrument `code` and compute its scores and bands.

    `answers` maps item codes (and context field codes) to values; an item left out is
    unanswered. Raises `InvalidAnswers` (a ValueError naming the item and the value) for an
    unknown instrument or item code, or any value that is not valid for its item or field.
    """
    table = _TABLES.get(code) if type(code) is str else None
    if table is None:
        table = _late_table(code)
    if type(answers) is not dict and not isinstance(answers, Mapping):
        raise InvalidAnswers(code, None, answers, "answers must be a mapping")

    codes = table.item_codes
    # Any until checked: typing.cast would cost a function call per use at run time.
    values: list[Any] = list(map(answers.get, codes))
    # Left out or None: the item codes present in `answers` are at least the others.
    unanswered = values.count(None)
    item_values: dict[str, AnswerValue]
    numbers: dict[str, int]
    # the integer answers, for flags_for (`numbers` counts ROAG not_applicable as grade 1)
    ints: dict[str, int]
    item_bands: dict[str, str] = _NO_BANDS
    # True: the item bands are built from the int answers when first read (see `Score`)
    lazy_bands = False
    missing: list[str]
    # keys after the items, copied with them into `item_values` (see below)
    copied_others: tuple[str, ...] = ()
    fast = _INT_OR_NONE.issuperset(map(type, values))  # no set built, stops at the first other
    if fast:
        # Only ints and None: dict.get gives the item band of a valid int and None for an
        # out-of-range one (bools never get here, as type(True) is bool). On any mismatch the
        # item-by-item check below finds and reports the invalid item.
        bands: tuple[Any, ...] = tuple(map(_dict_get, table.value_tables, values))
        fast = bands.count(None) == unanswered
    if fast:
        keys = tuple(answers) if type(answers) is dict and len(answers) >= len(codes) else ()
        if keys[: len(codes)] == codes:
            # Every item first, in item order (as forms and stored answers give them): a copy
            # of the dict is far cheaper than building one from pairs. Any other keys (context
            # fields) come along and are checked, normalised or dropped below.
            given: Any = answers  # a dict, as `keys` is not empty
            item_values = given.copy()
            copied_others = keys[len(codes) :]
        else:
            item_values = dict(zip(codes, values, strict=False))
            copied_others = ()
        if not unanswered:
            all_ints: dict[str, Any] = item_values
            if copied_others:
                all_ints = item_values.copy()
                for key in copied_others:
                    del all_ints[key]
            numbers = all_ints
            missing = []
        else:
            numbers = {c: v for c, v in zip(codes, values, strict=False) if v is not None}
            missing = [c for c in table.required if c not in numbers]
        lazy_bands = table.has_item_bands
        ints = numbers
    else:
        item_values, numbers, item_bands, missing = _check_items(table, code, values)
        ints = {c: v for c, v in item_values.items() if type(v) is int}

    family = table.family
    total: int | None = None
    band_name: str | None = None
    max_grade: int | None = None
    areas_at = _EMPTY_AREAS
    if family == "roag":
        at_2 = tuple([c for c, grade in numbers.items() if grade == 2])
        at_3 = tuple([c for c, grade in numbers.items() if grade == 3])
        areas_at = _new_object(FrozenMap)
        set_data(areas_at, {2: at_2, 3: at_3})
        if not missing:
            max_grade = 3 if at_3 else 2 if at_2 else 1
            band_name = table.band_of[max_grade]
    else:
        if not missing:
            total = sum(table.total_getter(numbers))
        # The total stays None when any is missing: every required item of these instruments
        # is in the total. The subscales are summed when first read (see `Score`), from the int
        # answers kept for flags: the same as `numbers` for every family with subscales.
        if table.band_of and total is not None:
            # An overall band by total (Abbey; IPOS and ESAS-r have none).
            band_name = table.band_of[total]

    # Context fields go into the stored answers only, after scoring. No key can be unknown
    # when there are no more keys than answered items (most assessments): skip the set test.
    if len(answers) + unanswered > len(codes) and not answers.keys() <= table.item_set:
        if ints is item_values:
            ints = dict(ints)  # the context fields below go into `item_values` only
        for key in filterfalse(table.item_set.__contains__, answers):
            value = answers[key]
            context_field = table.context.get(key) if type(key) is str else None
            if context_field is None:
                raise InvalidAnswers(code, key, value, "unknown item")
            if value is not None:
                normalised = _check_context(code, context_field, table.choices[key], value)
                if normalised is not None:
                    item_values[key] = normalised
                    continue
            if copied_others:
                del item_values[key]  # copied above; None or an empty list: not given

    answers_map: FrozenMap[str, AnswerValue] = _new_object(FrozenMap)
    set_data(answers_map, item_values)
    # The Score with its private int answers: every field, as the dataclass `__init__` would
    # set them, given as its `__dict__` in one call. Setting the fields one by one, even
    # straight through slots, cost about 9,600 machine instructions a score (callgrind,
    # CPython 3.11); this about a fifth of that. A test checks that every field is set.
    # `item_bands` and `subscales` are left out when they can be built on first read from the
    # int answers (see `Score`): IPOS and ESAS-r answered with ints and None only.
    fields: dict[str, object] = {
        "instrument": code,
        "total": total,
        "band": band_name,
        "missing": tuple(missing),
        "max_grade": max_grade,
        "areas_at": areas_at,
        "answers": answers_map,
        "scoring_version": SCORING_VERSION,
        "_numbers": ints,
    }
    if not lazy_bands:
        if item_bands:
            bands_map: FrozenMap[str, str] = _new_object(FrozenMap)
            set_data(bands_map, item_bands)
            fields["item_bands"] = bands_map
        else:
            fields["item_bands"] = _EMPTY_BANDS
    if not table.subscales:  # Abbey, ROAG and any without (IPOS and ESAS-r: summed when read)
        fields["subscales"] = _EMPTY_SUBSCALES
    result: Score = _new_object(Score)
    _set_fields(result, fields)
    return result
