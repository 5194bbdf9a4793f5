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
from itertools import compress, filterfalse, repeat
from operator import call, eq, is_, is_not, itemgetter
from typing import Any, Union, cast

from ._frozen import FrozenMap, adopt, set_data, slot_setter
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
# Endless streams of one value, for map() at C speed (shared: they never run out).
_NONES = repeat(None)
_TWOS = repeat(2)
_THREES = repeat(3)


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


@dataclass(frozen=True, slots=True)
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


#: Picks some of an assessment's values (a list in item order) at C speed, as a list or tuple.
ValuesGetter = Callable[[list[Any]], "list[Any] | tuple[Any, ...]"]


def values_getter(indices: tuple[int, ...]) -> ValuesGetter:
    """A getter of the values at `indices` from a list in item order: one slice when they are
    consecutive (every subscale and total so far), else an itemgetter of the indices."""
    start = indices[0] if indices else 0
    if indices == tuple(range(start, start + len(indices))):
        return itemgetter(slice(start, start + len(indices)))
    getter: ValuesGetter = itemgetter(*indices)
    return getter


@dataclass(frozen=True, slots=True)
class _Table:
    """Lookup tables for one instrument, built once."""

    definition: InstrumentDefinition
    family: Family
    item_codes: tuple[str, ...]
    # item code -> accepted special strings
    specials: dict[str, frozenset[str]]
    context: dict[str, ContextField]
    # Getters of the values in item order (see `values_getter`): the total's items (ROAG, with
    # no total, gets an empty one, never used), the required items, and each subscale's items
    # with its code.
    total_getter: ValuesGetter
    required: tuple[str, ...]
    required_getter: ValuesGetter
    subscale_codes: tuple[str, ...]
    subscale_getters: tuple[ValuesGetter, ...]
    # overall band by total (Abbey) or max_grade (ROAG), for every value the bands cover
    band_of: dict[int, str]
    has_item_bands: bool
    # for the vectorised fast path: per-item value tables in item order, and the item codes
    value_tables: tuple[dict[int, str], ...]
    item_set: frozenset[str]
    # (special value, the items that take it only together), e.g. ROAG no own teeth
    joint: tuple[tuple[str, tuple[str, ...]], ...]


def _band_name(bands_of: InstrumentDefinition, value: int) -> str:
    for band in bands_of.item_bands:
        if band.contains(value):
            return band.name
    return ""


def _build_table(definition: InstrumentDefinition) -> _Table:
    codes = definition.item_codes

    def getter(items: tuple[str, ...]) -> ValuesGetter:
        return values_getter(tuple(codes.index(item) for item in items))

    required = tuple(item.code for item in definition.items if not item.optional)
    return _Table(
        definition=definition,
        family=definition.family,
        item_codes=codes,
        specials={item.code: frozenset(item.special_values) for item in definition.items},
        context={field.code: field for field in definition.context_fields},
        total_getter=getter(definition.total_items),
        required=required,
        required_getter=getter(required),
        subscale_codes=tuple(definition.subscales),
        subscale_getters=tuple(getter(sub.items) for sub in definition.subscales.values()),
        band_of={
            value: band.name
            for band in definition.bands
            for value in range(band.low, band.high + 1)
        },
        has_item_bands=bool(definition.item_bands),
        value_tables=tuple(
            {value: _band_name(definition, value) for value in item.values}
            for item in definition.items
        ),
        item_set=frozenset(codes),
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


def _is_blank_or_long(text: str, max_length: int) -> str | None:
    """A reason why `text` is not acceptable free text, or None if it is."""
    if not text.strip():
        return "blank text"
    if len(text) > max_length:
        return f"longer than {max_length} characters"
    return None


def _check_sequence(code: str, field: ContextField, value: object) -> tuple[object, ...]:
    if not isinstance(value, (list, tuple)):
        raise InvalidAnswers(code, field.code, value, "expected a list")
    if len(value) > field.max_entries:
        raise InvalidAnswers(code, field.code, value, f"more than {field.max_entries} entries")
    return tuple(value)


def _check_context(code: str, field: ContextField, value: object) -> AnswerValue:
    """Validate one context field; return its normalised value (None: not given)."""
    if field.kind == "choice":
        if type(value) is str and any(value == choice for choice, _label in field.choices):
            return value
        allowed = ", ".join(choice for choice, _label in field.choices)
        raise InvalidAnswers(code, field.code, value, f"expected one of {allowed}")
    if field.kind == "text":
        if type(value) is not str:
            raise InvalidAnswers(code, field.code, value, "expected text")
        problem = _is_blank_or_long(value, field.max_length)
        if problem is not None:
            raise InvalidAnswers(code, field.code, value, problem)
        return value
    entries = _check_sequence(code, field, value)
    if field.kind == "text_list":
        texts: list[str] = []
        for entry in entries:
            if type(entry) is not str:
                raise InvalidAnswers(code, field.code, entry, "expected text")
            problem = _is_blank_or_long(entry, field.max_length)
            if problem is not None:
                raise InvalidAnswers(code, field.code, entry, problem)
            texts.append(entry)
        return tuple(texts) or None
    rated: list[OtherSymptom] = []
    for entry in entries:
        # A dict, as forms send it, is checked first: isinstance with an ABC costs more.
        mapping = entry if type(entry) is dict or isinstance(entry, Mapping) else None
        if mapping is None or set(mapping.keys()) != {"label", "rating"}:
            raise InvalidAnswers(
                code, field.code, entry, 'expected {"label": text, "rating": number}'
            )
        label = mapping["label"]
        rating = mapping["rating"]
        if type(label) is not str:
            raise InvalidAnswers(code, field.code, label, "expected text as label")
        problem = _is_blank_or_long(label, field.max_length)
        if problem is not None:
            raise InvalidAnswers(code, field.code, label, problem)
        if type(rating) is not int or not field.rating_min <= rating <= field.rating_max:
            raise InvalidAnswers(
                code,
                field.code,
                rating,
                f"expected a whole number {field.rating_min}-{field.rating_max} as rating",
            )
        rated.append(adopt({"label": label, "rating": rating}))
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
) -> tuple[dict[str, AnswerValue], dict[str, int], dict[str, str]]:
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
    return item_values, numbers, item_bands


# Each field of `Score` set through its slot's descriptor (see `slot_setter`).
_new_object = object.__new__
_set_instrument = slot_setter(Score, "instrument")
_set_total = slot_setter(Score, "total")
_set_subscales = slot_setter(Score, "subscales")
_set_band = slot_setter(Score, "band")
_set_item_bands = slot_setter(Score, "item_bands")
_set_missing = slot_setter(Score, "missing")
_set_max_grade = slot_setter(Score, "max_grade")
_set_areas_at = slot_setter(Score, "areas_at")
_set_answers = slot_setter(Score, "answers")
_set_scoring_version = slot_setter(Score, "scoring_version")
_set_numbers = slot_setter(Score, "_numbers")


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
    fast = _INT_OR_NONE.issuperset(map(type, values))  # no set built, stops at the first other
    if fast:
        # Only ints and None: dict.get gives the item band of a valid int and None for an
        # out-of-range one (bools never get here, as type(True) is bool). On any mismatch the
        # item-by-item check below finds and reports the invalid item.
        bands: list[Any] = list(map(_dict_get, table.value_tables, values))
        fast = bands.count(None) == unanswered
    if fast:
        item_values = dict(zip(codes, values, strict=False))
        if not unanswered:
            all_ints: dict[str, Any] = item_values
            numbers = all_ints
            if table.has_item_bands:
                item_bands = dict(zip(codes, bands, strict=False))
        else:
            # Everything below at C speed: no comprehension (a function call of its own).
            answered = list(map(is_not, values, _NONES))
            numbers = dict(compress(zip(codes, values, strict=False), answered))
            if table.has_item_bands:
                item_bands = dict(compress(zip(codes, bands, strict=False), answered))
        ints = numbers
    else:
        item_values, numbers, item_bands = _check_items(table, code, values)
        ints = {c: v for c, v in item_values.items() if type(v) is int}
        # The scored values in item order: ROAG not_applicable as 1, cannot_assess as None.
        values = list(map(numbers.get, codes))
    # Unanswered (or cannot_assess) required items, in item order.
    missing = (
        tuple(compress(table.required, map(is_, table.required_getter(values), _NONES)))
        if len(numbers) < len(codes)
        else ()
    )

    family = table.family
    total: int | None = None
    band_name: str | None = None
    max_grade: int | None = None
    subscales = _EMPTY_SUBSCALES
    areas_at = _EMPTY_AREAS
    if family == "roag":
        at_2 = tuple(compress(codes, map(eq, values, _TWOS)))
        at_3 = tuple(compress(codes, map(eq, values, _THREES)))
        areas_at = _new_object(FrozenMap)
        set_data(areas_at, {2: at_2, 3: at_3})
        if not missing:
            max_grade = 3 if at_3 else 2 if at_2 else 1
            band_name = table.band_of[max_grade]
    else:
        if not missing:
            total = sum(table.total_getter(values))
            if table.subscale_codes:
                subscales = _new_object(FrozenMap)
                set_data(
                    subscales,
                    dict(
                        zip(
                            table.subscale_codes,
                            map(sum, map(call, table.subscale_getters, repeat(values))),
                            strict=False,
                        )
                    ),
                )
        elif table.subscale_codes:
            # The total stays None: every required item of these instruments is in the total.
            subscales = _new_object(FrozenMap)
            set_data(
                subscales,
                {
                    sub: None if None in sub_values else sum(sub_values)
                    for sub, sub_values in zip(
                        table.subscale_codes,
                        map(call, table.subscale_getters, repeat(values)),
                        strict=False,
                    )
                },
            )
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
                normalised = _check_context(code, context_field, value)
                if normalised is not None:
                    item_values[key] = normalised

    # The Score with its private int answers, every field set as the dataclass `__init__`
    # would, but straight through the slots, without the keyword handling and the lookup of
    # each field by name (with `adopt` for the maps, this took `score()` from 95,861 to 82,777
    # instructions per assessment on the benchmark mix, callgrind, CPython 3.11; built here
    # rather than in a helper function, a further 587 fewer). A test checks that every field
    # is set.
    result: Score = _new_object(Score)
    _set_instrument(result, code)
    _set_total(result, total)
    _set_subscales(result, subscales)
    _set_band(result, band_name)
    if item_bands:
        bands_map: FrozenMap[str, str] = _new_object(FrozenMap)
        set_data(bands_map, item_bands)
        _set_item_bands(result, bands_map)
    else:
        _set_item_bands(result, _EMPTY_BANDS)
    _set_missing(result, missing)
    _set_max_grade(result, max_grade)
    _set_areas_at(result, areas_at)
    answers_map: FrozenMap[str, AnswerValue] = _new_object(FrozenMap)
    set_data(answers_map, item_values)
    _set_answers(result, answers_map)
    _set_scoring_version(result, SCORING_VERSION)
    _set_numbers(result, ints)
    return result
